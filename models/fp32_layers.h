// The FP32 reference forwards' building blocks (ViT and Swin): Linear / LayerNorm parameters, their
// loading from timm safetensors names, and the plain layer functions. Offline only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/vit_config.h"

namespace intvit {

class SafeTensorsFile;

struct LinearF32 {
  int in = 0, out = 0;
  std::vector<float> weight;  // [out][in]
  std::vector<float> bias;    // [out]; empty for a Linear without bias
};

struct LayerNormF32 {
  std::vector<float> gamma, beta;
};

// Called with intermediate tensors (row-major [rows][cols]); the names are listed by each forward.
using ActivationObserver =
    std::function<void(std::string_view name, const float* data, size_t rows, size_t cols)>;

// The plain layer functions, in their own namespace: their short names would collide elsewhere.
namespace fp32 {

// Where an FP32 checkpoint's files are: `model_path` is a folder (config.json + model.safetensors)
// or the weights file itself, with config.json beside it.
struct CheckpointFiles {
  std::filesystem::path config, weights;
};
CheckpointFiles checkpoint_files(const std::filesystem::path& model_path);

// The tensor as FP32; Error(kInvalidArgument) naming the tensor if absent or of another shape.
std::vector<float> read_tensor(const SafeTensorsFile& file, const std::string& name,
                                   const std::vector<int64_t>& shape);
// "<prefix>.weight" [out][in] and, if has_bias, "<prefix>.bias" [out].
LinearF32 read_linear(const SafeTensorsFile& file, const std::string& prefix, int in, int out,
                          bool has_bias = true);
LayerNormF32 read_norm(const SafeTensorsFile& file, const std::string& prefix, int dim);

// y[rows][out] = x[rows][in] · Wᵀ (+ b)
void linear(const LinearF32& l, const float* x, size_t rows, float* y);
// Per row over dim channels, statistics in double.
void layer_norm(const LayerNormF32& n, double eps, const float* x, size_t rows, size_t dim, float* y);
float gelu(float x, GeluKind kind);
// Every p×p patch of an HWC uint8 image (side img) as one row [grid²][3·p·p] in PyTorch's conv
// weight order (c, ky, kx), normalized ((v/255 − mean[c]) / std[c]): the patch embedding's GEMM input.
std::vector<float> gather_patches(const uint8_t* pixels, size_t img, size_t p, const std::array<double, 3>& mean,
                                  const std::array<double, 3>& std);
void softmax_rows(float* x, size_t rows, size_t len);

}  // namespace fp32

}  // namespace intvit
