// The integer Swin Transformer: its tensors, weights and rescales, and its forward (uint8 pixels
// -> int32 logits, no floating point). Built by the quantizer (weights/swin_quantizer.h) or loaded
// from an integer model file (weights/FORMAT.md, "Swin"). Reuses the ViT's layer types
// (engine/int_vit.h) and kernels; QUANTIZATION.md §9 has the Swin-only equations.
//
// Data flow (per stage s, int32 residual stream x_s at its own scale s_res[s], tokens row-major
// over the stage grid):
//   pixels -> patch gather -> patch_embed linear -> s32 at s_pe -> LayerNorm -> s16 -> rescale
//   (Eq. 45) -> x_0.
//   block: x -> norm1 -> u8 -> row gather by the window permutation (roll + partition) -> q,k,v
//   -> per (window, head): q@kᵀ + relative-position bias + shift mask (Eq. 42-43, int32) ->
//   softmax -> attn@v -> requant u8 -> row gather back to grid order -> proj accumulated into x;
//   x -> norm2 -> fc1 -> GELU -> fc2 accumulated into x (as in ViT).
//   patch merging (stage s >= 1): 2×2 gather of x_{s-1} rows into [T/4][4C] int32 -> LayerNorm
//   -> u8 -> reduction linear (no bias) -> s32 at s_res[s] = x_s.
//   tail: norm -> u8 [T][C] -> average pool over tokens (Eq. 44) -> u8 [C] -> head -> s32 logits.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/int_vit.h"
#include "engine/swin_config.h"
#include "engine/swin_windows.h"

namespace intvit {

// Eq. 43: the shifted-window mask, added to the q@kᵀ accumulators of token pairs in different
// regions. Its real value s_qk·2^30 lies beyond every softmax mode's clamp for any s_qk >= 2^-24
// (the quantizer checks), so those probabilities are exactly 0 (FP32 timm adds −100 instead).
inline constexpr int32_t kSwinMaskLogit = -(1 << 30);
// Eq. 42: stored relative-position biases are within ±2^28 (the loader checks), so acc + bias +
// mask never leaves int32 for |acc| < 2^28 (head_dim <= 4096: |acc| <= 4096·255² < 2^28).
inline constexpr int32_t kSwinMaxBias = 1 << 28;
// The forward starts q@kᵀ's accumulators from the bias (matmul_u8u8_nt_add, modulo 2^32), then adds
// the mask saturating: the same bits as Eq. 42-43's one saturating add while acc + bias cannot wrap,
// i.e. |acc| <= head_dim·255² < 2^28, which holds up to this head_dim (larger: the separate add).
inline constexpr size_t kSwinFusedBiasMaxHeadDim = 4096;

struct QSwinBlock {
  QBlock attn_mlp;                  // norm1, q/k/v, softmax, attn@v requant, proj, norm2, MLP
  std::vector<int32_t> attn_bias;   // [heads][N][N], N = window², at scores_scale (Eq. 42)
};

struct QSwinStage {
  double residual_scale = 1;        // s_res of this stage's int32 stream
  QLayerNorm merge_norm;            // stage >= 1: over 4·C_{s-1}, reads x_{s-1} at its scale
  QLinear merge_reduction;          // stage >= 1: 4·C_{s-1} -> C_s, no bias, s32 at residual_scale
  std::vector<QSwinBlock> blocks;
};

struct IntSwin {
  SwinConfig config;
  std::vector<std::string> labels;
  SoftmaxMode softmax_mode = SoftmaxMode::kLut;
  GeluMode gelu_mode = GeluMode::kLut;
  int attn_bits = 16;
  bool log2_renormalize = false;
  double logit_scale = 1;
  QLinear patch_embed;              // [C0][P·P·3] (ky, kx, c) order, mean/std folded; s32 at patch_embed_scale
  double patch_embed_scale = 1;
  QLayerNorm patch_norm;            // int32 -> int16 (zero-point 0)
  int32_t patch_norm_multiplier = 0, patch_norm_shift = 0;  // Eq. 45: s_pn / s_res[0]
  std::vector<QSwinStage> stages;
  QLayerNorm norm;                  // last stage's stream -> u8
  ActQuant pooled;                  // u8 average of norm's output over tokens
  int32_t pool_multiplier = 0, pool_shift = 0;  // Eq. 44: s_norm / (T · s_pooled)
  QLinear head;                     // s32 logits at logit_scale

  void prepare(GemmIsa isa);        // packs every linear for the ISA
  void release_plain_weights();     // as IntViT::release_plain_weights
  // fn(QLinear&) for every layer in a fixed order (patch embed, per stage: merge reduction, per
  // block q k v proj fc1 fc2; head). Self: IntSwin or const IntSwin.
  template <typename Self, typename Fn>
  static void for_each_linear(Self& m, Fn&& fn) {
    fn(m.patch_embed);
    for (size_t s = 0; s < m.stages.size(); ++s) {
      if (s > 0) fn(m.stages[s].merge_reduction);
      for (auto& sb : m.stages[s].blocks) {
        auto& b = sb.attn_mlp;
        fn(b.q), fn(b.k), fn(b.v), fn(b.proj), fn(b.fc1), fn(b.fc2);
      }
    }
    fn(m.head);
  }
};

// Everything one forward needs besides the model, allocated once (zeroed): activation buffers sized
// for the largest stage, per-thread attention tiles, the window layouts and relative-position maps.
class SwinWorkspace {
 public:
  explicit SwinWorkspace(const IntSwin& m, int threads = 1);
  int threads() const { return threads_; }
  size_t bytes() const { return bytes_; }
  const SwinConfig& config() const { return config_; }
  const std::vector<int>& hidden() const { return hidden_; }  // fc1 width per stage

 private:
  friend class SwinForward;
  struct Free {
    void operator()(uint8_t* p) const;
  };
  uint8_t* buffer(int i) const { return arena_.get() + offset_[static_cast<size_t>(i)]; }
  uint8_t* tile(int i, int thread) const { return arena_.get() + tile_offset_[static_cast<size_t>(i)] + static_cast<size_t>(thread) * tile_stride_; }
  std::vector<std::vector<SwinWindowLayout>> layouts_;  // [stage][block]
  std::vector<std::vector<std::vector<int32_t>>> window_row_of_;  // [stage][block][token]: inverse of token_of
  std::vector<int> hidden_;
  std::vector<size_t> offset_, tile_offset_;
  size_t tile_stride_ = 0, bytes_ = 0;
  int threads_ = 1;
  std::unique_ptr<uint8_t, Free> arena_;
  // Geometry the workspace was made for (int_swin_forward checks it against the model).
  SwinConfig config_;
};

// uint8 RGB HWC pixels of image_size² -> int32 logits [num_classes] (real = logit_scale · value).
// An observer sees the tensors under models/swin_fp32.h's observer names (then the forward runs on
// the calling thread); `profile` accumulates time per op type (engine/op_profile.h). With a pool, rows and (window, head) tasks are split across its threads (the workspace must have
// been made for at least pool->threads()); the result is bit-identical for any thread count and
// every backend. The model must be packed for kernels.gemm. Throws Error(kInvalidArgument) for a
// workspace of another geometry or an unpacked model.
void int_swin_forward(const IntSwin& model, const KernelSet& kernels, const uint8_t* pixels, SwinWorkspace& ws,
                      int32_t* logits, ThreadPool* pool = nullptr, const IntActivationObserver* observer = nullptr,
                      OpProfile* profile = nullptr);

// Trace mode (engine/trace.h): one image on the calling thread; the observer sees the plain
// observer's tensors plus patch_embed.in / .proj.out / .norm.out, attn.vt, the stream after each
// stage's last block (<b>.out), and every (window, head) attention tile (attn.qk, attn.logits,
// attn.probs, attn.acc) with IntActivation::head = w·heads + h (16-bit probabilities as kS16
// tiles holding u16 values; attn.acc with scale 1: its real scale is s_probs·s_v). The logits are
// int_swin_forward's bits.
void int_swin_forward_traced(const IntSwin& model, const KernelSet& kernels, const uint8_t* pixels, SwinWorkspace& ws,
                             int32_t* logits, const IntActivationObserver& observer);

// Eq. 42-43 on one (window, head) tile: scores[i][j] = sat32(scores[i][j] + bias[i][j] + mask),
// mask = kSwinMaskLogit where region[i] != region[j] (region == nullptr: no mask). Rows [0, n);
// precondition |bias| <= kSwinMaxBias (the quantizer clamps, the loader checks).
void add_swin_attention_bias(int32_t* scores, size_t ld, size_t n, const int32_t* bias, const uint8_t* region);

// Eq. 43 alone on a tile that already holds acc + bias: scores[i][j] = sat32(scores[i][j] + mask),
// mask as in add_swin_attention_bias (region != nullptr).
void add_swin_shift_mask(int32_t* scores, size_t ld, size_t n, const uint8_t* region);

// Eq. 44: out[c] = clamp(z_out + MBQM(Σ_t (in[t][c] − z_in), M, shift), 0, 255) for c < cols.
void swin_average_pool(const uint8_t* in, size_t rows, size_t cols, size_t ld, int32_t in_zero_point, int32_t multiplier,
                       int32_t shift, int32_t out_zero_point, uint8_t* out);

}  // namespace intvit
