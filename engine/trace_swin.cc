// Golden traces of the Swin Transformer (engine/trace.h): the integer forward's tensors in trace
// mode (int_swin_forward_traced) and the FP32 forward's (swin_forward_f32) under the same timm
// names. Offline. The Swin has no graph, so each tensor's op comes from its name (swin_op).
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include "engine/trace.h"
#include "engine/trace_tensors.h"
#include "kernels/error.h"
#include "models/swin_fp32.h"

namespace intvit {
namespace {

using namespace trace_detail;

// The op that writes a Swin tensor, by its name (FORMAT.md "Trace files", Swin). The residual
// stream is written by the accumulating linear in integers (Eq. 11) and by an add in FP32.
std::string swin_op(std::string_view name, bool integer) {
  struct Rule {
    const char* suffix;
    const char* op;
  };
  static constexpr Rule kRules[] = {
      {"patch_embed.in", "patch-gather"},       {"patch_embed.proj.out", "linear"},   {"patch_embed.norm.out", "layernorm"},
      {".downsample.norm.in", "patch-merge"},   {".downsample.norm.out", "layernorm"}, {".downsample.reduction.out", "linear"},
      {".norm1.out", "layernorm"},              {".norm2.out", "layernorm"},           {"norm.out", "layernorm"},
      {".attn.q", "linear"},                    {".attn.k", "linear"},                 {".attn.v", "linear"},
      {".attn.vt", "transpose"},                {".attn.qk", "qk"},                    {".attn.logits", "attention-bias"},
      {".attn.probs", "softmax"},               {".attn.acc", "av"},                   {".attn.proj.out", "linear"},
      {".mlp.fc1.out", "linear"},               {".mlp.gelu.out", "gelu"},             {".mlp.fc2.out", "linear"},
      {"pool.out", "average-pool"},             {"logits", "head"},
  };
  if (name == "image") return "input";
  if (name == "patch_embed.out") return integer ? "rescale" : "layernorm";
  if (name == "layers.0.blocks.0.norm1.in") return integer ? "rescale" : "layernorm";  // = patch_embed.out
  if (name.ends_with(".attn.out")) return integer ? "requantize" : "av";
  for (const Rule& r : kRules) {
    if (name.ends_with(r.suffix)) return r.op;
  }
  if (name.ends_with(".blocks.0.norm1.in")) return "linear";  // = the patch merging's reduction.out
  if (name.ends_with(".norm1.in") || name.ends_with(".norm2.in") || name.ends_with(".out") || name == "norm.in") {
    return integer ? "linear" : "add";
  }
  return "observed";
}

bool is_attention_tile(std::string_view name) {
  return name.ends_with(".attn.qk") || name.ends_with(".attn.logits") || name.ends_with(".attn.probs") || name.ends_with(".attn.acc");
}

// The block prefix of an attention tile's name ("layers.1.blocks.0.attn.qk" -> "layers.1.blocks.0").
std::string_view block_of(std::string_view name) { return name.substr(0, name.rfind(".attn.")); }

TraceTensor& add_image(Collector& out, int image_size, const uint8_t* pixels) {
  const auto side = static_cast<int64_t>(image_size);
  TraceTensor& image = out.add("image", {side, side * 3}, DType::kU8);
  image.op = "input";
  image.dtype = "u8";
  std::memcpy(image.bytes.data(), pixels, image.bytes.size());
  return image;
}

}  // namespace

Trace trace_int(const IntSwin& model, const KernelSet& kernels, const uint8_t* pixels) {
  SwinWorkspace ws(model);
  const SwinConfig& c = model.config;
  // Per block: how many (window, head) tiles, and the attn@v accumulators' real scale.
  struct BlockTiles {
    int64_t tiles;
    double acc_scale;
  };
  std::map<std::string, BlockTiles, std::less<>> blocks;
  for (int s = 0; s < c.num_stages(); ++s) {
    const int64_t windows = static_cast<int64_t>(c.stage_resolution(s) / c.stage_window(s)) * (c.stage_resolution(s) / c.stage_window(s));
    for (int j = 0; j < c.depths[static_cast<size_t>(s)]; ++j) {
      const QBlock& b = model.stages[static_cast<size_t>(s)].blocks[static_cast<size_t>(j)].attn_mlp;
      blocks["layers." + std::to_string(s) + ".blocks." + std::to_string(j)] = {windows * c.num_heads[static_cast<size_t>(s)], av_accumulator_scale(b)};
    }
  }
  Trace trace;
  trace.precision = "int";
  Collector out(trace);
  add_image(out, c.image_size, pixels);
  const IntActivationObserver observe = [&](std::string_view name, const IntActivation& a) {
    ElemType dt = a.type == GemmOut::kU8 ? ElemType::kU8 : a.type == GemmOut::kS16 ? ElemType::kS16 : ElemType::kS32;
    const bool probs = name.ends_with(".attn.probs");
    if (probs && dt == ElemType::kS16) dt = ElemType::kU16;  // 16-bit probabilities are u16 (int_swin.h)
    const auto rows = static_cast<int64_t>(a.rows), cols = static_cast<int64_t>(a.cols);
    TraceTensor* t = out.find(name);
    int64_t tiles = 0;
    if (a.head >= 0) {
      const auto b = is_attention_tile(name) ? blocks.find(block_of(name)) : blocks.end();
      if (b == blocks.end()) throw Error(ErrorCode::kInternal, "trace: unexpected tile of '" + std::string(name) + "'");
      tiles = b->second.tiles;
      if (!t) {
        t = &out.add(name, {tiles, rows, cols}, storage_of(dt));
        if (name.ends_with(".attn.acc")) t->scale = b->second.acc_scale;
      }
    } else {
      t = &out.add(name, {rows, cols}, storage_of(dt));
    }
    if (t->op.empty()) {
      t->op = swin_op(name, true);
      t->dtype = elem_type_name(dt);
      if (!name.ends_with(".attn.acc")) t->scale = a.scale;
      t->zero_point = a.zero_point;
      t->bits = probs ? model.attn_bits : static_cast<int>(8 * elem_bytes(dt));  // 4: log2 codes in u8
    }
    if (a.head >= tiles || (a.head >= 0 && (t->shape[1] != rows || t->shape[2] != cols))) {
      throw Error(ErrorCode::kInternal, "trace: tile of '" + std::string(name) + "' does not fit its tensor");
    }
    const size_t slot = a.head < 0 ? 0 : static_cast<size_t>(a.head) * a.rows * a.cols * dtype_size(t->storage);
    copy_rows(a, dt, t->bytes.data() + slot);
  };
  std::vector<int32_t> logits(static_cast<size_t>(c.num_classes));
  int_swin_forward_traced(model, kernels, pixels, ws, logits.data(), observe);
  return trace;
}

Trace trace_fp32(const SwinWeightsF32& model, const uint8_t* pixels) {
  Trace trace;
  trace.precision = "fp32";
  Collector out(trace);
  add_image(out, model.config.image_size, pixels);
  const ActivationObserver observe = [&](std::string_view name, const float* data, size_t rows, size_t cols) {
    // The attention's [windows·heads·N][N] rows as [windows·heads, N, N], like the integer tiles.
    const auto r = static_cast<int64_t>(rows), k = static_cast<int64_t>(cols);
    TraceTensor& t = out.add(name, is_attention_tile(name) ? std::vector<int64_t>{r / k, k, k} : std::vector<int64_t>{r, k}, DType::kF32);
    t.op = swin_op(name, false);
    t.dtype = "f32";
    t.bits = 32;
    std::memcpy(t.bytes.data(), data, t.bytes.size());
  };
  swin_forward_f32(model, pixels, observe);
  return trace;
}

}  // namespace intvit
