// Reading the stored integer parameters of the LayerNorm, softmax and GELU kernels from a
// version-2 model file (weights/FORMAT.md "Nonlinear kernel parameters") and checking every range
// the kernels rely on: a value outside it is Error(kCorruptFile) naming the field. Integer only.
#pragma once

#include <cstddef>
#include <string>

#include "engine/int_vit.h"
#include "models/safetensors.h"
#include "weights/graph_json.h"

namespace intvit {

// desc: the LayerNorm's entry of graph.tensors; `out` its (already validated) output.
LayerNormParams read_layernorm_params(const SafeTensorsFile& file, const GraphJson& desc, const std::string& name,
                                      size_t channels, const ActQuant& out);
// block: the block's entry of graph.blocks; name: "blocks.<i>".
SoftmaxParams read_softmax_params(const SafeTensorsFile& file, const GraphJson& block, const std::string& name,
                                  SoftmaxMode mode, int attn_bits, bool renormalize);
GeluParams read_gelu_params(const SafeTensorsFile& file, const GraphJson& block, const std::string& name, GeluMode mode,
                            const ActQuant& in, const ActQuant& out);

}  // namespace intvit
