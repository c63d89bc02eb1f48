// Reading and writing the integer model file (weights/FORMAT.md): a safetensors container with
// int8 weights, int32 biases / multipliers / shifts, and a versioned JSON description.
#pragma once

#include <filesystem>

#include "engine/int_vit.h"

namespace intvit {

constexpr int kIntModelFormatVersion = 1;
constexpr const char* kIntModelFileName = "model.intvit";

// Writes DIR/model.intvit plus labels.txt and config.json beside it.
void save_int_model(const IntViT& model, const std::filesystem::path& dir);

// Loads and validates; throws Error(kCorruptFile / kUnsupported) naming the offending field.
// The nonlinear kernels' integer parameters are rebuilt from the stored description by the same
// offline builders the quantizer used (deterministic given the same build).
IntViT load_int_model(const std::filesystem::path& file_or_dir);
IntViT load_int_model_from_buffer(const void* data, size_t size);

}  // namespace intvit
