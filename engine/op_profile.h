// Optional per-op-type time accounting for the integer forward (intvit-bench's per-op shares).
// Times are thread CPU nanoseconds (CLOCK_THREAD_CPUTIME_ID: preemption by other processes is
// not charged to the op) summed over the threads that did the work, so shares stay meaningful when
// ops are split across a pool. Integer nanoseconds: no float on the inference path.
#pragma once

#include <array>
#include <atomic>
#include <ctime>
#include <cstdint>

namespace intvit {

enum class OpKind : int {
  kPatchEmbed,  // patch gather + the patch-embedding GEMM
  kLayerNorm,
  kLinear,      // q/k/v, proj, fc1, fc2 and head GEMMs (residual adds are fused into proj/fc2)
  kQk,          // q@kᵀ per head
  kSoftmax,
  kAv,          // attn@v per head, vᵀ transpose and its requantization
  kGelu,
  kCount
};

constexpr const char* op_kind_name(OpKind k) {
  constexpr const char* names[] = {"patch-embed", "layernorm", "linear", "qk", "softmax", "av", "gelu"};
  return names[static_cast<int>(k)];
}

// Accumulates across runs until reset(); safe to share between the threads of one session.
struct OpProfile {
  std::array<std::atomic<int64_t>, static_cast<size_t>(OpKind::kCount)> nanoseconds{};
  void add(OpKind k, int64_t ns) { nanoseconds[static_cast<size_t>(k)].fetch_add(ns, std::memory_order_relaxed); }
  int64_t get(OpKind k) const { return nanoseconds[static_cast<size_t>(k)].load(std::memory_order_relaxed); }
  void reset() {
    for (auto& n : nanoseconds) n.store(0, std::memory_order_relaxed);
  }
};

// Adds the lifetime of this object to `kind`; does nothing (no clock read) without a profile.
class ScopedOpTimer {
 public:
  ScopedOpTimer(OpProfile* profile, OpKind kind) : profile_(profile), kind_(kind) {
    if (profile_) start_ = thread_cpu_ns();
  }
  ~ScopedOpTimer() {
    if (profile_) profile_->add(kind_, thread_cpu_ns() - start_);
  }
  ScopedOpTimer(const ScopedOpTimer&) = delete;
  ScopedOpTimer& operator=(const ScopedOpTimer&) = delete;

 private:
  OpProfile* profile_;
  OpKind kind_;
  int64_t start_ = 0;

  static int64_t thread_cpu_ns() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
  }
};

}  // namespace intvit
