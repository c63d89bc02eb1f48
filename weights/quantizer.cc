#include "weights/quantizer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "kernels/error.h"
#include "weights/nonlinear_params.h"
#include "weights/quantize_layers.h"
#include "kernels/quantized_multiplier.h"

namespace intvit {
// Shared with the Swin quantizer (weights/quantize_layers.h).
namespace quantize_layers {

// (Eq. 2, 3) uint8 asymmetric; zero-point clamped (and counted) rather than wrapped.
ActQuant uint8_quant(const TensorRange& r, QuantizeReport& report) {
  ActQuant q;
  const double lo = std::min(r.min, 0.0), hi = std::max(r.max, 0.0);
  q.scale = std::max(hi - lo, 1e-8) / 255.0;
  const double zp = std::round(-lo / q.scale);
  if (zp < 0 || zp > 255) ++report.clamped_zero_points;
  q.zero_point = static_cast<int32_t>(std::clamp(zp, 0.0, 255.0));
  q.bits = 8;
  return q;
}

// int16 symmetric, limited to `limit` so a following K-deep product cannot overflow (Eq. 10).
ActQuant int16_quant(const TensorRange& r, double limit) {
  ActQuant q;
  q.scale = std::max(r.full_abs_max(), 1e-8) / limit;
  q.zero_point = 0;
  q.bits = 16;
  return q;
}

double int16_limit_for_k(int k) {
  return std::min(32767.0, std::floor(0.9 * 2147483647.0 / (127.0 * k)));
}

// Weights int8 symmetric per output channel (Eq. 4); bias int32 at s_in·s_w[n] (Eq. 8).
QLinear quantize_linear(const float* w, const float* b, int out, int in, const ActQuant& input) {
  QLinear l;
  l.in = in;
  l.out = out;
  l.input = input;
  l.weight.resize(static_cast<size_t>(out) * in);
  l.bias.resize(out);
  l.weight_scale.resize(out);
  for (int n = 0; n < out; ++n) {
    const float* row = w + static_cast<size_t>(n) * in;
    double amax = 0;
    for (int k = 0; k < in; ++k) amax = std::max(amax, std::fabs(static_cast<double>(row[k])));
    const double s = amax > 0 ? amax / 127.0 : 1e-8;
    l.weight_scale[n] = s;
    for (int k = 0; k < in; ++k) {
      l.weight[static_cast<size_t>(n) * in + k] = static_cast<int8_t>(std::clamp(std::round(row[k] / s), -127.0, 127.0));
    }
    const double bq = b ? std::round(b[n] / (input.scale * s)) : 0.0;
    l.bias[n] = static_cast<int32_t>(std::clamp(bq, -2147483647.0, 2147483647.0));
  }
  return l;
}

// Output requantization: per channel s_in·s_w[n]·extra / s_out.
void set_output(QLinear& l, double out_scale, double extra, GemmOut type, int32_t zp, int32_t lo, int32_t hi,
                bool accumulate) {
  l.multiplier.resize(l.out);
  l.shift.resize(l.out);
  for (int n = 0; n < l.out; ++n) {
    const QuantizedMultiplier m = quantize_multiplier(l.input.scale * l.weight_scale[n] * extra / out_scale);
    l.multiplier[n] = m.multiplier;
    l.shift[n] = m.shift;
  }
  l.out_type = type;
  l.out_zero_point = zp;
  l.out_min = lo;
  l.out_max = hi;
  l.accumulate = accumulate;
}

void set_output(QLinear& l, const ActQuant& out, double extra) {
  set_output(l, out.scale, extra, out.gemm_out(), out.zero_point, out.qmin(), out.qmax(), false);
}

void set_residual_output(QLinear& l, double residual_scale) {
  set_output(l, residual_scale, 1.0, GemmOut::kS32, 0, kInt32Min, kInt32Max, true);
}

QLayerNorm describe_layernorm(const LayerNormF32& n, const ActQuant& out) {
  QLayerNorm q;
  q.gamma = n.gamma;
  q.beta = n.beta;
  q.out = out;
  return q;
}

void quantize_qkv(QBlock& b, const LinearF32& qkv, int d, const ActQuant& ln1, const ActQuant& q, const ActQuant& k,
                  const ActQuant& v, double q_extra) {
  const size_t dd = static_cast<size_t>(d) * d;
  b.q = quantize_linear(qkv.weight.data(), qkv.bias.data(), d, d, ln1);
  set_output(b.q, q, q_extra);
  b.k = quantize_linear(qkv.weight.data() + dd, qkv.bias.data() + d, d, d, ln1);
  set_output(b.k, k);
  b.v = quantize_linear(qkv.weight.data() + 2 * dd, qkv.bias.data() + 2 * d, d, d, ln1);
  set_output(b.v, v);
  b.q_out = q;
  b.k_out = k;
  b.v_out = v;
  b.scores_scale = q.scale * k.scale;
}

void quantize_attention_output(QBlock& b, const ActQuant& v, const TensorRange& attn_out, const LinearF32& proj, int d,
                               double residual_scale, const QuantizeOptions& opt, QuantizeReport& report) {
  b.probs.scale = opt.attn_bits == 16 ? 1.0 / 32768 : 1.0 / 256;
  b.probs.zero_point = 0;
  b.probs.bits = opt.attn_bits == 16 ? 16 : 8;
  b.attn_out = uint8_quant(attn_out, report);
  const double av_scale = opt.softmax == SoftmaxMode::kLog2 ? v.scale * std::ldexp(1.0, -kAvLog2Shift) : b.probs.scale * v.scale;
  const QuantizedMultiplier am = quantize_multiplier(av_scale / b.attn_out.scale);
  b.attn_out_multiplier = am.multiplier;
  b.attn_out_shift = am.shift;
  b.proj = quantize_linear(proj.weight.data(), proj.bias.data(), d, d, b.attn_out);
  set_residual_output(b.proj, residual_scale);
}

void quantize_mlp(QBlock& b, const LinearF32& fc1, const LinearF32& fc2, const ActQuant& ln2, const TensorRange& fc1_out,
                  const TensorRange& gelu_out, int d, int hidden, bool wide, double residual_scale, QuantizeReport& report) {
  b.gelu_in = wide ? int16_quant(fc1_out, 32767.0) : uint8_quant(fc1_out, report);
  b.gelu_out = wide ? int16_quant(gelu_out, int16_limit_for_k(hidden)) : uint8_quant(gelu_out, report);
  b.fc1 = quantize_linear(fc1.weight.data(), fc1.bias.data(), hidden, d, ln2);
  set_output(b.fc1, b.gelu_in);
  b.fc2 = quantize_linear(fc2.weight.data(), fc2.bias.data(), d, hidden, b.gelu_out);
  set_residual_output(b.fc2, residual_scale);
}

QLinear quantize_patch_embed(const LinearF32& conv, int out, int patch, const std::array<double, 3>& mean,
                             const std::array<double, 3>& std) {
  const int p = patch, k = 3 * p * p;
  std::vector<float> w(static_cast<size_t>(out) * k), b(out);
  for (int o = 0; o < out; ++o) {
    double bias = conv.bias[o];
    for (int ky = 0; ky < p; ++ky) {
      for (int kx = 0; kx < p; ++kx) {
        for (int ch = 0; ch < 3; ++ch) {
          const double wt = conv.weight[((static_cast<size_t>(o) * 3 + ch) * p + ky) * p + kx];
          w[static_cast<size_t>(o) * k + (ky * p + kx) * 3 + ch] = static_cast<float>(wt / (255.0 * std[ch]));
          bias -= wt * mean[ch] / std[ch];
        }
      }
    }
    b[o] = static_cast<float>(bias);
  }
  const ActQuant pixels;  // raw uint8 pixels: scale 1, zero-point 0
  return quantize_linear(w.data(), b.data(), out, k, pixels);
}

}  // namespace quantize_layers
using namespace quantize_layers;

std::vector<int> choose_wide_blocks(const CalibrationStats& stats, const ViTConfig& c, double ratio) {
  std::vector<double> amax;
  for (int i = 0; i < c.depth; ++i) amax.push_back(stats.at("blocks." + std::to_string(i) + ".mlp.fc1.out").full_abs_max());
  std::vector<double> sorted = amax;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const double median = sorted[sorted.size() / 2];
  std::vector<int> wide;
  for (int i = 0; i < c.depth; ++i) {
    if (amax[i] > ratio * median) wide.push_back(i);
  }
  return wide;
}

MacCount count_macs(const ViTConfig& c, const std::vector<int>& wide_blocks, int attn_bits) {
  const double t = c.num_tokens(), d = c.embed_dim, h = c.mlp_hidden(), p = c.patch_size;
  MacCount m;
  m.total += c.num_patches() * 3 * p * p * d;
  const double attn = t * t * d * 2, qkvo = t * d * d * 4, mlp_one = t * d * h;
  for (int i = 0; i < c.depth; ++i) {
    m.total += attn + qkvo + 2 * mlp_one;
    if (attn_bits == 16) m.wide += attn / 2;  // attn@v reads 16-bit probabilities
    if (std::find(wide_blocks.begin(), wide_blocks.end(), i) != wide_blocks.end()) m.wide += mlp_one;  // fc2 reads s16
  }
  m.total += d * c.num_classes;
  return m;
}

std::string QuantizeReport::to_string() const {
  std::ostringstream o;
  o << "zero-points clamped: " << clamped_zero_points << "\n16-bit blocks (GELU in/out):";
  if (wide_blocks.empty()) o << " none";
  for (int b : wide_blocks) o << " " << b;
  if (attn_bits == 16) o << "\n16-bit attention probabilities (attn@v)";
  o << "\nMACs with a 16-bit operand: " << 100.0 * wide_mac_share << " %\n";
  for (const std::string& n : notes) o << n << "\n";
  return o.str();
}

void check_quantize_options(const QuantizeOptions& opt) {
  if (opt.attn_bits == 4 && opt.softmax != SoftmaxMode::kLog2) {
    throw Error(ErrorCode::kInvalidArgument, "--attn-bits 4 needs --softmax log2");
  }
  if (opt.attn_bits == 16 && opt.softmax == SoftmaxMode::kLog2) {
    throw Error(ErrorCode::kInvalidArgument, "--attn-bits 16 does not apply to --softmax log2 (codes, not probabilities)");
  }
  if (opt.attn_bits != 4 && opt.attn_bits != 8 && opt.attn_bits != 16) {
    throw Error(ErrorCode::kInvalidArgument,
                "attention probability bits (attn_bits) must be 4, 8 or 16, got " + std::to_string(opt.attn_bits));
  }
}

void check_wide_blocks(const std::vector<int>& wide_blocks, const ViTConfig& c) {
  for (int b : wide_blocks) {
    if (b < 0 || b >= c.depth) {
      throw Error(ErrorCode::kInvalidArgument,
                  "wide block index out of range: " + std::to_string(b) + " (the model has " + std::to_string(c.depth) +
                      " blocks: 0 to " + std::to_string(c.depth - 1) + ")");
    }
  }
}

IntViT quantize_vit(const ViTWeightsF32& f, const CalibrationStats& stats, const QuantizeOptions& opt,
                    QuantizeReport* report_out) {
  const ViTConfig& c = f.config;
  check_quantize_options(opt);
  QuantizeReport report;
  IntViT m;
  m.config = c;
  m.softmax_mode = opt.softmax;
  m.gelu_mode = opt.gelu;
  m.attn_bits = opt.attn_bits;
  m.log2_renormalize = opt.softmax == SoftmaxMode::kLog2 && opt.log2_renormalize;
  const int d = c.embed_dim, hidden = c.mlp_hidden(), t = c.num_tokens();

  // One residual scale for the whole stream (so adds are plain int32 adds).
  double res_max = stats.at("embed").full_abs_max();
  for (int i = 0; i < c.depth; ++i) {
    for (const char* n : {".norm1.in", ".norm2.in"}) res_max = std::max(res_max, stats.at("blocks." + std::to_string(i) + n).full_abs_max());
  }
  res_max = std::max(res_max, stats.at("norm.in").full_abs_max());
  m.residual_scale = res_max / kResidualMax;

  // Patch embedding with the pixel normalisation folded in: x = p/(255·std_c) − mean_c/std_c.
  {
    m.patch_embed = quantize_patch_embed(f.patch_embed, d, c.patch_size, c.mean, c.std);
    set_residual_output(m.patch_embed, m.residual_scale);
    m.embed_init.assign(static_cast<size_t>(t) * d, 0);
    for (int tok = 0; tok < t; ++tok) {
      for (int ch = 0; ch < d; ++ch) {
        double v = f.pos_embed[static_cast<size_t>(tok) * d + ch];
        if (tok == 0 && c.class_token) v += f.cls_token[ch];
        if (c.distillation_token && tok == 1) v += f.dist_token[ch];
        m.embed_init[static_cast<size_t>(tok) * d + ch] = static_cast<int32_t>(std::llround(v / m.residual_scale));
      }
    }
  }

  report.wide_blocks = opt.wide_blocks;
  if (report.wide_blocks.empty() && opt.auto_wide) report.wide_blocks = choose_wide_blocks(stats, c, opt.auto_wide_ratio);
  check_wide_blocks(report.wide_blocks, c);

  const double head_scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim()));
  for (int i = 0; i < c.depth; ++i) {
    const BlockF32& fb = f.blocks[i];
    const std::string name = "blocks." + std::to_string(i);
    auto range = [&](const char* suffix) -> const TensorRange& { return stats.at(name + suffix); };
    const bool wide = std::find(report.wide_blocks.begin(), report.wide_blocks.end(), i) != report.wide_blocks.end();
    QBlock b;
    const ActQuant ln1 = uint8_quant(range(".norm1.out"), report);
    b.norm1 = describe_layernorm(fb.norm1, ln1);
    const ActQuant q = uint8_quant(range(".attn.q"), report), k = uint8_quant(range(".attn.k"), report),
                   v = uint8_quant(range(".attn.v"), report);
    quantize_qkv(b, fb.qkv, d, ln1, q, k, v, head_scale);
    b.softmax = make_softmax_params(opt.softmax, b.scores_scale, opt.attn_bits);  // for av_log2_scale
    quantize_attention_output(b, v, range(".attn.out"), fb.proj, d, m.residual_scale, opt, report);

    const ActQuant ln2 = uint8_quant(range(".norm2.out"), report);
    b.norm2 = describe_layernorm(fb.norm2, ln2);
    quantize_mlp(b, fb.fc1, fb.fc2, ln2, range(".mlp.fc1.out"), range(".mlp.gelu.out"), d, hidden, wide, m.residual_scale, report);
    m.blocks.push_back(std::move(b));
  }

  const ActQuant norm_out = uint8_quant(stats.at("norm.out"), report);
  m.norm = describe_layernorm(f.norm, norm_out);
  m.head = quantize_linear(f.head.weight.data(), f.head.bias.data(), c.num_classes, d, norm_out);
  m.logit_scale = std::max(stats.at("logits").full_abs_max(), 1e-6) / kLogitMax;
  set_output(m.head, m.logit_scale, 1.0, GemmOut::kS32, 0, kInt32Min, kInt32Max, false);
  if (c.distillation_token) {
    // Both heads requantize to the one logit scale (Eq. 7), so Eq. 41 averages like units. s_L
    // comes from the averaged logits' range; each head's own logits keep 2^11 of headroom in int32.
    m.head_dist = quantize_linear(f.head_dist.weight.data(), f.head_dist.bias.data(), c.num_classes, d, norm_out);
    set_output(m.head_dist, m.logit_scale, 1.0, GemmOut::kS32, 0, kInt32Min, kInt32Max, false);
  }

  build_nonlinear_params(m);
  report.attn_bits = opt.attn_bits;
  const MacCount macs = count_macs(c, report.wide_blocks, opt.attn_bits);
  report.wide_mac_share = macs.wide / macs.total;
  if (report_out) *report_out = report;
  return m;
}

}  // namespace intvit
