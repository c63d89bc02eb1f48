#include "engine/idx_dataset.h"

#include <array>
#include <fstream>

#include "kernels/error.h"
#include "models/image.h"

namespace intvit {
namespace {

uint32_t big_endian32(const uint8_t* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

// Checks the magic for unsigned bytes of rank `rank` and returns the dimensions.
std::vector<uint32_t> read_header(std::ifstream& in, const std::filesystem::path& path, int rank) {
  if (!in) throw Error(ErrorCode::kIo, "cannot open " + path.string());
  std::array<uint8_t, 4> magic{};
  in.read(reinterpret_cast<char*>(magic.data()), 4);
  if (in.gcount() == 4 && magic[0] == 0x1f && magic[1] == 0x8b) {
    throw Error(ErrorCode::kInvalidArgument, path.string() + " is gzip-compressed: decompress it first (gunzip -k)");
  }
  if (in.gcount() != 4 || magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] != rank) {
    throw Error(ErrorCode::kCorruptFile, path.string() + ": not an IDX file of unsigned bytes with " + std::to_string(rank) +
                                             " dimension(s)");
  }
  std::vector<uint32_t> dims;
  for (int i = 0; i < rank; ++i) {
    std::array<uint8_t, 4> b{};
    in.read(reinterpret_cast<char*>(b.data()), 4);
    if (in.gcount() != 4) throw Error(ErrorCode::kCorruptFile, path.string() + ": truncated IDX header");
    dims.push_back(big_endian32(b.data()));
  }
  return dims;
}

void read_exact(std::ifstream& in, const std::filesystem::path& path, uint8_t* dst, size_t bytes) {
  in.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(bytes));
  if (static_cast<size_t>(in.gcount()) != bytes) {
    throw Error(ErrorCode::kCorruptFile, path.string() + ": truncated (shorter than its IDX header declares)");
  }
}

uint32_t limited(uint32_t count, int limit) { return limit > 0 ? std::min<uint32_t>(count, static_cast<uint32_t>(limit)) : count; }

}  // namespace

bool is_idx_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<uint8_t, 4> magic{};
  in.read(reinterpret_cast<char*>(magic.data()), 4);
  return in.gcount() == 4 && magic[0] == 0 && magic[1] == 0 && magic[2] == 0x08 && magic[3] >= 1 && magic[3] <= 3;
}

IdxImages read_idx_images(const std::filesystem::path& path, int limit) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint32_t> dims = read_header(in, path, 3);
  if (dims[1] == 0 || dims[2] == 0 || int64_t{dims[1]} * dims[2] > kMaxImagePixels) {
    throw Error(ErrorCode::kInvalidArgument, path.string() + ": image size " + std::to_string(dims[1]) + "x" +
                                                 std::to_string(dims[2]) + " is empty or too large");
  }
  IdxImages out;
  out.count = static_cast<int>(std::min<uint32_t>(limited(dims[0], limit), 1u << 30));
  out.height = static_cast<int>(dims[1]);
  out.width = static_cast<int>(dims[2]);
  // Read image by image so a header claiming billions of images fails on the data, not on a huge allocation.
  const size_t image_bytes = static_cast<size_t>(out.height) * out.width;
  for (int i = 0; i < out.count; ++i) {
    out.pixels.resize((static_cast<size_t>(i) + 1) * image_bytes);
    read_exact(in, path, out.pixels.data() + static_cast<size_t>(i) * image_bytes, image_bytes);
  }
  return out;
}

std::vector<int> read_idx_labels(const std::filesystem::path& path, int limit) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint32_t> dims = read_header(in, path, 1);
  std::vector<int> labels;
  const uint32_t n = limited(dims[0], limit);
  for (uint32_t i = 0; i < n; ++i) {
    uint8_t b = 0;
    read_exact(in, path, &b, 1);
    labels.push_back(b);
  }
  return labels;
}

}  // namespace intvit
