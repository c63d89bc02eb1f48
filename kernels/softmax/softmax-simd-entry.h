// The part of the SIMD softmax entry points that no ISA changes (softmax_rows*__avx2 and
// softmax_rows*__avx512): the 16-bit output's parameter check, empty rows, rows longer than the
// kernels' buffers handed to the reference (which has no length limit), the mode made a template
// argument of the ISA's row loop, and that loop's order (each row's pass takes the next row's max). Scalar code, but included by files with different ISA
// flags: internal linkage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "kernels/softmax/softmax.h"

namespace intvit::softmax_detail {
namespace {

// The longest row the SIMD kernels take (QUANTIZATION.md §4.1); their row buffers hold this many.
constexpr size_t kSimdMaxLen = 4096;

// softmax_rows* for Out = uint8_t (Eq. 21) or uint16_t (Eq. 21b, where check_softmax16_params
// rejects log2): rows_mode.template operator()<kMode>() runs the ISA's rows for SoftmaxMode kMode.
template <typename Out, typename RowsMode>
void simd_softmax_rows(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in, Out* out,
                       size_t ld_out, RowsMode&& rows_mode) {
  static_assert(std::is_same_v<Out, uint8_t> || std::is_same_v<Out, uint16_t>);
  constexpr bool k16 = std::is_same_v<Out, uint16_t>;
  if constexpr (k16) check_softmax16_params(p);
  if (len == 0) return;
  if (len > kSimdMaxLen) {
    if constexpr (k16) {
      softmax_rows16_ref(p, rows, len, in, ld_in, out, ld_out);
    } else {
      softmax_rows_ref(p, rows, len, in, ld_in, out, ld_out);
    }
    return;
  }
  for_softmax_mode(p.mode, [&]<SoftmaxMode kMode>() {
    if constexpr (!k16 || kMode != SoftmaxMode::kLog2) rows_mode.template operator()<kMode>();  // 16 bits: log2 rejected above
  });
}

// The row loop of softmax_rows*__avx2 and __avx512 (QUANTIZATION.md §4.11): each row's Eq. 20 pass
// also takes the next row's max, so no row's pass waits on its own max loop and reduction.
// row_max(x) is the ISA's pass 1, run for the first row only; row.template operator()<kNextMax>(r,
// max, next, next_max) runs row r given its max and, with kNextMax, leaves row `next`'s max in next_max.
template <typename RowMax, typename Row>
void rows_taking_next_max(size_t rows, const int32_t* in, size_t ld_in, RowMax&& row_max, Row&& row) {
  if (rows == 0) return;
  int32_t max = row_max(in);
  for (size_t r = 0; r + 1 < rows; ++r) row.template operator()<true>(r, max, in + (r + 1) * ld_in, max);  // max: row r's, then r + 1's
  row.template operator()<false>(rows - 1, max, nullptr, max);
}

}  // namespace
}  // namespace intvit::softmax_detail
