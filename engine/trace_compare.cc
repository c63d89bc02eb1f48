#include "engine/trace_compare.h"

#include <cmath>
#include <limits>

#include "kernels/error.h"

namespace intvit {
namespace {

bool is_float(const TraceTensor& t) { return t.storage == DType::kF32; }

// The real value of element i: scale · (q − zero_point), or the float itself.
double real(const TraceTensor& t, size_t i) {
  return is_float(t) ? static_cast<double>(t.value_f32(i)) : t.scale * static_cast<double>(t.value(i) - t.zero_point);
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

TensorDiff exact_diff(const TraceTensor& a, const TraceTensor& b) {
  TensorDiff d{a.name, 0, a.numel(), 0, ""};
  if (a.shape != b.shape || a.dtype != b.dtype) {
    d.problem = "is " + a.dtype + " " + shape_string(a.shape) + " in A, " + b.dtype + " " + shape_string(b.shape) + " in B";
    return d;
  }
  if (a.scale != b.scale || a.zero_point != b.zero_point || a.bits != b.bits) {
    d.problem = "has another quantization in A and B (scale, zero-point or bits)";
  }
  for (size_t i = 0; i < d.count; ++i) {
    double diff = 0;
    if (is_float(a)) {
      const float x = a.value_f32(i), y = b.value_f32(i);
      if (x == y || (std::isnan(x) && std::isnan(y))) continue;
      diff = std::fabs(static_cast<double>(x) - y);  // NaN against a number: NaN, reported as such
    } else {
      const int64_t x = a.value(i), y = b.value(i);
      if (x == y) continue;
      diff = static_cast<double>(x > y ? x - y : y - x);
    }
    ++d.differing;
    if (!(diff <= d.max_abs)) d.max_abs = diff;
  }
  return d;
}

TensorSqnr sqnr(const TraceTensor& q, const TraceTensor& f) {
  TensorSqnr s{q.name, 0, ""};
  if (q.shape != f.shape) {
    s.problem = "is " + shape_string(q.shape) + " in the integer trace, " + shape_string(f.shape) + " in the FP32 trace";
    return s;
  }
  double signal = 0, noise = 0;
  for (size_t i = 0; i < q.numel(); ++i) {
    const double x = real(f, i), e = x - real(q, i);
    signal += x * x;
    noise += e * e;
  }
  s.db = noise > 0 ? 10 * std::log10(signal / noise) : std::numeric_limits<double>::infinity();
  return s;
}

}  // namespace

TraceComparison compare_traces(const Trace& a, const Trace& b) {
  TraceComparison c;
  c.mixed = a.precision != b.precision;
  const Trace& first = c.mixed && a.precision == "fp32" ? b : a;  // mixed: walk the integer trace
  const Trace& second = &first == &a ? b : a;
  for (const TraceTensor& t : first.tensors) {
    const TraceTensor* u = second.find(t.name);
    if (!u) {
      (&first == &a ? c.only_a : c.only_b).push_back(t.name);
      continue;
    }
    ++c.common;
    if (c.mixed) {
      c.sqnr.push_back(sqnr(t, *u));
    } else if (TensorDiff d = exact_diff(t, *u); d.differing || !d.problem.empty()) {
      c.diffs.push_back(std::move(d));
    }
  }
  for (const TraceTensor& t : second.tensors) {
    if (!first.find(t.name)) (&second == &a ? c.only_a : c.only_b).push_back(t.name);
  }
  return c;
}

}  // namespace intvit
