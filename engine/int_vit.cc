#include "engine/int_vit.h"

#include <algorithm>
#include <cstring>

namespace intvit {

void QLinear::prepare(GemmIsa isa) {
  packed = PackedWeights::pack(isa, input.bits == 8 ? GemmInput::kU8 : GemmInput::kS16, weight.data(),
                               static_cast<size_t>(out), static_cast<size_t>(in), bias.data(),
                               input.bits == 8 ? input.zero_point : 0);
}

void IntViT::prepare(GemmIsa isa) {
  patch_embed.prepare(isa);
  for (QBlock& b : blocks) {
    for (QLinear* l : {&b.q, &b.k, &b.v, &b.proj, &b.fc1, &b.fc2}) l->prepare(isa);
  }
  head.prepare(isa);
}

IntWorkspace::IntWorkspace(const ViTConfig& c) {
  const size_t t = c.num_tokens(), d = c.embed_dim, h = c.mlp_hidden();
  residual.resize(t * d);
  scores.resize(t * t);
  av_acc.resize(t * c.head_dim());
  ln_out.resize(t * d);
  q.resize(t * d);
  k.resize(t * d);
  v.resize(t * d);
  vt.resize(t * c.head_dim());
  probs.resize(t * t);
  attn_out.resize(t * d);
  hidden_u8.resize(t * h);
  gelu_u8.resize(t * h);
  hidden_s16.resize(t * h);
  gelu_s16.resize(t * h);
  patches.resize(static_cast<size_t>(c.num_patches()) * 3 * c.patch_size * c.patch_size);
}

namespace {

void run_linear(const QLinear& l, size_t rows, const void* in, size_t ld_in, void* out, size_t ld_out) {
  const RequantParams rq = l.requant();
  GemmOutput o{out, ld_out, l.out_type, &rq, l.accumulate};
  linear(l.packed, rows, in, ld_in, o);
}

// Gathers each P×P×3 patch into one row in (ky, kx, c) order: P runs of 3·P contiguous bytes.
void gather_patches(const ViTConfig& c, const uint8_t* pixels, uint8_t* patches) {
  const size_t p = c.patch_size, g = c.grid(), img = c.image_size, run = 3 * p;
  for (size_t py = 0; py < g; ++py) {
    for (size_t px = 0; px < g; ++px) {
      uint8_t* dst = patches + (py * g + px) * run * p;
      for (size_t ky = 0; ky < p; ++ky) {
        std::memcpy(dst + ky * run, pixels + ((py * p + ky) * img + px * p) * 3, run);
      }
    }
  }
}

void attention(const QBlock& b, const ViTConfig& c, GemmIsa isa, IntWorkspace& ws) {
  const size_t t = c.num_tokens(), d = c.embed_dim, hd = c.head_dim();
  for (int h = 0; h < c.num_heads; ++h) {
    const size_t off = static_cast<size_t>(h) * hd;
    // (Eq. 9) scores = (q - zq)(k - zk)ᵀ, scale s_q·s_k (head_dim^-0.5 is inside s_q).
    matmul_u8u8_nt(isa, t, t, hd, &ws.q[off], d, b.q.out_zero_point, &ws.k[off], d, b.k.out_zero_point,
                   ws.scores.data(), t);
    softmax_rows(b.softmax, t, t, ws.scores.data(), t, ws.probs.data(), t);
    // vᵀ for this head so attn@v is the same "nt" product.
    for (size_t j = 0; j < t; ++j) {
      for (size_t e = 0; e < hd; ++e) ws.vt[e * t + j] = ws.v[j * d + off + e];
    }
    if (b.softmax.mode == SoftmaxMode::kLog2) {
      av_log2(b.softmax, t, hd, t, ws.probs.data(), t, ws.vt.data(), t, b.v.out_zero_point, ws.av_acc.data(), hd);
    } else {
      matmul_u8u8_nt(isa, t, hd, t, ws.probs.data(), t, b.probs.zero_point, ws.vt.data(), t,
                     b.v.out_zero_point, ws.av_acc.data(), hd);
    }
    const RequantParams rq{&b.attn_out_multiplier, &b.attn_out_shift, false, b.attn_out.zero_point, 0, 255};
    GemmOutput o{&ws.attn_out[off], d, GemmOut::kU8, &rq, false};
    requantize(isa, t, hd, ws.av_acc.data(), hd, rq, o);
  }
}

void mlp(const QBlock& b, const ViTConfig& c, IntWorkspace& ws) {
  const size_t t = c.num_tokens(), d = c.embed_dim, hidden = c.mlp_hidden();
  const bool wide_in = b.gelu_in.bits == 16, wide_out = b.gelu_out.bits == 16;
  void* h = wide_in ? static_cast<void*>(ws.hidden_s16.data()) : ws.hidden_u8.data();
  void* g = wide_out ? static_cast<void*>(ws.gelu_s16.data()) : ws.gelu_u8.data();
  run_linear(b.fc1, t, ws.ln_out.data(), d, h, hidden);
  gelu(b.gelu, t * hidden, h, g);
  run_linear(b.fc2, t, g, hidden, ws.residual.data(), d);
}

}  // namespace

void int_vit_forward(const IntViT& m, GemmIsa isa, const uint8_t* pixels, IntWorkspace& ws, int32_t* logits) {
  const ViTConfig& c = m.config;
  const size_t d = c.embed_dim, t = c.num_tokens(), prefix = c.num_prefix_tokens();
  // Residual starts as class token + position embedding; the patch embedding accumulates into it.
  std::copy(m.embed_init.begin(), m.embed_init.end(), ws.residual.begin());
  gather_patches(c, pixels, ws.patches.data());
  run_linear(m.patch_embed, c.num_patches(), ws.patches.data(), m.patch_embed.in, &ws.residual[prefix * d], d);

  for (const QBlock& b : m.blocks) {
    layernorm_rows(b.norm1.params, t, ws.residual.data(), d, ws.ln_out.data(), d);
    run_linear(b.q, t, ws.ln_out.data(), d, ws.q.data(), d);
    run_linear(b.k, t, ws.ln_out.data(), d, ws.k.data(), d);
    run_linear(b.v, t, ws.ln_out.data(), d, ws.v.data(), d);
    attention(b, c, isa, ws);
    run_linear(b.proj, t, ws.attn_out.data(), d, ws.residual.data(), d);
    layernorm_rows(b.norm2.params, t, ws.residual.data(), d, ws.ln_out.data(), d);
    mlp(b, c, ws);
  }
  // Only the class token reaches the head.
  layernorm_rows(m.norm.params, 1, ws.residual.data(), d, ws.ln_out.data(), d);
  run_linear(m.head, 1, ws.ln_out.data(), d, logits, c.num_classes);
}

}  // namespace intvit
