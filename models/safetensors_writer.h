// Writer for the safetensors format read by models/safetensors.h (and by Hugging Face's libraries).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "models/dtype.h"

namespace intvit {

class SafeTensorsWriter {
 public:
  // Copies the bytes. Error(kInvalidArgument) for a duplicate or reserved name ("__metadata__"), a
  // negative dimension, or bytes.size() != product(shape) * dtype_size(dtype).
  void add(std::string name, DType dtype, std::vector<int64_t> shape, std::span<const std::byte> bytes);
  template <typename T>
  void add(std::string name, std::vector<int64_t> shape, std::span<const T> values) {
    add(std::move(name), dtype_of<T>(), std::move(shape), std::as_bytes(values));
  }
  template <typename T>
  void add(std::string name, std::vector<int64_t> shape, const std::vector<T>& values) {
    add(std::move(name), std::move(shape), std::span<const T>(values));
  }
  void set_metadata(std::string key, std::string value);

  // The whole file. The header is padded with spaces to a multiple of 8 bytes (as Hugging Face does) and
  // tensors are laid out by descending element size, then name, so every tensor is aligned to its dtype.
  std::vector<std::byte> serialize() const;
  // Writes to "<path>.tmp.<pid>" and renames it over path, so readers never see a partial file.
  // Error(kIo) on failure.
  void write(const std::filesystem::path& path) const;

 private:
  struct Entry {
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<std::byte> bytes;
  };
  std::map<std::string, Entry> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace intvit
