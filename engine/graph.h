// A small typed graph IR for ViT inference, its schedule and its memory plan.
//
// Graph: tensors (dtype, [rows][cols] row-major, scale/zero-point, lifetime kind) and nodes in
// execution order (op, input/output tensor ids, the block and parameter set they use). Built from
// a config by engine/vit_graph.h (FP32 and integer structure) and typed from an integer model by
// build_int_vit_graph (engine/int_vit.h). Tensor names are the activation-observer names of
// models/vit_fp32.h ("blocks.3.attn.q", "norm.out", ...), so reports match FP32 and integer runs.
//
// In-place and views: a tensor may live inside another one (`alias`, from row `alias_row` on).
// The integer graph uses that twice: the residual adds are fused into the proj / fc2 / patch-embed
// GEMM epilogues (Node::accumulate: the output aliases the node's last input and is updated in
// place, one int32 residual buffer for the whole stream), and kSelectToken is a view of the class
// token row (no copy). The FP32 graph spells the adds out as kAdd nodes.
//
// Segments (derive_segments): consecutive nodes are grouped so that threads meet rarely.
//   - row-wise segment: every output row depends only on the same input row (patch gather, class
//     token, layernorm, linear, vᵀ, gelu, add, select token, head). Each thread runs the whole
//     segment on its own row range without synchronizing; segments change when the row domain does
//     (all tokens -> class token).
//   - attention segment (qk -> softmax -> av -> requantize of one block): reads every row of k and
//     v, so it starts after a pool barrier; it is split into (head × query-row block) tasks whose
//     intermediates are per-thread scratch tiles.
// A ViT block is therefore two pool meetings: its attention, then proj..fc2 of this block fused
// with norm1..vᵀ of the next one; the embedding shares block 0's first segment, and the 1-row
// tail (select token, norm, head) runs on the calling thread.
// Observation (offline): each node output marked `observed` is emitted after its node, and a
// LayerNorm's input also as "<norm>.in" (the FP32 observer's name) when named otherwise. Trace
// mode (int_vit_forward_traced) emits every tensor instead, scratch tiles once per head.
//
// Memory plan (plan_memory): lifetime of a storage = [first, last] segment touching it or any
// tensor aliasing it. Segment granularity, not node granularity: inside a row-wise segment the
// threads are at different nodes on different rows, so two tensors alive in one segment must never
// share bytes. Offsets are assigned greedy-by-size, first fit (TFLite's arena planner), 64-byte
// aligned; per-thread scratch gets one copy per thread. One allocation per session, none per run.
// Batches: a plan for `batch` images stores each activation batch-major, [batch][rows][cols] (so
// the image copies of a row-wise tensor are one [batch·rows][cols] matrix: a linear over a batch is
// one GEMM with M = batch·rows); image i of tensor t starts image_stride[t] bytes after image i-1
// (its storage's per-image size, so aliases step with their target). Scratch stays per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace intvit {

// Element type of an activation (not "DType": models/dtype.h has that name for safetensors).
enum class ElemType : uint8_t { kU8, kU16, kS16, kS32, kF32 };
size_t elem_bytes(ElemType t);
const char* elem_type_name(ElemType t);

enum class Lifetime : uint8_t {
  kInput,       // the model input: caller memory, read-only, not planned
  kOutput,      // the model output: caller memory, not planned
  kActivation,  // planned in the arena, one copy; threads write disjoint rows / head columns
  kScratch,     // planned in the arena, one copy per thread; lives inside one attention task
};

struct TensorDesc {
  std::string name;
  ElemType dtype = ElemType::kU8;
  size_t rows = 0, cols = 0;
  double scale = 1;         // real = scale · (q − zero_point); description only, never computed with
  int32_t zero_point = 0;
  Lifetime kind = Lifetime::kActivation;
  bool observed = false;    // passed to activation observers under `name`
  int alias = -1;           // stored inside tensor `alias` (an earlier id), from row alias_row on
  size_t alias_row = 0;

  size_t row_bytes() const { return cols * elem_bytes(dtype); }
  size_t bytes() const { return rows * row_bytes(); }
};

enum class OpType : uint8_t {
  kPatchEmbed,   // gather each P×P×3 patch of the image into one row (FP32: also normalizes)
  kClassToken,   // rows [0, prefix) = class (and distillation) token; integer: the whole
                 // class-token + position table, onto which the patch embedding accumulates
  kAddPosition,  // + position embedding (FP32; the integer model folds it into kClassToken)
  kLayerNorm,
  kLinear,       // accumulate: out (aliasing the last input) = sat(out + result)
  kTranspose,    // v [T][D] -> vᵀ [D][T], so attn@v is the same "nt" product as q@kᵀ
  kQk,           // per head q@kᵀ
  kSoftmax,
  kAv,           // per head probs@v; integer inputs: probs, vᵀ, and v itself (read by the fused av16_u8)
  kRequantize,   // int32 attn@v accumulators -> attn.out
  kGelu,
  kAdd,          // residual add (FP32; the integer graph fuses it into the linear)
  kSelectToken,  // the class-token row(s) feeding the head: a view
  kHead,         // classifier on the selected token(s) -> logits
  kAverageLogits,  // integer DeiT-distilled: the two heads' int32 logits averaged (QUANTIZATION.md Eq. 41)
};
const char* op_name(OpType op);
// Ops that read all rows of a tensor (k, v) or per-thread scratch: they form attention segments.
bool is_attention_op(OpType op);

// Which parameter set of the model (or of block `Node::block`) a node uses.
enum class Param : uint8_t { kNone, kPatchEmbed, kNorm1, kQ, kK, kV, kAttention, kProj, kNorm2, kFc1, kGelu, kFc2, kNorm, kHead, kHeadDist };

struct Node {
  OpType op = OpType::kLinear;
  std::string name;           // the parameter path ("blocks.3.attn.q", "norm", ...)
  std::vector<int> inputs, outputs;
  int block = -1;             // transformer block, -1 outside the blocks
  Param param = Param::kNone;
  bool accumulate = false;    // kLinear: add into the last input in place (the residual stream)
  size_t rows = 0;            // row domain the work is split over (tokens, or the selected token)
};

struct Graph {
  std::vector<TensorDesc> tensors;
  std::vector<Node> nodes;

  int add(TensorDesc t);      // returns the tensor id
  void add(Node n);
  int find(std::string_view name) const;  // tensor id, -1 if absent
};

// Throws intvit::Error(kInvalidArgument) naming the node and tensor: ids in range, every tensor
// produced (or an input) before it is read and produced once, in-place targets not read after
// they were overwritten, aliases inside their target with the same dtype and columns, per-op shapes.
void validate(const Graph& g);

enum class SegmentKind : uint8_t { kRows, kAttention };

struct Segment {
  SegmentKind kind = SegmentKind::kRows;
  int begin = 0, end = 0;  // nodes [begin, end)
  size_t rows = 0;         // rows split across threads (attention: query rows)
};

// Also checks that scratch tensors never leave their attention segment (Error kInvalidArgument).
std::vector<Segment> derive_segments(const Graph& g);

inline constexpr size_t kArenaAlignment = 64;
inline constexpr size_t kNotPlanned = SIZE_MAX;  // offset of model inputs and outputs

struct MemoryPlan {
  size_t bytes = 0;                   // arena size
  std::vector<size_t> offset;         // per tensor; aliases point inside their target
  std::vector<size_t> thread_stride;  // per tensor: bytes between per-thread copies (scratch), else 0
  std::vector<size_t> image_stride;   // per tensor: bytes between per-image copies (activations), else 0
  size_t batch = 1;                   // images planned for
};

MemoryPlan plan_memory(const Graph& g, const std::vector<Segment>& segments, int threads, size_t batch = 1);
// What one buffer per tensor would take (aliases and I/O excluded, scratch × threads, aligned).
size_t unplanned_bytes(const Graph& g, int threads, size_t batch = 1);

}  // namespace intvit
