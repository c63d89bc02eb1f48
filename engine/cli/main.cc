// intvit command-line tool: classify, inspect (and quantize / eval once the integer engine lands).
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "kernels/error.h"

namespace {

constexpr const char* kUsage =
    "usage: intvit <command> [options]\n"
    "\n"
    "commands:\n"
    "  classify   print the top-K classes of images\n"
    "  inspect    print a model's configuration and size\n"
    "  quantize   calibrate an FP32 model and write an integer model\n"
    "  eval       top-1 / top-5 accuracy and agreement with FP32 on labelled images\n"
    "  trace      write every tensor of one forward (golden trace), or compare two traces\n"
    "  upgrade    rewrite an integer model file of an older format version as the current one\n"
    "\n"
    "Run 'intvit <command> --help' for the options of a command.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace intvit::cli;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  try {
    if (command == "classify") return run_classify(argc, argv);
    if (command == "inspect") return run_inspect(argc, argv);
    if (command == "eval") return run_eval(argc, argv);
    if (command == "quantize") return run_quantize(argc, argv);
    if (command == "trace") return run_trace(argc, argv);
    if (command == "upgrade") return run_upgrade(argc, argv);
    throw UsageError("unknown command '" + command + "' (try intvit --help)");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "intvit %s: %s\n", command.c_str(), e.what());
    return 2;
  } catch (const intvit::Error& e) {
    std::fprintf(stderr, "intvit %s: error: %s\n", command.c_str(), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "intvit %s: unexpected error: %s\n", command.c_str(), e.what());
    return 1;
  }
}
