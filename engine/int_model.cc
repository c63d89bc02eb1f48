// The integer model and its sessions: loading packs the weights per backend, a session resolves its
// backend once into a KernelSet and runs the integer forward. Integer only (tests/no_float scans
// this object): the real-valued logits are produced by dequantize_logits in engine/model.cc.
#include <algorithm>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/int_model.h"
#include "engine/int_swin.h"
#include "engine/int_vit.h"
#include "engine/session.h"
#include "engine/thread_pool.h"
#include "kernels/error.h"

namespace intvit {
namespace {

// The geometry a Model reports (Model::config) for each family.
ViTConfig model_view(const IntViT& m) { return m.config; }
ViTConfig model_view(const IntSwin& m) { return swin_model_view(m.config); }

// What both integer families share: the model's weights packed per backend on first use (the
// default backend at load) and shared by all sessions; Model::logits on a per-call workspace.
template <class Net>
class PackedIntModel : public Model {
 public:
  std::string precision() const override { return base_.attn_bits == 4 ? "int8 (4-bit attention)" : "int8"; }
  GemmIsa default_isa() const { return default_isa_; }
  std::shared_ptr<const Net> packed(GemmIsa isa) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& slot = packed_[isa];
    if (!slot) {
      auto m = std::make_shared<Net>(base_);
      m->prepare(isa);
      m->release_plain_weights();
      slot = std::move(m);
    }
    return slot;
  }

 protected:
  PackedIntModel(Net model, const std::filesystem::path& source) : base_(std::move(model)) {
    config_ = model_view(base_);
    labels_ = base_.labels;
    source_ = source;
    default_isa_ = resolve_backend("");
    packed(default_isa_);  // pack once at load for the default backend
  }
  // forward(net, kernels, raw logits) on the default backend; a workspace per call keeps
  // Model::logits thread-safe (sessions reuse theirs).
  template <class Forward>
  std::vector<double> dequantized_logits(Forward&& forward) const {
    std::vector<int32_t> raw(static_cast<size_t>(config_.num_classes));
    forward(*packed(default_isa_), kernel_set(default_isa_), raw.data());
    std::vector<double> out(raw.size());
    dequantize_logits(raw.data(), raw.size(), base_.logit_scale, out.data());
    return out;
  }

  Net base_;

 private:
  GemmIsa default_isa_;
  mutable std::mutex mutex_;
  mutable std::map<GemmIsa, std::shared_ptr<const Net>> packed_;
};

class IntModel final : public PackedIntModel<IntViT> {
 public:
  IntModel(IntViT model, const std::filesystem::path& source) : PackedIntModel(std::move(model), source) {}
  std::vector<double> logits(const uint8_t* pixels) const override {
    return dequantized_logits([&](const IntViT& net, const KernelSet& k, int32_t* raw) {
      IntWorkspace ws(net);
      int_vit_forward(net, k, pixels, ws, raw);
    });
  }
  std::unique_ptr<Session> new_session(std::shared_ptr<const Model> self, const SessionOptions& options) const override;
};

int checked_threads(int threads) {
  if (threads < 1 || threads > 256) throw Error(ErrorCode::kInvalidArgument, "threads must be in [1, 256], got " + std::to_string(threads));
  return threads;
}

// What both families' sessions share: the backend resolved once into a KernelSet, the model packed
// for it, a thread pool and a workspace; run() dequantizes run_int's logits.
template <class Net, class Workspace>
class PackedIntSession : public Session {
 public:
  const Model& model() const override { return *owner_; }
  int threads() const override { return pool_.threads(); }
  std::string backend() const override { return gemm_isa_name(isa_); }
  void run(const uint8_t* pixels, double* logits) override {
    run_int(pixels, scratch_logits_.data());
    dequantize_logits(scratch_logits_.data(), scratch_logits_.size(), net_->logit_scale, logits);
  }
  double logit_scale() const override { return net_->logit_scale; }

 protected:
  PackedIntSession(std::shared_ptr<const Model> owner, const PackedIntModel<Net>& model, const SessionOptions& o)
      : owner_(std::move(owner)),
        isa_(o.backend.empty() ? model.default_isa() : resolve_backend(o.backend)),
        kernels_(kernel_set(isa_)),
        net_(model.packed(isa_)),
        pool_(checked_threads(o.threads)),
        ws_(*net_, pool_.threads()),
        scratch_logits_(static_cast<size_t>(net_->config.num_classes)),
        profile_(o.profile) {}

  std::shared_ptr<const Model> owner_;
  GemmIsa isa_;
  KernelSet kernels_;  // every kernel this session runs, resolved once from its backend
  std::shared_ptr<const Net> net_;
  ThreadPool pool_;
  Workspace ws_;
  std::vector<int32_t> scratch_logits_;
  OpProfile* profile_;
};

class IntSession final : public PackedIntSession<IntViT, IntWorkspace> {
 public:
  IntSession(std::shared_ptr<const Model> owner, const IntModel& model, const SessionOptions& o) : PackedIntSession(std::move(owner), model, o) {
    if (profile_) bind_profile_nodes(ws_, *profile_);
  }
  size_t workspace_bytes() const override {
    size_t bytes = ws_.bytes();
    for (const IntWorkspace& w : thread_ws_) bytes += w.bytes();
    return bytes;
  }
  void run_int(const uint8_t* pixels, int32_t* logits) override {
    int_vit_forward(*net_, kernels_, pixels, ws_, logits, &pool_, nullptr, profile_);
  }
  // With several threads, the images of whole rounds (n - n mod threads) are split into one
  // contiguous share per thread, and each thread runs its share as single-threaded batched passes
  // on its own workspace (thread 0 on ws_): the weights are still read once per pass (as when
  // threads split a pass's rows, each thread reads every weight), but the threads never meet inside
  // a forward (a pass has 1 + 2·depth parallel steps, and on a shared host a preempted thread
  // stalls each). The rest, and every batch on one thread, runs as passes of up to kBatchPerPass
  // images on the whole pool (int_vit_forward_batch). Every path gives run_int's bits (the executor
  // computes each row independently). The first batch bigger than any before plans the workspaces
  // for every batch up to its size (an allocation outside the per-run path, plan_batches); later
  // batches of that size or smaller allocate nothing.
  void run_batch_int(size_t n, const uint8_t* pixels, int32_t* logits) override {
    plan_batches(n);
    const size_t threads = static_cast<size_t>(pool_.threads());
    const size_t share = threads > 1 ? n / threads : 0;  // images per thread in whole rounds
    if (share > 0) {
      const size_t pass = std::min(share, kBatchPerPass);
      pool_.run_on_each_thread([&](size_t part, int thread) {
        const size_t first = part * share;
        IntWorkspace& ws = thread == 0 ? ws_ : thread_ws_[static_cast<size_t>(thread) - 1];
        run_passes(share, pixels + first * input_bytes(), logits + first * classes(), ws, pass, nullptr);
      });
    }
    const size_t done = share * threads;
    if (done < n) {
      run_passes(n - done, pixels + done * input_bytes(), logits + done * classes(), ws_, std::min(n - done, kBatchPerPass), &pool_);
    }
  }

 private:
  // Images per batched pass: 8 × tokens = 1576 rows per GEMM for ViT-Ti, whose linears already
  // gain little from M = 197 -> 1576 on AVX-512 VNNI (+6 % GOPS), while the batch-major arena grows
  // linearly with it (ViT-Ti: ~1 MB per image).
  static constexpr size_t kBatchPerPass = 8;

  size_t input_bytes() const { return static_cast<size_t>(net_->config.image_size) * net_->config.image_size * 3; }
  size_t classes() const { return static_cast<size_t>(net_->config.num_classes); }
  // Makes the workspaces hold the passes of every batch of up to n images: a thread's share is at
  // most min(n / threads, 8) images (thread 0's on ws_), the rest on the whole pool (ws_) at most
  // min(n, threads - 1, 8) with several threads and min(n, 8) with one. A failed allocation leaves
  // the session as it was (planned_ unchanged), so the next batch plans again.
  void plan_batches(size_t n) {
    if (n <= planned_) return;
    const size_t threads = static_cast<size_t>(pool_.threads());
    const size_t share = threads > 1 ? std::min(n / threads, kBatchPerPass) : 0;
    const size_t rest = std::min({n, threads > 1 ? threads - 1 : n, kBatchPerPass});
    if (const size_t images = std::max(share, rest); images > ws_.batch()) {
      IntWorkspace grown(*net_, pool_.threads(), images);
      if (profile_) bind_profile_nodes(grown, *profile_);  // the same nodes: keeps the counts
      ws_ = std::move(grown);
    }
    if (share > 0 && (thread_ws_.size() + 1 < threads || thread_ws_.front().batch() < share)) {
      std::deque<IntWorkspace> grown;
      for (size_t t = 1; t < threads; ++t) {
        grown.emplace_back(*net_, 1, share);
        if (profile_) bind_profile_nodes(grown.back(), *profile_);
      }
      thread_ws_ = std::move(grown);
    }
    planned_ = n;
  }
  // n images as passes of up to `pass` images on ws (and pool, if given).
  void run_passes(size_t n, const uint8_t* pixels, int32_t* logits, IntWorkspace& ws, size_t pass, ThreadPool* pool) {
    for (size_t i = 0; i < n; i += pass) {
      const size_t k = std::min(pass, n - i);
      int_vit_forward_batch(*net_, kernels_, k, pixels + i * input_bytes(), ws, logits + i * classes(), pool, profile_);
    }
  }

  std::deque<IntWorkspace> thread_ws_;  // run_batch_int's single-thread workspaces of threads 1..
  size_t planned_ = 1;                  // the workspaces hold every batch of up to this many images
};

std::unique_ptr<Session> IntModel::new_session(std::shared_ptr<const Model> self, const SessionOptions& options) const {
  return std::make_unique<IntSession>(std::move(self), *this, options);
}

// The integer Swin: the same packing per backend and session shape; a batch runs whole images one
// per thread (int_swin_forward per image: each is the bits of run_int, whatever thread runs it).
class IntSwinModel final : public PackedIntModel<IntSwin> {
 public:
  IntSwinModel(IntSwin model, const std::filesystem::path& source) : PackedIntModel(std::move(model), source) {}
  std::vector<double> logits(const uint8_t* pixels) const override {
    return dequantized_logits([&](const IntSwin& net, const KernelSet& k, int32_t* raw) {
      SwinWorkspace ws(net);
      int_swin_forward(net, k, pixels, ws, raw);
    });
  }
  std::unique_ptr<Session> new_session(std::shared_ptr<const Model> self, const SessionOptions& options) const override;
};

class IntSwinSession final : public PackedIntSession<IntSwin, SwinWorkspace> {
 public:
  IntSwinSession(std::shared_ptr<const Model> owner, const IntSwinModel& model, const SessionOptions& o) : PackedIntSession(std::move(owner), model, o) {}
  size_t workspace_bytes() const override {
    size_t bytes = ws_.bytes();
    for (const SwinWorkspace& w : image_ws_) bytes += w.bytes();
    return bytes;
  }
  void run_int(const uint8_t* pixels, int32_t* logits) override {
    int_swin_forward(*net_, kernels_, pixels, ws_, logits, &pool_, nullptr, profile_);
  }
  // Whole images one per thread, each a single-threaded forward on that thread's own workspace:
  // no barrier inside an image (a Swin-T forward has ~40 parallel steps, and on a shared host a
  // preempted worker stalls every one of them), while the images keep the bits of run_int. The
  // images left over after whole rounds (n mod threads) run one at a time on the whole pool.
  void run_batch_int(size_t n, const uint8_t* pixels, int32_t* logits) override {
    const SwinConfig& c = net_->config;
    const size_t in_bytes = static_cast<size_t>(c.image_size) * c.image_size * 3, classes = static_cast<size_t>(c.num_classes);
    const size_t threads = static_cast<size_t>(pool_.threads()), per_thread = threads > 1 ? n / threads * threads : 0;
    if (per_thread > 0) {
      // First such batch: one single-thread workspace per worker (thread 0 uses ws_'s first tiles).
      while (image_ws_.size() + 1 < threads) image_ws_.emplace_back(*net_, 1);
      pool_.parallel_for(per_thread, [&](size_t i, int thread) {
        SwinWorkspace& ws = thread == 0 ? ws_ : image_ws_[static_cast<size_t>(thread) - 1];
        int_swin_forward(*net_, kernels_, pixels + i * in_bytes, ws, logits + i * classes, nullptr, nullptr, profile_);
      });
    }
    for (size_t i = per_thread; i < n; ++i) run_int(pixels + i * in_bytes, logits + i * classes);
  }

 private:
  std::deque<SwinWorkspace> image_ws_;  // run_batch_int's workspaces of threads 1.., made on first use
};

std::unique_ptr<Session> IntSwinModel::new_session(std::shared_ptr<const Model> self, const SessionOptions& options) const {
  return std::make_unique<IntSwinSession>(std::move(self), *this, options);
}

}  // namespace

std::unique_ptr<Model> make_int_model(IntViT model, const std::filesystem::path& source) {
  return std::make_unique<IntModel>(std::move(model), source);
}

std::unique_ptr<Model> make_int_model(IntSwin model, const std::filesystem::path& source) {
  return std::make_unique<IntSwinModel>(std::move(model), source);
}

}  // namespace intvit
