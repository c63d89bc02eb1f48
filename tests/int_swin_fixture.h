// The tiny random Swin the integer-Swin tests share (int_swin_test, int_swin_file_test, trace_swin_test):
// its geometry, its seeded input images and its min-max calibrated quantization. Offline test code.
#pragma once

#include <string>
#include <vector>

#include "engine/int_swin.h"
#include "random_swin.h"
#include "weights/calibration.h"
#include "weights/swin_quantizer.h"

namespace intvit {

// Two stages of 16² and 8² tokens, window 4 (16 and 4 windows), block 1 of each shifted, patch merging between.
inline SwinConfig tiny_swin_config(const std::string& architecture) {
  SwinConfig c;
  c.architecture = architecture;
  c.image_size = 32;
  c.patch_size = 2;
  c.embed_dim = 16;
  c.depths = {2, 2};
  c.num_heads = {2, 4};
  c.window_size = 4;
  c.mlp_ratio = 2.0;
  c.num_classes = 10;
  c.validate();
  return c;
}

// `n` seeded images of c's size (tests/random_vit.h's random_model_inputs: only the image size matters).
inline std::vector<std::vector<uint8_t>> swin_inputs(const SwinConfig& c, size_t n, unsigned seed) {
  ViTConfig v;
  v.image_size = c.image_size;
  return random_model_inputs(v, n, seed);
}

// quantize_swin after a min-max calibration on `calib_images` images drawn with `seed`.
inline IntSwin calibrated_swin(const SwinWeightsF32& f, const QuantizeOptions& opt, size_t calib_images, unsigned seed) {
  return quantize_swin(f, calibrate(f, swin_inputs(f.config, calib_images, seed), ObserverKind::kMinMax), opt);
}

}  // namespace intvit
