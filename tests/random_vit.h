// A seeded random ViT/DeiT in FP32 (timm layout), for tests and fuzz seeds that need a real model
// of any geometry without pretrained weights. Shared by the engine, C API and fuzz-seed code.
// The builder lives in weights/random_vit.h (intvit-bench uses it too); these are its test names.
#pragma once

#include "weights/random_vit.h"

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
