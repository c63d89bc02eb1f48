// A Q22 resampling weight as two signed 16-bit halves, the form the SIMD passes multiply with
// vpmaddwd (16 x 16 -> 32-bit products, summed in pairs), since Q22 weights do not fit 16 bits.
//
//   w = high * 2^16 + low,  low in [-2^15, 2^15)   (low = the low 16 bits of w read as int16)
//   sum_t p_t w_t = 2^16 * sum_t p_t high_t + sum_t p_t low_t
//
// holds exactly in wrapping 32-bit arithmetic, and the true sum (with the +2^21 rounding term) fits
// int32 by the weight-mass bound of compute_resample_taps(), so the wrapped 32-bit result is the
// true one: the SIMD passes equal the scalar int32 sums bit for bit, whatever order they add in.
// vpmaddwd never saturates here: pixels are in [0, 255], so |p*a + p'*b| <= 2 * 255 * 2^15 < 2^31.
#pragma once

#include <cstdint>

#include "models/resize.h"  // kResizePrecisionBits

namespace intvit::resize_detail {
// Internal linkage: the files including this header are compiled with different ISA flags, so
// external-linkage inline helpers could be merged across them by the linker (an ODR violation).
namespace {

inline uint16_t q22_low(int32_t w) { return static_cast<uint16_t>(static_cast<uint32_t>(w)); }
inline uint16_t q22_high(int32_t w) {
  return static_cast<uint16_t>(static_cast<int32_t>((static_cast<int64_t>(w) + 32768) >> 16));
}
// Two int16 (as bit patterns) in one dword: `first` in the low word, as vpmaddwd pairs them.
inline int32_t word_pair(uint16_t first, uint16_t second) {
  return static_cast<int32_t>(static_cast<uint32_t>(first) | static_cast<uint32_t>(second) << 16);
}

constexpr int32_t kHalf = 1 << (kResizePrecisionBits - 1);  // Pillow's rounding term, 2^21

}  // namespace
}  // namespace intvit::resize_detail
