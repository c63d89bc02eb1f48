// Golden traces: every tensor of one forward, integer or FP32, under the integer graph's tensor
// names, saved as a safetensors file whose metadata describes each tensor (weights/FORMAT.md,
// "Trace files"). Hardware teams check their designs against a trace; `intvit trace --compare`
// diffs two traces (engine/trace_compare.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/int_swin.h"
#include "engine/int_vit.h"
#include "models/dtype.h"

namespace intvit {

struct ViTWeightsF32;
struct SwinWeightsF32;

inline constexpr const char* kTraceFormat = "intvit.trace";
inline constexpr int kTraceFormatVersion = 1;

// One traced tensor. Integer values are stored in their own width (u16 widened to I32: the
// safetensors reader here has no U16); real = scale · (q − zero_point).
struct TraceTensor {
  std::string name;                // the graph tensor name ("blocks.3.attn.q")
  std::string op;                  // the node that wrote it ("linear", "qk", ...; "input" for the image)
  std::string dtype;               // the graph element type: u8, u16, s16, s32 or f32
  double scale = 1;
  int32_t zero_point = 0;
  int bits = 8;                    // quantization bits (4 for log2 probability codes)
  std::vector<int64_t> shape;      // [rows, cols], or [heads, rows, cols] for per-head attention tiles
  DType storage = DType::kU8;
  std::vector<std::byte> bytes;    // row-major values in `storage`

  size_t numel() const;
  int64_t value(size_t i) const;   // integer storage only
  float value_f32(size_t i) const; // F32 storage only
};

struct Trace {
  std::string precision;           // "int" or "fp32"
  std::string image;               // the image's file name
  std::string model;               // the model's folder or file name
  std::string model_fnv1a64;       // 16 hex digits: FNV-1a 64 of the model file's bytes
  std::string backend;             // GEMM backend name ("ref", "avx512vnni", ...) or "fp32"
  std::vector<TraceTensor> tensors;  // in execution order

  const TraceTensor* find(const std::string& name) const;
};

// One integer forward of `pixels` (uint8 RGB HWC, image_size²) on `kernels`; the model must be
// packed for kernels.gemm. Fills tensors and precision; the caller sets the descriptive fields.
Trace trace_int(const IntViT& model, const KernelSet& kernels, const uint8_t* pixels);
// The FP32 reference forward's tensors under the same names (attn.logits / attn.probs as
// [heads, T, T]); the FP32 forward also emits names the integer graph lacks (attn.proj.out, ...).
Trace trace_fp32(const ViTWeightsF32& model, const uint8_t* pixels);

// The Swin's traces (engine/trace_swin.cc; FORMAT.md "Trace files", Swin): timm names
// (layers.<s>.blocks.<j>.attn.qk, layers.<s>.downsample.*, pool.out, ...), every (window, head)
// attention tile as slot w·heads + h of a [windows·heads, N, N] tensor (N = window²), q/k/v and
// attn.out in window-major row order, the other token tensors in grid order.
Trace trace_int(const IntSwin& model, const KernelSet& kernels, const uint8_t* pixels);
Trace trace_fp32(const SwinWeightsF32& model, const uint8_t* pixels);

// The safetensors bytes / file (weights/FORMAT.md "Trace files"). write_trace: Error(kIo) naming
// the path when it cannot be written.
std::vector<std::byte> serialize_trace(const Trace& trace);
void write_trace(const Trace& trace, const std::filesystem::path& path);
// Error(kIo) when unreadable, Error(kCorruptFile) naming the file when it is not a valid trace
// (not safetensors, no intvit.trace metadata, another version, tensors disagreeing with it).
Trace read_trace(const std::filesystem::path& path);

// FNV-1a 64 of a file's bytes as 16 lowercase hex digits; Error(kIo) when unreadable.
std::string fnv1a64_file(const std::filesystem::path& path);

}  // namespace intvit
