#include <cstdio>
#include <string>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "weights/int_model_file.h"
#include "weights/int_model_upgrade.h"

namespace intvit::cli {
namespace {

constexpr const char* kHelp =
    "usage: intvit upgrade OLD_DIR|FILE -o NEW_DIR\n"
    "\n"
    "Rewrites an integer model file of an older format version as the current one (weights/FORMAT.md):\n"
    "version 1 stored LayerNorm gamma/beta and scales, from which every load rebuilt the softmax / GELU /\n"
    "LayerNorm tables in floating point; version 2 stores those tables and multipliers as integers.\n"
    "The upgraded model computes the same logits bit for bit as this build's quantizer would have.\n"
    "  -o, --output DIR   output folder (model.intvit, labels.txt, config.json)\n";

}  // namespace

int run_upgrade(int argc, char** argv) {
  const Args args = parse_args(argc, argv, 2, {"output"}, {"help"});
  if (args.has("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (args.positionals.size() != 1 || !args.has("output")) throw UsageError("expects one OLD model and -o NEW_DIR");
  const int from = upgrade_int_model(args.positionals[0], args.get("output"));
  std::printf("wrote %s (format version %d, read version %d)\n", args.get("output").c_str(), kIntModelFormatVersion, from);
  return 0;
}

}  // namespace intvit::cli
