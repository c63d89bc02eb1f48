#include "engine/model.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.h"
#include "engine/int_vit.h"
#include "models/vit_fp32.h"
#include "weights/int_model_file.h"

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

class IntModel final : public Model {
 public:
  explicit IntModel(const std::filesystem::path& path) : model_(load_int_model(path)), isa_(select_gemm_isa()) {
    model_.prepare(isa_);
    config_ = model_.config;
    labels_ = model_.labels;
    source_ = path;
  }
  std::string precision() const override { return model_.attn_bits == 4 ? "int8 (4-bit attention)" : "int8"; }
  std::vector<double> logits(const uint8_t* pixels) const override {
    IntWorkspace ws(config_);  // per call: keeps Model::logits thread-safe; sessions reuse theirs
    std::vector<int32_t> raw(config_.num_classes);
    int_vit_forward(model_, isa_, pixels, ws, raw.data());
    std::vector<double> out(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) out[i] = model_.logit_scale * raw[i];
    return out;
  }

 private:
  IntViT model_;
  GemmIsa isa_;
};

bool is_int_model(const std::filesystem::path& p) {
  if (std::filesystem::is_directory(p)) return std::filesystem::exists(p / kIntModelFileName);
  return p.extension() == ".intvit";
}

}  // namespace

std::unique_ptr<Model> load_model(const std::filesystem::path& path, bool prefer_fp32) {
  if (!std::filesystem::exists(path)) throw Error(ErrorCode::kIo, "model not found: " + path.string());
  const bool has_fp32 = std::filesystem::is_directory(path) ? std::filesystem::exists(path / "model.safetensors")
                                                            : path.extension() == ".safetensors";
  if (is_int_model(path) && !(prefer_fp32 && has_fp32)) return std::make_unique<IntModel>(path);
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
