// The integer Model (engine/model.h) behind load_model: engine/int_model.cc, integer only. Its
// real-valued logits go through dequantize_logits, defined with the FP32 model in engine/model.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

#include "engine/int_swin.h"
#include "engine/int_vit.h"
#include "engine/model.h"

namespace intvit {

std::unique_ptr<Model> make_int_model(IntViT model, const std::filesystem::path& source);
std::unique_ptr<Model> make_int_model(IntSwin model, const std::filesystem::path& source);

// out[i] = scale · logits[i] (presentation, after the integer forward).
void dequantize_logits(const int32_t* logits, size_t n, double scale, double* out);

}  // namespace intvit
