// The evaluation-time image policy: what the engine's uint8 RGB input is made from a photo.
#pragma once

#include "models/image.h"
#include "models/resize.h"

namespace intvit {

// How the resized longer side and the crop offsets are rounded. Two pipelines are in use; they
// differ by at most one pixel of resized size and one pixel of crop position.
enum class GeometryRounding {
  // torchvision Resize(int) + CenterCrop, as timm's eval transform uses them:
  // longer = int(s * long / short) (truncated), offset = round((size - crop) / 2) half to even.
  kTorchvision,
  // longer = round(s * long / short) (half to even), offset = (size - crop) // 2 (floor). This is
  // how the pixels of shared/models/vit_tiny_patch16_224/reference.safetensors were made (all 100
  // match PIL bit for bit this way; 46 of 100 with kTorchvision).
  kNearestSizeFloorOffset,
};

// timm's eval transform for a square model input: Resize(scale_size) with
// scale_size = floor(input_size / crop_pct), then CenterCrop(input_size).
struct PreprocessConfig {
  int input_size = 224;     // model input height = width
  double crop_pct = 0.875;  // fraction of the resized shorter side kept by the crop
  ResizeFilter filter = ResizeFilter::kBicubic;
  GeometryRounding rounding = GeometryRounding::kTorchvision;
};

// Shorter side after the resize: floor(input_size / crop_pct). Error(kInvalidArgument) for
// input_size <= 0, crop_pct not finite and > 0, or a result < 1.
int preprocess_scale_size(const PreprocessConfig& config);

struct Size2D {
  int width = 0, height = 0;
};

// Resize(int) output size for a width x height image: the shorter side becomes `shorter`, the
// longer side shorter * long / short, rounded as `rounding` says.
Size2D resized_size_keep_aspect(int width, int height, int shorter,
                                GeometryRounding rounding = GeometryRounding::kTorchvision);

// First source row/column of a centered crop of `crop` out of `size` (negative: zero padding
// before, (crop - size) // 2 as torchvision pads).
int preprocess_crop_offset(int size, int crop, GeometryRounding rounding);

// timm eval preprocessing: resize the shorter side to preprocess_scale_size(config) (aspect
// kept, PIL resampling with config.filter), then center crop input_size x input_size (zero
// padding if the resized image is smaller, i.e. crop_pct > 1). An image that is already
// input_size x input_size is returned unchanged (no resize).
// Output: uint8 RGB HWC, input_size x input_size — the engine's input.
Image preprocess(const Image& image, const PreprocessConfig& config);

}  // namespace intvit
