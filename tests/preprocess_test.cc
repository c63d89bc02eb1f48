// Resampling, center crop and the eval preprocessing policy, held to PIL/torchvision goldens
// (tests/golden/make_resize_golden.py) bit for bit.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "models/image.h"
#include "models/preprocess.h"
#include "models/resize.h"
#include "test_support.h"

namespace intvit {
namespace {

std::filesystem::path golden_dir() { return test::source_dir() / "tests/data/images/resize"; }

ResizeFilter parse_filter(const std::string& name) {
  if (name == "bilinear") return ResizeFilter::kBilinear;
  if (name == "bicubic") return ResizeFilter::kBicubic;
  FAIL("unknown filter " << name);
  return ResizeFilter::kBicubic;
}

Image random_image(std::mt19937& rng, int width, int height) {
  Image image{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3)};
  for (auto& v : image.rgb) v = static_cast<uint8_t>(rng());
  return image;
}

// Index and values of the first differing byte, for a readable failure.
std::string first_difference(const Image& got, const Image& want) {
  if (got.width != want.width || got.height != want.height) {
    return "size " + std::to_string(got.width) + "x" + std::to_string(got.height) + " vs " +
           std::to_string(want.width) + "x" + std::to_string(want.height);
  }
  for (size_t i = 0; i < got.rgb.size(); ++i) {
    if (got.rgb[i] != want.rgb[i]) {
      const size_t pixel = i / 3;
      return "first difference at x=" + std::to_string(pixel % got.width) +
             " y=" + std::to_string(pixel / got.width) + " channel " + std::to_string(i % 3) +
             ": " + std::to_string(got.rgb[i]) + " vs " + std::to_string(want.rgb[i]);
    }
  }
  return "identical";
}

struct Byte_stats {
  size_t bytes = 0, identical = 0;
  int max_abs = 0;
  double sum_abs = 0;
  void add(const Image& got, const Image& want) {
    REQUIRE(got.rgb.size() == want.rgb.size());
    for (size_t i = 0; i < got.rgb.size(); ++i) {
      const int d = std::abs(got.rgb[i] - want.rgb[i]);
      identical += d == 0;
      max_abs = std::max(max_abs, d);
      sum_abs += d;
    }
    bytes += got.rgb.size();
  }
  std::string str() const {
    char text[160];
    std::snprintf(text, sizeof text, "identical bytes %.4f%%, mean |diff| %.4f, max |diff| %d (%zu bytes)",
                  100.0 * identical / bytes, sum_abs / bytes, max_abs, bytes);
    return text;
  }
};

}  // namespace

TEST_CASE("resize and preprocess equal PIL goldens bit for bit", "[preprocess]") {
  std::ifstream manifest(golden_dir() / "manifest.txt");
  REQUIRE(manifest.good());
  int resize_cases = 0, preprocess_cases = 0;
  std::string line;
  while (std::getline(manifest, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string kind, input, output, filter;
    fields >> kind >> input >> output;
    const Image source = decode_image_file(golden_dir() / input);
    const Image want = decode_image_file(golden_dir() / output);
    Image got;
    if (kind == "resize") {
      int width = 0, height = 0;
      fields >> width >> height >> filter;
      got = resize(source, width, height, parse_filter(filter));
      ++resize_cases;
    } else {
      REQUIRE(kind == "preprocess");
      PreprocessConfig config;
      std::string rounding;
      fields >> config.input_size >> config.crop_pct >> filter >> rounding;
      config.filter = parse_filter(filter);
      REQUIRE((rounding == "torchvision" || rounding == "nearest"));
      config.rounding = rounding == "nearest" ? GeometryRounding::kNearestSizeFloorOffset
                                              : GeometryRounding::kTorchvision;
      got = preprocess(source, config);
      ++preprocess_cases;
    }
    INFO(line << ": " << first_difference(got, want));
    CHECK(got.width == want.width);
    CHECK(got.height == want.height);
    CHECK(got.rgb == want.rgb);
  }
  CHECK(resize_cases >= 20);
  CHECK(preprocess_cases >= 20);
}

TEST_CASE("resize keeps a constant image constant", "[preprocess]") {
  const unsigned seed = 20240611;
  std::mt19937 rng(seed);
  INFO("seed " << seed);
  for (int trial = 0; trial < 60; ++trial) {
    const int in_w = 1 + rng() % 70, in_h = 1 + rng() % 70;
    const int out_w = 1 + rng() % 90, out_h = 1 + rng() % 90;
    const uint8_t color[3] = {static_cast<uint8_t>(rng()), 0, 255};  // 0 and 255 probe the clip
    Image image{in_w, in_h, {}};
    for (int i = 0; i < in_w * in_h; ++i) image.rgb.insert(image.rgb.end(), color, color + 3);
    for (ResizeFilter filter : {ResizeFilter::kBilinear, ResizeFilter::kBicubic}) {
      INFO(in_w << "x" << in_h << " -> " << out_w << "x" << out_h << " filter "
                << static_cast<int>(filter));
      const Image out = resize(image, out_w, out_h, filter);
      REQUIRE(out.width == out_w);
      REQUIRE(out.height == out_h);
      for (size_t i = 0; i < out.rgb.size(); ++i) REQUIRE(out.rgb[i] == color[i % 3]);
    }
  }
}

TEST_CASE("resize_window equals the same window of the full resize", "[preprocess]") {
  const unsigned seed = 7;
  std::mt19937 rng(seed);
  INFO("seed " << seed);
  for (int trial = 0; trial < 40; ++trial) {
    const Image image = random_image(rng, 1 + rng() % 50, 1 + rng() % 50);
    const int out_w = 1 + rng() % 60, out_h = 1 + rng() % 60;
    const int crop_w = 1 + rng() % out_w, crop_h = 1 + rng() % out_h;
    const int left = rng() % (out_w - crop_w + 1), top = rng() % (out_h - crop_h + 1);
    const ResizeFilter filter = trial % 2 ? ResizeFilter::kBicubic : ResizeFilter::kBilinear;
    INFO(image.width << "x" << image.height << " -> " << out_w << "x" << out_h << " window "
                     << crop_w << "x" << crop_h << "+" << left << "+" << top);
    const Image full = resize(image, out_w, out_h, filter);
    const Image window = resize_window(image, out_w, out_h, filter, left, top, crop_w, crop_h);
    REQUIRE(window.width == crop_w);
    REQUIRE(window.height == crop_h);
    for (int y = 0; y < crop_h; ++y) {
      for (int x = 0; x < crop_w * 3; ++x) {
        REQUIRE(window.rgb[(y * crop_w) * 3 + x] == full.rgb[((top + y) * out_w + left) * 3 + x]);
      }
    }
  }
}

TEST_CASE("resize to the same size is a copy, invalid sizes throw", "[preprocess]") {
  std::mt19937 rng(3);
  const Image image = random_image(rng, 9, 4);
  CHECK(resize(image, 9, 4, ResizeFilter::kBicubic).rgb == image.rgb);
  for (auto [w, h] : {std::pair{0, 4}, {4, -1}, {1 << 14, 1 << 14}}) {
    INFO(w << "x" << h);
    try {
      (void)resize(image, w, h, ResizeFilter::kBilinear);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::kInvalidArgument);
    }
  }
  CHECK_THROWS_AS(resize(Image{3, 3, std::vector<uint8_t>(26)}, 2, 2, ResizeFilter::kBicubic), Error);
  CHECK_THROWS_AS(resize_window(image, 20, 20, ResizeFilter::kBicubic, 15, 0, 6, 5), Error);
}

TEST_CASE("center crop uses torchvision's offsets and zero padding", "[preprocess]") {
  // torchvision: round((size - crop) / 2) with Python's round half to even; padding (crop - size) // 2.
  CHECK(center_crop_offset(256, 224) == 16);
  CHECK(center_crop_offset(257, 224) == 16);  // 16.5 -> 16
  CHECK(center_crop_offset(259, 224) == 18);  // 17.5 -> 18
  CHECK(center_crop_offset(225, 224) == 0);   // 0.5 -> 0
  CHECK(center_crop_offset(227, 224) == 2);   // 1.5 -> 2
  CHECK(center_crop_offset(224, 224) == 0);
  CHECK(center_crop_offset(200, 224) == -12);
  CHECK(center_crop_offset(201, 224) == -11);  // 23 // 2

  // Pixels carry their own coordinates, so the crop can be checked position by position.
  Image image{11, 6, {}};
  for (int y = 0; y < 6; ++y) {
    for (int x = 0; x < 11; ++x) image.rgb.insert(image.rgb.end(), {uint8_t(x + 1), uint8_t(y + 1), 9});
  }
  const Image crop = center_crop(image, 4, 9);  // width: (11-4)/2 = 3.5 -> 4; height: pad 1 on top
  REQUIRE(crop.width == 4);
  REQUIRE(crop.height == 9);
  for (int y = 0; y < 9; ++y) {
    for (int x = 0; x < 4; ++x) {
      const uint8_t* p = &crop.rgb[(y * 4 + x) * 3];
      const int source_y = y - 1;
      INFO("x=" << x << " y=" << y);
      if (source_y < 0 || source_y >= 6) {
        CHECK((p[0] == 0 && p[1] == 0 && p[2] == 0));
      } else {
        CHECK(p[0] == x + 4 + 1);
        CHECK(p[1] == source_y + 1);
      }
    }
  }
}

TEST_CASE("preprocess sizes follow timm and torchvision", "[preprocess]") {
  CHECK(preprocess_scale_size({224, 0.875}) == 256);
  CHECK(preprocess_scale_size({224, 0.9}) == 248);  // 248.88 -> 248
  CHECK(preprocess_scale_size({384, 1.0}) == 384);
  for (PreprocessConfig bad : {PreprocessConfig{0, 0.9}, PreprocessConfig{224, 0.0},
                               PreprocessConfig{224, NAN}, PreprocessConfig{224, 1e9}}) {
    CHECK_THROWS_AS(preprocess_scale_size(bad), Error);
  }
  // torchvision Resize(int): shorter side -> size, longer side int(size * long / short).
  auto check_size = [](int w, int h, int shorter, int want_w, int want_h) {
    const Size2D s = resized_size_keep_aspect(w, h, shorter);
    INFO(w << "x" << h << " shorter " << shorter);
    CHECK(s.width == want_w);
    CHECK(s.height == want_h);
  };
  check_size(500, 375, 256, 341, 256);  // 341.33
  check_size(375, 500, 256, 256, 341);
  check_size(640, 480, 248, 330, 248);  // 330.67 truncates
  check_size(333, 222, 248, 372, 248);  // exactly 372
  check_size(300, 300, 248, 248, 248);
  check_size(1, 1000, 248, 248, 248000);

  std::mt19937 rng(11);
  for (auto [w, h] : {std::pair{500, 375}, {375, 500}, {224, 224}, {100, 60}, {1, 300}, {3000, 2}}) {
    const Image image = random_image(rng, w, h);
    const Image out = preprocess(image, {224, 0.9, ResizeFilter::kBicubic});
    INFO(w << "x" << h);
    CHECK(out.width == 224);
    CHECK(out.height == 224);
    CHECK(out.rgb.size() == 224u * 224 * 3);
    if (w == 224 && h == 224) CHECK(out.rgb == image.rgb);  // already the input size: untouched
  }
  // preprocess() resamples only the crop window; it must equal the plain composition.
  // 90x61, input 32, crop_pct 0.9: scale 35, longer side 35 * 90 / 61 = 51.64.
  const Image landscape = random_image(rng, 90, 61);
  const Image portrait = random_image(rng, 61, 90);
  const Image landscape_resized = resize(landscape, 51, 35, ResizeFilter::kBicubic);
  const Image portrait_resized = resize(portrait, 35, 52, ResizeFilter::kBilinear);
  // torchvision: int(51.64) = 51, offsets round(9.5) = 10 and round(1.5) = 2.
  CHECK(preprocess(landscape, {32, 0.9, ResizeFilter::kBicubic}).rgb ==
        crop_window(landscape_resized, 10, 2, 32, 32).rgb);
  // nearest: round(51.64) = 52, offsets 20 // 2 = 10 and 3 // 2 = 1.
  CHECK(preprocess(portrait, {32, 0.9, ResizeFilter::kBilinear,
                              GeometryRounding::kNearestSizeFloorOffset}).rgb ==
        crop_window(portrait_resized, 1, 10, 32, 32).rgb);
}

TEST_CASE("the two geometry roundings differ only where they should", "[preprocess]") {
  using enum GeometryRounding;
  auto longer = [](int w, int h, GeometryRounding r) {
    const Size2D s = resized_size_keep_aspect(w, h, 248, r);
    return std::max(s.width, s.height);
  };
  CHECK(longer(500, 375, kTorchvision) == 330);  // 330.67
  CHECK(longer(500, 375, kNearestSizeFloorOffset) == 331);
  CHECK(longer(500, 333, kTorchvision) == 372);  // 372.37
  CHECK(longer(500, 333, kNearestSizeFloorOffset) == 372);
  CHECK(longer(170, 160, kNearestSizeFloorOffset) == 264);  // 263.5: half to even
  CHECK(longer(248 * 3 + 1, 496, kNearestSizeFloorOffset) == 372);  // 372.5: half to even
  CHECK(preprocess_crop_offset(331, 224, kTorchvision) == 54);  // round(53.5)
  CHECK(preprocess_crop_offset(331, 224, kNearestSizeFloorOffset) == 53);
  CHECK(preprocess_crop_offset(333, 224, kTorchvision) == 54);  // round(54.5)
  CHECK(preprocess_crop_offset(333, 224, kNearestSizeFloorOffset) == 54);
  CHECK(preprocess_crop_offset(200, 224, kNearestSizeFloorOffset) == -12);  // padding as torchvision
}

// Preprocessing of real photos against the shared parity oracle, whose pixels came from PIL's
// JPEG decoder (libjpeg-turbo) + PIL resize. With the oracle's geometry the resampler is bit-exact
// (see compare_with_pil.py) and JPEGs decode with libjpeg-turbo at PIL's settings, so every byte
// matches (with stb_image's decoder: mean |diff| 0.03, max 4 over the 500 sample JPEGs).
TEST_CASE("preprocess of the shared JPEGs matches the reference pixels", "[preprocess][shared]") {
  INTVIT_REQUIRE_SHARED();
  const auto model_dir = test::shared_dir() / "models/vit_tiny_patch16_224";
  std::ifstream file(model_dir / "reference.safetensors", std::ios::binary);
  REQUIRE(file.good());
  uint64_t header_size = 0;
  file.read(reinterpret_cast<char*>(&header_size), 8);
  std::string header_text(header_size, '\0');
  file.read(header_text.data(), static_cast<std::streamsize>(header_size));
  const auto header = nlohmann::json::parse(header_text);
  const auto files = nlohmann::json::parse(header["__metadata__"]["files"].get<std::string>());
  const auto& pixels = header["pixels"];
  REQUIRE(pixels["shape"] == nlohmann::json({100, 224, 224, 3}));
  REQUIRE(files.size() == 100);
  file.seekg(static_cast<std::streamoff>(8 + header_size + pixels["data_offsets"][0].get<uint64_t>()));

  // The oracle's geometry (see GeometryRounding), so that only the JPEG decoders differ.
  const PreprocessConfig config{224, 0.9, ResizeFilter::kBicubic,
                                GeometryRounding::kNearestSizeFloorOffset};
  Byte_stats all;
  Image reference{224, 224, std::vector<uint8_t>(224 * 224 * 3)};
  for (const auto& entry : files) {
    file.read(reinterpret_cast<char*>(reference.rgb.data()), static_cast<std::streamsize>(reference.rgb.size()));
    REQUIRE(file.good());
    const std::string name = entry.get<std::string>();
    const Image ours = preprocess(decode_image_file(test::shared_dir() / "data/imagenet-sample" / name), config);
    Byte_stats one;
    one.add(ours, reference);
    all.add(ours, reference);
    INFO(name << ": " << one.str());
    REQUIRE(one.max_abs == 0);
  }
  INFO("100 reference images, decode + preprocess vs PIL: " << all.str());
  CHECK(all.identical == all.bytes);
}

// Measurement, not a regression test (hidden; run by tests/golden/compare_with_pil.py): compares
// preprocess() (224, crop_pct 0.9, bicubic) with PIL on the images listed in
// $INTVIT_PIL_COMPARE_DIR/list.txt as "<jpeg> <PIL-decoded png> <PIL torchvision-rule png>
// <PIL nearest-rule png>", once from PIL's decoded pixels (resize only) and once from the JPEG.
TEST_CASE("measure preprocess against PIL on a directory", "[.][pil-compare]") {
  const char* dir = std::getenv("INTVIT_PIL_COMPARE_DIR");
  if (!dir) FAIL("set INTVIT_PIL_COMPARE_DIR (tests/golden/compare_with_pil.py does)");
  std::ifstream list(std::filesystem::path(dir) / "list.txt");
  REQUIRE(list.good());
  const GeometryRounding roundings[2] = {GeometryRounding::kTorchvision,
                                         GeometryRounding::kNearestSizeFloorOffset};
  const char* names[2] = {"torchvision", "nearest"};
  Byte_stats resize_only[2], end_to_end[2];
  int images = 0, resize_exact[2] = {0, 0}, end_to_end_exact[2] = {0, 0};
  std::string jpeg, decoded, expected[2];
  while (list >> jpeg >> decoded >> expected[0] >> expected[1]) {
    const Image pil_decoded = decode_image_file(decoded);
    const Image our_decoded = decode_image_file(jpeg);
    for (int r = 0; r < 2; ++r) {
      const PreprocessConfig config{224, 0.9, ResizeFilter::kBicubic, roundings[r]};
      const Image want = decode_image_file(expected[r]);
      const Image a = preprocess(pil_decoded, config), b = preprocess(our_decoded, config);
      resize_only[r].add(a, want);
      end_to_end[r].add(b, want);
      resize_exact[r] += a.rgb == want.rgb;
      end_to_end_exact[r] += b.rgb == want.rgb;
    }
    ++images;
  }
  std::printf("%d images, preprocess 224 / crop_pct 0.9 / bicubic\n", images);
  for (int r = 0; r < 2; ++r) {
    std::printf("[%s rounding] resize only (PIL-decoded pixels in): %s; images identical %d/%d\n",
                names[r], resize_only[r].str().c_str(), resize_exact[r], images);
    std::printf("[%s rounding] end to end (intvit's JPEG decode): %s; images identical %d/%d\n",
                names[r], end_to_end[r].str().c_str(), end_to_end_exact[r], images);
  }
  CHECK(images > 0);
}

}  // namespace intvit

namespace intvit {

// crop_pct > 1 resamples only the part of the crop inside the resized image; it must equal
// resizing everything and zero-padding the crop (the torchvision definition).
TEST_CASE("padded center crop equals full resize then crop", "[preprocess]") {
  std::mt19937 rng(7);
  for (const auto& [w, h] : {std::pair{13, 9}, std::pair{1, 300}, std::pair{300, 2}, std::pair{40, 40}}) {
    Image image{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
    for (uint8_t& v : image.rgb) v = static_cast<uint8_t>(rng());
    for (double crop_pct : {1.2, 1.5, 3.0}) {
      for (ResizeFilter filter : {ResizeFilter::kBilinear, ResizeFilter::kBicubic}) {
        PreprocessConfig c;
        c.input_size = 16;
        c.crop_pct = crop_pct;
        c.filter = filter;
        const Size2D r = resized_size_keep_aspect(w, h, preprocess_scale_size(c), c.rounding);
        const Image full = crop_window(resize(image, r.width, r.height, filter), preprocess_crop_offset(r.width, 16, c.rounding),
                                       preprocess_crop_offset(r.height, 16, c.rounding), 16, 16);
        INFO(w << "x" << h << " crop_pct " << crop_pct);
        CHECK(preprocess(image, c).rgb == full.rgb);
      }
    }
  }
}

}  // namespace intvit
