// amx_block_stage__avx512vbmi (gemm-kernels.h): the per-block output stage of the amx linears for
// u8 plans with a byte table (Eq. 11c, QUANTIZATION.md §3.6: fc1's 8-bit GELU folded into fc1), the
// codes of each row put through the table in registers (byte-table-avx512vbmi.h) before the store.
#include "kernels/gemm/amx-block-stage-avx512.h"
#include "kernels/gemm/byte-table-avx512vbmi.h"

namespace intvit::gemm {
namespace {

using namespace amx_stage;
using avx512::ByteTable;
using avx512::ByteTableStage;
using avx512::Stage;
constexpr GemmOut kU8 = GemmOut::kU8;

template <bool kPerChannel>
void byte_clamp(const OutputPlan& p, size_t row0, size_t rows, size_t n0, size_t g_begin, size_t g_end, const int32_t* hi,
                const int32_t* lo, const int32_t* bias) {
  using S = Stage<kU8, false, false, kPerChannel, false, true, false, true, /*kAbsSign=*/true>;  // no AMD core has AMX
  using Masked = ByteTableStage<Stage<kU8, false, false, kPerChannel, false, false, true>>;
  const ByteTable table(p.table);
  block_byte_clamp<S, Masked, false>(p, row0, rows, n0, g_begin, g_end, hi, lo, bias, [&](__m512i codes) { return table.lookup(codes); });
}

}  // namespace

AmxBlockStageFn amx_block_stage__avx512vbmi(const OutputPlan& p) {
  if (p.narrow && p.byte_clamp) return p.per_channel ? byte_clamp<true> : byte_clamp<false>;
  if (p.per_channel) {
    if (p.any_left_shift) return block_stage<ByteTableStage<Stage<kU8, false, false, true, true>>, false>;
    return block_stage<ByteTableStage<Stage<kU8, false, false, true, false>>, false>;
  }
  if (p.any_left_shift) return block_stage<ByteTableStage<Stage<kU8, false, false, false, true>>, false>;
  return block_stage<ByteTableStage<Stage<kU8, false, false, false, false>>, false>;
}

}  // namespace intvit::gemm
