// A seeded random Swin Transformer in FP32 (timm layout), for tests and benchmarks that need a Swin of
// any geometry without pretrained weights (offline test code: float allowed; header-only, never part of
// the library). Same weight scales as tests/random_vit.h.
#pragma once

#include <random>
#include <vector>

#include "models/swin_fp32.h"
#include "random_vit.h"

namespace intvit {

inline SwinWeightsF32 random_swin(const SwinConfig& c, unsigned seed) {
  c.validate();
  std::mt19937 rng(seed);
  SwinWeightsF32 m;
  m.config = c;
  const int d = c.embed_dim;
  m.patch_embed = random_linear(rng, 3 * c.patch_size * c.patch_size, d);
  m.patch_norm = {random_vector(rng, d, 0.1f, 1.0f), random_vector(rng, d, 0.1f)};
  for (int s = 0; s < c.num_stages(); ++s) {
    const int dim = c.stage_dim(s), ws = c.stage_window(s);
    SwinStageF32 st;
    if (s > 0) {
      const int in = 4 * c.stage_dim(s - 1);
      st.merge_norm = {random_vector(rng, in, 0.1f, 1.0f), random_vector(rng, in, 0.1f)};
      st.merge_reduction = random_linear(rng, in, dim);
      st.merge_reduction.bias.clear();  // timm's reduction has no bias
    }
    for (int j = 0; j < c.depths[s]; ++j) {
      SwinBlockF32 b;
      b.norm1 = {random_vector(rng, dim, 0.1f, 1.0f), random_vector(rng, dim, 0.1f)};
      b.qkv = random_linear(rng, dim, 3 * dim);
      b.relative_position_bias_table =
          random_vector(rng, static_cast<size_t>(2 * ws - 1) * (2 * ws - 1) * c.num_heads[s], 0.5f);
      b.proj = random_linear(rng, dim, dim);
      b.norm2 = {random_vector(rng, dim, 0.1f, 1.0f), random_vector(rng, dim, 0.1f)};
      b.fc1 = random_linear(rng, dim, c.mlp_hidden(s));
      b.fc2 = random_linear(rng, c.mlp_hidden(s), dim);
      st.blocks.push_back(std::move(b));
    }
    m.stages.push_back(std::move(st));
  }
  const int f = c.num_features();
  m.norm = {random_vector(rng, f, 0.1f, 1.0f), random_vector(rng, f, 0.1f)};
  m.head = random_linear(rng, f, c.num_classes);
  return m;
}

}  // namespace intvit
