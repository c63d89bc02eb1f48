// The load path of the integer model file (weights/FORMAT.md), shared by its translation units:
// int_model_reader.cc (container, linears, the chain) and nonlinear_params_reader.cc (the stored
// LayerNorm / softmax / GELU parameters). Integer only: tests/no_float scans these objects.
#pragma once

#include <string>
#include <vector>

#include "engine/int_swin.h"
#include "engine/int_vit.h"
#include "kernels/error.h"
#include "models/safetensors.h"
#include "weights/graph_json.h"

namespace intvit {

[[noreturn]] inline void corrupt_model(const std::string& what) {
  throw Error(ErrorCode::kCorruptFile, "invalid integer model: " + what);
}

inline void check_model(bool ok, const std::string& what) {
  if (!ok) corrupt_model(what);
}

// The tensor `name` with exactly this shape and T's dtype, else kCorruptFile naming it.
template <typename T>
std::vector<T> read_model_tensor(const SafeTensorsFile& file, const std::string& name, const std::vector<int64_t>& shape) {
  const TensorView* t = file.find(name);
  check_model(t != nullptr, "tensor '" + name + "' is missing");
  check_model(t->shape == shape, "tensor '" + name + "' has shape " + t->shape_string());
  check_model(t->dtype == dtype_of<T>(), std::string("tensor '") + name + "' is " + dtype_name(t->dtype) + ", not " +
                                             dtype_name(dtype_of<T>()));
  return t->copy_as<T>();
}

// One activation quantization {"scale", "zero_point", "bits"} (FORMAT.md `Act`), range-checked.
ActQuant read_act(const GraphJson& j, const std::string& where);

// A layer reads what its producer writes: the same width and zero-point. The engine types a
// linear's input by its producer and folds the linear's own input zero-point into its bias, so a
// file where they differ would load and then fail every run (or compute with the wrong offset).
void check_reads(const QLinear& l, const ActQuant& producer, const std::string& what);

// The stored layers of either model family: `desc` is graph.tensors; every getter checks the
// description against the tensors and the shapes given (kCorruptFile naming the field).
struct ModelReader {
  const SafeTensorsFile& file;
  const GraphJson& desc;
  bool v1;

  QLinear linear(const std::string& name, int in, int out);
  QLayerNorm norm(const std::string& name, int dim);
  // A transformer block "<n>" (q/k/v, attention, proj, MLP) from its graph.blocks entry `bj`.
  QBlock block(const GraphJson& bj, const std::string& n, int dim, int hidden, SoftmaxMode softmax, int attn_bits,
               bool renormalize, GeluMode gelu);
};

// The metadata checks (format, version); returns whether the file is version 1 (only if allow_v1).
bool check_int_model_header(const SafeTensorsFile& file, bool allow_v1);
GraphJson read_int_model_graph(const SafeTensorsFile& file);
// The graph's mode fields both families store alike (FORMAT.md: softmax, gelu, attn_bits, log2_renormalize),
// checked to be a combination the quantizer writes.
void read_attention_modes(const GraphJson& g, SoftmaxMode& softmax, GeluMode& gelu, int& attn_bits, bool& log2_renormalize);
// Whether the file's graph says "architecture": "swin" (absent or "vit": a ViT).
bool is_int_swin_model(const SafeTensorsFile& file);

IntSwin read_int_swin_model(const SafeTensorsFile& file);  // weights/int_swin_reader.cc

// Parses and validates a model file. Version 2 only, unless `allow_v1`: then a version-1 file
// is read too, with its LayerNorm gamma/beta and without any nonlinear kernel parameters (the
// offline upgrade, weights/int_model_upgrade.h, builds them); *was_v1 says which it was.
IntViT read_int_model(const SafeTensorsFile& file, bool allow_v1 = false, bool* was_v1 = nullptr);

}  // namespace intvit
