// The amx backend's work *outside* the tile instructions, measurable on any AVX-512 host: the
// drivers of kernels/gemm/amx-drivers.h and amx-attention.h instantiated with a tile-operations
// policy whose instructions do nothing (no tileloadd or tdpb*d; tilestored writes zeros, so the
// output stage sees small sums and never the saturating path), everything else — operand packing, row and column sums, edge copies,
// the output stage — as the amx kernels run it. On an AMX host a call costs about this plus the
// tile instructions; intvit-bench kernels prints both next to each other (kernels_bench.cc), so
// a host without AMX still shows whether the driver work would dominate. Bench only: the results
// are not the product (the blocks are never computed).
#include "kernels/gemm/requant-avx512.h"  // first: it carries the immintrin.h pragma

#include <algorithm>
#include <chrono>
#include <cstring>

#include "bench/amx_driver_cost.h"
#include "kernels/gemm/amx-attention.h"
#include "kernels/gemm/gemm-kernels.h"

namespace {

namespace amx = intvit::gemm::amx;

struct NoTileOps {
  [[maybe_unused]] static constexpr bool kEmulated = true;  // the tile-ops interface
  static void configure(const amx::TileConfig&) {}
  template <int T>
  static void zero() {}
  template <int T>
  static void load(const void* p, size_t) {
    __asm__ volatile("" ::"r"(p));  // the operand's address is still computed, as for tileloadd
  }
  template <int T>
  static void store(void* p, size_t stride) {  // zeros where tilestored writes (values like real sums' size, no wrap)
    for (int r = 0; r < amx::kTileRows; ++r) std::memset(static_cast<uint8_t*>(p) + r * stride, 0, amx::kTileBytes);
  }
  template <amx::Sign S, int C, int A, int B>
  static void dot() {}
};

// Best seconds of one call over repeated calls for about `seconds` (at least 5 calls).
template <typename Fn>
double best_seconds(double seconds, Fn&& fn) {
  double best = 1e30, total = 0;
  for (int i = 0; i < 5 || total < seconds; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
    total += s;
  }
  return best;
}

}  // namespace

namespace intvit::bench {

double amx_driver_seconds_linear(const PackedWeights& w, size_t m, const void* a, size_t lda, const GemmOutput& out, double seconds) {
  const gemm::OutputPlan plan = gemm::make_output_plan(out, 0, w.n());
  const bool split = w.input() == GemmInput::kS16;
  const gemm::AmxBlockStageFn block = gemm::amx_block_stage__avx512(plan, split);
  return best_seconds(seconds, [&] {
    if (split) {
      amx::linear_s16<NoTileOps>(w, m, a, lda, plan, 0, w.n(), gemm::output_stage__avx512, block);
    } else {
      amx::linear_u8<NoTileOps>(w, m, a, lda, plan, 0, w.n(), gemm::output_stage__avx512, block);
    }
  });
}

double amx_driver_seconds_u8u8(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za, const uint8_t* b, size_t ldb,
                               int32_t zb, int32_t* c, size_t ldc, double seconds) {
  return best_seconds(seconds, [&] { amx::matmul_u8u8_nt<NoTileOps>(m, n, k, a, lda, za, b, ldb, zb, c, ldc); });
}

double amx_driver_seconds_av16(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
                               int32_t v_zero_point, int32_t* out, size_t ld_out, double seconds) {
  return best_seconds(seconds, [&] { amx::av16<NoTileOps>(m, n, k, probs, ld_p, v_t, ld_v, v_zero_point, out, ld_out); });
}

double amx_driver_seconds_av16_u8(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                                  int32_t v_zero_point, const Av16Requant& rq, uint8_t* out, size_t ld_out, double seconds) {
  const RequantParams params{&rq.multiplier, &rq.shift, false, rq.zero_point, 0, 255};  // as av16_u8__amx
  return best_seconds(seconds, [&] {
    amx::av16_u8<NoTileOps>(m, n, k, probs, ld_p, v, ld_v, v_zero_point, params, out, ld_out, GemmIsa::kAmx);
  });
}

}  // namespace intvit::bench
