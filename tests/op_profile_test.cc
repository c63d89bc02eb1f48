// The per-node half of OpProfile (engine/op_profile.h): once bound to a workspace's graph
// (bind_profile_nodes), every timed call of the integer ViT forward is also charged to its node —
// the per-kind totals are the sums of their nodes' times exactly — and each node adds the MACs its
// calls executed, which do not depend on the thread count or the backend.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "random_vit.h"
#include "engine/int_vit.h"
#include "engine/op_profile.h"
#include "engine/thread_pool.h"
#include "weights/calibration.h"
#include "weights/quantizer.h"

using namespace intvit;

namespace {

struct Profiled {
  OpProfile profile;
  std::vector<std::string> graph_names;
};

// Runs `n` images through int_vit_forward_batch with a profile bound to the workspace's graph.
void run_profiled(const IntViT& m, GemmIsa isa, const std::vector<uint8_t>& pixels, size_t n, int threads, Profiled& out) {
  ThreadPool pool(threads);
  IntWorkspace ws(m, threads, n);
  bind_profile_nodes(ws, out.profile);
  out.graph_names.clear();
  for (const Node& node : ws.graph().nodes) out.graph_names.push_back(node.name);
  std::vector<int32_t> logits(n * static_cast<size_t>(m.config.num_classes));
  int_vit_forward_batch(m, kernel_set(isa), n, pixels.data(), ws, logits.data(), &pool, &out.profile);
}

int64_t node_macs(const OpProfile& p, const std::string& name, OpKind kind) {
  int64_t macs = 0;
  for (size_t i = 0; i < p.nodes(); ++i) {
    if (p.node_name(i) == name && p.node_kind(i) == kind) macs += p.node_macs(i);
  }
  return macs;
}

int64_t total_macs(const OpProfile& p) {
  int64_t macs = 0;
  for (size_t i = 0; i < p.nodes(); ++i) macs += p.node_macs(i);
  return macs;
}

}  // namespace

TEST_CASE("OpProfile per node: kind totals are their nodes' sums, MACs as executed", "[op_profile]") {
  const ViTConfig c = test::tiny_config();
  const ViTWeightsF32 fp32 = random_vit(c, 99);
  const CalibrationStats stats = calibrate(fp32, random_model_inputs(c, 4, 5), ObserverKind::kMinMax);
  const auto images = random_model_inputs(c, 3, 7);
  std::vector<uint8_t> pixels;
  for (const auto& im : images) pixels.insert(pixels.end(), im.begin(), im.end());
  const size_t n = images.size(), t = static_cast<size_t>(c.num_tokens()), d = static_cast<size_t>(c.embed_dim);
  const size_t heads = static_cast<size_t>(c.num_heads), hd = d / heads, hidden = static_cast<size_t>(c.mlp_hidden());

  int64_t reference_total = -1;
  for (GemmIsa isa : kAllGemmIsas) {
    if (!gemm_isa_supported(isa)) continue;
    IntViT m = quantize_vit(fp32, stats, QuantizeOptions{});
    m.prepare(isa);
    for (int threads : {1, 2}) {
      INFO("backend " << gemm_isa_name(isa) << ", threads " << threads);
      Profiled run;
      run_profiled(m, isa, pixels, n, threads, run);
      const OpProfile& p = run.profile;
      REQUIRE(p.nodes() == run.graph_names.size());
      for (size_t i = 0; i < p.nodes(); ++i) CHECK(p.node_name(i) == run.graph_names[i]);

      // Every timed call is charged to a node: per kind, the nodes' times add up to the kind's.
      for (int k = 0; k < static_cast<int>(OpKind::kCount); ++k) {
        int64_t sum = 0;
        for (size_t i = 0; i < p.nodes(); ++i) {
          if (p.node_kind(i) == static_cast<OpKind>(k)) sum += p.node_nanoseconds(i);
        }
        CHECK(sum == p.get(static_cast<OpKind>(k)));
      }
      CHECK(p.get(OpKind::kLinear) > 0);

      // Block 0 runs every token row: its products' MACs follow from the geometry alone.
      CHECK(node_macs(p, "blocks.0.attn.q", OpKind::kLinear) == static_cast<int64_t>(n * t * d * d));
      CHECK(node_macs(p, "blocks.0.mlp.fc1", OpKind::kLinear) == static_cast<int64_t>(n * t * d * hidden));
      CHECK(node_macs(p, "blocks.0.mlp.fc2", OpKind::kLinear) == static_cast<int64_t>(n * t * hidden * d));
      CHECK(node_macs(p, "blocks.0.attn", OpKind::kQk) == static_cast<int64_t>(n * heads * t * t * hd));
      CHECK(node_macs(p, "blocks.0.attn", OpKind::kAv) == static_cast<int64_t>(n * heads * t * t * hd));
      CHECK(node_macs(p, "blocks.0.norm1", OpKind::kLayerNorm) == 0);
      // The same work whatever the backend and the split across threads.
      if (reference_total < 0) reference_total = total_macs(p);
      CHECK(total_macs(p) == reference_total);
    }
  }
  REQUIRE(reference_total > 0);
}

TEST_CASE("OpProfile per node: reset clears, binding the same nodes again keeps the counts", "[op_profile]") {
  OpProfile p;
  p.bind_nodes({"a", "b"}, {OpKind::kLinear, OpKind::kSoftmax});
  p.add_node(1, 50, 7);
  p.add_node(2, 1000, 1000);  // not a bound node: ignored
  p.add_node(-1, 1000, 1000);
  CHECK(p.node_nanoseconds(0) == 0);
  CHECK(p.node_nanoseconds(1) == 50);
  CHECK(p.node_macs(1) == 7);
  p.bind_nodes({"a", "b"}, {OpKind::kLinear, OpKind::kSoftmax});
  CHECK(p.node_nanoseconds(1) == 50);
  p.reset();
  CHECK(p.node_nanoseconds(1) == 0);
  CHECK(p.node_macs(1) == 0);
  p.bind_nodes({"a", "b", "c"}, {OpKind::kLinear, OpKind::kSoftmax, OpKind::kGelu});
  REQUIRE(p.nodes() == 3);
  CHECK(p.node_kind(2) == OpKind::kGelu);
  CHECK(p.node_macs(2) == 0);
}
