// The integer ViT: every tensor, weight and rescale of an integer-only forward, and the forward
// itself (uint8 pixels -> int32 logits, no floating point). Built by the quantizer
// (weights/quantizer.h) or loaded from an integer model file (weights/FORMAT.md).
//
// Data flow of one block (QUANTIZATION.md §1 formats):
//   x (int32 residual, scale s_res) -> LayerNorm -> u8 -> q,k,v linears -> u8 (own scale/zp each;
//   1/sqrt(d) folded into q) -> per head: q@kᵀ (Eq. 9) -> int32 -> softmax -> u8 probs (or log2
//   codes) -> attn@v -> int32 -> requant u8 -> proj linear -> int32 accumulated into x (Eq. 11)
//   x -> LayerNorm -> u8 -> fc1 -> u8|s16 -> GELU -> u8|s16 -> fc2 -> accumulated into x.
// One residual scale s_res for the whole stream, so the adds are plain saturating int32 adds fused
// into the proj/fc2 GEMM epilogues.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <memory>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "kernels/backend/backend.h"
#include "kernels/gelu/gelu.h"
#include "kernels/gemm/gemm.h"
#include "kernels/layernorm/layernorm.h"
#include "kernels/softmax/softmax.h"
#include "engine/vit_config.h"

namespace intvit {

struct OpProfile;

// Quantization of one activation tensor: uint8 asymmetric or int16 symmetric (Eq. 1).
struct ActQuant {
  double scale = 1;       // offline description only (reports, file); kernels use integer params
  int32_t zero_point = 0;  // [0,255] for 8 bits, 0 for 16 bits
  int bits = 8;            // 8 or 16
  GemmOut gemm_out() const { return bits == 8 ? GemmOut::kU8 : GemmOut::kS16; }
  int32_t qmin() const { return bits == 8 ? 0 : -32767; }
  int32_t qmax() const { return bits == 8 ? 255 : 32767; }
};

// A linear layer: int8 per-channel weights, int32 bias, per-channel Q31 output multipliers.
struct QLinear {
  int in = 0, out = 0;
  std::vector<int8_t> weight;      // [out][in]
  std::vector<int32_t> bias;       // [out], scale s_in·s_w[n]
  std::vector<int32_t> multiplier, shift;  // [out], s_in·s_w[n] / s_out
  std::vector<double> weight_scale;         // [out], offline description
  ActQuant input;                  // the activation this layer reads
  GemmOut out_type = GemmOut::kU8;
  int32_t out_zero_point = 0, out_min = 0, out_max = 255;
  bool accumulate = false;         // add into the int32 destination (residual stream)
  // Built by prepare() for one ISA; shared so that IntViT copies (one per backend) are cheap.
  std::shared_ptr<const PackedWeights> packed;

  // Packs the weights for `isa` and takes the requant arrays' extremes (call it after they are final).
  void prepare(GemmIsa isa);
  RequantParams requant() const {
    // The extremes only while they describe these arrays (a reallocation after prepare() drops them).
    const bool current = extremes_of == multiplier.data() && extremes_size == multiplier.size();
    return {multiplier.data(), shift.data(), true, out_zero_point, out_min, out_max, current ? &extremes : nullptr};
  }

 private:
  RequantExtremes extremes;
  const int32_t* extremes_of = nullptr;
  size_t extremes_size = 0;
};

// A LayerNorm with its offline description (gamma, beta, scales) and the integer kernel params
// built from it (build_nonlinear_params in weights/nonlinear_params.h). A loaded model has the
// params only (read from the file as integers) and empty gamma/beta.
struct QLayerNorm {
  std::vector<float> gamma, beta;
  ActQuant out;
  LayerNormParams params;
};

struct QBlock {
  QLayerNorm norm1;
  QLinear q, k, v;                 // q's requantization includes head_dim^-0.5
  ActQuant q_out, k_out, v_out;    // their uint8 outputs
  double scores_scale = 1;         // s_q·s_k: real value of one q@kᵀ accumulator unit
  SoftmaxParams softmax;
  ActQuant probs;                  // softmax output (scale 2^-8, zp 0) — or log2 codes
  int32_t attn_out_multiplier = 0, attn_out_shift = 0;  // attn@v int32 -> u8 attn.out
  ActQuant attn_out;
  QLinear proj;                    // accumulates into the residual stream
  QLayerNorm norm2;
  QLinear fc1;                     // -> GELU input (u8 or s16)
  GeluParams gelu;
  ActQuant gelu_in, gelu_out;
  // 8-bit GELU only, built by IntViT::prepare: GELU of every u8 code (gelu_byte_table), which fc1's
  // output stage applies when the executor folds the GELU node into fc1. Empty for 16-bit GELU.
  std::vector<uint8_t> gelu_bytes;
  QLinear fc2;                     // accumulates into the residual stream
};

struct IntViT {
  ViTConfig config;
  std::vector<std::string> labels;
  SoftmaxMode softmax_mode = SoftmaxMode::kIexp;
  GeluMode gelu_mode = GeluMode::kLut;
  int attn_bits = 8;
  bool log2_renormalize = false;   // kLog2: attn@v rows divided by their quantized weight sum (Eq. 24)
  double residual_scale = 1;       // s_res of the int32 residual stream
  double logit_scale = 1;          // real logit = logit_scale · int32 logit
  QLinear patch_embed;             // weight [D][P·P·3] in (ky, kx, c) order; reads raw pixels (scale 1, zp 0)
  std::vector<int32_t> embed_init; // [T][D] int32 at s_res: class token + position embedding
  std::vector<QBlock> blocks;
  QLayerNorm norm;
  QLinear head;                    // s32 logits at logit_scale (per-tensor), per-channel weights
  // DeiT-distilled only (config.distillation_token): the distillation head on token 1, s32 logits
  // at the same logit_scale; the model's logits are the rounded mean of both (QUANTIZATION.md Eq. 41).
  QLinear head_dist;

  void prepare(GemmIsa isa);       // packs every linear for the ISA, builds QBlock::gelu_bytes
  // After prepare(): frees the plain int8 weights, which the forward never reads (the packed
  // copies hold everything), so a loaded model keeps one copy of its weights per backend.
  void release_plain_weights();
};

class ThreadPool;

// Sees the integer activations of a forward (diagnosis and bias correction; offline only). Names
// match models/vit_fp32.h's ActivationObserver; real value = scale · (q − zero_point). Data is
// uint8, int16 or int32 per `type`, [rows][cols] with row stride `ld` elements.
struct IntActivation {
  const void* data;
  GemmOut type;
  size_t rows, cols, ld;
  double scale;
  int32_t zero_point;
  // The graph tensor (its dtype, incl. u16 probabilities that `type` cannot name) and, in trace
  // mode, the head whose per-thread tile this is (-1: the whole tensor). Set by the executor.
  const TensorDesc* tensor = nullptr;
  int head = -1;
  // Offline helper (float): inline so that it is compiled only where it is called, never into
  // the integer executor's object (tests/no_float checks that).
  double real(size_t r, size_t c) const {
    const size_t i = r * ld + c;
    const int64_t q = type == GemmOut::kU8 ? static_cast<const uint8_t*>(data)[i]
                      : type == GemmOut::kS16 ? static_cast<const int16_t*>(data)[i]
                                              : static_cast<const int32_t*>(data)[i];
    return scale * static_cast<double>(q - zero_point);
  }
};
using IntActivationObserver = std::function<void(std::string_view name, const IntActivation&)>;

// The parameters a graph node of an integer ViT graph uses (engine/graph.h Node::block, param).
// Throw intvit::Error(kInvalidArgument) for a node without such parameters.
const QLinear& node_linear(const IntViT& m, const Node& n);
const QLayerNorm& node_norm(const IntViT& m, const Node& n);

// The integer graph of `m`: engine/vit_graph.h's structure with every tensor's dtype, scale and
// zero-point taken from the model (16-bit GELU tensors in wide blocks, u16 probabilities with
// 16-bit attention, ...). Throws intvit::Error(kInvalidArgument) when the model's layer sizes
// disagree with its config.
Graph build_int_vit_graph(const IntViT& m);

// The real value of one attn@v accumulator unit, s_probs · s_v (a description for observers and
// reports; nominal for log2 codes). Offline: engine/int_vit_scales.cc.
double av_accumulator_scale(const QBlock& b);

// Everything one forward needs besides the model: the typed graph, its segments and a memory plan
// for `threads` threads and up to `batch` images (batch-major activations, engine/graph.h), in one
// 64-byte aligned arena allocated here (zeroed; a run allocates nothing). Made for one model's
// geometry and bit widths; int_vit_forward checks that. batch in [1, kMaxWorkspaceBatch].
inline constexpr size_t kMaxWorkspaceBatch = 256;
class IntWorkspace {
 public:
  explicit IntWorkspace(const IntViT& m, int threads = 1, size_t batch = 1);
  size_t bytes() const { return plan_.bytes; }  // the arena
  int threads() const { return threads_; }
  size_t batch() const { return plan_.batch; }  // images one run may hold
  const Graph& graph() const { return graph_; }
  const std::vector<Segment>& segments() const { return segments_; }
  const MemoryPlan& plan() const { return plan_; }
  uint8_t* arena() { return arena_.get(); }

 private:
  struct Free {
    void operator()(uint8_t* p) const;
  };
  Graph graph_;
  std::vector<Segment> segments_;
  MemoryPlan plan_;
  int threads_;
  std::unique_ptr<uint8_t, Free> arena_;
};

// uint8 RGB HWC pixels of image_size² -> int32 logits [num_classes] (real = logit_scale · value).
// Runs the workspace's graph segment by segment (engine/int_executor.cc). With a pool, rows and
// (head, row block) tasks are split across its threads (the workspace must have been made for at
// least pool->threads(), else intvit::Error); the result is bit-identical for any thread count.
// Every kernel call goes through `kernels` (kernels/backend/backend.h); the model must be packed
// for kernels.gemm. `profile`, if given, accumulates the time spent per op type (engine/op_profile.h),
// and per graph node once bound to the workspace's graph (bind_profile_nodes).
void int_vit_forward(const IntViT& model, const KernelSet& kernels, const uint8_t* pixels, IntWorkspace& ws,
                     int32_t* logits, ThreadPool* pool = nullptr, const IntActivationObserver* observer = nullptr,
                     OpProfile* profile = nullptr);

// Trace mode (engine/trace.h): one image on the calling thread, every tensor of the graph emitted
// under its graph name after the node that writes it (so the in-place residual stream is seen after
// each add), the model input first. The per-thread attention tiles (attn.logits, attn.probs,
// attn.acc) are emitted once per head, whole ([tokens][cols] of that head, IntActivation::head set).
// The logits are int_vit_forward's bits.
void int_vit_forward_traced(const IntViT& model, const KernelSet& kernels, const uint8_t* pixels, IntWorkspace& ws,
                            int32_t* logits, const IntActivationObserver& observer);

// n images (pixels back to back) -> logits [n][num_classes] in one pass over the graph: each
// row-wise node runs once over the n·rows batch-major rows (a linear is one GEMM with M = n·tokens,
// its weights read once per batch), attention as (image, head, query-row block) tasks; the pool's
// threads split both. Bit-identical to n int_vit_forward calls. n in [1, ws.batch()], else
// intvit::Error(kInvalidArgument).
void int_vit_forward_batch(const IntViT& model, const KernelSet& kernels, size_t n, const uint8_t* pixels, IntWorkspace& ws,
                           int32_t* logits, ThreadPool* pool = nullptr, OpProfile* profile = nullptr);

// Binds `profile`'s per-node slots to the nodes of ws's graph (their names and op kinds), so the
// forwards above add each node's CPU time and executed MACs (OpProfile::add_node). Allocates: call
// when the session is made, not between runs.
void bind_profile_nodes(const IntWorkspace& ws, OpProfile& profile);

}  // namespace intvit
