// Liveness-based arena planning (engine/graph.h, "Memory plan"): greedy by size, first fit, the
// idea of TFLite's ArenaPlanner. Runs once per session; integer only (checked by tests/no_float).
#include <algorithm>
#include <climits>

#include "engine/graph.h"

namespace intvit {
namespace {

size_t align_up(size_t n) { return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

bool planned(const TensorDesc& t) { return t.kind == Lifetime::kActivation || t.kind == Lifetime::kScratch; }

// The tensor owning the storage of `id` (following aliases) and the row `id` starts at in it.
std::pair<int, size_t> storage_of(const Graph& g, int id) {
  size_t row = 0;
  while (g.tensors[id].alias >= 0) {
    row += g.tensors[id].alias_row;
    id = g.tensors[id].alias;
  }
  return {id, row};
}

size_t storage_bytes(const TensorDesc& t, int threads, size_t batch) {
  if (t.kind == Lifetime::kScratch) return align_up(t.bytes()) * static_cast<size_t>(threads);
  return align_up(t.bytes() * batch);  // batch-major: image copies back to back, no padding between
}

}  // namespace

size_t unplanned_bytes(const Graph& g, int threads, size_t batch) {
  size_t n = 0;
  for (const TensorDesc& t : g.tensors) {
    if (planned(t) && t.alias < 0) n += storage_bytes(t, std::max(threads, 1), std::max<size_t>(batch, 1));
  }
  return n;
}

MemoryPlan plan_memory(const Graph& g, const std::vector<Segment>& segments, int threads, size_t batch) {
  threads = std::max(threads, 1);
  batch = std::max<size_t>(batch, 1);
  const size_t nt = g.tensors.size();
  // Lifetime of each storage: the segments that touch it through any of its aliases.
  std::vector<int> first(nt, INT_MAX), last(nt, -1);
  for (size_t s = 0; s < segments.size(); ++s) {
    for (int i = segments[s].begin; i < segments[s].end; ++i) {
      for (const std::vector<int>* ids : {&g.nodes[i].inputs, &g.nodes[i].outputs}) {
        for (int id : *ids) {
          const int root = storage_of(g, id).first;
          first[root] = std::min(first[root], static_cast<int>(s));
          last[root] = std::max(last[root], static_cast<int>(s));
        }
      }
    }
  }
  std::vector<int> order;
  for (size_t i = 0; i < nt; ++i) {
    if (planned(g.tensors[i]) && g.tensors[i].alias < 0 && last[i] >= 0) order.push_back(static_cast<int>(i));
  }
  // Largest first (they are the hardest to fit); ties by first use, then id, so plans are stable.
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const size_t sa = storage_bytes(g.tensors[a], threads, batch), sb = storage_bytes(g.tensors[b], threads, batch);
    return sa != sb ? sa > sb : first[a] != first[b] ? first[a] < first[b] : a < b;
  });

  MemoryPlan plan;
  plan.offset.assign(nt, kNotPlanned);
  plan.thread_stride.assign(nt, 0);
  plan.image_stride.assign(nt, 0);
  plan.batch = batch;
  struct Placed {
    size_t offset, bytes;
    int first, last;
  };
  std::vector<Placed> placed, live;
  for (int id : order) {
    const size_t bytes = storage_bytes(g.tensors[id], threads, batch);
    live.clear();
    for (const Placed& p : placed) {
      if (p.first <= last[id] && first[id] <= p.last) live.push_back(p);
    }
    std::sort(live.begin(), live.end(), [](const Placed& a, const Placed& b) { return a.offset < b.offset; });
    // First gap between the storages alive at the same time that is large enough.
    size_t offset = 0;
    for (const Placed& p : live) {
      if (offset + bytes <= p.offset) break;
      offset = std::max(offset, p.offset + p.bytes);
    }
    placed.push_back({offset, bytes, first[id], last[id]});
    plan.offset[id] = offset;
    if (g.tensors[id].kind == Lifetime::kScratch) plan.thread_stride[id] = align_up(g.tensors[id].bytes());
    plan.bytes = std::max(plan.bytes, offset + bytes);
  }
  for (size_t i = 0; i < nt; ++i) {
    if (g.tensors[i].alias < 0) continue;
    const auto [root, row] = storage_of(g, static_cast<int>(i));
    if (plan.offset[root] != kNotPlanned) plan.offset[i] = plan.offset[root] + row * g.tensors[i].row_bytes();
  }
  for (size_t i = 0; i < nt; ++i) {
    const int root = storage_of(g, static_cast<int>(i)).first;
    if (g.tensors[root].kind == Lifetime::kActivation && plan.offset[i] != kNotPlanned) plan.image_stride[i] = g.tensors[root].bytes();
  }
  return plan;
}

}  // namespace intvit
