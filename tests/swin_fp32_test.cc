// The FP32 Swin forward against PyTorch (tests/golden/make_swin_golden.py and the shipped
// models/default/fashion-swin), its window geometry and its config / loader errors.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <numeric>

#include <nlohmann/json.hpp>

#include "engine/idx_dataset.h"
#include "engine/swin_config.h"
#include "engine/swin_windows.h"
#include "kernels/error.h"
#include "models/safetensors.h"
#include "models/swin_fp32.h"
#include "random_swin.h"
#include "test_support.h"

using namespace intvit;

namespace {

// Max |logit error| against PyTorch FP32, relative to max(1, largest |logit|): only the summation
// order differs (intvit's FMA chains vs Debian torch's reference BLAS; the token average), measured ~1e-6.
constexpr double kMaxRelativeLogitError = 1e-4;

size_t argmax(const float* v, size_t n) { return std::max_element(v, v + n) - v; }

void check_parity(const std::filesystem::path& dir, size_t min_images) {
  const SwinWeightsF32 model = load_swin_f32(dir);
  const SafeTensorsFile ref = SafeTensorsFile::open(dir / "reference.safetensors");
  const TensorView& pixels = ref.get("pixels");
  const std::vector<uint8_t> px = pixels.copy_as<uint8_t>();
  const std::vector<float> logits = ref.get("logits").to_f32();
  const size_t n = pixels.shape[0], classes = model.config.num_classes;
  const size_t image_bytes = static_cast<size_t>(model.config.image_size) * model.config.image_size * 3;
  REQUIRE(n >= min_images);
  REQUIRE(pixels.shape[1] == model.config.image_size);
  REQUIRE(logits.size() == n * classes);
  double worst = 0, largest = 1;
  int same_top1 = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::vector<float> out = swin_forward_f32(model, &px[i * image_bytes]);
    REQUIRE(out.size() == classes);
    const float* want = &logits[i * classes];
    for (size_t c = 0; c < classes; ++c) {
      worst = std::max(worst, std::fabs(double(out[c]) - want[c]));
      largest = std::max(largest, std::fabs(double(want[c])));
    }
    same_top1 += argmax(out.data(), classes) == argmax(want, classes);
  }
  std::printf("Swin FP32 parity %s: %zu images, max |logit error| %.3g (largest |logit| %.3g), same top-1 %d/%zu\n",
              dir.filename().c_str(), n, worst, largest, same_top1, n);
  CHECK(worst <= kMaxRelativeLogitError * largest);
  CHECK(same_top1 == static_cast<int>(n));
}

std::filesystem::path golden(const char* name) { return test::source_dir() / "tests" / "data" / "swin" / name; }

nlohmann::json small_config() {
  return {{"architecture", "swin_test"},
          {"num_classes", 10},
          {"model_args",
           {{"img_size", 28}, {"patch_size", 2}, {"embed_dim", 16}, {"depths", {2, 2}}, {"num_heads", {2, 4}},
            {"window_size", 7}, {"mlp_ratio", 2.0}}}};
}

}  // namespace

TEST_CASE("Swin FP32 forward matches PyTorch: shifted windows and 3 stages of patch merging", "[swin][fp32]") {
  check_parity(golden("shift_merge_3stages"), 8);
}

TEST_CASE("Swin FP32 forward matches PyTorch: the Fashion-MNIST geometry", "[swin][fp32]") {
  check_parity(golden("fashion_geometry"), 8);
}

TEST_CASE("Swin FP32 forward matches PyTorch: window clamped to a smaller resolution, pre-0.9 names",
          "[swin][fp32]") {
  check_parity(golden("clamped_window_legacy_names"), 8);
}

TEST_CASE("Swin FP32 forward matches PyTorch on the shipped Fashion-MNIST Swin", "[swin][fp32]") {
  check_parity(test::source_dir() / "models" / "default" / "fashion-swin", 64);
}

TEST_CASE("Swin window layout is timm's roll + window_partition", "[swin]") {
  // 4×4 grid, window 2, no shift: windows in row-major order, tokens row-major inside each.
  const SwinWindowLayout plain = make_swin_window_layout(4, 2, 0);
  CHECK(plain.token_of == std::vector<int32_t>{0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15});
  CHECK(plain.region.empty());
  CHECK_FALSE(plain.masked(3, 0, 3));

  // Shift 1: position p holds token ((y+1) mod 4, (x+1) mod 4) of the shifted grid's (y, x).
  const SwinWindowLayout shifted = make_swin_window_layout(4, 2, 1);
  CHECK(shifted.token_of == std::vector<int32_t>{5, 6, 9, 10, 7, 4, 11, 8, 13, 14, 1, 2, 15, 12, 3, 0});
  std::vector<int32_t> sorted = shifted.token_of;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int32_t> identity(16);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(sorted == identity);
  // Regions split rows and columns at res − ws = 2 and res − shift = 3: the top-left window is one
  // region; the bottom-right window has four (each position its own) and masks every pair.
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      CHECK_FALSE(shifted.masked(0, i, j));
      CHECK(shifted.masked(3, i, j) == (i != j));
    }
  }
  // Top-right window: columns 2 | 3 differ, rows 0 and 1 are one region.
  CHECK_FALSE(shifted.masked(1, 0, 2));
  CHECK(shifted.masked(1, 0, 1));

  // timm 7×7 windows on a 14×14 grid with shift 3: 49·49 pairs per window, the first window unmasked.
  const SwinWindowLayout w7 = make_swin_window_layout(14, 7, 3);
  int masked_pairs[4] = {};
  for (int w = 0; w < 4; ++w) {
    for (int i = 0; i < 49; ++i) {
      for (int j = 0; j < 49; ++j) masked_pairs[w] += w7.masked(w, i, j);
    }
  }
  // Regions of 4 and 3 rows/cols: window 1 = 28|21 columns -> 2·28·21 masked pairs; window 3 four blocks.
  CHECK(masked_pairs[0] == 0);
  CHECK(masked_pairs[1] == 2 * 28 * 21);
  CHECK(masked_pairs[2] == 2 * 28 * 21);
  CHECK(masked_pairs[3] == 49 * 49 - (16 * 16 + 12 * 12 + 12 * 12 + 9 * 9));

  CHECK_THROWS_WITH(make_swin_window_layout(14, 4, 0), Catch::Contains("window 4"));
  CHECK_THROWS_AS(make_swin_window_layout(8, 4, 4), Error);
}

TEST_CASE("Swin relative position index is timm's", "[swin]") {
  CHECK(swin_relative_position_index(2) == std::vector<int32_t>{4, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4});
  const std::vector<int32_t> idx = swin_relative_position_index(7);
  REQUIRE(idx.size() == 49u * 49u);
  CHECK(*std::min_element(idx.begin(), idx.end()) == 0);
  CHECK(*std::max_element(idx.begin(), idx.end()) == 13 * 13 - 1);
  for (int i = 0; i < 49; ++i) CHECK(idx[i * 49 + i] == 6 * 13 + 6);  // (0, 0) offset: the table's centre
}

TEST_CASE("Swin config: timm defaults, window clamp and shifts", "[swin]") {
  const SwinConfig tiny = parse_swin_config({{"architecture", "swin_tiny_patch4_window7_224"}});
  CHECK(tiny.depths == std::vector<int>{2, 2, 6, 2});
  CHECK(tiny.num_heads == std::vector<int>{3, 6, 12, 24});
  CHECK(tiny.num_features() == 768);
  CHECK(tiny.stage_resolution(3) == 7);
  CHECK(tiny.stage_window(0) == 7);
  CHECK(tiny.block_shift(0, 1) == 3);
  CHECK(tiny.block_shift(3, 1) == 0);  // 7×7 = one window: timm drops the shift
  CHECK(tiny.layer_norm_eps == 1e-5);
  CHECK(tiny.mlp_hidden(0) == 384);
  CHECK(is_swin_config({{"architecture", "swin_tiny_patch4_window7_224"}}));
  CHECK_FALSE(is_swin_config({{"architecture", "vit_tiny_patch16_224"}}));

  const SwinConfig small = parse_swin_config(small_config());
  CHECK(small.stage_resolution(1) == 7);
  CHECK(small.stage_window(1) == 7);
  CHECK(small.head_dim(1) == 8);

  nlohmann::json j = small_config();
  j["model_args"]["img_size"] = 24;  // 12×12 grid, window 7 does not divide it
  CHECK_THROWS_WITH(parse_swin_config(j), Catch::Contains("window 7 does not divide the resolution 12x12"));
  j = small_config();
  j["model_args"]["img_size"] = 42;  // 21×21: window 7 fits, but patch merging needs an even side
  CHECK_THROWS_WITH(parse_swin_config(j), Catch::Contains("even resolution"));
  j = small_config();
  j["model_args"]["num_heads"] = {3, 4};
  CHECK_THROWS_WITH(parse_swin_config(j), Catch::Contains("not a multiple of num_heads"));
  j = small_config();
  j["model_args"]["num_heads"] = {2};
  CHECK_THROWS_WITH(parse_swin_config(j), Catch::Contains("same length"));
  j = small_config();
  j["model_args"]["depths"] = "2,2";
  CHECK_THROWS_WITH(parse_swin_config(j), Catch::Contains("depths must be an array"));
  j = small_config();
  j["model_args"]["embed_dim"] = 1e10;
  CHECK_THROWS_WITH(parse_swin_config(j), Catch::Contains("embed_dim must be an integer"));
}

TEST_CASE("Swin loader names the missing or mis-shaped tensor", "[swin]") {
  const SafeTensorsFile empty = SafeTensorsFile::from_buffer("\x02\0\0\0\0\0\0\0{}", 10);
  CHECK_THROWS_WITH(load_swin_weights_f32(empty, parse_swin_config(small_config())),
                    Catch::Contains("patch_embed.proj.weight"));
  // The golden model's weights against a config with another window: the bias table's shape differs.
  const std::filesystem::path dir = golden("fashion_geometry");
  const SafeTensorsFile file = SafeTensorsFile::open(dir / "model.safetensors");
  SwinConfig cfg = load_swin_config(dir / "config.json");
  REQUIRE_NOTHROW(load_swin_weights_f32(file, cfg));
  cfg.window_size = 2;  // 14 and 7 are not multiples of 2 -> the config is rejected first
  CHECK_THROWS_WITH(load_swin_weights_f32(file, cfg), Catch::Contains("does not divide"));
  cfg.window_size = 14;  // clamps to 14 and 7: table rows (2·14−1)² instead of 13²
  CHECK_THROWS_WITH(load_swin_weights_f32(file, cfg),
                    Catch::Contains("layers.0.blocks.0.attn.relative_position_bias_table") &&
                        Catch::Contains("expected [729,2,]"));
  cfg = load_swin_config(dir / "config.json");
  cfg.embed_dim = 16;
  CHECK_THROWS_WITH(load_swin_weights_f32(file, cfg), Catch::Contains("patch_embed.proj.weight"));
}

TEST_CASE("Swin FP32 forward runs swin_tiny_patch4_window7_224's geometry", "[swin][fp32]") {
  // 224² -> 56², 28², 14², 7² (the last stage one unshifted window); random weights, one image.
  const SwinConfig cfg = parse_swin_config({{"architecture", "swin_tiny_patch4_window7_224"}});
  const SwinWeightsF32 model = random_swin(cfg, 7);
  const std::vector<std::vector<uint8_t>> inputs = random_model_inputs(ViTConfig{}, 1, 3);  // 224² RGB
  std::map<std::string, std::pair<size_t, size_t>> shapes;
  size_t non_finite = 0;
  const std::vector<float> logits = swin_forward_f32(model, inputs[0].data(),
      [&](std::string_view name, const float* data, size_t rows, size_t cols) {
        for (size_t i = 0; i < rows * cols; ++i) non_finite += !std::isfinite(data[i]);
        shapes[std::string(name)] = {rows, cols};
      });
  REQUIRE(logits.size() == 1000u);
  CHECK(non_finite == 0);
  CHECK(shapes.at("patch_embed.out") == std::pair<size_t, size_t>{56 * 56, 96});
  CHECK(shapes.at("layers.1.downsample.norm.in") == std::pair<size_t, size_t>{28 * 28, 4 * 96});
  CHECK(shapes.at("layers.2.blocks.5.attn.probs") == std::pair<size_t, size_t>{4 * 12 * 49, 49});
  CHECK(shapes.at("layers.3.blocks.1.attn.logits") == std::pair<size_t, size_t>{24 * 49, 49});
  CHECK(shapes.at("layers.3.blocks.1.mlp.fc1.out") == std::pair<size_t, size_t>{49, 3072});
  CHECK(shapes.at("pool.out") == std::pair<size_t, size_t>{1, 768});
  // patch embed (conv, then after its LayerNorm), 3 merges × 3, 12 blocks × 15, each stage's stream
  // after its last block, final norm in/out + pool + logits.
  CHECK(shapes.at("patch_embed.proj.out") == std::pair<size_t, size_t>{56 * 56, 96});
  CHECK(shapes.at("layers.2.blocks.5.out") == std::pair<size_t, size_t>{14 * 14, 384});
  CHECK(shapes.size() == 2 + 3 * 3 + 12 * 15 + 4 + 4);
}

// Hidden: the whole Fashion-MNIST test set (10,000 images), run by the CTest
// swin_fashion_mnist_fp32_accuracy (tests/swin_fashion.test.cmake, release only: ~1 min of FP32).
TEST_CASE("Swin FP32 top-1 on the Fashion-MNIST test set", "[.swin-fashion-accuracy]") {
  const char* dir_env = std::getenv("INTVIT_FASHION_MNIST_IDX_DIR");
  REQUIRE(dir_env != nullptr);
  const std::filesystem::path dir = dir_env;
  const SwinWeightsF32 model = load_swin_f32(test::source_dir() / "models" / "default" / "fashion-swin");
  const IdxImages images = read_idx_images(dir / "t10k-images-idx3-ubyte");
  const std::vector<int> labels = read_idx_labels(dir / "t10k-labels-idx1-ubyte");
  REQUIRE(images.count == 10000);
  REQUIRE(labels.size() == 10000u);
  REQUIRE(images.height == model.config.image_size);
  const size_t side = images.height, classes = model.config.num_classes;
  std::vector<uint8_t> rgb(side * side * 3);
  int correct = 0;
  for (int i = 0; i < images.count; ++i) {
    const uint8_t* gray = &images.pixels[i * side * side];
    for (size_t p = 0; p < side * side; ++p) rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = gray[p];
    const std::vector<float> out = swin_forward_f32(model, rgb.data());
    correct += static_cast<int>(argmax(out.data(), classes)) == labels[i];
  }
  std::printf("Swin FP32 Fashion-MNIST top-1: %d / 10000\n", correct);
  const int expected = std::atoi(std::getenv("INTVIT_SWIN_EXPECTED_CORRECT") ? std::getenv("INTVIT_SWIN_EXPECTED_CORRECT") : "0");
  REQUIRE(expected > 0);
  // PyTorch's count (models/default/README.md); a summation-order flip may move an image or two.
  CHECK(std::abs(correct - expected) <= 3);
}
