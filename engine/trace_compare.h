// Comparing two golden traces (engine/trace.h): exactly when both have the same precision (the
// first differing tensor, how many elements differ, the largest difference), by SQNR per tensor
// when one is FP32 (the integer side dequantized: real = scale · (q − zero_point)).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "engine/trace.h"

namespace intvit {

struct TensorDiff {
  std::string name;
  size_t differing = 0, count = 0;  // elements
  double max_abs = 0;               // largest |a − b| (integer units for integer tensors)
  std::string problem;              // set when the tensors cannot be compared element-wise (shape, dtype, scale)
};

struct TensorSqnr {
  std::string name;
  double db = 0;  // 10·log10(Σ fp32² / Σ (fp32 − dequantized)²); +inf when equal
  std::string problem;  // set (and db meaningless) when the shapes differ
};

struct TraceComparison {
  bool mixed = false;                    // one side FP32, the other integer: `sqnr` is filled
  size_t common = 0;                     // tensors in both traces
  std::vector<TensorDiff> diffs;         // same precision: the common tensors that differ, in A's order
  std::vector<TensorSqnr> sqnr;          // mixed: every common tensor, in the integer trace's order
  std::vector<std::string> only_a, only_b;

  // Same precision, no differing common tensor and the same names.
  bool identical() const { return !mixed && diffs.empty() && only_a.empty() && only_b.empty(); }
};

TraceComparison compare_traces(const Trace& a, const Trace& b);

}  // namespace intvit
