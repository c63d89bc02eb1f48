// A seeded random ViT/DeiT in FP32 (timm layout), for tests, fuzz seeds and benchmarks that need a
// real model of any geometry without pretrained weights (offline test code: float allowed;
// header-only, never part of the library). intvit-bench includes it from here too.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "models/vit_fp32.h"

namespace intvit {

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
  if (c.distillation_token) {  // drawn last, so other geometries keep their weights
    m.dist_token = random_vector(rng, d, 0.5f);
    m.head_dist = random_linear(rng, d, c.num_classes);
  }
  return m;
}

// `count` model inputs (image_size² RGB HWC uint8): a random gradient plus noise, so that patches
// are not pure noise (calibration ranges then look more like a photo's than white noise would).
inline std::vector<std::vector<uint8_t>> random_model_inputs(const ViTConfig& c, size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  const int s = c.image_size;
  std::vector<std::vector<uint8_t>> images(count, std::vector<uint8_t>(static_cast<size_t>(s) * s * 3));
  for (auto& im : images) {
    const int gx = static_cast<int>(rng() % 8), gy = static_cast<int>(rng() % 8);
    for (size_t i = 0; i < im.size(); ++i) {
      const int x = static_cast<int>((i / 3) % s), y = static_cast<int>((i / 3) / s);
      im[i] = static_cast<uint8_t>(std::clamp(gx * x + gy * y + static_cast<int>(rng() % 64), 0, 255));
    }
  }
  return images;
}

}  // namespace intvit

namespace intvit::test {

using intvit::random_linear;
using intvit::random_vector;
using intvit::random_vit;

// The small geometry the engine, C API and concurrency tests quantize and run.
inline ViTConfig tiny_config() {
  ViTConfig c;
  c.image_size = 32;
  c.patch_size = 8;
  c.embed_dim = 32;
  c.depth = 2;
  c.num_heads = 2;
  c.mlp_ratio = 4;
  c.num_classes = 10;
  c.mean = {0.5, 0.5, 0.5};
  c.std = {0.5, 0.5, 0.5};
  c.crop_pct = 0.9;
  return c;
}

}  // namespace intvit::test
