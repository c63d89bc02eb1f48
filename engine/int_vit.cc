#include "engine/int_vit.h"

#include <algorithm>
#include <cstring>

#include "engine/op_profile.h"
#include "engine/thread_pool.h"

namespace intvit {

void QLinear::prepare(GemmIsa isa) {
  packed = std::make_shared<const PackedWeights>(PackedWeights::pack(isa, input.bits == 8 ? GemmInput::kU8 : GemmInput::kS16, weight.data(),
                               static_cast<size_t>(out), static_cast<size_t>(in), bias.data(),
                               input.bits == 8 ? input.zero_point : 0));
}

void IntViT::prepare(GemmIsa isa) {
  patch_embed.prepare(isa);
  for (QBlock& b : blocks) {
    for (QLinear* l : {&b.q, &b.k, &b.v, &b.proj, &b.fc1, &b.fc2}) l->prepare(isa);
  }
  head.prepare(isa);
}

void IntViT::release_plain_weights() {
  for (QLinear* l : {&patch_embed, &head}) std::vector<int8_t>().swap(l->weight);
  for (QBlock& b : blocks) {
    for (QLinear* l : {&b.q, &b.k, &b.v, &b.proj, &b.fc1, &b.fc2}) std::vector<int8_t>().swap(l->weight);
  }
}

IntWorkspace::IntWorkspace(const ViTConfig& c, int threads) {
  const size_t t = c.num_tokens(), d = c.embed_dim, h = c.mlp_hidden();
  residual.resize(t * d);
  ln_out.resize(t * d);
  q.resize(t * d);
  k.resize(t * d);
  v.resize(t * d);
  vt.resize(t * d);
  attn_out.resize(t * d);
  hidden_u8.resize(t * h);
  gelu_u8.resize(t * h);
  hidden_s16.resize(t * h);
  gelu_s16.resize(t * h);
  patches.resize(static_cast<size_t>(c.num_patches()) * 3 * c.patch_size * c.patch_size);
  attention.resize(static_cast<size_t>(std::max(threads, 1)));
  for (AttentionScratch& a : attention) {
    a.scores.resize(t * t);
    a.probs.resize(t * t);
    a.av_acc.resize(t * c.head_dim());
  }
}

size_t IntWorkspace::bytes() const {
  size_t n = residual.size() * 4 + (ln_out.size() + q.size() + k.size() + v.size() + vt.size() + attn_out.size() +
                                    hidden_u8.size() + gelu_u8.size() + patches.size()) +
             (hidden_s16.size() + gelu_s16.size()) * 2;
  for (const AttentionScratch& a : attention) n += (a.scores.size() + a.av_acc.size()) * 4 + a.probs.size();
  return n;
}

namespace {

// Work split: `parts` contiguous row ranges per parallel step (a few per thread for balance).
struct Parallel {
  ThreadPool* pool;
  OpProfile* profile = nullptr;  // per-op time accounting, when intvit-bench asks for it
  int threads() const { return pool ? pool->threads() : 1; }
  // fn(begin, end, thread) over [0, n) in contiguous chunks of at least `grain` items.
  template <typename Fn>
  void rows(size_t n, size_t grain, Fn&& fn) const {
    const size_t parts = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(threads()), n / std::max<size_t>(grain, 1)));
    if (!pool || parts == 1) {
      fn(size_t{0}, n, 0);
      return;
    }
    pool->parallel_for(parts, [&](size_t part, int thread) {
      const auto [b, e] = split_range(n, parts, part);
      if (b < e) fn(b, e, thread);
    });
  }
};

void run_linear(const Parallel& par, const QLinear& l, size_t rows, const uint8_t* in, size_t in_elem, size_t ld_in,
                uint8_t* out, size_t out_elem, size_t ld_out, OpKind kind = OpKind::kLinear) {
  const RequantParams rq = l.requant();
  par.rows(rows, 8, [&](size_t b, size_t e, int) {
    ScopedOpTimer timer(par.profile, kind);
    GemmOutput o{out + b * ld_out * out_elem, ld_out, l.out_type, &rq, l.accumulate};
    linear(*l.packed, e - b, in + b * ld_in * in_elem, ld_in, o);
  });
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

// Multi-head attention: per (head, block of query rows) tasks, each row computed independently,
// so any split gives the same bits.
void attention(const Parallel& par, const QBlock& b, const ViTConfig& c, GemmIsa isa, IntWorkspace& ws) {
  const size_t t = c.num_tokens(), d = c.embed_dim, hd = c.head_dim(), heads = c.num_heads;
  // vᵀ per head ([D][T]) so attn@v is the same "nt" product as q@kᵀ.
  {
    ScopedOpTimer timer(par.profile, OpKind::kAv);
    for (size_t j = 0; j < t; ++j) {
      for (size_t e = 0; e < d; ++e) ws.vt[e * t + j] = ws.v[j * d + e];
    }
  }
  const size_t row_blocks = static_cast<size_t>(par.threads()) > 1 ? std::max<size_t>(1, (2 * par.threads() + heads - 1) / heads) : 1;
  auto task = [&](size_t index, int thread) {
    const size_t h = index / row_blocks, off = h * hd;
    const auto [r0, r1] = split_range(t, row_blocks, index % row_blocks);
    const size_t rows = r1 - r0;
    IntWorkspace::AttentionScratch& s = ws.attention[static_cast<size_t>(thread)];
    {
      // (Eq. 9) scores = (q - zq)(k - zk)ᵀ at scale s_q·s_k (head_dim^-0.5 is inside s_q).
      ScopedOpTimer timer(par.profile, OpKind::kQk);
      matmul_u8u8_nt(isa, rows, t, hd, &ws.q[r0 * d + off], d, b.q.out_zero_point, &ws.k[off], d, b.k.out_zero_point,
                     s.scores.data(), t);
    }
    {
      ScopedOpTimer timer(par.profile, OpKind::kSoftmax);
      softmax_rows(b.softmax, rows, t, s.scores.data(), t, s.probs.data(), t);
    }
    ScopedOpTimer timer(par.profile, OpKind::kAv);
    const uint8_t* vt = &ws.vt[off * t];
    if (b.softmax.mode == SoftmaxMode::kLog2) {
      av_log2(b.softmax, rows, hd, t, s.probs.data(), t, vt, t, b.v.out_zero_point, s.av_acc.data(), hd);
    } else {
      matmul_u8u8_nt(isa, rows, hd, t, s.probs.data(), t, b.probs.zero_point, vt, t, b.v.out_zero_point,
                     s.av_acc.data(), hd);
    }
    const RequantParams rq{&b.attn_out_multiplier, &b.attn_out_shift, false, b.attn_out.zero_point, 0, 255};
    GemmOutput o{&ws.attn_out[r0 * d + off], d, GemmOut::kU8, &rq, false};
    requantize(isa, rows, hd, s.av_acc.data(), hd, rq, o);
  };
  if (par.pool && heads * row_blocks > 1) {
    par.pool->parallel_for(heads * row_blocks, task);
  } else {
    for (size_t i = 0; i < heads * row_blocks; ++i) task(i, 0);
  }
}

void layernorm(const Parallel& par, const LayerNormParams& p, size_t rows, const int32_t* in, size_t d, uint8_t* out) {
  const size_t out_elem = p.out_bits == 8 ? 1 : 2;
  par.rows(rows, 8, [&](size_t b, size_t e, int) {
    ScopedOpTimer timer(par.profile, OpKind::kLayerNorm);
    layernorm_rows(p, e - b, in + b * d, d, out + b * d * out_elem, d);
  });
}

void mlp(const Parallel& par, const QBlock& b, const ViTConfig& c, IntWorkspace& ws) {
  const size_t t = c.num_tokens(), d = c.embed_dim, hidden = static_cast<size_t>(b.fc1.out);
  const bool wide = b.gelu_in.bits == 16;
  uint8_t* h = wide ? reinterpret_cast<uint8_t*>(ws.hidden_s16.data()) : ws.hidden_u8.data();
  uint8_t* g = wide ? reinterpret_cast<uint8_t*>(ws.gelu_s16.data()) : ws.gelu_u8.data();
  const size_t elem = wide ? 2 : 1;
  run_linear(par, b.fc1, t, ws.ln_out.data(), 1, d, h, elem, hidden);
  par.rows(t * hidden, 4096, [&](size_t begin, size_t end, int) {
    ScopedOpTimer timer(par.profile, OpKind::kGelu);
    gelu(b.gelu, end - begin, h + begin * elem, g + begin * elem);
  });
  run_linear(par, b.fc2, t, g, elem, hidden, reinterpret_cast<uint8_t*>(ws.residual.data()), 4, d);
}

}  // namespace

void int_vit_forward(const IntViT& m, GemmIsa isa, const uint8_t* pixels, IntWorkspace& ws, int32_t* logits,
                     ThreadPool* pool, const IntActivationObserver* observer, OpProfile* profile) {
  const Parallel par{pool, profile};
  // Observation happens between parallel steps, on the calling thread.
  // Names are only built when observing, so a plain run allocates nothing.
  std::string prefix_name;
  auto emit = [&](const char* suffix, const void* data, GemmOut type, size_t rows, size_t cols, const ActQuant& q) {
    if (observer) (*observer)(prefix_name + suffix, IntActivation{data, type, rows, cols, cols, q.scale, q.zero_point});
  };
  ActQuant residual_q;
  residual_q.scale = m.residual_scale;
  const ViTConfig& c = m.config;
  const size_t d = c.embed_dim, t = c.num_tokens(), prefix = c.num_prefix_tokens();
  uint8_t* residual = reinterpret_cast<uint8_t*>(ws.residual.data());
  // Residual starts as class token + position embedding; the patch embedding accumulates into it.
  std::copy(m.embed_init.begin(), m.embed_init.end(), ws.residual.begin());
  {
    ScopedOpTimer timer(profile, OpKind::kPatchEmbed);
    gather_patches(c, pixels, ws.patches.data());
  }
  run_linear(par, m.patch_embed, c.num_patches(), ws.patches.data(), 1, m.patch_embed.in, residual + prefix * d * 4, 4, d,
             OpKind::kPatchEmbed);

  emit("embed", ws.residual.data(), GemmOut::kS32, t, d, residual_q);

  for (size_t i = 0; i < m.blocks.size(); ++i) {
    const QBlock& b = m.blocks[i];
    if (observer) prefix_name = "blocks." + std::to_string(i);
    emit(".norm1.in", ws.residual.data(), GemmOut::kS32, t, d, residual_q);
    layernorm(par, b.norm1.params, t, ws.residual.data(), d, ws.ln_out.data());
    emit(".norm1.out", ws.ln_out.data(), GemmOut::kU8, t, d, b.norm1.out);
    run_linear(par, b.q, t, ws.ln_out.data(), 1, d, ws.q.data(), 1, d);
    run_linear(par, b.k, t, ws.ln_out.data(), 1, d, ws.k.data(), 1, d);
    run_linear(par, b.v, t, ws.ln_out.data(), 1, d, ws.v.data(), 1, d);
    emit(".attn.q", ws.q.data(), GemmOut::kU8, t, d, b.q_out);
    emit(".attn.k", ws.k.data(), GemmOut::kU8, t, d, b.k_out);
    emit(".attn.v", ws.v.data(), GemmOut::kU8, t, d, b.v_out);
    attention(par, b, c, isa, ws);
    emit(".attn.out", ws.attn_out.data(), GemmOut::kU8, t, d, b.attn_out);
    run_linear(par, b.proj, t, ws.attn_out.data(), 1, d, residual, 4, d);
    emit(".norm2.in", ws.residual.data(), GemmOut::kS32, t, d, residual_q);
    layernorm(par, b.norm2.params, t, ws.residual.data(), d, ws.ln_out.data());
    emit(".norm2.out", ws.ln_out.data(), GemmOut::kU8, t, d, b.norm2.out);
    mlp(par, b, c, ws);
    if (observer) {
      const bool wide = b.gelu_in.bits == 16;
      const size_t hidden = static_cast<size_t>(b.fc1.out);
      emit(".mlp.fc1.out", wide ? static_cast<const void*>(ws.hidden_s16.data()) : ws.hidden_u8.data(),
           b.gelu_in.gemm_out(), t, hidden, b.gelu_in);
      emit(".mlp.gelu.out", wide ? static_cast<const void*>(ws.gelu_s16.data()) : ws.gelu_u8.data(),
           b.gelu_out.gemm_out(), t, hidden, b.gelu_out);
    }
  }
  // Only the class token reaches the head.
  prefix_name.clear();
  emit("norm.in", ws.residual.data(), GemmOut::kS32, 1, d, residual_q);
  {
    ScopedOpTimer timer(profile, OpKind::kLayerNorm);
    layernorm_rows(m.norm.params, 1, ws.residual.data(), d, ws.ln_out.data(), d);
  }
  emit("norm.out", ws.ln_out.data(), GemmOut::kU8, 1, d, m.norm.out);
  const RequantParams rq = m.head.requant();
  GemmOutput o{logits, static_cast<size_t>(c.num_classes), GemmOut::kS32, &rq, false};
  {
    ScopedOpTimer timer(profile, OpKind::kLinear);
    linear(*m.head.packed, 1, ws.ln_out.data(), d, o);
  }
  if (observer) {
    ActQuant logit_q;
    logit_q.scale = m.logit_scale;
    emit("logits", logits, GemmOut::kS32, 1, c.num_classes, logit_q);
  }
}

}  // namespace intvit
