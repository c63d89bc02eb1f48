// A seeded random ViT/DeiT in FP32 (timm layout), for tests and fuzz seeds that need a real model
// of any geometry without pretrained weights. Shared by the engine, C API and fuzz-seed code.
// The builder lives in weights/random_vit.h (intvit-bench uses it too); these are its test names.
#pragma once

#include "weights/random_vit.h"

namespace intvit::test {

using intvit::random_linear;
using intvit::random_vector;
using intvit::random_vit;

}  // namespace intvit::test
