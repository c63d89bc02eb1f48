#include "models/safetensors_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "kernels/error.h"

namespace intvit {

void SafeTensorsWriter::add(std::string name, DType dtype, std::vector<int64_t> shape,
                            std::span<const std::byte> bytes) {
  auto invalid = [&](const std::string& problem) {
    return Error(ErrorCode::kInvalidArgument, "SafeTensorsWriter: tensor '" + name + "': " + problem);
  };
  if (name == "__metadata__") throw invalid("name is reserved");
  if (tensors_.count(name)) throw invalid("added twice");
  size_t nbytes = dtype_size(dtype);
  for (int64_t d : shape) {
    if (d < 0) throw invalid("negative dimension");
    if (__builtin_mul_overflow(nbytes, static_cast<uint64_t>(d), &nbytes)) throw invalid("size overflows");
  }
  if (nbytes != bytes.size())
    throw invalid(std::to_string(bytes.size()) + " bytes given, shape and dtype need " + std::to_string(nbytes));
  tensors_.emplace(std::move(name), Entry{dtype, std::move(shape), {bytes.begin(), bytes.end()}});
}

void SafeTensorsWriter::set_metadata(std::string key, std::string value) { metadata_[std::move(key)] = std::move(value); }

std::vector<std::byte> SafeTensorsWriter::serialize() const {
  std::vector<const std::pair<const std::string, Entry>*> order;
  for (const auto& t : tensors_) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) {  // tensors_ is already sorted by name
    return dtype_size(a->second.dtype) > dtype_size(b->second.dtype);
  });

  nlohmann::json header = nlohmann::json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  uint64_t offset = 0;
  for (const auto* t : order) {
    const Entry& e = t->second;
    header[t->first] = {{"dtype", dtype_name(e.dtype)}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.bytes.size()}}};
    offset += e.bytes.size();
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');

  std::vector<std::byte> out(8 + text.size() + offset);
  const uint64_t header_len = text.size();
  std::memcpy(out.data(), &header_len, 8);  // little-endian host (asserted in safetensors.cc)
  std::memcpy(out.data() + 8, text.data(), text.size());
  std::byte* data = out.data() + 8 + text.size();
  for (const auto* t : order) {
    if (!t->second.bytes.empty()) std::memcpy(data, t->second.bytes.data(), t->second.bytes.size());
    data += t->second.bytes.size();
  }
  return out;
}

void SafeTensorsWriter::write(const std::filesystem::path& path) const {
  const std::vector<std::byte> bytes = serialize();
  const std::filesystem::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  auto fail = [&](const std::string& what) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    return Error(ErrorCode::kIo, "cannot write " + path.string() + ": " + what);
  };
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw fail(std::strerror(errno));
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool flushed = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int saved_errno = errno;
  if (std::fclose(f) != 0 || !written || !flushed) throw fail(std::strerror(saved_errno));
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw fail(ec.message());
}

}  // namespace intvit
