#include "engine/model.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/int_model.h"
#include "engine/session.h"
#include "engine/swin_config.h"
#include "kernels/error.h"

#include "models/swin_fp32.h"
#include "models/vit_fp32.h"
#include "weights/int_model_file.h"
#include "weights/int_model_reader.h"

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
  std::unique_ptr<Session> new_session(std::shared_ptr<const Model> self, const SessionOptions& options) const override;

 private:
  ViTWeightsF32 weights_;
};

// An FP32 Swin (models/swin_fp32.h); config() is its preprocessing view (swin_model_view).
class Fp32SwinModel final : public Model {
 public:
  explicit Fp32SwinModel(const std::filesystem::path& path) : weights_(load_swin_f32(path)) {
    config_ = swin_model_view(weights_.config);
    source_ = path;
    labels_ = load_labels(std::filesystem::is_directory(path) ? path : path.parent_path(), config_.num_classes);
  }
  std::string precision() const override { return "fp32"; }
  std::vector<double> logits(const uint8_t* pixels) const override {
    const std::vector<float> l = swin_forward_f32(weights_, pixels);
    return {l.begin(), l.end()};
  }
  std::unique_ptr<Session> new_session(std::shared_ptr<const Model> self, const SessionOptions& options) const override;

 private:
  SwinWeightsF32 weights_;
};

class Fp32Session final : public Session {
 public:
  Fp32Session(std::shared_ptr<const Model> model) : model_(std::move(model)) {}
  const Model& model() const override { return *model_; }
  int threads() const override { return 1; }
  std::string backend() const override { return "fp32"; }
  size_t workspace_bytes() const override { return 0; }
  void run(const uint8_t* pixels, double* logits) override {
    const std::vector<double> l = model_->logits(pixels);
    std::copy(l.begin(), l.end(), logits);
  }
  void run_int(const uint8_t*, int32_t*) override { throw Error(ErrorCode::kUnsupported, "an FP32 model has no integer logits"); }
  double logit_scale() const override { return 1.0; }
  void run_batch_int(size_t, const uint8_t*, int32_t*) override { run_int(nullptr, nullptr); }

 private:
  std::shared_ptr<const Model> model_;
};

std::unique_ptr<Session> Fp32Model::new_session(std::shared_ptr<const Model> self, const SessionOptions&) const {
  return std::make_unique<Fp32Session>(std::move(self));
}

std::unique_ptr<Session> Fp32SwinModel::new_session(std::shared_ptr<const Model> self, const SessionOptions&) const {
  return std::make_unique<Fp32Session>(std::move(self));
}

// Either integer family, by the file's graph "architecture".
std::unique_ptr<Model> make_int_model_from(const SafeTensorsFile& file, const std::filesystem::path& source) {
  if (is_int_swin_model(file)) return make_int_model(read_int_swin_model(file), source);
  return make_int_model(read_int_model(file), source);
}

bool is_int_model(const std::filesystem::path& p) {
  if (std::filesystem::is_directory(p)) return std::filesystem::exists(p / kIntModelFileName);
  return p.extension() == ".intvit";
}

}  // namespace

void dequantize_logits(const int32_t* logits, size_t n, double scale, double* out) {
  for (size_t i = 0; i < n; ++i) out[i] = scale * logits[i];
}

std::unique_ptr<Model> load_model(const std::filesystem::path& path, bool prefer_fp32) {
  if (!std::filesystem::exists(path)) throw Error(ErrorCode::kIo, "model not found: " + path.string());
  const bool has_fp32 = std::filesystem::is_directory(path) ? std::filesystem::exists(path / "model.safetensors")
                                                            : path.extension() == ".safetensors";
  if (is_int_model(path) && !(prefer_fp32 && has_fp32)) {
    return make_int_model_from(SafeTensorsFile::open(std::filesystem::is_directory(path) ? path / kIntModelFileName : path), path);
  }
  if (config_file_is_swin(fp32::checkpoint_files(path).config)) return std::make_unique<Fp32SwinModel>(path);
  return std::make_unique<Fp32Model>(path);
}

std::unique_ptr<Model> load_int_model_buffer(const void* data, size_t size) {
  if (!data || size == 0) throw Error(ErrorCode::kInvalidArgument, "empty model buffer");
  return make_int_model_from(SafeTensorsFile::from_buffer(data, size), "<memory>");
}

std::unique_ptr<Session> create_session(std::shared_ptr<const Model> model, const SessionOptions& options) {
  if (!model) throw Error(ErrorCode::kInvalidArgument, "create_session: no model");
  const Model* m = model.get();
  return m->new_session(std::move(model), options);
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
