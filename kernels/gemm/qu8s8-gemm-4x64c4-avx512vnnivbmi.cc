// u8 × s8 linear layer (Eq. 8) with a byte table after Eq. 11 (Eq. 11c, QUANTIZATION.md §3.6),
// AVX-512 VNNI + VBMI: qu8s8_gemm_4x64c4__avx512vnni's tiles, and in their output stage each row
// of 64 requantized codes goes through the 256-byte table by two vpermi2b (bits 0-6 pick among
// 128 table bytes) and a blend on bit 7, in registers, before its one store. The 8-bit GELU after
// fc1 runs this way, so GELU's own pass over the fc1 output disappears.
#pragma GCC optimize("schedule-insns")  // as in qu8s8-gemm-4x64c4-avx512vnni.cc
#include "kernels/gemm/ukernel-avx512vnni.h"
#include "kernels/gemm/byte-table-avx512vbmi.h"

namespace intvit::gemm {
namespace avx512vnni {
namespace {

using avx512::ByteTable;
using avx512::ByteTableStage;

// Eq. 11c in place on out elements (row0 + i, n), i < rows, n in [n_begin, n_end).
void apply_table_in_place(const OutputPlan& out, size_t row0, size_t rows, size_t n_begin, size_t n_end) {
  const ByteTable table(out.table);
  for (size_t i = 0; i < rows; ++i) {
    uint8_t* row = static_cast<uint8_t*>(out.data) + (row0 + i) * out.ld;
    for (size_t n = n_begin; n < n_end; n += 64) {
      const __mmask64 m = n_end - n >= 64 ? ~__mmask64{0} : (__mmask64{1} << (n_end - n)) - 1;
      _mm512_mask_storeu_epi8(row + n, m, table.lookup(_mm512_maskz_loadu_epi8(m, row + n)));
    }
  }
}

template <bool kAbsSign>
struct ByteTableStages {
  // with_stage<true> (requant-avx512.h) with each requantizing u8 Stage wrapped in ByteTableStage
  // (make_output_plan gives byte tables only to requantized u8 outputs).
  template <bool kS16>
  static TilesFn tiles(const OutputPlan& out) {
    return avx512::with_stage<true, kAbsSign>(out, []<typename S>() -> TilesFn {
      if constexpr (S::kElemBytes == 1 && S::kRequantizes) return tiles_4x64<kS16, ByteTableStage<S>>;
      return nullptr;
    });
  }
  // Edge tiles (a partial column group, the last m % 4 rows): the plain stage, then the table.
  static void edge(const OutputPlan& out, size_t row0, size_t rows, size_t n_begin, size_t n_end, const int32_t* acc,
                   size_t ld_acc) {
    OutputPlan without_table = out;
    without_table.table = nullptr;
    output_stage__avx512(without_table, row0, rows, n_begin, n_end, acc, ld_acc, nullptr);
    apply_table_in_place(out, row0, rows, n_begin, n_end);
  }
};

}  // namespace
}  // namespace avx512vnni

void qu8s8_gemm_4x64c4__avx512vnnivbmi(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out,
                                       size_t n_begin, size_t n_end) {
  avx512vnni::linear_tiles_cpu_form</*kS16=*/false, avx512vnni::ByteTableStages>(w, m, a, lda, out, n_begin, n_end);
}

}  // namespace intvit::gemm
