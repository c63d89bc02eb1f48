#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/cli/progress.h"
#include "engine/dataset.h"
#include "engine/model.h"
#include "kernels/backend/backend.h"
#include "weights/fp32_comparison.h"
#include "weights/int_model_file.h"

namespace intvit::cli {
namespace {

constexpr const char* kHelp =
    "usage: intvit eval --model DIR --images DIR|FILE [--labels CSV|IDX] [--fp32 FP32_DIR] [--limit N] [--report] [--json]\n"
    "\n"
    "Top-1 / top-5 accuracy of a model on labelled images, and top-1 agreement with an FP32 model.\n"
    "  --model DIR      model to evaluate (integer model.intvit if present, else FP32)\n"
    "  --images DIR     image folder (with --labels), a .safetensors with pixels + class_index,\n"
    "                   or an uncompressed IDX images file (MNIST / Fashion-MNIST layout)\n"
    "  --labels CSV     columns file,class_index[,...] (as ../shared/data/imagenet-sample/labels.csv),\n"
    "                   or an IDX labels file beside an IDX images file\n"
    "  --fp32 DIR       FP32 model to compare predictions with (agreement)\n"
    "  --limit N        evaluate the first N images only\n"
    "  --report         per-layer SQNR (dB) of every integer activation against FP32 (needs --fp32)\n"
    "  --json           one JSON object with the figures and per-image predictions\n";

int argmax(const std::vector<double>& v) { return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()); }

bool in_top5(const std::vector<double>& v, int label) {
  int higher = 0;
  for (size_t c = 0; c < v.size(); ++c) higher += v[c] > v[label] || (v[c] == v[label] && static_cast<int>(c) < label);
  return higher < 5;
}

// Per-layer SQNR table (integer model vs --fp32 on the same images): where accuracy is lost.
std::vector<LayerSqnr> sqnr_report(const Args& args, const std::vector<LabeledImage>& images) {
  if (!args.has("fp32")) throw UsageError("--report needs --fp32");
  const ViTWeightsF32 fp32 = load_vit_f32(args.get("fp32"));
  IntViT model = load_int_model(args.get("model"));
  const GemmIsa isa = resolve_backend("");
  model.prepare(isa);
  Images pixels;
  pixels.reserve(images.size());
  for (const LabeledImage& im : images) pixels.push_back(im.pixels);
  return layer_sqnr(fp32, model, isa, pixels, progress_bar("per-layer SQNR"));
}

}  // namespace

int run_eval(int argc, char** argv) {
  const Args args = parse_args(argc, argv, 2, {"model", "images", "labels", "fp32", "limit"}, {"help", "json", "report"});
  if (args.has("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (!args.has("model") || !args.has("images")) throw UsageError("--model and --images are required");
  const auto model = load_model(args.get("model"));
  std::unique_ptr<Model> fp32;
  if (args.has("fp32")) fp32 = load_model(args.get("fp32"), /*prefer_fp32=*/true);
  const int limit = static_cast<int>(args.get_int("limit", 0, 0, 10000000));
  const auto images = load_dataset(args.get("images"), args.get("labels"), model->config(), limit, progress_bar("loading"));
  int top1 = 0, top5 = 0, labelled = 0, agree = 0, fp32_top1 = 0;
  nlohmann::json per_image = nlohmann::json::array();
  auto progress = progress_bar("evaluating");
  for (size_t i = 0; i < images.size(); ++i) {
    const LabeledImage& im = images[i];
    const std::vector<double> logits = model->logits(im.pixels.data());
    const int pred = argmax(logits);
    nlohmann::json row = {{"image", im.name}, {"predicted", pred}, {"label", im.label}};
    if (im.label >= 0 && im.label < static_cast<int>(logits.size())) {
      ++labelled;
      top1 += pred == im.label;
      top5 += in_top5(logits, im.label);
    }
    if (fp32) {
      const int ref = argmax(fp32->logits(im.pixels.data()));
      agree += ref == pred;
      fp32_top1 += im.label >= 0 && ref == im.label;
      row["fp32_predicted"] = ref;
    }
    per_image.push_back(row);
    progress(static_cast<int>(i + 1), static_cast<int>(images.size()));
  }
  const double n = static_cast<double>(images.size());
  nlohmann::json result = {{"model", model->source().string()}, {"precision", model->precision()},
                           {"images", images.size()}, {"labelled", labelled}};
  if (labelled) {
    result["top1"] = 100.0 * top1 / labelled;
    result["top1_correct"] = top1;
    result["top5"] = 100.0 * top5 / labelled;
  }
  if (fp32) {
    result["fp32_agreement"] = 100.0 * agree / n;
    result["fp32_agreement_count"] = agree;
  }
  if (fp32 && labelled) {
    result["fp32_top1"] = 100.0 * fp32_top1 / labelled;
    result["fp32_top1_correct"] = fp32_top1;
  }
  std::vector<LayerSqnr> layers;
  if (args.has("report")) {
    if (model->precision() == "fp32") throw UsageError("--report compares an integer model with --fp32");
    layers = sqnr_report(args, images);
    nlohmann::json rows = nlohmann::json::array();
    for (const LayerSqnr& l : layers) {
      rows.push_back({{"name", l.name}, {"bits", l.bits}, {"sqnr_db", std::isfinite(l.sqnr_db) ? l.sqnr_db : 999.0}});
    }
    result["layers"] = rows;
  }
  if (args.has("json")) {
    result["per_image"] = per_image;
    std::printf("%s\n", result.dump().c_str());
    return 0;
  }
  std::printf("model:      %s (%s)\nimages:     %zu\n", model->source().c_str(), model->precision().c_str(), images.size());
  if (labelled) std::printf("top-1:      %.2f %%\ntop-5:      %.2f %%\n", 100.0 * top1 / labelled, 100.0 * top5 / labelled);
  if (fp32 && labelled) std::printf("FP32 top-1: %.2f %%\n", 100.0 * fp32_top1 / labelled);
  if (fp32) std::printf("agreement:  %.2f %% top-1 agreement with FP32 %s\n", 100.0 * agree / n, fp32->source().c_str());
  if (!layers.empty()) {
    std::printf("\n%-28s %5s %10s\n", "activation", "bits", "SQNR dB");
    for (const LayerSqnr& l : layers) std::printf("%-28s %5d %10.2f\n", l.name.c_str(), l.bits, l.sqnr_db);
  }
  return 0;
}

}  // namespace intvit::cli
