// The integer engine end to end on a small random ViT: quantize, run, and check that every backend,
// thread count and batch size gives the same bits, that the file format round-trips and rejects
// corrupt files, and that the integer logits track the FP32 ones.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "coverage.h"
#include "random_vit.h"
#include "engine/dataset.h"
#include "engine/int_vit.h"
#include "engine/model.h"
#include "engine/session.h"
#include "engine/thread_pool.h"
#include "test_support.h"
#include "weights/int_model_file.h"
#include "weights/quantizer.h"
#include "models/safetensors.h"

using namespace intvit;
using intvit::test::tiny_config;

namespace {

using test::random_vit;

std::vector<std::vector<uint8_t>> random_images(const ViTConfig& c, size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<uint8_t>> images(n, std::vector<uint8_t>(static_cast<size_t>(c.image_size) * c.image_size * 3));
  for (auto& im : images) {
    // Smooth-ish content: a random gradient plus noise, so patches are not pure noise.
    const int gx = static_cast<int>(rng() % 8), gy = static_cast<int>(rng() % 8);
    for (size_t i = 0; i < im.size(); ++i) {
      const int x = static_cast<int>((i / 3) % c.image_size), y = static_cast<int>((i / 3) / c.image_size);
      im[i] = static_cast<uint8_t>(std::clamp(gx * x + gy * y + static_cast<int>(rng() % 64), 0, 255));
    }
  }
  return images;
}

struct Fixture {
  ViTConfig config = tiny_config();
  ViTWeightsF32 fp32 = random_vit(config, 1234);
  std::vector<std::vector<uint8_t>> calib = random_images(config, 16, 99);
  std::vector<std::vector<uint8_t>> eval = random_images(config, 12, 7);

  IntViT quantize(const QuantizeOptions& opt) const {
    IntViT m = quantize_vit(fp32, calibrate(fp32, calib, ObserverKind::kMinMax), opt);
    m.labels.assign(config.num_classes, "label");
    return m;
  }
};

std::vector<int32_t> run(const IntViT& m, GemmIsa isa, const std::vector<uint8_t>& image, int threads) {
  IntViT packed = m;
  packed.prepare(isa);
  ThreadPool pool(threads);
  IntWorkspace ws(m, threads);
  std::vector<int32_t> logits(m.config.num_classes);
  int_vit_forward(packed, kernel_set(isa), image.data(), ws, logits.data(), &pool);
  return logits;
}

// The first n images as one batched forward (int_vit_forward_batch): logits [n][classes].
std::vector<int32_t> run_batch(const IntViT& m, GemmIsa isa, const std::vector<std::vector<uint8_t>>& images, size_t n, int threads) {
  IntViT packed = m;
  packed.prepare(isa);
  ThreadPool pool(threads);
  IntWorkspace ws(m, threads, n);
  std::vector<uint8_t> pixels;
  for (size_t i = 0; i < n; ++i) pixels.insert(pixels.end(), images[i].begin(), images[i].end());
  std::vector<int32_t> logits(n * m.config.num_classes);
  int_vit_forward_batch(packed, kernel_set(isa), n, pixels.data(), ws, logits.data(), &pool);
  return logits;
}

}  // namespace

TEST_CASE("integer ViT is bit-identical across backends, thread counts and modes", "[int_engine]") {
  const Fixture f;
  struct Mode {
    SoftmaxMode softmax;
    GeluMode gelu;
    int attn_bits;
    std::vector<int> wide;
    bool log2_renormalize = true;
  };
  const Mode modes[] = {{SoftmaxMode::kIexp, GeluMode::kLut, 8, {}},
                        {SoftmaxMode::kShiftmax, GeluMode::kShiftgelu, 8, {1}},
                        {SoftmaxMode::kLut, GeluMode::kIgelu, 8, {0}},
                        {SoftmaxMode::kLog2, GeluMode::kLut, 4, {0, 1}},
                        {SoftmaxMode::kLog2, GeluMode::kIgelu, 8, {}, false},
                        {SoftmaxMode::kIexp, GeluMode::kLut, 16, {1}},
                        {SoftmaxMode::kShiftmax, GeluMode::kIgelu, 16, {}},
                        {SoftmaxMode::kLut, GeluMode::kLut, 16, {}}};
  std::set<NonlinearIsa> nonlinear_seen;  // the backends vary the nonlinear kernels too
  for (const Mode& mode : modes) {
    QuantizeOptions opt;
    opt.softmax = mode.softmax;
    opt.gelu = mode.gelu;
    opt.attn_bits = mode.attn_bits;
    opt.wide_blocks = mode.wide;
    opt.auto_wide = false;
    opt.log2_renormalize = mode.log2_renormalize;
    const IntViT m = f.quantize(opt);
    std::vector<int32_t> singles;  // every eval image, one forward each, reference backend
    for (const auto& image : f.eval) {
      const std::vector<int32_t> want = run(m, GemmIsa::kRef, image, 1);
      singles.insert(singles.end(), want.begin(), want.end());
      for (GemmIsa isa : kAllGemmIsas) {
        if (!gemm_isa_supported(isa)) {
          WARN("SKIPPED backend " << gemm_isa_name(isa) << ": CPU lacks " << gemm_isa_missing_feature(isa));
          test::record_variant_unsupported(std::string("engine:") + gemm_isa_name(isa), gemm_isa_missing_feature(isa));
          continue;
        }
        test::record_variant_ran(std::string("engine:") + gemm_isa_name(isa));
        nonlinear_seen.insert(kernel_set(isa).nonlinear);
        for (int threads : {1, 2, 3}) {
          INFO("softmax " << softmax_mode_name(mode.softmax) << ", attn bits " << mode.attn_bits << ", gelu "
                          << gelu_mode_name(mode.gelu) << ", backend "
                          << gemm_isa_name(isa) << ", threads " << threads);
          REQUIRE(run(m, isa, image, threads) == want);
        }
      }
    }
    // Batched forwards (one GEMM per linear over all images, (image, head, row block) attention
    // tasks) give each image's single-run bits.
    for (GemmIsa isa : kAllGemmIsas) {
      if (!gemm_isa_supported(isa)) continue;  // reported above
      for (int threads : {1, 2, 3}) {
        for (size_t n : {size_t{2}, f.eval.size()}) {
          INFO("softmax " << softmax_mode_name(mode.softmax) << ", attn bits " << mode.attn_bits << ", gelu "
                          << gelu_mode_name(mode.gelu) << ", backend " << gemm_isa_name(isa) << ", threads " << threads
                          << ", batch " << n);
          const std::vector<int32_t> got = run_batch(m, isa, f.eval, n, threads);
          REQUIRE(std::equal(got.begin(), got.end(), singles.begin()));
        }
      }
    }
  }
  for (NonlinearIsa isa : kAllNonlinearIsas) {
    INFO("nonlinear variant " << nonlinear_isa_name(isa));
    CHECK(nonlinear_seen.count(isa) == (nonlinear_isa_supported(isa) ? 1u : 0u));
  }
}

TEST_CASE("batched forward checks its workspace's batch size", "[int_engine]") {
  const Fixture f;
  IntViT m = f.quantize({});
  m.prepare(GemmIsa::kRef);
  std::vector<uint8_t> pixels(3 * f.eval[0].size());
  std::vector<int32_t> logits(3 * f.config.num_classes);
  IntWorkspace ws2(m, 1, 2);
  CHECK(ws2.batch() == 2);
  CHECK(ws2.bytes() > IntWorkspace(m, 1, 1).bytes());
  CHECK_THROWS_AS(int_vit_forward_batch(m, kernel_set(GemmIsa::kRef), 3, pixels.data(), ws2, logits.data()), Error);
  CHECK_THROWS_AS(int_vit_forward_batch(m, kernel_set(GemmIsa::kRef), 0, pixels.data(), ws2, logits.data()), Error);
  CHECK_NOTHROW(int_vit_forward_batch(m, kernel_set(GemmIsa::kRef), 2, pixels.data(), ws2, logits.data()));
  CHECK_THROWS_AS(IntWorkspace(m, 1, 0), Error);
  CHECK_THROWS_AS(IntWorkspace(m, 1, kMaxWorkspaceBatch + 1), Error);
}

TEST_CASE("integer logits track the FP32 reference on a random ViT", "[int_engine]") {
  const Fixture f;
  QuantizeOptions opt;
  opt.auto_wide = false;
  const IntViT m = f.quantize(opt);
  double signal = 0, noise = 0;
  for (const auto& image : f.eval) {
    const std::vector<float> ref = vit_forward_f32(f.fp32, image.data());
    const std::vector<int32_t> q = run(m, resolve_backend(""), image, 1);
    for (size_t c = 0; c < ref.size(); ++c) {
      const double err = m.logit_scale * q[c] - ref[c];
      signal += double(ref[c]) * ref[c];
      noise += err * err;
    }
  }
  const double sqnr_db = 10 * std::log10(signal / noise);
  std::printf("random tiny ViT: logit SQNR int vs FP32 = %.1f dB\n", sqnr_db);
  // W8A8 on a 2-block random network: 8-bit activations give ~25-35 dB per tensor; 20 dB on
  // the logits means the integer path computes the same function, not noise.
  CHECK(sqnr_db > 20.0);
}

TEST_CASE("sessions: batch and thread pool give the single-image bits", "[int_engine]") {
  const Fixture f;
  const auto dir = std::filesystem::temp_directory_path() / "intvit_session_test";
  save_int_model(f.quantize({}), dir);
  std::shared_ptr<const Model> model = load_model(dir);
  const size_t in_bytes = f.eval[0].size(), classes = f.config.num_classes;
  // 40 images (the 12 eval images repeated): several 8-image passes.
  const size_t total = 40;
  std::vector<uint8_t> batch;
  for (size_t i = 0; i < total; ++i) batch.insert(batch.end(), f.eval[i % f.eval.size()].begin(), f.eval[i % f.eval.size()].end());
  std::vector<int32_t> single(total * classes);
  auto s1 = create_session(model, {1, ""});
  for (size_t i = 0; i < total; ++i) s1->run_int(&batch[i * in_bytes], &single[i * classes]);
  // A session starts with a one-image arena.
  CHECK(s1->workspace_bytes() == IntWorkspace(f.quantize({}), 1).bytes());
  for (GemmIsa isa : kAllGemmIsas) {
    if (!gemm_isa_supported(isa)) {
      WARN("SKIPPED backend " << gemm_isa_name(isa) << ": CPU lacks " << gemm_isa_missing_feature(isa));
      continue;
    }
    for (int threads : {1, 2, 3}) {
      auto s = create_session(model, {threads, gemm_isa_name(isa)});
      const size_t one_image = s->workspace_bytes();
      size_t grown = one_image;
      for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{8}, size_t{2}, total}) {
        std::vector<int32_t> out(n * classes);
        s->run_batch_int(n, batch.data(), out.data());
        INFO("backend " << gemm_isa_name(isa) << ", threads " << threads << ", batch " << n);
        REQUIRE(std::equal(out.begin(), out.end(), single.begin()));
        // The workspace grows with the biggest pass so far (at most 8 images), never shrinks.
        CHECK(s->workspace_bytes() >= grown);
        if (n == 1) CHECK(s->workspace_bytes() == one_image);
        if (n > 1 && n <= 8) CHECK(s->workspace_bytes() > one_image);
        grown = s->workspace_bytes();
      }
      // Single runs on the grown workspace keep their bits.
      std::vector<int32_t> again(classes);
      s->run_int(&batch[5 * in_bytes], again.data());
      REQUIRE(std::equal(again.begin(), again.end(), &single[5 * classes]));
    }
  }
  CHECK_THROWS_AS(create_session(model, {0, ""}), Error);
  CHECK_THROWS_AS(create_session(model, {1, "no-such-backend"}), Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("integer model file round-trips and rejects corruption", "[int_engine][format]") {
  const Fixture f;
  const IntViT m = f.quantize({});
  const auto dir = std::filesystem::temp_directory_path() / "intvit_format_test";
  QuantizeOptions attn16;
  attn16.attn_bits = 16;
  const IntViT m16 = f.quantize(attn16);
  save_int_model(m16, dir);
  const IntViT loaded16 = load_int_model(dir);
  CHECK(loaded16.attn_bits == 16);
  for (const auto& image : f.eval) REQUIRE(run(loaded16, GemmIsa::kRef, image, 1) == run(m16, GemmIsa::kRef, image, 1));
  // log2 softmax: the row renormalization flag survives the file and changes the computation.
  QuantizeOptions log2;
  log2.softmax = SoftmaxMode::kLog2;
  log2.attn_bits = 4;
  const IntViT renorm = f.quantize(log2);
  log2.log2_renormalize = false;
  const IntViT plain = f.quantize(log2);
  CHECK(renorm.log2_renormalize);
  CHECK_FALSE(plain.log2_renormalize);
  save_int_model(renorm, dir);
  const IntViT loaded_renorm = load_int_model(dir);
  CHECK(loaded_renorm.log2_renormalize);
  bool renorm_differs = false;
  for (const auto& image : f.eval) {
    const std::vector<int32_t> want = run(renorm, GemmIsa::kRef, image, 1);
    REQUIRE(run(loaded_renorm, GemmIsa::kRef, image, 1) == want);
    renorm_differs |= run(plain, GemmIsa::kRef, image, 1) != want;
  }
  CHECK(renorm_differs);
  save_int_model(m, dir);
  const IntViT loaded = load_int_model(dir);
  CHECK_FALSE(loaded.log2_renormalize);
  for (const auto& image : f.eval) REQUIRE(run(loaded, GemmIsa::kRef, image, 1) == run(m, GemmIsa::kRef, image, 1));

  std::ifstream in(dir / kIntModelFileName, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() > 1000);
  // Truncations anywhere: a clean intvit::Error, never a crash.
  for (size_t len : {size_t{0}, size_t{7}, size_t{8}, size_t{100}, bytes.size() / 2, bytes.size() - 1}) {
    CHECK_THROWS_AS(load_int_model_from_buffer(bytes.data(), len), Error);
  }
  // Edits inside the JSON header: either a clean load or an intvit::Error.
  std::mt19937 rng(2024);
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  int rejected = 0;
  for (int i = 0; i < 300; ++i) {
    std::vector<char> bad = bytes;
    const size_t pos = 8 + rng() % header_len;
    bad[pos] = static_cast<char>(rng());
    try {
      (void)load_int_model_from_buffer(bad.data(), bad.size());
    } catch (const Error&) {
      ++rejected;
    }
  }
  CHECK(rejected > 0);
  // Semantic corruption the container cannot see.
  auto with_metadata = [&](const std::string& key, const std::string& from, const std::string& to) {
    std::string s(bytes.begin(), bytes.end());
    const size_t at = s.find(from, s.find(key));
    REQUIRE(at != std::string::npos);
    s.replace(at, from.size(), to);
    return s;
  };
  const std::string wrong_version = with_metadata("intvit.version", "\"2\"", "\"9\"");
  CHECK_THROWS_WITH(load_int_model_from_buffer(wrong_version.data(), wrong_version.size()), Catch::Contains("version 9"));
  const std::string bad_bits = with_metadata("intvit.graph", "\\\"bits\\\":8", "\\\"bits\\\":7");
  CHECK_THROWS_WITH(load_int_model_from_buffer(bad_bits.data(), bad_bits.size()), Catch::Contains("bits"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("ViT-Ti integer model keeps FP32 accuracy on the shared images", "[int_engine][shared][accuracy]") {
  INTVIT_REQUIRE_SHARED();
  // Issue 5's protocol: calibrate on the first 100 shared images, evaluate on all 500 with
  // intvit's own preprocessing, compare with the FP32 engine on the same inputs.
  const auto shared = test::shared_dir();
  const auto model_dir = shared / "models" / "vit_tiny_patch16_224";
  const auto images_dir = shared / "data" / "imagenet-sample";
  const ViTWeightsF32 fp32 = load_vit_f32(model_dir);
  const std::vector<LabeledImage> images = load_dataset(images_dir, images_dir / "labels.csv", fp32.config, 0);
  std::vector<std::vector<uint8_t>> calib;
  for (size_t i = 0; i < 100; ++i) calib.push_back(images[i].pixels);
  const CalibrationStats stats = calibrate(fp32, calib, ObserverKind::kMinMax);  // intvit quantize's default
  // The 2,000 forwards below are independent: spread over the cores (this is CI's longest test;
  // each result lands in its image's slot, so the counts do not depend on the thread count).
  ThreadPool pool(static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u)));
  std::vector<long> fp32_pred(images.size());
  pool.parallel_for(images.size(), [&](size_t i, int) {
    const std::vector<float> ref = vit_forward_f32(fp32, images[i].pixels.data());
    fp32_pred[i] = std::max_element(ref.begin(), ref.end()) - ref.begin();
  });
  int top1_fp32 = 0;
  for (size_t i = 0; i < images.size(); ++i) top1_fp32 += fp32_pred[i] == images[i].label;
  const double n = static_cast<double>(images.size());
  struct Target {
    const char* name;
    SoftmaxMode softmax;
    int attn_bits;
    double min_agreement, max_top1_drop;
  };
  // Calibration is the same on every host (the FP32 product is one FMA chain per output,
  // models/fp32-gemm-kernels.h) and JPEGs decode to PIL's pixels (libjpeg-turbo), so these numbers
  // are the same everywhere; the margins are for changes to the quantizer (1 image of 500 = 0.2).
  // The default (16-bit probabilities) keeps the mission's top-1 within 0.5 point of FP32:
  // measured 97.2 % agreement, 0.4 point (FP32 82.6 %). Issue 5's W8A8 target (8-bit attention):
  // >= 95 % agreement, top-1 within 1.0 point: measured 95.8 % / 0.6.
  const Target targets[] = {{"W8A8, iexp softmax, 8-bit probabilities", SoftmaxMode::kIexp, 8, 95.0, 1.0},
                            {"default: lut softmax, 16-bit probabilities", SoftmaxMode::kLut, 16, 96.5, 0.5},
                            // 4-bit log2 codes (row-renormalized, Eq. 24): target top-1 within 1.5
                            // points, measured 95.6 % / -0.4; guard 95 % / 2.0.
                            {"4-bit log2 softmax", SoftmaxMode::kLog2, 4, 95.0, 2.0}};
  for (const Target& target : targets) {
    QuantizeOptions opt;
    opt.softmax = target.softmax;
    opt.attn_bits = target.attn_bits;
    IntViT m = quantize_vit(fp32, stats, opt);
    const GemmIsa isa = resolve_backend("");
    m.prepare(isa);
    std::deque<IntWorkspace> ws;  // not movable: built in place
    for (int t = 0; t < pool.threads(); ++t) ws.emplace_back(m);
    std::vector<std::vector<int32_t>> out(pool.threads(), std::vector<int32_t>(1000));
    std::vector<long> int_pred(images.size());
    pool.parallel_for(images.size(), [&](size_t i, int thread) {
      std::vector<int32_t>& logits = out[static_cast<size_t>(thread)];
      int_vit_forward(m, kernel_set(isa), images[i].pixels.data(), ws[static_cast<size_t>(thread)], logits.data());
      int_pred[i] = std::max_element(logits.begin(), logits.end()) - logits.begin();
    });
    int agree = 0, top1_int = 0;
    for (size_t i = 0; i < images.size(); ++i) {
      agree += int_pred[i] == fp32_pred[i];
      top1_int += int_pred[i] == images[i].label;
    }
    std::printf("ViT-Ti on %zu shared images (%s): FP32 top-1 %.1f %%, int top-1 %.1f %%, agreement %.1f %%\n",
                images.size(), target.name, 100 * top1_fp32 / n, 100 * top1_int / n, 100 * agree / n);
    INFO(target.name);
    CHECK(100 * agree / n >= target.min_agreement);
    CHECK(100 * (top1_fp32 - top1_int) / n <= target.max_top1_drop);
  }
}

TEST_CASE("QLinear::requant carries its arrays' extremes only while they are current", "[int_engine]") {
  QLinear l;
  l.in = 8, l.out = 3;
  l.weight.assign(24, 1);
  l.bias.assign(3, 0);
  l.multiplier = {1 << 30, (1 << 30) + 5, INT32_MAX};
  l.shift = {4, -2, 9};
  CHECK(l.requant().extremes == nullptr);  // before prepare(): the output stage scans
  l.prepare(GemmIsa::kRef);
  const RequantParams r = l.requant();
  REQUIRE(r.extremes != nullptr);
  CHECK(r.extremes->min_multiplier == 1 << 30);
  CHECK(r.extremes->min_shift == -2);
  CHECK(r.extremes->max_shift == 9);
  l.multiplier = {1, 2, 3, 4};  // new arrays after prepare(): no stale extremes
  CHECK(l.requant().extremes == nullptr);
}
