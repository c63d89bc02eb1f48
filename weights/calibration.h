// Offline calibration: run the FP32 reference over images and record the range of every tensor the
// integer engine quantizes (float allowed: this never runs at inference).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/swin_fp32.h"
#include "models/vit_fp32.h"

namespace intvit {

enum class ObserverKind { kAuto, kMinMax, kEma, kPercentile, kOmse };
// "auto": minmax, except the GELU outputs (names ending "gelu.out"), which take omse — their long
// tail of rare large values costs the bulk near 0 its resolution (ViT-Ti, 500 images: +0.9 dB on
// every GELU output, +1.3 dB on the logits, top-1 +0.2 point; top-1 agreement with FP32 +0.8 or
// -1.0 point depending on the JPEG decoder, so not the default) |
// "minmax" | "ema" | "percentile" (99.99 %, per image, averaged) | "omse" (per image, the uint8
// clipping range with the least squared quantization error, averaged)
ObserverKind parse_observer_kind(const std::string& name);

struct TensorRange {
  double min = 0, max = 0;   // what the observer chose (always min <= 0 <= max)
  double abs_max() const { return std::max(-min, max); }
  // The observed max |x| whatever the observer: int16 and int32 tensors (residual stream, wide
  // MLP tensors, logits) use it, since clipping them would saturate what 8 bits must clip.
  double full_abs_max() const {
    double m = 0;
    for (size_t c = 0; c < channel_min.size(); ++c) m = std::max({m, -channel_min[c], channel_max[c]});
    return m;
  }
  std::vector<double> channel_sum;      // per column, sum over all rows of all images (bias correction)
  std::vector<double> channel_min, channel_max;  // per column, over all rows of all images
  double rows = 0;                      // rows summed into channel_sum
  double channel_mean(size_t c) const { return rows > 0 ? channel_sum[c] / rows : 0.0; }
};

struct CalibrationStats {
  std::map<std::string, TensorRange> ranges;  // by ActivationObserver tensor name
  int images = 0;
  const TensorRange& at(const std::string& name) const;  // Error if the tensor was never seen
};

// images: cropped uint8 RGB HWC inputs. progress(i, n) is called after each image.
CalibrationStats calibrate(const ViTWeightsF32& model, const std::vector<std::vector<uint8_t>>& images,
                           ObserverKind kind, const std::function<void(int, int)>& progress = {});
// The same through swin_forward_f32's observer names (models/swin_fp32.h).
CalibrationStats calibrate(const SwinWeightsF32& model, const std::vector<std::vector<uint8_t>>& images,
                           ObserverKind kind, const std::function<void(int, int)>& progress = {});

}  // namespace intvit
