// The integer Swin in the model file (weights/FORMAT.md, "Swin"): save -> load -> save gives the same
// bytes and logits; a corrupt Swin field is kCorruptFile naming it; the families refuse each other's
// files clearly; load_model / sessions run both the integer and the FP32 Swin (threads, batch).
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/int_swin.h"
#include "engine/model.h"
#include "engine/session.h"
#include "kernels/error.h"
#include "models/safetensors.h"
#include "int_swin_fixture.h"
#include "model_file_surgery.h"
#include "random_swin.h"
#include "test_support.h"
#include "weights/calibration.h"
#include "weights/int_model_file.h"
#include "weights/int_model_reader.h"
#include "weights/swin_quantizer.h"

using namespace intvit;
using nlohmann::json;

namespace {

using namespace model_file_surgery;

IntSwin quantize_mode(const SwinWeightsF32& f, SoftmaxMode softmax, GeluMode gelu, int attn_bits, std::vector<int> wide = {}) {
  QuantizeOptions opt;
  opt.wide_blocks = std::move(wide);
  opt.auto_wide = false;
  opt.softmax = softmax;
  opt.gelu = gelu;
  opt.attn_bits = attn_bits;
  IntSwin m = calibrated_swin(f, opt, 6, 9);
  m.labels.assign(static_cast<size_t>(f.config.num_classes), "label");
  return m;
}

std::vector<int32_t> logits_of(const IntSwin& m, const std::vector<uint8_t>& image) {
  IntSwin packed = m;
  packed.prepare(GemmIsa::kRef);
  SwinWorkspace ws(packed);
  std::vector<int32_t> logits(static_cast<size_t>(m.config.num_classes));
  int_swin_forward(packed, kernel_set(GemmIsa::kRef), image.data(), ws, logits.data());
  return logits;
}

void check_corrupt(const Bytes& file, const std::string& field) {
  model_file_surgery::check_corrupt(
      file, field, [](const Bytes& f) { (void)read_int_swin_model(SafeTensorsFile::from_buffer(f.data(), f.size())); });
}

}  // namespace

TEST_CASE("integer Swin file: save -> load -> save gives the same bytes and logits", "[swin][int_swin][format]") {
  const SwinConfig c = tiny_swin_config("swin_file_test");
  const SwinWeightsF32 fp32 = random_swin(c, 90);
  const auto images = swin_inputs(c, 2, 10);
  const auto dir = std::filesystem::temp_directory_path() / "intvit_swin_file_test";
  struct Mode {
    SoftmaxMode softmax;
    GeluMode gelu;
    int bits;
    std::vector<int> wide;
  };
  for (const Mode& mode : {Mode{SoftmaxMode::kLut, GeluMode::kLut, 16, {1}}, Mode{SoftmaxMode::kLog2, GeluMode::kIgelu, 4, {}},
                           Mode{SoftmaxMode::kShiftmax, GeluMode::kShiftgelu, 8, {0, 3}}}) {
    INFO("softmax " << softmax_mode_name(mode.softmax));
    const IntSwin m = quantize_mode(fp32, mode.softmax, mode.gelu, mode.bits, mode.wide);
    save_int_model(m, dir);
    const Bytes first = read_bytes(dir / kIntModelFileName);
    const IntSwin loaded = load_int_swin_model(dir);
    save_int_model(loaded, dir / "again");
    CHECK(read_bytes(dir / "again" / kIntModelFileName) == first);
    for (const auto& image : images) CHECK(logits_of(loaded, image) == logits_of(m, image));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("integer Swin file: corrupt Swin fields are kCorruptFile naming the field, families refuse each other", "[swin][int_swin][format]") {
  const SwinConfig c = tiny_swin_config("swin_file_test");
  const IntSwin m = quantize_mode(random_swin(c, 91), SoftmaxMode::kLut, GeluMode::kLut, 16);
  const auto dir = std::filesystem::temp_directory_path() / "intvit_swin_corrupt_test";
  save_int_model(m, dir);
  const Bytes good = read_bytes(dir / kIntModelFileName);
  REQUIRE_NOTHROW(read_int_swin_model(SafeTensorsFile::from_buffer(good.data(), good.size())));
  check_corrupt(poke<int32_t>(good, "layers.1.blocks.1.attn_bias", 5, (1 << 28) + 1), "layers.1.blocks.1.attn_bias");
  check_corrupt(edit_graph(good, [](json& g) { g["pool_multiplier"] = 12345; }), "pool_multiplier");
  check_corrupt(edit_graph(good, [](json& g) { g["patch_norm_shift"] = 40; }), "patch_norm_shift");
  check_corrupt(edit_graph(good, [](json& g) { g["pooled"]["bits"] = 16; }), "pooled");
  check_corrupt(edit_graph(good, [](json& g) { g["stages"].erase(1); }), "stages");
  check_corrupt(edit_graph(good, [](json& g) { g["stages"][0]["blocks"].erase(0); }), "layers.0: blocks");
  check_corrupt(edit_graph(good, [](json& g) { g["architecture"] = "convnext"; }), "architecture");
  check_corrupt(edit_graph(good, [](json& g) { g["config"]["model_args"]["window_size"] = 3; }), "window");
  check_corrupt(edit_graph(good, [](json& g) { g["tensors"]["layers.1.downsample.reduction"]["accumulate"] = true; }), "reduction");
  check_corrupt(edit_graph(good, [](json& g) { g["tensors"]["patch_norm"]["out"]["bits"] = 8; }), "patch_norm");
  // A ViT loader says what the file is (for the user of a ViT-only command, not a C++ function
  // name); the Swin reader refuses a file without "architecture": "swin".
  try {
    (void)load_int_model_from_buffer(good.data(), good.size());
    FAIL("a Swin file loaded as a ViT");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kUnsupported);
    CHECK(std::string(e.what()).find("is an integer Swin model; this reads integer ViT / DeiT models only") != std::string::npos);
  }
  check_corrupt(edit_graph(good, [](json& g) { g.erase("architecture"); }), "not a Swin model");
  std::filesystem::remove_all(dir);
}

TEST_CASE("integer Swin file: version 1 is refused naming intvit quantize, not intvit upgrade", "[swin][int_swin][format]") {
  // Swin files began with version 2 and `intvit upgrade` refuses them: the ViT's version-1 message
  // ("rewrite it ... with `intvit upgrade`") sent the user to a command that cannot help.
  const SwinConfig c = tiny_swin_config("swin_file_test");
  const IntSwin m = quantize_mode(random_swin(c, 93), SoftmaxMode::kLut, GeluMode::kLut, 16);
  const auto dir = std::filesystem::temp_directory_path() / "intvit_swin_v1_test";
  save_int_model(m, dir);
  const Bytes v1 = edit_header(read_bytes(dir / kIntModelFileName), [](json& h) { h["__metadata__"]["intvit.version"] = "1"; });
  std::filesystem::remove_all(dir);
  const SafeTensorsFile file = SafeTensorsFile::from_buffer(v1.data(), v1.size());
  REQUIRE(is_int_swin_model(file));
  try {
    (void)read_int_swin_model(file);
    FAIL("a version-1 Swin file loaded");
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(e.code() == ErrorCode::kUnsupported);
    CHECK(std::string(e.what()).find("integer Swin model of format version 1, which does not exist") != std::string::npos);
    CHECK(std::string(e.what()).find("`intvit quantize`") != std::string::npos);
    CHECK(std::string(e.what()).find("with `intvit upgrade") == std::string::npos);
  }
}

TEST_CASE("load_model runs the integer and the FP32 Swin, sessions give the same bits for any threads and batch", "[swin][int_swin][format]") {
  const SwinConfig c = tiny_swin_config("swin_file_test");
  const IntSwin m = quantize_mode(random_swin(c, 92), SoftmaxMode::kLut, GeluMode::kLut, 16);
  const auto dir = std::filesystem::temp_directory_path() / "intvit_swin_model_test";
  save_int_model(m, dir);
  const std::shared_ptr<const Model> model = load_model(dir);
  CHECK(model->precision() == "int8");
  CHECK(model->config().image_size == c.image_size);
  CHECK(model->config().num_classes == c.num_classes);
  const auto images = swin_inputs(c, 3, 11);
  std::vector<uint8_t> pixels;
  std::vector<int32_t> singles;
  for (const auto& image : images) {
    const std::vector<int32_t> want = logits_of(m, image);
    singles.insert(singles.end(), want.begin(), want.end());
    pixels.insert(pixels.end(), image.begin(), image.end());
  }
  // 2 threads: one round of images one per thread plus a leftover image on the whole pool; 3: one
  // whole round, each image on its own thread's workspace.
  for (int threads : {1, 2, 3}) {
    SessionOptions o;
    o.threads = threads;
    const auto session = create_session(model, o);
    std::vector<int32_t> got(static_cast<size_t>(c.num_classes));
    session->run_int(images[0].data(), got.data());
    CHECK(std::equal(got.begin(), got.end(), singles.begin()));
    std::vector<int32_t> batch(singles.size());
    session->run_batch_int(images.size(), pixels.data(), batch.data());
    CHECK(batch == singles);
    std::fill(batch.begin(), batch.end(), 0);  // again: the workspaces made by the first batch are reused
    session->run_batch_int(images.size(), pixels.data(), batch.data());
    CHECK(batch == singles);
  }
  // The same file from memory (the C API's intvit_model_load_buffer path) runs the same bits.
  const Bytes bytes = read_bytes(dir / kIntModelFileName);
  const std::shared_ptr<const Model> from_buffer = load_int_model_buffer(bytes.data(), bytes.size());
  std::vector<int32_t> buffered(static_cast<size_t>(c.num_classes));
  create_session(from_buffer)->run_int(images[1].data(), buffered.data());
  CHECK(std::equal(buffered.begin(), buffered.end(), singles.begin() + c.num_classes));
  std::filesystem::remove_all(dir);
  // The shipped FP32 Swin through load_model: the FP32 forward's logits.
  const auto swin_dir = test::source_dir() / "models" / "default" / "fashion-swin";
  const std::shared_ptr<const Model> fp32 = load_model(swin_dir);
  CHECK(fp32->precision() == "fp32");
  CHECK(fp32->config().image_size == 28);
  const SwinWeightsF32 w = load_swin_f32(swin_dir);
  const std::vector<uint8_t> image(28 * 28 * 3, 100);
  const std::vector<float> want = swin_forward_f32(w, image.data());
  const std::vector<double> got = fp32->logits(image.data());
  REQUIRE(got.size() == want.size());
  for (size_t k = 0; k < got.size(); ++k) CHECK(got[k] == static_cast<double>(want[k]));
}

TEST_CASE("integer Swin file: mutated files load and run cleanly or throw intvit::Error", "[swin][int_swin][format]") {
  const SwinConfig c = tiny_swin_config("swin_file_test");
  const IntSwin m = quantize_mode(random_swin(c, 93), SoftmaxMode::kLut, GeluMode::kLut, 16);
  const auto dir = std::filesystem::temp_directory_path() / "intvit_swin_mutation_test";
  save_int_model(m, dir);
  const Bytes good = read_bytes(dir / kIntModelFileName);
  std::filesystem::remove_all(dir);
  uint64_t header_len = 0;
  std::memcpy(&header_len, good.data(), 8);
  const std::vector<uint8_t> image = swin_inputs(c, 1, 12)[0];
  std::mt19937 rng(2024);  // fixed: the cases are the same on every run
  int loaded = 0;
  constexpr int kTrials = 300;
  for (int trial = 0; trial < kTrials; ++trial) {
    Bytes bytes = good;
    // Half the trials flip bytes of the JSON header, half of the tensor data.
    const size_t begin = trial % 2 ? 8 : 8 + header_len, span = trial % 2 ? header_len : good.size() - 8 - header_len;
    for (int i = 0, flips = 1 + static_cast<int>(rng() % 3); i < flips; ++i) {
      const size_t pos = begin + rng() % span;
      bytes[pos] = static_cast<char>(bytes[pos] ^ static_cast<char>(1u << (rng() % 8)));
    }
    INFO("trial " << trial);
    try {
      IntSwin q = read_int_swin_model(SafeTensorsFile::from_buffer(bytes.data(), bytes.size()));
      ++loaded;
      q.prepare(GemmIsa::kRef);
      SwinWorkspace ws(q);
      std::vector<int32_t> logits(static_cast<size_t>(q.config.num_classes));
      int_swin_forward(q, kernel_set(GemmIsa::kRef), image.data(), ws, logits.data());  // must not crash (ASan/UBSan stage)
    } catch (const Error&) {
    }  // anything else propagates and fails the test
  }
  std::printf("Swin file mutations: %d of %d mutated files loaded and ran\n", loaded, kTrials);
  CHECK(loaded > 0);  // data flips that stay in range do load: the run above was exercised
}
