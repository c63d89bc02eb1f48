// The resampler's SIMD passes (models/resize-kernels.h) held to the scalar reference byte for byte:
// whole resizes over random and edge-case images, sizes, windows and both filters; the raw passes
// on weight tables at the int32 bounds of the contract; and every variant against PIL's goldens.
// Seeds are printed on failure and overridable with INTVIT_TEST_SEED.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "coverage.h"
#include "kernels/error.h"
#include "models/image.h"
#include "models/resize-kernels.h"
#include "models/resize.h"
#include "nonlinear_tester.h"  // nonlinear_seed
#include "test_support.h"

namespace intvit {
namespace {

constexpr ResizeFilter kFilters[] = {ResizeFilter::kBilinear, ResizeFilter::kBicubic};

const char* filter_name(ResizeFilter f) { return f == ResizeFilter::kBicubic ? "bicubic" : "bilinear"; }

// The SIMD variants this CPU runs; each one it cannot is a visible skip, and both are recorded
// for the coverage summary under the names of the two passes.
std::vector<ResizeIsa> runnable_simd_variants() {
  std::vector<ResizeIsa> out;
  for (ResizeIsa isa : kAllResizeIsas) {
    if (isa == ResizeIsa::kRef) continue;
    const std::string suffix = std::string("__") + resize_isa_name(isa);
    for (const char* pass : {"resample_horizontal_rgb8", "resample_vertical_u8"}) {
      if (resize_isa_supported(isa)) {
        test::record_variant_ran(pass + suffix);
      } else {
        test::record_variant_unsupported(pass + suffix, std::string("CPU lacks ") + resize_isa_name(isa));
      }
    }
    if (resize_isa_supported(isa)) {
      out.push_back(isa);
    } else {
      WARN("SKIPPED: resize passes __" << resize_isa_name(isa) << " (CPU lacks it); not held to the reference");
    }
  }
  return out;
}

Image random_image(std::mt19937_64& rng, int width, int height) {
  Image image{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3)};
  const int style = static_cast<int>(rng() % 4);  // noise, or mostly 0 / 255 to probe the clip
  for (auto& v : image.rgb) {
    const uint8_t noise = static_cast<uint8_t>(rng());
    v = style == 0 ? noise : style == 1 ? (noise & 1 ? 255 : 0) : style == 2 ? (noise < 8 ? noise : 255) : noise / 2;
  }
  return image;
}

// Where two images first differ, for a readable failure.
std::string first_difference(const Image& got, const Image& want) {
  for (size_t i = 0; i < std::min(got.rgb.size(), want.rgb.size()); ++i) {
    if (got.rgb[i] != want.rgb[i]) {
      return "byte " + std::to_string(i) + " (x=" + std::to_string(i / 3 % got.width) + " y=" +
             std::to_string(i / 3 / got.width) + "): " + std::to_string(got.rgb[i]) + " vs " + std::to_string(want.rgb[i]);
    }
  }
  return got.rgb.size() == want.rgb.size() ? "identical" : "sizes differ";
}

struct WindowCase {
  int out_w, out_h, left, top, crop_w, crop_h;
  ResizeFilter filter;
};

// One window of one resize on every runnable SIMD variant, against the reference.
void check_window(const std::vector<ResizeIsa>& isas, const Image& image, const WindowCase& c) {
  const Image want = resize_window_isa(ResizeIsa::kRef, image, c.out_w, c.out_h, c.filter, c.left, c.top, c.crop_w, c.crop_h);
  for (ResizeIsa isa : isas) {
    const Image got = resize_window_isa(isa, image, c.out_w, c.out_h, c.filter, c.left, c.top, c.crop_w, c.crop_h);
    INFO(resize_isa_name(isa) << ": " << image.width << "x" << image.height << " -> " << c.out_w << "x" << c.out_h
                              << " window " << c.crop_w << "x" << c.crop_h << "+" << c.left << "+" << c.top << " "
                              << filter_name(c.filter) << ": " << first_difference(got, want));
    REQUIRE(got.width == want.width);
    REQUIRE(got.height == want.height);
    REQUIRE(got.rgb == want.rgb);
  }
}

}  // namespace

TEST_CASE("resize kernels: every variant equals PIL's goldens", "[resize]") {
  runnable_simd_variants();  // records the variants (skips are reported there)
  const auto dir = test::source_dir() / "tests/data/images/resize";
  std::ifstream manifest(dir / "manifest.txt");
  REQUIRE(manifest.good());
  int cases = 0;
  for (std::string line; std::getline(manifest, line);) {
    std::istringstream fields(line);
    std::string kind, input, output, filter;
    int width = 0, height = 0;
    if (!(fields >> kind >> input >> output >> width >> height >> filter) || kind != "resize") continue;
    const Image source = decode_image_file(dir / input), want = decode_image_file(dir / output);
    for (ResizeIsa isa : kAllResizeIsas) {
      if (!resize_isa_supported(isa)) continue;
      const ResizeFilter f = filter == "bicubic" ? ResizeFilter::kBicubic : ResizeFilter::kBilinear;
      const Image got = resize_window_isa(isa, source, width, height, f, 0, 0, width, height);
      INFO(line << " on " << resize_isa_name(isa) << ": " << first_difference(got, want));
      CHECK(got.rgb == want.rgb);
    }
    ++cases;
  }
  CHECK(cases >= 20);
}

TEST_CASE("resize kernels: SIMD equals the reference at the edges", "[resize]") {
  const std::vector<ResizeIsa> isas = runnable_simd_variants();
  if (isas.empty()) return;
  std::mt19937_64 rng(1);
  // 1-pixel images and outputs, sizes around the vector widths (4 and 8 taps, 16 and 32 bytes),
  // windows touching each edge of the output.
  const int sizes[] = {1, 2, 3, 5, 6, 11, 16, 17, 33};
  for (int in_w : sizes) {
    for (int in_h : {1, 4, 13}) {
      const Image image = random_image(rng, in_w, in_h);
      for (int out_w : sizes) {
        for (int out_h : {1, 3, 29}) {
          for (ResizeFilter f : kFilters) {
            check_window(isas, image, {out_w, out_h, 0, 0, out_w, out_h, f});
            const int cw = (out_w + 1) / 2, ch = (out_h + 1) / 2;
            check_window(isas, image, {out_w, out_h, out_w - cw, out_h - ch, cw, ch, f});  // bottom right
            check_window(isas, image, {out_w, out_h, 0, out_h - 1, out_w, 1, f});           // last row
            check_window(isas, image, {out_w, out_h, out_w - 1, 0, 1, out_h, f});           // last column
          }
        }
      }
    }
  }
  // Huge aspect ratios and downscales: windows of thousands of taps, in both passes.
  for (ResizeFilter f : kFilters) {
    check_window(isas, random_image(rng, 3000, 2), {3, 1, 0, 0, 3, 1, f});
    check_window(isas, random_image(rng, 2, 3000), {1, 4, 0, 0, 1, 4, f});
    check_window(isas, random_image(rng, 1, 700), {700, 1, 0, 0, 700, 1, f});
    check_window(isas, random_image(rng, 700, 1), {1, 700, 0, 0, 1, 700, f});
    check_window(isas, random_image(rng, 300, 7), {41, 13, 3, 2, 37, 9, f});
    // More tap pairs than one horizontal weight table holds (the passes split the row in blocks).
    check_window(isas, random_image(rng, 4000, 2), {1100, 1, 0, 0, 1100, 1, f});
  }
}

TEST_CASE("resize kernels: SIMD equals the reference on random images, sizes and windows", "[resize]") {
  const std::vector<ResizeIsa> isas = runnable_simd_variants();
  if (isas.empty()) return;
  const uint64_t seed = test::nonlinear_seed(20261205);
  INFO("seed " << seed << " (INTVIT_TEST_SEED)");
  std::mt19937_64 rng(seed);
  auto uniform = [&](int lo, int hi) { return static_cast<int>(test::uniform_int(rng, lo, hi)); };
  for (int trial = 0; trial < 300; ++trial) {
    const int in_w = uniform(1, trial % 10 == 0 ? 400 : 80), in_h = uniform(1, trial % 10 == 5 ? 400 : 60);
    const Image image = random_image(rng, in_w, in_h);
    // Up- and downscales by up to ~8x either way, including 1-pixel outputs.
    const int out_w = uniform(1, std::max(2, trial % 3 == 0 ? in_w / 4 + 1 : 2 * in_w + 8));
    const int out_h = uniform(1, std::max(2, trial % 4 == 0 ? in_h / 4 + 1 : 2 * in_h + 8));
    const int crop_w = uniform(1, out_w), crop_h = uniform(1, out_h);
    check_window(isas, image,
                 {out_w, out_h, uniform(0, out_w - crop_w), uniform(0, out_h - crop_h), crop_w, crop_h, kFilters[trial % 2]});
  }
}

namespace {

// A table of `out` positions over `in` inputs with up to max_taps taps: random windows and weights
// that push the contract's bound (each position's positive and negative mass <= kMaxMass) and the
// 16-bit split (low halves at +-2^15, high halves of both signs).
ResampleTaps extreme_taps(std::mt19937_64& rng, int in, int out, int max_taps) {
  constexpr int32_t kMaxMass = (std::numeric_limits<int32_t>::max() - (1 << 21)) / 255;
  constexpr int32_t kSpecial[] = {-32768, -32769, 32767, 32768, 65535, 65536, -65536, -65537, -1, 1, 1 << 22, -(1 << 22)};
  auto uniform = [&](int64_t lo, int64_t hi) { return test::uniform_int(rng, lo, hi); };
  ResampleTaps taps;
  taps.max_taps = max_taps;
  taps.weights.assign(static_cast<size_t>(out) * max_taps, 0);
  for (int j = 0; j < out; ++j) {
    const int count = static_cast<int>(uniform(1, std::min(max_taps, in)));
    taps.first.push_back(static_cast<int>(uniform(0, in - count)));
    taps.count.push_back(count);
    const int style = static_cast<int>(rng() % 4);
    int64_t positive = 0, negative = 0;
    for (int t = 0; t < count; ++t) {
      int64_t w = style == 0   ? uniform(-kMaxMass / count, kMaxMass / count)
                  : style == 1 ? kSpecial[rng() % std::size(kSpecial)]
                  : style == 2 ? kMaxMass / count                                             // all mass positive
                               : (t % 2 ? -1 : 1) * int64_t{kMaxMass} / ((count + 1 - t % 2) / 2);  // both at the bound
      if (w > 0 && positive + w > kMaxMass) w = 0;
      if (w < 0 && negative - w > kMaxMass) w = 0;
      (w > 0 ? positive : negative) += w > 0 ? w : -w;
      taps.weights[static_cast<size_t>(j) * max_taps + t] = static_cast<int32_t>(w);
    }
  }
  return taps;
}

std::vector<uint8_t> extreme_pixels(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> p(n);
  const int style = static_cast<int>(rng() % 3);
  for (auto& v : p) v = style == 0 ? 255 : style == 1 ? static_cast<uint8_t>(rng()) : (rng() & 1 ? 255 : 0);
  return p;
}

}  // namespace

TEST_CASE("resize kernels: raw passes equal the reference at the int32 bounds of the weights", "[resize]") {
  const std::vector<ResizeIsa> isas = runnable_simd_variants();
  if (isas.empty()) return;
  const uint64_t seed = test::nonlinear_seed(77);
  INFO("seed " << seed << " (INTVIT_TEST_SEED)");
  std::mt19937_64 rng(seed);
  auto uniform = [&](int lo, int hi) { return static_cast<int>(test::uniform_int(rng, lo, hi)); };
  for (int trial = 0; trial < 200; ++trial) {
    const int in = uniform(1, 90), out = uniform(1, 40), max_taps = uniform(1, trial % 5 ? 12 : 45);
    const ResampleTaps taps = extreme_taps(rng, in, out, max_taps);
    INFO("trial " << trial << ": " << in << " inputs, " << out << " outputs, max_taps " << max_taps);
    // Horizontal: exactly the rows' bytes are allocated, so a read past them trips ASan.
    const int rows = uniform(1, 4);
    const std::vector<uint8_t> src = extreme_pixels(rng, static_cast<size_t>(in) * rows * 3);
    std::vector<uint8_t> want(static_cast<size_t>(out) * rows * 3), got(want.size());
    resample_horizontal_rgb8_ref(src.data(), in, rows, taps, want.data());
    // Vertical: rows from the lowest first row to the highest end, row_bytes around the widths.
    const int row_begin = *std::min_element(taps.first.begin(), taps.first.end());
    int row_end = 0;
    for (int j = 0; j < out; ++j) row_end = std::max(row_end, taps.first[j] + taps.count[j]);
    const size_t row_bytes = static_cast<size_t>(uniform(1, 100));
    const std::vector<uint8_t> vsrc = extreme_pixels(rng, (row_end - row_begin) * row_bytes);
    std::vector<uint8_t> vwant(out * row_bytes), vgot(vwant.size());
    resample_vertical_u8_ref(vsrc.data(), row_bytes, row_begin, taps, vwant.data());
    for (ResizeIsa isa : isas) {
      INFO(resize_isa_name(isa) << ", " << rows << " rows, vertical row_bytes " << row_bytes);
      const ResizeKernels k = resize_kernels(isa);
      k.horizontal(src.data(), in, rows, taps, got.data());
      REQUIRE(got == want);
      k.vertical(vsrc.data(), row_bytes, row_begin, taps, vgot.data());
      REQUIRE(vgot == vwant);
    }
  }
}

TEST_CASE("resize kernels: the default variant follows INTVIT_ISA, unsupported ones throw", "[resize]") {
  {
    test::ScopedEnv env("INTVIT_ISA", "");
    CHECK(resize_isa_supported(default_resize_isa()));
    if (resize_isa_supported(ResizeIsa::kAvx2)) CHECK(default_resize_isa() != ResizeIsa::kRef);
  }
  {
    test::ScopedEnv env("INTVIT_ISA", "ref");
    CHECK(default_resize_isa() == ResizeIsa::kRef);
  }
  if (resize_isa_supported(ResizeIsa::kAvx2)) {
    test::ScopedEnv env("INTVIT_ISA", "avx2");
    CHECK(default_resize_isa() == ResizeIsa::kAvx2);
  }
  {
    test::ScopedEnv env("INTVIT_ISA", "bogus");
    CHECK_THROWS_AS(default_resize_isa(), Error);
  }
  for (ResizeIsa isa : kAllResizeIsas) {
    if (resize_isa_supported(isa)) continue;
    try {
      (void)resize_kernels(isa);
      FAIL("unsupported resize variant " << resize_isa_name(isa) << " accepted");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::kUnsupported);
    }
  }
}

}  // namespace intvit
