// The machine's vpmaddwd (ymm) throughput, the multiply of the avx2 GEMM backend
// (kernels/gemm/ukernel-avx2.h, Kind::kU8Widen and kS16Madd): 8 dword lanes × 2 int16 MACs.
// AVX2 has no fused multiply-accumulate for integers, so the kernel issues vpmaddwd + vpaddd per
// 16 MACs: the pair is measured. Independent chains, no memory operands; inline asm (volatile, so
// that the loop-invariant products are not hoisted) as in the kernel.
#include <immintrin.h>

#include <chrono>

namespace {

constexpr long kIters = 20000;  // ~0.1 ms per trial: short enough to dodge preemption
constexpr double kOpsPerInstruction = 8 * 2 * 2;  // 8 lanes × 2 MACs × 2 ops

template <typename Trial>
double best_gops(double seconds, long instructions_per_trial, Trial trial) {
  double best = 0;
  const auto start = std::chrono::steady_clock::now();
  do {
    const auto t0 = std::chrono::steady_clock::now();
    trial();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double gops = instructions_per_trial * kOpsPerInstruction / s * 1e-9;
    if (gops > best) best = gops;
  } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds);
  return best;
}

}  // namespace

// vpmaddwd followed by vpaddd into one of 8 accumulators: the avx2 kernel's inner-loop pair.
double measure_vpmaddwd_vpaddd_peak_gops(double seconds) {
  constexpr int kAcc = 8;
  return best_gops(seconds, kIters * kAcc, [] {
    __m256i acc[kAcc];
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_set1_epi32(i);
    __m256i a = _mm256_set1_epi16(3), b = _mm256_set1_epi16(-5), t;
    __asm__ volatile("" : "+x"(a), "+x"(b));
    for (long it = 0; it < kIters; ++it) {
#pragma GCC unroll 8
      for (int i = 0; i < kAcc; ++i) {
        __asm__ volatile("vpmaddwd %[b], %[a], %[t]\n\tvpaddd %[t], %[acc], %[acc]"
                         : [acc] "+x"(acc[i]), [t] "=&x"(t)
                         : [a] "x"(a), [b] "x"(b));
      }
    }
    for (int i = 0; i < kAcc; ++i) __asm__ volatile("" : : "x"(acc[i]));
  });
}
