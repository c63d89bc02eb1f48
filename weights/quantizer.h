// Post-training quantization: FP32 ViT + calibration ranges -> IntViT (offline, float allowed).
#pragma once

#include <string>
#include <vector>

#include "engine/int_vit.h"
#include "models/vit_fp32.h"
#include "weights/calibration.h"

namespace intvit {

struct QuantizeOptions {
  // Defaults: exact-table softmax with 16-bit probabilities (ViT-Ti, 500 shared images: 97.6 %
  // top-1 agreement vs 95.6 % with iexp/8-bit; QUANTIZATION.md §4.10).
  SoftmaxMode softmax = SoftmaxMode::kLut;
  // Softmax output bits: 8, 4 (log2 softmax only) or 16 (not log2: probabilities at 2^-15,
  // attn@v with a 16-bit operand — ~7 % of ViT-Ti's MACs, counted in wide_mac_share).
  int attn_bits = 16;
  // log2 softmax only: divide each attn@v row by its quantized weight sum (QUANTIZATION.md Eq. 24;
  // ViT-Ti, 4-bit codes: 92.0 -> 95.8 % agreement). Off = FQ-ViT's plain shifts.
  bool log2_renormalize = true;
  GeluMode gelu = GeluMode::kLut;
  // Blocks whose GELU input AND output (the fc2 input) run in 16 bits. Empty + auto_wide: chosen
  // from the calibration ranges (blocks whose GELU input range is far above the others').
  std::vector<int> wide_blocks;
  bool auto_wide = true;
  double auto_wide_ratio = 4.0;   // promote a block when its GELU-input |max| > ratio × median
};

struct QuantizeReport {
  int clamped_zero_points = 0;    // Eq. 2 clamps (ranges that did not contain 0)
  std::vector<int> wide_blocks;
  int attn_bits = 8;
  double wide_mac_share = 0;      // share of MACs with a 16-bit operand
  std::vector<std::string> notes;
  std::string to_string() const;
};

// The range-ratio choice: blocks whose GELU-input |max| exceeds ratio × the median block's.
std::vector<int> choose_wide_blocks(const CalibrationStats& stats, const ViTConfig& c, double ratio);

// Throws Error(kInvalidArgument) for option combinations quantize_vit rejects (4-bit attention
// without log2, 16-bit with log2, other bit counts): callers check before calibrating.
void check_quantize_options(const QuantizeOptions& options);

// Throws Error(kInvalidArgument) for a wide-block index outside [0, depth): callers check before
// calibrating, once the model's depth is known.
void check_wide_blocks(const std::vector<int>& wide_blocks, const ViTConfig& c);

IntViT quantize_vit(const ViTWeightsF32& model, const CalibrationStats& stats, const QuantizeOptions& options,
                    QuantizeReport* report = nullptr);

// Multiply-accumulates of one image, total and with a 16-bit activation operand.
struct MacCount {
  double total = 0, wide = 0;
};
MacCount count_macs(const ViTConfig& c, const std::vector<int>& wide_blocks, int attn_bits = 8);

}  // namespace intvit
