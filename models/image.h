// Decoded images: 8-bit RGB, the only pixel format preprocessing and the engine accept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

namespace intvit {

// 8-bit RGB, HWC, row-major, tightly packed: rgb.size() == width * height * 3.
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

// Largest accepted image (decoded, created or resized), in pixels. Larger requests throw
// Error(kInvalidArgument) before anything of that size is allocated (192 MiB of RGB).
constexpr int64_t kMaxImagePixels = 64LL * 1024 * 1024;

// Largest accepted encoded file; stb_image takes an int length, and no supported format needs
// more than ~4 bytes per pixel of kMaxImagePixels.
constexpr int64_t kMaxImageFileBytes = int64_t{1} << 30;

// Reads and decodes a file. Error(kIo) if it cannot be read, otherwise as decode_image_memory.
Image decode_image_file(const std::filesystem::path& path);

// Decodes JPEG (baseline/progressive/arithmetic) with libjpeg-turbo as PIL does (ISLOW DCT, fancy
// upsampling, CMYK/YCCK converted as PIL's convert("RGB")), PNG, BMP and GIF (first frame) with
// stb_image, and binary PGM/PPM (P5/P6) natively. Grayscale, gray+alpha, RGBA, 16-bit and palette
// images become 8-bit RGB: gray is replicated, alpha is dropped (not composited, like PIL's convert("RGB")), 16-bit
// PNG keeps the high byte (as stb_image, and PIL for RGB), PGM/PPM samples scale as
// round(v * 255 / maxval). Errors: empty, truncated, corrupt, non-image or other-format input ->
// Error(kCorruptFile, "cannot decode <what>: <reason>"); a header declaring more than
// kMaxImagePixels -> Error(kInvalidArgument), raised from the header alone, before any decoder
// runs or any pixel buffer is allocated. `what` names the input in messages.
Image decode_image_memory(std::span<const uint8_t> bytes, std::string_view what = "<memory>");

// Copies caller pixels (channels 1 = gray, 3 = RGB, 4 = RGBA with alpha dropped) into an Image.
// row_stride_bytes >= width * channels. Error(kInvalidArgument) for null pixels, non-positive or
// too large sizes, unsupported channel counts or a short stride.
Image image_from_pixels(const uint8_t* pixels, int width, int height, int channels,
                        size_t row_stride_bytes);

// Throws Error(kInvalidArgument) unless the image has positive size within kMaxImagePixels and
// rgb.size() == width * height * 3. `who` names the caller in the message.
void check_image(const Image& image, std::string_view who);

}  // namespace intvit
