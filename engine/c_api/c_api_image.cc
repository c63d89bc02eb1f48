// C API: decoding image files and buffers, so C users need no decoder of their own.
#include <filesystem>
#include <span>

#include "engine/c_api/c_api_internal.h"

using intvit::capi::InputKind;
using intvit::capi::guarded;
using intvit::capi::require;

namespace {

template <class Body>
intvit_status image_call(const char* function, Body&& body) noexcept {
  return guarded(function, static_cast<intvit::capi::SingleThreadErrors*>(nullptr), InputKind::kImage,
                 std::forward<Body>(body));
}

}  // namespace

extern "C" {

intvit_status intvit_image_decode_file(const char* path, intvit_image** out) {
  if (out) *out = nullptr;
  return image_call("intvit_image_decode_file", [&] {
    require(out != nullptr, "out is NULL");
    require(path != nullptr, "path is NULL");
    require(*path != '\0', "path is empty");
    auto image = std::make_unique<intvit_image>();
    image->image = intvit::decode_image_file(std::filesystem::path(path));
    *out = image.release();
  });
}

intvit_status intvit_image_decode_memory(const void* data, size_t size, intvit_image** out) {
  if (out) *out = nullptr;
  return image_call("intvit_image_decode_memory", [&] {
    require(out != nullptr, "out is NULL");
    require(data != nullptr, "data is NULL");
    require(size != 0, "size is 0");
    auto image = std::make_unique<intvit_image>();
    image->image = intvit::decode_image_memory(std::span<const uint8_t>(static_cast<const uint8_t*>(data), size));
    *out = image.release();
  });
}

void intvit_image_destroy(intvit_image* image) { delete image; }

intvit_status intvit_image_pixels(const intvit_image* image, const uint8_t** pixels, int32_t* width, int32_t* height,
                                  int32_t* channels, size_t* row_stride) {
  if (pixels) *pixels = nullptr;
  if (width) *width = 0;
  if (height) *height = 0;
  if (channels) *channels = 0;
  if (row_stride) *row_stride = 0;
  return image_call("intvit_image_pixels", [&] {
    require(image != nullptr, "image is NULL");
    const intvit::Image& im = image->image;
    if (pixels) *pixels = im.rgb.data();
    if (width) *width = im.width;
    if (height) *height = im.height;
    if (channels) *channels = 3;
    if (row_stride) *row_stride = static_cast<size_t>(im.width) * 3;
  });
}

}  // extern "C"
