#include "weights/nonlinear_params.h"

namespace intvit {
namespace {

void build_layernorm(QLayerNorm& n, const ViTConfig& c, double residual_scale) {
  n.params = make_layernorm_params(n.gamma.data(), n.beta.data(), n.gamma.size(), c.layer_norm_eps, residual_scale,
                                   /*alpha=*/nullptr, /*in_zero_point=*/0, n.out.scale, n.out.zero_point, n.out.bits);
}

}  // namespace

void build_nonlinear_params(IntViT& m) {
  for (QBlock& b : m.blocks) {
    build_layernorm(b.norm1, m.config, m.residual_scale);
    build_layernorm(b.norm2, m.config, m.residual_scale);
    b.softmax = make_softmax_params(m.softmax_mode, b.scores_scale, m.attn_bits);
    b.softmax.renormalize = m.softmax_mode == SoftmaxMode::kLog2 && m.log2_renormalize;
    b.gelu = make_gelu_params(m.gelu_mode, b.gelu_in.scale, b.gelu_in.zero_point, b.gelu_out.scale,
                              b.gelu_out.zero_point, b.gelu_in.bits);
  }
  build_layernorm(m.norm, m.config, m.residual_scale);
}

}  // namespace intvit
