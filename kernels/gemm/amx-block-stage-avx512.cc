// amx_block_stage__avx512 (gemm-kernels.h): the per-block output stage of the amx linears for
// plans without a byte table (amx-block-stage-avx512.h).
#include "kernels/gemm/amx-block-stage-avx512.h"

namespace intvit::gemm {
namespace {

using namespace amx_stage;

struct NoTable {
  __m512i operator()(__m512i bytes) const { return bytes; }
};

template <bool kPerChannel, bool kSplit>
void byte_clamp(const OutputPlan& p, size_t row0, size_t rows, size_t n0, size_t g_begin, size_t g_end, const int32_t* hi,
                const int32_t* lo, const int32_t* bias) {
  using S = avx512::Stage<GemmOut::kU8, false, false, kPerChannel, false, true, false, true, /*kAbsSign=*/true>;  // no AMD core has AMX
  using Masked = avx512::Stage<GemmOut::kU8, false, false, kPerChannel, false, false, true>;
  block_byte_clamp<S, Masked, kSplit>(p, row0, rows, n0, g_begin, g_end, hi, lo, bias, NoTable{});
}

template <bool kSplit>
AmxBlockStageFn resolve(const OutputPlan& p) {
  if (p.type == GemmOut::kU8 && !p.raw && p.narrow && p.byte_clamp) {
    return p.per_channel ? byte_clamp<true, kSplit> : byte_clamp<false, kSplit>;
  }
  return avx512::with_stage<false>(p, []<typename S>() -> AmxBlockStageFn { return block_stage<S, kSplit>; });
}

}  // namespace

AmxBlockStageFn amx_block_stage__avx512(const OutputPlan& p, bool split) { return split ? resolve<true>(p) : resolve<false>(p); }

}  // namespace intvit::gemm
