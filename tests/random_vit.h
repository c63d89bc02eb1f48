// A seeded random ViT/DeiT in FP32 (timm layout), for tests and fuzz seeds that need a real model
// of any geometry without pretrained weights. Shared by the engine, C API and fuzz-seed code.
#pragma once

#include <cmath>
#include <random>
#include <vector>

#include "models/vit_fp32.h"

namespace intvit::test {

inline std::vector<float> random_vector(std::mt19937& rng, size_t n, float scale, float offset = 0) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = offset + dist(rng);
  return v;
}

// Weights ~ N(0, 1/in) so activations keep their scale through the blocks.
inline LinearF32 random_linear(std::mt19937& rng, int in, int out) {
  return {in, out, random_vector(rng, static_cast<size_t>(in) * out, 1.0f / std::sqrt(static_cast<float>(in))),
          random_vector(rng, out, 0.02f)};
}

inline ViTWeightsF32 random_vit(const ViTConfig& c, unsigned seed) {
  std::mt19937 rng(seed);
  ViTWeightsF32 m;
  m.config = c;
  const int d = c.embed_dim;
  m.patch_embed = random_linear(rng, 3 * c.patch_size * c.patch_size, d);
  m.cls_token = random_vector(rng, d, 0.5f);
  m.pos_embed = random_vector(rng, static_cast<size_t>(c.num_tokens()) * d, 0.5f);
  for (int i = 0; i < c.depth; ++i) {
    BlockF32 b;
    b.norm1 = {random_vector(rng, d, 0.1f, 1.0f), random_vector(rng, d, 0.1f)};
    b.qkv = random_linear(rng, d, 3 * d);
    b.proj = random_linear(rng, d, d);
    b.norm2 = {random_vector(rng, d, 0.1f, 1.0f), random_vector(rng, d, 0.1f)};
    b.fc1 = random_linear(rng, d, c.mlp_hidden());
    b.fc2 = random_linear(rng, c.mlp_hidden(), d);
    m.blocks.push_back(std::move(b));
  }
  m.norm = {random_vector(rng, d, 0.1f, 1.0f), random_vector(rng, d, 0.1f)};
  m.head = random_linear(rng, d, c.num_classes);
  return m;
}

}  // namespace intvit::test
