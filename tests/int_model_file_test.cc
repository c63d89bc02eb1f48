// The closed integer model file (weights/FORMAT.md, version 2): save -> load -> save gives the same
// bytes and the same logits in every quantization mode; a corrupt stored table or multiplier is
// kCorruptFile naming the field; a version-1 file is refused with the fix named, and `intvit
// upgrade`'s conversion gives exactly the file the quantizer writes.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "int_model_v1.h"
#include "model_file_surgery.h"
#include "random_vit.h"
#include "engine/int_vit.h"
#include "engine/thread_pool.h"
#include "kernels/error.h"
#include "test_support.h"
#include "weights/calibration.h"
#include "weights/int_model_file.h"
#include "weights/int_model_upgrade.h"
#include "weights/quantizer.h"

using namespace intvit;
using nlohmann::json;

namespace {

using namespace model_file_surgery;

struct Case {
  const char* name;
  SoftmaxMode softmax;
  GeluMode gelu;
  int attn_bits;
  std::vector<int> wide;
};

// Every softmax and GELU mode, 4/8/16-bit attention, an 8- and a 16-bit MLP.
const Case kCases[] = {{"lut/lut attn16", SoftmaxMode::kLut, GeluMode::kLut, 16, {}},
                       {"iexp/igelu", SoftmaxMode::kIexp, GeluMode::kIgelu, 8, {}},
                       {"shiftmax/shiftgelu wide", SoftmaxMode::kShiftmax, GeluMode::kShiftgelu, 8, {0}},
                       {"log2 attn4/lut wide", SoftmaxMode::kLog2, GeluMode::kLut, 4, {1}},
                       {"lut/igelu wide", SoftmaxMode::kLut, GeluMode::kIgelu, 16, {0, 1}}};

IntViT quantize_case(const ViTWeightsF32& fp32, const Case& c) {
  QuantizeOptions opt;
  opt.softmax = c.softmax;
  opt.gelu = c.gelu;
  opt.attn_bits = c.attn_bits;
  opt.wide_blocks = c.wide;
  opt.auto_wide = false;
  IntViT m = quantize_vit(fp32, calibrate(fp32, random_model_inputs(fp32.config, 8, 5), ObserverKind::kMinMax), opt);
  m.labels.assign(fp32.config.num_classes, "label");
  return m;
}

std::vector<int32_t> logits_of(const IntViT& m, const std::vector<uint8_t>& image) {
  IntViT packed = m;
  packed.prepare(GemmIsa::kRef);
  IntWorkspace ws(m, 1);
  std::vector<int32_t> logits(m.config.num_classes);
  int_vit_forward(packed, kernel_set(GemmIsa::kRef), image.data(), ws, logits.data());
  return logits;
}

Bytes saved_bytes(const IntViT& m, const std::filesystem::path& dir) {
  save_int_model(m, dir);
  return read_bytes(dir / kIntModelFileName);
}

// The load must fail with kCorruptFile and a message containing `field`.
void check_corrupt(const Bytes& file, const std::string& field) {
  model_file_surgery::check_corrupt(file, field, [](const Bytes& f) { (void)load_int_model_from_buffer(f.data(), f.size()); });
}

}  // namespace

TEST_CASE("integer model file: save -> load -> save gives the same bytes and logits", "[int_engine][format]") {
  ViTConfig c = test::tiny_config();
  c.depth = 2;
  const ViTWeightsF32 fp32 = random_vit(c, 77);
  const auto images = random_model_inputs(c, 4, 8);
  const auto dir = std::filesystem::temp_directory_path() / "intvit_format_v2_test";
  for (const Case& k : kCases) {
    INFO(k.name);
    const IntViT m = quantize_case(fp32, k);
    const Bytes first = saved_bytes(m, dir);
    const IntViT loaded = load_int_model(dir);
    const Bytes second = saved_bytes(loaded, dir / "again");
    REQUIRE(first.size() == second.size());
    CHECK(first == second);
    for (const auto& image : images) REQUIRE(logits_of(loaded, image) == logits_of(m, image));
    // The file carries the kernel parameters themselves, not a recipe for them.
    for (size_t i = 0; i < m.blocks.size(); ++i) {
      const QBlock &a = m.blocks[i], &b = loaded.blocks[i];
      CHECK(std::memcmp(&a.softmax, &b.softmax, sizeof a.softmax) == 0);
      CHECK(a.gelu.table == b.gelu.table);
      CHECK((a.gelu.pre_multiplier == b.gelu.pre_multiplier && a.gelu.out_shift == b.gelu.out_shift &&
             a.gelu.erf_clip == b.gelu.erf_clip && a.gelu.out_min == b.gelu.out_min));
      CHECK(a.norm1.params.gamma_multiplier == b.norm1.params.gamma_multiplier);
      CHECK(a.norm2.params.beta_bias == b.norm2.params.beta_bias);
      CHECK(a.norm2.params.out_shift == b.norm2.params.out_shift);
      CHECK(a.norm1.params.eps_mantissa == b.norm1.params.eps_mantissa);
      CHECK(a.norm1.params.max_pre_shift == b.norm1.params.max_pre_shift);
      CHECK(b.norm1.gamma.empty());  // nothing float is read back
    }
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("integer model file: corrupt stored kernel parameters are kCorruptFile naming the field", "[int_engine][format]") {
  const ViTConfig c = test::tiny_config();
  const ViTWeightsF32 fp32 = random_vit(c, 78);
  const auto dir = std::filesystem::temp_directory_path() / "intvit_format_v2_corrupt";
  const Bytes lut = saved_bytes(quantize_case(fp32, kCases[0]), dir);  // lut softmax + GELU tables
  const Bytes iexp = saved_bytes(quantize_case(fp32, kCases[1]), dir);  // iexp + igelu constants
  REQUIRE_NOTHROW(load_int_model_from_buffer(lut.data(), lut.size()));
  REQUIRE_NOTHROW(load_int_model_from_buffer(iexp.data(), iexp.size()));
  // Out-of-range values.
  check_corrupt(poke<int16_t>(lut, "blocks.0.gelu_table", 17, 256), "blocks.0.gelu_table[17]");
  check_corrupt(poke<int16_t>(lut, "blocks.0.gelu_table", 3, -1), "blocks.0.gelu_table[3]");
  check_corrupt(poke<int32_t>(lut, "blocks.0.softmax_exp_table", 9, 1 << 18), "blocks.0.softmax_exp_table[9]");
  check_corrupt(poke<int32_t>(lut, "blocks.0.softmax_exp_table", 0, 1000), "blocks.0.softmax_exp_table[0]");
  check_corrupt(poke<uint8_t>(lut, "blocks.0.norm1.out_shift", 2, 41), "blocks.0.norm1");
  check_corrupt(poke<int32_t>(lut, "norm.gamma_multiplier", 0, INT32_MIN), "norm");
  check_corrupt(poke<int64_t>(lut, "blocks.0.norm2.beta_bias", 1, (int64_t{1} << 62) + 1), "blocks.0.norm2");
  auto graph = [](const Bytes& f, const std::function<void(json&)>& e) { return edit_graph(f, e); };
  check_corrupt(graph(lut, [](json& g) { g["tensors"]["norm"]["eps_mantissa"] = 5; }), "norm.eps_mantissa");
  check_corrupt(graph(lut, [](json& g) { g["tensors"]["norm"]["max_pre_shift"] = 23; }), "norm.max_pre_shift");
  check_corrupt(graph(lut, [](json& g) {
                  g["tensors"]["norm"]["eps_mantissa"] = 1 << 30;
                  g["tensors"]["norm"]["eps_exponent"] = 40;
                }), "norm.max_pre_shift");
  check_corrupt(graph(lut, [](json& g) { g["blocks"][0]["softmax_params"]["in_shift"] = 32; }), "blocks.0.softmax_params.in_shift");
  check_corrupt(graph(lut, [](json& g) { g["blocks"][0]["softmax_params"]["in_multiplier"] = 7; }),
                "blocks.0.softmax_params.in_multiplier");
  check_corrupt(graph(lut, [](json& g) { g["blocks"][0]["softmax_params"]["max_code"] = 255; }), "blocks.0.softmax_params.max_code");
  check_corrupt(graph(lut, [](json& g) { g["blocks"][0]["gelu_params"]["out_multiplier"] = 1 << 30; }),
                "blocks.0.gelu_params.out_multiplier");
  // B = 0, C = 2^31 - 1: z(r) = r² + C overflows int32 for r != 0 (each is in range on its own).
  check_corrupt(graph(iexp, [](json& g) {
                  g["blocks"][0]["softmax_params"]["poly_b"] = 0;
                  g["blocks"][0]["softmax_params"]["poly_c"] = INT32_MAX;
                }), "blocks.0.softmax_params: poly_b/poly_c");
  check_corrupt(graph(iexp, [](json& g) { g["blocks"][0]["softmax_params"]["poly_b"] = 70000; }), "blocks.0.softmax_params.poly_b");
  check_corrupt(graph(iexp, [](json& g) { g["blocks"][0]["softmax_params"]["poly_c"] = 1000; }), "blocks.0.softmax_params.poly_c");
  check_corrupt(graph(iexp, [](json& g) { g["blocks"][0]["gelu_params"]["erf_clip"] = 50000; }), "blocks.0.gelu_params.erf_clip");
  check_corrupt(graph(iexp, [](json& g) { g["blocks"][0]["gelu_params"]["pre_shift"] = -40; }), "blocks.0.gelu_params.pre_shift");
  check_corrupt(graph(iexp, [](json& g) { g["blocks"][0].erase("gelu_params"); }), "gelu_params");
  // A crop_pct so small that floor(input_size / crop_pct) is no image side (fuzz_c_api found a
  // denormal one: the model loaded, then every image run failed). Refused at load.
  for (double crop_pct : {4.9e-324, 1e-310, 1e-3, 0.2499, -0.9}) {
    INFO("crop_pct " << crop_pct);
    check_corrupt(graph(lut, [&](json& g) { g["config"]["pretrained_cfg"]["crop_pct"] = crop_pct; }), "crop_pct");
  }
  REQUIRE_NOTHROW([&] {
    const Bytes quarter = graph(lut, [](json& g) { g["config"]["pretrained_cfg"]["crop_pct"] = 0.25; });
    (void)load_int_model_from_buffer(quarter.data(), quarter.size());
  }());
  // Wrong lengths, and a table where the mode has none.
  auto reshape = [](const Bytes& f, const std::string& name, std::vector<int64_t> shape, int64_t bytes_per) {
    return edit_header(f, [&](json& h) {
      h[name]["shape"] = shape;
      const size_t b = h[name]["data_offsets"][0].get<size_t>();
      int64_t n = 1;
      for (int64_t s : shape) n *= s;
      h[name]["data_offsets"][1] = b + static_cast<size_t>(n * bytes_per);  // container-valid, spec-invalid
    });
  };
  const auto gelu_shape = [&] {
    uint64_t n = 0;
    std::memcpy(&n, lut.data(), 8);
    return json::parse(lut.substr(8, n))["blocks.0.gelu_table"]["shape"][0].get<int64_t>();
  }();
  REQUIRE((gelu_shape == 256 || gelu_shape == 65537));
  // A shorter table leaves bytes between tensors, which the container itself rejects; either way
  // the load is kCorruptFile naming the tensor.
  check_corrupt(reshape(lut, "blocks.0.gelu_table", {gelu_shape, 1}, 2), "blocks.0.gelu_table");
  check_corrupt(reshape(lut, "blocks.0.softmax_exp_table", {16, 16}, 4), "blocks.0.softmax_exp_table");
  check_corrupt(reshape(lut, "norm.out_shift", {1, c.embed_dim}, 1), "norm.out_shift");
  check_corrupt(edit_header(lut, [](json& h) { h["blocks.0.gelu_table_"] = h["blocks.0.gelu_table"]; h.erase("blocks.0.gelu_table"); }),
                "blocks.0.gelu_table");
  check_corrupt(edit_header(iexp, [](json& h) { h["blocks.0.gelu_table"] = h["head.bias"]; h.erase("head.bias"); }),
                "blocks.0.gelu_table");
  check_corrupt(edit_header(lut, [](json& h) { h["norm.beta_bias"]["dtype"] = "I32"; }), "norm.beta_bias");
  std::filesystem::remove_all(dir);
}

// The engine types a linear's input by the layer that writes it and folds the linear's own input
// zero-point into its bias: a file where the two disagree loaded, then failed every run ("the
// workspace was made for another model") or computed with the wrong offset. Refused at load.
TEST_CASE("integer model file: each layer must read its producer's width and zero-point", "[int_engine][format]") {
  const ViTConfig c = test::tiny_config();
  const ViTWeightsF32 fp32 = random_vit(c, 80);
  const auto dir = std::filesystem::temp_directory_path() / "intvit_format_chain";
  const Bytes narrow = saved_bytes(quantize_case(fp32, kCases[1]), dir);  // 8-bit MLP everywhere
  const Bytes wide = saved_bytes(quantize_case(fp32, kCases[2]), dir);    // block 0: 16-bit GELU output
  REQUIRE_NOTHROW(load_int_model_from_buffer(narrow.data(), narrow.size()));
  REQUIRE_NOTHROW(load_int_model_from_buffer(wide.data(), wide.size()));
  auto graph = [](const Bytes& f, const std::function<void(json&)>& e) { return edit_graph(f, e); };
  auto shift_zero_point = [](json& act) { act["zero_point"] = (act["zero_point"].get<int>() + 1) % 256; };
  check_corrupt(graph(narrow, [](json& g) { g["tensors"]["blocks.0.k"]["input"] = {{"bits", 16}, {"scale", 1.0}, {"zero_point", 0}}; }),
                "blocks.0.k");
  for (const char* layer : {"blocks.0.q", "blocks.0.v", "blocks.1.proj", "blocks.0.fc1", "blocks.1.fc2", "head"}) {
    INFO(layer);
    check_corrupt(graph(narrow, [&](json& g) { shift_zero_point(g["tensors"][layer]["input"]); }), layer);
  }
  check_corrupt(graph(wide, [](json& g) { g["tensors"]["blocks.0.fc2"]["input"] = {{"bits", 8}, {"scale", 1.0}, {"zero_point", 0}}; }),
                "blocks.0.fc2");
  check_corrupt(graph(narrow, [](json& g) { g["tensors"]["norm"]["out"] = {{"bits", 16}, {"scale", 1.0}, {"zero_point", 0}}; }),
                "head");
  check_corrupt(graph(narrow, [](json& g) { g["tensors"]["patch_embed"]["input"]["zero_point"] = 3; }), "patch_embed");
  check_corrupt(graph(narrow, [&](json& g) { shift_zero_point(g["blocks"][0]["gelu_in"]); }), "blocks.0: fc1");
  check_corrupt(graph(narrow, [](json& g) {
                  g["blocks"][1]["attn_out"] = {{"bits", 16}, {"scale", 1.0}, {"zero_point", 0}};
                  g["tensors"]["blocks.1.proj"]["input"] = g["blocks"][1]["attn_out"];
                }), "blocks.1.attn_out");
  std::filesystem::remove_all(dir);
}

// A file without labels names its classes class_<i>: it never reads a labels.txt from the process's
// working directory (it did: load_labels of an empty folder); a short list is completed.
TEST_CASE("integer model file: missing labels are class_<i>, never read from the working directory", "[int_engine][format]") {
  const ViTConfig c = test::tiny_config();
  REQUIRE(c.num_classes >= 3);
  const ViTWeightsF32 fp32 = random_vit(c, 81);
  const auto dir = std::filesystem::temp_directory_path() / "intvit_format_labels";
  const Bytes file = saved_bytes(quantize_case(fp32, kCases[1]), dir);
  const Bytes none = edit_graph(file, [](json& g) { g.erase("labels"); });
  const Bytes short_list = edit_graph(file, [](json& g) { g["labels"] = {"cat", ""}; });
  const auto cwd = std::filesystem::current_path();
  std::filesystem::create_directories(dir / "cwd");
  std::ofstream(dir / "cwd" / "labels.txt") << "from the working directory\n";
  std::filesystem::current_path(dir / "cwd");
  const IntViT a = load_int_model_from_buffer(none.data(), none.size());
  const IntViT b = load_int_model_from_buffer(short_list.data(), short_list.size());
  std::filesystem::current_path(cwd);
  REQUIRE(a.labels.size() == static_cast<size_t>(c.num_classes));
  CHECK(a.labels[0] == "class_0");
  CHECK(a.labels.back() == "class_" + std::to_string(c.num_classes - 1));
  REQUIRE(b.labels.size() == static_cast<size_t>(c.num_classes));
  CHECK(b.labels[0] == "cat");
  CHECK(b.labels[1] == "class_1");
  CHECK(b.labels[2] == "class_2");
  std::filesystem::remove_all(dir);
}

TEST_CASE("integer model file: version 1 is refused naming the fix, upgrade writes the quantizer's file", "[int_engine][format]") {
  ViTConfig c = test::tiny_config();
  c.depth = 2;
  const ViTWeightsF32 fp32 = random_vit(c, 79);
  const auto dir = std::filesystem::temp_directory_path() / "intvit_format_v1_test";
  std::filesystem::create_directories(dir / "v1");
  for (const Case& k : kCases) {
    INFO(k.name);
    const IntViT m = quantize_case(fp32, k);
    const std::vector<std::byte> v1 = test::serialize_int_model_v1(m);
    {
      std::ofstream out(dir / "v1" / kIntModelFileName, std::ios::binary);
      out.write(reinterpret_cast<const char*>(v1.data()), static_cast<std::streamsize>(v1.size()));
    }
    try {
      (void)load_int_model(dir / "v1");
      FAIL("a version-1 file loaded");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::kUnsupported);
      CHECK(std::string(e.what()).find("intvit upgrade") != std::string::npos);
      CHECK(std::string(e.what()).find("intvit quantize") != std::string::npos);
    }
    CHECK(upgrade_int_model(dir / "v1", dir / "v2") == 1);
    CHECK(read_bytes(dir / "v2" / kIntModelFileName) == saved_bytes(m, dir / "direct"));
    // Upgrading a current file rewrites it unchanged.
    CHECK(upgrade_int_model(dir / "v2", dir / "v2again") == kIntModelFormatVersion);
    CHECK(read_bytes(dir / "v2again" / kIntModelFileName) == read_bytes(dir / "direct" / kIntModelFileName));
  }
  std::filesystem::remove_all(dir);
}
