#include "engine/vit_graph.h"

#include <string>

namespace intvit {

Graph build_vit_graph(const ViTConfig& c, GraphPrecision precision) {
  c.validate();
  const bool integer = precision == GraphPrecision::kInteger;
  const size_t t = c.num_tokens(), d = c.embed_dim, hidden = c.mlp_hidden(), patches = c.num_patches();
  const size_t img = c.image_size, patch_in = 3 * static_cast<size_t>(c.patch_size) * c.patch_size;
  const ElemType act = integer ? ElemType::kU8 : ElemType::kF32;    // re-typed per model by build_int_vit_graph
  const ElemType wide = integer ? ElemType::kS32 : ElemType::kF32;  // residual stream, q@kᵀ, attn@v accumulators
  Graph g;
  auto tensor = [&](const std::string& name, ElemType dtype, size_t rows, size_t cols, bool observed,
                    Lifetime kind = Lifetime::kActivation) {
    TensorDesc desc;
    desc.name = name;
    desc.dtype = dtype;
    desc.rows = rows;
    desc.cols = cols;
    desc.kind = kind;
    desc.observed = observed;
    return g.add(std::move(desc));
  };
  // A tensor stored in the first `rows` rows of `of` (in-place output or view).
  auto alias = [&](const std::string& name, int of, size_t rows, bool observed) {
    TensorDesc desc = g.tensors[of];
    desc.name = name;
    desc.rows = rows;
    desc.observed = observed;
    desc.alias = of;
    desc.alias_row = 0;
    return g.add(std::move(desc));
  };
  auto node = [&](OpType op, const std::string& name, std::vector<int> in, int out, int block, Param param, size_t rows,
                  bool accumulate = false) {
    g.add(Node{op, name, std::move(in), {out}, block, param, accumulate, rows});
  };

  const int image = tensor("image", ElemType::kU8, img, img * 3, false, Lifetime::kInput);
  const int gathered = tensor("patch_embed.in", act, patches, patch_in, false);
  node(OpType::kPatchEmbed, "patch_embed", {image}, gathered, -1, Param::kNone, t);
  int x;  // the residual stream
  if (integer) {
    const int tokens = tensor("tokens", wide, t, d, false);
    node(OpType::kClassToken, "cls_token", {}, tokens, -1, Param::kNone, t);
    x = alias("embed", tokens, t, true);
    node(OpType::kLinear, "patch_embed", {gathered, tokens}, x, -1, Param::kPatchEmbed, t, true);
  } else {
    const int embedded = tensor("patch_embed.out", wide, patches, d, false);
    node(OpType::kLinear, "patch_embed", {gathered}, embedded, -1, Param::kPatchEmbed, t);
    const int tokens = tensor("tokens", wide, t, d, false);
    node(OpType::kClassToken, "cls_token", {embedded}, tokens, -1, Param::kNone, t);
    x = tensor("embed", wide, t, d, true);
    node(OpType::kAddPosition, "pos_embed", {tokens}, x, -1, Param::kNone, t);
  }
  // x + linear(in): fused in place (integer) or a linear and an add (FP32).
  auto residual = [&](const std::string& linear_name, Param param, int block, int in, const std::string& out_name,
                      bool observed) {
    if (integer) {
      const int y = alias(out_name, x, t, observed);
      node(OpType::kLinear, linear_name, {in, x}, y, block, param, t, true);
      return y;
    }
    const int z = tensor(linear_name + ".out", wide, t, d, true);
    node(OpType::kLinear, linear_name, {in}, z, block, param, t);
    const int y = tensor(out_name, wide, t, d, observed);
    node(OpType::kAdd, linear_name + ".add", {x, z}, y, block, Param::kNone, t);
    return y;
  };

  const size_t score_rows = integer ? t : c.num_heads * t;  // integer: one tile's rows at most
  const Lifetime tile = integer ? Lifetime::kScratch : Lifetime::kActivation;
  for (int i = 0; i < c.depth; ++i) {
    const std::string p = "blocks." + std::to_string(i);
    const int ln1 = tensor(p + ".norm1.out", act, t, d, true);
    node(OpType::kLayerNorm, p + ".norm1", {x}, ln1, i, Param::kNorm1, t);
    const int q = tensor(p + ".attn.q", act, t, d, true);
    node(OpType::kLinear, p + ".attn.q", {ln1}, q, i, Param::kQ, t);
    const int k = tensor(p + ".attn.k", act, t, d, true);
    node(OpType::kLinear, p + ".attn.k", {ln1}, k, i, Param::kK, t);
    const int v = tensor(p + ".attn.v", act, t, d, true);
    node(OpType::kLinear, p + ".attn.v", {ln1}, v, i, Param::kV, t);
    int vt = v;  // what attn@v reads: vᵀ in the integer graph
    if (integer) {
      vt = tensor(p + ".attn.vt", act, d, t, false);
      node(OpType::kTranspose, p + ".attn.vt", {v}, vt, i, Param::kNone, t);
    }
    const int scores = tensor(p + ".attn.logits", wide, score_rows, t, !integer, tile);
    node(OpType::kQk, p + ".attn", {q, k}, scores, i, Param::kAttention, t);
    const int probs = tensor(p + ".attn.probs", act, score_rows, t, !integer, tile);
    node(OpType::kSoftmax, p + ".attn", {scores}, probs, i, Param::kAttention, t);
    const int attn = tensor(p + ".attn.out", act, t, d, true);
    if (integer) {
      const int acc = tensor(p + ".attn.acc", wide, t, c.head_dim(), false, Lifetime::kScratch);
      // v itself too: unobserved runs of 16-bit probabilities read it in place of vᵀ and requantize
      // in the same kernel (av16_u8, engine/int_executor.cc), so it must live through the attention.
      node(OpType::kAv, p + ".attn", {probs, vt, v}, acc, i, Param::kAttention, t);
      node(OpType::kRequantize, p + ".attn", {acc}, attn, i, Param::kAttention, t);
    } else {
      node(OpType::kAv, p + ".attn", {probs, vt}, attn, i, Param::kAttention, t);
    }
    x = residual(p + ".attn.proj", Param::kProj, i, attn, p + ".norm2.in", true);
    const int ln2 = tensor(p + ".norm2.out", act, t, d, true);
    node(OpType::kLayerNorm, p + ".norm2", {x}, ln2, i, Param::kNorm2, t);
    const int fc1 = tensor(p + ".mlp.fc1.out", act, t, hidden, true);
    node(OpType::kLinear, p + ".mlp.fc1", {ln2}, fc1, i, Param::kFc1, t);
    const int gelu = tensor(p + ".mlp.gelu.out", act, t, hidden, true);
    node(OpType::kGelu, p + ".mlp.gelu", {fc1}, gelu, i, Param::kGelu, t);
    // Observers know the stream after a block as the next block's norm1 input; after the last
    // block only the selected token is observed (norm.in).
    const bool last = i + 1 == c.depth;
    x = residual(p + ".mlp.fc2", Param::kFc2, i, gelu, last ? p + ".out" : "blocks." + std::to_string(i + 1) + ".norm1.in", !last);
  }
  const size_t selected = c.distillation_token ? 2 : 1;
  const int norm_in = alias("norm.in", x, selected, true);
  node(OpType::kSelectToken, "norm.in", {x}, norm_in, -1, Param::kNone, selected);
  const int norm_out = tensor("norm.out", act, selected, d, true);
  node(OpType::kLayerNorm, "norm", {norm_in}, norm_out, -1, Param::kNorm, selected);
  const int logits = tensor("logits", wide, 1, c.num_classes, true, Lifetime::kOutput);
  if (integer && c.distillation_token) {
    // head on token 0, head_dist on token 1 (views of norm.out), then their rounded mean (Eq. 41).
    auto head = [&](const std::string& name, Param param, size_t row) {
      const int in = alias(name + ".in", norm_out, 1, false);
      g.tensors[in].alias_row = row;
      node(OpType::kSelectToken, name + ".in", {norm_out}, in, -1, Param::kNone, 1);
      const int out = tensor(name + ".logits", wide, 1, c.num_classes, true);
      node(OpType::kHead, name, {in}, out, -1, param, 1);
      return out;
    };
    const int cls = head("head", Param::kHead, 0), dist = head("head_dist", Param::kHeadDist, 1);
    node(OpType::kAverageLogits, "logits", {cls, dist}, logits, -1, Param::kNone, 1);
  } else {
    node(OpType::kHead, "head", {norm_out}, logits, -1, Param::kHead, selected);
  }
  validate(g);
  return g;
}

}  // namespace intvit
