// The Swin side of intvit-bench model (bench/model_bench.cc): --arch swin_tiny (timm's
// swin_tiny_patch4_window7_224 geometry, seeded random weights quantized in-process) and the MACs
// per op of a Swin, for --arch swin_tiny and for --model on an integer Swin folder.
#pragma once

#include <array>
#include <filesystem>
#include <optional>

#include "engine/op_profile.h"
#include "engine/swin_config.h"
#include "weights/quantizer.h"

namespace intvit::bench {

inline constexpr const char* kSwinArch = "swin_tiny";
SwinConfig swin_arch_config();  // swin_tiny_patch4_window7_224, 1000 classes

// The Swin config of a model folder or file (config.json beside it), if it is a Swin.
std::optional<SwinConfig> swin_config_of(const std::filesystem::path& model);

struct SwinBuildTimes {
  double init = 0, calib = 0, quant = 0, save = 0;
};
// Random weights (weight_seed), calibrated on `images` random inputs (calib_seed), quantized with
// the default options and saved into dir.
SwinBuildTimes build_random_swin(const SwinConfig& c, unsigned weight_seed, unsigned calib_seed, int images,
                                 const std::filesystem::path& dir, QuantizeReport* report);

// Multiply-accumulates of one image per OpKind: patch embed; linears (q/k/v, proj, MLP, patch
// merging, head); q@kᵀ and attn@v (T·ws²·C per block each).
std::array<double, static_cast<size_t>(OpKind::kCount)> swin_macs_per_op(const SwinConfig& c);

}  // namespace intvit::bench
