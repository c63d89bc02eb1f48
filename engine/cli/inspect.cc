#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/graph.h"
#include "engine/int_vit.h"
#include "engine/swin_config.h"
#include "engine/vit_config.h"
#include "engine/vit_graph.h"
#include "kernels/error.h"
#include "kernels/gemm/gemm.h"
#include "weights/int_model_file.h"
#include "weights/int_model_reader.h"
#include "models/safetensors.h"

namespace intvit::cli {
namespace {

constexpr const char* kHelp =
    "usage: intvit inspect [--json] MODEL\n"
    "       intvit inspect --graph MODEL\n"
    "\n"
    "Prints a model's configuration, tensor count, parameter count and file size.\n"
    "MODEL is a model folder (config.json + model.intvit or model.safetensors; model.intvit, the\n"
    "integer model the engine runs, when both are there) or an .intvit or .safetensors file.\n"
    "--graph prints the inference graph instead, one line per node, grouped into segments, and the\n"
    "planned arena size for one thread: the integer graph when MODEL holds model.intvit (or is an\n"
    ".intvit file), else the FP32 graph of its config.json. ViT/DeiT models only (not Swin).\n";

std::string describe(const TensorDesc& t) {
  return t.name + " " + elem_type_name(t.dtype) + "[" + std::to_string(t.rows) + "x" + std::to_string(t.cols) + "]";
}

void print_graph(const Graph& g, const char* precision) {
  const std::vector<Segment> segments = derive_segments(g);
  const MemoryPlan plan = plan_memory(g, segments, 1);
  size_t meetings = 0;
  for (const Segment& s : segments) meetings += s.rows > 1;
  std::printf("%s graph: %zu nodes, %zu tensors, %zu segments (%zu thread-pool meetings per image)\n", precision, g.nodes.size(),
              g.tensors.size(), segments.size(), meetings);
  for (size_t si = 0; si < segments.size(); ++si) {
    const Segment& s = segments[si];
    std::printf("segment %zu: %s, %zu rows\n", si, s.kind == SegmentKind::kAttention ? "attention (head x row-block tasks)" : "row-wise", s.rows);
    for (int i = s.begin; i < s.end; ++i) {
      const Node& n = g.nodes[i];
      std::string in;
      for (int id : n.inputs) {
        if (!in.empty()) in += ", ";
        in += describe(g.tensors[id]);
      }
      const TensorDesc& out = g.tensors[n.outputs[0]];
      std::string where = out.kind == Lifetime::kOutput ? "output" : out.kind == Lifetime::kScratch ? "scratch @" : out.alias >= 0 ? "aliased @" : "@";
      if (plan.offset[n.outputs[0]] != kNotPlanned) where += std::to_string(plan.offset[n.outputs[0]]);
      std::printf("  %4d %-12s %-22s %s -> %s (scale %.4g, zp %d) %s\n", i, op_name(n.op), n.name.c_str(), in.empty() ? "-" : in.c_str(),
                  describe(out).c_str(), out.scale, out.zero_point, where.c_str());
    }
  }
  std::printf("arena: %zu bytes for 1 thread (one buffer per tensor: %zu bytes)\n", plan.bytes, unplanned_bytes(g, 1));
}

}  // namespace

int run_inspect(int argc, char** argv) {
  const Args args = parse_args(argc, argv, 2, {}, {"help", "json", "graph"});
  if (args.has("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (args.positionals.size() != 1) throw UsageError("expects exactly one MODEL (intvit inspect --help)");
  const std::filesystem::path path = args.positionals[0];
  const bool is_dir = std::filesystem::is_directory(path);
  const std::filesystem::path dir = is_dir ? path : path.parent_path();
  // The file the engine loads from MODEL (engine/model.h): a folder's model.intvit when it has one.
  const bool integer = is_dir ? std::filesystem::exists(dir / kIntModelFileName) : path.extension() == ".intvit";
  if (args.has("graph")) {
    // The graph builders are ViT/DeiT only (engine/vit_graph.h): a Swin is named as such, not
    // reported as a ViT config or file it fails to parse.
    const auto no_swin = [](const std::string& what) {
      throw Error(ErrorCode::kUnsupported, "--graph supports ViT/DeiT models only; " + what);
    };
    if (integer) {
      const std::filesystem::path file = is_dir ? dir / kIntModelFileName : path;
      if (is_int_swin_model(SafeTensorsFile::open(file))) no_swin(file.string() + " is an integer Swin model");
      print_graph(build_int_vit_graph(load_int_model(path)), "integer");
    } else {
      const std::filesystem::path config = dir / "config.json";
      if (config_file_is_swin(config)) {
        no_swin(config.string() + " describes a Swin (" + load_swin_config(config).architecture + ")");
      }
      print_graph(build_vit_graph(load_vit_config(config), GraphPrecision::kFp32), "FP32");
    }
    return 0;
  }
  const std::filesystem::path weights = !is_dir ? path : integer ? dir / kIntModelFileName : dir / "model.safetensors";
  if (is_dir && !std::filesystem::exists(weights)) {
    throw Error(ErrorCode::kIo, "no model in folder " + dir.string() + ": it holds neither " + kIntModelFileName +
                                    " nor model.safetensors");
  }
  const SafeTensorsFile file = SafeTensorsFile::open(weights);
  int64_t params = 0;
  for (const TensorView& t : file.tensors()) params += t.numel();
  nlohmann::json j = {{"weights", weights.string()},
                      {"file_size", file.file_size()},
                      {"tensors", file.tensors().size()},
                      {"parameters", params},
                      {"integer", integer},
                      {"metadata", file.metadata()}};
  if (std::filesystem::exists(dir / "config.json")) {
    std::ifstream in(dir / "config.json");
    const nlohmann::json cfg = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    j["config"] = is_swin_config(cfg) ? swin_config_to_json(load_swin_config(dir / "config.json"))
                                      : vit_config_to_json(load_vit_config(dir / "config.json"));
  }
  // The GEMM backend this machine runs by default, and why AMX is not among them when it is not.
  const char* backend = gemm_isa_name(best_native_gemm_isa());
  j["gemm_backend"] = backend;
  j["amx"] = amx_usable() ? "available" : amx_unavailable_reason();
  if (args.has("json")) {
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("weights:    %s (%s)\n", weights.c_str(), integer ? "integer" : "FP32");
  std::printf("file size:  %zu bytes (%.2f MB)\n", file.file_size(), file.file_size() / 1e6);
  std::printf("tensors:    %zu\n", file.tensors().size());
  std::printf("parameters: %lld\n", static_cast<long long>(params));
  std::printf("backend:    %s on this machine (amx: %s)\n", backend, amx_usable() ? "available" : amx_unavailable_reason());
  if (j.contains("config")) std::printf("config:\n%s\n", j["config"].dump(2).c_str());
  return 0;
}

}  // namespace intvit::cli
