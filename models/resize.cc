// Pillow's two-pass convolution resampling for 8-bit RGB (see resize.h for the contract).
//
// The weight tables are computed in double with Pillow's exact expression order, because the Q22
// weights must come out identical for the integer passes to match PIL bit for bit. Rounding of
// the passes (+2^21, arithmetic shift, clip) is Pillow's round-half-up; for the sums that survive
// clipping (>= 0) it coincides with intvit's round-half-away-from-zero rule.
#include "models/resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "kernels/error.h"

namespace intvit {
namespace {

// The filter kernels, written as Pillow evaluates them (the order of operations matters for the
// last bit of the double weights).
double bilinear_kernel(double x) {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

double bicubic_kernel(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// For each output position of one pass: the first input index, how many inputs it reads, and
// their Q22 weights.
struct ResampleTaps {
  int max_taps = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int32_t> weights;  // [position * max_taps + tap]
};

// Pillow precompute_coeffs() + normalize_coeffs_8bpc() for output positions
// [out_begin, out_begin + out_count) of an in_size -> out_size pass with box (0, in_size).
ResampleTaps compute_taps(int in_size, int out_size, int out_begin, int out_count,
                          ResizeFilter filter) {
  double (*kernel)(double) = filter == ResizeFilter::kBicubic ? bicubic_kernel : bilinear_kernel;
  const double kernel_support = filter == ResizeFilter::kBicubic ? 2.0 : 1.0;

  // Pillow passes the box edges as float; (in1 - in0) is formed in float, then widened.
  const float box_begin = 0.0f, box_end = static_cast<float>(in_size);
  const double scale = static_cast<double>(box_end - box_begin) / out_size;
  const double filter_scale = std::max(scale, 1.0);  // widen the kernel only when downscaling
  const double support = kernel_support * filter_scale;
  const double inv_filter_scale = 1.0 / filter_scale;

  ResampleTaps taps;
  taps.max_taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.first.resize(out_count);
  taps.count.resize(out_count);
  taps.weights.assign(static_cast<size_t>(out_count) * taps.max_taps, 0);
  std::vector<double> w(taps.max_taps);

  constexpr double kOne = static_cast<double>(1 << kResizePrecisionBits);
  // Worst case |sum| of one channel must fit int32 with the rounding term (Pillow uses int).
  constexpr int64_t kMaxWeightMass = (std::numeric_limits<int32_t>::max() - (1 << 21)) / 255;

  for (int j = 0; j < out_count; ++j) {
    const int xx = out_begin + j;
    const double center = box_begin + (xx + 0.5) * scale;
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax = std::min(static_cast<int>(center + support + 0.5), in_size);
    const int n = xmax - xmin;
    if (n <= 0 || n > taps.max_taps) {
      throw Error(ErrorCode::kInternal, "resize: bad filter window for output " + std::to_string(xx));
    }
    double total = 0.0;
    for (int t = 0; t < n; ++t) {
      w[t] = kernel((t + xmin - center + 0.5) * inv_filter_scale);
      total += w[t];
    }
    int64_t positive_mass = 0, negative_mass = 0;
    int32_t* q = &taps.weights[static_cast<size_t>(j) * taps.max_taps];
    for (int t = 0; t < n; ++t) {
      const double normalized = total != 0.0 ? w[t] / total : w[t];
      q[t] = normalized < 0 ? static_cast<int32_t>(-0.5 + normalized * kOne)
                            : static_cast<int32_t>(0.5 + normalized * kOne);
      (q[t] > 0 ? positive_mass : negative_mass) += q[t];
    }
    if (positive_mass > kMaxWeightMass || -negative_mass > kMaxWeightMass) {
      throw Error(ErrorCode::kInternal, "resize: filter weights would overflow int32");
    }
    taps.first[j] = xmin;
    taps.count[j] = n;
  }
  return taps;
}

inline uint8_t clip_q22(int32_t sum) {
  return static_cast<uint8_t>(std::clamp(sum >> kResizePrecisionBits, 0, 255));
}

constexpr int32_t kHalf = 1 << (kResizePrecisionBits - 1);

// Horizontal pass over `rows` input rows starting at `first_row`; dst has taps.first.size()
// pixels per row.
void resample_horizontal(const uint8_t* src, int src_width, int first_row, int rows,
                         const ResampleTaps& taps, uint8_t* dst) {
  const int out_width = static_cast<int>(taps.first.size());
  for (int r = 0; r < rows; ++r) {
    const uint8_t* src_row = src + (static_cast<size_t>(first_row) + r) * src_width * 3;
    uint8_t* dst_row = dst + static_cast<size_t>(r) * out_width * 3;
    for (int j = 0; j < out_width; ++j) {
      const int32_t* k = &taps.weights[static_cast<size_t>(j) * taps.max_taps];
      const uint8_t* p = src_row + static_cast<size_t>(taps.first[j]) * 3;
      int32_t r0 = kHalf, g0 = kHalf, b0 = kHalf;
      for (int t = 0; t < taps.count[j]; ++t, p += 3) {
        r0 += p[0] * k[t];
        g0 += p[1] * k[t];
        b0 += p[2] * k[t];
      }
      dst_row[j * 3 + 0] = clip_q22(r0);
      dst_row[j * 3 + 1] = clip_q22(g0);
      dst_row[j * 3 + 2] = clip_q22(b0);
    }
  }
}

// Vertical pass; src holds input rows from `src_first_row` on, `width` pixels each. Accumulates
// whole rows (integer sums, so the order of taps does not change the result).
void resample_vertical(const uint8_t* src, int width, int src_first_row, const ResampleTaps& taps,
                       uint8_t* dst) {
  const size_t row_bytes = static_cast<size_t>(width) * 3;
  std::vector<int32_t> acc(row_bytes);
  for (size_t j = 0; j < taps.first.size(); ++j) {
    const int32_t* k = &taps.weights[j * taps.max_taps];
    std::fill(acc.begin(), acc.end(), kHalf);
    for (int t = 0; t < taps.count[j]; ++t) {
      const uint8_t* src_row = src + (static_cast<size_t>(taps.first[j]) + t - src_first_row) * row_bytes;
      const int32_t weight = k[t];
      for (size_t i = 0; i < row_bytes; ++i) acc[i] += src_row[i] * weight;
    }
    uint8_t* dst_row = dst + j * row_bytes;
    for (size_t i = 0; i < row_bytes; ++i) dst_row[i] = clip_q22(acc[i]);
  }
}

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

Image resize_window(const Image& image, int out_width, int out_height, ResizeFilter filter,
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
    vertical = compute_taps(image.height, out_height, crop_top, crop_height, filter);
    row_begin = *std::min_element(vertical.first.begin(), vertical.first.end());
    row_end = 0;
    for (size_t j = 0; j < vertical.first.size(); ++j) {
      row_end = std::max(row_end, vertical.first[j] + vertical.count[j]);
    }
  }
  const int rows = row_end - row_begin;

  if (!need_vertical) {  // horizontal only, straight into the output
    const ResampleTaps horizontal =
        compute_taps(image.width, out_width, crop_left, crop_width, filter);
    resample_horizontal(image.rgb.data(), image.width, row_begin, rows, horizontal, out.rgb.data());
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
        compute_taps(image.width, out_width, crop_left, crop_width, filter);
    resample_horizontal(image.rgb.data(), image.width, row_begin, rows, horizontal, temp.data());
  } else {
    copy_window(image.rgb.data(), image.width, crop_left, row_begin, crop_width, rows, temp.data());
  }
  resample_vertical(temp.data(), crop_width, row_begin, vertical, out.rgb.data());
  return out;
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
