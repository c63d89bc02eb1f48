// Sensitivity search for the 16-bit MLP blocks (offline): starting from the range-ratio choice,
// greedily promotes the block whose 16-bit GELU pair lowers the output KL divergence against FP32
// the most on the calibration images, while the MAC budget allows and each step still helps.
// Output KL, not top-1 agreement, ranks candidates: on ~100 images agreement moves in 1 % steps
// and single-image flips are mostly noise.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "weights/fp32_comparison.h"
#include "weights/quantizer.h"

namespace intvit {

struct WideSearchOptions {
  double max_wide_mac_share = 0.10;  // share of MACs with a 16-bit operand, at most
  double min_kl_gain = 0.05;         // a step must cut the KL by at least this fraction
};

struct WideSearchStep {
  std::vector<int> wide_blocks;
  OutputAgreement on_calibration;
};

// Returns the chosen blocks; `steps` (if given) records the accepted steps for the report.
std::vector<int> search_wide_blocks(const ViTWeightsF32& fp32, const CalibrationStats& stats, QuantizeOptions options,
                                    const Images& images, const WideSearchOptions& search,
                                    std::vector<WideSearchStep>* steps = nullptr,
                                    const std::function<void(const std::string&)>& log = {});

}  // namespace intvit
