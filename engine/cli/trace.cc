// intvit trace: write the golden trace of one forward, or compare two traces (engine/trace.h).
#include <cmath>
#include <cstdio>
#include <string>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/swin_config.h"
#include "engine/dataset.h"
#include "engine/trace.h"
#include "engine/trace_compare.h"
#include "kernels/backend/backend.h"
#include "kernels/error.h"
#include "models/image.h"
#include "models/preprocess.h"
#include "models/safetensors.h"
#include "models/swin_fp32.h"
#include "models/vit_fp32.h"
#include "weights/int_model_file.h"
#include "weights/int_model_reader.h"

namespace intvit::cli {
namespace {

constexpr const char* kHelp =
    "usage: intvit trace [--model DIR|FILE] [--fp32] [--backend NAME] IMAGE -o TRACE.safetensors\n"
    "       intvit trace --compare A B\n"
    "\n"
    "Writes every tensor of one forward of IMAGE (decoded, resized and cropped as classify does) to\n"
    "a safetensors file, named by the integer graph's tensors (image, patch_embed.in, embed,\n"
    "blocks.N.norm1.out, .attn.q/.k/.v, .attn.logits (int32 q@k^T per head), .attn.probs (per head),\n"
    "... , logits) with dtype, scale and zero-point in its metadata (weights/FORMAT.md, \"Trace files\").\n"
    "A Swin (integer or FP32) is traced under timm's names: layers.S.blocks.J.norm1.out, .attn.q/.k/.v\n"
    "(window-major rows), .attn.qk / .attn.logits (int32 q@k^T, then + relative-position bias + shift\n"
    "mask) and .attn.probs as [windows*heads, N, N], ..., layers.S.downsample.*, norm.out, pool.out, logits.\n"
    "The integer trace is the same bits on every backend.\n"
    "  --model DIR|FILE  integer model (model.intvit, or its folder; default: $INTVIT_MODEL or the\n"
    "                    shipped Fashion-MNIST ViT); with --fp32 an FP32 folder (config.json +\n"
    "                    model.safetensors) or .safetensors file\n"
    "  --fp32            trace the FP32 reference forward (f32 tensors under the same names)\n"
    "  --backend NAME    ref|avx2|avxvnni|avx512vnni|onednn|amx|amx-emu (default: $INTVIT_ISA or the best)\n"
    "  -o, --output FILE the trace to write (required)\n"
    "  --compare A B     compare two traces: the first tensor (in trace order) that differs, how many\n"
    "                    elements differ and the largest |A-B| (integer units for integer tensors); with\n"
    "                    one FP32 trace, the SQNR in dB of every common tensor instead (the integer side\n"
    "                    dequantized as scale * (q - zero_point)).\n"
    "Exit status of --compare: 0 identical (or an SQNR report), 1 different, 2 usage or file errors.\n";

std::filesystem::path weights_file(const std::filesystem::path& model, bool fp32) {
  std::error_code ec;
  if (!std::filesystem::is_directory(model, ec)) return model;
  return model / (fp32 ? "model.safetensors" : kIntModelFileName);
}

// Whether an integer model file holds a Swin; unreadable files are left to the loader's errors.
bool is_int_swin_file(const std::filesystem::path& file) {
  try {
    return is_int_swin_model(SafeTensorsFile::open(file));
  } catch (const Error&) {
    return false;
  }
}

int write(const Args& args) {
  if (args.positionals.size() != 1) throw UsageError("trace needs exactly one IMAGE (intvit trace --help)");
  if (!args.has("output")) throw UsageError("trace needs -o TRACE.safetensors");
  const bool fp32 = args.has("fp32");
  const std::filesystem::path model = args.has("model") ? std::filesystem::path(args.get("model")) : default_model_path();
  const std::filesystem::path file = weights_file(model, fp32);
  if (!std::filesystem::exists(file)) {
    throw Error(ErrorCode::kIo, "model not found: " + file.string() + (fp32 ? "" : " (an FP32 model needs --fp32)"));
  }
  const std::filesystem::path image = args.positionals[0];
  Trace trace;
  if (fp32) {
    if (args.has("backend")) throw UsageError("--backend is for integer traces; the FP32 forward has one");
    if (config_file_is_swin(fp32::checkpoint_files(model).config)) {
      const SwinWeightsF32 w = load_swin_f32(model);
      const Image input = preprocess(decode_image_file(image), preprocess_config_for(swin_model_view(w.config)));
      trace = trace_fp32(w, input.rgb.data());
    } else {
      const ViTWeightsF32 w = load_vit_f32(model);
      const Image input = preprocess(decode_image_file(image), preprocess_config_for(w.config));
      trace = trace_fp32(w, input.rgb.data());
    }
    trace.backend = "fp32";
  } else {
    if (file.extension() == ".safetensors") throw Error(ErrorCode::kInvalidArgument, file.string() + " is an FP32 model: add --fp32");
    const GemmIsa isa = resolve_backend(args.get("backend"));
    if (is_int_swin_file(file)) {
      IntSwin m = load_int_swin_model(file);
      m.prepare(isa);
      const Image input = preprocess(decode_image_file(image), preprocess_config_for(swin_model_view(m.config)));
      trace = trace_int(m, kernel_set(isa), input.rgb.data());
    } else {
      IntViT m = load_int_model(file);
      m.prepare(isa);
      const Image input = preprocess(decode_image_file(image), preprocess_config_for(m.config));
      trace = trace_int(m, kernel_set(isa), input.rgb.data());
    }
    trace.backend = gemm_isa_name(isa);
  }
  trace.model = (std::filesystem::is_directory(model) ? std::filesystem::absolute(file).parent_path().filename() : file.filename()).string();
  trace.image = image.filename().string();
  trace.model_fnv1a64 = fnv1a64_file(file);
  write_trace(trace, args.get("output"));
  std::fprintf(stderr, "intvit trace: %zu tensors of %s on %s (%s) -> %s\n", trace.tensors.size(), trace.model.c_str(), trace.image.c_str(),
               trace.backend.c_str(), args.get("output").c_str());
  return 0;
}

std::string describe(const Trace& t) {
  return t.precision + " trace of " + t.model + " (" + t.model_fnv1a64 + ") on " + t.image + ", backend " + t.backend + ", " +
         std::to_string(t.tensors.size()) + " tensors";
}

void print_names(const char* side, const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::printf("only in %s (%zu):", side, names.size());
  for (const std::string& n : names) std::printf(" %s", n.c_str());
  std::printf("\n");
}

int compare(const Args& args) {
  if (args.positionals.size() != 2) throw UsageError("--compare needs two traces: intvit trace --compare A B");
  Trace a, b;
  try {
    a = read_trace(args.positionals[0]);
    b = read_trace(args.positionals[1]);
  } catch (const Error& e) {
    std::fprintf(stderr, "intvit trace: error: %s\n", e.what());
    return 2;
  }
  std::printf("A: %s\nB: %s\n", describe(a).c_str(), describe(b).c_str());
  const TraceComparison c = compare_traces(a, b);
  print_names("A", c.only_a);
  print_names("B", c.only_b);
  if (c.mixed) {
    std::printf("SQNR of the integer trace against the FP32 trace, %zu common tensors:\n", c.common);
    for (const TensorSqnr& s : c.sqnr) {
      if (!s.problem.empty()) {
        std::printf("  %-34s %s\n", s.name.c_str(), s.problem.c_str());
      } else {
        std::printf("  %-34s %8.2f dB\n", s.name.c_str(), s.db);
      }
    }
    return 0;
  }
  if (c.identical()) {
    std::printf("identical: %zu tensors\n", c.common);
    return 0;
  }
  if (!c.diffs.empty()) {
    const TensorDiff& d = c.diffs.front();
    const TraceTensor& t = *a.find(d.name);
    std::printf("first difference: %s (%s %s)", d.name.c_str(), t.op.c_str(), t.dtype.c_str());
    if (d.differing) std::printf(": %zu of %zu elements differ, max |A-B| = %.9g%s", d.differing, d.count, d.max_abs, t.dtype == "f32" ? "" : " (integer units)");
    if (!d.problem.empty()) std::printf("%s %s", d.differing ? ";" : ":", d.problem.c_str());
    std::printf("\n%zu of %zu common tensors differ\n", c.diffs.size(), c.common);
  } else {
    std::printf("the %zu common tensors are identical, but the traces hold different tensors\n", c.common);
  }
  return 1;
}

}  // namespace

int run_trace(int argc, char** argv) {
  const Args args = parse_args(argc, argv, 2, {"model", "backend", "output"}, {"fp32", "help", "compare"});
  if (args.has("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (args.has("compare")) {
    if (args.has("output") || args.has("model") || args.has("fp32") || args.has("backend")) {
      throw UsageError("--compare takes only two traces");
    }
    return compare(args);
  }
  return write(args);
}

}  // namespace intvit::cli
