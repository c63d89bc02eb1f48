// int_swin_forward: the integer Swin (engine/int_swin.h) with the ViT's kernels, in three pool
// steps per block so that threads meet rarely:
//   A (window rows p): gather norm1's output rows into window-major order (shift + partition),
//     q, k, v linears, vᵀ columns;
//   B ((window, head) tasks): q@kᵀ, bias + mask (Eq. 42-43), softmax, attn@v, requantize into
//     window-major attn.out, on per-thread tiles (windows are just more attention tasks);
//   C (grid rows t): gather attn.out back to grid order (window_row_of), proj accumulated into
//     the residual, norm2, fc1, GELU, fc2 accumulated, then the next block's norm1 (or the final
//     norm) on the same rows.
// The patch embedding and each patch merging are one row step each, ending in block 0's norm1.
// Every row and tile is computed independently, so any split gives the same bits. No allocation,
// virtual call or std::function below the step level; integer only (tests/no_float).
#include <algorithm>
#include <cstring>
#include <string>

#include "engine/int_swin.h"
#include "engine/int_swin_workspace.h"
#include "engine/op_profile.h"
#include "engine/thread_pool.h"
#include "kernels/error.h"
#include "kernels/fixedpoint.h"
#include "kernels/layout/transpose.h"

namespace intvit {
namespace {

using namespace swin_workspace;

size_t act_bytes(const ActQuant& a) { return a.bits == 16 ? 2 : 1; }

}  // namespace

class SwinForward {
 public:
  SwinForward(const IntSwin& m, const KernelSet& k, SwinWorkspace& ws, ThreadPool* pool, const IntActivationObserver* obs, OpProfile* profile)
      : m_(m), k_(k), ws_(ws), pool_(obs ? nullptr : pool), obs_(obs), profile_(profile) {}

  // Trace mode (int_swin_forward_traced): also the tensors a plain observer does not see, among them
  // every (window, head) tile of the attention, emitted with IntActivation::head = w·heads + h.
  void enable_trace() { trace_ = obs_ != nullptr; }

  void run(const uint8_t* pixels, int32_t* logits) {
    const SwinConfig& c = m_.config;
    pixels_ = pixels;
    rows(tokens(0), [&](size_t r0, size_t r1) { embed(r0, r1); });
    for (int s = 0; s < c.num_stages(); ++s) {
      if (s > 0) rows(tokens(s), [&](size_t r0, size_t r1) { merge(s, r0, r1); });
      for (int j = 0; j < c.depths[s]; ++j) {
        rows(tokens(s), [&](size_t r0, size_t r1) { qkv(s, j, r0, r1); });
        attention(s, j);
        rows(tokens(s), [&](size_t r0, size_t r1) { proj_mlp(s, j, r0, r1); });
      }
    }
    tail(logits);
  }

 private:
  size_t tokens(int s) const { return static_cast<size_t>(m_.config.stage_resolution(s)) * m_.config.stage_resolution(s); }
  size_t dim(int s) const { return static_cast<size_t>(m_.config.stage_dim(s)); }
  uint8_t* buf(int b) const { return ws_.buffer(b); }
  int32_t* res(int s) const { return reinterpret_cast<int32_t*>(buf(s % 2 == 0 ? kResA : kResB)); }
  const QBlock& block(int s, int j) const { return m_.stages[static_cast<size_t>(s)].blocks[static_cast<size_t>(j)].attn_mlp; }

  // fn(r0, r1) over [0, n) in contiguous parts, one per thread (a few rows at least).
  template <typename Fn>
  void rows(size_t n, Fn&& fn) const {
    const size_t parts = pool_ ? std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(pool_->threads()), n / 8)) : 1;
    if (parts == 1) return fn(size_t{0}, n);
    pool_->parallel_for(parts, [&](size_t part, int) {
      const auto [b, e] = split_range(n, parts, part);
      if (b < e) fn(b, e);
    });
  }

  // Observation only (callers test obs_ first, so no name is built on a plain run).
  void emit(const std::string& name, const void* data, GemmOut type, size_t r, size_t cols, double scale, int32_t zp) const {
    (*obs_)(name, IntActivation{data, type, r, cols, cols, scale, zp});
  }
  void emit_act(const std::string& name, const void* data, size_t r, size_t cols, const ActQuant& a) const {
    emit(name, data, a.gemm_out(), r, cols, a.scale, a.zero_point);
  }
  // Trace mode: one (window, head) tile, [rows][cols] packed, as tile `index` of `name`.
  void emit_tile(const std::string& name, const void* data, GemmOut type, size_t r, size_t cols, double scale, int32_t zp, size_t index) const {
    IntActivation a{data, type, r, cols, cols, scale, zp};
    a.head = static_cast<int>(index);
    (*obs_)(name, a);
  }
  size_t tile_index(int s, size_t w, size_t h) const { return w * static_cast<size_t>(m_.config.num_heads[static_cast<size_t>(s)]) + h; }
  std::string block_name(int s, int j) const { return "layers." + std::to_string(s) + ".blocks." + std::to_string(j); }

  void layernorm(const QLayerNorm& n, size_t r0, size_t r1, const int32_t* in, size_t cols, uint8_t* out) const {
    ScopedOpTimer timer(profile_, OpKind::kLayerNorm);
    const size_t ob = act_bytes(n.out);
    k_.layernorm_rows(n.params, r1 - r0, in + r0 * cols, cols, out + r0 * cols * ob, cols);
  }

  void linear(const QLinear& l, size_t r0, size_t r1, const uint8_t* in, void* out, OpKind kind = OpKind::kLinear) const {
    ScopedOpTimer timer(profile_, kind);
    const size_t ib = l.input.bits == 16 ? 2 : 1, ob = l.out_type == GemmOut::kU8 ? 1 : l.out_type == GemmOut::kS16 ? 2 : 4;
    const RequantParams rq = l.requant();
    const GemmOutput o{static_cast<uint8_t*>(out) + r0 * l.out * ob, static_cast<size_t>(l.out), l.out_type, &rq, l.accumulate};
    intvit::linear(*l.packed, r1 - r0, in + r0 * l.in * ib, static_cast<size_t>(l.in), o);
  }

  // Patches -> patch_embed -> s32 -> patch_norm -> s16 -> x_0 (Eq. 45) -> block 0's norm1.
  void embed(size_t r0, size_t r1) const {
    const SwinConfig& c = m_.config;
    const size_t p = c.patch_size, g = c.stage_resolution(0), img = c.image_size, run = 3 * p, d = dim(0);
    uint8_t* patches = buf(kPatches);
    {
      ScopedOpTimer timer(profile_, OpKind::kPatchEmbed);
      for (size_t i = r0; i < r1; ++i) {
        const size_t py = i / g, px = i % g;
        for (size_t ky = 0; ky < p; ++ky) std::memcpy(patches + i * 3 * p * p + ky * run, pixels_ + ((py * p + ky) * img + px * p) * 3, run);
      }
    }
    int32_t* acc = reinterpret_cast<int32_t*>(buf(kPatchAcc));
    linear(m_.patch_embed, r0, r1, patches, acc, OpKind::kPatchEmbed);
    int16_t* pn = reinterpret_cast<int16_t*>(buf(kPatchNorm));
    layernorm(m_.patch_norm, r0, r1, acc, d, reinterpret_cast<uint8_t*>(pn));
    if (trace_) {
      emit("patch_embed.in", patches, GemmOut::kU8, tokens(0), 3 * p * p, 1, 0);
      emit("patch_embed.proj.out", acc, GemmOut::kS32, tokens(0), d, m_.patch_embed_scale, 0);
      emit_act("patch_embed.norm.out", pn, tokens(0), d, m_.patch_norm.out);
    }
    int32_t* x = res(0);
    for (size_t i = r0 * d; i < r1 * d; ++i) x[i] = fp::multiply_by_quantized_multiplier(pn[i], m_.patch_norm_multiplier, m_.patch_norm_shift);
    if (obs_) emit("patch_embed.out", x, GemmOut::kS32, tokens(0), d, m_.stages[0].residual_scale, 0);
    norm1(0, r0, r1);
  }

  void norm1(int s, size_t r0, size_t r1) const {
    const QLayerNorm& n = block(s, 0).norm1;
    layernorm(n, r0, r1, res(s), dim(s), buf(kLn));
    if (!obs_) return;
    emit(block_name(s, 0) + ".norm1.in", res(s), GemmOut::kS32, tokens(s), dim(s), m_.stages[static_cast<size_t>(s)].residual_scale, 0);
    emit_act(block_name(s, 0) + ".norm1.out", buf(kLn), tokens(s), dim(s), n.out);
  }

  // Patch merging into stage s: 2×2 gather (x0..x3 = (0,0),(1,0),(0,1),(1,1) as (row, col)) of x_{s-1}.
  void merge(int s, size_t r0, size_t r1) const {
    const QSwinStage& st = m_.stages[static_cast<size_t>(s)];
    const size_t half = m_.config.stage_resolution(s), res_in = 2 * half, c = dim(s - 1);
    const int32_t* x = res(s - 1);
    int32_t* merged = reinterpret_cast<int32_t*>(buf(kMerged));
    static constexpr int kOffsets[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
    for (size_t r = r0; r < r1; ++r) {
      const size_t i = r / half, j = r % half;
      for (int q = 0; q < 4; ++q) {
        std::memcpy(merged + (r * 4 + q) * c, x + ((2 * i + kOffsets[q][0]) * res_in + 2 * j + kOffsets[q][1]) * c, c * 4);
      }
    }
    layernorm(st.merge_norm, r0, r1, merged, 4 * c, buf(kMergeLn));
    linear(st.merge_reduction, r0, r1, buf(kMergeLn), res(s));
    if (obs_) {
      const std::string name = "layers." + std::to_string(s) + ".downsample";
      emit(name + ".norm.in", merged, GemmOut::kS32, tokens(s), 4 * c, m_.stages[static_cast<size_t>(s - 1)].residual_scale, 0);
      emit_act(name + ".norm.out", buf(kMergeLn), tokens(s), 4 * c, st.merge_norm.out);
      emit(name + ".reduction.out", res(s), GemmOut::kS32, tokens(s), dim(s), st.residual_scale, 0);
    }
    norm1(s, r0, r1);
  }

  // Step A on window-major rows [r0, r1).
  void qkv(int s, int j, size_t r0, size_t r1) const {
    const QBlock& b = block(s, j);
    const SwinWindowLayout& l = ws_.layouts_[static_cast<size_t>(s)][static_cast<size_t>(j)];
    const size_t c = dim(s), t = tokens(s);
    const uint8_t* ln = buf(kLn);
    uint8_t* lw = buf(kLnWin);
    for (size_t p = r0; p < r1; ++p) std::memcpy(lw + p * c, ln + static_cast<size_t>(l.token_of[p]) * c, c);
    linear(b.q, r0, r1, lw, buf(kQ));
    linear(b.k, r0, r1, lw, buf(kK));
    linear(b.v, r0, r1, lw, buf(kV));
    {
      ScopedOpTimer timer(profile_, OpKind::kAv);
      transpose_u8(c, r0, r1, buf(kV), c, buf(kVt), t);
    }
    if (obs_) {
      const std::string name = block_name(s, j);
      emit_act(name + ".attn.q", buf(kQ), t, c, b.q_out);
      emit_act(name + ".attn.k", buf(kK), t, c, b.k_out);
      emit_act(name + ".attn.v", buf(kV), t, c, b.v_out);
      if (trace_) emit(name + ".attn.vt", buf(kVt), GemmOut::kU8, c, t, b.v_out.scale, b.v_out.zero_point);
    }
  }

  // Step B: one (window, head) task on thread `thread`'s tiles.
  void window_head(int s, int j, size_t w, size_t h, int thread) const {
    const QSwinBlock& sb = m_.stages[static_cast<size_t>(s)].blocks[static_cast<size_t>(j)];
    const QBlock& b = sb.attn_mlp;
    const SwinWindowLayout& l = ws_.layouts_[static_cast<size_t>(s)][static_cast<size_t>(j)];
    const size_t c = dim(s), t = tokens(s), n = static_cast<size_t>(l.tokens_per_window()), hd = m_.config.head_dim(s);
    const size_t row0 = w * n, off = h * hd;
    int32_t* scores = reinterpret_cast<int32_t*>(ws_.tile(kScores, thread));
    uint8_t* probs = ws_.tile(kProbs, thread);
    int32_t* acc = reinterpret_cast<int32_t*>(ws_.tile(kAcc, thread));
    {
      ScopedOpTimer timer(profile_, OpKind::kQk);  // Eq. 9, then Eq. 42-43
      const uint8_t *q = buf(kQ) + row0 * c + off, *k = buf(kK) + row0 * c + off;
      const int32_t* bias = sb.attn_bias.data() + h * n * n;
      const uint8_t* region = l.region.empty() ? nullptr : l.region.data() + row0;
      if (!trace_ && hd <= kSwinFusedBiasMaxHeadDim) {  // the bias as the accumulators' start; the mask only where regions differ
        matmul_u8u8_nt_add(k_.gemm, n, n, hd, q, c, b.q_out.zero_point, k, c, b.k_out.zero_point, bias, n, scores, n);
        if (region && std::any_of(region + 1, region + n, [&](uint8_t r) { return r != region[0]; })) add_swin_shift_mask(scores, n, n, region);
      } else {  // Eq. 9, then Eq. 42-43 as one pass; a trace also records the scores before the bias
        matmul_u8u8_nt(k_.gemm, n, n, hd, q, c, b.q_out.zero_point, k, c, b.k_out.zero_point, scores, n);
        if (trace_) emit_tile(block_name(s, j) + ".attn.qk", scores, GemmOut::kS32, n, n, b.scores_scale, 0, tile_index(s, w, h));
        add_swin_attention_bias(scores, n, n, bias, region);
      }
      if (trace_) emit_tile(block_name(s, j) + ".attn.logits", scores, GemmOut::kS32, n, n, b.scores_scale, 0, tile_index(s, w, h));
    }
    {
      ScopedOpTimer timer(profile_, OpKind::kSoftmax);
      if (b.probs.bits == 16) {
        k_.softmax_rows16(b.softmax, n, n, scores, n, reinterpret_cast<uint16_t*>(probs), n);
      } else {
        k_.softmax_rows(b.softmax, n, n, scores, n, probs, n);
      }
      if (trace_) emit_tile(block_name(s, j) + ".attn.probs", probs, b.probs.gemm_out(), n, n, b.probs.scale, b.probs.zero_point, tile_index(s, w, h));  // 16 bits: u16 values as kS16
    }
    ScopedOpTimer timer(profile_, OpKind::kAv);
    const uint8_t* v = buf(kVt) + off * t + row0;  // vᵀ rows of this head, columns of this window
    if (b.probs.bits == 16) {
      k_.av16(n, hd, n, reinterpret_cast<const uint16_t*>(probs), n, v, t, b.v_out.zero_point, acc, hd);
    } else if (b.softmax.mode == SoftmaxMode::kLog2) {
      k_.av_log2(b.softmax, n, hd, n, probs, n, v, t, b.v_out.zero_point, acc, hd);
      if (b.softmax.renormalize) av_log2_renormalize(b.softmax, n, hd, n, probs, n, acc, hd);
    } else {
      matmul_u8u8_nt(k_.gemm, n, hd, n, probs, n, 0, v, t, b.v_out.zero_point, acc, hd);
    }
    // The accumulators' scale (s_probs·s_v) is a float product: the trace fills it in (engine/trace_swin.cc).
    if (trace_) emit_tile(block_name(s, j) + ".attn.acc", acc, GemmOut::kS32, n, hd, 1, 0, tile_index(s, w, h));
    const RequantParams rq{&b.attn_out_multiplier, &b.attn_out_shift, false, b.attn_out.zero_point, 0, 255};
    const GemmOutput o{buf(kAoWin) + row0 * c + off, c, GemmOut::kU8, &rq, false};
    requantize(k_.gemm, n, hd, acc, hd, rq, o);
  }

  void attention(int s, int j) const {
    const SwinWindowLayout& l = ws_.layouts_[static_cast<size_t>(s)][static_cast<size_t>(j)];
    const size_t heads = static_cast<size_t>(m_.config.num_heads[static_cast<size_t>(s)]), tasks = static_cast<size_t>(l.num_windows()) * heads;
    auto task = [&](size_t i, int thread) { window_head(s, j, i / heads, i % heads, thread); };
    if (pool_ && tasks > 1) {
      pool_->parallel_for(tasks, task);
    } else {
      for (size_t i = 0; i < tasks; ++i) task(i, 0);
    }
    if (obs_) {
      const std::string name = block_name(s, j);
      emit_act(name + ".attn.out", buf(kAoWin), tokens(s), dim(s), block(s, j).attn_out);
    }
  }

  // Step C on grid rows [r0, r1).
  void proj_mlp(int s, int j, size_t r0, size_t r1) const {
    const QBlock& b = block(s, j);
    const std::vector<int32_t>& row_of = ws_.window_row_of_[static_cast<size_t>(s)][static_cast<size_t>(j)];
    const size_t c = dim(s), t = tokens(s), hidden = static_cast<size_t>(b.fc1.out);
    const uint8_t* aw = buf(kAoWin);
    uint8_t* ao = buf(kAo);
    for (size_t r = r0; r < r1; ++r) std::memcpy(ao + r * c, aw + static_cast<size_t>(row_of[r]) * c, c);
    int32_t* x = res(s);
    linear(b.proj, r0, r1, ao, x);
    const QSwinStage& st = m_.stages[static_cast<size_t>(s)];
    const std::string name = obs_ ? block_name(s, j) : std::string();
    if (obs_) emit(name + ".norm2.in", x, GemmOut::kS32, t, c, st.residual_scale, 0);
    layernorm(b.norm2, r0, r1, x, c, buf(kLn));
    if (obs_) emit_act(name + ".norm2.out", buf(kLn), t, c, b.norm2.out);
    linear(b.fc1, r0, r1, buf(kLn), buf(kHid));
    {
      ScopedOpTimer timer(profile_, OpKind::kGelu);
      const size_t eb = act_bytes(b.gelu_in);
      k_.gelu(b.gelu, (r1 - r0) * hidden, buf(kHid) + r0 * hidden * eb, buf(kHid2) + r0 * hidden * eb);
    }
    if (obs_) {
      emit_act(name + ".mlp.fc1.out", buf(kHid), t, hidden, b.gelu_in);
      emit_act(name + ".mlp.gelu.out", buf(kHid2), t, hidden, b.gelu_out);
    }
    linear(b.fc2, r0, r1, buf(kHid2), x);
    if (trace_ && static_cast<size_t>(j) + 1 == st.blocks.size()) emit(name + ".out", x, GemmOut::kS32, t, c, st.residual_scale, 0);
    if (static_cast<size_t>(j) + 1 < st.blocks.size()) {
      const QLayerNorm& n1 = block(s, j + 1).norm1;
      layernorm(n1, r0, r1, x, c, buf(kLn));
      if (obs_) {
        emit(block_name(s, j + 1) + ".norm1.in", x, GemmOut::kS32, t, c, st.residual_scale, 0);
        emit_act(block_name(s, j + 1) + ".norm1.out", buf(kLn), t, c, n1.out);
      }
    } else if (static_cast<size_t>(s) + 1 == m_.stages.size()) {
      if (obs_) emit("norm.in", x, GemmOut::kS32, t, c, st.residual_scale, 0);
      layernorm(m_.norm, r0, r1, x, c, buf(kNormOut));
    }
  }

  // Average pool (Eq. 44) and head on the calling thread: one row.
  void tail(int32_t* logits) const {
    const int last = m_.config.num_stages() - 1;
    const size_t t = tokens(last), c = dim(last);
    if (obs_) emit_act("norm.out", buf(kNormOut), t, c, m_.norm.out);
    {
      ScopedOpTimer timer(profile_, OpKind::kLinear);
      swin_average_pool(buf(kNormOut), t, c, c, m_.norm.out.zero_point, m_.pool_multiplier, m_.pool_shift, m_.pooled.zero_point, buf(kPooled));
    }
    linear(m_.head, 0, 1, buf(kPooled), logits);
    if (!obs_) return;
    emit_act("pool.out", buf(kPooled), 1, c, m_.pooled);
    emit("logits", logits, GemmOut::kS32, 1, static_cast<size_t>(m_.config.num_classes), m_.logit_scale, 0);
  }

  const IntSwin& m_;
  const KernelSet& k_;
  SwinWorkspace& ws_;
  ThreadPool* pool_;
  const IntActivationObserver* obs_;
  OpProfile* profile_;
  const uint8_t* pixels_ = nullptr;
  bool trace_ = false;
};

namespace {

// The model must match the workspace's geometry and be packed: a few compares per run.
void check_run(const IntSwin& m, const SwinWorkspace& ws, const ThreadPool* pool) {
  const SwinConfig& ws_config = ws.config();
  const int ws_threads = ws.threads();
  auto fail = [](const std::string& why) { throw Error(ErrorCode::kInvalidArgument, "int_swin_forward: " + why); };
  const SwinConfig& c = m.config;
  if (c.image_size != ws_config.image_size || c.patch_size != ws_config.patch_size || c.embed_dim != ws_config.embed_dim ||
      c.depths != ws_config.depths || c.num_heads != ws_config.num_heads || c.window_size != ws_config.window_size ||
      c.num_classes != ws_config.num_classes) {
    fail("the workspace was made for another model geometry");
  }
  if (pool && pool->threads() > ws_threads) fail("a pool of " + std::to_string(pool->threads()) + " threads needs a workspace made for as many");
  if (m.stages.size() != c.depths.size()) fail("the model's stages disagree with its config");
  for (size_t s = 0; s < m.stages.size(); ++s) {
    if (m.stages[s].blocks.size() != static_cast<size_t>(c.depths[s])) fail("the model's blocks disagree with its config");
    for (const QSwinBlock& b : m.stages[s].blocks) {
      if (b.attn_mlp.fc1.out != ws.hidden()[s]) fail("the workspace was made for another MLP width");
    }
  }
  bool packed = true;
  IntSwin::for_each_linear(m, [&](const QLinear& l) { packed = packed && l.packed; });
  if (!packed) fail("a layer is not packed (IntSwin::prepare)");
}

}  // namespace

void int_swin_forward(const IntSwin& m, const KernelSet& kernels, const uint8_t* pixels, SwinWorkspace& ws, int32_t* logits,
                      ThreadPool* pool, const IntActivationObserver* observer, OpProfile* profile) {
  check_run(m, ws, pool);
  SwinForward(m, kernels, ws, pool, observer, profile).run(pixels, logits);
}

void int_swin_forward_traced(const IntSwin& m, const KernelSet& kernels, const uint8_t* pixels, SwinWorkspace& ws, int32_t* logits,
                             const IntActivationObserver& observer) {
  check_run(m, ws, nullptr);
  SwinForward f(m, kernels, ws, nullptr, &observer, nullptr);
  f.enable_trace();
  f.run(pixels, logits);
}

}  // namespace intvit
