// The FP32 Swin forward (see models/swin_fp32.h). Tokens are kept row-major over the stage's grid
// ([res²][C], timm's NHWC); each block gathers them into window-major order through the
// SwinWindowLayout permutation and scatters the attention output back, as the integer engine will.
#include "models/swin_fp32.h"

#include <cmath>
#include <string>

#include "engine/swin_windows.h"
#include "models/fp32_gemm.h"

namespace intvit {
namespace {

using namespace fp32;

constexpr float kShiftMaskLogit = -100.0f;  // timm's attn_mask value across shifted-window regions

struct Emitter {
  const ActivationObserver& observe;
  void operator()(const std::string& name, const std::vector<float>& v, size_t rows, size_t cols) const {
    if (observe) observe(name, v.data(), rows, cols);
  }
};

// Patch embedding as a GEMM over gathered patches in PyTorch's (c, ky, kx) order, then LayerNorm.
std::vector<float> patch_embed(const SwinWeightsF32& m, const uint8_t* pixels, const Emitter& emit) {
  const SwinConfig& cfg = m.config;
  const size_t p = cfg.patch_size, g = cfg.stage_resolution(0), img = cfg.image_size, d = cfg.embed_dim;
  const std::vector<float> patches = gather_patches(pixels, img, p, cfg.mean, cfg.std);
  std::vector<float> y(g * g * d), x(g * g * d);
  linear(m.patch_embed, patches.data(), g * g, y.data());
  emit("patch_embed.proj.out", y, g * g, d);
  layer_norm(m.patch_norm, cfg.layer_norm_eps, y.data(), g * g, d, x.data());
  return x;
}

// 2×2 gather (x0,x1,x2,x3 = (0,0),(1,0),(0,1),(1,1) as (row, col)), LayerNorm(4C), Linear(4C -> 2C).
std::vector<float> patch_merge(const SwinStageF32& st, double eps, const std::vector<float>& x, size_t res,
                               size_t c, const std::string& name, const Emitter& emit) {
  const size_t half = res / 2, rows = half * half;
  std::vector<float> gathered(rows * 4 * c), normed(rows * 4 * c);
  static constexpr int kOffsets[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  for (size_t i = 0; i < half; ++i) {
    for (size_t j = 0; j < half; ++j) {
      float* dst = &gathered[(i * half + j) * 4 * c];
      for (int q = 0; q < 4; ++q) {
        const float* src = &x[((2 * i + kOffsets[q][0]) * res + 2 * j + kOffsets[q][1]) * c];
        std::copy(src, src + c, dst + q * c);
      }
    }
  }
  emit(name + ".norm.in", gathered, rows, 4 * c);
  layer_norm(st.merge_norm, eps, gathered.data(), rows, 4 * c, normed.data());
  emit(name + ".norm.out", normed, rows, 4 * c);
  std::vector<float> out(rows * st.merge_reduction.out);
  linear(st.merge_reduction, normed.data(), rows, out.data());
  emit(name + ".reduction.out", out, rows, st.merge_reduction.out);
  return out;
}

// x += W-MSA / SW-MSA(norm1(x)) for one block.
void window_attention(const SwinBlockF32& blk, const SwinConfig& cfg, const SwinWindowLayout& layout,
                      const std::vector<int32_t>& rel_index, int heads, std::vector<float>& x, size_t c,
                      const std::string& name, const Emitter& emit) {
  const size_t tokens = x.size() / c, n = layout.tokens_per_window(), hd = c / heads;
  const size_t windows = layout.num_windows();
  std::vector<float> h(tokens * c), hw(tokens * c);
  emit(name + ".norm1.in", x, tokens, c);
  layer_norm(blk.norm1, cfg.layer_norm_eps, x.data(), tokens, c, h.data());
  emit(name + ".norm1.out", h, tokens, c);
  for (size_t p = 0; p < tokens; ++p) {  // roll(−shift) + window_partition
    std::copy(&h[layout.token_of[p] * c], &h[layout.token_of[p] * c] + c, &hw[p * c]);
  }
  std::vector<float> qkv(tokens * 3 * c), q(tokens * c), k(tokens * c), v(tokens * c);
  linear(blk.qkv, hw.data(), tokens, qkv.data());
  const float q_scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (size_t t = 0; t < tokens; ++t) {
    for (size_t e = 0; e < c; ++e) {
      q[t * c + e] = qkv[t * 3 * c + e] * q_scale;
      k[t * c + e] = qkv[t * 3 * c + c + e];
      v[t * c + e] = qkv[t * 3 * c + 2 * c + e];
    }
  }
  emit(name + ".attn.q", q, tokens, c);
  emit(name + ".attn.k", k, tokens, c);
  emit(name + ".attn.v", v, tokens, c);
  // scores[w][head][i][j]
  std::vector<float> scores(windows * heads * n * n), attn(tokens * c);
  for (size_t w = 0; w < windows; ++w) {
    for (size_t hh = 0; hh < static_cast<size_t>(heads); ++hh) {
      sgemm(n, n, hd, &q[w * n * c + hh * hd], c, &k[w * n * c + hh * hd], c, /*b_transposed=*/true,
            &scores[(w * heads + hh) * n * n], n);
    }
  }
  emit(name + ".attn.qk", scores, windows * heads * n, n);
  for (size_t w = 0; w < windows; ++w) {
    for (size_t hh = 0; hh < static_cast<size_t>(heads); ++hh) {
      float* s = &scores[(w * heads + hh) * n * n];
      for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < n; ++j) {
          s[i * n + j] += blk.relative_position_bias_table[rel_index[i * n + j] * heads + hh];
          if (layout.masked(static_cast<int>(w), static_cast<int>(i), static_cast<int>(j))) {
            s[i * n + j] += kShiftMaskLogit;
          }
        }
      }
    }
  }
  emit(name + ".attn.logits", scores, windows * heads * n, n);
  softmax_rows(scores.data(), windows * heads * n, n);
  emit(name + ".attn.probs", scores, windows * heads * n, n);
  for (size_t w = 0; w < windows; ++w) {
    for (size_t hh = 0; hh < static_cast<size_t>(heads); ++hh) {
      sgemm(n, hd, n, &scores[(w * heads + hh) * n * n], n, &v[w * n * c + hh * hd], c, /*b_transposed=*/false,
            &attn[w * n * c + hh * hd], c);
    }
  }
  emit(name + ".attn.out", attn, tokens, c);
  linear(blk.proj, attn.data(), tokens, hw.data());
  emit(name + ".attn.proj.out", hw, tokens, c);
  for (size_t p = 0; p < tokens; ++p) {  // window_reverse + roll(+shift), then the residual
    float* dst = &x[layout.token_of[p] * c];
    for (size_t e = 0; e < c; ++e) dst[e] += hw[p * c + e];
  }
}

// x += fc2(gelu(fc1(norm2(x)))).
void mlp(const SwinBlockF32& blk, const SwinConfig& cfg, std::vector<float>& x, size_t c, const std::string& name,
         const Emitter& emit) {
  const size_t tokens = x.size() / c, hidden = blk.fc1.out;
  std::vector<float> h(tokens * c), hid(tokens * hidden), out(tokens * c);
  emit(name + ".norm2.in", x, tokens, c);
  layer_norm(blk.norm2, cfg.layer_norm_eps, x.data(), tokens, c, h.data());
  emit(name + ".norm2.out", h, tokens, c);
  linear(blk.fc1, h.data(), tokens, hid.data());
  emit(name + ".mlp.fc1.out", hid, tokens, hidden);
  for (float& e : hid) e = gelu(e, cfg.gelu);
  emit(name + ".mlp.gelu.out", hid, tokens, hidden);
  linear(blk.fc2, hid.data(), tokens, out.data());
  emit(name + ".mlp.fc2.out", out, tokens, c);
  for (size_t i = 0; i < x.size(); ++i) x[i] += out[i];
}

}  // namespace

std::vector<float> swin_forward_f32(const SwinWeightsF32& m, const uint8_t* pixels, const ActivationObserver& observe) {
  const SwinConfig& cfg = m.config;
  const Emitter emit{observe};
  std::vector<float> x = patch_embed(m, pixels, emit);
  emit("patch_embed.out", x, x.size() / cfg.embed_dim, cfg.embed_dim);
  for (int s = 0; s < cfg.num_stages(); ++s) {
    const SwinStageF32& st = m.stages[s];
    const std::string stage = "layers." + std::to_string(s);
    const size_t c = cfg.stage_dim(s), res = cfg.stage_resolution(s);
    if (s > 0) x = patch_merge(st, cfg.layer_norm_eps, x, 2 * res, c / 2, stage + ".downsample", emit);
    const int ws = cfg.stage_window(s);
    const std::vector<int32_t> rel_index = swin_relative_position_index(ws);
    for (int j = 0; j < cfg.depths[s]; ++j) {
      const SwinWindowLayout layout = make_swin_window_layout(static_cast<int>(res), ws, cfg.block_shift(s, j));
      const std::string name = stage + ".blocks." + std::to_string(j);
      window_attention(st.blocks[j], cfg, layout, rel_index, cfg.num_heads[s], x, c, name, emit);
      mlp(st.blocks[j], cfg, x, c, name, emit);
      if (j + 1 == cfg.depths[s]) emit(name + ".out", x, x.size() / c, c);  // the stream after the stage's last add
    }
  }
  // Final LayerNorm over every token, average pool, head.
  const size_t c = cfg.num_features(), tokens = x.size() / c;
  std::vector<float> normed(x.size());
  emit("norm.in", x, tokens, c);
  layer_norm(m.norm, cfg.layer_norm_eps, x.data(), tokens, c, normed.data());
  emit("norm.out", normed, tokens, c);
  std::vector<float> pooled(c);
  for (size_t e = 0; e < c; ++e) {
    double sum = 0;
    for (size_t t = 0; t < tokens; ++t) sum += normed[t * c + e];
    pooled[e] = static_cast<float>(sum / static_cast<double>(tokens));
  }
  emit("pool.out", pooled, 1, c);
  std::vector<float> logits(cfg.num_classes);
  linear(m.head, pooled.data(), 1, logits.data());
  emit("logits", logits, 1, logits.size());
  return logits;
}

}  // namespace intvit
