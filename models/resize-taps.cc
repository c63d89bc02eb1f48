// The Q22 weight tables of the resampler (resize-kernels.h): Pillow's precompute_coeffs() and
// normalize_coeffs_8bpc().
//
// The weights are computed in double with Pillow's exact expression order, because the Q22
// weights must come out identical for the integer passes to match PIL bit for bit.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "kernels/error.h"
#include "models/resize-kernels.h"

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

}  // namespace

ResampleTaps compute_resample_taps(int in_size, int out_size, int out_begin, int out_count, ResizeFilter filter) {
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

}  // namespace intvit
