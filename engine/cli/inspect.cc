#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "models/vit_config.h"
#include "weights/safetensors.h"

namespace intvit::cli {
namespace {

constexpr const char* kHelp =
    "usage: intvit inspect [--json] MODEL\n"
    "\n"
    "Prints a model's configuration, tensor count, parameter count and file size.\n"
    "MODEL is a model folder (config.json + model.safetensors) or a .safetensors file.\n";

}  // namespace

int run_inspect(int argc, char** argv) {
  const Args args = parse_args(argc, argv, 2, {}, {"help", "json"});
  if (args.has("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (args.positionals.size() != 1) throw UsageError("expects exactly one MODEL (intvit inspect --help)");
  const std::filesystem::path path = args.positionals[0];
  const bool is_dir = std::filesystem::is_directory(path);
  const std::filesystem::path dir = is_dir ? path : path.parent_path();
  const std::filesystem::path weights = is_dir ? dir / "model.safetensors" : path;
  const SafeTensorsFile file = SafeTensorsFile::open(weights);
  int64_t params = 0;
  for (const TensorView& t : file.tensors()) params += t.numel();
  nlohmann::json j = {{"weights", weights.string()},
                      {"file_size", file.file_size()},
                      {"tensors", file.tensors().size()},
                      {"parameters", params},
                      {"metadata", file.metadata()}};
  if (std::filesystem::exists(dir / "config.json")) j["config"] = vit_config_to_json(load_vit_config(dir / "config.json"));
  if (args.has("json")) {
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("weights:    %s\n", weights.c_str());
  std::printf("file size:  %zu bytes (%.2f MB)\n", file.file_size(), file.file_size() / 1e6);
  std::printf("tensors:    %zu\n", file.tensors().size());
  std::printf("parameters: %lld\n", static_cast<long long>(params));
  if (j.contains("config")) std::printf("config:\n%s\n", j["config"].dump(2).c_str());
  return 0;
}

}  // namespace intvit::cli
