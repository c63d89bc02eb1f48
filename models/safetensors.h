// Reader for the Hugging Face safetensors format, as timm / transformers publish `model.safetensors`:
//   [u64 little-endian N][N bytes of JSON header][data section]
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to
// the data section) plus an optional "__metadata__": {string: string}. open() validates everything up
// front (see safetensors.cc), so a loaded file's views are always in bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/error.h"
#include "models/dtype.h"

namespace intvit {

// One tensor inside a loaded file. `data` points into the file's bytes and is NOT necessarily aligned
// for the dtype, so read it with memcpy (copy_as / to_f32 do).
struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const std::byte* data = nullptr;
  size_t nbytes = 0;

  int64_t numel() const;
  std::string shape_string() const;  // "[192,3,16,16]", for messages
  // Converts any dtype to float (I32/I64 values beyond 2^24 round). For offline use.
  std::vector<float> to_f32() const;
  // The raw values; the dtype must be exactly T's (see dtype_of), else Error(kInvalidArgument).
  template <typename T>
  std::vector<T> copy_as() const;
};

class SafeTensorsFile {
 public:
  // Maps the file read-only. Error(kIo) if it cannot be opened; Error(kCorruptFile) / Error(kUnsupported)
  // if it is not a valid safetensors file.
  static SafeTensorsFile open(const std::filesystem::path& path);
  // Parses a caller-owned buffer, which must outlive the returned object and its views.
  static SafeTensorsFile from_buffer(const void* data, size_t size);

  SafeTensorsFile(SafeTensorsFile&& other) noexcept;
  SafeTensorsFile& operator=(SafeTensorsFile&& other) noexcept;
  SafeTensorsFile(const SafeTensorsFile&) = delete;
  SafeTensorsFile& operator=(const SafeTensorsFile&) = delete;
  ~SafeTensorsFile();

  const TensorView& get(std::string_view name) const;   // Error(kInvalidArgument) if absent
  const TensorView* find(std::string_view name) const;  // nullptr if absent
  const std::vector<TensorView>& tensors() const { return tensors_; }  // in data-offset order
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  size_t file_size() const { return size_; }
  const std::string& source() const { return source_; }  // the path, or "<memory>"

 private:
  SafeTensorsFile() = default;
  void parse();  // fills tensors_, index_, metadata_ from bytes_/size_; throws on any problem
  void release() noexcept;

  const std::byte* bytes_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;  // non-null when we own an mmap of size_ bytes
  std::string source_;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;
};

template <typename T>
std::vector<T> TensorView::copy_as() const {
  if (dtype != dtype_of<T>())
    throw Error(ErrorCode::kInvalidArgument, "tensor '" + name + "' is " + dtype_name(dtype) + ", not " +
                                                 dtype_name(dtype_of<T>()));
  std::vector<T> out(nbytes / sizeof(T));
  if (nbytes != 0) std::memcpy(out.data(), data, nbytes);
  return out;
}

}  // namespace intvit
