#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/model.h"
#include "models/image.h"
#include "engine/dataset.h"
#include "kernels/error.h"
#include "models/image.h"

namespace intvit::cli {
namespace {

constexpr const char* kHelp =
    "usage: intvit classify [--model DIR|FILE] [--top K] [--json] IMAGE...\n"
    "\n"
    "Prints, per image, the top-K classes with probability and label.\n"
    "  --model DIR|FILE  model folder or file (default: $INTVIT_MODEL or the shipped Fashion-MNIST ViT)\n"
    "  --top K           number of classes to print (default 5)\n"
    "  --fp32            use the FP32 reference model even if an integer model is present\n"
    "  --json            one JSON object per image, one per line\n";

}  // namespace

std::filesystem::path default_model_path() {
  if (const char* env = std::getenv("INTVIT_MODEL"); env && *env) return env;
  return INTVIT_DEFAULT_MODEL_DIR;
}

int run_classify(int argc, char** argv) {
  const Args args = parse_args(argc, argv, 2, {"model", "top"}, {"json", "help", "fp32"});
  if (args.has("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (args.positionals.empty()) throw UsageError("no image given (intvit classify --help)");
  const int top = static_cast<int>(args.get_int("top", 5, 1, 100000));
  const auto model = load_model(args.has("model") ? std::filesystem::path(args.get("model")) : default_model_path(),
                                args.has("fp32"));
  const PreprocessConfig pre = preprocess_config_for(model->config());
  int failures = 0;
  for (const std::string& path : args.positionals) {
    try {
      const Image input = preprocess(decode_image_file(path), pre);
      const auto preds = top_k(model->logits(input.rgb.data()), model->labels(), top);
      if (args.has("json")) {
        nlohmann::json j = {{"image", path}, {"model", model->source().string()}, {"precision", model->precision()}};
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
    } catch (const Error& e) {
      std::fprintf(stderr, "intvit classify: error: %s\n", e.what());
      ++failures;
    }
  }
  return failures ? 1 : 0;
}

}  // namespace intvit::cli
