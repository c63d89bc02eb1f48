#include "weights/layernorm_reparam.h"

#include <algorithm>
#include <string>

#include "kernels/error.h"

namespace intvit {
namespace {

void reparameterize(LayerNormF32& norm, LinearF32& next, const TensorRange& range, const std::string& name) {
  const size_t d = norm.gamma.size();
  if (range.channel_min.size() != d || range.channel_max.size() != d || static_cast<size_t>(next.in) != d) {
    throw Error(ErrorCode::kInternal, "layernorm reparameterization: " + name + " statistics do not match the model");
  }
  double mean_range = 0, mean_min = 0;
  for (size_t c = 0; c < d; ++c) {
    mean_range += range.channel_max[c] - range.channel_min[c];
    mean_min += range.channel_min[c];
  }
  mean_range /= static_cast<double>(d);
  mean_min /= static_cast<double>(d);
  if (!(mean_range > 0)) return;  // constant output: nothing to equalize
  std::vector<double> r(d), a(d);
  for (size_t c = 0; c < d; ++c) {
    // Floor: a channel that never varied keeps a sane factor instead of an enormous γ'.
    r[c] = std::max(range.channel_max[c] - range.channel_min[c], 1e-3 * mean_range) / mean_range;
    a[c] = range.channel_min[c] - mean_min * r[c];
  }
  for (int n = 0; n < next.out; ++n) {
    float* w = &next.weight[static_cast<size_t>(n) * d];
    double shift = 0;
    for (size_t c = 0; c < d; ++c) {
      shift += static_cast<double>(w[c]) * a[c];
      w[c] = static_cast<float>(w[c] * r[c]);
    }
    next.bias[n] = static_cast<float>(next.bias[n] + shift);
  }
  for (size_t c = 0; c < d; ++c) {
    norm.gamma[c] = static_cast<float>(norm.gamma[c] / r[c]);
    norm.beta[c] = static_cast<float>((norm.beta[c] - a[c]) / r[c]);
  }
}

}  // namespace

ViTWeightsF32 reparameterize_layernorms(const ViTWeightsF32& model, const CalibrationStats& stats) {
  ViTWeightsF32 out = model;
  for (size_t i = 0; i < out.blocks.size(); ++i) {
    BlockF32& b = out.blocks[i];
    const std::string prefix = "blocks." + std::to_string(i);
    reparameterize(b.norm1, b.qkv, stats.at(prefix + ".norm1.out"), prefix + ".norm1");
    reparameterize(b.norm2, b.fc1, stats.at(prefix + ".norm2.out"), prefix + ".norm2");
  }
  return out;
}

}  // namespace intvit
