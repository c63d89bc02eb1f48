// AVX-512 softmax (8- and 16-bit output) and log2 attn@v, bit-identical to softmax-ref.cc (QUANTIZATION.md §4).
// 16 int32 lanes per step; the mode is a template parameter so the inner loop has no branch.
#include "kernels/avx512-intrinsics.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "kernels/fixedpoint-avx512.h"
#include "kernels/softmax/softmax-simd-entry.h"
#include "kernels/softmax/softmax.h"

namespace intvit {
namespace {

using namespace softmax_detail;
using namespace fp_avx512;

// The scalars the row loop reads, copied out of SoftmaxParams so that stores to the row buffers
// cannot alias them (the compiler keeps the broadcasts in registers).
struct Consts {
  int32_t in_multiplier, in_shift, poly_b, poly_c, max_code;
  const int32_t* exp_table;
};

// Eq. 7 (fp_avx512::mbqm) for x <= 0 and multiplier in [0, 2^31), with the sign tests folded into
// constants: the product p = x·M is <= 0, so Eq. 5's (p + 2^30 - [p < 0]) >> 31 equals
// (p + 2^30 - 1) >> 31 (at p = 0 both are 0), and the result r <= 0 makes Eq. 6's threshold
// (mask >> 1) + [r < 0] the constant (mask >> 1) + 1 (at r = 0 the remainder 0 exceeds neither).
inline __m512i mbqm_nonpositive(__m512i x, int32_t multiplier, int shift) {
  const int left = shift < 0 ? -shift : 0;
  const int right = shift > 0 ? shift : 0;
  const __m512i a = saturating_left_shift(x, left);  // still <= 0
  const __m512i bv = _mm512_set1_epi64(multiplier);
  const __m512i half = _mm512_set1_epi64((int64_t{1} << 30) - 1);
  const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(a, bv), half);
  const __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(a, 32), bv), half);
  const __m512i r = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 31), _mm512_slli_epi64(odd, 1));
  if (right == 0) return r;
  const int32_t mask = static_cast<int32_t>((int64_t{1} << right) - 1);
  const __mmask16 up = _mm512_cmpgt_epi32_mask(_mm512_and_si512(r, _mm512_set1_epi32(mask)), _mm512_set1_epi32((mask >> 1) + 1));
  const __m512i shifted = _mm512_srai_epi32(r, right);
  return _mm512_mask_add_epi32(shifted, up, shifted, _mm512_set1_epi32(1));
}

// Eq. 14-20 on 16 centred logits d <= 0.
template <SoftmaxMode kMode>
__m512i exp_of(const Consts& p, __m512i d) {
  const __m512i u = mbqm_nonpositive(d, p.in_multiplier, p.in_shift);
  if constexpr (kMode == SoftmaxMode::kIexp || kMode == SoftmaxMode::kLog2) {
    const __m512i x = _mm512_max_epi32(u, _mm512_set1_epi32(-(kIexpClampN << kIexpFracBits)));
    const __m512i q = _mm512_srai_epi32(_mm512_sub_epi32(_mm512_setzero_si512(), x), kIexpFracBits);
    const __m512i r = _mm512_add_epi32(x, _mm512_slli_epi32(q, kIexpFracBits));
    const __m512i z = _mm512_add_epi32(_mm512_mullo_epi32(r, _mm512_add_epi32(r, _mm512_set1_epi32(p.poly_b))),
                                       _mm512_set1_epi32(p.poly_c));
    // Eq. 17 for 0 < z < 2^31 and shift in [13, 43]: (z + 2^(shift-1)) >> shift in uint32 cannot
    // wrap, and counts >= 32 give 0 exactly as the 64-bit rounding divide does.
    const __m512i shift = _mm512_add_epi32(q, _mm512_set1_epi32(kIexpNarrowShift));
    const __m512i half = _mm512_sllv_epi32(_mm512_set1_epi32(1), _mm512_sub_epi32(shift, _mm512_set1_epi32(1)));
    return _mm512_srlv_epi32(_mm512_add_epi32(z, half), shift);
  } else if constexpr (kMode == SoftmaxMode::kShiftmax) {
    const __m512i v = _mm512_max_epi32(u, _mm512_set1_epi32(-kShiftPreClamp));
    __m512i t = _mm512_sub_epi32(_mm512_add_epi32(v, _mm512_srai_epi32(v, 1)), _mm512_srai_epi32(v, 4));
    t = _mm512_max_epi32(t, _mm512_set1_epi32(-(kShiftClampN << kShiftFracBits)));
    const __m512i q = _mm512_srai_epi32(_mm512_sub_epi32(_mm512_setzero_si512(), t), kShiftFracBits);
    const __m512i r = _mm512_add_epi32(t, _mm512_slli_epi32(q, kShiftFracBits));
    return _mm512_srav_epi32(_mm512_add_epi32(_mm512_srai_epi32(r, 1), _mm512_set1_epi32(1 << kShiftFracBits)), q);
  } else {
    const __m512i index = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_max_epi32(u, _mm512_set1_epi32(-255)));
    return _mm512_i32gather_epi32(index, p.exp_table, 4);
  }
}

// Pass 1 of a row: its max (Eq. 13).
inline int32_t row_max(size_t len, const int32_t* x) {
  __m512i vmax = _mm512_set1_epi32(std::numeric_limits<int32_t>::min());
  for (size_t j = 0; j < len; j += 16) {
    vmax = _mm512_max_epi32(vmax, _mm512_mask_loadu_epi32(vmax, tail_mask16(len - j), x + j));
  }
  return _mm512_reduce_max_epi32(vmax);
}

// Pass 2 of a row (Eq. 13-20) given its max, shared by the 8- and 16-bit outputs: e_j into
// e_buf[0, len) (and the rest of the last vector, lanes past the row holding e(0)); returns Σe.
// kNextMax: meanwhile pass 1 of the row `next`, its max into next_max (QUANTIZATION.md §4.11).
template <SoftmaxMode kMode, bool kNextMax>
int64_t exp_row(const Consts& params, size_t len, const int32_t* x, int32_t max, int32_t* e_buf, const int32_t* next,
                int32_t& next_max) {
  // A local copy: the e_buf stores cannot alias it, so the compiler keeps the constants derived
  // from it (broadcasts, shift masks) out of the loop instead of reloading them per vector.
  const Consts p = params;
  __m512i vnext = _mm512_set1_epi32(std::numeric_limits<int32_t>::min());
  // Eq. 13 without 64-bit lanes: max(x, max - 2^31) - max cannot wrap.
  const int64_t floor64 = std::max<int64_t>(int64_t{max} - (int64_t{1} << 31), std::numeric_limits<int32_t>::min());
  const __m512i vfloor = _mm512_set1_epi32(static_cast<int32_t>(floor64));
  const __m512i vmax_b = _mm512_set1_epi32(max);
  // Pass 2: e and Σe (per lane < 256·2^18, no overflow).
  __m512i vsum = _mm512_setzero_si512();
  size_t j = 0;
  for (; j + 16 <= len; j += 16) {
    if constexpr (kNextMax) vnext = _mm512_max_epi32(vnext, _mm512_loadu_si512(next + j));
    const __m512i e = exp_of<kMode>(p, _mm512_sub_epi32(_mm512_max_epi32(_mm512_loadu_si512(x + j), vfloor), vmax_b));
    _mm512_store_si512(e_buf + j, e);
    vsum = _mm512_add_epi32(vsum, e);
  }
  if (j < len) {
    const __mmask16 m = tail_mask16(len - j);
    const __m512i xv = _mm512_mask_loadu_epi32(vmax_b, m, x + j);  // tail lanes: d = 0
    const __m512i e = exp_of<kMode>(p, _mm512_sub_epi32(_mm512_max_epi32(xv, vfloor), vmax_b));
    _mm512_store_si512(e_buf + j, e);
    vsum = _mm512_mask_add_epi32(vsum, m, vsum, e);
    if constexpr (kNextMax) vnext = _mm512_max_epi32(vnext, _mm512_mask_loadu_epi32(vnext, m, next + j));
  }
  if constexpr (kNextMax) next_max = _mm512_reduce_max_epi32(vnext);
  return reduce_add_wrap_epi32(vsum);  // < 2^30, never wraps
}

// 8-bit output: Eq. 21 or (kLog2) Eq. 22.
template <SoftmaxMode kMode, bool kNextMax>
void softmax_row(const Consts& p, size_t len, const int32_t* x, int32_t max, uint8_t* y, const int32_t* next,
                 int32_t& next_max) {
  alignas(64) int32_t e_buf[kSimdMaxLen + 16];
  const int64_t sum = exp_row<kMode, kNextMax>(p, len, x, max, e_buf, next, next_max);
  // Pass 3.
  if constexpr (kMode == SoftmaxMode::kLog2) {
    // Eq. 22 as a count of thresholds: 3e·2^n <= 2Σ  <=>  3e <= (2Σ) >> n. For e >= 1 the count
    // stops below 30 (2Σ < 2^31), so n < 31 suffices; e = 0 takes the max code.
    const int n_max = std::min(p.max_code, 31);
    int32_t thresholds[31];
    for (int n = 0; n < n_max; ++n) thresholds[n] = static_cast<int32_t>((2 * sum) >> n);
    const __m512i vmax_code = _mm512_set1_epi32(p.max_code);
    for (size_t j = 0; j < len; j += 16) {
      const __m512i e = _mm512_load_si512(e_buf + j);
      const __m512i e3 = _mm512_mullo_epi32(e, _mm512_set1_epi32(3));
      __m512i c = _mm512_setzero_si512();
      for (int n = 0; n < n_max; ++n) {
        const __mmask16 le = _mm512_cmple_epi32_mask(e3, _mm512_set1_epi32(thresholds[n]));
        c = _mm512_mask_add_epi32(c, le, c, _mm512_set1_epi32(1));
      }
      c = _mm512_mask_mov_epi32(c, _mm512_cmpeq_epi32_mask(e, _mm512_setzero_si512()), vmax_code);
      _mm512_mask_cvtepi32_storeu_epi8(y + j, tail_mask16(len - j), c);
    }
  } else {
    // Eq. 21: e·F <= 2^31 + 2^17 and + 2^22 stays below 2^32: exact in uint32 lanes.
    const uint64_t factor = ((uint64_t{1} << 31) + sum / 2) / sum;
    const __m512i vf = _mm512_set1_epi32(static_cast<int32_t>(factor));
    const __m512i round = _mm512_set1_epi32(1 << (kProbShift - 1));
    for (size_t j = 0; j < len; j += 16) {
      const __m512i e = _mm512_load_si512(e_buf + j);
      __m512i prob = _mm512_srli_epi32(_mm512_add_epi32(_mm512_mullo_epi32(e, vf), round), kProbShift);
      prob = _mm512_min_epu32(prob, _mm512_set1_epi32(255));
      _mm512_mask_cvtepi32_storeu_epi8(y + j, tail_mask16(len - j), prob);
    }
  }
}

// 16-bit output: Eq. 21b. F16 <= 2^30 fits the low half of a 64-bit lane: vpmuludq gives e·F16
// (< 2^48) exactly for the even and odd int32 lanes, whose high halves (+ 2^31) are p16.
template <SoftmaxMode kMode, bool kNextMax>
void softmax_row(const Consts& p, size_t len, const int32_t* x, int32_t max, uint16_t* y, const int32_t* next,
                 int32_t& next_max) {
  alignas(64) int32_t e_buf[kSimdMaxLen + 16];
  const int64_t sum = exp_row<kMode, kNextMax>(p, len, x, max, e_buf, next, next_max);
  const uint64_t factor = ((uint64_t{1} << kProb16RecipBits) + sum / 2) / sum;
  const __m512i vf = _mm512_set1_epi64(static_cast<int64_t>(factor));
  const __m512i round = _mm512_set1_epi64(int64_t{1} << (kProb16Shift - 1));
  const __m512i cap = _mm512_set1_epi32(kProb16Max);
  for (size_t j = 0; j < len; j += 16) {
    const __m512i e = _mm512_load_si512(e_buf + j);
    const __m512i even = _mm512_add_epi64(_mm512_mul_epu32(e, vf), round);
    const __m512i odd = _mm512_add_epi64(_mm512_mul_epu32(_mm512_srli_epi64(e, 32), vf), round);
    const __m512i prob = _mm512_min_epi32(_mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd), cap);
    if (j + 16 <= len) {  // the register form of vpmovdw and a plain store: cheaper than the masked store form
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + j), _mm512_cvtepi32_epi16(prob));
    } else {
      _mm512_mask_cvtepi32_storeu_epi16(y + j, tail_mask16(len - j), prob);
    }
  }
}

template <SoftmaxMode kMode, typename Out>
void softmax_rows_mode(const SoftmaxParams& params, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                       Out* out, size_t ld_out) {
  const Consts p{params.in_multiplier, params.in_shift, params.poly_b, params.poly_c, params.max_code,
                 params.exp_table};
  rows_taking_next_max(rows, in, ld_in, [&](const int32_t* x) { return row_max(len, x); },
                       [&]<bool kNextMax>(size_t r, int32_t max, const int32_t* next, int32_t& next_max) {
                         softmax_row<kMode, kNextMax>(p, len, in + r * ld_in, max, out + r * ld_out, next, next_max);
                       });
}

}  // namespace

void softmax_rows__avx512(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in,
                          size_t ld_in, uint8_t* out, size_t ld_out) {
  simd_softmax_rows(p, rows, len, in, ld_in, out, ld_out,
                    [&]<SoftmaxMode kMode>() { softmax_rows_mode<kMode>(p, rows, len, in, ld_in, out, ld_out); });
}

void softmax_rows16__avx512(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                            uint16_t* out, size_t ld_out) {
  simd_softmax_rows(p, rows, len, in, ld_in, out, ld_out,
                    [&]<SoftmaxMode kMode>() { softmax_rows_mode<kMode>(p, rows, len, in, ld_in, out, ld_out); });
}

void av_log2__avx512(const SoftmaxParams& p, size_t m, size_t n, size_t k, const uint8_t* codes,
                     size_t ld_codes, const uint8_t* v_t, size_t ld_v, int32_t v_zero_point, int32_t* acc,
                     size_t ld_acc) {
  constexpr size_t kChunk = 1024;  // shift counts of one chunk of a code row, on the stack
  alignas(64) int32_t shifts[kChunk];
  const __m512i limit = _mm512_set1_epi32(std::min(p.max_code, kAvLog2Shift + 1));
  const __m512i vs = _mm512_set1_epi32(kAvLog2Shift), v32 = _mm512_set1_epi32(32);
  const __m512i vzero_point = _mm512_set1_epi32(v_zero_point);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) acc[i * ld_acc + j] = 0;
    for (size_t k0 = 0; k0 < k; k0 += kChunk) {
      const size_t kc = std::min(kChunk, k - k0);
      // Eq. 23 weight 2^(22 - c) as a left-shift count; 32 (which shifts to 0) for weight 0 and tails.
      for (size_t kk = 0; kk < kc; kk += 16) {
        const __mmask16 mk = tail_mask16(kc - kk);
        const __m512i c = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mk, codes + i * ld_codes + k0 + kk));
        const __mmask16 live = mk & _mm512_cmplt_epi32_mask(c, limit);
        _mm512_store_si512(shifts + kk, _mm512_mask_sub_epi32(v32, live, vs, c));
      }
      for (size_t j = 0; j < n; ++j) {
        const uint8_t* v = v_t + j * ld_v + k0;
        __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
        size_t kk = 0;
        for (; kk + 32 <= kc; kk += 32) {
          const __m512i a0 = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i*)(v + kk))), vzero_point);
          const __m512i a1 = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i*)(v + kk + 16))), vzero_point);
          s0 = _mm512_add_epi32(s0, _mm512_sllv_epi32(a0, _mm512_load_si512(shifts + kk)));
          s1 = _mm512_add_epi32(s1, _mm512_sllv_epi32(a1, _mm512_load_si512(shifts + kk + 16)));
        }
        for (; kk < kc; kk += 16) {
          const __mmask16 mk = tail_mask16(kc - kk);
          const __m512i a = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mk, v + kk)), vzero_point);
          s0 = _mm512_add_epi32(s0, _mm512_sllv_epi32(a, _mm512_load_si512(shifts + kk)));
        }
        const uint32_t part = reduce_add_wrap_epi32(_mm512_add_epi32(s0, s1));
        acc[i * ld_acc + j] = static_cast<int32_t>(static_cast<uint32_t>(acc[i * ld_acc + j]) + part);
      }
    }
  }
}

}  // namespace intvit
