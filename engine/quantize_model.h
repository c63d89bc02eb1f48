// The whole `intvit quantize` pipeline as one library call (load FP32, calibrate, optional
// LayerNorm reparameterization / wide-block search / bias correction, quantize, save), shared by
// the CLI and the Python package so both give the same file for the same options.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "weights/calibration.h"
#include "weights/quantizer.h"

namespace intvit {

// How the 16-bit MLP blocks are chosen (the CLI's --wide-blocks).
enum class WideBlocksChoice { kAuto, kSearch, kNone, kList };

struct QuantizeModelOptions {
  std::filesystem::path fp32_model;  // folder with config.json + model.safetensors (or the file)
  std::filesystem::path calib;       // image folder, or .safetensors with `pixels` [N,H,W,3]
  std::filesystem::path output;      // output folder (model.intvit is written there)
  int calib_count = 100;             // first N calibration images
  ObserverKind observer = ObserverKind::kMinMax;
  QuantizeOptions quantize;          // softmax, gelu, attn_bits, log2_renormalize
  WideBlocksChoice wide = WideBlocksChoice::kAuto;
  std::vector<int> wide_blocks;      // kList only
  bool bias_correction = false;
  bool ln_reparam = false;
};

// The CLI's default attention bits for a softmax mode: 8 with log2, else 16.
int default_attn_bits(SoftmaxMode softmax);

// Throws Error(kInvalidArgument) for a bad option or combination, before anything is read.
void check_quantize_model_options(const QuantizeModelOptions& options);

// Throws Error(kInvalidArgument) for a wide_blocks index past the model's last block (WideBlocksChoice::kList),
// from its config.json alone (quantize_model checks it before loading the weights). A config.json that
// cannot be read or parsed is left to the loader's error.
void check_wide_blocks_in_config(const QuantizeModelOptions& options);

struct QuantizeModelResult {
  std::filesystem::path model_file;  // output / model.intvit
  int calib_images = 0;
  std::vector<std::string> skipped;  // calibration files not read or decoded: one message each, naming the file
  std::string report;                // QuantizeReport::to_string()
};

// stage is "loading", "calibrating", "recalibrating" or "bias corr."; log gets the wide-block
// search's lines; warn gets, as it happens, each calibration file skipped because it could not be
// read or decoded (the next file is taken instead: load_calibration_images, engine/dataset.h). Any
// may be empty. An Error(kInvalidArgument) when no calibration image decodes.
using QuantizeProgress = std::function<void(const std::string& stage, int done, int total)>;
using QuantizeLog = std::function<void(const std::string& line)>;

QuantizeModelResult quantize_model(const QuantizeModelOptions& options, const QuantizeProgress& progress = {},
                                   const QuantizeLog& log = {}, const QuantizeLog& warn = {});

}  // namespace intvit
