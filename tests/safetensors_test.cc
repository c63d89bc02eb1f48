#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <unistd.h>

#include "kernels/error.h"
#include "test_support.h"
#include "models/safetensors.h"
#include "models/safetensors_writer.h"

using namespace intvit;

namespace {

// A safetensors file assembled by hand: [u64 header length][header text][data_bytes bytes of 0xAB].
std::vector<std::byte> make_file(const std::string& header, size_t data_bytes = 0) {
  std::vector<std::byte> out(8 + header.size() + data_bytes, std::byte{0xAB});
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  return out;
}

// Parses caller-owned bytes. The vectors here are allocated at exactly their size, so ASan flags any read
// past the end; the bytes must outlive the returned file.
SafeTensorsFile load(const std::vector<std::byte>& bytes) { return SafeTensorsFile::from_buffer(bytes.data(), bytes.size()); }

// Asserts that loading fails with `code` and a message naming the source and containing `phrase`.
void expect_error(const std::vector<std::byte>& bytes, ErrorCode code, const std::string& phrase) {
  try {
    load(bytes);
    FAIL("loaded without error; expected: " << phrase);
  } catch (const Error& e) {
    INFO("message: " << e.what());
    CHECK(e.code() == code);
    CHECK_THAT(e.what(), Catch::Contains("<memory>") && Catch::Contains(phrase));
  }
}

std::string tensor_json(const std::string& name, const std::string& dtype, const std::string& shape, uint64_t b,
                        uint64_t e) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(b) + "," + std::to_string(e) + "]}";
}

template <typename T>
std::vector<T> iota_values(size_t n, T start) {
  std::vector<T> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<T>(start + static_cast<T>(i * 3));
  return v;
}

std::vector<std::byte> small_valid_file() {
  SafeTensorsWriter w;
  w.add<float>("w", {2, 3}, std::vector<float>{1, -2, 3.5f, 0, 1e-3f, -7});
  w.add<int8_t>("q", {5}, std::vector<int8_t>{-128, -1, 0, 1, 127});
  w.add<int32_t>("empty", {0, 4}, std::vector<int32_t>{});
  w.set_metadata("format", "pt");
  return w.serialize();
}

}  // namespace

TEST_CASE("dtype names, sizes and parsing", "[safetensors]") {
  const std::pair<DType, std::pair<const char*, size_t>> expected[] = {
      {DType::kF32, {"F32", 4}}, {DType::kF16, {"F16", 2}}, {DType::kBF16, {"BF16", 2}}, {DType::kI8, {"I8", 1}},
      {DType::kU8, {"U8", 1}},   {DType::kI16, {"I16", 2}}, {DType::kI32, {"I32", 4}},   {DType::kI64, {"I64", 8}}};
  for (const auto& [dtype, name_size] : expected) {
    CHECK(std::string(dtype_name(dtype)) == name_size.first);
    CHECK(dtype_size(dtype) == name_size.second);
    CHECK(parse_dtype(name_size.first) == dtype);
  }
  for (const char* bad : {"F64", "f32", "BOOL", "U16", "F8_E4M3", ""}) {
    INFO(bad);
    try {
      parse_dtype(bad);
      FAIL("parsed");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::kUnsupported);
    }
  }
}

TEST_CASE("writer -> reader round trip for every dtype", "[safetensors]") {
  SafeTensorsWriter w;
  const auto f32 = iota_values<float>(7, -3.25f);
  const auto i8 = std::vector<int8_t>{-128, -1, 0, 1, 127};
  const auto u8 = iota_values<uint8_t>(11, 200);
  const auto i16 = std::vector<int16_t>{-32768, -1, 0, 1, 32767, 12345};
  const auto i32 = std::vector<int32_t>{std::numeric_limits<int32_t>::min(), -1, 0, 7, std::numeric_limits<int32_t>::max()};
  const auto i64 = std::vector<int64_t>{std::numeric_limits<int64_t>::min(), -5, 0, 1LL << 40};
  const auto f16 = std::vector<Float16>{{0x3C00}, {0xC000}, {0x0001}, {0x7C00}};
  const auto bf16 = std::vector<BFloat16>{{0x3F80}, {0x4049}, {0xFF80}};
  // Odd sizes first so that, unless the writer orders by alignment, later tensors end up misaligned.
  w.add<uint8_t>("u8", {11}, u8);
  w.add<int8_t>("i8", {5, 1}, i8);
  w.add<float>("f32", {7}, f32);
  w.add<int16_t>("i16", {2, 3}, i16);
  w.add<int32_t>("i32", {5}, i32);
  w.add<int64_t>("i64", {2, 2}, i64);
  w.add<Float16>("f16", {4}, f16);
  w.add<BFloat16>("bf16", {1, 3}, bf16);
  w.add<float>("scalar", {}, std::vector<float>{42.0f});
  w.add<float>("zero", {3, 0}, std::vector<float>{});
  w.set_metadata("format", "pt");
  w.set_metadata("note", "quotes \" and unicode \xC3\xA9 survive");

  const std::vector<std::byte> bytes = w.serialize();
  uint64_t header_len;
  std::memcpy(&header_len, bytes.data(), 8);
  CHECK(header_len % 8 == 0);
  CHECK(static_cast<char>(bytes[8 + header_len - 1]) != '\0');

  // Also through the file path: write() then open() (mmap).
  const auto path = std::filesystem::temp_directory_path() / ("intvit_st_roundtrip_" + std::to_string(::getpid()) + ".safetensors");
  w.write(path);
  for (int via_file = 0; via_file < 2; ++via_file) {
    INFO("via_file=" << via_file);
    const SafeTensorsFile f = via_file ? SafeTensorsFile::open(path) : load(bytes);
    CHECK(f.file_size() == bytes.size());
    CHECK(f.source() == (via_file ? path.string() : "<memory>"));
    CHECK(f.tensors().size() == 10);
    CHECK(f.metadata() == std::map<std::string, std::string>{{"format", "pt"}, {"note", "quotes \" and unicode \xC3\xA9 survive"}});
    CHECK(f.get("u8").copy_as<uint8_t>() == u8);
    CHECK(f.get("i8").copy_as<int8_t>() == i8);
    CHECK(f.get("f32").copy_as<float>() == f32);
    CHECK(f.get("i16").copy_as<int16_t>() == i16);
    CHECK(f.get("i32").copy_as<int32_t>() == i32);
    CHECK(f.get("i64").copy_as<int64_t>() == i64);
    const auto f16_back = f.get("f16").copy_as<Float16>();
    const auto bf16_back = f.get("bf16").copy_as<BFloat16>();
    REQUIRE(f16_back.size() == f16.size());
    for (size_t i = 0; i < f16.size(); ++i) CHECK(f16_back[i].bits == f16[i].bits);
    REQUIRE(bf16_back.size() == bf16.size());
    for (size_t i = 0; i < bf16.size(); ++i) CHECK(bf16_back[i].bits == bf16[i].bits);
    CHECK(f.get("scalar").shape.empty());
    CHECK(f.get("scalar").numel() == 1);
    CHECK(f.get("scalar").to_f32() == std::vector<float>{42.0f});
    CHECK(f.get("zero").shape == std::vector<int64_t>{3, 0});
    CHECK(f.get("zero").numel() == 0);
    CHECK(f.get("zero").nbytes == 0);
    CHECK(f.get("i16").shape == std::vector<int64_t>{2, 3});
    CHECK(f.get("i16").dtype == DType::kI16);
    CHECK(f.get("bf16").to_f32() == std::vector<float>{1.0f, 3.140625f, -INFINITY});
    // tensors() is in data order, and the writer's layout keeps every tensor aligned to its dtype
    // (the header is padded to 8 and wider dtypes come first).
    for (size_t i = 0; i < f.tensors().size(); ++i) {
      const TensorView& t = f.tensors()[i];
      INFO(t.name);
      CHECK(reinterpret_cast<uintptr_t>(t.data) % dtype_size(t.dtype) == 0);
      if (i > 0) CHECK(t.data == f.tensors()[i - 1].data + f.tensors()[i - 1].nbytes);
      CHECK(&f.get(t.name) == &t);
    }
  }
  std::filesystem::remove(path);
}

TEST_CASE("lookup, dtype mismatch, move and I/O errors", "[safetensors]") {
  const auto bytes = small_valid_file();
  SafeTensorsFile f = load(bytes);
  CHECK(f.find("nope") == nullptr);
  REQUIRE(f.find("w") != nullptr);
  try {
    f.get("nope");
    FAIL("found");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(e.what(), Catch::Contains("'nope'") && Catch::Contains("<memory>"));
  }
  try {
    f.get("w").copy_as<int32_t>();
    FAIL("copied");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(e.what(), Catch::Contains("F32") && Catch::Contains("I32"));
  }
  const TensorView* w_before = f.find("w");
  SafeTensorsFile moved = std::move(f);
  CHECK(moved.find("w") == w_before);  // views survive the move
  CHECK(moved.get("w").copy_as<float>() == std::vector<float>{1, -2, 3.5f, 0, 1e-3f, -7});

  try {
    SafeTensorsFile::open("/nonexistent/dir/x.safetensors");
    FAIL("opened");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kIo);
    CHECK_THAT(e.what(), Catch::Contains("/nonexistent/dir/x.safetensors"));
  }
  // A corrupt file on disk: the message names the path.
  const auto path = std::filesystem::temp_directory_path() / ("intvit_st_corrupt_" + std::to_string(::getpid()) + ".safetensors");
  { std::ofstream(path, std::ios::binary) << "abc"; }
  try {
    SafeTensorsFile::open(path);
    FAIL("opened");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kCorruptFile);
    CHECK_THAT(e.what(), Catch::Contains(path.string()) && Catch::Contains("shorter than"));
  }
  std::filesystem::remove(path);
}

TEST_CASE("writer rejects bad tensors and reports I/O failures", "[safetensors]") {
  SafeTensorsWriter w;
  const std::vector<float> four(4, 1.0f);
  w.add<float>("a", {4}, four);
  auto expect_invalid = [&](auto&& call) {
    try {
      call();
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::kInvalidArgument);
    }
  };
  expect_invalid([&] { w.add<float>("a", {4}, four); });               // duplicate
  expect_invalid([&] { w.add<float>("b", {5}, four); });               // size mismatch
  expect_invalid([&] { w.add<float>("b", {-1, -4}, four); });          // negative dims
  expect_invalid([&] { w.add<float>("__metadata__", {4}, four); });    // reserved
  expect_invalid([&] { w.add<float>("b", {1LL << 62, 1LL << 62}, four); });  // overflow
  const std::filesystem::path dir = "/nonexistent-intvit-dir";
  try {
    w.write(dir / "x.safetensors");
    FAIL("wrote");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kIo);
    CHECK_THAT(e.what(), Catch::Contains("x.safetensors"));
  }
  // The serialized file starts with the little-endian header length and a JSON object.
  const auto bytes = w.serialize();
  CHECK(static_cast<char>(bytes[8]) == '{');
  CHECK(load(bytes).get("a").copy_as<float>() == four);
}

TEST_CASE("malformed files are rejected with kCorruptFile", "[safetensors]") {
  const auto ok = [](const std::string& h, size_t data) { CHECK_NOTHROW(load(make_file(h, data))); };
  SECTION("too short") {
    for (size_t n = 0; n < 8; ++n) expect_error(std::vector<std::byte>(n, std::byte{0}), ErrorCode::kCorruptFile, "shorter than");
  }
  SECTION("header length") {
    auto bytes = make_file("{}");
    uint64_t n = 3;
    std::memcpy(bytes.data(), &n, 8);
    expect_error(bytes, ErrorCode::kCorruptFile, "past the end");
    n = 100'000'001;
    std::memcpy(bytes.data(), &n, 8);
    expect_error(bytes, ErrorCode::kCorruptFile, "100 MB");
    n = ~uint64_t{0};
    std::memcpy(bytes.data(), &n, 8);
    expect_error(bytes, ErrorCode::kCorruptFile, "100 MB");
    ok("{}", 0);
    ok("{}      ", 0);  // Hugging Face pads with spaces
  }
  SECTION("bad JSON or not an object") {
    expect_error(make_file(""), ErrorCode::kCorruptFile, "not valid JSON");
    expect_error(make_file("{\"a\":"), ErrorCode::kCorruptFile, "not valid JSON");
    expect_error(make_file("{} {}"), ErrorCode::kCorruptFile, "not valid JSON");
    expect_error(make_file(std::string("{}\0\0", 4)), ErrorCode::kCorruptFile, "NUL");  // nlohmann alone stops at NUL
    expect_error(make_file(std::string("{\"a\0\":1}", 8)), ErrorCode::kCorruptFile, "NUL");
    expect_error(make_file("{\"\xFF\":1}"), ErrorCode::kCorruptFile, "not valid JSON");  // invalid UTF-8
    expect_error(make_file("[]"), ErrorCode::kCorruptFile, "not a JSON object");
    expect_error(make_file("\"x\""), ErrorCode::kCorruptFile, "not a JSON object");
    expect_error(make_file("{\"a\":[[[1]]]}"), ErrorCode::kCorruptFile, "nested");
    expect_error(make_file(std::string(100000, '[') + std::string(100000, ']')), ErrorCode::kCorruptFile, "nested");
  }
  SECTION("wrong field types") {
    expect_error(make_file("{\"a\":1}"), ErrorCode::kCorruptFile, "not a JSON object");
    expect_error(make_file("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), ErrorCode::kCorruptFile, "dtype");
    expect_error(make_file("{\"a\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}", 4), ErrorCode::kCorruptFile, "dtype");
    expect_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", 4), ErrorCode::kCorruptFile, "shape");
    expect_error(make_file("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), ErrorCode::kCorruptFile, "shape");
    expect_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), ErrorCode::kCorruptFile, "data_offsets");
    expect_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4), ErrorCode::kCorruptFile, "data_offsets");
    expect_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", 4), ErrorCode::kCorruptFile, "data_offsets");
    expect_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4), ErrorCode::kCorruptFile, "data_offsets");
    expect_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\"0,4\"}}", 4), ErrorCode::kCorruptFile, "data_offsets");
    ok("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":true}}", 4);  // ignored, as HF does
  }
  SECTION("unknown dtype is kUnsupported") {
    expect_error(make_file("{" + tensor_json("a", "F64", "[1]", 0, 8) + "}", 8), ErrorCode::kUnsupported, "F64");
    expect_error(make_file("{" + tensor_json("a", "F8_E4M3", "[1]", 0, 1) + "}", 1), ErrorCode::kUnsupported, "'a'");
  }
  SECTION("bad shapes") {
    expect_error(make_file("{" + tensor_json("a", "F32", "[-1]", 0, 4) + "}", 4), ErrorCode::kCorruptFile, "non-negative");
    expect_error(make_file("{" + tensor_json("a", "F32", "[1.5]", 0, 4) + "}", 4), ErrorCode::kCorruptFile, "non-negative");
    expect_error(make_file("{" + tensor_json("a", "F32", "[1.0]", 0, 4) + "}", 4), ErrorCode::kCorruptFile, "non-negative");
    expect_error(make_file("{" + tensor_json("a", "F32", "[\"1\"]", 0, 4) + "}", 4), ErrorCode::kCorruptFile, "non-negative");
    expect_error(make_file("{" + tensor_json("a", "F32", "[9223372036854775808]", 0, 4) + "}", 4), ErrorCode::kCorruptFile, "non-negative");
    expect_error(make_file("{" + tensor_json("a", "F32", "[1e300]", 0, 4) + "}", 4), ErrorCode::kCorruptFile, "non-negative");
    expect_error(make_file("{" + tensor_json("a", "F32", "[1e400]", 0, 4) + "}", 4), ErrorCode::kCorruptFile, "not valid JSON");
    expect_error(make_file("{" + tensor_json("a", "F32", "[4294967296,4294967296,2]", 0, 0) + "}"), ErrorCode::kCorruptFile, "overflow");
    expect_error(make_file("{" + tensor_json("a", "F32", "[4611686018427387904]", 0, 0) + "}"), ErrorCode::kCorruptFile, "overflow");
  }
  SECTION("byte length must equal numel * dtype size") {
    expect_error(make_file("{" + tensor_json("a", "F32", "[2]", 0, 4) + "}", 4), ErrorCode::kCorruptFile, "needs 8");
    expect_error(make_file("{" + tensor_json("a", "I8", "[2,2]", 0, 8) + "}", 8), ErrorCode::kCorruptFile, "needs 4");
  }
  SECTION("offsets out of range, reversed, overlapping, with holes or trailing bytes") {
    expect_error(make_file("{" + tensor_json("a", "F32", "[1]", 0, 4) + "}", 3), ErrorCode::kCorruptFile, "past the data section");
    expect_error(make_file("{" + tensor_json("a", "F32", "[0]", 8, 4) + "}", 8), ErrorCode::kCorruptFile, "begin > end");
    expect_error(make_file("{" + tensor_json("a", "F32", "[2]", 0, 8) + "," + tensor_json("b", "F32", "[2]", 4, 12) + "}", 12),
                 ErrorCode::kCorruptFile, "overlap");
    expect_error(make_file("{" + tensor_json("a", "F32", "[1]", 0, 4) + "," + tensor_json("b", "F32", "[1]", 0, 4) + "}", 8),
                 ErrorCode::kCorruptFile, "overlap");
    expect_error(make_file("{" + tensor_json("a", "F32", "[1]", 0, 4) + "," + tensor_json("b", "F32", "[1]", 8, 12) + "}", 12),
                 ErrorCode::kCorruptFile, "gap");
    expect_error(make_file("{" + tensor_json("a", "F32", "[1]", 4, 8) + "}", 8), ErrorCode::kCorruptFile, "gap");
    expect_error(make_file("{" + tensor_json("a", "F32", "[1]", 0, 4) + "}", 5), ErrorCode::kCorruptFile, "cover only 4");
    expect_error(make_file("{}", 1), ErrorCode::kCorruptFile, "cover only 0");
    const uint64_t big = ~uint64_t{0} - 4;  // end = 2^64 - 1
    expect_error(make_file("{" + tensor_json("a", "F32", "[1]", big, big + 4) + "}", 4), ErrorCode::kCorruptFile, "gap");
  }
  SECTION("zero-element tensors are legal anywhere in the data order") {
    ok("{" + tensor_json("z", "F32", "[0,3]", 0, 0) + "}", 0);
    ok("{" + tensor_json("a", "F32", "[1]", 0, 4) + "," + tensor_json("z", "I64", "[2,0]", 4, 4) + "," +
           tensor_json("y", "U8", "[0]", 0, 0) + "," + tensor_json("b", "I8", "[1]", 4, 5) + "}",
       5);
    const auto bytes = make_file("{" + tensor_json("b", "I8", "[1]", 4, 5) + "," + tensor_json("z", "I64", "[2,0]", 4, 4) +
                                     "," + tensor_json("a", "F32", "[1]", 0, 4) + "}",
                                 5);
    const auto f = load(bytes);
    REQUIRE(f.tensors().size() == 3);
    CHECK(f.tensors()[0].name == "a");  // data-offset order, zero-byte tensor before the one it shares an offset with
    CHECK(f.tensors()[1].name == "z");
    CHECK(f.tensors()[2].name == "b");
  }
  SECTION("duplicate keys") {
    expect_error(make_file("{" + tensor_json("a", "F32", "[1]", 0, 4) + "," + tensor_json("a", "F32", "[1]", 4, 8) + "}", 8),
                 ErrorCode::kCorruptFile, "duplicate key 'a'");
    expect_error(make_file("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                 ErrorCode::kCorruptFile, "duplicate key 'dtype'");
    expect_error(make_file("{\"__metadata__\":{},\"__metadata__\":{}}"), ErrorCode::kCorruptFile, "duplicate key");
    expect_error(make_file("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}"), ErrorCode::kCorruptFile, "duplicate key 'k'");
    ok("{\"__metadata__\":{\"a\":\"1\"}," + tensor_json("a", "F32", "[1]", 0, 4) + "}", 4);  // same key, different objects
  }
  SECTION("metadata") {
    expect_error(make_file("{\"__metadata__\":{\"k\":1}}"), ErrorCode::kCorruptFile, "'k' is not a string");
    expect_error(make_file("{\"__metadata__\":{\"k\":null}}"), ErrorCode::kCorruptFile, "'k' is not a string");
    expect_error(make_file("{\"__metadata__\":{\"k\":{}}}"), ErrorCode::kCorruptFile, "'k' is not a string");
    expect_error(make_file("{\"__metadata__\":[]}"), ErrorCode::kCorruptFile, "__metadata__ is not a JSON object");
    expect_error(make_file("{\"__metadata__\":\"x\"}"), ErrorCode::kCorruptFile, "__metadata__ is not a JSON object");
    const auto bytes = make_file("{\"__metadata__\":{\"format\":\"pt\",\"e\":\"\"}}");
    const auto f = load(bytes);
    CHECK(f.metadata() == std::map<std::string, std::string>{{"format", "pt"}, {"e", ""}});
    CHECK(f.tensors().empty());
  }
}

TEST_CASE("truncated and bit-flipped files load cleanly or throw intvit::Error", "[safetensors]") {
  const std::vector<std::byte> valid = small_valid_file();
  uint64_t header_len;
  std::memcpy(&header_len, valid.data(), 8);
  auto try_load = [](const std::vector<std::byte>& bytes) {
    try {
      const SafeTensorsFile f = load(bytes);
      size_t total = 0;
      for (const TensorView& t : f.tensors()) {  // a clean load never points outside the buffer
        total += t.nbytes;
        (void)t.to_f32();
      }
      CHECK(total <= bytes.size());
      return true;
    } catch (const Error&) {
      return false;
    }  // anything else propagates and fails the test
  };
  REQUIRE(try_load(valid));
  int truncated_ok = 0;
  for (size_t len = 0; len < valid.size(); ++len)
    truncated_ok += try_load(std::vector<std::byte>(valid.begin(), valid.begin() + static_cast<ptrdiff_t>(len)));
  CHECK(truncated_ok == 0);  // every tensor byte is accounted for, so any truncation is detected

  const char* seed_env = std::getenv("INTVIT_TEST_SEED");
  const uint32_t seed = seed_env ? static_cast<uint32_t>(std::stoul(seed_env)) : std::random_device{}();
  INFO("seed " << seed << " (rerun with INTVIT_TEST_SEED=" << seed << ")");
  std::mt19937 rng(seed);
  int loaded = 0;
  constexpr int kTrials = 20000;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::vector<std::byte> bytes = valid;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; ++i) {
      const size_t pos = rng() % (8 + header_len);  // the length prefix and the JSON header
      bytes[pos] = (trial % 2) ? static_cast<std::byte>(rng()) : bytes[pos] ^ static_cast<std::byte>(1u << (rng() % 8));
    }
    loaded += try_load(bytes);
  }
  WARN("bit-flip fuzz (seed " << seed << "): " << loaded << " of " << kTrials << " mutated files still loaded");
}

TEST_CASE("F16 and BF16 widen exactly", "[safetensors]") {
  struct Case { uint16_t bits; float value; };
  const Case f16[] = {{0x3C00, 1.0f},         {0xC000, -2.0f},       {0x7BFF, 65504.0f},        {0x0400, 0x1p-14f},
                      {0x0001, 0x1p-24f},     {0x03FF, 1023 * 0x1p-24f}, {0x8001, -0x1p-24f},   {0x3555, 0.333251953125f},
                      {0x7C00, INFINITY},     {0xFC00, -INFINITY},   {0x0000, 0.0f},            {0x3BFF, 0.99951171875f}};
  const Case bf16[] = {{0x3F80, 1.0f},    {0xC000, -2.0f},       {0x4049, 3.140625f}, {0x7F7F, 0x1.FEp127f},
                       {0x0001, 0x1p-133f}, {0x0080, 0x1p-126f}, {0x7F80, INFINITY},  {0xFF80, -INFINITY}};
  std::vector<Float16> f16_bits;
  std::vector<BFloat16> bf16_bits;
  for (const Case& c : f16) {
    INFO(std::hex << c.bits);
    CHECK(f16_to_f32(c.bits) == c.value);
    f16_bits.push_back({c.bits});
  }
  for (const Case& c : bf16) {
    INFO(std::hex << c.bits);
    CHECK(bf16_to_f32(c.bits) == c.value);
    bf16_bits.push_back({c.bits});
  }
  CHECK(std::signbit(f16_to_f32(0x8000)));
  CHECK(f16_to_f32(0x8000) == 0.0f);
  CHECK(std::isnan(f16_to_f32(0x7E00)));
  CHECK(std::isnan(f16_to_f32(0x7C01)));
  CHECK(std::isnan(bf16_to_f32(0x7FC0)));
  CHECK(std::isnan(bf16_to_f32(0xFF81)));

  // Through TensorView::to_f32, from an odd (misaligned) address.
  SafeTensorsWriter w;
  w.add<Float16>("h", {static_cast<int64_t>(f16_bits.size())}, f16_bits);
  w.add<BFloat16>("b", {static_cast<int64_t>(bf16_bits.size())}, bf16_bits);
  const auto bytes = w.serialize();
  std::vector<std::byte> shifted(bytes.size() + 1);
  std::memcpy(shifted.data() + 1, bytes.data(), bytes.size());
  const auto f = SafeTensorsFile::from_buffer(shifted.data() + 1, bytes.size());
  const auto h = f.get("h").to_f32(), b = f.get("b").to_f32();
  for (size_t i = 0; i < std::size(f16); ++i) CHECK(h[i] == f16[i].value);
  for (size_t i = 0; i < std::size(bf16); ++i) CHECK(b[i] == bf16[i].value);

#ifdef __FLT16_MAX__
  // Exhaustively against the compiler's own _Float16 -> float conversion.
  for (uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
    const float expected = static_cast<float>(std::bit_cast<_Float16>(static_cast<uint16_t>(bits)));
    const float got = f16_to_f32(static_cast<uint16_t>(bits));
    if (std::isnan(expected)) {
      REQUIRE(std::isnan(got));
    } else {
      INFO(std::hex << bits);
      REQUIRE(std::bit_cast<uint32_t>(got) == std::bit_cast<uint32_t>(expected));
    }
  }
#else
  WARN("compiler lacks _Float16: exhaustive F16 check skipped");
#endif
}

TEST_CASE("to_f32 converts the integer dtypes", "[safetensors]") {
  SafeTensorsWriter w;
  w.add<int8_t>("i8", {3}, std::vector<int8_t>{-128, 0, 127});
  w.add<uint8_t>("u8", {2}, std::vector<uint8_t>{0, 255});
  w.add<int16_t>("i16", {2}, std::vector<int16_t>{-32768, 32767});
  w.add<int32_t>("i32", {2}, std::vector<int32_t>{-(1 << 24), 123456});
  w.add<int64_t>("i64", {2}, std::vector<int64_t>{-(1LL << 40), 7});
  const auto bytes = w.serialize();
  const auto f = load(bytes);
  CHECK(f.get("i8").to_f32() == std::vector<float>{-128, 0, 127});
  CHECK(f.get("u8").to_f32() == std::vector<float>{0, 255});
  CHECK(f.get("i16").to_f32() == std::vector<float>{-32768, 32767});
  CHECK(f.get("i32").to_f32() == std::vector<float>{-16777216.0f, 123456});
  CHECK(f.get("i64").to_f32() == std::vector<float>{-1099511627776.0f, 7});
}

TEST_CASE("reads the shared timm ViT-Ti model.safetensors", "[safetensors]") {
  INTVIT_REQUIRE_SHARED();
  const auto path = intvit::test::shared_dir() / "models/vit_tiny_patch16_224/model.safetensors";
  const SafeTensorsFile f = SafeTensorsFile::open(path);
  CHECK(f.file_size() == std::filesystem::file_size(path));
  CHECK(f.tensors().size() == 152);  // 4 embedding + 12 blocks x 12 + norm 2 + head 2
  auto check_shape = [&](const char* name, std::vector<int64_t> shape) {
    INFO(name);
    const TensorView& t = f.get(name);
    CHECK(t.dtype == DType::kF32);
    CHECK(t.shape == shape);
  };
  check_shape("patch_embed.proj.weight", {192, 3, 16, 16});
  check_shape("patch_embed.proj.bias", {192});
  check_shape("cls_token", {1, 1, 192});
  check_shape("pos_embed", {1, 197, 192});
  check_shape("norm.weight", {192});
  check_shape("head.weight", {1000, 192});
  check_shape("head.bias", {1000});
  for (int b = 0; b < 12; ++b) {
    const std::string p = "blocks." + std::to_string(b) + ".";
    check_shape((p + "attn.qkv.weight").c_str(), {576, 192});
    check_shape((p + "attn.qkv.bias").c_str(), {576});
    check_shape((p + "attn.proj.weight").c_str(), {192, 192});
    check_shape((p + "mlp.fc1.weight").c_str(), {768, 192});
    check_shape((p + "mlp.fc2.weight").c_str(), {192, 768});
    check_shape((p + "norm1.weight").c_str(), {192});
  }
  size_t total = 0;
  for (const TensorView& t : f.tensors()) total += t.nbytes;
  CHECK(total == 5'717'416 * 4);  // ViT-Ti/16 has 5,717,416 parameters
  const auto w = f.get("blocks.0.attn.qkv.weight").to_f32();
  CHECK(std::all_of(w.begin(), w.end(), [](float v) { return std::isfinite(v) && std::fabs(v) < 100.0f; }));
  CHECK(std::any_of(w.begin(), w.end(), [](float v) { return v != 0.0f; }));

  // Re-serialize every tensor and read it back: the bytes are identical.
  SafeTensorsWriter writer;
  for (const TensorView& t : f.tensors()) writer.add(t.name, t.dtype, t.shape, {t.data, t.nbytes});
  for (const auto& [k, v] : f.metadata()) writer.set_metadata(k, v);
  const auto bytes = writer.serialize();
  const SafeTensorsFile again = SafeTensorsFile::from_buffer(bytes.data(), bytes.size());
  CHECK(again.tensors().size() == f.tensors().size());
  CHECK(again.metadata() == f.metadata());
  for (const TensorView& t : f.tensors()) {
    const TensorView& u = again.get(t.name);
    CHECK((u.dtype == t.dtype && u.shape == t.shape && u.nbytes == t.nbytes && std::memcmp(u.data, t.data, t.nbytes) == 0));
  }
}

TEST_CASE("reads the shared reference.safetensors", "[safetensors]") {
  INTVIT_REQUIRE_SHARED();
  const SafeTensorsFile f = SafeTensorsFile::open(intvit::test::shared_dir() / "models/vit_tiny_patch16_224/reference.safetensors");
  CHECK(f.tensors().size() == 3);
  const TensorView& pixels = f.get("pixels");
  CHECK(pixels.dtype == DType::kU8);
  CHECK(pixels.shape == std::vector<int64_t>{100, 224, 224, 3});
  const TensorView& logits = f.get("logits");
  CHECK(logits.dtype == DType::kF32);
  CHECK(logits.shape == std::vector<int64_t>{100, 1000});
  const TensorView& cls = f.get("class_index");
  CHECK(cls.dtype == DType::kI32);
  CHECK(cls.shape == std::vector<int64_t>{100});
  const auto classes = cls.copy_as<int32_t>();
  CHECK(std::all_of(classes.begin(), classes.end(), [](int32_t c) { return c >= 0 && c < 1000; }));
  const auto l = logits.copy_as<float>();
  CHECK(std::all_of(l.begin(), l.end(), [](float v) { return std::isfinite(v); }));
  const auto px = pixels.copy_as<uint8_t>();
  CHECK(*std::max_element(px.begin(), px.end()) > 200);  // real images, not a blank buffer
  CHECK(f.metadata().count("files") == 1);
  CHECK(f.metadata().count("preprocess") == 1);
}
