#include <unistd.h>

#include <cstdio>
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/cli/progress.h"
#include "engine/quantize_model.h"
#include "kernels/error.h"

namespace intvit::cli {
namespace {

constexpr const char* kHelp =
    "usage: intvit quantize --model FP32_DIR --calib IMAGES [options] -o OUT_DIR\n"
    "\n"
    "Calibrates an FP32 ViT/DeiT on images and writes an integer model (weights/FORMAT.md).\n"
    "  --model DIR          FP32 model folder (config.json + model.safetensors)\n"
    "  --calib IMAGES       a folder of images, or a .safetensors with `pixels` [N,H,W,3]\n"
    "  --calib-count N      use the first N images (default 100); a file that cannot be read or decoded is\n"
    "                       skipped with a warning and the next one taken (an error only if none decodes)\n"
    "  --observer KIND      minmax (default) | auto (minmax, omse for GELU outputs) | ema | percentile | omse\n"
    "                       (8-bit tensors only; 16/32-bit keep min/max)\n"
    "  --softmax MODE       lut (default) | iexp | shiftmax | log2\n"
    "  --attn-bits 16|8|4   attention probability bits (default 16 with lut/iexp/shiftmax, 8 with log2;\n"
    "                       4 needs --softmax log2; 16: attn@v with 16-bit probabilities, ~7 % of ViT-Ti MACs)\n"
    "  --log2-renorm on|off log2 softmax: divide each attn@v row by its quantized weight sum (default on;\n"
    "                       off: FQ-ViT's plain shifts, whose row weights sum to 0.75..1.5)\n"
    "  --gelu MODE          lut (default) | igelu | shiftgelu\n"
    "  --wide-blocks LIST   blocks whose MLP hidden tensors run in 16 bits: auto (default), search, none, or e.g. 7,8\n"
    "                       auto: blocks whose GELU input range is > 4x the median block's; search: from auto,\n"
    "                       greedily add the block that most lowers the output KL vs FP32 on the calibration\n"
    "                       images, while <= 10 % of MACs have a 16-bit operand and each step cuts KL >= 5 %\n"
    "  --bias-correction on|off  empirical per-channel bias correction on the calibration images (default off: measured no gain on ViT-Ti)\n"
    "  --ln-reparam on|off  equalize LayerNorm output channels into the next linear layer (RepQ-ViT style;\n"
    "                       default off: raised q/k/v SQNR but not top-1 on ViT-Ti)\n"
    "  -o, --output DIR     output folder\n";

std::vector<int> parse_int_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    int v = -1;
    try {
      v = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < 0) {
      throw UsageError("--wide-blocks expects auto, search, none or a comma-separated list of block indices, got '" + s + "'");
    }
    out.push_back(v);
  }
  return out;
}

// --attn-bits: one message, naming the option and the three values, for any other value (5 reached
// check_quantize_options, whose message names no option; 17 said "an integer in [4, 16]").
int parse_attn_bits(const Args& args, SoftmaxMode softmax) {
  if (!args.has("attn-bits")) return default_attn_bits(softmax);
  const std::string v = args.get("attn-bits");
  if (v != "4" && v != "8" && v != "16") throw UsageError("--attn-bits expects 4, 8 or 16, got '" + v + "'");
  return std::stoi(v);
}

}  // namespace

int run_quantize(int argc, char** argv) {
  const Args args = parse_args(argc, argv, 2,
                               {"model", "calib", "calib-count", "observer", "softmax", "attn-bits", "gelu", "wide-blocks", "bias-correction", "ln-reparam", "log2-renorm", "output"},
                               {"help"});
  if (args.has("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (!args.has("model") || !args.has("calib") || !args.has("output")) throw UsageError("--model, --calib and -o are required");
  if (!args.positionals.empty()) throw UsageError("unexpected argument '" + args.positionals[0] + "'");
  // Every flag is checked before the slow part (loading, calibration), so a typo fails at once. A
  // bad value or combination is a usage error (exit 2) like every command's; the parsers and
  // check_quantize_options report it as Error(kInvalidArgument).
  QuantizeModelOptions o;
  o.fp32_model = args.get("model");
  o.calib = args.get("calib");
  o.output = args.get("output");
  try {
    o.quantize.softmax = parse_softmax_mode(args.get("softmax", "lut"));
    o.quantize.gelu = parse_gelu_mode(args.get("gelu", "lut"));
    o.observer = parse_observer_kind(args.get("observer", "minmax"));
    o.quantize.attn_bits = parse_attn_bits(args, o.quantize.softmax);
    check_quantize_options(o.quantize);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidArgument) throw;
    throw UsageError(e.what());
  }
  o.quantize.log2_renormalize = args.get_on_off("log2-renorm", true);
  o.ln_reparam = args.get_on_off("ln-reparam", false);
  o.bias_correction = args.get_on_off("bias-correction", false);
  const std::string wide = args.get("wide-blocks", "auto");
  if (wide == "none") {
    o.wide = WideBlocksChoice::kNone;
  } else if (wide == "search") {
    o.wide = WideBlocksChoice::kSearch;
  } else if (wide != "auto") {
    o.wide = WideBlocksChoice::kList;
    o.wide_blocks = parse_int_list(wide);
  }
  o.calib_count = static_cast<int>(args.get_int("calib-count", 100, 1, 100000));
  check_quantize_model_options(o);  // and the output path: not a file (exit 1)
  try {  // a --wide-blocks index past the model's last block, from its config.json: a bad option value
    check_wide_blocks_in_config(o);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidArgument) throw;
    throw UsageError(std::string("--wide-blocks: ") + e.what());
  }

  std::map<std::string, std::function<void(int, int)>> bars;
  const QuantizeModelResult r = quantize_model(
      o,
      [&bars](const std::string& stage, int done, int total) {
        auto it = bars.find(stage);
        if (it == bars.end()) it = bars.emplace(stage, progress_bar(stage)).first;
        it->second(done, total);
      },
      [](const std::string& line) {
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
      },
      [](const std::string& message) {
        // On a terminal the loading bar is drawn in place: the warning starts a line of its own.
        std::fprintf(stderr, "%sintvit quantize: warning: skipped calibration image: %s\n", isatty(fileno(stderr)) ? "\n" : "",
                     message.c_str());
      });
  std::printf("calibrated on %d images", r.calib_images);
  if (!r.skipped.empty()) std::printf(" (%zu skipped: could not be read or decoded, see the warnings)", r.skipped.size());
  std::printf("\n%swrote %s\n", r.report.c_str(), r.model_file.c_str());
  return 0;
}

}  // namespace intvit::cli
