// Loading a timm Swin checkpoint into SwinWeightsF32 (models/swin_fp32.h).
#include <string>

#include "engine/swin_windows.h"
#include "kernels/error.h"
#include "models/safetensors.h"
#include "models/swin_fp32.h"

namespace intvit {
namespace {

using namespace fp32;

// A relative_position_index buffer saved with the weights must be the one we compute.
void check_saved_index(const SafeTensorsFile& f, const std::string& name, int ws) {
  const TensorView* t = f.find(name);
  if (!t) return;
  const std::vector<int32_t> want = swin_relative_position_index(ws);
  const int64_t n = static_cast<int64_t>(ws) * ws;
  if (t->shape != std::vector<int64_t>{n, n}) {
    throw Error(ErrorCode::kInvalidArgument, "tensor '" + name + "' has the wrong shape for window " +
                                                 std::to_string(ws));
  }
  std::vector<int64_t> got;
  if (t->dtype == DType::kI64) {
    got = t->copy_as<int64_t>();
  } else {
    for (int32_t v : t->copy_as<int32_t>()) got.push_back(v);
  }
  for (size_t i = 0; i < want.size(); ++i) {
    if (got[i] != want[i]) {
      throw Error(ErrorCode::kInvalidArgument, "tensor '" + name + "' differs from timm's relative position index");
    }
  }
}

SwinBlockF32 read_block(const SafeTensorsFile& f, const std::string& b, int dim, int heads, int hidden, int ws) {
  SwinBlockF32 blk;
  blk.norm1 = read_norm(f, b + ".norm1", dim);
  blk.qkv = read_linear(f, b + ".attn.qkv", dim, 3 * dim);
  blk.relative_position_bias_table =
      read_tensor(f, b + ".attn.relative_position_bias_table", {(2 * ws - 1) * (2 * ws - 1), heads});
  check_saved_index(f, b + ".attn.relative_position_index", ws);
  blk.proj = read_linear(f, b + ".attn.proj", dim, dim);
  blk.norm2 = read_norm(f, b + ".norm2", dim);
  blk.fc1 = read_linear(f, b + ".mlp.fc1", dim, hidden);
  blk.fc2 = read_linear(f, b + ".mlp.fc2", hidden, dim);
  return blk;
}

}  // namespace

SwinWeightsF32 load_swin_weights_f32(const SafeTensorsFile& f, const SwinConfig& cfg) {
  cfg.validate();
  SwinWeightsF32 m;
  m.config = cfg;
  const int d = cfg.embed_dim, p = cfg.patch_size;
  m.patch_embed.in = cfg.in_channels * p * p;
  m.patch_embed.out = d;
  m.patch_embed.weight = read_tensor(f, "patch_embed.proj.weight", {d, cfg.in_channels, p, p});
  m.patch_embed.bias = read_tensor(f, "patch_embed.proj.bias", {d});
  m.patch_norm = read_norm(f, "patch_embed.norm", d);
  // timm < 0.9 keeps the merge at the end of the previous stage; only it has layers.0.downsample.
  const bool merge_at_stage_end = f.find("layers.0.downsample.norm.weight") != nullptr;
  for (int s = 0; s < cfg.num_stages(); ++s) {
    SwinStageF32 stage;
    const int dim = cfg.stage_dim(s);
    if (s > 0) {
      const int in = 4 * cfg.stage_dim(s - 1);
      const std::string ds = "layers." + std::to_string(merge_at_stage_end ? s - 1 : s) + ".downsample";
      stage.merge_norm = read_norm(f, ds + ".norm", in);
      stage.merge_reduction = read_linear(f, ds + ".reduction", in, dim, /*has_bias=*/false);
    }
    for (int j = 0; j < cfg.depths[s]; ++j) {
      const std::string b = "layers." + std::to_string(s) + ".blocks." + std::to_string(j);
      stage.blocks.push_back(read_block(f, b, dim, cfg.num_heads[s], cfg.mlp_hidden(s), cfg.stage_window(s)));
    }
    m.stages.push_back(std::move(stage));
  }
  const int features = cfg.num_features();
  m.norm = read_norm(f, "norm", features);
  const bool head_fc = f.find("head.fc.weight") != nullptr;
  m.head = read_linear(f, head_fc ? "head.fc" : "head", features, cfg.num_classes);
  return m;
}

SwinWeightsF32 load_swin_f32(const std::filesystem::path& model_path) {
  const CheckpointFiles files = checkpoint_files(model_path);
  const SwinConfig cfg = load_swin_config(files.config);
  const SafeTensorsFile file = SafeTensorsFile::open(files.weights);
  return load_swin_weights_f32(file, cfg);
}

}  // namespace intvit
