// The row-independent part of the SIMD vertical passes (resize-avx2.cc, resize-avx512.cc): an
// output row's taps as pairs of source rows (t, t+1), with the weights' low and high halves as the
// word pairs (resize-q22-split.h) that vpmaddwd multiplies the interleaved rows by. Scalar code
// only: each pass builds a row's pairs the same way, whatever its vector width.
#pragma once

#include <cstddef>
#include <cstdint>

#include "models/resize-kernels.h"
#include "models/resize-q22-split.h"

namespace intvit::resize_detail {
// Internal linkage: the files including this header are compiled with different ISA flags, so
// external-linkage inline helpers could be merged across them by the linker (an ODR violation).
namespace {

// Two rows of the vertical pass and their weight pairs (low and high halves as word pairs).
struct RowPair {
  int32_t low, high;
  const uint8_t *row0, *row1;
};

// Output row j's tap pairs into pair[0, (count[j] + 1) / 2), a count it returns; src holds the
// input rows from src_first_row on, row_bytes each. `pair` has room for (max_taps + 1) / 2.
inline int row_pairs(const uint8_t* src, size_t row_bytes, int src_first_row, const ResampleTaps& taps, size_t j,
                     RowPair* pair) {
  const int n = taps.count[j], pairs = (n + 1) / 2;
  const int32_t* k = &taps.weights[j * taps.max_taps];
  for (int q = 0; q < pairs; ++q) {
    const int t = 2 * q;
    const int32_t w1 = t + 1 < n ? k[t + 1] : 0;  // an odd count pairs its last row with itself, weight 0
    pair[q].low = word_pair(q22_low(k[t]), q22_low(w1));
    pair[q].high = word_pair(q22_high(k[t]), q22_high(w1));
    pair[q].row0 = src + (static_cast<size_t>(taps.first[j]) + t - src_first_row) * row_bytes;
    pair[q].row1 = t + 1 < n ? pair[q].row0 + row_bytes : pair[q].row0;
  }
  return pairs;
}

}  // namespace
}  // namespace intvit::resize_detail
