// Swin's window geometry as integer index maps, shared by the FP32 reference forward and (later) the
// integer executor: the cyclic shift + window partition as one token permutation, the relative
// position index into the bias table, and the shifted-window attention mask as region ids.
#pragma once

#include <cstdint>
#include <vector>

namespace intvit {

// One block's windows over a res×res token grid (row-major tokens), window ws, cyclic shift
// `shift` (0 = plain windows). Window-major position p = w·ws² + n (window w in row-major order of
// the (res/ws)² window grid, n = iy·ws + ix inside it) holds the token that timm's
// window_partition(torch.roll(x, (-shift, -shift))) puts there:
//   token_of[p] = ((wy·ws + iy + shift) mod res)·res + (wx·ws + ix + shift) mod res.
// window_reverse + roll(+shift) is the inverse: output token token_of[p] gets window row p.
struct SwinWindowLayout {
  int resolution = 0, window = 0, shift = 0;
  std::vector<int32_t> token_of;  // [res²]
  // region[p] in 0..8 (shift > 0 only, else empty): timm's 9-region slicing of the SHIFTED grid,
  // rows/cols split at res − ws and res − shift. Inside one window, tokens p and q may attend to each
  // other iff region[p] == region[q]; timm adds −100 to the logit otherwise.
  std::vector<uint8_t> region;

  int tokens_per_window() const { return window * window; }
  int num_windows() const { return (resolution / window) * (resolution / window); }
  bool masked(int window_index, int i, int j) const {
    if (region.empty()) return false;
    const int base = window_index * window * window;
    return region[base + i] != region[base + j];
  }
};

// Throws Error(kInvalidArgument) unless 0 < ws <= res, res % ws == 0 and 0 <= shift < ws.
SwinWindowLayout make_swin_window_layout(int resolution, int window, int shift);

// [ws²][ws²] index into the [(2ws−1)²][heads] relative_position_bias_table (timm's
// get_relative_position_index): ((yi − yj + ws − 1)·(2ws − 1) + (xi − xj + ws − 1)).
std::vector<int32_t> swin_relative_position_index(int window);

}  // namespace intvit
