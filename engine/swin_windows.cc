#include "engine/swin_windows.h"

#include <string>

#include "kernels/error.h"

namespace intvit {
namespace {

// timm's slices (0, −ws), (−ws, −shift), (−shift, None) of one axis of the shifted grid.
int region_of(int coord, int res, int ws, int shift) {
  if (coord < res - ws) return 0;
  return coord < res - shift ? 1 : 2;
}

}  // namespace

SwinWindowLayout make_swin_window_layout(int res, int ws, int shift) {
  if (ws <= 0 || ws > res || res % ws != 0 || shift < 0 || shift >= ws || res > 4096) {
    throw Error(ErrorCode::kInvalidArgument, "invalid Swin window layout: resolution " + std::to_string(res) +
                                                 ", window " + std::to_string(ws) + ", shift " + std::to_string(shift));
  }
  SwinWindowLayout l;
  l.resolution = res;
  l.window = ws;
  l.shift = shift;
  const int grid = res / ws;
  l.token_of.resize(static_cast<size_t>(res) * res);
  if (shift > 0) l.region.resize(l.token_of.size());
  size_t p = 0;
  for (int wy = 0; wy < grid; ++wy) {
    for (int wx = 0; wx < grid; ++wx) {
      for (int iy = 0; iy < ws; ++iy) {
        for (int ix = 0; ix < ws; ++ix, ++p) {
          const int y = wy * ws + iy, x = wx * ws + ix;  // in the shifted grid
          l.token_of[p] = ((y + shift) % res) * res + (x + shift) % res;
          if (shift > 0) {
            l.region[p] = static_cast<uint8_t>(3 * region_of(y, res, ws, shift) + region_of(x, res, ws, shift));
          }
        }
      }
    }
  }
  return l;
}

std::vector<int32_t> swin_relative_position_index(int ws) {
  if (ws <= 0 || ws > 64) throw Error(ErrorCode::kInvalidArgument, "invalid Swin window " + std::to_string(ws));
  const int n = ws * ws, side = 2 * ws - 1;
  std::vector<int32_t> index(static_cast<size_t>(n) * n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const int dy = i / ws - j / ws + ws - 1, dx = i % ws - j % ws + ws - 1;
      index[static_cast<size_t>(i) * n + j] = dy * side + dx;
    }
  }
  return index;
}

}  // namespace intvit
