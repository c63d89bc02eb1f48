// Types engine/vit_graph.h's integer structure from a quantized model (build_int_vit_graph in
// engine/int_vit.h). Session setup, not the forward: it copies the offline scales (doubles) into
// the tensor descriptions, which nothing on the integer path computes with; the one scale that
// needs arithmetic comes from engine/int_vit_scales.cc (offline), so this object stays integer-only.
#include "kernels/error.h"
#include "engine/int_vit.h"
#include "engine/vit_graph.h"

namespace intvit {
namespace {

ElemType gemm_dtype(GemmOut t) { return t == GemmOut::kU8 ? ElemType::kU8 : t == GemmOut::kS16 ? ElemType::kS16 : ElemType::kS32; }
ElemType act_dtype(const ActQuant& q) { return q.bits == 16 ? ElemType::kS16 : ElemType::kU8; }

void set(TensorDesc& t, ElemType dtype, double scale, int32_t zero_point) {
  t.dtype = dtype;
  t.scale = scale;
  t.zero_point = zero_point;
}

// The quantization of a (non-accumulating) linear's output.
const ActQuant& linear_out(const QBlock& b, Param p) {
  switch (p) {
    case Param::kQ: return b.q_out;
    case Param::kK: return b.k_out;
    case Param::kV: return b.v_out;
    default: return b.gelu_in;  // fc1
  }
}

}  // namespace

Graph build_int_vit_graph(const IntViT& m) {
  if (m.blocks.size() != static_cast<size_t>(m.config.depth)) {
    throw Error(ErrorCode::kInvalidArgument, "integer model has " + std::to_string(m.blocks.size()) + " blocks, its config " +
                                                 std::to_string(m.config.depth));
  }
  Graph g = build_vit_graph(m.config, GraphPrecision::kInteger);
  for (const Node& n : g.nodes) {
    TensorDesc& out = g.tensors[n.outputs[0]];
    const TensorDesc* in = n.inputs.empty() ? nullptr : &g.tensors[n.inputs[0]];
    const QBlock* b = n.block >= 0 ? &m.blocks[static_cast<size_t>(n.block)] : nullptr;
    switch (n.op) {
      case OpType::kPatchEmbed: set(out, ElemType::kU8, m.patch_embed.input.scale, m.patch_embed.input.zero_point); break;
      case OpType::kClassToken: set(out, ElemType::kS32, m.residual_scale, 0); break;
      case OpType::kLayerNorm: {
        const ActQuant& q = node_norm(m, n).out;
        set(out, act_dtype(q), q.scale, q.zero_point);
        break;
      }
      case OpType::kLinear:
      case OpType::kHead: {
        const QLinear& l = node_linear(m, n);
        if (static_cast<size_t>(l.in) != in->cols || static_cast<size_t>(l.out) != out.cols) {
          throw Error(ErrorCode::kInvalidArgument, "layer '" + n.name + "' is " + std::to_string(l.in) + " -> " + std::to_string(l.out) +
                                                       ", the config makes it " + std::to_string(in->cols) + " -> " + std::to_string(out.cols));
        }
        if (n.accumulate) {
          set(out, ElemType::kS32, m.residual_scale, 0);
        } else if (n.op == OpType::kHead) {
          set(out, ElemType::kS32, m.logit_scale, 0);
        } else {
          set(out, gemm_dtype(l.out_type), linear_out(*b, n.param).scale, l.out_zero_point);
        }
        break;
      }
      case OpType::kTranspose:
      case OpType::kSelectToken: set(out, in->dtype, in->scale, in->zero_point); break;
      case OpType::kAverageLogits: set(out, ElemType::kS32, m.logit_scale, 0); break;
      case OpType::kQk: set(out, ElemType::kS32, b->scores_scale, 0); break;
      case OpType::kSoftmax: set(out, b->probs.bits == 16 ? ElemType::kU16 : ElemType::kU8, b->probs.scale, b->probs.zero_point); break;
      case OpType::kAv: set(out, ElemType::kS32, av_accumulator_scale(*b), 0); break;
      case OpType::kRequantize: set(out, ElemType::kU8, b->attn_out.scale, b->attn_out.zero_point); break;
      case OpType::kGelu: set(out, act_dtype(b->gelu_out), b->gelu_out.scale, b->gelu_out.zero_point); break;
      default: throw Error(ErrorCode::kInternal, std::string("integer graph has an FP32-only ") + op_name(n.op) + " node");
    }
  }
  if (m.embed_init.size() != g.tensors[g.find("tokens")].bytes() / 4) {
    throw Error(ErrorCode::kInvalidArgument, "integer model's class-token + position table has " + std::to_string(m.embed_init.size()) +
                                                 " entries, its config needs tokens × dim");
  }
  validate(g);
  return g;
}

}  // namespace intvit
