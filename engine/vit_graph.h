// The ViT / DeiT forward as a graph (engine/graph.h), built from the config alone.
#pragma once

#include "engine/graph.h"
#include "engine/vit_config.h"

namespace intvit {

enum class GraphPrecision { kFp32, kInteger };

// kFp32: the reference forward of models/vit_fp32.cc, every tensor f32 at scale 1 (a description:
// that forward does not run from the graph). kInteger: the structure of the integer executor,
// with 8-bit activations and an int32 residual as placeholder types; build_int_vit_graph
// (engine/int_vit.h) types it from a quantized model. The integer structure differs in:
//   - the residual adds are fused into proj / fc2 (accumulating linears, in place), and the class
//     token + position embedding is one int32 table the patch embedding accumulates onto;
//   - v is transposed per head (vᵀ, [D][T]) so attn@v is an "nt" product like q@kᵀ;
//   - attention logits, probabilities and attn@v accumulators are per-thread scratch tiles (one
//     task's query rows of one head), and attn@v is requantized to u8 attn.out;
//   - DeiT-distilled: head (token 0) and head_dist (token 1) write int32 logits at one scale and an
//     average-logits node takes their rounded mean (QUANTIZATION.md Eq. 41); the FP32 graph keeps
//     one head node over both tokens.
// Validated before it is returned.
Graph build_vit_graph(const ViTConfig& c, GraphPrecision precision);

}  // namespace intvit
