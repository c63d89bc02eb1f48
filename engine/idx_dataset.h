// IDX files (the MNIST / Fashion-MNIST format: big-endian magic 0x0000 08 NDIM, dimension sizes,
// then unsigned bytes): an images file [N][H][W] and an optional labels file [N].
// Read uncompressed; a gzip file is refused with a message saying to decompress it first.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace intvit {

struct IdxImages {
  int count = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;  // count × height × width, gray
};

// True if the file starts with an IDX unsigned-byte magic (0x00 0x00 0x08 NDIM).
bool is_idx_file(const std::filesystem::path& path);

// limit <= 0 means all. Error(kCorruptFile) for a bad magic, wrong rank, or a file shorter than
// its header says; Error(kInvalidArgument) for images larger than kMaxImagePixels.
IdxImages read_idx_images(const std::filesystem::path& path, int limit = 0);
std::vector<int> read_idx_labels(const std::filesystem::path& path, int limit = 0);

}  // namespace intvit
