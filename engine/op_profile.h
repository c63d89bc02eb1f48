// Optional per-op-type time accounting for the integer forward (intvit-bench's per-op shares).
// Times are the nanoseconds each thread spends inside an op (CLOCK_MONOTONIC), summed over the
// threads that did the work, so shares stay meaningful when ops are split across a pool. Not the
// thread CPU clock: that is a system call (1.0 µs per read under KVM on Zen 3, against 30 ns for
// the vDSO's monotonic clock), and with a few thousand timed calls per image it made the profiled
// pass 28 % slower at batch 1, mostly inside the attention ops. Preemption by other processes is
// charged to the op instead: profile on a quiet host (intvit-bench warns when it is not).
// Integer nanoseconds: no float on the inference path.
#pragma once

#include <array>
#include <atomic>
#include <ctime>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
// Per op kind always; per graph node too once a session has bound its graph's nodes
// (bind_nodes, at session creation: the integer ViT's), so a bench can tell which layer of an
// op kind spends the time: each node's CPU time and the MACs its calls executed.
struct OpProfile {
  struct NodeSlot {
    std::atomic<int64_t> nanoseconds{0}, macs{0};
  };
  std::array<std::atomic<int64_t>, static_cast<size_t>(OpKind::kCount)> nanoseconds{};

  void add(OpKind k, int64_t ns) { nanoseconds[static_cast<size_t>(k)].fetch_add(ns, std::memory_order_relaxed); }
  int64_t get(OpKind k) const { return nanoseconds[static_cast<size_t>(k)].load(std::memory_order_relaxed); }
  // Node `node` (an index into the bound names; others are ignored) ran for ns and executed macs.
  void add_node(int node, int64_t ns, int64_t macs) {
    if (node < 0 || static_cast<size_t>(node) >= node_names_.size()) return;
    nodes_[static_cast<size_t>(node)].nanoseconds.fetch_add(ns, std::memory_order_relaxed);
    nodes_[static_cast<size_t>(node)].macs.fetch_add(macs, std::memory_order_relaxed);
  }
  // Names and op kinds of a graph's nodes, by node index. Allocates (call before running, not
  // while a session runs with this profile); binding the same nodes again keeps the counts.
  void bind_nodes(std::vector<std::string> names, std::vector<OpKind> kinds) {
    if (names == node_names_ && kinds == node_kinds_) return;
    nodes_ = std::make_unique<NodeSlot[]>(names.size());
    node_names_ = std::move(names);
    node_kinds_ = std::move(kinds);
  }
  size_t nodes() const { return node_names_.size(); }
  const std::string& node_name(size_t i) const { return node_names_[i]; }
  OpKind node_kind(size_t i) const { return node_kinds_[i]; }
  int64_t node_nanoseconds(size_t i) const { return nodes_[i].nanoseconds.load(std::memory_order_relaxed); }
  int64_t node_macs(size_t i) const { return nodes_[i].macs.load(std::memory_order_relaxed); }
  void reset() {
    for (auto& n : nanoseconds) n.store(0, std::memory_order_relaxed);
    for (size_t i = 0; i < node_names_.size(); ++i) {
      nodes_[i].nanoseconds.store(0, std::memory_order_relaxed);
      nodes_[i].macs.store(0, std::memory_order_relaxed);
    }
  }

 private:
  std::vector<std::string> node_names_;
  std::vector<OpKind> node_kinds_;
  std::unique_ptr<NodeSlot[]> nodes_;
};

// Adds the lifetime of this object to `kind` (and to graph node `node`, with the MACs given to
// add_macs); does nothing (no clock read) without a profile.
class ScopedOpTimer {
 public:
  ScopedOpTimer(OpProfile* profile, OpKind kind, int node = -1) : profile_(profile), kind_(kind), node_(node) {
    if (profile_) start_ = now_ns();
  }
  ~ScopedOpTimer() {
    if (!profile_) return;
    const int64_t ns = now_ns() - start_;
    profile_->add(kind_, ns);
    profile_->add_node(node_, ns, macs_);
  }
  void add_macs(int64_t macs) { macs_ += macs; }
  ScopedOpTimer(const ScopedOpTimer&) = delete;
  ScopedOpTimer& operator=(const ScopedOpTimer&) = delete;

 private:
  OpProfile* profile_;
  OpKind kind_;
  int node_;
  int64_t start_ = 0, macs_ = 0;

  static int64_t now_ns() {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
  }
};

}  // namespace intvit
