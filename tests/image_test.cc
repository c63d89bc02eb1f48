// Image decoding: every supported container and pixel layout, and clean errors for bad input.
// Fixtures come from tests/golden/make_image_fixtures.py; the pixel formulas below mirror it.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "models/image.h"
#include "test_support.h"

namespace intvit {
namespace {

using Rgb = std::array<int, 3>;
using PixelFn = std::function<Rgb(int x, int y)>;
constexpr int kW = 7, kH = 5;  // fixture size

int rgb8(int x, int y, int c) { return (x * 29 + y * 71 + c * 97 + 13) & 255; }
int gray8(int x, int y) { return (x * 37 + y * 59 + 5) & 255; }
int value16(int x, int y, int c) { return (x * 4099 + y * 7919 + c * 30011 + 12345) & 0xFFFF; }
Rgb palette_color(int i) { return {(i * 47 + 3) & 255, (i * 91 + 7) & 255, (i * 13 + 11) & 255}; }
int palette_index(int x, int y, int colors) { return (x * 5 + y * 11) % colors; }

Rgb rgb_pattern(int x, int y) { return {rgb8(x, y, 0), rgb8(x, y, 1), rgb8(x, y, 2)}; }
Rgb gray_pattern(int x, int y) { return {gray8(x, y), gray8(x, y), gray8(x, y)}; }
Rgb high_byte16(int x, int y) { return {value16(x, y, 0) >> 8, value16(x, y, 1) >> 8, value16(x, y, 2) >> 8}; }
Rgb palette200(int x, int y) { return palette_color(palette_index(x, y, 200)); }
// PGM/PPM with maxval m: round(v * 255 / m).
int rescale(int v, int m) { return (v * 255 + m / 2) / m; }

std::filesystem::path fixture(const std::string& name) {
  return test::source_dir() / "tests/data/images/decode" / name;
}

std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), {}};
}

void check_pixels(const Image& image, const PixelFn& want, int tolerance = 0) {
  REQUIRE(image.width == kW);
  REQUIRE(image.height == kH);
  REQUIRE(image.rgb.size() == size_t{kW * kH * 3});
  for (int y = 0; y < kH; ++y) {
    for (int x = 0; x < kW; ++x) {
      const Rgb expected = want(x, y);
      for (int c = 0; c < 3; ++c) {
        INFO("x=" << x << " y=" << y << " channel " << c);
        CHECK(std::abs(image.rgb[(y * kW + x) * 3 + c] - expected[c]) <= tolerance);
      }
    }
  }
}

ErrorCode error_code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  FAIL("no intvit::Error thrown");
  return ErrorCode::kInternal;
}

struct Fixture {
  const char* name;
  PixelFn pixels;
};

const std::vector<Fixture>& lossless_fixtures() {
  static const std::vector<Fixture> fixtures = {
      {"png_rgb8.png", rgb_pattern},
      {"png_gray8.png", gray_pattern},
      {"png_gray_alpha8.png", gray_pattern},  // alpha dropped
      {"png_rgba8.png", rgb_pattern},
      {"png_gray16.png", [](int x, int y) { const int v = value16(x, y, 0) >> 8; return Rgb{v, v, v}; }},
      {"png_rgb16.png", high_byte16},
      {"png_rgba16.png", high_byte16},
      {"png_gray1.png", [](int x, int y) { const int v = 255 * ((x + y) & 1); return Rgb{v, v, v}; }},
      {"png_palette8.png", palette200},
      {"png_palette4.png", [](int x, int y) { return palette_color(palette_index(x, y, 16)); }},
      {"bmp_rgb24.bmp", rgb_pattern},
      {"bmp_rgb32_topdown.bmp", rgb_pattern},
      {"bmp_palette8.bmp", palette200},
      {"ppm_rgb.ppm", rgb_pattern},
      {"pgm_gray.pgm", gray_pattern},
      {"pgm_maxval1023.pgm",
       [](int x, int y) { const int v = rescale(value16(x, y, 0) % 1024, 1023); return Rgb{v, v, v}; }},
      {"ppm_maxval100.ppm",
       [](int x, int y) {
         return Rgb{rescale(rgb8(x, y, 0) % 101, 100), rescale(rgb8(x, y, 1) % 101, 100),
                    rescale(rgb8(x, y, 2) % 101, 100)};
       }},
      {"gif_two_frames.gif", palette200},  // first frame
  };
  return fixtures;
}

const char* const kJpegFixtures[] = {"jpeg_rgb_200_100_50.jpg", "jpeg_progressive_30_160_220.jpg",
                                     "jpeg_gray_77.jpg"};

}  // namespace

TEST_CASE("lossless fixtures of every layout decode to the exact RGB pixels", "[image]") {
  for (const Fixture& f : lossless_fixtures()) {
    INFO(f.name);
    check_pixels(decode_image_file(fixture(f.name)), f.pixels);
    const std::vector<uint8_t> bytes = read_bytes(fixture(f.name));
    check_pixels(decode_image_memory(bytes, f.name), f.pixels);
  }
}

TEST_CASE("constant-colour JPEGs decode to their colour", "[image]") {
  // Flat 16x16 blocks at quality 95: only quantisation of the DC term and the YCbCr round trip
  // move the value, by a level or two.
  constexpr int kJpegFlatTolerance = 2;
  const Rgb colors[] = {{200, 100, 50}, {30, 160, 220}, {77, 77, 77}};
  for (int i = 0; i < 3; ++i) {
    INFO(kJpegFixtures[i]);
    const Image image = decode_image_file(fixture(kJpegFixtures[i]));
    REQUIRE(image.width == 16);
    REQUIRE(image.height == 16);
    for (size_t p = 0; p < image.rgb.size(); ++p) {
      REQUIRE(std::abs(image.rgb[p] - colors[i][p % 3]) <= kJpegFlatTolerance);
    }
  }
}

const char* const kPilJpegs[] = {"rgb_420", "rgb_422", "rgb_444", "rgb_420_progressive", "gray", "cmyk"};

std::filesystem::path pil_jpeg(const std::string& name) {
  return test::source_dir() / "tests/data/images/jpeg_pil" / name;
}

TEST_CASE("JPEGs decode to PIL's pixels byte for byte", "[image][jpeg]") {
  // Goldens: PIL's convert("RGB") of each file (tests/golden/make_jpeg_pil_goldens.py), stored as
  // PNG. Baseline 4:2:0/4:2:2/4:4:4, progressive, gray and Adobe CMYK; 37x29 leaves partial MCUs.
  for (const char* name : kPilJpegs) {
    INFO(name);
    const Image jpeg = decode_image_file(pil_jpeg(std::string(name) + ".jpg"));
    const Image pil = decode_image_file(pil_jpeg(std::string(name) + ".pil.png"));
    REQUIRE(jpeg.width == 37);
    REQUIRE(jpeg.height == 29);
    REQUIRE(pil.width == jpeg.width);
    REQUIRE(pil.height == jpeg.height);
    size_t differing = 0;
    for (size_t i = 0; i < jpeg.rgb.size(); ++i) differing += jpeg.rgb[i] != pil.rgb[i];
    CHECK(differing == 0);
  }
}

TEST_CASE("truncated or damaged JPEG data fails instead of decoding gray", "[image][jpeg]") {
  // libjpeg pads a truncated scan with gray and only warns; decode must refuse every cut.
  for (const char* name : {"rgb_420", "rgb_420_progressive", "gray", "cmyk"}) {
    const std::string file = std::string(name) + ".jpg";
    const std::vector<uint8_t> bytes = read_bytes(pil_jpeg(file));
    for (size_t length = 0; length < bytes.size(); ++length) {
      INFO(file << " cut to " << length << " of " << bytes.size() << " bytes");
      try {
        (void)decode_image_memory(std::span(bytes.data(), length), file);
        FAIL("decoded");
      } catch (const Error& e) {
        REQUIRE(e.code() == ErrorCode::kCorruptFile);
        REQUIRE(std::string(e.what()).find("cannot decode " + file + ": ") == 0);
      }
    }
  }
  // Stray bytes before the EOI marker: libjpeg warns ("extraneous bytes before marker") and would
  // return the picture; a warning is a corrupt file here. (More than the Huffman decoder's
  // read-ahead, which discards a few silently.)
  std::vector<uint8_t> bytes = read_bytes(pil_jpeg("rgb_444.jpg"));
  REQUIRE(bytes.size() > 2);
  bytes.insert(bytes.end() - 2, 64, 0x12);
  CHECK(error_code_of([&] { (void)decode_image_memory(bytes, "stray bytes"); }) == ErrorCode::kCorruptFile);
}

TEST_CASE("every truncation of a fixture fails or decodes the same pixels", "[image]") {
  // stb_image zero-fills truncated BMP, PGM/PPM and GIF data; decode must notice instead.
  std::vector<std::string> names(std::begin(kJpegFixtures), std::end(kJpegFixtures));
  for (const Fixture& f : lossless_fixtures()) names.push_back(f.name);
  for (const std::string& name : names) {
    const std::vector<uint8_t> bytes = read_bytes(fixture(name));
    const Image full = decode_image_memory(bytes, name);
    int failures = 0;
    for (size_t length = 0; length < bytes.size(); ++length) {
      INFO(name << " cut to " << length << " of " << bytes.size() << " bytes");
      try {
        const Image image = decode_image_memory(std::span(bytes.data(), length), name);
        // Only bytes no decoder reads may be missing (PNG IEND CRC, final BMP row padding,
        // GIF frames after the first).
        REQUIRE(image.rgb == full.rgb);
      } catch (const Error& e) {
        REQUIRE(e.code() == ErrorCode::kCorruptFile);
        REQUIRE(std::string(e.what()).find("cannot decode " + name + ": ") == 0);
        ++failures;
      }
    }
    INFO(name);
    CHECK(failures >= static_cast<int>(bytes.size() / 2));  // at least every cut in the first half
  }
}

TEST_CASE("empty, non-image and corrupt inputs throw kCorruptFile", "[image]") {
  auto code = [](const std::vector<uint8_t>& bytes) {
    return error_code_of([&] { (void)decode_image_memory(bytes, "test"); });
  };
  auto text = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  CHECK(code({}) == ErrorCode::kCorruptFile);
  CHECK(code(text("hello, this is not an image\n")) == ErrorCode::kCorruptFile);
  CHECK(code(text("BMW and Audi build cars, not bitmaps; this is text.")) == ErrorCode::kCorruptFile);
  CHECK(code(text("P6 is a paper size, not a header")) == ErrorCode::kCorruptFile);
  CHECK(code(text("P3\n2 1\n255\n1 2 3 4 5 6\n")) == ErrorCode::kCorruptFile);   // ASCII PPM
  CHECK(code(text("P6\n2 1\n0\n123456")) == ErrorCode::kCorruptFile);             // maxval 0
  CHECK(code(text("P6\n0 1\n255\n")) == ErrorCode::kCorruptFile);                 // zero width
  CHECK(code({'G', 'I', 'F', '8', '9', 'a', 2, 0, 1, 0, 0, 0, 0, ';'}) == ErrorCode::kCorruptFile);  // no image

  std::vector<uint8_t> png = read_bytes(fixture("png_rgb8.png"));
  png[25] = 5;  // IHDR colour type 5 does not exist
  CHECK(code(png) == ErrorCode::kCorruptFile);
  // An empty IDAT before any image data (stb_image 2.27 would read it through a null pointer;
  // found by fuzz_image, tests/fuzz/corpus/fuzz_image/png_empty_first_idat.png).
  const std::vector<uint8_t> empty_idat = read_bytes(test::source_dir() / "tests/fuzz/corpus/fuzz_image/png_empty_first_idat.png");
  REQUIRE(empty_idat.size() > 100);
  CHECK(code(empty_idat) == ErrorCode::kCorruptFile);
  std::vector<uint8_t> bmp = read_bytes(fixture("bmp_rgb24.bmp"));
  bmp[14] = 99;  // unknown DIB header size
  CHECK(code(bmp) == ErrorCode::kCorruptFile);
  std::vector<uint8_t> jpeg = read_bytes(fixture("jpeg_rgb_200_100_50.jpg"));
  std::fill(jpeg.begin() + 2, jpeg.end(), 0x55);  // SOI followed by garbage
  CHECK(code(jpeg) == ErrorCode::kCorruptFile);

  std::mt19937 rng(5);
  std::vector<uint8_t> noise(4096);
  for (auto& b : noise) b = static_cast<uint8_t>(rng());
  CHECK(code(noise) == ErrorCode::kCorruptFile);

  try {
    (void)decode_image_memory(text("not an image"), "cat.txt");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).rfind("cannot decode cat.txt: ", 0) == 0);
  }
}

TEST_CASE("randomly damaged fixtures decode or throw intvit::Error, nothing else", "[image]") {
  const unsigned seed = 424242;
  std::mt19937 rng(seed);
  INFO("seed " << seed);
  std::vector<std::string> names(std::begin(kJpegFixtures), std::end(kJpegFixtures));
  for (const Fixture& f : lossless_fixtures()) names.push_back(f.name);
  for (const std::string& name : names) {
    const std::vector<uint8_t> original = read_bytes(fixture(name));
    for (int trial = 0; trial < 100; ++trial) {
      std::vector<uint8_t> bytes = original;
      const int flips = 1 + rng() % 4;
      for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
      INFO(name << " trial " << trial);
      try {
        const Image image = decode_image_memory(bytes, name);
        REQUIRE(image.rgb.size() == static_cast<size_t>(image.width) * image.height * 3);
      } catch (const Error& e) {
        REQUIRE((e.code() == ErrorCode::kCorruptFile || e.code() == ErrorCode::kInvalidArgument));
      }
    }
  }
}

TEST_CASE("images declaring more than kMaxImagePixels are refused from the header", "[image]") {
  // Each header declares far more than the limit and carries no pixel data: decoding would need
  // gigabytes, so kInvalidArgument (not kOutOfMemory or a crash) shows the header check ran first.
  auto be32 = [](uint32_t v) { return std::vector<uint8_t>{uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}; };
  auto png_header = [&](uint32_t w, uint32_t h) {
    std::vector<uint8_t> b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    for (uint32_t v : {w, h}) for (uint8_t x : be32(v)) b.push_back(x);
    b.insert(b.end(), {8, 2, 0, 0, 0, 0, 0, 0, 0});  // depth 8, RGB, methods, CRC (unchecked)
    return b;
  };
  auto text = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  std::vector<uint8_t> bmp(54, 0);
  bmp[0] = 'B', bmp[1] = 'M', bmp[10] = 54, bmp[14] = 40, bmp[26] = 1, bmp[28] = 24;
  const int32_t bmp_w = 30000, bmp_h = -30000;  // top-down: negative height
  std::memcpy(&bmp[18], &bmp_w, 4);
  std::memcpy(&bmp[22], &bmp_h, 4);
  const std::vector<uint8_t> jpeg = {0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 0xFF, 0xDC, 0xFF, 0xDC, 3,
                                     1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0};  // SOF0 65500x65500
  const std::vector<uint8_t> gif = {'G', 'I', 'F', '8', '9', 'a', 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0};

  const std::pair<const char*, std::vector<uint8_t>> cases[] = {
      {"png 20000x20000", png_header(20000, 20000)},
      {"png 16777216x5", png_header(1 << 24, 5)},
      {"bmp 30000x-30000", bmp},
      {"ppm 10000x10000", text("P6\n10000 10000\n255\n")},
      {"jpeg 65500x65500", jpeg},
      {"gif 65535x65535", gif},
  };
  for (const auto& [what, bytes] : cases) {
    INFO(what);
    try {
      (void)decode_image_memory(bytes, what);
      FAIL("decoded");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::kInvalidArgument);
      CHECK(std::string(e.what()).find("kMaxImagePixels") != std::string::npos);
    }
  }
  // Exactly at the limit the header passes, and the missing data is what fails.
  CHECK(error_code_of([&] { (void)decode_image_memory(png_header(8192, 8192), "png at limit"); }) ==
        ErrorCode::kCorruptFile);
  CHECK(error_code_of([&] { (void)decode_image_memory(text("P5 8192 8192 255\n"), "pgm at limit"); }) ==
        ErrorCode::kCorruptFile);
}

TEST_CASE("decode_image_file reports unreadable paths as kIo", "[image]") {
  CHECK(error_code_of([] { (void)decode_image_file("/nonexistent/intvit/image.png"); }) == ErrorCode::kIo);
  CHECK(error_code_of([] { (void)decode_image_file(test::source_dir() / "tests"); }) == ErrorCode::kIo);
  try {
    (void)decode_image_file("/nonexistent/intvit/image.png");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("/nonexistent/intvit/image.png") != std::string::npos);
  }
}

TEST_CASE("image_from_pixels converts gray, RGB and RGBA rows with any stride", "[image]") {
  const int w = 5, h = 3;
  for (int channels : {1, 3, 4}) {
    const size_t stride = w * channels + 3;  // padded rows
    std::vector<uint8_t> pixels(stride * h, 0xEE);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        for (int c = 0; c < channels; ++c) pixels[y * stride + x * channels + c] = uint8_t(rgb8(x, y, c));
      }
    }
    INFO("channels " << channels);
    const Image image = image_from_pixels(pixels.data(), w, h, channels, stride);
    REQUIRE(image.width == w);
    REQUIRE(image.height == h);
    REQUIRE(image.rgb.size() == size_t{w * h * 3});
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        for (int c = 0; c < 3; ++c) {
          CHECK(image.rgb[(y * w + x) * 3 + c] == rgb8(x, y, channels == 1 ? 0 : c));
        }
      }
    }
  }
  const uint8_t px[16] = {};
  struct Bad {
    int width, height, channels;
    size_t stride;
  };
  for (const Bad& bad : {Bad{2, 2, 2, 4}, Bad{2, 2, 3, 5}, Bad{0, 2, 3, 6}, Bad{2, -1, 3, 6},
                         Bad{1 << 14, 1 << 13, 1, size_t{1} << 14}}) {
    INFO(bad.width << "x" << bad.height << "x" << bad.channels << " stride " << bad.stride);
    CHECK(error_code_of([&] {
            (void)image_from_pixels(px, bad.width, bad.height, bad.channels, bad.stride);
          }) == ErrorCode::kInvalidArgument);
  }
  CHECK(error_code_of([] { (void)image_from_pixels(nullptr, 1, 1, 3, 3); }) == ErrorCode::kInvalidArgument);
}

}  // namespace intvit
