// libFuzzer target: image decoding (models/image.h) and eval preprocessing to 32×32
// (models/preprocess.h). The preprocessing variant (filter, geometry rounding, crop_pct, including
// crop_pct > 1, the zero-padding path) is picked from the input length, so every input still
// decodes exactly as the file it is.
// The stb_image 2.27 hazards this target found (DHT code-count overflow, undefined Huffman tables,
// huge PNG chunk lengths) are refused by models/image_container.cc before stb_image runs; the
// inputs are in tests/corpus/image (see its manifest.txt).
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_common.h"
#include "models/image.h"
#include "models/preprocess.h"

namespace {

constexpr int kSide = 32;

intvit::PreprocessConfig config_for(size_t size) {
  static constexpr double kCropPcts[] = {0.875, 0.9, 1.0, 1.25};
  intvit::PreprocessConfig config;
  config.input_size = kSide;
  config.filter = (size & 1) ? intvit::ResizeFilter::kBilinear : intvit::ResizeFilter::kBicubic;
  config.rounding = (size & 2) ? intvit::GeometryRounding::kNearestSizeFloorOffset : intvit::GeometryRounding::kTorchvision;
  config.crop_pct = kCropPcts[(size >> 2) & 3];
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  intvit::fuzz::expect_clean([&] {
    const intvit::Image image = intvit::decode_image_memory(std::span<const uint8_t>(data, size), "fuzz input");
    INTVIT_FUZZ_ASSERT(image.width > 0 && image.height > 0);
    INTVIT_FUZZ_ASSERT(static_cast<int64_t>(image.width) * image.height <= intvit::kMaxImagePixels);
    INTVIT_FUZZ_ASSERT(image.rgb.size() == static_cast<size_t>(image.width) * image.height * 3);
    const intvit::Image out = intvit::preprocess(image, config_for(size));
    INTVIT_FUZZ_ASSERT(out.width == kSide && out.height == kSide && out.rgb.size() == size_t{kSide} * kSide * 3);
  });
  return 0;
}
