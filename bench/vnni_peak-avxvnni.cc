// The machine's VEX vpdpbusd (ymm, AVX-VNNI) throughput, the multiply-accumulate of the avxvnni
// GEMM backend: 8 dword lanes × 4 u8·s8 MACs. 12 independent accumulators, no memory operands.
// Called only when the CPU has AVX-VNNI.
#include <immintrin.h>

#include <chrono>

double measure_vpdpbusd_ymm_peak_gops(double seconds) {
  constexpr int kAcc = 12;
  constexpr long kIters = 20000;
  double best = 0;
  const auto start = std::chrono::steady_clock::now();
  do {
    __m256i acc[kAcc];
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_set1_epi32(i);
    __m256i a = _mm256_set1_epi32(0x01010101), b = _mm256_set1_epi32(0x01020304);
    __asm__ volatile("" : "+x"(a), "+x"(b));
    const auto t0 = std::chrono::steady_clock::now();
    for (long it = 0; it < kIters; ++it) {
#pragma GCC unroll 12
      for (int i = 0; i < kAcc; ++i) __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc[i]) : "x"(a), "x"(b));
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (int i = 0; i < kAcc; ++i) __asm__ volatile("" : : "x"(acc[i]));
    const double gops = kIters * kAcc * 8.0 * 4 * 2 / s * 1e-9;  // 8 lanes × 4 MACs × 2 ops
    if (gops > best) best = gops;
  } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds);
  return best;
}
