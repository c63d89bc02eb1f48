// The graph IR (engine/graph.h): validation errors, the ViT schedule (two pool meetings per block),
// the memory planner's invariants on hand-made, random and ViT graphs, and the integer workspace
// built on them (observer names, misuse errors). Bit-identity of the executor across backends,
// threads and batches is tests/int_engine_test.cc's job.
#include <algorithm>
#include <climits>
#include <cstdio>
#include <random>

#include "random_vit.h"
#include "kernels/error.h"
#include "engine/graph.h"
#include "engine/int_vit.h"
#include "engine/thread_pool.h"
#include "engine/vit_graph.h"
#include "test_support.h"
#include "weights/calibration.h"
#include "weights/quantizer.h"

using namespace intvit;
using intvit::test::tiny_config;

namespace {

// Terse hand-made graphs: tensors default to u8 [4][8] activations, nodes to a 4-row domain.
struct Builder {
  Graph g;
  int tensor(const std::string& name, size_t rows = 4, size_t cols = 8, Lifetime kind = Lifetime::kActivation,
             ElemType dtype = ElemType::kU8) {
    TensorDesc t;
    t.name = name;
    t.rows = rows;
    t.cols = cols;
    t.kind = kind;
    t.dtype = dtype;
    return g.add(t);
  }
  int alias(const std::string& name, int of, size_t rows, size_t row = 0) {
    TensorDesc t = g.tensors[of];
    t.name = name;
    t.rows = rows;
    t.alias = of;
    t.alias_row = row;
    return g.add(t);
  }
  void node(OpType op, std::vector<int> in, int out, size_t rows = 4, bool accumulate = false) {
    g.add(Node{op, op_name(op), std::move(in), {out}, -1, Param::kNone, accumulate, rows});
  }
};

// "t3" (appended, not "t" + to_string: GCC 12's -Wrestrict misfires on that).
std::string numbered(const char* prefix, int i) {
  std::string s = prefix;
  s += std::to_string(i);
  return s;
}

ViTConfig vit_tiny_config() {
  ViTConfig c;  // the defaults are ViT-Ti/16 at 224
  c.num_classes = 1000;
  return c;
}

// Lifetimes recomputed independently of the planner: [first, last] segment of each storage.
std::vector<std::pair<int, int>> lifetimes(const Graph& g, const std::vector<Segment>& segments) {
  std::vector<std::pair<int, int>> life(g.tensors.size(), {INT_MAX, -1});
  for (size_t s = 0; s < segments.size(); ++s) {
    for (int i = segments[s].begin; i < segments[s].end; ++i) {
      for (const auto* ids : {&g.nodes[i].inputs, &g.nodes[i].outputs}) {
        for (int id : *ids) {
          while (g.tensors[id].alias >= 0) id = g.tensors[id].alias;
          life[id].first = std::min(life[id].first, static_cast<int>(s));
          life[id].second = std::max(life[id].second, static_cast<int>(s));
        }
      }
    }
  }
  return life;
}

// The planner's contract: storages alive in a common segment never share a byte (per-thread copies
// included), offsets are 64-byte aligned and inside the arena, aliases sit inside their target,
// and the arena is never larger than one buffer per tensor.
void check_plan(const Graph& g, const std::vector<Segment>& segments, const MemoryPlan& plan, int threads) {
  const auto life = lifetimes(g, segments);
  struct Range {
    size_t begin, end;
    int first, last;
    int id;
  };
  std::vector<Range> ranges;
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const TensorDesc& t = g.tensors[i];
    INFO("tensor " << t.name);
    if (t.kind == Lifetime::kInput || t.kind == Lifetime::kOutput) {
      CHECK(plan.offset[i] == kNotPlanned);
      continue;
    }
    if (t.alias >= 0) {
      int root = static_cast<int>(i);
      size_t row = 0;
      while (g.tensors[root].alias >= 0) {
        row += g.tensors[root].alias_row;
        root = g.tensors[root].alias;
      }
      CHECK(plan.offset[i] == plan.offset[root] + row * t.row_bytes());
      CHECK(plan.image_stride[i] == plan.image_stride[root]);  // image i of a view is in image i of its target
      continue;
    }
    REQUIRE(plan.offset[i] != kNotPlanned);
    CHECK(plan.offset[i] % kArenaAlignment == 0);
    const size_t copies = t.kind == Lifetime::kScratch ? static_cast<size_t>(threads) : 1;
    if (t.kind == Lifetime::kScratch) {
      CHECK(plan.thread_stride[i] >= t.bytes());
      CHECK(plan.thread_stride[i] % kArenaAlignment == 0);
    }
    // Batch-major activations: image copies back to back; scratch is per thread, not per image.
    const size_t images = t.kind == Lifetime::kScratch ? 1 : plan.batch;
    CHECK(plan.image_stride[i] == (t.kind == Lifetime::kScratch ? 0 : t.bytes()));
    const size_t end = plan.offset[i] + (copies - 1) * plan.thread_stride[i] + (images - 1) * plan.image_stride[i] + t.bytes();
    CHECK(end <= plan.bytes);
    ranges.push_back({plan.offset[i], end, life[i].first, life[i].second, static_cast<int>(i)});
  }
  for (size_t a = 0; a < ranges.size(); ++a) {
    for (size_t b = a + 1; b < ranges.size(); ++b) {
      const Range &x = ranges[a], &y = ranges[b];
      if (x.first > y.last || y.first > x.last) continue;  // never alive together: may share
      INFO(g.tensors[x.id].name << " and " << g.tensors[y.id].name << " are alive together");
      CHECK((x.end <= y.begin || y.end <= x.begin));
    }
  }
  CHECK(plan.bytes <= unplanned_bytes(g, threads, plan.batch));
}

// The workspace's old layout (one std::vector per intermediate, before the graph IR): the
// baseline the planned arena must beat.
size_t old_workspace_bytes(const ViTConfig& c, int threads) {
  const size_t t = c.num_tokens(), d = c.embed_dim, h = c.mlp_hidden();
  const size_t patches = static_cast<size_t>(c.num_patches()) * 3 * c.patch_size * c.patch_size;
  const size_t per_thread = t * t * 4 + t * c.head_dim() * 4 + t * t + t * t * 2;  // scores, av_acc, probs, probs16
  return t * d * 4 + 6 * t * d + 2 * t * h + patches + 2 * t * h * 2 + static_cast<size_t>(threads) * per_thread;
}

IntViT quantized_tiny(int attn_bits, std::vector<int> wide_blocks) {
  const ViTConfig c = tiny_config();
  const ViTWeightsF32 fp32 = test::random_vit(c, 1234);
  const auto calib = random_model_inputs(c, 8, 99);
  QuantizeOptions opt;
  opt.attn_bits = attn_bits;
  opt.wide_blocks = std::move(wide_blocks);
  opt.auto_wide = false;
  IntViT m = quantize_vit(fp32, calibrate(fp32, calib, ObserverKind::kMinMax), opt);
  m.prepare(GemmIsa::kRef);
  return m;
}

}  // namespace

TEST_CASE("graph validation names the node and tensor at fault", "[graph]") {
  auto invalid = [](const Graph& g, const std::string& what) {
    INFO("expected: " << what);
    try {
      validate(g);
      FAIL("validate accepted the graph");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::kInvalidArgument);
      CHECK_THAT(e.what(), Catch::Contains(what));
    }
  };
  {  // a valid chain, for contrast
    Builder b;
    const int x = b.tensor("x", 4, 8, Lifetime::kInput), y = b.tensor("y"), z = b.tensor("z", 1, 3, Lifetime::kOutput);
    b.node(OpType::kLayerNorm, {x}, y);
    b.node(OpType::kHead, {y}, z, 1);
    CHECK_NOTHROW(validate(b.g));
  }
  {
    Builder b;
    const int x = b.tensor("x", 4, 8, Lifetime::kInput), y = b.tensor("y"), z = b.tensor("z");
    b.node(OpType::kGelu, {y}, z);
    b.node(OpType::kLayerNorm, {x}, y);
    invalid(b.g, "node 0 (gelu 'gelu') reads 'y' before any node produces it");
  }
  {
    Builder b;
    const int x = b.tensor("x", 4, 8, Lifetime::kInput), y = b.tensor("y");
    b.node(OpType::kLayerNorm, {x}, y);
    b.node(OpType::kGelu, {x}, y);
    invalid(b.g, "'y' is produced twice, by node 0 (layernorm 'layernorm') and node 1 (gelu 'gelu')");
  }
  {
    Builder b;
    const int x = b.tensor("x", 4, 8, Lifetime::kInput), y = b.tensor("y", 4, 9);
    b.node(OpType::kLayerNorm, {x}, y);
    invalid(b.g, "'x' [4 x 8] and 'y' [4 x 9] must have the same shape");
  }
  {
    Builder b;
    const int x = b.tensor("x", 4, 8, Lifetime::kInput), y = b.tensor("y");
    b.node(OpType::kLayerNorm, {x}, y);
    b.node(OpType::kGelu, {y}, 7);
    invalid(b.g, "node 1 (gelu 'gelu') refers to tensor id 7 of 2");
  }
  {
    Builder b;
    const int x = b.tensor("x", 4, 8, Lifetime::kInput), y = b.tensor("y"), z = b.tensor("z");
    b.node(OpType::kLayerNorm, {x}, y);
    (void)z;
    invalid(b.g, "tensor 'z' is never produced");
  }
  {  // the residual is updated in place: its old value is gone
    Builder b;
    const int x = b.tensor("x", 4, 8, Lifetime::kInput), r = b.tensor("r", 4, 8, Lifetime::kActivation, ElemType::kS32);
    const int a = b.tensor("a"), r2 = b.alias("r2", r, 4);
    b.node(OpType::kClassToken, {}, r);
    b.node(OpType::kLayerNorm, {x}, a);
    b.node(OpType::kLinear, {a, r}, r2, 4, true);
    CHECK_NOTHROW(validate(b.g));
    b.node(OpType::kLayerNorm, {r}, b.tensor("c"));
    invalid(b.g, "node 3 (layernorm 'layernorm') reads 'r' after node 2 (linear 'linear') overwrote it in place");
  }
  {
    Builder b;
    const int x = b.tensor("x", 4, 8, Lifetime::kInput), a = b.tensor("a"), r = b.tensor("r"), r2 = b.tensor("r2");
    b.node(OpType::kLayerNorm, {x}, a);
    b.node(OpType::kLayerNorm, {x}, r);
    b.node(OpType::kLinear, {a, r}, r2, 4, true);
    invalid(b.g, "accumulates, so its output must alias its last input");
  }
  {
    Builder b;
    const int x = b.tensor("x", 4, 8, Lifetime::kInput), y = b.tensor("y"), v = b.alias("v", y, 2, 3);
    b.node(OpType::kLayerNorm, {x}, y);
    b.node(OpType::kSelectToken, {y}, v, 2);
    invalid(b.g, "tensor 'v' [2 x 8] from row 3 lies outside 'y' [4 x 8]");
  }
  {
    Builder b;
    const int x = b.tensor("x", 4, 8, Lifetime::kInput), y = b.tensor("y", 4, 8, Lifetime::kScratch), v = b.alias("v", y, 1);
    b.node(OpType::kLayerNorm, {x}, y);
    b.node(OpType::kSelectToken, {y}, v, 1);
    invalid(b.g, "only activations may share storage");
  }
  {
    Builder b;
    const int x = b.tensor("x", 4, 8, Lifetime::kInput), y = b.tensor("y"), z = b.tensor("z", 4, 5);
    b.node(OpType::kLayerNorm, {x}, y);
    b.node(OpType::kQk, {y, y}, z);
    invalid(b.g, "'z' [4 x 5] must have one column per row of 'y' [4 x 8]");
  }
  {  // scratch is per thread and per task: a row-wise node must not see it
    Builder b;
    const int x = b.tensor("x", 4, 8, Lifetime::kInput), s = b.tensor("s", 4, 4, Lifetime::kScratch, ElemType::kS32);
    const int p = b.tensor("p", 4, 4, Lifetime::kScratch), y = b.tensor("y", 4, 4);
    b.node(OpType::kQk, {x, x}, s);
    b.node(OpType::kSoftmax, {s}, p);
    b.node(OpType::kGelu, {p}, y);
    validate(b.g);
    CHECK_THROWS_WITH(derive_segments(b.g), Catch::Contains("node 2 (gelu 'gelu') uses scratch tensor 'p' outside an attention segment"));
  }
}

TEST_CASE("the ViT graph meets the pool twice per block", "[graph]") {
  for (const ViTConfig& c : {tiny_config(), vit_tiny_config()}) {
    for (GraphPrecision precision : {GraphPrecision::kInteger, GraphPrecision::kFp32}) {
      const bool integer = precision == GraphPrecision::kInteger;
      INFO("depth " << c.depth << (integer ? ", integer" : ", fp32"));
      const Graph g = build_vit_graph(c, precision);
      const std::vector<Segment> segments = derive_segments(g);
      const size_t t = c.num_tokens();
      // Pool meetings: every segment with more than one row (the 1-row class-token tail runs
      // on the calling thread): the embedding + block 0's attention input, then per block its
      // attention and proj..fc2 fused with the next block's norm1..vᵀ.
      size_t meetings = 0, attention = 0;
      for (const Segment& s : segments) {
        meetings += s.rows > 1;
        attention += s.kind == SegmentKind::kAttention;
      }
      CHECK(attention == static_cast<size_t>(c.depth));
      CHECK(meetings == 1 + 2 * static_cast<size_t>(c.depth));
      REQUIRE(segments.size() == 2 + 2 * static_cast<size_t>(c.depth));
      for (size_t i = 0; i + 1 < segments.size(); ++i) {
        CHECK(segments[i].kind == (i % 2 ? SegmentKind::kAttention : SegmentKind::kRows));
        CHECK(segments[i].rows == t);
      }
      const Segment& tail = segments.back();
      CHECK(tail.rows == (!integer && c.distillation_token ? 2u : 1u));
      CHECK(g.nodes[tail.begin].op == OpType::kSelectToken);
      CHECK(g.nodes[tail.end - 1].op == OpType::kHead);
      // Block 1's attention input rides on block 0's tail segment.
      const Segment& fused = segments[2];
      CHECK(g.nodes[fused.begin].name == "blocks.0.attn.proj");
      CHECK(g.nodes[fused.end - 1].block == 1);
      std::vector<OpType> ops;
      for (int i = segments[1].begin; i < segments[1].end; ++i) ops.push_back(g.nodes[i].op);
      const std::vector<OpType> want = integer ? std::vector<OpType>{OpType::kQk, OpType::kSoftmax, OpType::kAv, OpType::kRequantize}
                                               : std::vector<OpType>{OpType::kQk, OpType::kSoftmax, OpType::kAv};
      CHECK(ops == want);
    }
  }
}

TEST_CASE("memory plan: alive-together storages never alias, disjoint ones share", "[graph][plan]") {
  // rows | attention | rows | attention | rows: a, o, b, o2 have staggered lifetimes.
  Builder b;
  const int x = b.tensor("x", 4, 8, Lifetime::kInput);
  const int a = b.tensor("a", 4, 8), o = b.tensor("o", 4, 8), bb = b.tensor("b", 4, 8), o2 = b.tensor("o2", 4, 8);
  const int c = b.tensor("c", 4, 8), out = b.tensor("out", 1, 10, Lifetime::kOutput, ElemType::kS32);
  const int s1 = b.tensor("s1", 4, 4, Lifetime::kScratch, ElemType::kS32), p1 = b.tensor("p1", 4, 4, Lifetime::kScratch);
  const int s2 = b.tensor("s2", 4, 4, Lifetime::kScratch, ElemType::kS32), p2 = b.tensor("p2", 4, 4, Lifetime::kScratch);
  b.node(OpType::kLayerNorm, {x}, a);
  b.node(OpType::kQk, {a, a}, s1);
  b.node(OpType::kSoftmax, {s1}, p1);
  b.node(OpType::kAv, {p1, a}, o);
  b.node(OpType::kLayerNorm, {o}, bb);
  b.node(OpType::kQk, {bb, bb}, s2);
  b.node(OpType::kSoftmax, {s2}, p2);
  b.node(OpType::kAv, {p2, bb}, o2);
  b.node(OpType::kLayerNorm, {o2}, c);
  b.node(OpType::kHead, {c}, out, 1);
  validate(b.g);
  const std::vector<Segment> segments = derive_segments(b.g);
  REQUIRE(segments.size() == 6);
  for (int threads : {1, 2, 3}) {
    INFO(threads << " threads");
    const MemoryPlan plan = plan_memory(b.g, segments, threads);
    check_plan(b.g, segments, plan, threads);
    CHECK(plan.bytes < unplanned_bytes(b.g, threads));
    // a (segments 0-1) and b (2-3) never meet: same size, so first fit puts b where a was.
    CHECK(plan.offset[bb] == plan.offset[a]);
    CHECK(plan.thread_stride[s1] == 64);
    CHECK(plan.offset[s2] == plan.offset[s1]);  // two blocks' scratch tiles share
  }
}

TEST_CASE("memory plan: one segment keeps every tensor apart, odd sizes stay 64-byte aligned", "[graph][plan]") {
  Builder b;
  const int x = b.tensor("x", 3, 5, Lifetime::kInput);
  int prev = x;
  for (int i = 0; i < 6; ++i) {  // 15, 15, ... bytes: every one padded to 64
    const int y = b.tensor(numbered("t", i), 3, 5);
    b.node(i % 2 ? OpType::kGelu : OpType::kLayerNorm, {prev}, y, 3);
    prev = y;
  }
  validate(b.g);
  const std::vector<Segment> segments = derive_segments(b.g);
  REQUIRE(segments.size() == 1);  // threads may be at any node on their rows: nothing may alias
  const MemoryPlan plan = plan_memory(b.g, segments, 2);
  check_plan(b.g, segments, plan, 2);
  CHECK(plan.bytes == 6 * 64);
  CHECK(plan.bytes == unplanned_bytes(b.g, 2));
}

TEST_CASE("memory plan: in-place outputs and views share their target's storage", "[graph][plan]") {
  const Graph g = build_vit_graph(tiny_config(), GraphPrecision::kInteger);
  const std::vector<Segment> segments = derive_segments(g);
  for (size_t batch : {size_t{1}, size_t{2}, size_t{5}}) {
    INFO("batch " << batch);
    const MemoryPlan plan = plan_memory(g, segments, 2, batch);
    CHECK(plan.batch == batch);
    check_plan(g, segments, plan, 2);
    const size_t residual = plan.offset[g.find("tokens")];
    for (const char* name : {"embed", "blocks.0.norm2.in", "blocks.1.norm1.in", "blocks.1.out", "norm.in"}) {
      INFO(name);
      CHECK(plan.offset[g.find(name)] == residual);
      CHECK(plan.image_stride[g.find(name)] == g.tensors[g.find("tokens")].bytes());  // the class token of image i
    }
    // A batch costs at most batch × the activations (scratch tiles do not grow with it).
    CHECK(plan.bytes <= batch * plan_memory(g, segments, 2).bytes);
  }
}

TEST_CASE("memory plan: random graphs keep the invariants", "[graph][plan]") {
  const unsigned seed = 20240611;
  std::mt19937 rng(seed);
  for (int trial = 0; trial < 200; ++trial) {
    INFO("seed " << seed << ", trial " << trial);
    Builder b;
    std::vector<int> live;
    for (int i = 0; i < 3; ++i) live.push_back(b.tensor(numbered("in", i), 1 + rng() % 5, 1 + rng() % 70, Lifetime::kInput));
    const int nodes = 2 + static_cast<int>(rng() % 30);
    for (int n = 0; n < nodes; ++n) {
      const TensorDesc src = b.g.tensors[live[rng() % live.size()]];
      const int y = b.tensor(numbered("t", n), src.rows, src.cols, Lifetime::kActivation, rng() % 2 ? ElemType::kS32 : ElemType::kU8);
      // Node domains of 1-3 rows: a change of domain starts a new segment, so lifetimes vary.
      b.node(OpType::kGelu, {b.g.find(src.name)}, y, 1 + rng() % 3);
      live.push_back(y);
    }
    validate(b.g);
    const std::vector<Segment> segments = derive_segments(b.g);
    const int threads = 1 + static_cast<int>(rng() % 3);
    const size_t batch = 1 + rng() % 4;
    INFO("threads " << threads << ", batch " << batch);
    check_plan(b.g, segments, plan_memory(b.g, segments, threads, batch), threads);
  }
}

TEST_CASE("memory plan: ViT-Ti's arena is smaller than one buffer per intermediate", "[graph][plan]") {
  const ViTConfig c = vit_tiny_config();
  Graph g = build_vit_graph(c, GraphPrecision::kInteger);
  for (bool wide : {false, true}) {
    if (wide) {  // the largest typing: every block 16-bit MLP, 16-bit probabilities
      for (TensorDesc& t : g.tensors) {
        if (t.name.ends_with(".mlp.fc1.out") || t.name.ends_with(".mlp.gelu.out")) t.dtype = ElemType::kS16;
        if (t.name.ends_with(".attn.probs")) t.dtype = ElemType::kU16;
      }
      validate(g);
    }
    const std::vector<Segment> segments = derive_segments(g);
    for (int threads : {1, 2}) {
      const MemoryPlan plan = plan_memory(g, segments, threads);
      check_plan(g, segments, plan, threads);
      std::printf("ViT-Ti integer arena (%s, %d thread%s): %zu bytes planned, %zu as one buffer per tensor, %zu in the old workspace\n",
                  wide ? "16-bit MLP + probabilities" : "8-bit", threads, threads > 1 ? "s" : "", plan.bytes, unplanned_bytes(g, threads),
                  old_workspace_bytes(c, threads));
      CHECK(plan.bytes < old_workspace_bytes(c, threads));
      CHECK(2 * plan.bytes < unplanned_bytes(g, threads));
    }
  }
}

TEST_CASE("integer workspace: typed arena, observer names, misuse errors", "[graph][int_engine]") {
  const IntViT m = quantized_tiny(16, {1});
  const IntWorkspace ws(m, 2);
  const Graph& g = ws.graph();
  CHECK(ws.bytes() == plan_memory(g, derive_segments(g), 2).bytes);
  CHECK(g.tensors[g.find("blocks.0.mlp.fc1.out")].dtype == ElemType::kU8);
  CHECK(g.tensors[g.find("blocks.1.mlp.fc1.out")].dtype == ElemType::kS16);
  CHECK(g.tensors[g.find("blocks.1.mlp.gelu.out")].dtype == ElemType::kS16);
  CHECK(g.tensors[g.find("blocks.0.attn.probs")].dtype == ElemType::kU16);
  CHECK(g.tensors[g.find("blocks.0.attn.q")].zero_point == m.blocks[0].q.out_zero_point);
  CHECK(g.tensors[g.find("embed")].scale == m.residual_scale);

  // The names, order and shapes observers saw before the graph IR (bias correction and
  // `intvit eval --report` look tensors up by these names).
  const ViTConfig& c = m.config;
  const std::vector<uint8_t> image(static_cast<size_t>(c.image_size) * c.image_size * 3, 77);
  std::vector<std::string> seen;
  const IntActivationObserver observe = [&](std::string_view name, const IntActivation& a) {
    seen.push_back(std::string(name) + " " + std::to_string(a.rows) + "x" + std::to_string(a.cols));
  };
  std::vector<int32_t> observed(c.num_classes), plain(c.num_classes);
  IntWorkspace run_ws(m, 2);
  int_vit_forward(m, kernel_set(GemmIsa::kRef), image.data(), run_ws, observed.data(), nullptr, &observe);
  std::vector<std::string> want = {"embed 17x32"};
  for (int b = 0; b < 2; ++b) {
    const std::string p = "blocks." + std::to_string(b);
    for (const char* s : {".norm1.in 17x32", ".norm1.out 17x32", ".attn.q 17x32", ".attn.k 17x32", ".attn.v 17x32", ".attn.out 17x32",
                          ".norm2.in 17x32", ".norm2.out 17x32", ".mlp.fc1.out 17x128", ".mlp.gelu.out 17x128"}) {
      want.push_back(p + s);
    }
  }
  for (const char* s : {"norm.in 1x32", "norm.out 1x32", "logits 1x10"}) want.push_back(s);
  CHECK(seen == want);
  ThreadPool pool(2);
  int_vit_forward(m, kernel_set(GemmIsa::kRef), image.data(), run_ws, plain.data(), &pool);
  CHECK(plain == observed);

  ThreadPool pool3(3);
  CHECK_THROWS_WITH(int_vit_forward(m, kernel_set(GemmIsa::kRef), image.data(), run_ws, plain.data(), &pool3),
                    Catch::Contains("a pool of 3 threads needs a workspace made for as many (this one: 2)"));
  const IntViT narrow = quantized_tiny(8, {});  // 8-bit probabilities and MLP: a smaller arena
  CHECK(IntWorkspace(narrow, 2).bytes() < ws.bytes());
  CHECK_THROWS_WITH(int_vit_forward(narrow, kernel_set(GemmIsa::kRef), image.data(), run_ws, plain.data()),
                    Catch::Contains("the workspace was made for another model"));
  IntViT unpacked = narrow;
  unpacked.head.packed.reset();
  IntWorkspace narrow_ws(narrow);
  CHECK_THROWS_WITH(int_vit_forward(unpacked, kernel_set(GemmIsa::kRef), image.data(), narrow_ws, plain.data()),
                    Catch::Contains("layer 'head' is not packed"));
}
