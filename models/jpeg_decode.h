// JPEG decoding with libjpeg-turbo's TurboJPEG API: the decoder PIL uses, with PIL's defaults
// (ISLOW DCT, fancy upsampling), so that intvit's pixels match PIL's byte for byte.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "models/image.h"

namespace intvit {

// Decodes a JPEG (baseline, progressive, arithmetic; gray, YCbCr, RGB, CMYK or YCCK) to 8-bit RGB.
// Gray is replicated; CMYK/YCCK become RGB as PIL's convert("RGB") does (Adobe-inverted CMYK,
// R = (255 - K) - (255 - K) * C / 255). Any libjpeg warning (truncated data, corrupt entropy
// data, extraneous bytes) fails the decode rather than returning gray-filled or damaged pixels.
// The caller has already refused declared sizes above kMaxImagePixels; the size TurboJPEG reads
// from the header is checked against the limit again before the pixel buffer is allocated.
// Returns an empty string and fills *image on success, else the reason (the file is corrupt),
// or sets *too_large when the header declares more than kMaxImagePixels.
std::string decode_jpeg_turbo(std::span<const uint8_t> bytes, Image* image, bool* too_large);

}  // namespace intvit
