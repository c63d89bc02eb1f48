// Integer DeiT-distilled (dist_token + head_dist, timm names): the two heads' int32 logits are
// averaged in integers (QUANTIZATION.md Eq. 41), checked exactly against a scalar reference; a
// random tiny distilled ViT quantized on random images tracks its FP32 forward (each head and the
// mean), gives the same bits on every backend, thread count and batch, and round-trips its file.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "random_vit.h"
#include "engine/average_logits.h"
#include "engine/int_vit.h"
#include "engine/thread_pool.h"
#include "test_support.h"
#include "weights/calibration.h"
#include "weights/int_model_file.h"
#include "weights/quantizer.h"
#include "models/safetensors.h"

using namespace intvit;

namespace {

// Eq. 41 written out: the mean of a and b rounded half away from zero, by integer division.
int32_t mean_reference(int32_t a, int32_t b) {
  const int64_t s = int64_t{a} + b;
  return static_cast<int32_t>(s >= 0 ? (s + 1) / 2 : -((-s + 1) / 2));
}

ViTConfig distilled_config() {
  ViTConfig c = test::tiny_config();
  c.architecture = "deit_tiny_distilled_patch16_224";
  c.distillation_token = true;
  return c;
}

IntViT quantize(const ViTWeightsF32& fp32, const QuantizeOptions& opt) {
  IntViT m = quantize_vit(fp32, calibrate(fp32, random_model_inputs(fp32.config, 16, 99), ObserverKind::kMinMax), opt);
  m.labels.assign(fp32.config.num_classes, "label");
  return m;
}

std::vector<int32_t> run(const IntViT& m, GemmIsa isa, const std::vector<uint8_t>& image, int threads,
                         const IntActivationObserver* observer = nullptr) {
  IntViT packed = m;
  packed.prepare(isa);
  ThreadPool pool(threads);
  IntWorkspace ws(m, threads);
  std::vector<int32_t> logits(m.config.num_classes);
  int_vit_forward(packed, kernel_set(isa), image.data(), ws, logits.data(), observer ? nullptr : &pool, observer);
  return logits;
}

double sqnr_db(double signal, double noise) { return 10 * std::log10(signal / noise); }

}  // namespace

TEST_CASE("average_logits is Eq. 41 exactly: the rounded-half-away mean in int64", "[int_engine][distilled]") {
  constexpr int32_t kMin = std::numeric_limits<int32_t>::min(), kMax = std::numeric_limits<int32_t>::max();
  std::vector<int32_t> a = {0, 1, -1, 1, -1, 3, -3, 2, -2, kMax, kMin, kMax, kMin, kMax, kMin + 1, 5, -5};
  std::vector<int32_t> b = {0, 0, 0, 2, -2, 0, 0, 1, -1, kMax, kMin, kMin, kMax, kMax - 1, kMin, -6, 6};
  // Hand-checked values: ties go away from zero, nothing overflows at the int32 ends.
  const std::vector<int32_t> want = {0, 1, -1, 2, -2, 2, -2, 2, -2, kMax, kMin, -1, -1, kMax, kMin, -1, 1};
  std::mt19937 rng(40);
  for (int i = 0; i < 10000; ++i) {
    a.push_back(static_cast<int32_t>(rng()));
    b.push_back(i % 2 ? static_cast<int32_t>(rng()) : static_cast<int32_t>(rng() % 2001) - 1000);
  }
  std::vector<int32_t> got(a.size());
  average_logits(a.data(), b.data(), a.size(), got.data());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("a " << a[i] << ", b " << b[i]);
    REQUIRE(got[i] == mean_reference(a[i], b[i]));
    if (i < want.size()) REQUIRE(got[i] == want[i]);
  }
}

TEST_CASE("integer DeiT-distilled tracks its FP32 forward, per head and averaged", "[int_engine][distilled]") {
  const ViTConfig c = distilled_config();
  REQUIRE(c.num_prefix_tokens() == 2);
  const ViTWeightsF32 fp32 = random_vit(c, 4321);
  REQUIRE(fp32.dist_token.size() == static_cast<size_t>(c.embed_dim));
  QuantizeOptions opt;
  opt.auto_wide = false;
  const IntViT m = quantize(fp32, opt);
  REQUIRE(m.head_dist.out == c.num_classes);
  const auto images = random_model_inputs(c, 12, 7);
  double signal = 0, noise = 0;
  double head_signal[2] = {0, 0}, head_noise[2] = {0, 0};
  int agree = 0;
  for (const auto& image : images) {
    std::vector<float> norm_out;  // FP32 final LayerNorm of tokens 0 and 1
    const std::vector<float> ref = vit_forward_f32(fp32, image.data(), [&](std::string_view name, const float* d, size_t r, size_t cols) {
      if (name == "norm.out") norm_out.assign(d, d + r * cols);
    });
    REQUIRE(norm_out.size() == 2 * static_cast<size_t>(c.embed_dim));
    std::map<std::string, std::vector<int32_t>> heads;
    const IntActivationObserver observe = [&](std::string_view name, const IntActivation& a) {
      if (name != "head.logits" && name != "head_dist.logits") return;
      REQUIRE(a.type == GemmOut::kS32);
      const auto* p = static_cast<const int32_t*>(a.data);
      heads[std::string(name)].assign(p, p + a.cols);
    };
    const std::vector<int32_t> q = run(m, GemmIsa::kRef, image, 1, &observe);
    REQUIRE(q == run(m, GemmIsa::kRef, image, 1));  // observing does not change the bits
    REQUIRE(heads.size() == 2);
    // The graph's last step is Eq. 41 on the two heads' int32 logits, exactly.
    for (int k = 0; k < c.num_classes; ++k) REQUIRE(q[k] == mean_reference(heads["head.logits"][k], heads["head_dist.logits"][k]));
    // Each head on its own token: head on token 0, head_dist on token 1 (FP32 recomputed here).
    const LinearF32* fp_heads[2] = {&fp32.head, &fp32.head_dist};
    const std::vector<int32_t>* int_heads[2] = {&heads["head.logits"], &heads["head_dist.logits"]};
    for (int h = 0; h < 2; ++h) {
      for (int k = 0; k < c.num_classes; ++k) {
        double r = fp_heads[h]->bias[k];
        for (int j = 0; j < c.embed_dim; ++j) r += double(fp_heads[h]->weight[static_cast<size_t>(k) * c.embed_dim + j]) * norm_out[h * c.embed_dim + j];
        const double err = m.logit_scale * (*int_heads[h])[k] - r;
        head_signal[h] += r * r;
        head_noise[h] += err * err;
      }
    }
    for (size_t k = 0; k < ref.size(); ++k) {
      const double err = m.logit_scale * q[k] - ref[k];
      signal += double(ref[k]) * ref[k];
      noise += err * err;
    }
    agree += std::max_element(q.begin(), q.end()) - q.begin() == std::max_element(ref.begin(), ref.end()) - ref.begin();
  }
  std::printf("random tiny DeiT-distilled: logit SQNR int vs FP32 = %.1f dB (head %.1f dB, head_dist %.1f dB), top-1 agreement %d/12\n",
              sqnr_db(signal, noise), sqnr_db(head_signal[0], head_noise[0]), sqnr_db(head_signal[1], head_noise[1]), agree);
  // The bound of the random-ViT integer test (tests/int_engine_test.cc): 20 dB on the logits.
  CHECK(sqnr_db(signal, noise) > 20.0);
  CHECK(sqnr_db(head_signal[0], head_noise[0]) > 20.0);
  CHECK(sqnr_db(head_signal[1], head_noise[1]) > 20.0);
  CHECK(agree >= 10);
}

TEST_CASE("integer DeiT-distilled: same bits on every backend, thread count and batch, file round-trips", "[int_engine][distilled][format]") {
  const ViTConfig c = distilled_config();
  const ViTWeightsF32 fp32 = random_vit(c, 4322);
  QuantizeOptions opt;
  opt.softmax = SoftmaxMode::kIexp;
  opt.attn_bits = 8;
  opt.wide_blocks = {1};
  opt.auto_wide = false;
  const IntViT m = quantize(fp32, opt);
  const auto images = random_model_inputs(c, 5, 8);
  std::vector<int32_t> singles;
  for (const auto& image : images) {
    const std::vector<int32_t> want = run(m, GemmIsa::kRef, image, 1);
    singles.insert(singles.end(), want.begin(), want.end());
    for (GemmIsa isa : kAllGemmIsas) {
      if (!gemm_isa_supported(isa)) {
        WARN("SKIPPED backend " << gemm_isa_name(isa) << ": CPU lacks " << gemm_isa_missing_feature(isa));
        continue;
      }
      for (int threads : {1, 2, 3}) {
        INFO("backend " << gemm_isa_name(isa) << ", threads " << threads);
        REQUIRE(run(m, isa, image, threads) == want);
      }
    }
  }
  for (GemmIsa isa : kAllGemmIsas) {
    if (!gemm_isa_supported(isa)) continue;
    IntViT packed = m;
    packed.prepare(isa);
    ThreadPool pool(2);
    IntWorkspace ws(m, 2, images.size());
    std::vector<uint8_t> pixels;
    for (const auto& im : images) pixels.insert(pixels.end(), im.begin(), im.end());
    std::vector<int32_t> got(singles.size());
    int_vit_forward_batch(packed, kernel_set(isa), images.size(), pixels.data(), ws, got.data(), &pool);
    INFO("batch, backend " << gemm_isa_name(isa));
    REQUIRE(got == singles);
  }
  // The file: head_dist.* stored, save -> load -> save identical, same logits.
  const auto dir = std::filesystem::temp_directory_path() / "intvit_distilled_format_test";
  save_int_model(m, dir);
  auto bytes = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  const SafeTensorsFile st = SafeTensorsFile::open(dir / kIntModelFileName);
  for (const char* t : {"head_dist.weight", "head_dist.bias", "head_dist.multiplier", "head_dist.shift"}) CHECK(st.find(t) != nullptr);
  const IntViT loaded = load_int_model(dir);
  CHECK(loaded.config.distillation_token);
  save_int_model(loaded, dir / "again");
  CHECK(bytes(dir / kIntModelFileName) == bytes(dir / "again" / kIntModelFileName));
  for (size_t i = 0; i < images.size(); ++i) {
    const std::vector<int32_t> got = run(loaded, GemmIsa::kRef, images[i], 1);
    REQUIRE(std::equal(got.begin(), got.end(), singles.begin() + static_cast<std::ptrdiff_t>(i * c.num_classes)));
  }
  std::filesystem::remove_all(dir);
}
