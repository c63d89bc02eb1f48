// Reading and writing the integer model file (weights/FORMAT.md): a safetensors container with
// int8 weights, int32 biases / multipliers / shifts, the nonlinear kernels' integer tables and
// multipliers, and a versioned JSON description.
#pragma once

#include <filesystem>

#include "engine/int_swin.h"
#include "engine/int_vit.h"

namespace intvit {

constexpr int kIntModelFormatVersion = 2;
constexpr const char* kIntModelFileName = "model.intvit";

// Writes DIR/model.intvit plus labels.txt and config.json beside it (weights/int_model_writer.cc).
// The model's nonlinear kernel parameters must be built (quantize_vit or a load does that).
void save_int_model(const IntViT& model, const std::filesystem::path& dir);

// Loads and validates; throws Error(kCorruptFile / kUnsupported) naming the offending field
// (weights/int_model_reader.cc). Every kernel parameter is read from the file as an integer:
// nothing is derived in floating point. A version-1 file is kUnsupported with a message naming
// `intvit upgrade` (weights/int_model_upgrade.h).
IntViT load_int_model(const std::filesystem::path& file_or_dir);
IntViT load_int_model_from_buffer(const void* data, size_t size);

// The integer Swin (FORMAT.md, "Swin": the same container and version, graph "architecture":
// "swin"). save: weights/int_swin_writer.cc; load: weights/int_swin_reader.cc (same errors as
// load_int_model; a ViT file is kCorruptFile "not a Swin model", and load_int_model refuses a Swin
// file with kUnsupported naming this function).
void save_int_model(const IntSwin& model, const std::filesystem::path& dir);
IntSwin load_int_swin_model(const std::filesystem::path& file_or_dir);

}  // namespace intvit
