#include "engine/image_files.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <system_error>

#include "kernels/error.h"

namespace intvit {

bool has_image_extension(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  for (const char* e : {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".pgm"}) {
    if (ext == e) return true;
  }
  return false;
}

std::vector<std::filesystem::path> list_image_files(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(ErrorCode::kIo, "not a folder: " + dir.string());
  std::vector<fs::path> files;
  fs::recursive_directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (has_image_extension(it->path()) && it->is_regular_file(type_ec)) files.push_back(it->path());
  }
  if (ec) throw Error(ErrorCode::kIo, "cannot list " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) { return a.native() < b.native(); });
  return files;
}

}  // namespace intvit
