// The machine's vpdpbusd (zmm) throughput: 12 independent accumulators (more than latency ×
// throughput on current cores), no memory operands. The GEMM kernels are judged against this.
#include <immintrin.h>

#include <chrono>

double measure_vpdpbusd_peak_gops(double seconds) {
  constexpr int kAcc = 12;
  constexpr long kIters = 20000;  // ~0.1 ms per trial: short enough to dodge preemption
  double best = 0;
  const auto start = std::chrono::steady_clock::now();
  do {
    __m512i acc[kAcc];
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm512_set1_epi32(i);
    __m512i a = _mm512_set1_epi32(0x01010101), b = _mm512_set1_epi32(0x01020304);
    __asm__ volatile("" : "+v"(a), "+v"(b));
    const auto t0 = std::chrono::steady_clock::now();
    for (long it = 0; it < kIters; ++it) {
#pragma GCC unroll 12
      for (int i = 0; i < kAcc; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (int i = 0; i < kAcc; ++i) __asm__ volatile("" : : "v"(acc[i]));
    const double gops = kIters * kAcc * 16.0 * 4 * 2 / s * 1e-9;  // 16 lanes × 4 MACs × 2 ops
    if (gops > best) best = gops;
  } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds);
  return best;
}
