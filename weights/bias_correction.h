// Offline empirical bias correction: shift each linear layer's int32 bias by the per-channel
// difference between the FP32 mean of its output and the integer engine's mean on the calibration
// images (E_fp32[y] − E_int[y]), stage by stage so each correction sees the corrected layers
// before it. Free at inference: it only changes biases.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/int_vit.h"
#include "weights/calibration.h"

namespace intvit {

// `model` must come from quantize_vit (its linears still carry weight_scale). fp32 holds the FP32
// channel means of the same images. progress(stage, stages) after each stage.
void correct_biases(IntViT& model, const CalibrationStats& fp32, const std::vector<std::vector<uint8_t>>& images,
                    const std::function<void(int, int)>& progress = {});

}  // namespace intvit
