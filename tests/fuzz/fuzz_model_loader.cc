// libFuzzer target: the integer model loader (weights/int_model_file.h, weights/FORMAT.md).
// A file that loads is then run: a session on the default (fastest) backend runs a zero image and a
// patterned one, so parameters the loader accepted but the kernels cannot handle show up here; the
// same inputs on the reference backend must give the same int32 logits (the bit-identity contract
// of STYLE.md §5), so a loader-accepted value that makes a SIMD kernel diverge is a finding too.
// The nonlinear kernels pick AVX-512 or ref once per process (kernels/backend/nonlinear.h), so the two
// sessions share them; their variants are compared directly instead, on the parameters the loader
// built: every GELU input code, and softmax / LayerNorm rows of seeded pseudo-random values.
// Four in five mutations are structure-aware (model_mutator.h): they keep the container and the
// graph JSON well-formed, so the fuzzer spends its time on the loader's semantic checks and on
// the forward pass instead of on JSON syntax errors.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "engine/int_vit.h"
#include "engine/model.h"
#include "engine/session.h"
#include "fuzz_common.h"
#include "kernels/backend/nonlinear.h"
#include "model_mutator.h"
#include "weights/int_model_file.h"

namespace {

std::vector<int32_t> run(intvit::Session& session, const std::vector<uint8_t>& pixels) {
  std::vector<int32_t> logits(session.model().config().num_classes);
  session.run_int(pixels.data(), logits.data());
  return logits;
}

// The SIMD nonlinear kernels of one ISA, each held to its reference on loader-built parameters.
struct SimdKernels {
  intvit::NonlinearIsa isa;
  const char* name;
  decltype(&intvit::gelu_ref) gelu;
  decltype(&intvit::softmax_rows_ref) softmax;
  decltype(&intvit::softmax_rows16_ref) softmax16;
  decltype(&intvit::layernorm_rows_ref) layernorm;
};
constexpr SimdKernels kSimdKernels[] = {
    {intvit::NonlinearIsa::kAvx2, "avx2", intvit::gelu__avx2, intvit::softmax_rows__avx2, intvit::softmax_rows16__avx2,
     intvit::layernorm_rows__avx2},
    {intvit::NonlinearIsa::kAvx512, "avx512", intvit::gelu__avx512, intvit::softmax_rows__avx512,
     intvit::softmax_rows16__avx512, intvit::layernorm_rows__avx512},
    // The byte-table builds of GELU and softmax; LayerNorm has no VBMI build (its AVX-512 one again).
    {intvit::NonlinearIsa::kAvx512Vbmi, "avx512vbmi", intvit::gelu__avx512vbmi, intvit::softmax_rows__avx512vbmi,
     intvit::softmax_rows16__avx512vbmi, intvit::layernorm_rows__avx512}};

[[noreturn]] void diverged(const char* what, const SimdKernels& k) {
  std::fprintf(stderr, "FINDING: %s__%s disagrees with %s_ref on loader-built parameters\n", what, k.name, what);
  std::abort();
}

void compare_gelu(const intvit::GeluParams& p, const SimdKernels& k) {
  const size_t n = p.bits == 8 ? 256 : 65536, elem = p.bits == 8 ? 1 : 2;
  std::vector<uint8_t> in(n * elem), ref(n * elem), simd(n * elem);
  for (size_t i = 0; i < n; ++i) {  // every input value: 0..255, or -32768..32767
    const uint16_t v = static_cast<uint16_t>(p.bits == 8 ? i : i - 32768);
    std::memcpy(&in[i * elem], &v, elem);  // little-endian: the low byte first
  }
  intvit::gelu_ref(p, n, in.data(), ref.data());
  k.gelu(p, n, in.data(), simd.data());
  if (ref != simd) diverged("gelu", k);
}

// Rows of int32 whose spread grows row by row (2^4 .. 2^26): from near-uniform to one-hot.
std::vector<int32_t> spread_rows(std::mt19937& rng, size_t rows, size_t len) {
  std::vector<int32_t> v(rows * len);
  for (size_t r = 0; r < rows; ++r) {
    const int bits = 4 + static_cast<int>(r * 22 / (rows > 1 ? rows - 1 : 1));
    std::uniform_int_distribution<int32_t> dist(-(1 << bits), 1 << bits);
    for (size_t i = 0; i < len; ++i) v[r * len + i] = dist(rng);
  }
  return v;
}

void compare_softmax(const intvit::SoftmaxParams& p, bool probs16, size_t len, std::mt19937& rng, const SimdKernels& k) {
  const size_t rows = 8;
  const std::vector<int32_t> in = spread_rows(rng, rows, len);
  if (probs16) {
    std::vector<uint16_t> ref(rows * len), simd(rows * len);
    intvit::softmax_rows16_ref(p, rows, len, in.data(), len, ref.data(), len);
    k.softmax16(p, rows, len, in.data(), len, simd.data(), len);
    if (ref != simd) diverged("softmax_rows16", k);
    return;
  }
  std::vector<uint8_t> ref(rows * len), simd(rows * len);
  intvit::softmax_rows_ref(p, rows, len, in.data(), len, ref.data(), len);
  k.softmax(p, rows, len, in.data(), len, simd.data(), len);
  if (ref != simd) diverged("softmax_rows", k);
}

void compare_layernorm(const intvit::LayerNormParams& p, std::mt19937& rng, const SimdKernels& k) {
  const size_t rows = 8, d = p.channels;
  const std::vector<int32_t> in = spread_rows(rng, rows, d);
  const size_t elem = p.out_bits == 8 ? 1 : 2;
  std::vector<uint8_t> ref(rows * d * elem), simd(rows * d * elem);
  intvit::layernorm_rows_ref(p, rows, in.data(), d, ref.data(), d);
  k.layernorm(p, rows, in.data(), d, simd.data(), d);
  if (ref != simd) diverged("layernorm_rows", k);
}

// Every SIMD variant this CPU runs (AVX2 on any x86-64-v3 host, AVX-512 where present).
void compare_nonlinear_kernels(const intvit::IntViT& m, size_t seed) {
  const size_t tokens = static_cast<size_t>(m.config.num_tokens());
  for (const SimdKernels& k : kSimdKernels) {
    if (!intvit::nonlinear_isa_supported(k.isa)) continue;
    std::mt19937 rng(static_cast<unsigned>(seed));
    for (const intvit::QBlock& b : m.blocks) {
      compare_gelu(b.gelu, k);
      compare_softmax(b.softmax, b.probs.bits == 16, tokens, rng, k);
      compare_layernorm(b.norm1.params, rng, k);
      compare_layernorm(b.norm2.params, rng, k);
    }
    compare_layernorm(m.norm.params, rng, k);
  }
}

void exercise(const uint8_t* data, size_t size) {
  // The raw loader first (what the C API and load_model call), then the Model wrapper that packs
  // the weights for the default backend.
  const intvit::IntViT loaded = intvit::load_int_model_from_buffer(data, size);
  compare_nonlinear_kernels(loaded, size);
  std::shared_ptr<const intvit::Model> model = intvit::load_int_model_buffer(data, size);
  const intvit::ViTConfig& c = model->config();
  INTVIT_FUZZ_ASSERT(static_cast<int>(model->labels().size()) == c.num_classes);

  const size_t side = static_cast<size_t>(c.image_size);
  std::vector<uint8_t> zero(side * side * 3, 0), pattern(side * side * 3);
  for (size_t i = 0; i < pattern.size(); ++i) {
    const size_t x = (i / 3) % side, y = (i / 3) / side, ch = i % 3;
    pattern[i] = static_cast<uint8_t>(x * 7 + y * 13 + ch * 61);
  }

  // A model that loads must run: the loader's checks are the whole contract (a file whose layers
  // disagreed on widths loaded, then failed every run). Only running out of memory is allowed here.
  try {
    auto best = intvit::create_session(model, {1, ""});
    const std::vector<int32_t> best_zero = run(*best, zero), best_pattern = run(*best, pattern);
    if (best->backend() == "ref") return;
    auto ref = intvit::create_session(model, {1, "ref"});
    if (run(*ref, zero) != best_zero || run(*ref, pattern) != best_pattern) {
      std::fprintf(stderr, "FINDING: backend %s disagrees with ref on a loaded model\n", best->backend().c_str());
      std::abort();
    }
  } catch (const intvit::Error& e) {
    if (e.code() == intvit::ErrorCode::kOutOfMemory) return;
    std::fprintf(stderr, "FINDING: a model that loads fails to run: %s\n", e.what());
    std::abort();
  }
}

}  // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  std::mt19937 rng(seed);
  if (rng() % 5 != 0) {
    if (const auto out = intvit::fuzz::mutate_model_file(data, size, rng); out && out->size() <= max_size) {
      std::memcpy(data, out->data(), out->size());
      return out->size();
    }
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  intvit::fuzz::expect_clean([&] { exercise(data, size); });
  return 0;
}
