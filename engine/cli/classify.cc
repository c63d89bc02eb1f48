#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/cli/image_runner.h"
#include "engine/dataset.h"
#include "kernels/error.h"
#include "engine/image_files.h"
#include "engine/model.h"
#include "models/image.h"

namespace intvit::cli {
namespace {

constexpr const char* kHelp =
    "usage: intvit classify [--model DIR|FILE] [--fp32] [--top K] [--json] [--threads N] [--batch N] IMAGE|DIR...\n"
    "\n"
    "Prints, per image, the top-K classes with probability and label, in input order. A folder\n"
    "stands for every file under it, recursively, whose extension is .jpg .jpeg .png .bmp .gif .ppm\n"
    "or .pgm (any case; PGM/PPM binary), sorted by path. An image that cannot be read or decoded is\n"
    "reported on stderr and skipped; the exit status is then 1. The speed (images/s) is printed on stderr.\n"
    "  --model DIR|FILE  model folder or file (default: $INTVIT_MODEL or the shipped Fashion-MNIST ViT)\n"
    "  --top K           number of classes to print (default 5)\n"
    "  --fp32            use the FP32 reference model even if an integer model is present (an error if\n"
    "                    the model folder or file has none)\n"
    "  --json            one JSON object per image, one per line, in input order; an image that cannot be\n"
    "                    read or decoded gives {\"image\": PATH, \"error\": MESSAGE} (as eval's \"failed\")\n";

// The positionals with every folder replaced by its image files. A folder without any is an error
// (reported, counted, skipped) like an unreadable image.
std::vector<std::string> expand_inputs(const std::vector<std::string>& positionals, int& failures) {
  std::vector<std::string> files;
  for (const std::string& p : positionals) {
    std::error_code ec;
    if (!std::filesystem::is_directory(p, ec)) {
      files.push_back(p);
      continue;
    }
    try {
      const std::vector<std::filesystem::path> found = list_image_files(p);
      if (found.empty()) throw Error(ErrorCode::kInvalidArgument, "no image files in folder " + p);
      for (const std::filesystem::path& f : found) files.push_back(f.string());
    } catch (const Error& e) {
      std::fprintf(stderr, "intvit classify: error: %s\n", e.what());
      ++failures;
    }
  }
  return files;
}

}  // namespace

std::filesystem::path default_model_path() {
  if (const char* env = std::getenv("INTVIT_MODEL"); env && *env) return env;
  return INTVIT_DEFAULT_MODEL_DIR;
}

std::shared_ptr<const Model> load_fp32_model(const std::filesystem::path& path) {
  std::shared_ptr<const Model> model = load_model(path, /*prefer_fp32=*/true);
  if (model->precision() != "fp32") {
    throw Error(ErrorCode::kInvalidArgument,
                "--fp32: " + path.string() + " holds no FP32 model (config.json + model.safetensors), only an integer one");
  }
  return model;
}

int run_classify(int argc, char** argv) {
  const Args args = parse_args(argc, argv, 2, {"model", "top", "threads", "batch"}, {"json", "help", "fp32"});
  if (args.has("help")) {
    std::fputs(kHelp, stdout);
    std::fputs(kRunOptionsHelp, stdout);
    return 0;
  }
  if (args.positionals.empty()) throw UsageError("no image given (intvit classify --help)");
  const int top = static_cast<int>(args.get_int("top", 5, 1, 100000));
  const RunOptions options = run_options(args);
  const std::filesystem::path model_path = args.has("model") ? std::filesystem::path(args.get("model")) : default_model_path();
  const std::shared_ptr<const Model> model = args.has("fp32") ? load_fp32_model(model_path) : load_model(model_path);
  const PreprocessConfig pre = preprocess_config_for(model->config());
  const size_t input_bytes = static_cast<size_t>(model->config().image_size) * model->config().image_size * 3;
  int failures = 0;
  const std::vector<std::string> files = expand_inputs(args.positionals, failures);
  const bool json = args.has("json");
  const std::string source = model->source().string(), precision = model->precision();

  const auto load = [&](size_t i, uint8_t* out) {
    const Image input = preprocess(decode_image_file(files[i]), pre);
    if (input.rgb.size() != input_bytes) throw Error(ErrorCode::kInternal, "preprocess returned a wrong size");
    std::memcpy(out, input.rgb.data(), input.rgb.size());
  };
  const auto print = [&](size_t i, const uint8_t*, const std::vector<double>& logits, const std::string& error) {
    const std::string& path = files[i];
    if (!error.empty()) {
      std::fflush(stdout);  // keep stdout and stderr in input order on a terminal
      std::fprintf(stderr, "intvit classify: error: %s\n", error.c_str());
      if (json) std::printf("%s\n", nlohmann::json({{"image", path}, {"error", error}}).dump().c_str());
      return;
    }
    const auto preds = top_k(logits, model->labels(), top);
    if (json) {
      nlohmann::json j = {{"image", path}, {"model", source}, {"precision", precision}};
      for (const Prediction& p : preds) {
        j["top"].push_back({{"class", p.class_index}, {"probability", p.probability}, {"label", p.label}});
      }
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("%s:\n", path.c_str());
      for (const Prediction& p : preds) {
        std::printf("  %6.2f%%  %4d  %s\n", 100.0 * p.probability, p.class_index, p.label.c_str());
      }
    }
  };
  const RunStats stats = run_images(model, files.size(), load, options, print);
  std::fflush(stdout);
  print_speed("classify", stats, options);
  return failures || stats.failed ? 1 : 0;
}

}  // namespace intvit::cli
