// JPEG decoding with the TurboJPEG API (error codes, no longjmp in our code). The handle is
// owned by a unique_ptr, so it is freed on every path, thrown or returned.
#include "models/jpeg_decode.h"

#include <turbojpeg.h>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace intvit {
namespace {

struct TjDestroy {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, TjDestroy>;

std::string tj_reason(void* handle) {
  const char* reason = tjGetErrorStr2(handle);
  return reason && *reason ? reason : "unknown libjpeg-turbo error";
}

// Pillow's CMYK -> RGB (libImaging/Convert.c cmyk2rgb) after its "CMYK;I" unpacking (JPEG CMYK
// is stored Adobe-inverted, and libjpeg hands it over as stored): with C = 255 - c_stored and
// 255 - K = k_stored, R = CLIP8(nk - MULDIV255(C, nk)), MULDIV255(a, b) = (t + (t >> 8)) >> 8 for
// t = a * b + 128. The result is in 0..255 without clipping since MULDIV255(C, nk) <= nk.
uint8_t pil_cmyk_channel(uint32_t stored, uint32_t nk) {
  const uint32_t t = (255 - stored) * nk + 128;
  return static_cast<uint8_t>(nk - ((t + (t >> 8)) >> 8));
}

void cmyk_to_rgb(const std::vector<uint8_t>& cmyk, std::vector<uint8_t>* rgb) {
  const size_t pixels = cmyk.size() / 4;
  for (size_t i = 0; i < pixels; ++i) {
    const uint8_t* in = &cmyk[i * 4];
    uint8_t* out = &(*rgb)[i * 3];
    for (int c = 0; c < 3; ++c) out[c] = pil_cmyk_channel(in[c], in[3]);
  }
}

}  // namespace

std::string decode_jpeg_turbo(std::span<const uint8_t> bytes, Image* image, bool* too_large) {
  *too_large = false;
  TjHandle handle(tjInitDecompress());
  if (!handle) return "cannot create a libjpeg-turbo decompressor: " + tj_reason(nullptr);
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(handle.get(), bytes.data(), static_cast<unsigned long>(bytes.size()), &width,
                          &height, &subsampling, &colorspace) != 0) {
    return tj_reason(handle.get());
  }
  if (width <= 0 || height <= 0) return "image has zero size";
  if (static_cast<int64_t>(width) * height > kMaxImagePixels) {
    *too_large = true;
    return {};
  }
  // ISLOW DCT and fancy upsampling are TurboJPEG's defaults, and PIL's. LIMITSCANS refuses
  // progressive files with more than 500 scans (a decode-time bomb). tjDecompress2 fails on any
  // libjpeg warning ("premature end of JPEG file", where libjpeg fills the rest with gray, and other
  // corrupt-data warnings); STOPONWARNING makes it stop at the first rather than decode on.
  const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  const size_t pixels = static_cast<size_t>(width) * height;
  std::vector<uint8_t> decoded(pixels * (cmyk ? 4 : 3));
  if (tjDecompress2(handle.get(), bytes.data(), static_cast<unsigned long>(bytes.size()), decoded.data(),
                    width, 0, height, cmyk ? TJPF_CMYK : TJPF_RGB, flags) != 0) {
    return tj_reason(handle.get());
  }
  image->width = width;
  image->height = height;
  if (cmyk) {
    image->rgb.resize(pixels * 3);
    cmyk_to_rgb(decoded, &image->rgb);
  } else {
    image->rgb = std::move(decoded);
  }
  return {};
}

}  // namespace intvit
