// AVX2 softmax (8- and 16-bit output) and log2 attn@v, bit-identical to softmax-ref.cc (QUANTIZATION.md §4).
// 8 int32 lanes per step; the mode is a template parameter so the inner loop has no branch.
// Differences from the AVX-512 kernel: tails use vpmaskmovd loads / byte buffers instead of mask
// registers, and the log2 code (Eq. 22) is found by a 5-step binary search over the per-row
// thresholds (2Σ) >> n instead of 31 compares. The lut index is Eq. 20b (one rounding, §4.11; Eq. 20c for
// right shifts), its table read
// by vpgatherdd.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/fixedpoint-avx2.h"
#include "kernels/softmax/softmax-simd-entry.h"
#include "kernels/softmax/softmax.h"

namespace intvit {
namespace {

using namespace softmax_detail;
using namespace fp_avx2;

// The scalars the row loop reads, copied out of SoftmaxParams so that stores to the row buffers
// cannot alias them (the compiler keeps the broadcasts in registers).
struct Consts {
  int32_t in_multiplier, in_shift, poly_b, poly_c, max_code;
  const int32_t* exp_table;
  bool lut_index;  // lut_index_applies: Eq. 20 by lut_exp
};

// Eq. 7's constants of the row loop, built once per row into a local (Consts is read through a
// reference that the int32 row stores may alias, so the compiler would rebuild them every step).
struct ExpConsts {
  ColumnConsts in;  // Eq. 14/18/20's multiplier and right shift
  int left;         // Eq. 7's left shift
};

inline ExpConsts exp_consts(const Consts& p) {
  return {column_consts(_mm256_set1_epi32(p.in_multiplier), _mm256_set1_epi32(p.in_shift > 0 ? p.in_shift : 0)),
          p.in_shift < 0 ? -p.in_shift : 0};
}

// Eq. 14-20 on 8 centred logits d <= 0. Always inlined: GCC otherwise calls it out of line in the
// tail of a row (once per row, which short rows measurably pay).
template <SoftmaxMode kMode>
inline __attribute__((always_inline)) __m256i exp_of(const Consts& p, const ExpConsts& k, __m256i d) {
  const __m256i u = mbqm<false>(saturating_left_shift(d, k.left), k.in);  // = mbqm(d, in_multiplier, in_shift)
  if constexpr (kMode == SoftmaxMode::kIexp || kMode == SoftmaxMode::kLog2) {
    const __m256i x = _mm256_max_epi32(u, _mm256_set1_epi32(-(kIexpClampN << kIexpFracBits)));
    const __m256i q = _mm256_srai_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), x), kIexpFracBits);
    const __m256i r = _mm256_add_epi32(x, _mm256_slli_epi32(q, kIexpFracBits));
    const __m256i z = _mm256_add_epi32(_mm256_mullo_epi32(r, _mm256_add_epi32(r, _mm256_set1_epi32(p.poly_b))),
                                       _mm256_set1_epi32(p.poly_c));
    // Eq. 17 for 0 < z < 2^31 and shift in [13, 43]: (z + 2^(shift-1)) >> shift in uint32 cannot
    // wrap, and counts >= 32 give 0 exactly as the 64-bit rounding divide does.
    const __m256i shift = _mm256_add_epi32(q, _mm256_set1_epi32(kIexpNarrowShift));
    const __m256i half = _mm256_sllv_epi32(_mm256_set1_epi32(1 << (kIexpNarrowShift - 1)), q);
    return _mm256_srlv_epi32(_mm256_add_epi32(z, half), shift);
  } else if constexpr (kMode == SoftmaxMode::kShiftmax) {
    const __m256i v = _mm256_max_epi32(u, _mm256_set1_epi32(-kShiftPreClamp));
    __m256i t = _mm256_sub_epi32(_mm256_add_epi32(v, _mm256_srai_epi32(v, 1)), _mm256_srai_epi32(v, 4));
    t = _mm256_max_epi32(t, _mm256_set1_epi32(-(kShiftClampN << kShiftFracBits)));
    const __m256i q = _mm256_srai_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), t), kShiftFracBits);
    const __m256i r = _mm256_add_epi32(t, _mm256_slli_epi32(q, kShiftFracBits));
    // q <= 18, so the arithmetic variable shift is in range (vpsravd).
    return _mm256_srav_epi32(_mm256_add_epi32(_mm256_srai_epi32(r, 1), _mm256_set1_epi32(1 << kShiftFracBits)), q);
  } else {
    const __m256i index = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_max_epi32(u, _mm256_set1_epi32(-255)));
    return _mm256_i32gather_epi32(p.exp_table, index, 4);
  }
}

// Eq. 13 + 20 as one rounding (QUANTIZATION.md §4.11, as softmax-avx512vbmi.cc), for lut params
// with Eq. 7's shift in [-31, 31] and multiplier in [0, 2^31) (lut_index_applies). With a = max - x
// capped at 2^31 and the shift split into left l and right r:
//   i = min(255, (min(a, 2^(31-l))·2^l · M + K) >> (31 + r)),  K = 2^30 (r = 0), 2^30·(2^r + 1) (r >= 1)
// Even lanes: vpmuludq, + K, >> (31 + r): i in the low dword (i <= M < 2^31). Odd lanes: 2M and 2K,
// >> r: the same quotient in the high dword. `product` (Eq. 20c, r >= 1, l = 0, index(2^31) >= 255):
// i = min(255, (C - x·M) >> (31 + r)), C = max·M + K per row; odd lanes >> (r - 1).
struct IndexConsts {
  bool product;
  int64_t m;
  uint64_t k;
  __m256i cap, mult, round, mult2, round2, left, shift, shift2;
};

inline bool lut_index_applies(const SoftmaxParams& p) {
  return p.mode == SoftmaxMode::kLut && p.in_shift >= -31 && p.in_shift <= 31 && p.in_multiplier >= 0;
}

inline IndexConsts index_consts(const Consts& p) {
  const int left = p.in_shift < 0 ? -p.in_shift : 0, right = p.in_shift > 0 ? p.in_shift : 0;
  const uint64_t k = right == 0 ? uint64_t{1} << 30 : (uint64_t{1} << (30 + right)) + (uint64_t{1} << 30);
  const auto m = static_cast<uint64_t>(p.in_multiplier);
  const bool product = right >= 1 && (((m << 31) + k) >> (31 + right)) >= 255;  // 2^31·M + K < 2^63: exact
  return {product,
          static_cast<int64_t>(m),
          k,
          _mm256_set1_epi32(static_cast<int32_t>(uint32_t{1} << (31 - left))),
          _mm256_set1_epi64x(static_cast<int64_t>(m)),
          _mm256_set1_epi64x(static_cast<int64_t>(k)),
          _mm256_set1_epi64x(static_cast<int64_t>(2 * m)),
          _mm256_set1_epi64x(static_cast<int64_t>(2 * k)),
          _mm256_set1_epi32(left),
          _mm256_set1_epi64x(31 + right),
          _mm256_set1_epi64x(product ? right - 1 : right)};
}

// e = T[i] of 8 logits x by Eq. 20c; vc = C = max·M + K (mod 2^64: C - x·M is in [0, 2^64)).
inline __m256i lut_exp_product(const IndexConsts& k, const int32_t* table, __m256i vc, __m256i x) {
  const __m256i even = _mm256_srlv_epi64(_mm256_sub_epi64(vc, _mm256_mul_epi32(x, k.mult)), k.shift);
  const __m256i odd = _mm256_srlv_epi64(_mm256_sub_epi64(vc, _mm256_mul_epi32(_mm256_srli_epi64(x, 32), k.mult)), k.shift2);
  const __m256i index = _mm256_min_epi32(_mm256_blend_epi32(even, odd, 0xAA), _mm256_set1_epi32(255));
  return _mm256_i32gather_epi32(table, index, 4);
}

// e = T[i] of 8 logits x and the row max.
template <bool kLeft>
inline __m256i lut_exp(const IndexConsts& k, const int32_t* table, __m256i vmax, __m256i x) {
  __m256i a = _mm256_min_epu32(_mm256_sub_epi32(vmax, x), k.cap);  // max - x >= 0 exactly in uint32
  if constexpr (kLeft) a = _mm256_sllv_epi32(a, k.left);
  const __m256i even = _mm256_srlv_epi64(_mm256_add_epi64(_mm256_mul_epu32(a, k.mult), k.round), k.shift);
  const __m256i odd = _mm256_srlv_epi64(_mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), k.mult2), k.round2), k.shift2);
  const __m256i index = _mm256_min_epi32(_mm256_blend_epi32(even, odd, 0xAA), _mm256_set1_epi32(255));
  return _mm256_i32gather_epi32(table, index, 4);
}

// Pass 1 of a row: its max (Eq. 13).
inline int32_t row_max(size_t len, const int32_t* x) {
  const size_t full = len & ~size_t{7}, rest = len - full;
  __m256i vmax = _mm256_set1_epi32(std::numeric_limits<int32_t>::min());
  for (size_t j = 0; j < full; j += 8) {
    vmax = _mm256_max_epi32(vmax, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + j)));
  }
  if (rest != 0) {
    const __m256i tail = tail_mask8(rest);
    const __m256i xv = _mm256_maskload_epi32(x + full, tail);  // masked lanes read as 0 (no fault)
    vmax = _mm256_max_epi32(vmax, _mm256_blendv_epi8(vmax, xv, tail));
  }
  return reduce_max_epi32(vmax);
}

// Pass 2 of a row: e = e_of(x) into e_buf[0, len) (and the rest of the last vector, lanes past the
// row reading x = max), returns Σe (per lane < 512·2^18, no overflow). kNextMax: meanwhile pass 1
// of the row `next` (its loads beside this row's), its max into next_max (QUANTIZATION.md §4.11).
template <bool kNextMax, typename ExpOf>
inline int64_t exp_pass(size_t len, const int32_t* x, int32_t* e_buf, __m256i vmax_b, const int32_t* next,
                        int32_t& next_max, ExpOf e_of) {
  const size_t full = len & ~size_t{7}, rest = len - full;
  __m256i vsum = _mm256_setzero_si256();
  __m256i vnext = _mm256_set1_epi32(std::numeric_limits<int32_t>::min());
  for (size_t j = 0; j < full; j += 8) {
    if constexpr (kNextMax) vnext = _mm256_max_epi32(vnext, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(next + j)));
    const __m256i e = e_of(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + j)));
    _mm256_store_si256(reinterpret_cast<__m256i*>(e_buf + j), e);
    vsum = _mm256_add_epi32(vsum, e);
  }
  if (rest != 0) {
    // Lanes past the row read as the max (d = 0, inside every mode's range), then do not count.
    const __m256i tail = tail_mask8(rest);
    const __m256i e = e_of(_mm256_blendv_epi8(vmax_b, _mm256_maskload_epi32(x + full, tail), tail));
    _mm256_store_si256(reinterpret_cast<__m256i*>(e_buf + full), e);
    vsum = _mm256_add_epi32(vsum, _mm256_and_si256(e, tail));
    if constexpr (kNextMax) {
      const __m256i nv = _mm256_maskload_epi32(next + full, tail);  // masked lanes read as 0 (no fault)
      vnext = _mm256_max_epi32(vnext, _mm256_blendv_epi8(vnext, nv, tail));
    }
  }
  if constexpr (kNextMax) next_max = reduce_max_epi32(vnext);
  return reduce_add_wrap_epi32(vsum);  // < 2^30, never wraps
}

// Pass 2 of a row (Eq. 13-20) given its max, shared by the 8- and 16-bit outputs: e_j into
// e_buf[0, len) (and the rest of the last vector, lanes past the row holding e(0)); returns Σe.
// kNextMax: meanwhile pass 1 of the row `next`, its max into next_max.
template <SoftmaxMode kMode, bool kNextMax>
int64_t exp_row(const Consts& p, size_t len, const int32_t* x, int32_t max, int32_t* e_buf, const int32_t* next,
                int32_t& next_max) {
  // Eq. 13 without 64-bit lanes: max(x, max - 2^31) - max cannot wrap.
  const int64_t floor64 = std::max<int64_t>(int64_t{max} - (int64_t{1} << 31), std::numeric_limits<int32_t>::min());
  const __m256i vfloor = _mm256_set1_epi32(static_cast<int32_t>(floor64));
  const __m256i vmax_b = _mm256_set1_epi32(max);
  auto pass = [&](auto e_of) { return exp_pass<kNextMax>(len, x, e_buf, vmax_b, next, next_max, e_of); };
  if constexpr (kMode == SoftmaxMode::kLut) {
    if (p.lut_index) {
      const IndexConsts k = index_consts(p);
      const int32_t* table = p.exp_table;
      if (k.product) {
        const __m256i vc = _mm256_set1_epi64x(static_cast<int64_t>(static_cast<uint64_t>(int64_t{max} * k.m) + k.k));
        return pass([&](__m256i xv) { return lut_exp_product(k, table, vc, xv); });
      }
      if (p.in_shift < 0) return pass([&](__m256i xv) { return lut_exp<true>(k, table, vmax_b, xv); });
      return pass([&](__m256i xv) { return lut_exp<false>(k, table, vmax_b, xv); });
    }
  }
  const ExpConsts k = exp_consts(p);
  return pass([&](__m256i xv) {
    return exp_of<kMode>(p, k, _mm256_sub_epi32(_mm256_max_epi32(xv, vfloor), vmax_b));  // Eq. 13's d
  });
}

// 8-bit output: Eq. 21 or (kLog2) Eq. 22.
template <SoftmaxMode kMode, bool kNextMax>
void softmax_row(const Consts& p, size_t len, const int32_t* x, int32_t max, uint8_t* y, const int32_t* next,
                 int32_t& next_max) {
  alignas(32) int32_t e_buf[kSimdMaxLen + 8];
  const int64_t sum = exp_row<kMode, kNextMax>(p, len, x, max, e_buf, next, next_max);
  const size_t full = len & ~size_t{7}, rest = len - full;
  // Pass 3.
  auto output = [&](auto code_of) {
    for (size_t j = 0; j < full; j += 8) {
      store8_u8(y + j, code_of(_mm256_load_si256(reinterpret_cast<const __m256i*>(e_buf + j))));
    }
    if (rest != 0) store8_u8_tail(y + full, code_of(_mm256_load_si256(reinterpret_cast<const __m256i*>(e_buf + full))), rest);
  };
  if constexpr (kMode == SoftmaxMode::kLog2) {
    // Eq. 22: c = #{n >= 0 : 3e·2^n <= 2Σ} = #{n : 3e <= (2Σ) >> n}, capped at max_code. The
    // condition holds for n below the count and fails above, so 5 halving steps find the count
    // in [0, 31] (for e >= 1 it is <= 30, as 2Σ < 2^31); e = 0 takes the max code.
    const __m256i two_sum = _mm256_set1_epi32(static_cast<int32_t>(2 * sum));
    const __m256i vmax_code = _mm256_set1_epi32(p.max_code);
    output([&](__m256i e) {
      const __m256i e3 = _mm256_add_epi32(e, _mm256_slli_epi32(e, 1));
      __m256i c = _mm256_setzero_si256();
      for (int step = 16; step >= 1; step >>= 1) {
        const __m256i candidate = _mm256_add_epi32(c, _mm256_set1_epi32(step));
        const __m256i threshold = _mm256_srlv_epi32(two_sum, _mm256_sub_epi32(candidate, _mm256_set1_epi32(1)));
        c = _mm256_blendv_epi8(candidate, c, _mm256_cmpgt_epi32(e3, threshold));  // keep c where 3e > threshold
      }
      c = _mm256_min_epi32(c, vmax_code);
      return _mm256_blendv_epi8(c, vmax_code, _mm256_cmpeq_epi32(e, _mm256_setzero_si256()));
    });
  } else {
    // Eq. 21: e·F <= 2^31 + 2^17 and + 2^22 stays below 2^32: exact in uint32 lanes.
    const uint64_t factor = ((uint64_t{1} << 31) + sum / 2) / sum;
    const __m256i vf = _mm256_set1_epi32(static_cast<int32_t>(factor));
    const __m256i round = _mm256_set1_epi32(1 << (kProbShift - 1));
    const __m256i cap = _mm256_set1_epi32(255);
    output([&](__m256i e) {
      const __m256i prob = _mm256_srli_epi32(_mm256_add_epi32(_mm256_mullo_epi32(e, vf), round), kProbShift);
      return _mm256_min_epu32(prob, cap);
    });
  }
}

// 16-bit output: Eq. 21b. F16 <= 2^30 fits the low half of a 64-bit lane: vpmuludq gives e·F16
// (< 2^48) exactly for the even and odd int32 lanes, whose high halves (+ 2^31) are p16.
template <SoftmaxMode kMode, bool kNextMax>
void softmax_row(const Consts& p, size_t len, const int32_t* x, int32_t max, uint16_t* y, const int32_t* next,
                 int32_t& next_max) {
  alignas(32) int32_t e_buf[kSimdMaxLen + 8];
  const int64_t sum = exp_row<kMode, kNextMax>(p, len, x, max, e_buf, next, next_max);
  const uint64_t factor = ((uint64_t{1} << kProb16RecipBits) + sum / 2) / sum;
  const __m256i vf = _mm256_set1_epi64x(static_cast<int64_t>(factor));
  const __m256i round = _mm256_set1_epi64x(int64_t{1} << (kProb16Shift - 1));
  const __m256i cap = _mm256_set1_epi32(kProb16Max);
  auto prob16 = [&](const int32_t* e_ptr) {
    const __m256i e = _mm256_load_si256(reinterpret_cast<const __m256i*>(e_ptr));
    const __m256i even = _mm256_add_epi64(_mm256_mul_epu32(e, vf), round);
    const __m256i odd = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(e, 32), vf), round);
    return _mm256_min_epi32(_mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA), cap);
  };
  size_t j = 0;
  for (; j + 16 <= len; j += 16) {
    // vpackusdw packs per 128-bit half ([a0-3 b0-3 | a4-7 b4-7]); vpermq restores the order.
    const __m256i packed = _mm256_packus_epi32(prob16(e_buf + j), prob16(e_buf + j + 8));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + j), _mm256_permute4x64_epi64(packed, 0xD8));
  }
  for (; j < len; j += 8) {
    const __m256i prob = prob16(e_buf + j);
    const __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(prob), _mm256_extracti128_si256(prob, 1));
    if (len - j >= 8) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y + j), words);
    } else {
      alignas(16) uint16_t buf[8];
      _mm_store_si128(reinterpret_cast<__m128i*>(buf), words);
      std::memcpy(y + j, buf, (len - j) * sizeof(uint16_t));
    }
  }
}

template <SoftmaxMode kMode, typename Out>
void softmax_rows_mode(const SoftmaxParams& params, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                       Out* out, size_t ld_out) {
  const Consts p{params.in_multiplier, params.in_shift, params.poly_b, params.poly_c, params.max_code,
                 params.exp_table, lut_index_applies(params)};
  rows_taking_next_max(rows, in, ld_in, [&](const int32_t* x) { return row_max(len, x); },
                       [&]<bool kNextMax>(size_t r, int32_t max, const int32_t* next, int32_t& next_max) {
                         softmax_row<kMode, kNextMax>(p, len, in + r * ld_in, max, out + r * ld_out, next, next_max);
                       });
}

}  // namespace

void softmax_rows__avx2(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                        uint8_t* out, size_t ld_out) {
  simd_softmax_rows(p, rows, len, in, ld_in, out, ld_out,
                    [&]<SoftmaxMode kMode>() { softmax_rows_mode<kMode>(p, rows, len, in, ld_in, out, ld_out); });
}

void softmax_rows16__avx2(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                          uint16_t* out, size_t ld_out) {
  simd_softmax_rows(p, rows, len, in, ld_in, out, ld_out,
                    [&]<SoftmaxMode kMode>() { softmax_rows_mode<kMode>(p, rows, len, in, ld_in, out, ld_out); });
}

void av_log2__avx2(const SoftmaxParams& p, size_t m, size_t n, size_t k, const uint8_t* codes, size_t ld_codes,
                   const uint8_t* v_t, size_t ld_v, int32_t v_zero_point, int32_t* acc, size_t ld_acc) {
  constexpr size_t kChunk = 1024;  // shift counts of one chunk of a code row, on the stack
  alignas(32) int32_t shifts[kChunk];
  const __m256i limit = _mm256_set1_epi32(std::min(p.max_code, kAvLog2Shift + 1));
  const __m256i vs = _mm256_set1_epi32(kAvLog2Shift), v32 = _mm256_set1_epi32(32);
  const __m256i vzero_point = _mm256_set1_epi32(v_zero_point);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) acc[i * ld_acc + j] = 0;
    for (size_t k0 = 0; k0 < k; k0 += kChunk) {
      const size_t kc = std::min(kChunk, k - k0);
      const uint8_t* code_row = codes + i * ld_codes + k0;
      // Eq. 23 weight 2^(22 - c) as a left-shift count; 32 (which shifts to 0) for weight 0.
      for (size_t kk = 0; kk < kc; kk += 8) {
        const __m256i c = kc - kk >= 8 ? load8_u8_epi32(code_row + kk) : load8_u8_epi32_tail(code_row + kk, kc - kk);
        const __m256i live = _mm256_cmpgt_epi32(limit, c);
        _mm256_store_si256(reinterpret_cast<__m256i*>(shifts + kk), _mm256_blendv_epi8(v32, _mm256_sub_epi32(vs, c), live));
      }
      for (size_t j = 0; j < n; ++j) {
        const uint8_t* v = v_t + j * ld_v + k0;
        __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
        size_t kk = 0;
        for (; kk + 16 <= kc; kk += 16) {
          const __m256i a0 = _mm256_sub_epi32(load8_u8_epi32(v + kk), vzero_point);
          const __m256i a1 = _mm256_sub_epi32(load8_u8_epi32(v + kk + 8), vzero_point);
          s0 = _mm256_add_epi32(s0, _mm256_sllv_epi32(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(shifts + kk))));
          s1 = _mm256_add_epi32(s1, _mm256_sllv_epi32(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(shifts + kk + 8))));
        }
        if (kk + 8 <= kc) {
          const __m256i a = _mm256_sub_epi32(load8_u8_epi32(v + kk), vzero_point);
          s0 = _mm256_add_epi32(s0, _mm256_sllv_epi32(a, _mm256_load_si256(reinterpret_cast<const __m256i*>(shifts + kk))));
          kk += 8;
        }
        uint32_t part = reduce_add_wrap_epi32(_mm256_add_epi32(s0, s1));
        for (; kk < kc; ++kk) {  // the last < 8 entries, scalar (no read past the row)
          if (shifts[kk] < 32) part += static_cast<uint32_t>(static_cast<int32_t>(v[kk]) - v_zero_point) << shifts[kk];
        }
        acc[i * ld_acc + j] = static_cast<int32_t>(static_cast<uint32_t>(acc[i * ld_acc + j]) + part);
      }
    }
  }
}

}  // namespace intvit
