#include "weights/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/error.h"

namespace intvit {

ObserverKind parse_observer_kind(const std::string& name) {
  if (name == "auto") return ObserverKind::kAuto;
  if (name == "minmax") return ObserverKind::kMinMax;
  if (name == "ema") return ObserverKind::kEma;
  if (name == "percentile") return ObserverKind::kPercentile;
  if (name == "omse") return ObserverKind::kOmse;
  throw Error(ErrorCode::kInvalidArgument, "unknown observer '" + name + "' (auto|minmax|ema|percentile|omse)");
}

const TensorRange& CalibrationStats::at(const std::string& name) const {
  auto it = ranges.find(name);
  if (it == ranges.end()) throw Error(ErrorCode::kInternal, "calibration saw no tensor named " + name);
  return it->second;
}

namespace {

// Per-image statistics of one tensor; the observer folds them over images.
struct ImageStat {
  double min, max, lo_pct, hi_pct;
};

// Squared error of uint8 asymmetric quantization over [lo, hi] (Eq. 2, 3) of a sample.
double uint8_mse(const std::vector<float>& x, double lo, double hi) {
  const double scale = std::max(hi - lo, 1e-12) / 255.0, zp = std::round(-lo / scale);
  double err = 0;
  for (float v : x) {
    const double q = std::clamp(std::round(v / scale) + zp, 0.0, 255.0);
    const double e = v - (q - zp) * scale;
    err += e * e;
  }
  return err;
}

// OMSE (Choukroun et al. 2019, as in FQ-ViT's calibration): shrink [min, max] towards 0 in 1 %
// steps down to 30 % and keep the range with the least squared error, on a strided sample.
std::pair<double, double> omse_range(const float* data, size_t n, double mn, double mx) {
  const size_t stride = std::max<size_t>(1, n / 16384);
  std::vector<float> sample;
  for (size_t i = 0; i < n; i += stride) sample.push_back(data[i]);
  sample.push_back(static_cast<float>(mn));
  sample.push_back(static_cast<float>(mx));
  std::pair<double, double> best{std::min(mn, 0.0), std::max(mx, 0.0)};
  double best_err = uint8_mse(sample, best.first, best.second);
  for (int pct = 99; pct >= 30; --pct) {
    const double lo = std::min(mn, 0.0) * pct / 100, hi = std::max(mx, 0.0) * pct / 100;
    const double err = uint8_mse(sample, lo, hi);
    if (err < best_err) best_err = err, best = {lo, hi};
  }
  return best;
}

ImageStat measure(const float* data, size_t n, ObserverKind kind) {
  const auto [mn, mx] = std::minmax_element(data, data + n);
  if (kind == ObserverKind::kOmse) {
    const auto [lo, hi] = omse_range(data, n, *mn, *mx);
    return {*mn, *mx, lo, hi};
  }
  if (kind != ObserverKind::kPercentile) return {*mn, *mx, *mn, *mx};  // selections dominate the time
  std::vector<float> sorted(data, data + n);
  // 99.99th percentile on each side (per image; averaged over images by the percentile observer).
  const size_t k = std::min(n - 1, static_cast<size_t>(std::floor(n * 0.0001)));
  std::nth_element(sorted.begin(), sorted.begin() + k, sorted.end());
  const double lo = sorted[k];
  std::nth_element(sorted.begin(), sorted.begin() + (n - 1 - k), sorted.end());
  const double hi = sorted[n - 1 - k];
  return {*mn, *mx, lo, hi};
}

// The observer a tensor gets: kAuto picks per tensor (calibration.h), the others are global.
ObserverKind observer_for(ObserverKind kind, const std::string& tensor) {
  if (kind != ObserverKind::kAuto) return kind;
  const std::string_view gelu_out = "gelu.out";
  const bool is_gelu_out = tensor.size() >= gelu_out.size() && tensor.compare(tensor.size() - gelu_out.size(), gelu_out.size(), gelu_out) == 0;
  return is_gelu_out ? ObserverKind::kOmse : ObserverKind::kMinMax;
}

// forward(pixels, observer): one FP32 forward of a model family.
using Forward = std::function<void(const uint8_t*, const ActivationObserver&)>;

CalibrationStats calibrate_forward(const Forward& forward, const std::vector<std::vector<uint8_t>>& images,
                                   ObserverKind kind, const std::function<void(int, int)>& progress) {
  if (images.empty()) throw Error(ErrorCode::kInvalidArgument, "calibration needs at least one image");
  CalibrationStats stats;
  std::map<std::string, std::vector<ImageStat>> seen;
  const int n = static_cast<int>(images.size());
  for (int i = 0; i < n; ++i) {
    forward(images[i].data(), [&](std::string_view name, const float* data, size_t rows, size_t cols) {
      const std::string key(name);
      seen[key].push_back(measure(data, rows * cols, observer_for(kind, key)));
      TensorRange& r = stats.ranges[key];
      r.channel_sum.resize(cols, 0.0);
      r.channel_min.resize(cols, std::numeric_limits<double>::infinity());
      r.channel_max.resize(cols, -std::numeric_limits<double>::infinity());
      r.rows += static_cast<double>(rows);
      for (size_t row = 0; row < rows; ++row) {
        for (size_t c = 0; c < cols; ++c) {
          const double v = data[row * cols + c];
          r.channel_sum[c] += v;
          r.channel_min[c] = std::min(r.channel_min[c], v);
          r.channel_max[c] = std::max(r.channel_max[c], v);
        }
      }
    });
    if (progress) progress(i + 1, n);
  }
  for (auto& [name, per_image] : seen) {
    TensorRange& r = stats.ranges[name];
    double mn = per_image[0].min, mx = per_image[0].max;
    const ObserverKind observer = observer_for(kind, name);
    if (observer == ObserverKind::kMinMax) {
      for (const ImageStat& s : per_image) mn = std::min(mn, s.min), mx = std::max(mx, s.max);
    } else if (observer == ObserverKind::kEma) {
      constexpr double kMomentum = 0.9;  // FQ-ViT / PyTorch default averaging constant 0.1
      for (const ImageStat& s : per_image) {
        mn = kMomentum * mn + (1 - kMomentum) * s.min;
        mx = kMomentum * mx + (1 - kMomentum) * s.max;
      }
    } else {
      mn = mx = 0;
      for (const ImageStat& s : per_image) mn += s.lo_pct, mx += s.hi_pct;
      mn /= per_image.size();
      mx /= per_image.size();
    }
    r.min = std::min(mn, 0.0);
    r.max = std::max(mx, 0.0);
  }
  stats.images = n;
  return stats;
}

}  // namespace

CalibrationStats calibrate(const ViTWeightsF32& model, const std::vector<std::vector<uint8_t>>& images,
                           ObserverKind kind, const std::function<void(int, int)>& progress) {
  return calibrate_forward([&](const uint8_t* px, const ActivationObserver& o) { vit_forward_f32(model, px, o); }, images, kind, progress);
}

CalibrationStats calibrate(const SwinWeightsF32& model, const std::vector<std::vector<uint8_t>>& images,
                           ObserverKind kind, const std::function<void(int, int)>& progress) {
  return calibrate_forward([&](const uint8_t* px, const ActivationObserver& o) { swin_forward_f32(model, px, o); }, images, kind, progress);
}

}  // namespace intvit
