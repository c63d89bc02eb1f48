#include "engine/int_vit.h"

#include <algorithm>
#include <cstring>
#include <functional>

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
    a.probs16.resize(t * t);
    a.av_acc.resize(t * c.head_dim());
  }
}

size_t IntWorkspace::bytes() const {
  size_t n = residual.size() * 4 + (ln_out.size() + q.size() + k.size() + v.size() + vt.size() + attn_out.size() +
                                    hidden_u8.size() + gelu_u8.size() + patches.size()) +
             (hidden_s16.size() + gelu_s16.size()) * 2;
  for (const AttentionScratch& a : attention) n += (a.scores.size() + a.av_acc.size()) * 4 + a.probs.size() + a.probs16.size() * 2;
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

// Rows [b, e) of a linear layer (every output row depends on its input row only).
void linear_rows(const QLinear& l, size_t b, size_t e, const uint8_t* in, size_t in_elem, size_t ld_in, uint8_t* out,
                 size_t out_elem, size_t ld_out) {
  const RequantParams rq = l.requant();
  GemmOutput o{out + b * ld_out * out_elem, ld_out, l.out_type, &rq, l.accumulate};
  linear(*l.packed, e - b, in + b * ld_in * in_elem, ld_in, o);
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
    const bool probs16 = b.probs.bits == 16;
    {
      ScopedOpTimer timer(par.profile, OpKind::kSoftmax);
      if (probs16) {
        softmax_rows16(b.softmax, rows, t, s.scores.data(), t, s.probs16.data(), t);
      } else {
        softmax_rows(b.softmax, rows, t, s.scores.data(), t, s.probs.data(), t);
      }
    }
    ScopedOpTimer timer(par.profile, OpKind::kAv);
    const uint8_t* vt = &ws.vt[off * t];
    if (probs16) {
      av16(rows, hd, t, s.probs16.data(), t, vt, t, b.v.out_zero_point, s.av_acc.data(), hd);
    } else if (b.softmax.mode == SoftmaxMode::kLog2) {
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

// The row-wise steps of the forward. Rows are independent from one attention to the next, so
// each thread runs a chain of steps on its own rows without synchronizing: the pool meets only
// around attention, which reads every row of k and v. Without a pool (or when observing) a chain
// runs once over all rows, emitting each tensor between steps.
class RowSteps {
 public:
  using Emit = std::function<void(const char* suffix, const void* data, GemmOut type, size_t cols, const ActQuant& q)>;
  RowSteps(const IntViT& m, IntWorkspace& ws, OpProfile* profile, const Emit* emit)
      : m_(m), ws_(ws), profile_(profile), emit_(emit), d_(m.config.embed_dim), t_(m.config.num_tokens()) {}

  // LayerNorm 1 -> q, k, v -> this range's columns of vᵀ (per head [D][T], so attn@v is the same
  // "nt" product as q@kᵀ).
  void attention_input(const QBlock& b, size_t r0, size_t r1) const {
    layernorm(b.norm1.params, r0, r1);
    emit(".norm1.out", ws_.ln_out.data(), GemmOut::kU8, d_, b.norm1.out);
    {
      ScopedOpTimer timer(profile_, OpKind::kLinear);
      linear_rows(b.q, r0, r1, ws_.ln_out.data(), 1, d_, ws_.q.data(), 1, d_);
      linear_rows(b.k, r0, r1, ws_.ln_out.data(), 1, d_, ws_.k.data(), 1, d_);
      linear_rows(b.v, r0, r1, ws_.ln_out.data(), 1, d_, ws_.v.data(), 1, d_);
    }
    emit(".attn.q", ws_.q.data(), GemmOut::kU8, d_, b.q_out);
    emit(".attn.k", ws_.k.data(), GemmOut::kU8, d_, b.k_out);
    emit(".attn.v", ws_.v.data(), GemmOut::kU8, d_, b.v_out);
    ScopedOpTimer timer(profile_, OpKind::kAv);
    for (size_t j = r0; j < r1; ++j) {
      for (size_t e = 0; e < d_; ++e) ws_.vt[e * t_ + j] = ws_.v[j * d_ + e];
    }
  }

  // proj (accumulated into the residual) -> LayerNorm 2 -> fc1 -> GELU -> fc2 (accumulated).
  void block_tail(const QBlock& b, size_t r0, size_t r1) const {
    uint8_t* residual = reinterpret_cast<uint8_t*>(ws_.residual.data());
    {
      ScopedOpTimer timer(profile_, OpKind::kLinear);
      linear_rows(b.proj, r0, r1, ws_.attn_out.data(), 1, d_, residual, 4, d_);
    }
    emit(".norm2.in", ws_.residual.data(), GemmOut::kS32, d_, residual_quant());
    layernorm(b.norm2.params, r0, r1);
    emit(".norm2.out", ws_.ln_out.data(), GemmOut::kU8, d_, b.norm2.out);
    const size_t hidden = static_cast<size_t>(b.fc1.out);
    const bool wide = b.gelu_in.bits == 16;
    uint8_t* h = wide ? reinterpret_cast<uint8_t*>(ws_.hidden_s16.data()) : ws_.hidden_u8.data();
    uint8_t* g = wide ? reinterpret_cast<uint8_t*>(ws_.gelu_s16.data()) : ws_.gelu_u8.data();
    const size_t elem = wide ? 2 : 1;
    {
      ScopedOpTimer timer(profile_, OpKind::kLinear);
      linear_rows(b.fc1, r0, r1, ws_.ln_out.data(), 1, d_, h, elem, hidden);
    }
    {
      ScopedOpTimer timer(profile_, OpKind::kGelu);
      gelu(b.gelu, (r1 - r0) * hidden, h + r0 * hidden * elem, g + r0 * hidden * elem);
    }
    emit(".mlp.fc1.out", h, b.gelu_in.gemm_out(), hidden, b.gelu_in);
    emit(".mlp.gelu.out", g, b.gelu_out.gemm_out(), hidden, b.gelu_out);
    ScopedOpTimer timer(profile_, OpKind::kLinear);
    linear_rows(b.fc2, r0, r1, g, elem, hidden, residual, 4, d_);
  }

  ActQuant residual_quant() const {
    ActQuant q;
    q.scale = m_.residual_scale;
    return q;
  }

 private:
  void layernorm(const LayerNormParams& p, size_t r0, size_t r1) const {
    ScopedOpTimer timer(profile_, OpKind::kLayerNorm);
    layernorm_rows(p, r1 - r0, ws_.residual.data() + r0 * d_, d_, ws_.ln_out.data() + r0 * d_, d_);
  }
  // Only called with the full row range (observing runs chains once, on one thread).
  void emit(const char* suffix, const void* data, GemmOut type, size_t cols, const ActQuant& q) const {
    if (emit_) (*emit_)(suffix, data, type, cols, q);
  }

  const IntViT& m_;
  IntWorkspace& ws_;
  OpProfile* profile_;
  const Emit* emit_;
  size_t d_, t_;
};

}  // namespace

void int_vit_forward(const IntViT& m, GemmIsa isa, const uint8_t* pixels, IntWorkspace& ws, int32_t* logits,
                     ThreadPool* pool, const IntActivationObserver* observer, OpProfile* profile) {
  const ViTConfig& c = m.config;
  const size_t d = c.embed_dim, t = c.num_tokens(), prefix = c.num_prefix_tokens();
  // Observation happens on the calling thread, over whole tensors, so it runs without the pool.
  // Names are only built when observing, so a plain run allocates nothing.
  const Parallel par{observer ? nullptr : pool, profile};
  std::string prefix_name;
  auto emit_tensor = [&](const char* suffix, const void* data, GemmOut type, size_t rows, size_t cols, const ActQuant& q) {
    if (observer) (*observer)(prefix_name + suffix, IntActivation{data, type, rows, cols, cols, q.scale, q.zero_point});
  };
  RowSteps::Emit emit_rows;  // empty (no allocation) unless observing
  if (observer) {
    emit_rows = [&](const char* suffix, const void* data, GemmOut type, size_t cols, const ActQuant& q) {
      emit_tensor(suffix, data, type, t, cols, q);
    };
  }
  const RowSteps steps(m, ws, profile, observer ? &emit_rows : nullptr);
  const ActQuant residual_q = steps.residual_quant();

  // Residual starts as class token + position embedding; the patch embedding accumulates into it.
  std::copy(m.embed_init.begin(), m.embed_init.end(), ws.residual.begin());
  {
    ScopedOpTimer timer(profile, OpKind::kPatchEmbed);
    gather_patches(c, pixels, ws.patches.data());
  }
  par.rows(c.num_patches(), 8, [&](size_t b, size_t e, int) {
    ScopedOpTimer timer(par.profile, OpKind::kPatchEmbed);
    linear_rows(m.patch_embed, b, e, ws.patches.data(), 1, m.patch_embed.in,
                reinterpret_cast<uint8_t*>(ws.residual.data()) + prefix * d * 4, 4, d);
  });
  emit_tensor("embed", ws.residual.data(), GemmOut::kS32, t, d, residual_q);

  auto name_block = [&](size_t i) {
    if (observer) prefix_name = "blocks." + std::to_string(i);
  };
  name_block(0);
  emit_tensor(".norm1.in", ws.residual.data(), GemmOut::kS32, t, d, residual_q);
  if (!m.blocks.empty()) par.rows(t, 8, [&](size_t b, size_t e, int) { steps.attention_input(m.blocks[0], b, e); });
  for (size_t i = 0; i < m.blocks.size(); ++i) {
    const QBlock& b = m.blocks[i];
    name_block(i);
    attention(par, b, c, isa, ws);
    emit_tensor(".attn.out", ws.attn_out.data(), GemmOut::kU8, t, d, b.attn_out);
    const QBlock* next = i + 1 < m.blocks.size() ? &m.blocks[i + 1] : nullptr;
    par.rows(t, 8, [&](size_t r0, size_t r1, int) {
      steps.block_tail(b, r0, r1);
      if (next && !observer) steps.attention_input(*next, r0, r1);
    });
    if (next && observer) {
      name_block(i + 1);
      emit_tensor(".norm1.in", ws.residual.data(), GemmOut::kS32, t, d, residual_q);
      steps.attention_input(*next, 0, t);
    }
  }
  // Only the class token reaches the head.
  prefix_name.clear();
  emit_tensor("norm.in", ws.residual.data(), GemmOut::kS32, 1, d, residual_q);
  {
    ScopedOpTimer timer(profile, OpKind::kLayerNorm);
    layernorm_rows(m.norm.params, 1, ws.residual.data(), d, ws.ln_out.data(), d);
  }
  emit_tensor("norm.out", ws.ln_out.data(), GemmOut::kU8, 1, d, m.norm.out);
  const RequantParams rq = m.head.requant();
  GemmOutput o{logits, static_cast<size_t>(c.num_classes), GemmOut::kS32, &rq, false};
  {
    ScopedOpTimer timer(profile, OpKind::kLinear);
    linear(*m.head.packed, 1, ws.ln_out.data(), d, o);
  }
  if (observer) {
    ActQuant logit_q;
    logit_q.scale = m.logit_scale;
    emit_tensor("logits", logits, GemmOut::kS32, 1, c.num_classes, logit_q);
  }
}

}  // namespace intvit
