// The integer Swin (engine/int_swin.h): its two Swin-only ops held to integer references (the
// relative-position bias + shift mask add, Eq. 42-43, and the average pool, Eq. 44), masked
// probabilities exactly 0 in every softmax mode, a random tiny Swin (two stages, shifted windows,
// patch merging) tracking its FP32 forward, and the same bits on every backend and thread count.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "engine/int_swin.h"
#include "engine/thread_pool.h"
#include "kernels/backend/backend.h"
#include "kernels/softmax/softmax.h"
#include "int_swin_fixture.h"
#include "random_swin.h"
#include "test_support.h"
#include "weights/calibration.h"
#include "weights/swin_quantizer.h"

using namespace intvit;

namespace {

// tests/int_swin_fixture.h's tiny Swin, with a symmetric pixel normalisation.
SwinConfig tiny_swin_config() {
  SwinConfig c = intvit::tiny_swin_config("swin_int_test");
  c.mean = {0.5, 0.5, 0.5};
  c.std = {0.5, 0.5, 0.5};
  c.validate();
  return c;
}

IntSwin quantized(const SwinWeightsF32& f, const QuantizeOptions& opt, unsigned seed) { return calibrated_swin(f, opt, 8, seed); }

std::vector<int32_t> run(const IntSwin& m, GemmIsa isa, const std::vector<uint8_t>& image, int threads,
                         const IntActivationObserver* observer = nullptr) {
  IntSwin packed = m;
  packed.prepare(isa);
  ThreadPool pool(threads);
  SwinWorkspace ws(packed, threads);
  std::vector<int32_t> logits(static_cast<size_t>(m.config.num_classes));
  int_swin_forward(packed, kernel_set(isa), image.data(), ws, logits.data(), threads > 1 ? &pool : nullptr, observer);
  return logits;
}

// Eq. 6 / Eq. 5 with __int128 arithmetic: round half away from zero of x·2^-e.
int64_t round_shift(__int128 x, int e) {
  if (e <= 0) return static_cast<int64_t>(x << -e);
  const __int128 half = __int128{1} << (e - 1), mag = x < 0 ? -x : x;
  const __int128 r = (mag + half) >> e;
  return static_cast<int64_t>(x < 0 ? -r : r);
}

}  // namespace

TEST_CASE("Swin bias + shift mask add is Eq. 42-43 exactly, saturating", "[swin][int_swin]") {
  std::mt19937 rng(5);
  for (size_t n : {1u, 16u, 49u}) {
    std::vector<int32_t> scores(n * (n + 3)), bias(n * n);
    std::vector<uint8_t> region(n);
    std::uniform_int_distribution<int32_t> acc(-(1 << 24), 1 << 24), b(-kSwinMaxBias, kSwinMaxBias);
    for (auto& v : scores) v = acc(rng);
    for (auto& v : bias) v = b(rng);
    for (auto& r : region) r = static_cast<uint8_t>(rng() % 3);
    scores[0] = INT32_MIN;  // saturates: the sum must clamp, never wrap
    bias[0] = -kSwinMaxBias;
    for (const uint8_t* reg : {static_cast<const uint8_t*>(nullptr), static_cast<const uint8_t*>(region.data())}) {
      std::vector<int32_t> got = scores;
      add_swin_attention_bias(got.data(), n + 3, n, bias.data(), reg);
      for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < n + 3; ++j) {
          int64_t want = scores[i * (n + 3) + j];
          if (j < n) want += bias[i * n + j] + (reg && reg[i] != reg[j] ? int64_t{kSwinMaskLogit} : 0);
          want = std::clamp<int64_t>(want, INT32_MIN, INT32_MAX);
          INFO("n " << n << " i " << i << " j " << j << (reg ? " masked" : ""));
          REQUIRE(got[i * (n + 3) + j] == want);  // columns >= n untouched
        }
      }
    }
  }
}

TEST_CASE("Swin q@kᵀ started from the bias, then the mask alone, is Eq. 42-43's one saturating add", "[swin][int_swin]") {
  // The forward's fused path (matmul_u8u8_nt_add + add_swin_shift_mask) against the separate one
  // (matmul_u8u8_nt + add_swin_attention_bias) on every backend, at the extremes of the contract:
  // |acc| up to head_dim·255² with bias ±2^28 and the mask.
  std::mt19937 rng(43);
  for (size_t hd : {size_t{32}, size_t{96}, kSwinFusedBiasMaxHeadDim}) {
    const size_t n = hd == kSwinFusedBiasMaxHeadDim ? 3 : 49, ld = hd + 5;
    std::vector<uint8_t> q(n * ld), k(n * ld), region(n);
    std::vector<int32_t> bias(n * n);
    for (size_t i = 0; i < q.size(); ++i) {  // rows of all 0 or all 255 reach |acc| = hd·255²
      q[i] = i / ld % 3 == 0 ? 255 : i / ld % 3 == 1 ? 0 : static_cast<uint8_t>(rng());
      k[i] = i / ld % 2 == 0 ? 0 : static_cast<uint8_t>(rng());
    }
    std::uniform_int_distribution<int32_t> b(-kSwinMaxBias, kSwinMaxBias);
    for (auto& v : bias) v = b(rng);
    bias[0] = -kSwinMaxBias, bias[1] = kSwinMaxBias;
    for (auto& r : region) r = static_cast<uint8_t>(rng() % 2);
    for (GemmIsa isa : kAllGemmIsas) {
      if (!gemm_isa_supported(isa)) continue;
      for (const uint8_t* reg : {static_cast<const uint8_t*>(nullptr), static_cast<const uint8_t*>(region.data())}) {
        std::vector<int32_t> want(n * n), got(n * n);
        matmul_u8u8_nt(isa, n, n, hd, q.data(), ld, 0, k.data(), ld, 255, want.data(), n);
        add_swin_attention_bias(want.data(), n, n, bias.data(), reg);
        matmul_u8u8_nt_add(isa, n, n, hd, q.data(), ld, 0, k.data(), ld, 255, bias.data(), n, got.data(), n);
        if (reg) add_swin_shift_mask(got.data(), n, n, reg);
        INFO(gemm_isa_name(isa) << " head_dim " << hd << (reg ? " masked" : ""));
        REQUIRE(got == want);
      }
    }
  }
  // The mask alone saturates (outside the contract it must clamp, never wrap).
  std::vector<int32_t> scores{7, INT32_MIN + 5, -9, INT32_MIN};
  const uint8_t region[2] = {0, 1};
  add_swin_shift_mask(scores.data(), 2, 2, region);
  CHECK(scores == std::vector<int32_t>{7, INT32_MIN, -9 + kSwinMaskLogit, INT32_MIN});
}

TEST_CASE("Swin shift mask gives probability exactly 0 in every softmax mode and width", "[swin][int_swin]") {
  const size_t n = 16;
  std::mt19937 rng(11);
  std::vector<uint8_t> region(n);
  for (size_t i = 0; i < n; ++i) region[i] = static_cast<uint8_t>(i < 6 ? 0 : i < 11 ? 1 : 2);
  for (double s_in : {1.0 / (1 << 24), 1e-4, 0.05}) {
    std::vector<int32_t> scores(n * n), bias(n * n, 0);
    const int32_t range = static_cast<int32_t>(std::min(4.0 / s_in, 4.0e6));  // logits up to ±4 (real)
    for (auto& v : scores) v = static_cast<int32_t>(rng() % (2 * range + 1)) - range;
    add_swin_attention_bias(scores.data(), n, n, bias.data(), region.data());
    for (SoftmaxMode mode : {SoftmaxMode::kIexp, SoftmaxMode::kShiftmax, SoftmaxMode::kLut, SoftmaxMode::kLog2}) {
      for (int bits : {8, 16}) {
        if (mode == SoftmaxMode::kLog2 && bits == 16) continue;
        const SoftmaxParams p = make_softmax_params(mode, s_in, bits == 16 ? 16 : mode == SoftmaxMode::kLog2 ? 4 : 8);
        std::vector<uint8_t> p8(n * n);
        std::vector<uint16_t> p16(n * n);
        if (bits == 16) softmax_rows16_ref(p, n, n, scores.data(), n, p16.data(), n);
        else softmax_rows_ref(p, n, n, scores.data(), n, p8.data(), n);
        for (size_t i = 0; i < n; ++i) {
          for (size_t j = 0; j < n; ++j) {
            if (region[i] == region[j]) continue;
            INFO("mode " << softmax_mode_name(mode) << " bits " << bits << " s_in " << s_in);
            if (bits == 16) REQUIRE(p16[i * n + j] == 0);
            else if (mode == SoftmaxMode::kLog2) REQUIRE(p8[i * n + j] == p.max_code);  // weight 0
            else REQUIRE(p8[i * n + j] == 0);
          }
        }
      }
    }
  }
}

TEST_CASE("Swin average pool is Eq. 44 exactly and within Eq. 7's rounding of the real mean", "[swin][int_swin]") {
  std::mt19937 rng(3);
  for (size_t rows : {1u, 9u, 49u, 196u}) {
    const size_t cols = 37;
    std::vector<uint8_t> in(rows * cols), out(cols);
    for (auto& v : in) v = static_cast<uint8_t>(rng());
    const int32_t z_in = static_cast<int32_t>(rng() % 256), z_out = static_cast<int32_t>(rng() % 256);
    for (double ratio : {1.0, 0.37, 2.5}) {  // s_in / s_out
      // M·2^-31·2^-shift = ratio / rows, with M in [2^30, 2^31).
      int shift = 0;
      double m = ratio / static_cast<double>(rows);
      while (m < 0.5) m *= 2, ++shift;
      while (m >= 1.0) m /= 2, --shift;
      const int32_t mult = static_cast<int32_t>(std::min(std::llround(m * 2147483648.0), 2147483647LL));
      swin_average_pool(in.data(), rows, cols, cols, z_in, mult, shift, z_out, out.data());
      for (size_t c = 0; c < cols; ++c) {
        int64_t sum = 0;
        double real = 0;
        for (size_t t = 0; t < rows; ++t) sum += int64_t{in[t * cols + c]} - z_in;
        real = ratio * static_cast<double>(sum) / static_cast<double>(rows) + z_out;
        // Eq. 7: left shift, then the rounding doubling high multiply, then the rounding shift.
        const int64_t hi = round_shift(static_cast<__int128>(sum * (int64_t{1} << std::max(0, -shift))) * mult, 31);
        const int64_t want = std::clamp<int64_t>(z_out + round_shift(hi, std::max(0, shift)), 0, 255);
        INFO("rows " << rows << " col " << c << " ratio " << ratio);
        REQUIRE(out[c] == want);
        // Eq. 7 rounds twice (at 2^-31, then by 2^shift): ½ step plus ½ of 2^-shift, plus M's own
        // rounding (2^-31 relative).
        const double bound = 0.5 + (shift > 0 ? std::ldexp(0.5, -shift) : 0.0) + std::fabs(real - z_out) * 1e-9;
        if (real >= 0 && real <= 255) REQUIRE(std::fabs(out[c] - real) <= bound);
      }
    }
  }
}

TEST_CASE("integer Swin tracks its FP32 forward on a random two-stage Swin", "[swin][int_swin]") {
  const SwinConfig c = tiny_swin_config();
  const SwinWeightsF32 fp32 = random_swin(c, 77);
  for (SoftmaxMode mode : {SoftmaxMode::kLut, SoftmaxMode::kIexp}) {
    QuantizeOptions opt;
    opt.softmax = mode;
    opt.attn_bits = mode == SoftmaxMode::kLut ? 16 : 8;
    if (mode == SoftmaxMode::kIexp) opt.wide_blocks = {0, 3};  // 16-bit MLPs in the first and the last block
    const IntSwin m = quantized(fp32, opt, 21);
    CHECK(m.stages[1].blocks[1].attn_mlp.gelu_in.bits == (mode == SoftmaxMode::kIexp ? 16 : 8));
    const auto images = swin_inputs(c, 12, 22);
    double signal = 0, noise = 0;
    int agree = 0;
    for (const auto& image : images) {
      const std::vector<float> ref = swin_forward_f32(fp32, image.data());
      const std::vector<int32_t> q = run(m, GemmIsa::kRef, image, 1);
      for (size_t k = 0; k < ref.size(); ++k) {
        const double err = m.logit_scale * q[k] - ref[k];
        signal += double(ref[k]) * ref[k];
        noise += err * err;
      }
      agree += std::max_element(q.begin(), q.end()) - q.begin() == std::max_element(ref.begin(), ref.end()) - ref.begin();
    }
    const double sqnr = 10 * std::log10(signal / noise);
    std::printf("random tiny Swin (%s, %d-bit probabilities, %zu 16-bit MLPs): logit SQNR int vs FP32 = %.1f dB, top-1 agreement %d/12\n",
                softmax_mode_name(mode), opt.attn_bits, opt.wide_blocks.size(), sqnr, agree);
    CHECK(sqnr > 20.0);  // the random-ViT bound (tests/int_engine_test.cc)
    CHECK(agree >= 10);
  }
}

TEST_CASE("integer Swin: observed tensors are FP32's names and shapes, and observing keeps the bits", "[swin][int_swin]") {
  const SwinConfig c = tiny_swin_config();
  const SwinWeightsF32 fp32 = random_swin(c, 78);
  const IntSwin m = quantized(fp32, QuantizeOptions{}, 23);
  const auto image = swin_inputs(c, 1, 24)[0];
  std::vector<std::pair<std::string, std::vector<double>>> fp;
  swin_forward_f32(fp32, image.data(), [&](std::string_view name, const float* d, size_t r, size_t cols) {
    fp.emplace_back(std::string(name), std::vector<double>(d, d + r * cols));
  });
  size_t seen = 0, worse = 0;
  const IntActivationObserver observe = [&](std::string_view name, const IntActivation& a) {
    auto it = std::find_if(fp.begin(), fp.end(), [&](const auto& e) { return e.first == name; });
    INFO("tensor " << name);
    REQUIRE(it != fp.end());
    REQUIRE(it->second.size() == a.rows * a.cols);
    double s = 0, e = 0;
    for (size_t r = 0; r < a.rows; ++r) {
      for (size_t col = 0; col < a.cols; ++col) {
        const double x = it->second[r * a.cols + col], d = a.real(r, col) - x;
        s += x * x, e += d * d;
      }
    }
    ++seen;
    if (10 * std::log10(s / std::max(e, 1e-30)) < 15.0) {
      std::printf("  %s: SQNR %.1f dB\n", std::string(name).c_str(), 10 * std::log10(s / std::max(e, 1e-30)));
      ++worse;
    }
  };
  const std::vector<int32_t> observed = run(m, GemmIsa::kRef, image, 1, &observe);
  CHECK(observed == run(m, GemmIsa::kRef, image, 1));
  // patch embed, merge (3), per block norm1 in/out, q k v, attn.out, norm2 in/out, fc1, gelu (10 × 4),
  // norm in/out, pool, logits.
  CHECK(seen == 1 + 3 + 10 * 4 + 4);
  CHECK(worse == 0);  // every observed tensor within 15 dB of FP32
}

TEST_CASE("integer Swin: same bits on every backend and thread count", "[swin][int_swin]") {
  const SwinConfig c = tiny_swin_config();
  const SwinWeightsF32 fp32 = random_swin(c, 79);
  for (SoftmaxMode mode : {SoftmaxMode::kLut, SoftmaxMode::kLog2}) {
    QuantizeOptions opt;
    opt.softmax = mode;
    opt.attn_bits = mode == SoftmaxMode::kLog2 ? 4 : 16;
    if (mode == SoftmaxMode::kLut) opt.wide_blocks = {1, 2};  // s16 GELU and fc2 input on every backend
    const IntSwin m = quantized(fp32, opt, 25);
    for (const auto& image : swin_inputs(c, 3, 26)) {
      const std::vector<int32_t> want = run(m, GemmIsa::kRef, image, 1);
      for (GemmIsa isa : kAllGemmIsas) {
        if (!gemm_isa_supported(isa)) {
          WARN("SKIPPED backend " << gemm_isa_name(isa) << ": CPU lacks " << gemm_isa_missing_feature(isa));
          continue;
        }
        for (int threads : {1, 3}) {
          INFO("backend " << gemm_isa_name(isa) << ", threads " << threads << ", softmax " << softmax_mode_name(mode));
          REQUIRE(run(m, isa, image, threads) == want);
        }
      }
    }
  }
}

// Tagged [threads]: tests/tsan/run_tsan.sh runs it under ThreadSanitizer (intvit's own kernels, no
// oneDNN). Without TSan a race between row steps (two buffers once shared bytes at different row
// strides) shows up as a repeat that differs.
TEST_CASE("integer Swin: threads of one forward write disjoint bytes (same bits on every repeat)", "[swin][int_swin][threads]") {
  const SwinConfig c = tiny_swin_config();
  QuantizeOptions opt;
  opt.wide_blocks = {1, 2};
  const IntSwin m = quantized(random_swin(c, 83), opt, 30);
  const GemmIsa isa = best_native_gemm_isa();
  for (const auto& image : swin_inputs(c, 2, 31)) {
    const std::vector<int32_t> want = run(m, GemmIsa::kRef, image, 1);
    for (int rep = 0; rep < 6; ++rep) {
      INFO("backend " << gemm_isa_name(isa) << ", 4 threads, repeat " << rep);
      REQUIRE(run(m, isa, image, 4) == want);
    }
  }
}

TEST_CASE("Swin quantizer: 16-bit MLP blocks numbered over all stages, chosen by the ViT's range rule", "[swin][int_swin]") {
  const SwinConfig c = tiny_swin_config();
  const SwinWeightsF32 fp32 = random_swin(c, 82);
  const CalibrationStats stats = calibrate(fp32, swin_inputs(c, 4, 29), ObserverKind::kMinMax);
  QuantizeOptions opt;
  opt.wide_blocks = {2};  // stage 1, block 0
  QuantizeReport report;
  const IntSwin m = quantize_swin(fp32, stats, opt, &report);
  for (int s = 0; s < 2; ++s) {
    for (int j = 0; j < 2; ++j) CHECK(m.stages[s].blocks[j].attn_mlp.fc2.input.bits == (s == 1 && j == 0 ? 16 : 8));
  }
  CHECK(report.wide_blocks == std::vector<int>{2});
  opt.wide_blocks = {4};
  CHECK_THROWS_WITH(quantize_swin(fp32, stats, opt), Catch::Contains("wide block index out of range: 4"));
  // Auto: a ratio below 1 promotes every block above the median, a huge one none.
  CHECK(choose_swin_wide_blocks(stats, c, 1e9).empty());
  CHECK(choose_swin_wide_blocks(stats, c, 0.0).size() == 4u);
}

TEST_CASE("integer Swin forward rejects a workspace of another geometry and an unpacked model", "[swin][int_swin]") {
  const SwinConfig c = tiny_swin_config();
  const IntSwin m = quantized(random_swin(c, 80), QuantizeOptions{}, 27);
  const auto image = swin_inputs(c, 1, 28)[0];
  std::vector<int32_t> logits(static_cast<size_t>(c.num_classes));
  SwinWorkspace ws(m);
  CHECK_THROWS_WITH(int_swin_forward(m, kernel_set(GemmIsa::kRef), image.data(), ws, logits.data()), Catch::Contains("not packed"));
  SwinConfig other = c;
  other.depths = {2, 4};
  IntSwin bigger = quantized(random_swin(other, 81), QuantizeOptions{}, 27);
  bigger.prepare(GemmIsa::kRef);
  CHECK_THROWS_WITH(int_swin_forward(bigger, kernel_set(GemmIsa::kRef), image.data(), ws, logits.data()), Catch::Contains("geometry"));
}
