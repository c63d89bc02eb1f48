// timm/torchvision eval preprocessing on top of the Pillow-compatible resampler.
#include "models/preprocess.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/error.h"

namespace intvit {

int preprocess_scale_size(const PreprocessConfig& config) {
  if (config.input_size <= 0 || !std::isfinite(config.crop_pct) || config.crop_pct <= 0.0) {
    throw Error(ErrorCode::kInvalidArgument,
                "preprocess: need input_size > 0 and a finite crop_pct > 0 (got input_size " +
                    std::to_string(config.input_size) + ", crop_pct " +
                    std::to_string(config.crop_pct) + ")");
  }
  // Same double division and floor as timm's math.floor(img_size / crop_pct).
  const double scale_size = std::floor(config.input_size / config.crop_pct);
  if (scale_size < 1.0 || scale_size > static_cast<double>(kMaxImagePixels)) {
    throw Error(ErrorCode::kInvalidArgument,
                "preprocess: floor(input_size / crop_pct) = " + std::to_string(scale_size) +
                    " is not a usable image side");
  }
  return static_cast<int>(scale_size);
}

Size2D resized_size_keep_aspect(int width, int height, int shorter, GeometryRounding rounding) {
  if (width <= 0 || height <= 0 || shorter <= 0) {
    throw Error(ErrorCode::kInvalidArgument, "resized_size_keep_aspect: sizes must be positive");
  }
  const int short_in = std::min(width, height), long_in = std::max(width, height);
  // Python's shorter * long / short: the product is exact in double (< 2^53) and IEEE division
  // rounds correctly, like Python's int / int. Then int() truncates, round() is half to even
  // (std::nearbyint in the default rounding mode).
  const double exact = static_cast<double>(static_cast<int64_t>(shorter) * long_in) / short_in;
  const double new_long =
      rounding == GeometryRounding::kTorchvision ? std::trunc(exact) : std::nearbyint(exact);
  if (new_long > static_cast<double>(kMaxImagePixels)) {
    throw Error(ErrorCode::kInvalidArgument, "resized_size_keep_aspect: aspect ratio too extreme");
  }
  const int long_out = static_cast<int>(new_long);
  return width <= height ? Size2D{shorter, long_out} : Size2D{long_out, shorter};
}

int preprocess_crop_offset(int size, int crop, GeometryRounding rounding) {
  if (rounding == GeometryRounding::kTorchvision || crop > size) return center_crop_offset(size, crop);
  return (size - crop) / 2;
}

Image preprocess(const Image& image, const PreprocessConfig& config) {
  check_image(image, "preprocess");
  const int scale_size = preprocess_scale_size(config);
  const int side = config.input_size;
  if (image.width == side && image.height == side) return image;

  const Size2D resized =
      resized_size_keep_aspect(image.width, image.height, scale_size, config.rounding);
  const int left = preprocess_crop_offset(resized.width, side, config.rounding);
  const int top = preprocess_crop_offset(resized.height, side, config.rounding);
  if (left >= 0 && top >= 0) {
    // The crop lies inside the resized image: resample only the pixels it keeps.
    return resize_window(image, resized.width, resized.height, config.filter, left, top, side, side);
  }
  // crop_pct > 1: part of the crop is zero padding (torchvision CenterCrop pads with 0). Resample
  // only the part of the crop inside the resized image (a 1×54227 GIF would otherwise resize to
  // millions of pixels that the crop throws away), then pad.
  const int x0 = std::max(left, 0), x1 = std::min(left + side, resized.width);
  const int y0 = std::max(top, 0), y1 = std::min(top + side, resized.height);
  if (x0 >= x1 || y0 >= y1) return crop_window(Image{1, 1, {0, 0, 0}}, side, side, side, side);
  const Image inside = resize_window(image, resized.width, resized.height, config.filter, x0, y0, x1 - x0, y1 - y0);
  return crop_window(inside, left - x0, top - y0, side, side);
}

}  // namespace intvit
