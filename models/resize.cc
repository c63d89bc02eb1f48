// Pillow's two-pass convolution resampling for 8-bit RGB (see resize.h for the contract): the
// geometry of a window, its weight tables (resize-taps.cc) and the two passes of one variant
// (resize-kernels.h).
#include "models/resize.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/error.h"
#include "models/resize-kernels.h"

namespace intvit {
namespace {

// Copies the window [left, left + width) x [top, top + height) out of a packed RGB buffer.
void copy_window(const uint8_t* src, int src_width, int left, int top, int width, int height,
                 uint8_t* dst) {
  for (int y = 0; y < height; ++y) {
    std::memcpy(dst + static_cast<size_t>(y) * width * 3,
                src + ((static_cast<size_t>(top) + y) * src_width + left) * 3,
                static_cast<size_t>(width) * 3);
  }
}

void check_output_size(int width, int height, const char* who) {
  if (width <= 0 || height <= 0 || static_cast<int64_t>(width) * height > kMaxImagePixels) {
    throw Error(ErrorCode::kInvalidArgument, std::string(who) + ": output size " +
                                                 std::to_string(width) + "x" + std::to_string(height) +
                                                 " is not positive or exceeds kMaxImagePixels");
  }
}

}  // namespace

Image resize_window_isa(ResizeIsa isa, const Image& image, int out_width, int out_height, ResizeFilter filter,
                        int crop_left, int crop_top, int crop_width, int crop_height) {
  check_image(image, "resize");
  // Only the window is allocated, so only the window is held to kMaxImagePixels.
  if (out_width <= 0 || out_height <= 0 || out_width > kMaxImagePixels ||
      out_height > kMaxImagePixels) {
    throw Error(ErrorCode::kInvalidArgument, "resize: output size " + std::to_string(out_width) +
                                                 "x" + std::to_string(out_height) +
                                                 " is not positive or too large");
  }
  check_output_size(crop_width, crop_height, "resize");
  if (crop_width <= 0 || crop_height <= 0 || crop_left < 0 || crop_top < 0 ||
      crop_left > out_width - crop_width || crop_top > out_height - crop_height) {
    throw Error(ErrorCode::kInvalidArgument, "resize_window: window is empty or outside the output");
  }
  const ResizeKernels kernels = resize_kernels(isa);
  const bool need_horizontal = out_width != image.width;
  const bool need_vertical = out_height != image.height;

  Image out;
  out.width = crop_width;
  out.height = crop_height;
  out.rgb.resize(static_cast<size_t>(crop_width) * crop_height * 3);
  if (!need_horizontal && !need_vertical) {
    copy_window(image.rgb.data(), image.width, crop_left, crop_top, crop_width, crop_height,
                out.rgb.data());
    return out;
  }

  // Input rows the window needs: the vertical filter's support, or the window itself.
  ResampleTaps vertical;
  int row_begin = crop_top, row_end = crop_top + crop_height;
  if (need_vertical) {
    vertical = compute_resample_taps(image.height, out_height, crop_top, crop_height, filter);
    row_begin = *std::min_element(vertical.first.begin(), vertical.first.end());
    row_end = 0;
    for (size_t j = 0; j < vertical.first.size(); ++j) {
      row_end = std::max(row_end, vertical.first[j] + vertical.count[j]);
    }
  }
  const int rows = row_end - row_begin;

  if (!need_vertical) {  // horizontal only, straight into the output
    const ResampleTaps horizontal =
        compute_resample_taps(image.width, out_width, crop_left, crop_width, filter);
    kernels.horizontal(image.rgb.data() + static_cast<size_t>(row_begin) * image.width * 3, image.width, rows,
                       horizontal, out.rgb.data());
    return out;
  }

  // Pillow's order (horizontal first) fixes the rounding, so the intermediate cannot be avoided;
  // it is only large for absurd aspect changes (e.g. 1 x 10^7 -> 10^7 x 1).
  if (static_cast<int64_t>(crop_width) * rows > kMaxImagePixels) {
    throw Error(ErrorCode::kInvalidArgument,
                "resize: intermediate image " + std::to_string(crop_width) + "x" +
                    std::to_string(rows) + " would exceed kMaxImagePixels");
  }
  std::vector<uint8_t> temp(static_cast<size_t>(crop_width) * rows * 3);
  if (need_horizontal) {
    const ResampleTaps horizontal =
        compute_resample_taps(image.width, out_width, crop_left, crop_width, filter);
    kernels.horizontal(image.rgb.data() + static_cast<size_t>(row_begin) * image.width * 3, image.width, rows,
                       horizontal, temp.data());
  } else {
    copy_window(image.rgb.data(), image.width, crop_left, row_begin, crop_width, rows, temp.data());
  }
  kernels.vertical(temp.data(), static_cast<size_t>(crop_width) * 3, row_begin, vertical, out.rgb.data());
  return out;
}

Image resize_window(const Image& image, int out_width, int out_height, ResizeFilter filter,
                    int crop_left, int crop_top, int crop_width, int crop_height) {
  return resize_window_isa(default_resize_isa(), image, out_width, out_height, filter, crop_left, crop_top,
                           crop_width, crop_height);
}

Image resize(const Image& image, int out_width, int out_height, ResizeFilter filter) {
  check_output_size(out_width, out_height, "resize");
  return resize_window(image, out_width, out_height, filter, 0, 0, out_width, out_height);
}

int center_crop_offset(int size, int crop) {
  if (crop > size) return -((crop - size) / 2);
  const int excess = size - crop;
  int offset = excess / 2;
  if (excess % 2 == 1 && offset % 2 == 1) ++offset;  // x.5 rounds to the even neighbour
  return offset;
}

Image crop_window(const Image& image, int left, int top, int width, int height) {
  check_image(image, "crop_window");
  check_output_size(width, height, "crop_window");
  Image out;
  out.width = width;
  out.height = height;
  out.rgb.assign(static_cast<size_t>(width) * height * 3, 0);  // outside the image: black
  const int64_t x_begin = std::max<int64_t>(0, -int64_t{left});
  const int64_t x_end = std::min<int64_t>(width, int64_t{image.width} - left);
  for (int y = 0; y < height; ++y) {
    const int64_t source_y = int64_t{top} + y;
    if (source_y < 0 || source_y >= image.height || x_end <= x_begin) continue;
    std::memcpy(out.rgb.data() + (static_cast<size_t>(y) * width + x_begin) * 3,
                image.rgb.data() + (source_y * image.width + left + x_begin) * 3,
                static_cast<size_t>(x_end - x_begin) * 3);
  }
  return out;
}

Image center_crop(const Image& image, int crop_width, int crop_height) {
  check_image(image, "center_crop");
  return crop_window(image, center_crop_offset(image.width, crop_width),
                     center_crop_offset(image.height, crop_height), crop_width, crop_height);
}

}  // namespace intvit
