// Offline: (re)build the integer parameters of every softmax, GELU and LayerNorm of an IntViT
// from its description (scales, zero-points, gamma/beta). Used by the quantizer and by `intvit
// upgrade` (version-1 files); float is allowed here and never runs at load or per inference: a
// version-2 model file stores the parameters built here as integers (weights/FORMAT.md).
#pragma once

#include "engine/int_vit.h"

namespace intvit {

void build_nonlinear_params(IntViT& model);

}  // namespace intvit
