#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/cli/image_runner.h"
#include "engine/cli/progress.h"
#include "engine/dataset.h"
#include "kernels/error.h"
#include "engine/model.h"
#include "kernels/backend/backend.h"
#include "engine/session.h"
#include "models/image.h"
#include "kernels/gemm/gemm.h"
#include "weights/fp32_comparison.h"
#include "weights/int_model_file.h"
#include "weights/int_model_reader.h"

namespace intvit::cli {
namespace {

constexpr const char* kHelp =
    "usage: intvit eval --model DIR --images DIR|FILE [--labels CSV|IDX] [--fp32 FP32_DIR] [--limit N] [--report] [--json]\n"
    "                  [--threads N] [--batch N]\n"
    "\n"
    "Top-1 / top-5 accuracy of a model on labelled images, and top-1 agreement with an FP32 model.\n"
    "  --model DIR      model to evaluate (integer model.intvit if present, else FP32)\n"
    "  --images DIR     image folder (with --labels; without, every image file under it, recursively),\n"
    "                   a .safetensors with pixels + class_index,\n"
    "                   or an uncompressed IDX images file (MNIST / Fashion-MNIST layout)\n"
    "  --labels CSV     columns file,class_index[,...] (as ../shared/data/imagenet-sample/labels.csv),\n"
    "                   or an IDX labels file beside an IDX images file (a .safetensors holds its own:\n"
    "                   class_index); without labels no accuracy is computed, and a note says so; a label\n"
    "                   outside the model's classes counts nowhere, and a note counts them\n"
    "  --fp32 DIR       FP32 model to compare predictions with (agreement)\n"
    "  --limit N        evaluate the first N images only\n"
    "  --report         per-layer SQNR (dB) of every integer activation against FP32 (needs --fp32)\n"
    "  --json           one JSON object with the figures and per-image predictions\n"
    "An image that cannot be read or decoded is reported on stderr, left out of the figures and listed\n"
    "under \"failed\" in --json; the exit status is then 1. Options for speed:\n";

int argmax(const std::vector<double>& v) { return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()); }

bool in_top5(const std::vector<double>& v, int label) {
  int higher = 0;
  for (size_t c = 0; c < v.size(); ++c) higher += v[c] > v[label] || (v[c] == v[label] && static_cast<int>(c) < label);
  return higher < 5;
}

// Per-layer SQNR table (integer model vs --fp32 on the same images): where accuracy is lost.
std::vector<LayerSqnr> sqnr_report(const Args& args, const Images& pixels) {
  if (!args.has("fp32")) throw UsageError("--report needs --fp32");
  const GemmIsa isa = resolve_backend("");
  const std::filesystem::path model_path = args.get("model");
  const SafeTensorsFile file = SafeTensorsFile::open(std::filesystem::is_directory(model_path) ? model_path / kIntModelFileName : model_path);
  if (is_int_swin_model(file)) {
    const SwinWeightsF32 fp32 = load_swin_f32(args.get("fp32"));
    IntSwin model = read_int_swin_model(file);
    model.prepare(isa);
    return layer_sqnr(fp32, model, isa, pixels, progress_bar("per-layer SQNR"));
  }
  const ViTWeightsF32 fp32 = load_vit_f32(args.get("fp32"));
  IntViT model = read_int_model(file);
  model.prepare(isa);
  return layer_sqnr(fp32, model, isa, pixels, progress_bar("per-layer SQNR"));
}

// Why no accuracy is printed: the images came without labels. One line on stderr naming the option.
void print_no_labels_note(const std::filesystem::path& images, bool folder) {
  std::string how;
  if (folder) {
    how = "pass --labels CSV, columns file,class_index[,...]";
    std::error_code ec;
    if (std::filesystem::is_regular_file(images / "labels.csv", ec)) {
      how += "; " + (images / "labels.csv").string() + " is read only when named: --labels " + (images / "labels.csv").string();
    }
  } else if (images.extension() == ".safetensors") {
    how = images.string() + " holds no class_index tensor";
  } else {
    how = "pass the IDX labels file: --labels FILE";
  }
  std::fflush(stdout);
  std::fprintf(stderr, "intvit eval: note: no labels, so no accuracy (top-1 / top-5) is computed (%s)\n", how.c_str());
}

// Why the accuracy covers fewer images than were evaluated, or none, although labels were given: a
// label outside the model's classes counts nowhere (an ImageNet CSV for a 10-class model). One line
// on stderr saying how many images had a label.
void print_labels_note(size_t evaluated, int labelled, int outside, int num_classes) {
  const std::string classes = "the model's classes [0, " + std::to_string(num_classes) + ")";
  std::string line;
  if (!labelled) {
    line = "no accuracy (top-1 / top-5) is computed: no image has a label in " + classes + " (images with a label: " +
           std::to_string(outside) + " of " + std::to_string(evaluated) + ")";
  } else {
    line = "top-1 / top-5 cover " + std::to_string(labelled) + " of " + std::to_string(evaluated) + " images, leaving out " +
           std::to_string(outside) + " with a label outside " + classes;
  }
  std::fflush(stdout);
  std::fprintf(stderr, "intvit eval: note: %s\n", line.c_str());
}

}  // namespace

int run_eval(int argc, char** argv) {
  const Args args = parse_args(argc, argv, 2, {"model", "images", "labels", "fp32", "limit", "threads", "batch"},
                               {"help", "json", "report"});
  if (args.has("help")) {
    std::fputs(kHelp, stdout);
    std::fputs(kRunOptionsHelp, stdout);
    return 0;
  }
  if (!args.has("model") || !args.has("images")) throw UsageError("--model and --images are required");
  if (args.has("labels") && std::filesystem::path(args.get("images")).extension() == ".safetensors") {
    throw UsageError("--labels is not read for a .safetensors dataset: its labels are its class_index tensor");
  }
  const RunOptions options = run_options(args);
  const std::shared_ptr<const Model> model = load_model(args.get("model"));
  if (args.has("report") && !args.has("fp32")) throw UsageError("--report needs --fp32");
  if (args.has("report") && model->precision() == "fp32") throw UsageError("--report compares an integer model with --fp32");
  std::unique_ptr<Session> fp32;
  if (args.has("fp32")) fp32 = create_session(load_fp32_model(args.get("fp32")));
  const int limit = static_cast<int>(args.get_int("limit", 0, 0, 10000000));

  // A folder streams: its images decode while the previous batch runs. Reference safetensors and
  // IDX files hold their pixels already and are read whole.
  const std::filesystem::path images_path = args.get("images");
  const bool folder = std::filesystem::is_directory(images_path);
  std::vector<LabeledFile> files;
  std::vector<LabeledImage> preloaded;
  if (folder) {
    files = list_folder_dataset(images_path, args.get("labels"), limit);
  } else {
    preloaded = load_dataset(images_path, args.get("labels"), model->config(), limit, progress_bar("loading"));
  }
  const size_t count = folder ? files.size() : preloaded.size();
  const PreprocessConfig pre = preprocess_config_for(model->config());
  const size_t input_bytes = static_cast<size_t>(model->config().image_size) * model->config().image_size * 3;
  const auto load = [&](size_t i, uint8_t* out) {
    if (!folder) {
      std::memcpy(out, preloaded[i].pixels.data(), input_bytes);
      return;
    }
    const Image input = preprocess(decode_image_file(files[i].path), pre);
    if (input.rgb.size() != input_bytes) throw Error(ErrorCode::kInternal, "preprocess returned a wrong size");
    std::memcpy(out, input.rgb.data(), input_bytes);
  };

  int top1 = 0, top5 = 0, labelled = 0, outside = 0, agree = 0, fp32_top1 = 0;
  size_t evaluated = 0;
  nlohmann::json per_image = nlohmann::json::array(), failed = nlohmann::json::array();
  Images report_pixels;  // --report: the evaluated images, for the per-layer pass
  std::vector<double> ref_logits(static_cast<size_t>(model->config().num_classes));
  auto progress = progress_bar("evaluating");
  const auto score = [&](size_t i, const uint8_t* pixels, const std::vector<double>& logits, const std::string& error) {
    const std::string& name = folder ? files[i].name : preloaded[i].name;
    const int label = folder ? files[i].label : preloaded[i].label;
    progress(static_cast<int>(i + 1), static_cast<int>(count));
    if (!error.empty()) {
      std::fprintf(stderr, "intvit eval: error: %s\n", error.c_str());
      failed.push_back({{"image", name}, {"error", error}});
      return;
    }
    ++evaluated;
    const int pred = argmax(logits);
    nlohmann::json row = {{"image", name}, {"predicted", pred}, {"label", label}};
    if (label >= 0 && label < static_cast<int>(logits.size())) {
      ++labelled;
      top1 += pred == label;
      top5 += in_top5(logits, label);
    } else if (label != -1) {  // -1: no label
      ++outside;
    }
    if (fp32) {
      fp32->run(pixels, ref_logits.data());
      const int ref = argmax(ref_logits);
      agree += ref == pred;
      fp32_top1 += label >= 0 && ref == label;
      row["fp32_predicted"] = ref;
    }
    if (args.has("report")) report_pixels.emplace_back(pixels, pixels + input_bytes);
    per_image.push_back(row);
  };
  const RunStats stats = run_images(model, count, load, options, score);
  print_speed("eval", stats, options);
  if (!labelled && !outside && evaluated && !args.has("labels")) {
    print_no_labels_note(images_path, folder);
  } else if (evaluated && (outside || !labelled)) {
    print_labels_note(evaluated, labelled, outside, model->config().num_classes);
  }

  const double n = static_cast<double>(evaluated);
  nlohmann::json result = {{"model", model->source().string()}, {"precision", model->precision()},
                           {"images", evaluated}, {"labelled", labelled}, {"failed", failed}};
  if (labelled) {
    result["top1"] = 100.0 * top1 / labelled;
    result["top1_correct"] = top1;
    result["top5"] = 100.0 * top5 / labelled;
  }
  if (fp32 && evaluated) {
    result["fp32_agreement"] = 100.0 * agree / n;
    result["fp32_agreement_count"] = agree;
  }
  if (fp32 && labelled) {
    result["fp32_top1"] = 100.0 * fp32_top1 / labelled;
    result["fp32_top1_correct"] = fp32_top1;
  }
  std::vector<LayerSqnr> layers;
  if (args.has("report") && !report_pixels.empty()) {
    layers = sqnr_report(args, report_pixels);
    nlohmann::json rows = nlohmann::json::array();
    for (const LayerSqnr& l : layers) {
      rows.push_back({{"name", l.name}, {"bits", l.bits}, {"sqnr_db", std::isfinite(l.sqnr_db) ? l.sqnr_db : 999.0}});
    }
    result["layers"] = rows;
  }
  const int status = failed.empty() ? 0 : 1;
  if (args.has("json")) {
    result["per_image"] = per_image;
    std::printf("%s\n", result.dump().c_str());
    return status;
  }
  std::printf("model:      %s (%s)\nimages:     %zu\n", model->source().c_str(), model->precision().c_str(), evaluated);
  if (!failed.empty()) std::printf("failed:     %zu (not decoded, see the errors above)\n", failed.size());
  if (labelled) std::printf("top-1:      %.2f %%\ntop-5:      %.2f %%\n", 100.0 * top1 / labelled, 100.0 * top5 / labelled);
  if (fp32 && labelled) std::printf("FP32 top-1: %.2f %%\n", 100.0 * fp32_top1 / labelled);
  if (fp32 && evaluated) {
    std::printf("agreement:  %.2f %% top-1 agreement with FP32 %s\n", 100.0 * agree / n, fp32->model().source().c_str());
  }
  if (!layers.empty()) {
    std::printf("\n%-28s %5s %10s\n", "activation", "bits", "SQNR dB");
    for (const LayerSqnr& l : layers) std::printf("%-28s %5d %10.2f\n", l.name.c_str(), l.bits, l.sqnr_db);
  }
  return status;
}

}  // namespace intvit::cli
