// Writes the committed model files of the fuzzing seed corpus (and the fuzz_c_api seeds built from
// them and the image seeds) and the robustness corpus:
//   fuzz_make_seed_models <tests/fuzz/corpus> <tests/corpus/model>
//   fuzz_make_seed_models --c-api-only <tests/fuzz/corpus>   (only corpus/fuzz_c_api, from the
//                                                              model seeds already there)
// Seeds (tests/fuzz/corpus/fuzz_model_loader, .../fuzz_safetensors): tiny random ViTs quantized in
// every softmax / GELU / width mode, as real integer model files, plus a few hand-made safetensors
// files. Robustness corpus (tests/corpus/model): one valid tiny model and, derived from it, files
// that break one rule each of weights/FORMAT.md, with manifest.txt naming the outcome the spec
// asks for. The expected outcomes are written from the spec here, never by running the loader.
// Deterministic (fixed seeds); rerun and commit the output when the format changes.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "int_model_v1.h"
#include "random_vit.h"
#include "kernels/error.h"
#include "weights/calibration.h"
#include "weights/int_model_file.h"
#include "weights/quantizer.h"
#include "models/safetensors_writer.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace intvit;

namespace {

using Bytes = std::string;  // a file image; std::string keeps the text edits short

// ---- a tiny random ViT, quantized (as tests/int_engine_test.cc does) ----

using test::random_vit;

std::vector<std::vector<uint8_t>> random_images(const ViTConfig& c, size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<uint8_t>> images(n, std::vector<uint8_t>(static_cast<size_t>(c.image_size) * c.image_size * 3));
  for (auto& im : images)
    for (uint8_t& p : im) p = static_cast<uint8_t>(rng());
  return images;
}

ViTConfig tiny_config(int image, int patch, int dim, int heads, double mlp_ratio, int classes) {
  ViTConfig c;
  c.image_size = image;
  c.patch_size = patch;
  c.embed_dim = dim;
  c.depth = 1;
  c.num_heads = heads;
  c.mlp_ratio = mlp_ratio;
  c.num_classes = classes;
  c.mean = {0.5, 0.5, 0.5};
  c.std = {0.5, 0.5, 0.5};
  return c;
}

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const Bytes& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw Error(ErrorCode::kIo, "cannot write " + p.string());
}

IntViT quantized_model(const ViTConfig& c, const QuantizeOptions& opt, unsigned seed) {
  const ViTWeightsF32 fp32 = random_vit(c, seed);
  IntViT m = quantize_vit(fp32, calibrate(fp32, random_images(c, 8, seed + 1), ObserverKind::kMinMax), opt);
  for (int i = 0; i < c.num_classes; ++i) m.labels.push_back("class " + std::to_string(i));
  return m;
}

Bytes quantized_model_file(const ViTConfig& c, const QuantizeOptions& opt, unsigned seed) {
  const IntViT m = quantized_model(c, opt, seed);
  const fs::path dir = fs::temp_directory_path() / ("intvit_seed_" + std::to_string(::getpid()));
  save_int_model(m, dir);
  Bytes bytes = read_file(dir / kIntModelFileName);
  fs::remove_all(dir);
  return bytes;
}

// ---- container surgery: [u64 N][N bytes header][data] ----

struct Split {
  std::string header;
  std::string data;
};

Split split(const Bytes& file) {
  uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  return {file.substr(8, n), file.substr(8 + n)};
}

Bytes frame(const std::string& header, const std::string& data) {
  const uint64_t n = header.size();
  Bytes out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

Bytes with_header_length(Bytes file, uint64_t n) {
  std::memcpy(file.data(), &n, 8);
  return file;
}

// Parses the header, lets `edit` change it, serializes it again (tensor data unchanged).
Bytes edit_header(const Bytes& file, const std::function<void(json&)>& edit) {
  Split s = split(file);
  json h = json::parse(s.header);
  edit(h);
  return frame(h.dump(), s.data);
}

// Same for the intvit.graph JSON inside __metadata__.
Bytes edit_graph(const Bytes& file, const std::function<void(json&)>& edit) {
  return edit_header(file, [&](json& h) {
    json g = json::parse(h["__metadata__"]["intvit.graph"].get<std::string>());
    edit(g);
    h["__metadata__"]["intvit.graph"] = g.dump();
  });
}

// Replaces the first occurrence of `from` in the header text (for edits json cannot express).
Bytes edit_header_text(const Bytes& file, const std::string& from, const std::string& to) {
  Split s = split(file);
  const size_t at = s.header.find(from);
  if (at == std::string::npos) throw Error(ErrorCode::kInternal, "header has no '" + from + "'");
  s.header.replace(at, from.size(), to);
  return frame(s.header, s.data);
}

// Overwrites element `index` of tensor `name` (raw bytes of T) in the data section.
template <typename T>
Bytes poke(const Bytes& file, const std::string& name, size_t index, T value) {
  Split s = split(file);
  const json h = json::parse(s.header);
  const size_t begin = h.at(name).at("data_offsets")[0].get<size_t>() + index * sizeof(T);
  std::memcpy(s.data.data() + begin, &value, sizeof(T));
  return frame(s.header, s.data);
}

// ---- outputs ----

struct Corpus {
  fs::path dir;
  std::string manifest;
  void add(const std::string& name, const Bytes& bytes, const std::string& outcome, const std::string& why) {
    write_file(dir / name, bytes);
    char line[512];
    std::snprintf(line, sizeof line, "%-44s %-16s # %s\n", name.c_str(), outcome.c_str(), why.c_str());
    manifest += line;
  }
};

void write_fuzz_seeds(const fs::path& corpus) {
  const fs::path loader = corpus / "fuzz_model_loader", st = corpus / "fuzz_safetensors";
  fs::create_directories(loader);
  fs::create_directories(st);
  // image 16, patch 8, dim 16, depth 1: every path of the forward on a file of a few KB.
  const ViTConfig c = tiny_config(16, 8, 16, 2, 4.0, 4);
  struct Seed {
    const char* name;
    SoftmaxMode softmax;
    GeluMode gelu;
    int attn_bits;
    std::vector<int> wide;
  };
  const Seed seeds[] = {{"iexp_lut", SoftmaxMode::kIexp, GeluMode::kLut, 8, {}},
                        {"shiftmax_shiftgelu_wide", SoftmaxMode::kShiftmax, GeluMode::kShiftgelu, 8, {0}},
                        {"lut_igelu", SoftmaxMode::kLut, GeluMode::kIgelu, 8, {}},
                        {"log2_attn4_lut_wide", SoftmaxMode::kLog2, GeluMode::kLut, 4, {0}},
                        {"lut_attn16", SoftmaxMode::kLut, GeluMode::kLut, 16, {}}};
  unsigned seed = 11;
  for (const Seed& s : seeds) {
    QuantizeOptions opt;
    opt.softmax = s.softmax;
    opt.gelu = s.gelu;
    opt.attn_bits = s.attn_bits;
    opt.wide_blocks = s.wide;
    opt.auto_wide = false;
    const Bytes model = quantized_model_file(c, opt, seed++);
    write_file(loader / (std::string(s.name) + ".intvit"), model);
    if (s.softmax == SoftmaxMode::kIexp) write_file(st / "int_model.safetensors", model);
  }
  {  // DeiT-distilled: dist_token, head_dist and the integer mean of the two heads (Eq. 41).
    ViTConfig d = c;
    d.distillation_token = true;
    QuantizeOptions opt;
    opt.softmax = SoftmaxMode::kIexp;
    opt.attn_bits = 8;
    opt.auto_wide = false;
    write_file(loader / "iexp_lut_distilled.intvit", quantized_model_file(d, opt, seed++));
  }

  // Hand-made safetensors: every dtype, metadata, an empty and a zero-size tensor.
  SafeTensorsWriter w;
  w.add<float>("f32", {2, 2}, std::vector<float>{1.5f, -2.0f, 0.0f, 3.25f});
  w.add<Float16>("f16", {2}, std::vector<Float16>{{0x3c00}, {0x7c00}});
  w.add<BFloat16>("bf16", {2}, std::vector<BFloat16>{{0x3f80}, {0xff80}});
  w.add<int8_t>("i8", {3}, std::vector<int8_t>{-128, 0, 127});
  w.add<uint8_t>("u8", {1, 3}, std::vector<uint8_t>{0, 1, 255});
  w.add<int16_t>("i16", {2}, std::vector<int16_t>{-32768, 32767});
  w.add<int32_t>("i32", {2}, std::vector<int32_t>{INT32_MIN, INT32_MAX});
  w.add<int64_t>("i64", {1}, std::vector<int64_t>{INT64_MIN});
  w.add<float>("empty", {0, 4}, std::vector<float>{});
  w.add<float>("scalar", {}, std::vector<float>{42.0f});
  w.set_metadata("format", "pt");
  w.set_metadata("note", "fuzz seed");
  const std::vector<std::byte> all = w.serialize();
  write_file(st / "all_dtypes.safetensors", Bytes(reinterpret_cast<const char*>(all.data()), all.size()));
  write_file(st / "empty_header.safetensors", frame("{}", ""));
  write_file(st / "metadata_only.safetensors", frame("{\"__metadata__\":{\"a\":\"b\"}}", ""));
}

// fuzz_c_api seeds: a 24-byte control block (layout in fuzz_c_api.cc) and a payload. Built from the
// model seeds and the image seeds already in the corpus folder, so run after write_fuzz_seeds.
struct CApiControl {
  uint8_t op = 0, threads = 0, backend = 0, k = 1, flags = 0, channels = 0, shape = 0;
  int32_t width = 0, height = 0;
  uint64_t stride_extra = 0;
};

Bytes c_api_seed(const CApiControl& c, const Bytes& payload) {
  Bytes out(24, '\0');
  out[0] = static_cast<char>(c.op);
  out[1] = static_cast<char>(c.threads);
  out[2] = static_cast<char>(c.backend);
  out[3] = static_cast<char>(c.k);
  out[4] = static_cast<char>(c.flags);
  std::memcpy(&out[5], &c.width, 4);
  std::memcpy(&out[9], &c.height, 4);
  out[13] = static_cast<char>(c.channels);
  std::memcpy(&out[14], &c.stride_extra, 8);
  out[22] = static_cast<char>(c.shape);
  return out + payload;
}

void write_c_api_seeds(const fs::path& corpus) {
  const fs::path dir = corpus / "fuzz_c_api";
  fs::create_directories(dir);
  for (const auto& stale : fs::directory_iterator(dir)) fs::remove(stale.path());
  // Operation 0: each seed model; threads 1 / 2, default and ref backends, k 1..4, model destroyed
  // before its session in two of them.
  const char* models[] = {"iexp_lut", "shiftmax_shiftgelu_wide", "lut_igelu", "log2_attn4_lut_wide"};
  for (int i = 0; i < 4; ++i) {
    CApiControl c;
    c.op = 0;
    c.threads = static_cast<uint8_t>(i % 2);  // threads 1, 2
    c.backend = static_cast<uint8_t>(i % 3);  // NULL, "", "ref"
    c.k = static_cast<uint8_t>(1 + i);
    c.flags = static_cast<uint8_t>(i & 1);
    c.width = 3 + i;
    write_file(dir / (std::string("model_") + models[i]), c_api_seed(c, read_file(corpus / "fuzz_model_loader" / (std::string(models[i]) + ".intvit"))));
  }
  // Operation 1: raw pixel buffers, valid shapes (mode 0: width = 1 + w % 8192, height = 1 + h %
  // (2^18 / width), channels {1, 3, 4}[c % 3], stride = width * channels + extra % 4096) and raw ones.
  const Bytes texture = [] {
    Bytes t(97, '\0');
    for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<char>(i * 37 + 11);
    return t;
  }();
  struct PixelSeed {
    const char* name;
    int32_t width, height;
    uint8_t channels, shape;
    uint64_t stride_extra;
  };
  const PixelSeed pixels[] = {
      {"pixels_rgb_40x30", 39, 29, 1, 0, 0},
      {"pixels_gray_17x23_padded", 16, 22, 0, 0, 5},
      {"pixels_rgba_64x48_padded", 63, 47, 2, 0, 64},
      {"pixels_rgb_4000x1", 3999, 0, 1, 0, 0},
      {"pixels_gray_1x4000", 0, 3999, 0, 0, 0},
      {"raw_rgb_8x8", 8, 8, 3, 1, 24},
      {"raw_stride_short", 8, 8, 3, 1, 23},
      {"raw_channels_2", 8, 8, 2, 1, 16},
      {"raw_zero_width", 0, 8, 3, 1, 0},
      {"raw_negative_height", 8, -1, 3, 1, 24},
      {"raw_area_over_max", 8193, 8193, 1, 1, 8193},
      {"raw_stride_max_one_row", 5, 1, 3, 1, UINT64_MAX},
      {"raw_stride_overflow", 5, 3, 3, 1, UINT64_MAX / 2},
  };
  for (const PixelSeed& p : pixels) {
    CApiControl c;
    c.op = 1;
    c.k = 2;
    c.width = p.width;
    c.height = p.height;
    c.channels = p.channels;
    c.shape = p.shape;
    c.stride_extra = p.stride_extra;
    write_file(dir / p.name, c_api_seed(c, texture));
  }
  // Operation 2: encoded images from the fuzz_image seeds.
  const char* images[] = {"jpeg_1x1_gray.jpg", "jpeg_progressive_30_160_220.jpg", "gif_1x1.gif", "bmp_palette8.bmp",
                          "png_rgb8.png"};
  for (const char* image : images) {
    const fs::path from = corpus / "fuzz_image" / image;
    if (!fs::exists(from)) throw Error(ErrorCode::kIo, "missing image seed " + from.string());
    CApiControl c;
    c.op = 2;
    c.k = 3;
    write_file(dir / (std::string("image_") + image), c_api_seed(c, read_file(from)));
  }
}

void write_model_corpus(const fs::path& dir) {
  fs::create_directories(dir);
  for (const auto& stale : fs::directory_iterator(dir)) fs::remove(stale.path());  // the folder holds only our output
  Corpus out{dir, "# tests/corpus/model: written by tests/fuzz/make_seed_models.cc; outcome per weights/FORMAT.md\n"
                  "# outcome: ok | corrupt_file | unsupported | invalid_argument | error (any intvit::Error) | any (ok or Error)\n"};
  // The smallest model that has every part: 8x8 image = one patch, dim 8, 2 heads, hidden 16.
  const IntViT good_model = quantized_model(tiny_config(8, 8, 8, 2, 2.0, 2), {}, 5);
  const fs::path tmp = fs::temp_directory_path() / ("intvit_seed_" + std::to_string(::getpid()));
  save_int_model(good_model, tmp);
  const Bytes good = read_file(tmp / kIntModelFileName);
  fs::remove_all(tmp);
  const Split parts = split(good);
  const uint64_t n = parts.header.size();
  const std::string kQ = "blocks.0.q", kFc1 = "blocks.0.fc1";

  out.add("good.intvit", good, "ok", "valid tiny model (runs)");
  {
    ViTConfig d = tiny_config(8, 8, 8, 2, 2.0, 2);
    d.distillation_token = true;
    out.add("distilled_good.intvit", quantized_model_file(d, {}, 6), "ok", "valid tiny DeiT-distilled model (runs)");
  }
  out.add("head_dist_not_distilled.intvit", edit_graph(good, [](json& g) { g["tensors"]["head_dist"] = g["tensors"]["head"]; }),
          "corrupt_file", "head_dist described, config not distilled");

  // Truncations.
  out.add("trunc_empty.intvit", "", "corrupt_file", "0 bytes");
  out.add("trunc_4.intvit", good.substr(0, 4), "corrupt_file", "inside the length field");
  out.add("trunc_8.intvit", good.substr(0, 8), "corrupt_file", "length field only");
  out.add("trunc_mid_header.intvit", good.substr(0, 8 + n / 2), "corrupt_file", "half the header");
  out.add("trunc_header_end.intvit", good.substr(0, 8 + n), "corrupt_file", "header, no data");
  out.add("trunc_mid_data.intvit", good.substr(0, 8 + n + parts.data.size() / 2), "corrupt_file", "half the data");
  out.add("trunc_last_byte.intvit", good.substr(0, good.size() - 1), "corrupt_file", "one byte short");
  out.add("trailing_byte.intvit", good + "x", "corrupt_file", "data section longer than the tensors");

  // Header length field.
  out.add("header_len_past_end.intvit", with_header_length(good, good.size() - 7), "corrupt_file", "N > file - 8");
  out.add("header_len_200MB.intvit", with_header_length(good, 200'000'000), "corrupt_file", "N > 100 MB");
  out.add("header_len_u64_max.intvit", with_header_length(good, UINT64_MAX), "corrupt_file", "N = 2^64-1");
  out.add("header_len_zero.intvit", with_header_length(good, 0), "corrupt_file", "N = 0: empty JSON");

  // Header JSON.
  out.add("header_not_object.intvit", frame("[]", parts.data), "corrupt_file", "header is an array");
  {
    std::string no_brace = parts.header;
    no_brace[no_brace.rfind('}')] = ' ';  // same length: the data offsets stay right
    out.add("header_bad_json.intvit", frame(no_brace, parts.data), "corrupt_file", "closing brace removed");
  }
  out.add("header_nul_byte.intvit", edit_header_text(good, "{", std::string("{\0", 2)), "corrupt_file", "NUL in header");
  out.add("header_deep_nesting.intvit", edit_header_text(good, "{", "{\"x\":" + std::string(2000, '[') + std::string(2000, ']') + ","),
          "corrupt_file", "2000-deep array");
  out.add("header_utf8_invalid.intvit", edit_header_text(good, "\"head.bias\"", "\"head.b\xff\xfe\""), "corrupt_file",
          "invalid UTF-8 in a key");
  {
    const std::string entry = "\"head.bias\":" + json::parse(parts.header).at("head.bias").dump();
    out.add("duplicate_tensor_name.intvit", edit_header_text(good, "{", "{" + entry + ","), "corrupt_file",
            "the same tensor key twice");
    out.add("duplicate_metadata_key.intvit", edit_header_text(good, "\"__metadata__\":{", "\"__metadata__\":{\"intvit.version\":\"2\","),
            "corrupt_file", "intvit.version twice");
  }
  out.add("offsets_overlap.intvit", edit_header(good, [](json& h) {
            const size_t e = h["head.bias"]["data_offsets"][1].get<size_t>();
            h["head.bias"]["data_offsets"] = {0, e - h["head.bias"]["data_offsets"][0].get<size_t>()};
          }), "corrupt_file", "head.bias moved onto offset 0");
  out.add("offsets_past_end.intvit", edit_header(good, [](json& h) {
            const size_t b = h["head.bias"]["data_offsets"][0].get<size_t>(), e = h["head.bias"]["data_offsets"][1].get<size_t>();
            h["head.bias"]["data_offsets"] = {b + (1u << 20), e + (1u << 20)};
          }), "corrupt_file", "a range beyond the data section");
  out.add("offsets_reversed.intvit", edit_header(good, [](json& h) {
            auto& o = h["head.bias"]["data_offsets"];
            o = {o[1], o[0]};
          }), "corrupt_file", "begin > end");
  out.add("offsets_negative.intvit", edit_header(good, [](json& h) { h["head.bias"]["data_offsets"][0] = -4; }),
          "corrupt_file", "negative offset");
  out.add("shape_bytes_mismatch.intvit", edit_header(good, [](json& h) { h["head.bias"]["shape"] = {3}; }),
          "corrupt_file", "shape [3] but 8 bytes");
  out.add("shape_overflow.intvit", edit_header(good, [](json& h) {
            h["head.bias"]["shape"] = {uint64_t{1} << 62, uint64_t{1} << 62, 0};
          }), "corrupt_file", "shape product overflows before the 0");
  out.add("dtype_unknown.intvit", edit_header(good, [](json& h) { h["head.bias"]["dtype"] = "Q4"; }),
          "unsupported", "unknown dtype");

  // Metadata.
  out.add("meta_no_format.intvit", edit_header(good, [](json& h) { h["__metadata__"].erase("intvit.format"); }),
          "corrupt_file", "not an intvit model");
  out.add("meta_wrong_format.intvit", edit_header(good, [](json& h) { h["__metadata__"]["intvit.format"] = "int-bert"; }),
          "corrupt_file", "other format tag");
  out.add("meta_version_3.intvit", edit_header(good, [](json& h) { h["__metadata__"]["intvit.version"] = "3"; }),
          "unsupported", "future version");
  out.add("meta_version_1.intvit", edit_header(good, [](json& h) { h["__metadata__"]["intvit.version"] = "1"; }),
          "unsupported", "version 1 (message names intvit upgrade)");
  {
    const std::vector<std::byte> v1 = test::serialize_int_model_v1(good_model);
    out.add("version1_good.intvit", Bytes(reinterpret_cast<const char*>(v1.data()), v1.size()), "unsupported",
            "a real version-1 file (gamma/beta, no stored tables)");
  }
  out.add("meta_version_01.intvit", edit_header(good, [](json& h) { h["__metadata__"]["intvit.version"] = "02"; }),
          "unsupported", "version spelled differently");
  out.add("meta_no_version.intvit", edit_header(good, [](json& h) { h["__metadata__"].erase("intvit.version"); }),
          "corrupt_file", "missing version");
  out.add("meta_no_graph.intvit", edit_header(good, [](json& h) { h["__metadata__"].erase("intvit.graph"); }),
          "corrupt_file", "missing graph");
  out.add("meta_graph_not_json.intvit", edit_header(good, [](json& h) { h["__metadata__"]["intvit.graph"] = "{\"config\":"; }),
          "corrupt_file", "graph is not JSON");
  out.add("meta_graph_array.intvit", edit_header(good, [](json& h) { h["__metadata__"]["intvit.graph"] = "[1,2]"; }),
          "corrupt_file", "graph is an array");
  out.add("meta_graph_deep.intvit", edit_header(good, [](json& h) {
            h["__metadata__"]["intvit.graph"] = std::string(30000, '[') + std::string(30000, ']');
          }), "corrupt_file", "graph nested 30000 deep");
  out.add("meta_not_string.intvit", edit_header(good, [](json& h) { h["__metadata__"]["intvit.version"] = 1; }),
          "corrupt_file", "metadata value is a number");

  // Tensor values.
  out.add("multiplier_small.intvit", poke<int32_t>(good, kQ + ".multiplier", 0, 5), "corrupt_file", "multiplier 5 < 2^30");
  out.add("multiplier_negative.intvit", poke<int32_t>(good, kQ + ".multiplier", 1, INT32_MIN), "corrupt_file", "multiplier -2^31");
  out.add("shift_32.intvit", poke<int32_t>(good, kFc1 + ".shift", 0, 32), "corrupt_file", "shift 32");
  out.add("shift_minus_32.intvit", poke<int32_t>(good, "head.shift", 1, -32), "corrupt_file", "shift -32");
  out.add("shift_int_min.intvit", poke<int32_t>(good, "patch_embed.shift", 0, INT32_MIN), "corrupt_file", "shift -2^31");
  out.add("weight_minus_128.intvit", poke<int8_t>(good, "blocks.0.fc2.weight", 3, -128), "corrupt_file", "int8 weight -128");
  // Stored nonlinear kernel parameters (format version 2).
  out.add("ln_out_shift_41.intvit", poke<uint8_t>(good, "blocks.0.norm1.out_shift", 0, 41), "corrupt_file", "LayerNorm h_c 41 > 40");
  out.add("ln_gamma_multiplier_int_min.intvit", poke<int32_t>(good, "norm.gamma_multiplier", 0, INT32_MIN), "corrupt_file",
          "LayerNorm G_c = -2^31");
  out.add("ln_beta_bias_huge.intvit", poke<int64_t>(good, "blocks.0.norm2.beta_bias", 1, INT64_MAX), "corrupt_file",
          "LayerNorm |H_c| > 2^62");
  out.add("ln_eps_mantissa_small.intvit", edit_graph(good, [](json& g) { g["tensors"]["norm"]["eps_mantissa"] = 5; }),
          "corrupt_file", "eps mantissa 5 < 2^30");
  out.add("ln_max_pre_shift_23.intvit", edit_graph(good, [](json& g) { g["tensors"]["norm"]["max_pre_shift"] = 23; }),
          "corrupt_file", "pre-shift 23 > 22");
  out.add("ln_gamma_multiplier_short.intvit", edit_header(good, [](json& h) {
            auto& t = h["blocks.0.norm1.gamma_multiplier"];
            t["shape"] = {t["shape"][0].get<int64_t>() / 2, 2};
          }), "corrupt_file", "G stored as [D/2, 2]");
  out.add("softmax_table_entry_2pow18.intvit", poke<int32_t>(good, "blocks.0.softmax_exp_table", 7, 1 << 18), "corrupt_file",
          "exp table entry 2^18");
  out.add("softmax_table_missing.intvit", edit_header_text(good, "\"blocks.0.softmax_exp_table\"", "\"blocks.0.softmax_exp_tablX\""),
          "corrupt_file", "lut softmax without its table");
  out.add("softmax_max_code_wrong.intvit", edit_graph(good, [](json& g) { g["blocks"][0]["softmax_params"]["max_code"] = 15; }),
          "corrupt_file", "max_code disagrees with attn_bits");
  out.add("softmax_in_shift_40.intvit", edit_graph(good, [](json& g) { g["blocks"][0]["softmax_params"]["in_shift"] = 40; }),
          "corrupt_file", "softmax in_shift 40");
  out.add("softmax_poly_for_lut.intvit", edit_graph(good, [](json& g) { g["blocks"][0]["softmax_params"]["poly_c"] = 1 << 30; }),
          "corrupt_file", "polynomial constant in lut mode");
  out.add("gelu_table_entry_300.intvit", poke<int16_t>(good, "blocks.0.gelu_table", 5, 300), "corrupt_file",
          "8-bit GELU table entry 300");
  out.add("gelu_multiplier_for_lut.intvit", edit_graph(good, [](json& g) { g["blocks"][0]["gelu_params"]["out_multiplier"] = 1 << 30; }),
          "corrupt_file", "GELU multiplier in lut mode");
  out.add("gelu_params_missing.intvit", edit_graph(good, [](json& g) { g["blocks"][0].erase("gelu_params"); }), "corrupt_file",
          "no gelu_params");
  out.add("tensor_missing.intvit", edit_header_text(good, "\"head.bias\"", "\"head.bias_\""), "corrupt_file",
          "head.bias absent (renamed)");
  out.add("tensor_wrong_dtype.intvit", edit_header(good, [](json& h) { h["head.weight"]["dtype"] = "U8"; }),
          "corrupt_file", "head.weight stored as U8");
  out.add("tensor_wrong_shape.intvit", edit_header(good, [](json& h) {
            auto s = h["head.weight"]["shape"];
            h["head.weight"]["shape"] = {s[1], s[0]};
          }), "corrupt_file", "head.weight transposed shape");

  // Graph: activation quantization.
  auto act = [&](const std::string& file, const std::string& key, json value, const std::string& outcome, const std::string& why) {
    out.add(file, edit_graph(good, [&](json& g) { g["tensors"][kQ]["input"][key] = value; }), outcome, why);
  };
  act("act_zero_point_256.intvit", "zero_point", 256, "corrupt_file", "u8 zero-point 256");
  act("act_zero_point_negative.intvit", "zero_point", -1, "corrupt_file", "u8 zero-point -1");
  act("act_zero_point_1e20.intvit", "zero_point", 1e20, "corrupt_file", "zero-point 1e20 (not an int32)");
  act("act_zero_point_2pow32.intvit", "zero_point", uint64_t{1} << 32, "corrupt_file", "zero-point 2^32 (wraps to 0 in int32)");
  act("act_zero_point_string.intvit", "zero_point", "3", "corrupt_file", "zero-point is a string");
  act("act_bits_7.intvit", "bits", 7, "corrupt_file", "7-bit activation");
  act("act_scale_zero.intvit", "scale", 0.0, "corrupt_file", "scale 0");
  act("act_scale_negative.intvit", "scale", -0.5, "corrupt_file", "negative scale");
  // JSON has no infinity; 1e999 is how a file spells one (nlohmann parses it as inf).
  out.add("act_scale_inf.intvit",
          edit_header_text(edit_graph(good, [&](json& g) { g["tensors"][kQ]["input"]["scale"] = 7e300; }), "7e+300", "1e999"),
          "corrupt_file", "scale 1e999 (parses as inf)");
  out.add("act_s16_zero_point.intvit", edit_graph(good, [&](json& g) {
            g["tensors"][kFc1]["out_type"] = "s16";
            g["tensors"][kFc1]["out_zero_point"] = 0;
            g["tensors"][kFc1]["out_min"] = -32767;
            g["tensors"][kFc1]["out_max"] = 32767;
            g["blocks"][0]["gelu_in"] = {{"scale", 0.01}, {"zero_point", 3}, {"bits", 16}};
            g["blocks"][0]["gelu_out"] = {{"scale", 0.01}, {"zero_point", 0}, {"bits", 16}};
            g["tensors"]["blocks.0.fc2"]["input"] = {{"scale", 0.01}, {"zero_point", 0}, {"bits", 16}};
          }), "corrupt_file", "16-bit activation with zero-point 3");

  // Graph: linear outputs.
  auto lin = [&](const std::string& file, const std::string& layer, const std::function<void(json&)>& edit,
                 const std::string& outcome, const std::string& why) {
    out.add(file, edit_graph(good, [&](json& g) { edit(g["tensors"][layer]); }), outcome, why);
  };
  lin("out_zero_point_256.intvit", kQ, [](json& l) { l["out_zero_point"] = 256; }, "corrupt_file", "u8 output zero-point 256");
  lin("out_min_gt_max.intvit", kQ, [](json& l) { l["out_min"] = 200; l["out_max"] = 100; }, "corrupt_file", "clamp min > max");
  lin("out_max_300.intvit", kQ, [](json& l) { l["out_max"] = 300; }, "corrupt_file", "u8 clamp 300");
  lin("out_type_unknown.intvit", kQ, [](json& l) { l["out_type"] = "u4"; }, "corrupt_file", "unknown output type");
  lin("linear_in_mismatch.intvit", kQ, [](json& l) { l["in"] = 9; }, "corrupt_file", "in differs from the config");
  lin("linear_in_2pow32_plus_8.intvit", kQ, [](json& l) { l["in"] = (uint64_t{1} << 32) + 8; }, "corrupt_file",
      "in = 2^32 + 8 (equals the config only after int32 wrap-around)");
  lin("linear_missing_field.intvit", kQ, [](json& l) { l.erase("accumulate"); }, "corrupt_file", "no accumulate field");
  out.add("linear_missing_desc.intvit", edit_graph(good, [&](json& g) { g["tensors"].erase("head"); }), "corrupt_file",
          "no description for head");

  // Graph: chain consistency.
  lin("chain_q_s16.intvit", kQ, [](json& l) { l["out_type"] = "s16"; l["out_zero_point"] = 0; l["out_min"] = -32767; l["out_max"] = 32767; },
      "corrupt_file", "q writes s16");
  lin("chain_proj_not_accumulating.intvit", "blocks.0.proj", [](json& l) { l["accumulate"] = false; }, "corrupt_file",
      "proj does not accumulate");
  lin("chain_accumulate_u8.intvit", "blocks.0.v", [](json& l) { l["accumulate"] = true; }, "corrupt_file", "u8 output accumulating");
  lin("chain_fc1_s16_gelu_u8.intvit", kFc1, [](json& l) { l["out_type"] = "s16"; l["out_zero_point"] = 0; l["out_min"] = -32767; l["out_max"] = 32767; },
      "corrupt_file", "fc1 writes s16, GELU reads u8");
  lin("chain_head_u8.intvit", "head", [](json& l) { l["out_type"] = "u8"; l["accumulate"] = false; l["out_min"] = 0; l["out_max"] = 255; l["out_zero_point"] = 0; },
      "corrupt_file", "head writes u8");
  lin("chain_patch_embed_u8.intvit", "patch_embed", [](json& l) { l["out_type"] = "u8"; l["accumulate"] = false; l["out_min"] = 0; l["out_max"] = 255; l["out_zero_point"] = 0; },
      "corrupt_file", "patch_embed does not accumulate");
  out.add("chain_gelu_width_mismatch.intvit", edit_graph(good, [](json& g) { g["blocks"][0]["gelu_out"]["bits"] = 16; g["blocks"][0]["gelu_out"]["zero_point"] = 0; }),
          "corrupt_file", "GELU in 8 bits, out 16 bits");

  // Graph: block and model scalars.
  auto block = [&](const std::string& file, const std::string& key, json value, const std::string& outcome, const std::string& why) {
    out.add(file, edit_graph(good, [&](json& g) { g["blocks"][0][key] = value; }), outcome, why);
  };
  block("attn_out_multiplier_small.intvit", "attn_out_multiplier", 1000, "corrupt_file", "attn_out multiplier < 2^30");
  block("attn_out_shift_40.intvit", "attn_out_shift", 40, "corrupt_file", "attn_out shift 40");
  block("attn_out_shift_2pow64_minus_1.intvit", "attn_out_shift", UINT64_MAX, "corrupt_file",
        "shift 2^64-1 (-1 once cast to int64)");
  block("scores_scale_zero.intvit", "scores_scale", 0.0, "corrupt_file", "scores_scale 0");
  block("scores_scale_tiny.intvit", "scores_scale", 1e-300, "any", "scores_scale 1e-300: reject or run");
  block("scores_scale_huge.intvit", "scores_scale", 1e300, "any", "scores_scale 1e300: reject or run");
  out.add("gelu_in_scale_tiny.intvit", edit_graph(good, [](json& g) { g["blocks"][0]["gelu_in"]["scale"] = 1e-300; }), "any",
          "GELU input scale 1e-300: reject or run");
  out.add("gelu_out_scale_huge.intvit", edit_graph(good, [](json& g) { g["blocks"][0]["gelu_out"]["scale"] = 1e300; }), "any",
          "GELU output scale 1e300: reject or run");
  out.add("norm_out_scale_tiny.intvit", edit_graph(good, [](json& g) { g["tensors"]["norm"]["out"]["scale"] = 1e-300; }), "any",
          "LayerNorm output scale 1e-300: reject or run");
  auto top = [&](const std::string& file, const std::string& key, json value, const std::string& outcome, const std::string& why) {
    out.add(file, edit_graph(good, [&](json& g) { g[key] = value; }), outcome, why);
  };
  top("residual_scale_zero.intvit", "residual_scale", 0.0, "corrupt_file", "residual_scale 0");
  top("residual_scale_huge.intvit", "residual_scale", 1e300, "any", "residual_scale 1e300: reject or run");
  top("logit_scale_negative.intvit", "logit_scale", -1.0, "corrupt_file", "negative logit_scale");
  top("attn_bits_4_iexp.intvit", "attn_bits", 4, "corrupt_file", "4-bit attention without log2 softmax");
  out.add("head_accumulate.intvit", edit_graph(good, [](json& g) { g["tensors"]["head"]["accumulate"] = true; }), "corrupt_file",
          "head accumulating into the logits (fuzz_c_api finding)");
  top("log2_renormalize_iexp.intvit", "log2_renormalize", true, "corrupt_file", "row renormalization without log2 softmax");
  top("log2_renormalize_string.intvit", "log2_renormalize", "yes", "corrupt_file", "log2_renormalize is a string");
  top("softmax_unknown.intvit", "softmax", "sparsemax", "corrupt_file", "unknown softmax mode");
  top("gelu_unknown.intvit", "gelu", "relu", "corrupt_file", "unknown GELU mode");
  top("labels_not_strings.intvit", "labels", json::array({1, 2}), "corrupt_file", "labels are numbers");
  top("labels_short.intvit", "labels", json::array({"only one"}), "ok", "fewer labels than classes: padded");
  out.add("blocks_missing.intvit", edit_graph(good, [](json& g) { g.erase("blocks"); }), "corrupt_file", "no blocks array");
  out.add("blocks_extra.intvit", edit_graph(good, [](json& g) { g["blocks"].push_back(g["blocks"][0]); }), "corrupt_file",
          "two block entries, depth 1");

  // Graph: config.
  auto cfg = [&](const std::string& file, const std::function<void(json&)>& edit, const std::string& outcome, const std::string& why) {
    out.add(file, edit_graph(good, [&](json& g) { edit(g["config"]); }), outcome, why);
  };
  cfg("config_depth_2.intvit", [](json& c) { c["model_args"]["depth"] = 2; }, "corrupt_file", "depth 2, one block stored");
  cfg("config_embed_dim_16.intvit", [](json& c) { c["model_args"]["embed_dim"] = 16; }, "corrupt_file", "dim 16, tensors for 8");
  cfg("config_heads_3.intvit", [](json& c) { c["model_args"]["num_heads"] = 3; }, "corrupt_file", "dim 8 not a multiple of 3 heads");
  cfg("config_image_4096.intvit", [](json& c) { c["pretrained_cfg"]["input_size"] = {3, 4096, 4096}; }, "corrupt_file",
      "4096² image, tensors for 8²");
  cfg("config_image_1e10.intvit", [](json& c) { c["pretrained_cfg"]["input_size"] = {3, 1e10, 1e10}; }, "corrupt_file",
      "image size 1e10 (not an int)");
  cfg("config_mlp_ratio_nan_text.intvit", [](json& c) { c["model_args"]["mlp_ratio"] = "4"; }, "corrupt_file",
      "mlp_ratio is a string");
  cfg("config_distilled.intvit", [](json& c) { c["model_args"]["distilled"] = true; }, "corrupt_file", "distillation token");
  cfg("config_not_object.intvit", [](json& c) { c = 7; }, "corrupt_file", "config is a number");

  write_file(dir / "manifest.txt", out.manifest);
}

}  // namespace

int main(int argc, char** argv) {
  // --c-api-only: rewrites only corpus/fuzz_c_api, from the model seeds already there.
  const bool c_api_only = argc == 3 && std::strcmp(argv[1], "--c-api-only") == 0;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <tests/fuzz/corpus> <tests/corpus/model>\n       %s --c-api-only <tests/fuzz/corpus>\n",
                 argv[0], argv[0]);
    return 2;
  }
  try {
    if (c_api_only) {
      write_c_api_seeds(argv[2]);
      return 0;
    }
    write_fuzz_seeds(argv[1]);
    write_c_api_seeds(argv[1]);
    write_model_corpus(argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
