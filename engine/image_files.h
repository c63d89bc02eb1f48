// Which files count as images, and how a folder expands into them (CLI inputs, folder datasets,
// calibration folders).
#pragma once

#include <filesystem>
#include <vector>

namespace intvit {

// By extension, any case: .jpg .jpeg .png .bmp .gif .ppm .pgm (what decode_image_file reads).
// Extension, not content: a folder may hold labels, notes or thumbnails' metadata, and opening
// every file to sniff it would be slow and would turn a stray text file into an error. A file with
// an image extension that does not decode is reported as a corrupt image.
bool has_image_extension(const std::filesystem::path& path);

// Every file with an image extension under `dir`, recursively (symlinked files are followed,
// symlinked folders are not, so a link cycle cannot loop), sorted by path in byte order (what
// `find DIR | LC_ALL=C sort` gives). Error(kIo) when `dir` is not a readable folder.
std::vector<std::filesystem::path> list_image_files(const std::filesystem::path& dir);

}  // namespace intvit
