// Byte-level surgery on a model file's safetensors container ([u64 N][JSON header][data]), for the tests
// that corrupt one field and expect a clear kCorruptFile (int_model_file_test, int_swin_file_test).
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "kernels/error.h"
#include "test_support.h"

namespace intvit::model_file_surgery {

using Bytes = std::string;
using nlohmann::json;

inline Bytes read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The file with its JSON header rewritten by `edit`.
inline Bytes edit_header(const Bytes& file, const std::function<void(json&)>& edit) {
  uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  json h = json::parse(file.substr(8, n));
  edit(h);
  const std::string header = h.dump();
  Bytes out(8, '\0');
  const uint64_t len = header.size();
  std::memcpy(out.data(), &len, 8);
  return out + header + file.substr(8 + n);
}

// The file with its "intvit.graph" metadata (a JSON string) rewritten by `edit`.
inline Bytes edit_graph(const Bytes& file, const std::function<void(json&)>& edit) {
  return edit_header(file, [&](json& h) {
    json g = json::parse(h["__metadata__"]["intvit.graph"].get<std::string>());
    edit(g);
    h["__metadata__"]["intvit.graph"] = g.dump();
  });
}

// The file with element `index` of tensor `name` overwritten by `value`'s bytes.
template <typename T>
Bytes poke(const Bytes& file, const std::string& name, size_t index, T value) {
  uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  const json h = json::parse(file.substr(8, n));
  Bytes out = file;
  const size_t at = 8 + n + h.at(name).at("data_offsets")[0].get<size_t>() + index * sizeof(T);
  REQUIRE(at + sizeof(T) <= out.size());
  std::memcpy(out.data() + at, &value, sizeof(T));
  return out;
}

// load(file) must fail with kCorruptFile and a message containing `field`.
template <typename Load>
void check_corrupt(const Bytes& file, const std::string& field, const Load& load) {
  INFO("expected a kCorruptFile naming " << field);
  try {
    load(file);
    FAIL("loaded");
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(e.code() == ErrorCode::kCorruptFile);
    CHECK(std::string(e.what()).find(field) != std::string::npos);
  }
}

}  // namespace intvit::model_file_surgery
