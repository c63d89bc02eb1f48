#include "weights/swin_quantizer.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/error.h"
#include "kernels/quantized_multiplier.h"
#include "weights/quantize_layers.h"

namespace intvit {
namespace {

using namespace quantize_layers;

// Eq. 43 needs s_qk·2^30 beyond every softmax clamp (the largest: iexp's 30·ln2 ≈ 20.8).
constexpr double kMinScoresScale = 1.0 / (1 << 24);

void build_layernorm(QLayerNorm& n, const SwinConfig& c, double in_scale) {
  n.params = make_layernorm_params(n.gamma.data(), n.beta.data(), n.gamma.size(), c.layer_norm_eps, in_scale,
                                   /*alpha=*/nullptr, /*in_zero_point=*/0, n.out.scale, n.out.zero_point, n.out.bits);
}

// The stage's residual scale from every tensor of its int32 stream (kResidualMax units at the largest).
double stage_residual_scale(const SwinConfig& c, const CalibrationStats& stats, int s) {
  const std::string stage = "layers." + std::to_string(s);
  double mx = stats.at(s == 0 ? "patch_embed.out" : stage + ".downsample.reduction.out").full_abs_max();
  for (int j = 0; j < c.depths[s]; ++j) {
    for (const char* n : {".norm1.in", ".norm2.in"}) mx = std::max(mx, stats.at(stage + ".blocks." + std::to_string(j) + n).full_abs_max());
  }
  mx = std::max(mx, stats.at(s + 1 < c.num_stages() ? "layers." + std::to_string(s + 1) + ".downsample.norm.in" : "norm.in").full_abs_max());
  return std::max(mx, 1e-6) / kResidualMax;
}

QSwinBlock quantize_block(const SwinBlockF32& fb, const SwinConfig& c, const CalibrationStats& stats, const QuantizeOptions& opt,
                          int s, int j, double res_scale, bool wide, QuantizeReport& report) {
  const std::string name = "layers." + std::to_string(s) + ".blocks." + std::to_string(j);
  auto range = [&](const char* suffix) -> const TensorRange& { return stats.at(name + suffix); };
  const int d = c.stage_dim(s), hidden = c.mlp_hidden(s), heads = c.num_heads[s], ws = c.stage_window(s);
  QSwinBlock sb;
  QBlock& b = sb.attn_mlp;
  const ActQuant ln1 = uint8_quant(range(".norm1.out"), report);
  b.norm1 = describe_layernorm(fb.norm1, ln1);
  build_layernorm(b.norm1, c, res_scale);
  const ActQuant q = uint8_quant(range(".attn.q"), report), k = uint8_quant(range(".attn.k"), report),
                 v = uint8_quant(range(".attn.v"), report);
  quantize_qkv(b, fb.qkv, d, ln1, q, k, v, 1.0 / std::sqrt(static_cast<double>(c.head_dim(s))));
  if (b.scores_scale < kMinScoresScale) {
    throw Error(ErrorCode::kInvalidArgument, name + ": q@k^T scale " + std::to_string(b.scores_scale) +
                                                 " is below 2^-24, where the shifted-window mask (QUANTIZATION.md Eq. 43) is not exact");
  }
  b.softmax = make_softmax_params(opt.softmax, b.scores_scale, opt.attn_bits);
  b.softmax.renormalize = opt.softmax == SoftmaxMode::kLog2 && opt.log2_renormalize;
  quantize_attention_output(b, v, range(".attn.out"), fb.proj, d, res_scale, opt, report);
  // Eq. 42: the relative-position bias at the q@kᵀ accumulator scale, [heads][N][N].
  const std::vector<int32_t> index = swin_relative_position_index(ws);
  const size_t n = static_cast<size_t>(ws) * ws;
  sb.attn_bias.resize(static_cast<size_t>(heads) * n * n);
  int clamped = 0;
  for (int h = 0; h < heads; ++h) {
    for (size_t ij = 0; ij < n * n; ++ij) {
      const double real = fb.relative_position_bias_table[static_cast<size_t>(index[ij]) * heads + h];
      const double units = std::round(real / b.scores_scale);
      clamped += std::fabs(units) > kSwinMaxBias;
      sb.attn_bias[h * n * n + ij] = static_cast<int32_t>(std::clamp<double>(units, -kSwinMaxBias, kSwinMaxBias));
    }
  }
  if (clamped) report.notes.push_back(name + ": " + std::to_string(clamped) + " relative-position biases clamped to ±2^28 accumulator units");

  const ActQuant ln2 = uint8_quant(range(".norm2.out"), report);
  b.norm2 = describe_layernorm(fb.norm2, ln2);
  build_layernorm(b.norm2, c, res_scale);
  // A wide block runs GELU in and out (fc2's input) in 16 bits, as quantize_vit does.
  quantize_mlp(b, fb.fc1, fb.fc2, ln2, range(".mlp.fc1.out"), range(".mlp.gelu.out"), d, hidden, wide, res_scale, report);
  b.gelu = make_gelu_params(opt.gelu, b.gelu_in.scale, b.gelu_in.zero_point, b.gelu_out.scale, b.gelu_out.zero_point, b.gelu_in.bits);
  return sb;
}

std::string block_name(int s, int j) { return "layers." + std::to_string(s) + ".blocks." + std::to_string(j); }

}  // namespace

std::vector<int> choose_swin_wide_blocks(const CalibrationStats& stats, const SwinConfig& c, double ratio) {
  std::vector<double> amax;
  for (int s = 0; s < c.num_stages(); ++s) {
    for (int j = 0; j < c.depths[s]; ++j) amax.push_back(stats.at(block_name(s, j) + ".mlp.fc1.out").full_abs_max());
  }
  std::vector<double> sorted = amax;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
  const double median = sorted[sorted.size() / 2];
  std::vector<int> wide;
  for (size_t i = 0; i < amax.size(); ++i) {
    if (amax[i] > ratio * median) wide.push_back(static_cast<int>(i));
  }
  return wide;
}

void check_swin_wide_blocks(const std::vector<int>& wide_blocks, const SwinConfig& c) {
  int total_blocks = 0;
  for (int d : c.depths) total_blocks += d;
  for (int i : wide_blocks) {
    if (i < 0 || i >= total_blocks) {
      throw Error(ErrorCode::kInvalidArgument, "wide block index out of range: " + std::to_string(i) + " (the model has " +
                                                   std::to_string(total_blocks) + " blocks, numbered over all stages: 0 to " +
                                                   std::to_string(total_blocks - 1) + ")");
    }
  }
}

IntSwin quantize_swin(const SwinWeightsF32& f, const CalibrationStats& stats, const QuantizeOptions& opt, QuantizeReport* report_out) {
  const SwinConfig& c = f.config;
  check_quantize_options(opt);
  QuantizeReport report;
  report.wide_blocks = opt.wide_blocks;
  if (report.wide_blocks.empty() && opt.auto_wide) report.wide_blocks = choose_swin_wide_blocks(stats, c, opt.auto_wide_ratio);
  check_swin_wide_blocks(report.wide_blocks, c);
  IntSwin m;
  m.config = c;
  m.softmax_mode = opt.softmax;
  m.gelu_mode = opt.gelu;
  m.attn_bits = opt.attn_bits;
  m.log2_renormalize = opt.softmax == SoftmaxMode::kLog2 && opt.log2_renormalize;
  std::vector<double> res_scale;
  for (int s = 0; s < c.num_stages(); ++s) res_scale.push_back(stage_residual_scale(c, stats, s));

  // Patch embedding with the pixel normalisation folded in (shared with quantize_vit), to s32 at s_pe.
  m.patch_embed = quantize_patch_embed(f.patch_embed, c.embed_dim, c.patch_size, c.mean, c.std);
  m.patch_embed_scale = std::max(stats.at("patch_embed.proj.out").full_abs_max(), 1e-6) / kResidualMax;
  set_output(m.patch_embed, m.patch_embed_scale, 1.0, GemmOut::kS32, 0, kInt32Min, kInt32Max, false);
  // Eq. 45: the patch LayerNorm writes int16, rescaled into the stage-0 stream.
  const ActQuant pn = int16_quant(stats.at("patch_embed.out"), 32767.0);
  m.patch_norm = describe_layernorm(f.patch_norm, pn);
  build_layernorm(m.patch_norm, c, m.patch_embed_scale);
  const QuantizedMultiplier pm = quantize_multiplier(pn.scale / res_scale[0]);
  m.patch_norm_multiplier = pm.multiplier;
  m.patch_norm_shift = pm.shift;

  int block_index = 0;  // over all stages: the numbering of wide_blocks
  for (int s = 0; s < c.num_stages(); ++s) {
    const SwinStageF32& fs = f.stages[s];
    QSwinStage st;
    st.residual_scale = res_scale[s];
    if (s > 0) {
      const std::string name = "layers." + std::to_string(s) + ".downsample";
      const ActQuant ln = uint8_quant(stats.at(name + ".norm.out"), report);
      st.merge_norm = describe_layernorm(fs.merge_norm, ln);
      build_layernorm(st.merge_norm, c, res_scale[s - 1]);
      const int in = 4 * c.stage_dim(s - 1);
      st.merge_reduction = quantize_linear(fs.merge_reduction.weight.data(),
                                           fs.merge_reduction.bias.empty() ? nullptr : fs.merge_reduction.bias.data(),
                                           c.stage_dim(s), in, ln);
      set_output(st.merge_reduction, res_scale[s], 1.0, GemmOut::kS32, 0, kInt32Min, kInt32Max, false);
    }
    for (int j = 0; j < c.depths[s]; ++j) {
      const int index = block_index;
      const bool wide = std::find(report.wide_blocks.begin(), report.wide_blocks.end(), index) != report.wide_blocks.end();
      st.blocks.push_back(quantize_block(fs.blocks[j], c, stats, opt, s, j, res_scale[s], wide, report));
      ++block_index;
    }
    m.stages.push_back(std::move(st));
  }

  const int last = c.num_stages() - 1, features = c.num_features();
  const ActQuant norm_out = uint8_quant(stats.at("norm.out"), report);
  m.norm = describe_layernorm(f.norm, norm_out);
  build_layernorm(m.norm, c, res_scale[last]);
  // Eq. 44: the token mean folded into one multiplier, s_norm / (T · s_pooled).
  m.pooled = uint8_quant(stats.at("pool.out"), report);
  const double tokens = static_cast<double>(c.stage_resolution(last)) * c.stage_resolution(last);
  const QuantizedMultiplier avg = quantize_multiplier(norm_out.scale / (tokens * m.pooled.scale));
  m.pool_multiplier = avg.multiplier;
  m.pool_shift = avg.shift;
  m.head = quantize_linear(f.head.weight.data(), f.head.bias.data(), c.num_classes, features, m.pooled);
  m.logit_scale = std::max(stats.at("logits").full_abs_max(), 1e-6) / kLogitMax;
  set_output(m.head, m.logit_scale, 1.0, GemmOut::kS32, 0, kInt32Min, kInt32Max, false);
  report.attn_bits = opt.attn_bits;
  {  // MACs with a 16-bit operand: attn@v with 16-bit probabilities, fc2 of the wide blocks (as count_macs)
    const double p2 = static_cast<double>(c.patch_size) * c.patch_size, r0 = c.stage_resolution(0);
    double total = r0 * r0 * 3 * p2 * c.embed_dim + static_cast<double>(c.num_features()) * c.num_classes, wide = 0;
    for (int s = 0, index = 0; s < c.num_stages(); ++s) {
      const double res = c.stage_resolution(s), t = res * res, d = c.stage_dim(s), h = c.mlp_hidden(s);
      const double n = static_cast<double>(c.stage_window(s)) * c.stage_window(s);
      if (s > 0) total += t * 4 * c.stage_dim(s - 1) * d;
      for (int j = 0; j < c.depths[s]; ++j, ++index) {
        total += 4 * t * d * d + 2 * t * d * h + 2 * t * n * d;
        if (opt.attn_bits == 16) wide += t * n * d;
        if (std::find(report.wide_blocks.begin(), report.wide_blocks.end(), index) != report.wide_blocks.end()) wide += t * d * h;
      }
    }
    report.wide_mac_share = wide / total;
  }
  if (!report.wide_blocks.empty()) report.notes.push_back("Swin blocks are numbered over all stages (stage 0's first)");
  if (report_out) *report_out = report;
  return m;
}

}  // namespace intvit
