// The integer Swin model's packing and its two Swin-only integer ops (QUANTIZATION.md §9): the
// bias + mask add into the q@kᵀ accumulators and the average pool. Integer only (tests/no_float).
#include "engine/int_swin.h"

#include <algorithm>

#include "kernels/fixedpoint.h"

namespace intvit {

void IntSwin::prepare(GemmIsa isa) {
  for_each_linear(*this, [&](QLinear& l) { l.prepare(isa); });
}

void IntSwin::release_plain_weights() {
  for_each_linear(*this, [](QLinear& l) { std::vector<int8_t>().swap(l.weight); });
}

namespace {

// sat32(a + b) branch-free in int32 lanes (the loops below vectorize with the x86-64 baseline).
inline int32_t saturating_add(int32_t a, int32_t b) {
  const uint32_t r = static_cast<uint32_t>(a) + static_cast<uint32_t>(b);
  const uint32_t overflow = ((static_cast<uint32_t>(a) ^ r) & (static_cast<uint32_t>(b) ^ r)) >> 31;  // both signs differ from r
  const uint32_t limit = static_cast<uint32_t>(INT32_MAX) + (static_cast<uint32_t>(a) >> 31);    // INT32_MAX or INT32_MIN
  return static_cast<int32_t>(overflow ? limit : r);
}

}  // namespace

void add_swin_attention_bias(int32_t* scores, size_t ld, size_t n, const int32_t* bias, const uint8_t* region) {
  // Eq. 42-43, saturated to int32 (Eq. 40's rule). bias + mask is exact in int32 (|bias| <= 2^28,
  // mask −2^30), so one saturating add gives sat32(acc + bias + mask); in contract it never saturates.
  for (size_t i = 0; i < n; ++i) {
    int32_t* row = scores + i * ld;
    const int32_t* b = bias + i * n;
    if (region) {
      const uint8_t ri = region[i];
      for (size_t j = 0; j < n; ++j) row[j] = saturating_add(row[j], b[j] + (region[j] != ri ? kSwinMaskLogit : 0));
    } else {
      for (size_t j = 0; j < n; ++j) row[j] = saturating_add(row[j], b[j]);
    }
  }
}

void add_swin_shift_mask(int32_t* scores, size_t ld, size_t n, const uint8_t* region) {
  for (size_t i = 0; i < n; ++i) {
    int32_t* row = scores + i * ld;
    const uint8_t ri = region[i];
    for (size_t j = 0; j < n; ++j) row[j] = saturating_add(row[j], region[j] != ri ? kSwinMaskLogit : 0);
  }
}

void swin_average_pool(const uint8_t* in, size_t rows, size_t cols, size_t ld, int32_t in_zero_point, int32_t multiplier,
                       int32_t shift, int32_t out_zero_point, uint8_t* out) {
  for (size_t c = 0; c < cols; ++c) {
    int64_t sum = 0;
    for (size_t t = 0; t < rows; ++t) sum += int32_t{in[t * ld + c]} - in_zero_point;
    const int32_t s = fp::clamp_to<int32_t>(sum, INT32_MIN, INT32_MAX);  // |sum| <= 255·rows: never clamps in contract
    const int64_t q = int64_t{out_zero_point} + fp::multiply_by_quantized_multiplier(s, multiplier, shift);
    out[c] = fp::clamp_to<uint8_t>(q, 0, 255);
  }
}

}  // namespace intvit
