// Golden traces of the Swin (engine/trace.h, engine/trace_swin.cc) on a random two-stage Swin with
// shifted windows and patch merging: the same data on every backend in every attention mode, the
// session's logits, the (window, head) scores recomputed from the traced q and k plus the model's
// bias and mask, the residual stream after each add, and the FP32 trace under the same names.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <unistd.h>

#include "engine/int_swin.h"
#include "engine/model.h"
#include "engine/session.h"
#include "engine/swin_windows.h"
#include "engine/trace.h"
#include "engine/trace_compare.h"
#include "kernels/backend/backend.h"
#include "kernels/layernorm/layernorm.h"
#include "kernels/softmax/softmax.h"
#include "int_swin_fixture.h"
#include "random_swin.h"
#include "test_support.h"
#include "weights/calibration.h"
#include "weights/int_model_file.h"
#include "weights/swin_quantizer.h"

namespace intvit {
namespace {

// attn_bits 16 / 8 with the lut softmax, 4 with log2 codes; block 1 (stage 0) with a 16-bit MLP.
IntSwin quantized(const SwinWeightsF32& f, int attn_bits) {
  QuantizeOptions opt;
  opt.attn_bits = attn_bits;
  if (attn_bits == 4) opt.softmax = SoftmaxMode::kLog2;
  opt.wide_blocks = {1};
  opt.auto_wide = false;
  IntSwin m = calibrated_swin(f, opt, 6, 9);
  m.labels.assign(static_cast<size_t>(f.config.num_classes), "label");
  return m;
}

Trace traced(IntSwin m, GemmIsa isa, const std::vector<uint8_t>& pixels) {
  m.prepare(isa);
  Trace t = trace_int(m, kernel_set(isa), pixels.data());
  t.backend = gemm_isa_name(isa);
  return t;
}

const TraceTensor& get(const Trace& t, const std::string& name) {
  const TraceTensor* p = t.find(name);
  INFO(name);
  REQUIRE(p);
  return *p;
}

template <typename T>
std::vector<T> values(const TraceTensor& t) {
  std::vector<T> v(t.numel());
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(t.value(i));
  return v;
}

std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::path(INTVIT_BINARY_DIR) / "trace_swin_test" / (name + "." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("Swin trace: every backend the same data in every attention mode, logits are the session's", "[trace][swin]") {
  const SwinConfig c = tiny_swin_config("swin_trace_test");
  const SwinWeightsF32 fp32 = random_swin(c, 31);
  const std::vector<uint8_t> pixels = swin_inputs(c, 1, 5)[0];
  for (int bits : {16, 8, 4}) {
    INFO("attention bits " << bits);
    const IntSwin m = quantized(fp32, bits);
    const Trace ref = traced(m, GemmIsa::kRef, pixels);
    const TraceTensor& probs = get(ref, "layers.0.blocks.1.attn.probs");
    CHECK(probs.bits == bits);
    CHECK(probs.dtype == (bits == 16 ? "u16" : "u8"));
    CHECK(get(ref, "layers.0.blocks.1.mlp.gelu.out").dtype == "s16");  // the wide block
    // The traced logits are a plain forward's (tracing changes no bit).
    IntSwin packed = m;
    packed.prepare(GemmIsa::kRef);
    SwinWorkspace ws(packed);
    std::vector<int32_t> plain(static_cast<size_t>(c.num_classes));
    int_swin_forward(packed, kernel_set(GemmIsa::kRef), pixels.data(), ws, plain.data());
    CHECK(values<int32_t>(get(ref, "logits")) == plain);

    // Sessions over the saved model (2 threads: the pooled path) return the traced logits.
    const std::filesystem::path dir = scratch("backends" + std::to_string(bits));
    save_int_model(m, dir);
    const std::shared_ptr<const Model> model = load_model(dir);
    const std::vector<std::byte> ref_bytes = serialize_trace(ref);
    int backends = 0;
    for (GemmIsa isa : kAllGemmIsas) {
      if (!gemm_isa_supported(isa)) {
        WARN("backend " << gemm_isa_name(isa) << " skipped: " << gemm_isa_missing_feature(isa));
        continue;
      }
      INFO("backend " << gemm_isa_name(isa));
      ++backends;
      Trace t = traced(m, isa, pixels);
      const TraceComparison d = compare_traces(ref, t);
      CHECK(d.identical());
      if (!d.diffs.empty()) FAIL_CHECK("first difference: " << d.diffs.front().name);
      t.backend = ref.backend;  // then the whole file is the same bytes
      CHECK(serialize_trace(t) == ref_bytes);
      SessionOptions o;
      o.threads = 2;
      o.backend = gemm_isa_name(isa);
      const std::unique_ptr<Session> s = create_session(model, o);
      std::vector<int32_t> logits(static_cast<size_t>(c.num_classes));
      s->run_int(pixels.data(), logits.data());
      CHECK(values<int32_t>(get(t, "logits")) == logits);
    }
    CHECK(backends >= 2);  // ref and amx-emu run everywhere
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("Swin trace: scores are q@kT + bias + mask of the traced q and k, probabilities their softmax", "[trace][swin]") {
  const SwinConfig c = tiny_swin_config("swin_trace_test");
  const SwinWeightsF32 fp32 = random_swin(c, 32);
  for (int bits : {16, 8}) {
    INFO("attention bits " << bits);
    const IntSwin m = quantized(fp32, bits);
    const Trace t = traced(m, GemmIsa::kRef, swin_inputs(c, 1, 6)[0]);
    size_t masked = 0;
    for (int s = 0; s < c.num_stages(); ++s) {
      for (int j = 0; j < c.depths[static_cast<size_t>(s)]; ++j) {
        const std::string p = "layers." + std::to_string(s) + ".blocks." + std::to_string(j);
        INFO(p);
        const QSwinBlock& sb = m.stages[static_cast<size_t>(s)].blocks[static_cast<size_t>(j)];
        const QBlock& b = sb.attn_mlp;
        const SwinWindowLayout l = make_swin_window_layout(c.stage_resolution(s), c.stage_window(s), c.block_shift(s, j));
        const auto windows = static_cast<size_t>(l.num_windows()), n = static_cast<size_t>(l.tokens_per_window());
        const auto heads = static_cast<size_t>(c.num_heads[static_cast<size_t>(s)]), hd = static_cast<size_t>(c.head_dim(s));
        const size_t dim = heads * hd;
        const TraceTensor &q = get(t, p + ".attn.q"), &k = get(t, p + ".attn.k");
        const TraceTensor &qk = get(t, p + ".attn.qk"), &logits = get(t, p + ".attn.logits"), &probs = get(t, p + ".attn.probs");
        REQUIRE(q.shape == std::vector<int64_t>{static_cast<int64_t>(windows * n), static_cast<int64_t>(dim)});
        const std::vector<int64_t> tile{static_cast<int64_t>(windows * heads), static_cast<int64_t>(n), static_cast<int64_t>(n)};
        REQUIRE(qk.shape == tile);
        REQUIRE(logits.shape == tile);
        REQUIRE(probs.shape == tile);
        CHECK(get(t, p + ".attn.acc").shape == std::vector<int64_t>{tile[0], tile[1], static_cast<int64_t>(hd)});
        CHECK(logits.dtype == "s32");
        CHECK(logits.scale == b.scores_scale);
        CHECK(q.zero_point == b.q_out.zero_point);
        // Eq. 9 then Eq. 42-43, recomputed in int64 from the traced (window-major) q and k.
        for (size_t w = 0; w < windows; ++w) {
          for (size_t h = 0; h < heads; ++h) {
            const size_t slot = (w * heads + h) * n * n;
            for (size_t i = 0; i < n; ++i) {
              for (size_t jj = 0; jj < n; ++jj) {
                int64_t acc = 0;
                for (size_t e = 0; e < hd; ++e) {
                  acc += (q.value((w * n + i) * dim + h * hd + e) - q.zero_point) * (k.value((w * n + jj) * dim + h * hd + e) - k.zero_point);
                }
                REQUIRE(qk.value(slot + i * n + jj) == acc);
                const bool mask = l.masked(static_cast<int>(w), static_cast<int>(i), static_cast<int>(jj));
                masked += mask;
                REQUIRE(logits.value(slot + i * n + jj) == acc + sb.attn_bias[(h * n + i) * n + jj] + (mask ? int64_t{kSwinMaskLogit} : 0));
              }
            }
            // The probabilities are the reference softmax of the traced scores.
            const std::vector<int32_t> scores = values<int32_t>(logits);
            std::vector<int64_t> want(n * n), got(n * n);
            if (bits == 16) {
              std::vector<uint16_t> p16(n * n);
              softmax_rows16_ref(b.softmax, n, n, scores.data() + slot, n, p16.data(), n);
              want.assign(p16.begin(), p16.end());
            } else {
              std::vector<uint8_t> p8(n * n);
              softmax_rows_ref(b.softmax, n, n, scores.data() + slot, n, p8.data(), n);
              want.assign(p8.begin(), p8.end());
            }
            for (size_t i = 0; i < n * n; ++i) got[i] = probs.value(slot + i);
            REQUIRE(got == want);
          }
        }
      }
    }
    CHECK(masked > 0);  // the shifted blocks' mask was exercised
  }
}

TEST_CASE("Swin trace: the residual after each add, the patch merging's gather, file round trip", "[trace][swin]") {
  const SwinConfig c = tiny_swin_config("swin_trace_test");
  const IntSwin m = quantized(random_swin(c, 33), 16);
  const Trace t = traced(m, GemmIsa::kRef, swin_inputs(c, 1, 7)[0]);
  CHECK(t.tensors.front().name == "image");
  CHECK(t.tensors.back().name == "logits");
  // norm2 of the traced stream after the proj add is the traced norm2.out, and the stream moves.
  const TraceTensor &x = get(t, "layers.1.blocks.1.norm2.in"), &y = get(t, "layers.1.blocks.1.norm2.out");
  REQUIRE(x.dtype == "s32");
  REQUIRE(y.dtype == "u8");
  const std::vector<int32_t> xs = values<int32_t>(x);
  std::vector<uint8_t> want(y.numel());
  const auto rows = static_cast<size_t>(x.shape[0]), cols = static_cast<size_t>(x.shape[1]);
  layernorm_rows_ref(m.stages[1].blocks[1].attn_mlp.norm2.params, rows, xs.data(), cols, want.data(), cols);
  CHECK(values<uint8_t>(y) == want);
  CHECK(get(t, "layers.1.blocks.1.norm1.in").bytes != x.bytes);
  CHECK(get(t, "layers.1.blocks.1.out").bytes == get(t, "norm.in").bytes);
  // Stage 0's stream after its last add, gathered 2×2, is the patch merging's input.
  const TraceTensor &out0 = get(t, "layers.0.blocks.1.out"), &merged = get(t, "layers.1.downsample.norm.in");
  const size_t res = static_cast<size_t>(c.stage_resolution(0)), half = res / 2, ch = static_cast<size_t>(c.stage_dim(0));
  REQUIRE(merged.shape == std::vector<int64_t>{static_cast<int64_t>(half * half), static_cast<int64_t>(4 * ch)});
  static constexpr size_t kOffsets[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  size_t wrong = 0;
  for (size_t r = 0; r < half * half; ++r) {
    for (size_t g = 0; g < 4; ++g) {
      const size_t src = (2 * (r / half) + kOffsets[g][0]) * res + 2 * (r % half) + kOffsets[g][1];
      for (size_t e = 0; e < ch; ++e) wrong += merged.value((r * 4 + g) * ch + e) != out0.value(src * ch + e);
    }
  }
  CHECK(wrong == 0);
  CHECK(get(t, "layers.0.blocks.1.attn.acc").scale == av_accumulator_scale(m.stages[0].blocks[1].attn_mlp));
  CHECK(get(t, "patch_embed.norm.out").dtype == "s16");
  CHECK(get(t, "patch_embed.in").shape == std::vector<int64_t>{256, 12});

  const std::filesystem::path dir = scratch("roundtrip");
  write_trace(t, dir / "t.safetensors");
  const Trace back = read_trace(dir / "t.safetensors");
  REQUIRE(back.tensors.size() == t.tensors.size());
  for (size_t i = 0; i < t.tensors.size(); ++i) {
    INFO(t.tensors[i].name);
    CHECK(back.tensors[i].name == t.tensors[i].name);
    CHECK(back.tensors[i].shape == t.tensors[i].shape);
    CHECK(back.tensors[i].op == t.tensors[i].op);
  }
  CHECK(compare_traces(t, back).identical());
  std::filesystem::remove_all(dir);
}

TEST_CASE("Swin trace: the FP32 trace has the integer trace's names and shapes, SQNR per tensor", "[trace][swin]") {
  const SwinConfig c = tiny_swin_config("swin_trace_test");
  const SwinWeightsF32 fp32 = random_swin(c, 34);
  const std::vector<uint8_t> pixels = swin_inputs(c, 1, 8)[0];
  const Trace q = traced(quantized(fp32, 16), GemmIsa::kRef, pixels);
  const Trace f = trace_fp32(fp32, pixels.data());
  CHECK(f.precision == "fp32");
  const TraceComparison d = compare_traces(q, f);
  REQUIRE(d.mixed);
  std::map<std::string, double> db;
  for (const TensorSqnr& s : d.sqnr) {
    INFO(s.name << " " << s.problem);
    CHECK(s.problem.empty());  // every common name has the same shape on both sides
    db[s.name] = s.db;
  }
  // Only the integer-only tensors lack an FP32 twin, and only the fused adds' inputs lack an integer one.
  for (const std::string& n : d.only_a) {
    INFO("integer only: " << n);
    CHECK((n == "patch_embed.in" || n == "patch_embed.norm.out" || n.ends_with(".attn.vt") || n.ends_with(".attn.acc")));
  }
  for (const std::string& n : d.only_b) {
    INFO("FP32 only: " << n);
    CHECK((n.ends_with(".attn.proj.out") || n.ends_with(".mlp.fc2.out")));
  }
  CHECK(d.only_b.size() == 2 * 4);
  CHECK(db["image"] == std::numeric_limits<double>::infinity());
  // A loose floor (a tensor read with the wrong scale, zero-point or layout gives about 0 dB or less).
  // attn.logits of shifted blocks is left out: masked entries are −2^30 units (Eq. 43) vs timm's −100.
  for (const char* name : {"patch_embed.proj.out", "patch_embed.out", "layers.0.blocks.1.attn.q", "layers.0.blocks.1.attn.qk",
                           "layers.0.blocks.0.attn.logits", "layers.0.blocks.1.attn.probs", "layers.1.blocks.1.attn.probs",
                           "layers.1.downsample.reduction.out", "layers.1.blocks.1.out", "pool.out", "logits"}) {
    INFO(name << ": " << db[name] << " dB");
    CHECK(db.count(name));
    CHECK(db[name] > 15);
  }
}

}  // namespace intvit
