// Loading an integer Swin model file (weights/FORMAT.md, "Swin"): the ViT's layer records through
// ModelReader (weights/int_model_reader.h) plus the Swin-only fields, every one range-checked.
// Integer only — derives nothing in floating point (tests/no_float scans this object).
#include <algorithm>
#include <string>

#include "weights/int_model_file.h"
#include "weights/int_model_reader.h"
#include "weights/nonlinear_params_reader.h"

namespace intvit {
namespace {

// Eq. 7 multiplier / shift pair: Q31 in [2^30, 2^31) or 0, right shift in [-31, 31].
int32_t read_multiplier(const GraphJson& g, const char* key) {
  const int64_t m = g.integer(key, 0, INT32_MAX, "graph");
  check_model(m == 0 || m >= (1 << 30), std::string(key) + " outside [2^30, 2^31)");
  return static_cast<int32_t>(m);
}

void check_s32_output(const QLinear& l, const std::string& name) {
  check_model(l.out_type == GemmOut::kS32 && !l.accumulate && l.input.bits == 8, name + " must read u8 and write s32 without accumulating");
}

IntSwin parse_swin(const SafeTensorsFile& file) {
  const bool v1 = check_int_model_header(file, /*allow_v1=*/true);
  check_model(is_int_swin_model(file), "not a Swin model");
  // The ViT's version-1 message names `intvit upgrade`, which refuses Swin files: Swin files began
  // with version 2, so a Swin file claiming version 1 was not written by intvit.
  if (v1) {
    throw Error(ErrorCode::kUnsupported, file.source() + " is an integer Swin model of format version 1, which does not exist "
                                             "(integer Swin files began with version " + std::to_string(kIntModelFormatVersion) +
                                             "; `intvit upgrade` rewrites ViT/DeiT files only): quantize the FP32 Swin again "
                                             "with `intvit quantize`");
  }
  const GraphJson g = read_int_model_graph(file);
  IntSwin m;
  m.config = g.swin_config("config");
  const SwinConfig& c = m.config;
  read_attention_modes(g, m.softmax_mode, m.gelu_mode, m.attn_bits, m.log2_renormalize);
  m.logit_scale = g.scale("logit_scale", "graph");
  if (g.contains("labels")) m.labels = g.strings("labels");
  const GraphJson desc = g.at("tensors");
  ModelReader r{file, desc, false};

  const int p = c.patch_size, d0 = c.embed_dim;
  m.patch_embed = r.linear("patch_embed", 3 * p * p, d0);
  check_s32_output(m.patch_embed, "patch_embed");
  check_model(m.patch_embed.input.zero_point == 0, "patch_embed must read raw pixels (zero-point 0)");
  m.patch_embed_scale = g.scale("patch_embed_scale", "graph");
  m.patch_norm = r.norm("patch_norm", d0);
  check_model(m.patch_norm.out.bits == 16, "patch_norm must write int16");
  m.patch_norm_multiplier = read_multiplier(g, "patch_norm_multiplier");
  m.patch_norm_shift = static_cast<int32_t>(g.integer("patch_norm_shift", -31, 31, "graph"));

  const GraphJson stages = g.at("stages");
  check_model(stages.is_array() && stages.size() == static_cast<size_t>(c.num_stages()), "stages must have one entry per stage");
  for (int s = 0; s < c.num_stages(); ++s) {
    const std::string stage = "layers." + std::to_string(s);
    const GraphJson sj = stages.at(static_cast<size_t>(s));
    QSwinStage st;
    st.residual_scale = sj.scale("residual_scale", stage);
    const int d = c.stage_dim(s);
    if (s > 0) {
      st.merge_norm = r.norm(stage + ".downsample.norm", 4 * c.stage_dim(s - 1));
      st.merge_reduction = r.linear(stage + ".downsample.reduction", 4 * c.stage_dim(s - 1), d);
      check_s32_output(st.merge_reduction, stage + ".downsample.reduction");
      check_model(st.merge_norm.out.bits == 8 && st.merge_reduction.input.zero_point == st.merge_norm.out.zero_point,
                  stage + ".downsample: the reduction must read the norm's u8 output");
    }
    const GraphJson blocks = sj.at("blocks");
    check_model(blocks.is_array() && blocks.size() == static_cast<size_t>(c.depths[s]), stage + ": blocks must have depth entries");
    const int64_t heads = c.num_heads[s], n = static_cast<int64_t>(c.stage_window(s)) * c.stage_window(s);
    for (int j = 0; j < c.depths[s]; ++j) {
      const std::string name = stage + ".blocks." + std::to_string(j);
      QSwinBlock b;
      b.attn_mlp = r.block(blocks.at(static_cast<size_t>(j)), name, d, c.mlp_hidden(s), m.softmax_mode, m.attn_bits, m.log2_renormalize,
                           m.gelu_mode);
      b.attn_bias = read_model_tensor<int32_t>(file, name + ".attn_bias", {heads, n, n});
      check_model(std::all_of(b.attn_bias.begin(), b.attn_bias.end(), [](int32_t v) { return v >= -kSwinMaxBias && v <= kSwinMaxBias; }),
                  name + ".attn_bias: a value outside [-2^28, 2^28]");
      st.blocks.push_back(std::move(b));
    }
    m.stages.push_back(std::move(st));
  }
  const int f = c.num_features();
  m.norm = r.norm("norm", f);
  check_model(m.norm.out.bits == 8, "norm must write u8");
  m.pooled = read_act(g.at("pooled"), "pooled");
  check_model(m.pooled.bits == 8, "pooled must be u8");
  m.pool_multiplier = read_multiplier(g, "pool_multiplier");
  m.pool_shift = static_cast<int32_t>(g.integer("pool_shift", -31, 31, "graph"));
  m.head = r.linear("head", f, c.num_classes);
  check_s32_output(m.head, "head");
  check_model(m.head.input.zero_point == m.pooled.zero_point, "head must read the pooled u8 output");
  m.labels = complete_labels(std::move(m.labels), c.num_classes);
  return m;
}

}  // namespace

IntSwin read_int_swin_model(const SafeTensorsFile& file) {
  try {
    return parse_swin(file);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kInvalidArgument) corrupt_model(e.what());  // a bad name inside the file
    throw;
  }
}

IntSwin load_int_swin_model(const std::filesystem::path& path) {
  const std::filesystem::path file = std::filesystem::is_directory(path) ? path / kIntModelFileName : path;
  return read_int_swin_model(SafeTensorsFile::open(file));
}

}  // namespace intvit
