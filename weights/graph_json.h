// The intvit.graph JSON of an integer model file (weights/FORMAT.md) seen as integers, strings,
// booleans and description scales. This is the one translation unit of the loader that holds the
// JSON library (nlohmann) and its number parsing: the rest of the load path reads through it, so
// its own objects compile to integer-only code (tests/no_float scans them; this file is exempt).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/swin_config.h"
#include "engine/vit_config.h"

namespace intvit {

// A node of a parsed graph (shares the parsed document). Every failure — a missing key, a wrong
// type, an out-of-range number — is Error(kCorruptFile) naming `where` and the key.
class GraphJson {
 public:
  static GraphJson parse(const std::string& text);  // must be a JSON object

  bool is_array() const;
  size_t size() const;                              // array length or object size
  bool contains(const std::string& key) const;
  GraphJson at(const std::string& key) const;
  GraphJson at(size_t index) const;

  // An integer in [lo, hi]: a fraction, a string or a value beyond int64 is corrupt.
  int64_t integer(const std::string& key, int64_t lo, int64_t hi, const std::string& where) const;
  std::string string(const std::string& key) const;
  bool boolean(const std::string& key) const;
  bool boolean_or(const std::string& key, bool fallback) const;  // absent -> fallback
  // A description scale (reports, traces; never a kernel parameter): finite and > 0.
  double scale(const std::string& key, const std::string& where) const;
  std::vector<std::string> strings(const std::string& key) const;
  ViTConfig config(const std::string& key) const;   // engine/vit_config.h's parse_vit_config
  SwinConfig swin_config(const std::string& key) const;  // engine/swin_config.h's parse_swin_config

 private:
  GraphJson(std::shared_ptr<const void> doc, const void* node) : doc_(std::move(doc)), node_(node) {}
  std::shared_ptr<const void> doc_;  // the parsed document (a nlohmann::json)
  const void* node_;                 // this node inside it
};

}  // namespace intvit
