// Building a Trace from observer callbacks (engine/trace.h), shared by the ViT and the Swin traces
// (engine/trace.cc, engine/trace_swin.cc). Internal to the api layer; offline.
#pragma once

#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/graph.h"
#include "engine/trace.h"
#include "kernels/error.h"

namespace intvit::trace_detail {

// How a graph element type is stored in a trace (u16 widened: no U16 in models/dtype.h).
inline DType storage_of(ElemType t) {
  switch (t) {
    case ElemType::kU8: return DType::kU8;
    case ElemType::kS16: return DType::kI16;
    case ElemType::kU16:
    case ElemType::kS32: return DType::kI32;
    case ElemType::kF32: return DType::kF32;
  }
  throw Error(ErrorCode::kInternal, "trace: unknown element type");
}

// Appends tensors in first-emission order; per-head tiles fill their slot of a [tiles][rows][cols] tensor.
class Collector {
 public:
  explicit Collector(Trace& t) : trace_(t) {}
  // A new tensor (Error kInternal if the name was seen: every tensor is emitted once).
  TraceTensor& add(std::string_view name, std::vector<int64_t> shape, DType storage) {
    if (!index_.emplace(std::string(name), trace_.tensors.size()).second) {
      throw Error(ErrorCode::kInternal, "trace: tensor '" + std::string(name) + "' emitted twice");
    }
    TraceTensor& t = trace_.tensors.emplace_back();
    t.name = std::string(name);
    t.shape = std::move(shape);
    t.storage = storage;
    size_t n = 1;
    for (int64_t d : t.shape) n *= static_cast<size_t>(d);
    t.bytes.resize(n * dtype_size(storage));
    return t;
  }
  TraceTensor* find(std::string_view name) {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &trace_.tensors[it->second];
  }

 private:
  Trace& trace_;
  std::map<std::string, size_t, std::less<>> index_;
};

// a's rows × cols elements of type t (row stride a.ld elements) -> dst, packed, u16 widened to s32.
inline void copy_rows(const IntActivation& a, ElemType t, std::byte* dst) {
  const size_t in = elem_bytes(t);
  const auto* src = static_cast<const std::byte*>(a.data);
  for (size_t r = 0; r < a.rows; ++r) {
    const std::byte* row = src + r * a.ld * in;
    if (t != ElemType::kU16) {
      std::memcpy(dst + r * a.cols * in, row, a.cols * in);
      continue;
    }
    for (size_t c = 0; c < a.cols; ++c) {
      uint16_t v;
      std::memcpy(&v, row + c * 2, 2);
      const int32_t w = v;
      std::memcpy(dst + (r * a.cols + c) * 4, &w, 4);
    }
  }
}

}  // namespace intvit::trace_detail
