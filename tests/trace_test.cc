// Golden traces (engine/trace.h): the same bytes on every backend, the executor's own tensors
// (per-head scores and probabilities, the residual after each add), the session's logits, the file
// format's round trip, comparisons and errors. Shipped default model, one of its sample images.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <unistd.h>

#include "engine/dataset.h"
#include "intvit/intvit.h"
#include "engine/model.h"
#include "engine/session.h"
#include "engine/trace.h"
#include "engine/trace_compare.h"
#include "kernels/backend/backend.h"
#include "kernels/error.h"
#include "models/image.h"
#include "models/preprocess.h"
#include "models/safetensors.h"
#include "models/safetensors_writer.h"
#include "models/vit_fp32.h"
#include "random_vit.h"
#include "test_support.h"
#include "weights/calibration.h"
#include "weights/quantizer.h"
#include "weights/int_model_file.h"

namespace intvit {
namespace {

std::filesystem::path default_model() { return test::source_dir() / "models/default/fashion-vit"; }

std::vector<uint8_t> sample(const IntViT& m, const char* name) {
  return preprocess(decode_image_file(test::source_dir() / "models/default/samples" / name), preprocess_config_for(m.config)).rgb;
}

Trace traced(IntViT m, GemmIsa isa, const std::vector<uint8_t>& pixels) {
  m.prepare(isa);
  Trace t = trace_int(m, kernel_set(isa), pixels.data());
  t.image = "sample";
  t.model = "fashion-vit";
  t.model_fnv1a64 = "0000000000000000";
  t.backend = gemm_isa_name(isa);
  return t;
}

// A scratch folder of this test process (test cases run as separate processes in parallel).
std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::path(INTVIT_BINARY_DIR) / "trace_test" / (name + "." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

template <typename T>
std::vector<T> values(const TraceTensor& t) {
  std::vector<T> v(t.numel());
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(t.value(i));
  return v;
}

const TraceTensor& get(const Trace& t, const std::string& name) {
  const TraceTensor* p = t.find(name);
  INFO(name);
  REQUIRE(p);
  return *p;
}

// The safetensors header length (first 8 bytes, little-endian).
size_t header_end(const std::vector<std::byte>& file) {
  uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  return 8 + static_cast<size_t>(n);
}

// A random tiny ViT quantized with `attn_bits` probabilities (log2 codes for 4) and block 1's MLP in 16 bits.
IntViT random_tiny(int attn_bits) {
  const ViTConfig c = test::tiny_config();
  const ViTWeightsF32 fp32 = test::random_vit(c, 4321);
  QuantizeOptions opt;
  opt.attn_bits = attn_bits;
  if (attn_bits == 4) opt.softmax = SoftmaxMode::kLog2;
  opt.wide_blocks = {1};
  opt.auto_wide = false;
  return quantize_vit(fp32, calibrate(fp32, random_model_inputs(c, 4, 7), ObserverKind::kMinMax), opt);
}

}  // namespace

TEST_CASE("trace: every backend writes the same bytes, and its logits are the session's", "[trace]") {
  const IntViT m = load_int_model(default_model());
  const std::vector<uint8_t> pixels = sample(m, "bag.png");
  const Trace ref = traced(m, GemmIsa::kRef, pixels);
  const std::vector<std::byte> ref_bytes = serialize_trace(ref);
  const SafeTensorsFile ref_file = SafeTensorsFile::from_buffer(ref_bytes.data(), ref_bytes.size());
  const std::shared_ptr<const Model> model = load_model(default_model());
  int backends = 0;
  for (GemmIsa isa : kAllGemmIsas) {
    if (!gemm_isa_supported(isa)) {
      WARN("backend " << gemm_isa_name(isa) << " skipped: " << gemm_isa_missing_feature(isa));
      continue;
    }
    INFO("backend " << gemm_isa_name(isa));
    ++backends;
    const Trace t = traced(m, isa, pixels);
    CHECK(compare_traces(ref, t).identical());
    // Byte for byte: the data section; the header's metadata differs only in the backend's name
    // (and the header's space padding with it).
    const std::vector<std::byte> bytes = serialize_trace(t);
    CHECK(std::equal(bytes.begin() + static_cast<std::ptrdiff_t>(header_end(bytes)), bytes.end(),
                     ref_bytes.begin() + static_cast<std::ptrdiff_t>(header_end(ref_bytes)), ref_bytes.end()));
    const SafeTensorsFile file = SafeTensorsFile::from_buffer(bytes.data(), bytes.size());
    auto meta = file.metadata();
    CHECK(meta.at("backend") == gemm_isa_name(isa));
    meta["backend"] = "ref";
    CHECK(meta == ref_file.metadata());

    // The logits tensor is what a session on this backend returns (2 threads: the pooled path).
    SessionOptions o;
    o.threads = 2;
    o.backend = gemm_isa_name(isa);
    const std::unique_ptr<Session> s = create_session(model, o);
    std::vector<int32_t> logits(static_cast<size_t>(m.config.num_classes));
    s->run_int(pixels.data(), logits.data());
    CHECK(values<int32_t>(get(t, "logits")) == logits);
    // ... and what the C API returns.
    intvit_model* cm = nullptr;
    intvit_session* cs = nullptr;
    REQUIRE(intvit_model_load(default_model().c_str(), 0, &cm) == INTVIT_OK);
    REQUIRE(intvit_session_create(cm, 1, gemm_isa_name(isa), &cs) == INTVIT_OK);
    std::vector<int32_t> c_logits(logits.size());
    CHECK(intvit_session_run_cropped_into(cs, pixels.data(), c_logits.data(), c_logits.size()) == INTVIT_OK);
    CHECK(c_logits == logits);
    intvit_session_destroy(cs);
    intvit_model_destroy(cm);
  }
  CHECK(backends >= 2);  // ref and amx-emu run everywhere
}

TEST_CASE("trace: the executor's tensors, per-head scores and probabilities, the residual after each add", "[trace]") {
  IntViT m = load_int_model(default_model());
  const Trace t = traced(m, GemmIsa::kRef, sample(m, "coat.png"));
  const ViTConfig& c = m.config;
  const auto tokens = static_cast<int64_t>(c.num_tokens()), dim = static_cast<int64_t>(c.embed_dim);
  const auto heads = static_cast<int64_t>(c.num_heads), hd = static_cast<int64_t>(c.head_dim());
  REQUIRE(t.tensors.size() > 4);
  CHECK(t.tensors.front().name == "image");
  CHECK(t.tensors.front().op == "input");
  CHECK(t.tensors.back().name == "logits");
  for (int b = 0; b < c.depth; ++b) {
    const std::string p = "blocks." + std::to_string(b);
    for (const char* s : {".norm1.out", ".attn.q", ".attn.k", ".attn.v", ".attn.out", ".norm2.in", ".norm2.out", ".mlp.fc1.out", ".mlp.gelu.out"}) {
      CHECK(t.find(p + s));
    }
    CHECK(get(t, p + ".attn.logits").shape == std::vector<int64_t>{heads, tokens, tokens});
    CHECK(get(t, p + ".attn.logits").dtype == "s32");
    CHECK(get(t, p + ".attn.probs").shape == std::vector<int64_t>{heads, tokens, tokens});
    CHECK(get(t, p + ".attn.acc").shape == std::vector<int64_t>{heads, tokens, hd});
  }
  CHECK(t.find("blocks." + std::to_string(c.depth - 1) + ".out"));  // the stream after the last add

  // Every head's scores are q@kᵀ with both zero-points (Eq. 9) of the traced q and k, and its
  // probabilities the reference softmax of those scores.
  const TraceTensor &q = get(t, "blocks.0.attn.q"), &k = get(t, "blocks.0.attn.k");
  const std::vector<int32_t> scores = values<int32_t>(get(t, "blocks.0.attn.logits"));
  const TraceTensor& probs = get(t, "blocks.0.attn.probs");
  const QBlock& b0 = m.blocks[0];
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < tokens; ++i) {
      for (int64_t j = 0; j < tokens; ++j) {
        int64_t acc = 0;
        for (int64_t e = 0; e < hd; ++e) {
          acc += (q.value(static_cast<size_t>(i * dim + h * hd + e)) - q.zero_point) * (k.value(static_cast<size_t>(j * dim + h * hd + e)) - k.zero_point);
        }
        REQUIRE(scores[static_cast<size_t>((h * tokens + i) * tokens + j)] == acc);
      }
    }
    const int32_t* s = scores.data() + h * tokens * tokens;
    const auto n = static_cast<size_t>(tokens * tokens);
    std::vector<int64_t> want(n);
    if (probs.dtype == "u16") {
      std::vector<uint16_t> p(n);
      softmax_rows16_ref(b0.softmax, static_cast<size_t>(tokens), static_cast<size_t>(tokens), s, static_cast<size_t>(tokens), p.data(), static_cast<size_t>(tokens));
      want.assign(p.begin(), p.end());
    } else {
      std::vector<uint8_t> p(n);
      softmax_rows_ref(b0.softmax, static_cast<size_t>(tokens), static_cast<size_t>(tokens), s, static_cast<size_t>(tokens), p.data(), static_cast<size_t>(tokens));
      want.assign(p.begin(), p.end());
    }
    std::vector<int64_t> got(n);
    for (size_t i = 0; i < n; ++i) got[i] = probs.value(static_cast<size_t>(h) * n + i);
    CHECK(got == want);
  }

  // The residual is captured after each add, not at the end of the run: block 1's LayerNorm of
  // the traced stream gives the traced norm1.out, and the stream changes at every add.
  const TraceTensor& x1 = get(t, "blocks.1.norm1.in");
  const TraceTensor& y1 = get(t, "blocks.1.norm1.out");
  REQUIRE(x1.dtype == "s32");
  const std::vector<int32_t> x = values<int32_t>(x1);
  std::vector<uint8_t> y(y1.numel());
  REQUIRE(y1.dtype == "u8");
  layernorm_rows_ref(m.blocks[1].norm1.params, static_cast<size_t>(tokens), x.data(), static_cast<size_t>(dim), y.data(), static_cast<size_t>(dim));
  CHECK(values<uint8_t>(y1) == y);
  CHECK(get(t, "embed").bytes != get(t, "blocks.0.norm2.in").bytes);
  CHECK(get(t, "blocks.0.norm2.in").bytes != x1.bytes);
  CHECK(get(t, "blocks.0.attn.q").scale == m.blocks[0].q_out.scale);
  CHECK(get(t, "blocks.0.attn.q").zero_point == m.blocks[0].q.out_zero_point);
}

TEST_CASE("trace: file round trip, compare, and clear errors", "[trace]") {
  const IntViT m = load_int_model(default_model());
  const std::filesystem::path dir = scratch("roundtrip");
  const Trace a = traced(m, GemmIsa::kRef, sample(m, "bag.png"));
  write_trace(a, dir / "a.safetensors");
  const Trace back = read_trace(dir / "a.safetensors");
  CHECK(back.backend == "ref");
  CHECK(back.precision == "int");
  REQUIRE(back.tensors.size() == a.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    INFO(a.tensors[i].name);
    CHECK(back.tensors[i].name == a.tensors[i].name);  // trace order survives the file's layout
    CHECK(back.tensors[i].bytes == a.tensors[i].bytes);
    CHECK(back.tensors[i].scale == a.tensors[i].scale);
    CHECK(back.tensors[i].op == a.tensors[i].op);
  }
  CHECK(compare_traces(a, back).identical());

  const Trace b = traced(m, GemmIsa::kRef, sample(m, "sandal.png"));
  const TraceComparison d = compare_traces(a, b);
  CHECK_FALSE(d.identical());
  REQUIRE_FALSE(d.diffs.empty());
  CHECK(d.diffs.front().name == "image");
  CHECK(d.diffs.front().differing > 0);
  CHECK(d.diffs.front().max_abs >= 1);

  CHECK_THROWS_WITH(read_trace(default_model() / "model.safetensors"), Catch::Contains("not an intvit trace"));
  CHECK_THROWS_WITH(read_trace(dir / "missing.safetensors"), Catch::Contains("cannot open"));
  CHECK_THROWS_WITH(write_trace(a, dir / "no" / "such" / "t.safetensors"), Catch::Contains("does not exist"));
  // A truncated trace.
  const std::vector<std::byte> bytes = serialize_trace(a);
  const std::filesystem::path cut = dir / "cut.safetensors";
  FILE* f = std::fopen(cut.c_str(), "wb");
  REQUIRE(f);
  std::fwrite(bytes.data(), 1, bytes.size() / 2, f);
  std::fclose(f);
  CHECK_THROWS_AS(read_trace(cut), Error);
  // Hand-made files: another version, a listed tensor missing, a tensor stored in another width.
  auto hand_made = [&](const char* version, const char* listed, DType stored) {
    SafeTensorsWriter w;
    w.add("x", stored, {1, 2}, std::vector<std::byte>(2 * dtype_size(stored)));
    for (const char* k : {"precision", "image", "model", "model_fnv1a64", "backend"}) w.set_metadata(k, "int");
    w.set_metadata("format", "intvit.trace");
    w.set_metadata("format_version", version);
    w.set_metadata("tensors", std::string(R"([{"name": ")") + listed + R"(", "op": "linear", "dtype": "u8", "scale": 0.5, "zero_point": 3, "bits": 8}])");
    w.write(dir / "hand.safetensors");
    return dir / "hand.safetensors";
  };
  CHECK(read_trace(hand_made("1", "x", DType::kU8)).tensors.at(0).zero_point == 3);
  CHECK_THROWS_WITH(read_trace(hand_made("2", "x", DType::kU8)), Catch::Contains("trace format version 2, this intvit reads version 1"));
  CHECK_THROWS_WITH(read_trace(hand_made("1", "y", DType::kU8)), Catch::Contains("tensor 'y' is listed in the metadata but missing"));
  CHECK_THROWS_WITH(read_trace(hand_made("1", "x", DType::kI32)), Catch::Contains("tensor 'x' has dtype u8 stored as I32"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("trace: the FP32 trace has the integer trace's names, SQNR per tensor", "[trace]") {
  const IntViT m = load_int_model(default_model());
  const std::vector<uint8_t> pixels = sample(m, "trouser.png");
  const Trace q = traced(m, GemmIsa::kRef, pixels);
  const Trace f = trace_fp32(load_vit_f32(default_model()), pixels.data());
  CHECK(f.precision == "fp32");
  CHECK(get(f, "blocks.0.attn.probs").shape == get(q, "blocks.0.attn.probs").shape);
  const TraceComparison c = compare_traces(f, q);  // either order: walks the integer trace
  REQUIRE(c.mixed);
  CHECK_FALSE(c.identical());
  std::map<std::string, double> db;
  for (const TensorSqnr& s : c.sqnr) {
    INFO(s.name << " " << s.problem);
    CHECK(s.problem.empty());
    db[s.name] = s.db;
  }
  for (const char* name : {"image", "embed", "blocks.0.attn.q", "blocks.0.attn.logits", "blocks.0.attn.probs", "blocks.0.norm2.in", "norm.out", "logits"}) {
    INFO(name);
    CHECK(db.count(name));
  }
  CHECK(db["image"] == std::numeric_limits<double>::infinity());  // the same pixels
  // The integer model tracks FP32 closely on its own data (a loose floor: an integer tensor read
  // with the wrong scale, zero-point or layout gives about 0 dB or less).
  CHECK(db["blocks.0.attn.q"] > 15);
  CHECK(db["blocks.0.attn.probs"] > 15);
  CHECK(db["logits"] > 15);
  CHECK(std::find(c.only_a.begin(), c.only_a.end(), "blocks.0.attn.proj.out") != c.only_a.end());  // FP32-only (fused in integers)
}

TEST_CASE("trace: u16 probabilities, s16 MLP tensors and log2 codes, the same on every backend", "[trace]") {
  for (int bits : {16, 4}) {
    INFO("attention bits " << bits);
    const IntViT m = random_tiny(bits);
    const std::vector<uint8_t> pixels = random_model_inputs(m.config, 1, 11)[0];
    const Trace ref = traced(m, GemmIsa::kRef, pixels);
    const TraceTensor& probs = get(ref, "blocks.0.attn.probs");
    CHECK(probs.bits == bits);
    CHECK(probs.dtype == (bits == 16 ? "u16" : "u8"));
    CHECK(probs.storage == (bits == 16 ? DType::kI32 : DType::kU8));
    CHECK(get(ref, "blocks.1.mlp.gelu.out").dtype == "s16");
    CHECK(get(ref, "blocks.1.mlp.gelu.out").storage == DType::kI16);
    if (bits == 16) {  // the widened values are the kernel's: softmax16 of the traced scores
      const auto t = m.config.num_tokens();
      const std::vector<int32_t> scores = values<int32_t>(get(ref, "blocks.0.attn.logits"));
      std::vector<uint16_t> want(scores.size());
      softmax_rows16_ref(m.blocks[0].softmax, scores.size() / t, t, scores.data(), t, want.data(), t);
      CHECK(values<uint16_t>(probs) == want);
    }
    const std::filesystem::path dir = scratch("wide" + std::to_string(bits));
    write_trace(ref, dir / "t.safetensors");
    CHECK(compare_traces(ref, read_trace(dir / "t.safetensors")).identical());
    std::filesystem::remove_all(dir);
    for (GemmIsa isa : kAllGemmIsas) {
      if (!gemm_isa_supported(isa) || isa == GemmIsa::kRef) continue;
      INFO("backend " << gemm_isa_name(isa));
      const TraceComparison c = compare_traces(ref, traced(m, isa, pixels));
      CHECK(c.identical());
      if (!c.diffs.empty()) FAIL_CHECK("first difference: " << c.diffs.front().name);
    }
  }
}

}  // namespace intvit
