// Pillow-compatible resampling and torchvision-compatible center crop of 8-bit RGB images.
//
// resize() reproduces PIL's Image.resize(size, BILINEAR / BICUBIC) on RGB images bit for bit
// (Pillow src/libImaging/Resample.c, ImagingResample for 8-bit data): separable, horizontal pass
// then vertical pass, each skipped when that dimension is unchanged; the filter support is
// widened by the downscale factor (antialiasing); weights are normalised per output pixel in
// double, then converted once to fixed point Q22 (kResizePrecisionBits); the per-pixel passes are
// integer multiply-adds with +2^21 rounding and clipping to [0, 255].
#pragma once

#include "models/image.h"

namespace intvit {

enum class ResizeFilter {
  kBilinear,  // triangle filter, support 1 (PIL BILINEAR)
  kBicubic,   // cubic convolution a = -0.5, support 2 (PIL BICUBIC)
};

// Fixed-point fraction bits of the resampling weights: Pillow's PRECISION_BITS = 32 - 8 - 2,
// leaving 8 bits for the pixel and 2 for the weights' overshoot and sign.
constexpr int kResizePrecisionBits = 22;

// PIL Image.resize(). Sizes must be positive with out_width * out_height <= kMaxImagePixels,
// else Error(kInvalidArgument). Same size returns a copy.
Image resize(const Image& image, int out_width, int out_height, ResizeFilter filter);

// The crop_width x crop_height window at (crop_left, crop_top) of
// resize(image, out_width, out_height, filter), computed without the rest of the resized image
// (bit-identical: every output pixel's weights depend only on its own position). The window must
// lie inside [0, out_width) x [0, out_height) and hold at most kMaxImagePixels; the full output
// size only needs positive sides up to kMaxImagePixels, since it is never allocated.
Image resize_window(const Image& image, int out_width, int out_height, ResizeFilter filter,
                    int crop_left, int crop_top, int crop_width, int crop_height);

// First source row/column of a centered crop of `crop` out of `size`, as torchvision's
// CenterCrop computes it: round((size - crop) / 2) with Python's round-half-to-even when
// crop <= size; -((crop - size) // 2) (zero padding before) when the crop is larger.
int center_crop_offset(int size, int crop);

// The width x height window at (left, top) of the image; parts outside the image are zero.
Image crop_window(const Image& image, int left, int top, int width, int height);

// torchvision CenterCrop([crop_height, crop_width]) on a PIL image: crop_window at
// center_crop_offset() per axis, so a crop larger than the image is zero-padded as torchvision
// pads with fill 0.
Image center_crop(const Image& image, int crop_width, int crop_height);

}  // namespace intvit
