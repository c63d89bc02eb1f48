// The row-independent part of the SIMD horizontal passes (resize-avx2.cc, resize-avx512.cc):
// output pixels in groups of kLanes, one per 128-bit lane, and per group and tap pair the lanes'
// weight pairs, built once per block of output pixels and reused by every row (one block per row
// but for huge downscales, whose tables would not fit the cache); plus the source
// rows whose loads could pass the end of the source, read from a zero-padded copy.
//
// Lane k of a group, tap pair q: the 16 source bytes at offset[k] + 6q (pixels first + 2q and
// first + 2q + 1 in its first 6 bytes), and the dwords (R, G, B, 0) times Pair::low / Pair::high:
// the word pairs (low(w_2q), low(w_2q+1)) and (high(...), high(...)) of resize-q22-split.h. A lane
// past the group's valid pixels repeats the last one with weight 0; pairs past a pixel's count
// have weight 0.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "models/resize-kernels.h"
#include "models/resize-q22-split.h"

namespace intvit::resize_detail {
// Internal linkage, types included: the files including this header are compiled with different
// ISA flags, so external-linkage inline code (also std::vector of these types) could be merged
// across them by the linker (an ODR violation).
namespace {

template <int kLanes>
struct HorizontalPlan {
  struct alignas(64) Pair {
    int32_t low[4 * kLanes], high[4 * kLanes];
  };
  struct Group {
    size_t offset[kLanes];  // byte offset of each lane's first tap in a source row
    int pixels = 0;         // valid lanes
    int pairs = 0;          // tap pairs (the most of its pixels)
    int first_pair = 0;     // index into pairs
  };
  std::vector<Group> groups;
  std::vector<Pair> pairs;

  // Groups from output pixel j0 on, as many as hold at most max_pairs tap pairs in total (at least
  // one group); returns the end of the pixels planned.
  int build(const ResampleTaps& taps, int j0, int max_pairs) {
    const int out_width = static_cast<int>(taps.first.size());
    groups.clear();
    int total = 0, j1 = j0;
    for (; j1 < out_width; j1 += kLanes) {
      Group g;
      g.pixels = std::min(kLanes, out_width - j1);
      for (int k = 0; k < kLanes; ++k) {
        const int j = j1 + std::min(k, g.pixels - 1);
        g.offset[k] = static_cast<size_t>(taps.first[j]) * 3;
        g.pairs = std::max(g.pairs, (taps.count[j] + 1) / 2);
      }
      if (!groups.empty() && total + g.pairs > max_pairs) break;
      g.first_pair = total;
      total += g.pairs;
      groups.push_back(g);
    }
    pairs.resize(static_cast<size_t>(total));
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      const Group& g = groups[gi];
      for (int q = 0; q < g.pairs; ++q) {
        Pair& p = pairs[static_cast<size_t>(g.first_pair) + q];
        for (int k = 0; k < kLanes; ++k) {
          int32_t wa = 0, wb = 0;  // a lane past the valid pixels: weight 0
          if (k < g.pixels) {
            const int j = j0 + static_cast<int>(gi) * kLanes + k;
            const int32_t* w = &taps.weights[static_cast<size_t>(j) * taps.max_taps];
            if (2 * q < taps.count[j]) wa = w[2 * q];
            if (2 * q + 1 < taps.count[j]) wb = w[2 * q + 1];
          }
          for (int c = 0; c < 4; ++c) {
            p.low[4 * k + c] = word_pair(q22_low(wa), q22_low(wb));
            p.high[4 * k + c] = word_pair(q22_high(wa), q22_high(wb));
          }
        }
      }
    }
    return std::min(j1, out_width);
  }
};

// The source rows of a horizontal pass, the last ones from a zero-padded copy: a row's loads of
// load_bytes at a lane's first tap + 6q reach at most `reach` bytes past its start (the furthest
// first tap, the most tap pairs, one load), and only rows from which that passes the end of the
// source are copied.
class HorizontalRows {
 public:
  HorizontalRows(const uint8_t* src, int src_width, int rows, const ResampleTaps& taps, size_t load_bytes)
      : src_(src), row_bytes_(static_cast<size_t>(src_width) * 3) {
    size_t max_first = 0, max_pairs = 0;  // plain loops: no std algorithm instantiated under these ISA flags
    for (size_t j = 0; j < taps.first.size(); ++j) {
      max_first = std::max(max_first, static_cast<size_t>(taps.first[j]));
      max_pairs = std::max(max_pairs, static_cast<size_t>(taps.count[j] + 1) / 2);
    }
    const size_t reach = max_first * 3 + 6 * (max_pairs - 1) + load_bytes;
    const size_t padded = std::min<size_t>(rows, (reach + row_bytes_ - 1) / row_bytes_);
    direct_rows_ = rows - static_cast<int>(padded);
    copy_.reset(new uint8_t[padded * row_bytes_ + reach]());  // zeros past the copied rows
    std::memcpy(copy_.get(), src + static_cast<size_t>(direct_rows_) * row_bytes_, padded * row_bytes_);
  }
  const uint8_t* row(int r) const {
    return r < direct_rows_ ? src_ + static_cast<size_t>(r) * row_bytes_
                            : copy_.get() + static_cast<size_t>(r - direct_rows_) * row_bytes_;
  }

 private:
  const uint8_t* src_;
  size_t row_bytes_;
  int direct_rows_ = 0;
  std::unique_ptr<uint8_t[]> copy_;
};

}  // namespace
}  // namespace intvit::resize_detail
