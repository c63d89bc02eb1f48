// The machine's AMX tdpbusd throughput: 4 independent accumulator tiles (tmm0..3) fed by two A
// and two B tiles loaded once (no memory traffic in the loop), 16 × 16 × 64 MACs per instruction.
// Returns 0 when this process may not use AMX (gemm.h amx_usable, which also requests the
// XTILEDATA permission); the caller prints amx_unavailable_reason() then.
#include "kernels/gemm/amx-tile-intrinsics.h"  // first: it carries the immintrin.h pragma

#include <chrono>
#include <cstdint>

#include "kernels/gemm/gemm.h"

double measure_tdpbusd_peak_gops(double seconds) {
  if (!intvit::amx_usable()) return 0;
  using Ops = intvit::gemm::amx::AmxTileOps;  // GCC 12's _tile_* macros under-declare their memory operands
  using intvit::gemm::amx::Sign;
  Ops::configure(intvit::gemm::amx::full_tiles_config());
  alignas(64) uint8_t a[16][64], b[16][64];
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < 64; ++c) a[r][c] = static_cast<uint8_t>(r + c), b[r][c] = static_cast<uint8_t>(r * c);
  Ops::load<4>(a, 64);
  Ops::load<5>(a, 64);
  Ops::load<6>(b, 64);
  Ops::load<7>(b, 64);
  constexpr long kIters = 4000;  // ~0.1 ms per trial: short enough to dodge preemption
  double best = 0;
  const auto start = std::chrono::steady_clock::now();
  do {
    Ops::zero<0>();
    Ops::zero<1>();
    Ops::zero<2>();
    Ops::zero<3>();
    const auto t0 = std::chrono::steady_clock::now();
    for (long it = 0; it < kIters; ++it) {
      Ops::dot<Sign::kUS, 0, 4, 6>();
      Ops::dot<Sign::kUS, 1, 4, 7>();
      Ops::dot<Sign::kUS, 2, 5, 6>();
      Ops::dot<Sign::kUS, 3, 5, 7>();
    }
    alignas(64) int32_t sink[16][16];
    Ops::store<0>(sink, 64);  // keeps the loop's results live
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    __asm__ volatile("" : : "r"(sink[0][0]));
    const double gops = kIters * 4 * 16.0 * 16 * 64 * 2 / s * 1e-9;  // 16 rows × 16 lanes × 64 MACs × 2 ops
    if (gops > best) best = gops;
  } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds);
  return best;  // the tiles are released when the thread exits (amx-tile-intrinsics.h)
}
