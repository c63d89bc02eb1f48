// safetensors reader. Validation follows the reference Rust implementation (huggingface/safetensors):
// header length <= 100 MB and within the file; the header is a JSON object; every tensor's byte range is
// [begin, end) with end - begin == numel * dtype size; sorted by offset, the ranges tile the data section
// exactly (no holes, no overlaps, nothing after the last one). Beyond it, duplicate JSON keys are rejected
// (nlohmann would silently keep one of them) and nesting is capped at the format's depth so that no input
// can exhaust the stack. Unknown fields inside a tensor entry are ignored, as the reference does.
#include "models/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

namespace intvit {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's limit
constexpr int kMaxJsonDepth = 3;  // root object > tensor entry or __metadata__ > shape / data_offsets

using Json = nlohmann::json;

// Parses the header, rejecting duplicate keys in any object and nesting deeper than the format uses.
Json parse_header(std::string_view text, const std::string& source) {
  std::vector<std::set<std::string>> keys_per_object;
  auto check = [&](int depth, Json::parse_event_t event, Json& parsed) {
    using E = Json::parse_event_t;
    if ((event == E::object_start || event == E::array_start) && depth >= kMaxJsonDepth)
      throw Error(ErrorCode::kCorruptFile, source + ": header JSON is nested deeper than safetensors allows");
    if (event == E::object_start) keys_per_object.emplace_back();
    if (event == E::object_end) keys_per_object.pop_back();
    if (event == E::key && !keys_per_object.back().insert(parsed.get<std::string>()).second)
      throw Error(ErrorCode::kCorruptFile, source + ": duplicate key '" + parsed.get<std::string>() + "' in header");
    return true;
  };
  // nlohmann's lexer stops at a NUL as if the input ended there; valid JSON never contains one.
  if (text.find('\0') != std::string_view::npos)
    throw Error(ErrorCode::kCorruptFile, source + ": header is not valid JSON (it contains a NUL byte)");
  try {
    return Json::parse(text.begin(), text.end(), check);
  } catch (const Json::exception& e) {
    throw Error(ErrorCode::kCorruptFile, source + ": header is not valid JSON (" + e.what() + ")");
  }
}

struct ByteRange { uint64_t begin, end; };

// One header entry -> a view (data pointer filled in later) and its byte range in the data section.
TensorView parse_entry(const std::string& name, const Json& entry, const std::string& source, ByteRange* range) {
  const std::string where = source + ": tensor '" + name + "'";
  auto corrupt = [&](const std::string& problem) { return Error(ErrorCode::kCorruptFile, where + ": " + problem); };
  if (!entry.is_object()) throw corrupt("entry is not a JSON object");
  const auto dtype = entry.find("dtype"), shape = entry.find("shape"), offsets = entry.find("data_offsets");
  if (dtype == entry.end() || !dtype->is_string()) throw corrupt("\"dtype\" missing or not a string");
  if (shape == entry.end() || !shape->is_array()) throw corrupt("\"shape\" missing or not an array");
  if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned())
    throw corrupt("\"data_offsets\" must be two non-negative integers");

  TensorView view;
  view.name = name;
  try {
    view.dtype = parse_dtype(dtype->get<std::string>());
  } catch (const Error& e) {
    throw Error(ErrorCode::kUnsupported, where + ": " + e.what());
  }
  size_t numel = 1;
  for (const Json& dim : *shape) {
    // is_number_unsigned: JSON integers >= 0 (nlohmann parses negatives as signed, fractions as float).
    if (!dim.is_number_unsigned() || dim.get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()})
      throw corrupt("shape entries must be non-negative integers");
    view.shape.push_back(dim.get<int64_t>());
    if (__builtin_mul_overflow(numel, dim.get<uint64_t>(), &numel)) throw corrupt("shape product overflows");
  }
  if (__builtin_mul_overflow(numel, dtype_size(view.dtype), &view.nbytes)) throw corrupt("byte size overflows");
  *range = {(*offsets)[0].get<uint64_t>(), (*offsets)[1].get<uint64_t>()};
  if (range->begin > range->end) throw corrupt("data_offsets begin > end");
  if (range->end - range->begin != view.nbytes)
    throw corrupt("data_offsets span " + std::to_string(range->end - range->begin) + " bytes but " + dtype->get<std::string>() +
                  view.shape_string() + " needs " + std::to_string(view.nbytes));
  return view;
}

}  // namespace

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // cannot overflow: the reader checked numel * dtype size fits the file
  return n;
}

std::string TensorView::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + ']';
}

std::vector<float> TensorView::to_f32() const {
  const size_t n = nbytes / dtype_size(dtype);
  std::vector<float> out(n);
  auto convert = [&]<typename T>(T, auto widen) {
    for (size_t i = 0; i < n; ++i) {
      T v;
      std::memcpy(&v, data + i * sizeof(T), sizeof(T));
      out[i] = widen(v);
    }
  };
  auto cast = [](auto v) { return static_cast<float>(v); };
  switch (dtype) {
    case DType::kF32: convert(float{}, cast); break;
    case DType::kF16: convert(uint16_t{}, f16_to_f32); break;
    case DType::kBF16: convert(uint16_t{}, bf16_to_f32); break;
    case DType::kI8: convert(int8_t{}, cast); break;
    case DType::kU8: convert(uint8_t{}, cast); break;
    case DType::kI16: convert(int16_t{}, cast); break;
    case DType::kI32: convert(int32_t{}, cast); break;
    case DType::kI64: convert(int64_t{}, cast); break;
  }
  return out;
}

SafeTensorsFile SafeTensorsFile::open(const std::filesystem::path& path) {
  SafeTensorsFile file;
  file.source_ = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(ErrorCode::kIo, "cannot open " + file.source_ + ": " + std::strerror(errno));
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(ErrorCode::kIo, file.source_ + ": not a readable regular file");
  }
  file.size_ = static_cast<size_t>(st.st_size);
  if (file.size_ >= 8) {  // smaller files are rejected by parse(); mmap of 0 bytes would fail anyway
    void* p = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw Error(ErrorCode::kIo, "cannot mmap " + file.source_ + ": " + std::strerror(errno));
    }
    file.mapping_ = p;
    file.bytes_ = static_cast<const std::byte*>(p);
  }
  ::close(fd);  // the mapping stays valid
  file.parse();
  return file;
}

SafeTensorsFile SafeTensorsFile::from_buffer(const void* data, size_t size) {
  SafeTensorsFile file;
  file.source_ = "<memory>";
  file.bytes_ = static_cast<const std::byte*>(data);
  file.size_ = size;
  file.parse();
  return file;
}

void SafeTensorsFile::parse() {
  auto corrupt = [&](const std::string& problem) { return Error(ErrorCode::kCorruptFile, source_ + ": " + problem); };
  if (size_ < 8) throw corrupt("file is " + std::to_string(size_) + " bytes, shorter than the 8-byte header length");
  uint64_t header_len;
  std::memcpy(&header_len, bytes_, 8);
  if (header_len > kMaxHeaderBytes) throw corrupt("header length " + std::to_string(header_len) + " exceeds 100 MB");
  if (header_len > size_ - 8)
    throw corrupt("header length " + std::to_string(header_len) + " runs past the end of the file (" +
                  std::to_string(size_) + " bytes)");
  const Json header = parse_header({reinterpret_cast<const char*>(bytes_ + 8), header_len}, source_);
  if (!header.is_object()) throw corrupt("header is not a JSON object");

  const std::byte* data_section = bytes_ + 8 + header_len;
  const uint64_t data_size = size_ - 8 - header_len;
  std::vector<std::pair<ByteRange, TensorView>> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) throw corrupt("__metadata__ is not a JSON object");
      for (const auto& [mkey, mvalue] : value.items()) {
        if (!mvalue.is_string()) throw corrupt("__metadata__ value for '" + mkey + "' is not a string");
        metadata_.emplace(mkey, mvalue.get<std::string>());
      }
      continue;
    }
    ByteRange range;
    TensorView view = parse_entry(key, value, source_, &range);
    entries.emplace_back(range, std::move(view));
  }

  // Sorted by offset, each range must start where the previous one ended (zero-byte tensors sort first).
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.begin, a.first.end, a.second.name) < std::tie(b.first.begin, b.first.end, b.second.name);
  });
  uint64_t expected_begin = 0;
  for (auto& [range, view] : entries) {
    if (range.begin != expected_begin)
      throw corrupt("tensor '" + view.name + "' data_offsets [" + std::to_string(range.begin) + "," +
                    std::to_string(range.end) + "] " + (range.begin < expected_begin ? "overlap" : "leave a gap after") +
                    " the previous tensor ending at " + std::to_string(expected_begin));
    if (range.end > data_size)
      throw corrupt("tensor '" + view.name + "' ends at " + std::to_string(range.end) + ", past the data section (" +
                    std::to_string(data_size) + " bytes)");
    expected_begin = range.end;
    view.data = data_section + range.begin;
    index_.emplace(view.name, tensors_.size());
    tensors_.push_back(std::move(view));
  }
  if (expected_begin != data_size)
    throw corrupt("data section is " + std::to_string(data_size) + " bytes but the tensors cover only " +
                  std::to_string(expected_begin));
}

const TensorView* SafeTensorsFile::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const TensorView& SafeTensorsFile::get(std::string_view name) const {
  if (const TensorView* view = find(name)) return *view;
  throw Error(ErrorCode::kInvalidArgument, "no tensor '" + std::string(name) + "' in " + source_);
}

void SafeTensorsFile::release() noexcept {
  if (mapping_) ::munmap(mapping_, size_);
  mapping_ = nullptr;
  bytes_ = nullptr;
  size_ = 0;
}

SafeTensorsFile::SafeTensorsFile(SafeTensorsFile&& other) noexcept { *this = std::move(other); }

SafeTensorsFile& SafeTensorsFile::operator=(SafeTensorsFile&& other) noexcept {
  if (this != &other) {
    release();
    bytes_ = std::exchange(other.bytes_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapping_ = std::exchange(other.mapping_, nullptr);
    source_ = std::move(other.source_);
    tensors_ = std::move(other.tensors_);  // views point into the mapping, which does not move
    index_ = std::move(other.index_);
    metadata_ = std::move(other.metadata_);
  }
  return *this;
}

SafeTensorsFile::~SafeTensorsFile() { release(); }

}  // namespace intvit
