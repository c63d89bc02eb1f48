#include "models/fp32_layers.h"

#include <algorithm>
#include <cmath>

#include "kernels/error.h"
#include "models/fp32_gemm.h"
#include "models/safetensors.h"

namespace intvit::fp32 {

std::vector<float> read_tensor(const SafeTensorsFile& file, const std::string& name,
                                   const std::vector<int64_t>& shape) {
  const TensorView& t = file.get(name);
  if (t.shape != shape) {
    std::string want, got;
    for (int64_t d : shape) want += std::to_string(d) + ",";
    for (int64_t d : t.shape) got += std::to_string(d) + ",";
    throw Error(ErrorCode::kInvalidArgument,
                "tensor '" + name + "' has shape [" + got + "], expected [" + want + "]");
  }
  return t.to_f32();
}

LinearF32 read_linear(const SafeTensorsFile& f, const std::string& prefix, int in, int out, bool has_bias) {
  LinearF32 l;
  l.in = in;
  l.out = out;
  l.weight = read_tensor(f, prefix + ".weight", {out, in});
  if (has_bias) l.bias = read_tensor(f, prefix + ".bias", {out});
  return l;
}

LayerNormF32 read_norm(const SafeTensorsFile& f, const std::string& prefix, int dim) {
  return {read_tensor(f, prefix + ".weight", {dim}), read_tensor(f, prefix + ".bias", {dim})};
}

void linear(const LinearF32& l, const float* x, size_t rows, float* y) {
  sgemm(rows, l.out, l.in, x, l.in, l.weight.data(), l.in, /*b_transposed=*/true, y, l.out);
  if (l.bias.empty()) return;
  for (size_t t = 0; t < rows; ++t) {
    for (int o = 0; o < l.out; ++o) y[t * l.out + o] += l.bias[o];
  }
}

void layer_norm(const LayerNormF32& n, double eps, const float* x, size_t rows, size_t dim, float* y) {
  for (size_t t = 0; t < rows; ++t) {
    const float* row = x + t * dim;
    double mean = 0, var = 0;
    for (size_t c = 0; c < dim; ++c) mean += row[c];
    mean /= static_cast<double>(dim);
    for (size_t c = 0; c < dim; ++c) var += (row[c] - mean) * (row[c] - mean);
    var /= static_cast<double>(dim);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (size_t c = 0; c < dim; ++c) {
      y[t * dim + c] = static_cast<float>((row[c] - mean) * inv * n.gamma[c] + n.beta[c]);
    }
  }
}

float gelu(float x, GeluKind kind) {
  if (kind == GeluKind::kErf) return 0.5f * x * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2)));
  const float c = std::sqrt(2.0f / static_cast<float>(M_PI));
  return 0.5f * x * (1.0f + std::tanh(c * (x + 0.044715f * x * x * x)));
}

void softmax_rows(float* x, size_t rows, size_t len) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = x + r * len;
    const float mx = *std::max_element(row, row + len);
    double sum = 0;
    for (size_t i = 0; i < len; ++i) {
      row[i] = std::exp(row[i] - mx);
      sum += row[i];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (size_t i = 0; i < len; ++i) row[i] *= inv;
  }
}

CheckpointFiles checkpoint_files(const std::filesystem::path& model_path) {
  // A missing path is named as such ("cannot open config /config.json" said nothing useful).
  if (!std::filesystem::exists(model_path)) throw Error(ErrorCode::kIo, "model not found: " + model_path.string());
  if (std::filesystem::is_directory(model_path)) return {model_path / "config.json", model_path / "model.safetensors"};
  return {model_path.parent_path() / "config.json", model_path};
}

std::vector<float> gather_patches(const uint8_t* pixels, size_t img, size_t p, const std::array<double, 3>& mean,
                                  const std::array<double, 3>& std) {
  const size_t g = img / p, kpatch = 3 * p * p;
  std::vector<float> patches(g * g * kpatch);
  for (size_t py = 0; py < g; ++py) {
    for (size_t px = 0; px < g; ++px) {
      float* dst = &patches[(py * g + px) * kpatch];
      for (size_t c = 0; c < 3; ++c) {
        for (size_t ky = 0; ky < p; ++ky) {
          for (size_t kx = 0; kx < p; ++kx) {
            const uint8_t v = pixels[((py * p + ky) * img + (px * p + kx)) * 3 + c];
            dst[(c * p + ky) * p + kx] = static_cast<float>((v / 255.0 - mean[c]) / std[c]);
          }
        }
      }
    }
  }
  return patches;
}

}  // namespace intvit::fp32
