#include "weights/bias_correction.h"

#include <cmath>
#include <map>
#include <string>

#include "kernels/error.h"

namespace intvit {
namespace {

// Per-channel means of the integer activations (dequantized) over a set of images.
using Means = std::map<std::string, std::vector<double>>;

Means integer_means(const IntViT& m, GemmIsa isa, const std::vector<std::vector<uint8_t>>& images) {
  std::map<std::string, std::pair<std::vector<double>, double>> sums;
  const IntActivationObserver observe = [&](std::string_view name, const IntActivation& a) {
    auto& [sum, rows] = sums[std::string(name)];
    sum.resize(a.cols, 0.0);
    rows += static_cast<double>(a.rows);
    for (size_t r = 0; r < a.rows; ++r) {
      for (size_t c = 0; c < a.cols; ++c) sum[c] += a.real(r, c);
    }
  };
  IntWorkspace ws(m);
  std::vector<int32_t> logits(m.config.num_classes);
  const KernelSet kernels = kernel_set(isa);
  for (const auto& image : images) int_vit_forward(m, kernels, image.data(), ws, logits.data(), nullptr, &observe);
  Means means;
  for (auto& [name, sr] : sums) {
    for (double& v : sr.first) v /= sr.second;
    means[name] = std::move(sr.first);
  }
  return means;
}

std::vector<double> fp32_means(const CalibrationStats& s, const std::string& name) {
  const TensorRange& r = s.at(name);
  std::vector<double> m(r.channel_sum.size());
  for (size_t c = 0; c < m.size(); ++c) m[c] = r.channel_mean(c);
  return m;
}

std::vector<double> minus(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

// bias[n] += round(delta[n] / (s_in · s_w[n])): delta is the output's mean error in real units.
void apply(QLinear& l, const std::vector<double>& delta, double gain, GemmIsa isa) {
  if (l.weight_scale.size() != static_cast<size_t>(l.out) || delta.size() != static_cast<size_t>(l.out)) {
    throw Error(ErrorCode::kInternal, "bias correction: layer and statistics disagree in size");
  }
  for (int n = 0; n < l.out; ++n) {
    const double b = static_cast<double>(l.bias[n]) + std::round(gain * delta[n] / (l.input.scale * l.weight_scale[n]));
    l.bias[n] = static_cast<int32_t>(std::clamp(b, -2147483647.0, 2147483647.0));
  }
  l.prepare(isa);
}

}  // namespace

// Which layers: those whose output mean enters the network linearly — the patch embedding, v
// (attention averages it), proj and fc2 (added to the residual), fc1 (GELU input) and the head.
// q and k are left alone: a per-channel shift of q or k changes attention logits non-linearly,
// and correcting their means made agreement worse in our measurements.
void correct_biases(IntViT& m, const CalibrationStats& fp, const std::vector<std::vector<uint8_t>>& images,
                    const std::function<void(int, int)>& progress) {
  const GemmIsa isa = resolve_backend("");
  m.prepare(isa);
  const int depth = static_cast<int>(m.blocks.size());
  const double tokens = m.config.num_tokens(), prefix = m.config.num_prefix_tokens();
  // One layer per stage, in network order, re-measuring in between: a layer's measured error
  // already contains the errors of the layers before it, so correcting two chained layers from
  // one measurement would count the upstream error twice.
  struct Stage {
    QLinear* layer;
    std::function<std::vector<double>(const Means&)> error;  // mean output error, real units
    double gain = 1.0;
  };
  std::vector<Stage> stages;
  auto delta_of = [&fp](const std::string& name) {
    return [&fp, name](const Means& q) { return minus(fp32_means(fp, name), q.at(name)); };
  };
  auto residual_step = [&fp](const std::string& before, const std::string& after) {
    return [&fp, before, after](const Means& q) {
      return minus(minus(fp32_means(fp, after), q.at(after)), minus(fp32_means(fp, before), q.at(before)));
    };
  };
  // The prefix-token rows of "embed" are exact (class token + position), so the patch rows carry
  // the whole mean error: scale the all-rows mean up by T / (T − prefix).
  stages.push_back({&m.patch_embed, delta_of("embed"), tokens / (tokens - prefix)});
  for (int i = 0; i < depth; ++i) {
    QBlock& b = m.blocks[i];
    const std::string n = "blocks." + std::to_string(i);
    stages.push_back({&b.v, delta_of(n + ".attn.v")});
    stages.push_back({&b.proj, residual_step(n + ".norm1.in", n + ".norm2.in")});
    if (b.gelu_in.bits == 8) stages.push_back({&b.fc1, delta_of(n + ".mlp.fc1.out")});
    // The final norm only sees the class token, so the last fc2 has no all-token measurement.
    if (i + 1 < depth) stages.push_back({&b.fc2, residual_step(n + ".norm2.in", "blocks." + std::to_string(i + 1) + ".norm1.in")});
  }
  stages.push_back({&m.head, delta_of("logits")});
  const int count = static_cast<int>(stages.size());
  for (int s = 0; s < count; ++s) {
    apply(*stages[s].layer, stages[s].error(integer_means(m, isa, images)), stages[s].gain, isa);
    if (progress) progress(s + 1, count);
  }
}

}  // namespace intvit
