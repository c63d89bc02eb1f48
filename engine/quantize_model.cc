#include "engine/quantize_model.h"

#include <optional>
#include <system_error>

#include <nlohmann/json.hpp>

#include "engine/dataset.h"
#include "engine/swin_config.h"
#include "kernels/error.h"

#include "models/swin_fp32.h"
#include "models/vit_fp32.h"
#include "weights/swin_quantizer.h"
#include "weights/bias_correction.h"
#include "weights/int_model_file.h"
#include "weights/layernorm_reparam.h"
#include "weights/wide_block_search.h"

namespace intvit {
namespace {

std::function<void(int, int)> stage_progress(const QuantizeProgress& progress, const char* stage) {
  if (!progress) return {};
  return [&progress, stage](int done, int total) { progress(stage, done, total); };
}

// The calibration images; each skipped file goes to warn and into skipped.
std::vector<LabeledImage> calibration_images(const QuantizeModelOptions& options, const ViTConfig& config,
                                             const QuantizeProgress& progress, const QuantizeLog& warn,
                                             std::vector<std::string>& skipped) {
  return load_calibration_images(options.calib, config, options.calib_count, stage_progress(progress, "loading"),
                                 [&](const std::string& message) {
                                   skipped.push_back(message);
                                   if (warn) warn(message);
                                 });
}

// The Swin pipeline: load, calibrate through swin_forward_f32, quantize_swin, save. The ViT-only
// steps (LayerNorm reparameterization, 16-bit block search or list, bias correction) are refused.
QuantizeModelResult quantize_swin_model(const QuantizeModelOptions& options, const QuantizeProgress& progress,
                                        const QuantizeLog& warn) {
  if (options.ln_reparam || options.bias_correction || options.wide == WideBlocksChoice::kSearch) {
    throw Error(ErrorCode::kInvalidArgument,
                "Swin models support neither LayerNorm reparameterization, bias correction nor the 16-bit block search (--wide-blocks auto|none|LIST)");
  }
  QuantizeOptions opt = options.quantize;
  opt.auto_wide = options.wide == WideBlocksChoice::kAuto;
  if (options.wide == WideBlocksChoice::kList) opt.wide_blocks = options.wide_blocks;
  const SwinWeightsF32 fp32 = load_swin_f32(options.fp32_model);
  std::vector<std::string> skipped;
  const auto images = calibration_images(options, swin_model_view(fp32.config), progress, warn, skipped);
  std::vector<std::vector<uint8_t>> pixels;
  for (const auto& im : images) pixels.push_back(im.pixels);
  const CalibrationStats stats = calibrate(fp32, pixels, options.observer, stage_progress(progress, "calibrating"));
  QuantizeReport report;
  IntSwin model = quantize_swin(fp32, stats, opt, &report);
  const std::filesystem::path& dir = options.fp32_model;
  model.labels = load_labels(std::filesystem::is_directory(dir) ? dir : dir.parent_path(), fp32.config.num_classes);
  save_int_model(model, options.output);
  return {options.output / kIntModelFileName, stats.images, skipped, report.to_string()};
}

}  // namespace

int default_attn_bits(SoftmaxMode softmax) { return softmax == SoftmaxMode::kLog2 ? 8 : 16; }

void check_quantize_model_options(const QuantizeModelOptions& o) {
  if (o.calib_count < 1 || o.calib_count > 100000) {
    throw Error(ErrorCode::kInvalidArgument,
                "calib_count must be in [1, 100000], got " + std::to_string(o.calib_count));
  }
  if (o.wide != WideBlocksChoice::kList && !o.wide_blocks.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "a list of wide blocks needs WideBlocksChoice::kList");
  }
  check_quantize_options(o.quantize);
  // Before the slow part: writing into an existing file failed only after calibration.
  std::error_code ec;
  if (std::filesystem::exists(o.output, ec) && !std::filesystem::is_directory(o.output, ec)) {
    throw Error(ErrorCode::kInvalidArgument, "output " + o.output.string() + " exists and is not a folder");
  }
}

void check_wide_blocks_in_config(const QuantizeModelOptions& o) {
  if (o.wide != WideBlocksChoice::kList) return;
  std::optional<SwinConfig> swin;
  std::optional<ViTConfig> vit;
  try {
    const nlohmann::json j = read_config_json(fp32::checkpoint_files(o.fp32_model).config);
    if (is_swin_config(j)) {
      swin = parse_swin_config(j);
    } else {
      vit = parse_vit_config(j);
    }
  } catch (const std::exception&) {
    return;  // left to the loader's error
  }
  if (swin) {
    check_swin_wide_blocks(o.wide_blocks, *swin);
  } else {
    check_wide_blocks(o.wide_blocks, *vit);
  }
}

QuantizeModelResult quantize_model(const QuantizeModelOptions& options, const QuantizeProgress& progress,
                                   const QuantizeLog& log, const QuantizeLog& warn) {
  check_quantize_model_options(options);
  check_wide_blocks_in_config(options);  // before minutes of loading and calibrating
  if (config_file_is_swin(fp32::checkpoint_files(options.fp32_model).config)) return quantize_swin_model(options, progress, warn);
  QuantizeOptions opt = options.quantize;
  opt.auto_wide = options.wide == WideBlocksChoice::kAuto || options.wide == WideBlocksChoice::kSearch;
  if (options.wide == WideBlocksChoice::kList) opt.wide_blocks = options.wide_blocks;

  ViTWeightsF32 fp32 = load_vit_f32(options.fp32_model);
  std::vector<std::string> skipped;
  const auto images = calibration_images(options, fp32.config, progress, warn, skipped);
  std::vector<std::vector<uint8_t>> pixels;
  for (const auto& im : images) pixels.push_back(im.pixels);
  CalibrationStats stats = calibrate(fp32, pixels, options.observer, stage_progress(progress, "calibrating"));
  if (options.ln_reparam) {
    // Equalize the LayerNorm output channels (weights/layernorm_reparam.h), then calibrate the
    // equivalent model again: only its LayerNorm output ranges differ.
    fp32 = reparameterize_layernorms(fp32, stats);
    stats = calibrate(fp32, pixels, options.observer, stage_progress(progress, "recalibrating"));
  }
  QuantizeReport report;
  if (options.wide == WideBlocksChoice::kSearch) {
    if (log) log("searching the 16-bit MLP blocks on the " + std::to_string(pixels.size()) + " calibration images");
    opt.wide_blocks = search_wide_blocks(fp32, stats, opt, pixels, WideSearchOptions{}, nullptr,
                                         [&log](const std::string& line) {
                                           if (log) log("  " + line);
                                         });
    opt.auto_wide = false;
  }
  IntViT model = quantize_vit(fp32, stats, opt, &report);
  if (options.bias_correction) correct_biases(model, stats, pixels, stage_progress(progress, "bias corr."));
  const std::filesystem::path& dir = options.fp32_model;
  model.labels = load_labels(std::filesystem::is_directory(dir) ? dir : dir.parent_path(), fp32.config.num_classes);
  save_int_model(model, options.output);
  return {options.output / kIntModelFileName, stats.images, skipped, report.to_string()};
}

}  // namespace intvit
