// Image decoding: JPEG with libjpeg-turbo (models/jpeg_decode.h, PIL's decoder), PGM/PPM natively,
// the other formats with stb_image; guarded so that hostile files fail cleanly: the declared size
// is read from the header and checked before decoding, and truncation is detected before a
// decoder would fill it with gray or zeros.
#include "models/image.h"

#include <stb_image.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "kernels/error.h"
#include "models/image_container.h"
#include "models/jpeg_decode.h"

namespace intvit {
namespace {

struct StbiFree {
  void operator()(void* p) const { stbi_image_free(p); }
};

std::string stbi_reason() {
  const char* reason = stbi_failure_reason();
  return reason && *reason ? reason : "unknown stb_image error";
}

// Binary PGM/PPM is decoded here rather than by stb_image, whose 16-bit PNM path (v2.27) neither
// byte-swaps nor converts channels correctly. Samples scale to 0..255 as round(v * 255 / maxval);
// values above maxval are invalid and saturate.
Image decode_pnm(std::span<const uint8_t> bytes, const PnmHeader& header) {
  Image image;
  image.width = header.width;
  image.height = header.height;
  image.rgb.resize(static_cast<size_t>(header.width) * header.height * 3);
  const uint8_t* in = bytes.data() + header.data_offset;
  const bool two_bytes = header.maxval > 255;
  const uint32_t maxval = static_cast<uint32_t>(header.maxval);
  const size_t pixels = static_cast<size_t>(header.width) * header.height;
  for (size_t i = 0; i < pixels; ++i) {
    for (int c = 0; c < header.channels; ++c) {
      uint32_t v = two_bytes ? (in[0] << 8) | in[1] : in[0];
      in += two_bytes ? 2 : 1;
      v = (std::min(v, maxval) * 255 + maxval / 2) / maxval;
      uint8_t* out = &image.rgb[i * 3];
      if (header.channels == 1) {
        out[0] = out[1] = out[2] = static_cast<uint8_t>(v);
      } else {
        out[c] = static_cast<uint8_t>(v);
      }
    }
  }
  return image;
}

}  // namespace

void check_image(const Image& image, std::string_view who) {
  if (image.width <= 0 || image.height <= 0 ||
      static_cast<int64_t>(image.width) * image.height > kMaxImagePixels ||
      image.rgb.size() != static_cast<size_t>(image.width) * image.height * 3) {
    throw Error(ErrorCode::kInvalidArgument,
                std::string(who) + ": invalid image " + std::to_string(image.width) + "x" +
                    std::to_string(image.height) + " with " + std::to_string(image.rgb.size()) +
                    " bytes (need positive size, at most kMaxImagePixels, 3 bytes per pixel)");
  }
}

Image decode_image_memory(std::span<const uint8_t> bytes, std::string_view what) {
  const std::string name(what);
  auto corrupt = [&](const std::string& reason) {
    return Error(ErrorCode::kCorruptFile, "cannot decode " + name + ": " + reason);
  };
  if (bytes.empty()) throw corrupt("empty input");
  if (static_cast<int64_t>(bytes.size()) > kMaxImageFileBytes) {
    throw Error(ErrorCode::kInvalidArgument,
                "cannot decode " + name + ": " + std::to_string(bytes.size()) +
                    " bytes is more than kMaxImageFileBytes");
  }
  const ImageFormat format = sniff_image_format(bytes);
  if (format == ImageFormat::kUnknown) {
    throw corrupt("not a JPEG, PNG, BMP, GIF or binary PGM/PPM image");
  }
  // The declared size, from the header alone: a huge image is refused before anything is
  // allocated (stb_image's own limits are looser, and stbi_info loses the failure reason).
  int64_t declared_width = 0, declared_height = 0;
  if (std::string reason = read_declared_size(format, bytes, &declared_width, &declared_height);
      !reason.empty()) {
    throw corrupt(reason);
  }
  if (declared_width == 0 || declared_height == 0) throw corrupt("image has zero size");
  // Each side alone first: two 32-bit PNG sides could overflow the int64 product.
  if (declared_width > kMaxImagePixels || declared_height > kMaxImagePixels ||
      declared_width * declared_height > kMaxImagePixels) {
    throw Error(ErrorCode::kInvalidArgument,
                name + " declares " + std::to_string(declared_width) + "x" +
                    std::to_string(declared_height) +
                    " pixels, more than kMaxImagePixels (" + std::to_string(kMaxImagePixels) + ")");
  }
  if (std::string reason = find_truncation(format, bytes); !reason.empty()) throw corrupt(reason);

  if (format == ImageFormat::kPnm) {
    PnmHeader header;
    if (std::string reason = parse_pnm_header(bytes, &header); !reason.empty()) {
      throw corrupt(reason);
    }
    return decode_pnm(bytes, header);
  }

  if (format == ImageFormat::kJpeg) {
    Image image;
    bool too_large = false;
    if (std::string reason = decode_jpeg_turbo(bytes, &image, &too_large); !reason.empty()) {
      throw corrupt(reason);
    }
    if (too_large) {  // TurboJPEG read a different frame header than ours: still refused
      throw Error(ErrorCode::kInvalidArgument,
                  name + " declares more than kMaxImagePixels (" + std::to_string(kMaxImagePixels) +
                      ") pixels");
    }
    if (image.width != declared_width || image.height != declared_height) {
      throw corrupt("decoded size " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                    " differs from the header");
    }
    return image;
  }

  int width = 0, height = 0, channels_in_file = 0;
  std::unique_ptr<stbi_uc, StbiFree> pixels(stbi_load_from_memory(
      bytes.data(), static_cast<int>(bytes.size()), &width, &height, &channels_in_file, 3));
  if (!pixels) throw corrupt(stbi_reason());
  if (width != declared_width || height != declared_height) {
    throw corrupt("decoded size " + std::to_string(width) + "x" + std::to_string(height) +
                  " differs from the header");
  }
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.assign(pixels.get(), pixels.get() + static_cast<size_t>(width) * height * 3);
  return image;
}

Image decode_image_file(const std::filesystem::path& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) {
    throw Error(ErrorCode::kIo, "cannot open " + path.string() + ": " + std::strerror(errno));
  }
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  for (;;) {
    const size_t n = std::fread(chunk, 1, sizeof chunk, file.get());
    bytes.insert(bytes.end(), chunk, chunk + n);
    if (static_cast<int64_t>(bytes.size()) > kMaxImageFileBytes) {
      throw Error(ErrorCode::kInvalidArgument,
                  "cannot decode " + path.string() + ": file is larger than kMaxImageFileBytes");
    }
    if (n < sizeof chunk) break;
  }
  if (std::ferror(file.get())) {
    throw Error(ErrorCode::kIo, "cannot read " + path.string() + ": " + std::strerror(errno));
  }
  return decode_image_memory(bytes, path.string());
}

Image image_from_pixels(const uint8_t* pixels, int width, int height, int channels,
                        size_t row_stride_bytes) {
  if (!pixels || width <= 0 || height <= 0 ||
      static_cast<int64_t>(width) * height > kMaxImagePixels ||
      (channels != 1 && channels != 3 && channels != 4) ||
      row_stride_bytes < static_cast<size_t>(width) * channels) {
    throw Error(ErrorCode::kInvalidArgument,
                "image_from_pixels: need non-null pixels, 0 < width*height <= kMaxImagePixels, "
                "channels 1, 3 or 4 and row_stride_bytes >= width*channels (got " +
                    std::to_string(width) + "x" + std::to_string(height) + "x" +
                    std::to_string(channels) + ", stride " + std::to_string(row_stride_bytes) + ")");
  }
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(static_cast<size_t>(width) * height * 3);
  uint8_t* out = image.rgb.data();
  for (int y = 0; y < height; ++y) {
    const uint8_t* row = pixels + static_cast<size_t>(y) * row_stride_bytes;
    if (channels == 3) {
      std::memcpy(out, row, static_cast<size_t>(width) * 3);
      out += static_cast<size_t>(width) * 3;
      continue;
    }
    for (int x = 0; x < width; ++x, out += 3) {
      const uint8_t* p = row + static_cast<size_t>(x) * channels;
      out[0] = p[0];
      out[1] = channels == 1 ? p[0] : p[1];
      out[2] = channels == 1 ? p[0] : p[2];
    }
  }
  return image;
}

}  // namespace intvit
