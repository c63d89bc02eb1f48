// Offline: (re)build the integer parameters of every softmax, GELU and LayerNorm of an IntViT
// from its stored description (scales, zero-points, gamma/beta). Used by the quantizer and by the
// model loader; float is allowed here and never runs per inference.
#pragma once

#include "engine/int_vit.h"

namespace intvit {

void build_nonlinear_params(IntViT& model);

}  // namespace intvit
