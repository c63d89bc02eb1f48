#include "engine/model.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.h"
#include "models/vit_fp32.h"

namespace intvit {
namespace {

class Fp32Model final : public Model {
 public:
  explicit Fp32Model(const std::filesystem::path& path) : weights_(load_vit_f32(path)) {
    config_ = weights_.config;
    source_ = path;
    const auto dir = std::filesystem::is_directory(path) ? path : path.parent_path();
    labels_ = load_labels(dir, config_.num_classes);
  }
  std::string precision() const override { return "fp32"; }
  std::vector<double> logits(const uint8_t* pixels) const override {
    const std::vector<float> l = vit_forward_f32(weights_, pixels);
    return {l.begin(), l.end()};
  }

 private:
  ViTWeightsF32 weights_;
};

}  // namespace

std::unique_ptr<Model> load_model(const std::filesystem::path& path, bool /*prefer_fp32*/) {
  if (!std::filesystem::exists(path)) throw Error(ErrorCode::kIo, "model not found: " + path.string());
  return std::make_unique<Fp32Model>(path);
}

std::vector<Prediction> top_k(const std::vector<double>& logits, const std::vector<std::string>& labels, int k) {
  const size_t n = logits.size();
  const size_t kk = std::min(n, static_cast<size_t>(std::max(k, 0)));
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + kk, order.end(), [&](size_t a, size_t b) {
    return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
  });
  const double mx = n ? *std::max_element(logits.begin(), logits.end()) : 0;
  double sum = 0;
  for (double l : logits) sum += std::exp(l - mx);
  std::vector<Prediction> out;
  for (size_t i = 0; i < kk; ++i) {
    const size_t c = order[i];
    out.push_back({static_cast<int>(c), std::exp(logits[c] - mx) / sum, c < labels.size() ? labels[c] : ""});
  }
  return out;
}

}  // namespace intvit
