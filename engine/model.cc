#include "engine/model.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <numeric>

#include "engine/error.h"
#include "engine/int_vit.h"
#include "engine/session.h"
#include "engine/thread_pool.h"
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
  std::unique_ptr<Session> new_session(std::shared_ptr<const Model> self, const SessionOptions& options) const override;

 private:
  ViTWeightsF32 weights_;
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

class IntModel final : public Model {
 public:
  IntModel(IntViT model, const std::filesystem::path& source) : base_(std::move(model)) {
    config_ = base_.config;
    labels_ = base_.labels;
    source_ = source;
    default_isa_ = select_gemm_isa();
    packed(default_isa_);  // pack once at load for the default backend
  }
  std::string precision() const override { return base_.attn_bits == 4 ? "int8 (4-bit attention)" : "int8"; }
  std::vector<double> logits(const uint8_t* pixels) const override {
    const std::shared_ptr<const IntViT> net = packed(default_isa_);
    IntWorkspace ws(*net);  // per call: keeps Model::logits thread-safe; sessions reuse theirs
    std::vector<int32_t> raw(config_.num_classes);
    int_vit_forward(*net, default_isa_, pixels, ws, raw.data());
    std::vector<double> out(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) out[i] = base_.logit_scale * raw[i];
    return out;
  }
  std::unique_ptr<Session> new_session(std::shared_ptr<const Model> self, const SessionOptions& options) const override;

  GemmIsa default_isa() const { return default_isa_; }
  // The model's weights packed for `isa`, packed on first use and shared by all sessions.
  std::shared_ptr<const IntViT> packed(GemmIsa isa) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& slot = packed_[isa];
    if (!slot) {
      auto m = std::make_shared<IntViT>(base_);
      m->prepare(isa);
      m->release_plain_weights();
      slot = std::move(m);
    }
    return slot;
  }

 private:
  IntViT base_;
  GemmIsa default_isa_;
  mutable std::mutex mutex_;
  mutable std::map<GemmIsa, std::shared_ptr<const IntViT>> packed_;
};

int checked_threads(int threads) {
  if (threads < 1 || threads > 256) throw Error(ErrorCode::kInvalidArgument, "threads must be in [1, 256], got " + std::to_string(threads));
  return threads;
}

class IntSession final : public Session {
 public:
  IntSession(std::shared_ptr<const Model> owner, const IntModel& model, const SessionOptions& o)
      : owner_(std::move(owner)),
        isa_(o.backend.empty() ? model.default_isa() : parse_gemm_isa(o.backend)),
        net_(model.packed(isa_)),
        pool_(checked_threads(o.threads)),
        ws_(*net_, pool_.threads()),
        profile_(o.profile) {
    if (!gemm_isa_supported(isa_)) throw Error(ErrorCode::kUnsupported, std::string("backend not supported here: ") + gemm_isa_name(isa_));
    scratch_logits_.resize(net_->config.num_classes);
  }
  const Model& model() const override { return *owner_; }
  int threads() const override { return pool_.threads(); }
  std::string backend() const override { return gemm_isa_name(isa_); }
  size_t workspace_bytes() const override { return ws_.bytes(); }
  void run(const uint8_t* pixels, double* logits) override {
    run_int(pixels, scratch_logits_.data());
    for (size_t i = 0; i < scratch_logits_.size(); ++i) logits[i] = net_->logit_scale * scratch_logits_[i];
  }
  void run_int(const uint8_t* pixels, int32_t* logits) override {
    int_vit_forward(*net_, isa_, pixels, ws_, logits, &pool_, nullptr, profile_);
  }
  double logit_scale() const override { return net_->logit_scale; }
  // Passes of up to kBatchPerPass images, each one batched forward (int_vit_forward_batch). The
  // workspace is planned for one image at creation and re-planned once for a bigger pass the first
  // time one comes (an allocation outside the per-run path); later runs of that size allocate nothing.
  void run_batch_int(size_t n, const uint8_t* pixels, int32_t* logits) override {
    const ViTConfig& c = net_->config;
    const size_t in_bytes = static_cast<size_t>(c.image_size) * c.image_size * 3;
    const size_t pass = std::min(n, kBatchPerPass);
    if (pass > ws_.batch()) ws_ = IntWorkspace(*net_, pool_.threads(), pass);
    for (size_t i = 0; i < n; i += pass) {
      const size_t k = std::min(pass, n - i);
      int_vit_forward_batch(*net_, isa_, k, pixels + i * in_bytes, ws_, logits + i * c.num_classes, &pool_, profile_);
    }
  }

 private:
  std::shared_ptr<const Model> owner_;
  GemmIsa isa_;
  std::shared_ptr<const IntViT> net_;
  ThreadPool pool_;
  // Images per batched pass: 8 × tokens = 1576 rows per GEMM for ViT-Ti, whose linears already
  // gain little from M = 197 -> 1576 on AVX-512 VNNI (+6 % GOPS), while the batch-major arena grows
  // linearly with it (ViT-Ti: ~1 MB per image).
  static constexpr size_t kBatchPerPass = 8;
  IntWorkspace ws_;
  std::vector<int32_t> scratch_logits_;
  OpProfile* profile_;
};

std::unique_ptr<Session> IntModel::new_session(std::shared_ptr<const Model> self, const SessionOptions& options) const {
  return std::make_unique<IntSession>(std::move(self), *this, options);
}

bool is_int_model(const std::filesystem::path& p) {
  if (std::filesystem::is_directory(p)) return std::filesystem::exists(p / kIntModelFileName);
  return p.extension() == ".intvit";
}

}  // namespace

std::unique_ptr<Model> load_model(const std::filesystem::path& path, bool prefer_fp32) {
  if (!std::filesystem::exists(path)) throw Error(ErrorCode::kIo, "model not found: " + path.string());
  const bool has_fp32 = std::filesystem::is_directory(path) ? std::filesystem::exists(path / "model.safetensors")
                                                            : path.extension() == ".safetensors";
  if (is_int_model(path) && !(prefer_fp32 && has_fp32)) return std::make_unique<IntModel>(load_int_model(path), path);
  return std::make_unique<Fp32Model>(path);
}

std::unique_ptr<Model> load_int_model_buffer(const void* data, size_t size) {
  if (!data || size == 0) throw Error(ErrorCode::kInvalidArgument, "empty model buffer");
  return std::make_unique<IntModel>(load_int_model_from_buffer(data, size), "<memory>");
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
