// AVX-512 LayerNorm, bit-identical to layernorm-ref.cc (QUANTIZATION.md §6). Max and statistics
// in one pass of 16 int32 lanes (Σx² in int64 lanes; the 128-bit D² is per row, scalar). The
// output stage of in-contract int32 rows (§6.5: s >= j, C <= 1024) runs 16 channels per step from
// an exact mod-2^32 ñ and per-call channel constants; other rows take the general stage: 8
// channels in int64 lanes with 32×32-bit multiplies only (vpmuldq) and rounding shifts as
// add-half-and-sign (the per-row shifts are positive by construction).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports its own _mm512_undefined_* placeholders as uninitialized (a false positive).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/fixedpoint-avx512.h"
#include "kernels/fixedpoint.h"
#include "kernels/layernorm/layernorm.h"
#include "kernels/layernorm/layernorm-row.h"

namespace intvit {
namespace {

using namespace layernorm_detail;
using namespace fp_avx512;

// Eq. 33 for 16 channels from c; tail lanes (beyond the mask) are 0.
__m512i load_x(const LayerNormParams& p, const void* row, size_t c, __mmask16 m) {
  if (!p.uint8_input) return _mm512_maskz_loadu_epi32(m, static_cast<const int32_t*>(row) + c);
  const __m512i q = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, static_cast<const uint8_t*>(row) + c));
  const __m512i a = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, p.alpha.data() + c));
  return _mm512_maskz_sllv_epi32(m, _mm512_sub_epi32(q, _mm512_set1_epi32(p.in_zero_point)), a);
}

// Eq. 34: x' = x·2^s or RDBP(x, -s).
__m512i pre_shift(__m512i x, int s) {
  return s >= 0 ? _mm512_sllv_epi32(x, _mm512_set1_epi32(s)) : rdbp(x, -s);
}

__m512i add_low_high_epi64(__m512i acc, __m512i v32) {  // acc += sign-extended 16 int32 lanes
  acc = _mm512_add_epi64(acc, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v32)));
  return _mm512_add_epi64(acc, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v32, 1)));
}

__m512i add_squares_epi64(__m512i acc, __m512i v32) {  // acc += x² of 16 int32 lanes (exact, 64-bit)
  acc = _mm512_add_epi64(acc, _mm512_mul_epi32(v32, v32));
  const __m512i odd = _mm512_srli_epi64(v32, 32);
  return _mm512_add_epi64(acc, _mm512_mul_epi32(odd, odd));
}

// RDBP64(x, e) for a shift e >= 1 in every lane (|x| < 2^62): round half away from zero is
// floor((x + 2^(e-1) - [x < 0]) / 2^e). The sign test is a compare into a mask (port 5), not a
// shift: 512-bit shifts and multiplies share port 0, which bounds this kernel.
__m512i rdbp64_pos(__m512i x, __m512i half, __m512i e) {
  const __m512i w = _mm512_add_epi64(x, half);
  const __mmask8 negative = _mm512_cmplt_epi64_mask(x, _mm512_setzero_si512());
  return _mm512_srav_epi64(_mm512_mask_sub_epi64(w, negative, w, _mm512_set1_epi64(1)), e);
}

// Per-row constants of Eq. 38-39, hoisted out of the channel loop (the output pointer may alias
// anything, so the compiler would otherwise reload them from the params on every iteration).
struct RowConsts {
  __m512i count, sum, j, half_j, recip, t_half, t_shift, zero_point, lo, hi;
  const int32_t* gamma;
  const int64_t* bias;
  const uint8_t* shift;
};

// Eq. 38-39 for the 8 channels from ch (tail lanes masked off); `xs` holds their x' as int64.
// Returns the clamped outputs in int64 lanes.
template <bool kRightShiftJ>
inline __m512i normalize8(const RowConsts& k, size_t ch, __m512i xs, __mmask8 m) {
  const __m512i one = _mm512_set1_epi64(1);
  // Eq. 38: n = C·x' - S (|n| <= 2^36) -> ñ = n·2^-j, |ñ| < 2^31 (|n|² <= (C-1)/C·D², §6.3), so ñ
  // is an int32 in its lane and ñ·R is one signed 32×32 multiply (vpmuldq), |ñ·R| < 2^61.
  const __m512i n = _mm512_sub_epi64(_mm512_mul_epi32(xs, k.count), k.sum);
  const __m512i scaled = kRightShiftJ ? rdbp64_pos(n, k.half_j, k.j) : _mm512_sllv_epi64(n, k.j);
  const __m512i t = rdbp64_pos(_mm512_mul_epi32(scaled, k.recip), k.t_half, k.t_shift);
  // Eq. 39: t·G + H (|t| < 2^31, so vpmuldq again), rounded by 2^-h_c (h_c = 0: no rounding).
  const __m512i g = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(m, k.gamma + ch));
  const __m512i bias = _mm512_maskz_loadu_epi64(m, k.bias + ch);
  const __m512i h = _mm512_cvtepu8_epi64(_mm_maskz_loadu_epi8(m, k.shift + ch));
  const __m512i v = _mm512_add_epi64(_mm512_mul_epi32(t, g), bias);
  const __m512i half = _mm512_sllv_epi64(one, _mm512_sub_epi64(h, one));  // h = 0: count 2^64-1 -> 0
  const __mmask8 negative = _mm512_mask_cmplt_epi64_mask(_mm512_test_epi64_mask(h, h), v, _mm512_setzero_si512());
  const __m512i w = _mm512_add_epi64(v, half);
  const __m512i y = _mm512_add_epi64(_mm512_srav_epi64(_mm512_mask_sub_epi64(w, negative, w, one), h), k.zero_point);
  return _mm512_min_epi64(_mm512_max_epi64(y, k.lo), k.hi);
}

template <bool kRightShiftJ, typename OutT>
void normalize_row(const LayerNormParams& p, const void* in, int s, int64_t sum, const RowScale& rs, OutT* out) {
  const size_t n = p.channels;
  const RowConsts k{_mm512_set1_epi64(static_cast<int64_t>(n)),
                    _mm512_set1_epi64(sum),
                    _mm512_set1_epi64(rs.j >= 0 ? rs.j : -rs.j),
                    _mm512_set1_epi64(rs.j > 0 ? int64_t{1} << (rs.j - 1) : 0),
                    _mm512_set1_epi64(rs.recip),
                    _mm512_set1_epi64(int64_t{1} << (kTBits - 1)),
                    _mm512_set1_epi64(kTBits),
                    _mm512_set1_epi64(p.out_zero_point),
                    _mm512_set1_epi64(p.out_min),
                    _mm512_set1_epi64(p.out_max),
                    p.gamma_multiplier.data(),
                    p.beta_bias.data(),
                    p.out_shift.data()};
  // Low dwords of two int64 vectors -> 16 int32 lanes (outputs are clamped, so they fit).
  const __m512i low_dwords = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (size_t c = 0; c < n; c += 16) {
    const __mmask16 m16 = tail_mask16(n - c);
    const __m512i xs = pre_shift(load_x(p, in, c, m16), s);
    const __m512i y0 = normalize8<kRightShiftJ>(k, c, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(xs)), tail_mask8(n - c));
    const __m512i y1 = c + 8 < n ? normalize8<kRightShiftJ>(k, c + 8, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(xs, 1)), tail_mask8(n - c - 8))
                                 : _mm512_setzero_si512();
    const __m512i y = _mm512_permutex2var_epi32(y0, low_dwords, y1);
    if constexpr (sizeof(OutT) == 1) {
      _mm_mask_storeu_epi8(out + c, m16, _mm512_cvtepi32_epi8(y));
    } else {
      _mm256_mask_storeu_epi16(out + c, m16, _mm512_cvtepi32_epi16(y));
    }
  }
}

template <bool kRightShiftJ>
void normalize_row(const LayerNormParams& p, const void* in, int s, int64_t sum, const RowScale& rs, void* out) {
  if (p.out_bits == 8) return normalize_row<kRightShiftJ>(p, in, s, sum, rs, static_cast<uint8_t*>(out));
  normalize_row<kRightShiftJ>(p, in, s, sum, rs, static_cast<int16_t*>(out));
}

// ---- The fast output stage (QUANTIZATION.md §6.5) for int32 rows with s >= 0 and s >= j, i.e.
// every in-contract residual row: n_c = 2^s·(C·x_c - Σx) and s >= j make Eq. 38's ñ_c =
// 2^(s-j)·(C·x_c - Σx) exact, and since |ñ_c| < 2^31 it is one vpmulld and one vpsubd mod 2^32
// over 16 channels. Then, on the even and odd channels in 64-bit lanes:
//   t = (ñ·R + 2^29 - [ñ·R < 0]) >> 30     (Eq. 38; vpmuldq reads ñ from the low dwords)
//   w = t·G_c + K_c,  y = (w - [w < Θ_c]) >> h_c   (Eq. 39 with z_out, the half and the sign
//                                                   test folded into the per-channel K_c, Θ_c)
// K_c = H_c + 2^(h_c-1) + z·2^h_c and Θ_c = 2^(h_c-1) + z·2^h_c (h_c > 0; h_c = 0: K_c = H_c + z,
// Θ_c = INT64_MIN), so w - Θ_c = t·G_c + H_c is Eq. 39's sum and its sign decides the rounding.
constexpr size_t kLaneChannels = 1024;
constexpr size_t kRowGroup = 8;

// Per block of 16 channels: G, K, Θ, h, each as 8 even-channel then 8 odd-channel int64 lanes.
struct LaneBlock {
  int64_t g[16], k[16], theta[16], h[16];
  int32_t high_shift[16];  // h_c - 32 in channel order (§6.6: narrow calls only)
};

// Builds the lane constants of p (p.channels <= kLaneChannels); returns whether every h_c >= 32,
// which keeps |y| < 2^31 (|w| < 2^63), so y can be narrowed by saturating dword conversions.
bool build_lanes(const LayerNormParams& p, LaneBlock* blocks) {
  // channel_consts of 16 channels at a time (the scalar form costs ~10 cycles per channel, per call).
  const size_t n = p.channels;
  const __m512i evens_first = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  const __m512i even_q = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), odd_q = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
  const __m512i one = _mm512_set1_epi64(1), zero_point = _mm512_set1_epi64(p.out_zero_point);
  const __m512i min64 = _mm512_set1_epi64(INT64_MIN), h32 = _mm512_set1_epi32(32);
  __mmask16 wide = 0;  // channels with h_c < 32
  for (size_t b = 0; b * 16 < n; ++b) {
    const size_t c = 16 * b;
    const __mmask16 m = tail_mask16(n - c);
    const __m512i h = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, p.out_shift.data() + c));
    wide |= _mm512_mask_cmplt_epi32_mask(m, h, h32);
    _mm512_store_si512(blocks[b].high_shift, _mm512_max_epi32(_mm512_sub_epi32(h, h32), _mm512_setzero_si512()));
    const __m512i g_sorted = _mm512_permutexvar_epi32(evens_first, _mm512_maskz_loadu_epi32(m, p.gamma_multiplier.data() + c));
    const __m512i h_sorted = _mm512_permutexvar_epi32(evens_first, h);
    const __m512i beta_lo = _mm512_maskz_loadu_epi64(static_cast<__mmask8>(m), p.beta_bias.data() + c);
    const __m512i beta_hi = _mm512_maskz_loadu_epi64(static_cast<__mmask8>(m >> 8), p.beta_bias.data() + c + 8);
    for (int odd = 0; odd < 2; ++odd) {  // the even channels' lanes, then the odd ones'
      const auto live = static_cast<__mmask8>(_pext_u32(m, odd ? 0xAAAAu : 0x5555u));
      const __m512i g = _mm512_cvtepi32_epi64(odd ? _mm512_extracti64x4_epi64(g_sorted, 1) : _mm512_castsi512_si256(g_sorted));
      const __m512i hq = _mm512_cvtepu32_epi64(odd ? _mm512_extracti64x4_epi64(h_sorted, 1) : _mm512_castsi512_si256(h_sorted));
      const __m512i beta = _mm512_permutex2var_epi64(beta_lo, odd ? odd_q : even_q, beta_hi);
      const __m512i zero = _mm512_sllv_epi64(zero_point, hq);
      const __m512i half = _mm512_sllv_epi64(one, _mm512_sub_epi64(hq, one));  // h = 0: count 2^64 - 1 -> 0
      const __m512i k = _mm512_maskz_add_epi64(live, _mm512_add_epi64(beta, zero), half);
      const __m512i theta = _mm512_mask_add_epi64(min64, _mm512_mask_test_epi64_mask(live, hq, hq), half, zero);
      _mm512_store_si512(blocks[b].g + 8 * odd, g);
      _mm512_store_si512(blocks[b].k + 8 * odd, k);
      _mm512_store_si512(blocks[b].theta + 8 * odd, theta);
      _mm512_store_si512(blocks[b].h + 8 * odd, hq);
    }
  }
  return wide == 0;
}

// Eq. 38-39 on 8 channels (even or odd) from their ñ (low dwords): the output y in int64 lanes.
inline __m512i affine8(__m512i nt, __m512i recip, __m512i half, const int64_t* g, const int64_t* k, const int64_t* theta,
                       const int64_t* h) {
  const __m512i prod = _mm512_mul_epi32(nt, recip);  // |ñ·R| < 2^61
  const __mmask8 nonnegative = _mm512_cmpge_epi64_mask(prod, _mm512_setzero_si512());
  const __m512i r = _mm512_add_epi64(prod, half);  // half = 2^29 - 1, plus 1 where ñ·R >= 0
  const __m512i t = _mm512_srai_epi64(_mm512_mask_add_epi64(r, nonnegative, r, _mm512_set1_epi64(1)), kTBits);
  const __m512i w = _mm512_add_epi64(_mm512_mul_epi32(t, _mm512_load_si512(g)), _mm512_load_si512(k));
  const __mmask8 below = _mm512_cmplt_epi64_mask(w, _mm512_load_si512(theta));
  return _mm512_srav_epi64(_mm512_mask_sub_epi64(w, below, w, _mm512_set1_epi64(1)), _mm512_load_si512(h));
}

template <bool kNarrow, typename OutT>
void normalize_row_lanes(const LayerNormParams& p, const LaneBlock* blocks, const int32_t* x, int s, int64_t sum,
                         const RowScale& rs, OutT* out) {
  const size_t n = p.channels;
  const int up = s - rs.j;  // in [0, 31]
  const auto sum0 = static_cast<uint64_t>(sum) >> s;  // Σx (S = 2^s·Σx exactly)
  const __m512i scale = _mm512_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(n) << up));
  const __m512i offset = _mm512_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(sum0) << up));
  const __m512i recip = _mm512_set1_epi64(rs.recip), half = _mm512_set1_epi64((int64_t{1} << (kTBits - 1)) - 1);
  const __m512i lo = _mm512_set1_epi32(p.out_min), hi = _mm512_set1_epi32(p.out_max);
  const __m512i lo64 = _mm512_set1_epi64(p.out_min), hi64 = _mm512_set1_epi64(p.out_max);
  const __m512i interleave = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
  // y of channels [c, c + 16) as int32 lanes (past the mask: anything); clamped unless kNarrow.
  auto y16 = [&](size_t c, __mmask16 m) {
    const LaneBlock& b = blocks[c / 16];
    // Eq. 38: ñ mod 2^32 (exact, |ñ| < 2^31); its even and odd channels in the low dwords.
    const __m512i nt = _mm512_sub_epi32(_mm512_mullo_epi32(_mm512_maskz_loadu_epi32(m, x + c), scale), offset);
    __m512i y_even = affine8(nt, recip, half, b.g, b.k, b.theta, b.h);
    __m512i y_odd = affine8(_mm512_srli_epi64(nt, 32), recip, half, b.g + 8, b.k + 8, b.theta + 8, b.h + 8);
    if constexpr (!kNarrow) {
      y_even = _mm512_min_epi64(_mm512_max_epi64(y_even, lo64), hi64);
      y_odd = _mm512_min_epi64(_mm512_max_epi64(y_odd, lo64), hi64);
    }
    return _mm512_permutex2var_epi32(y_even, interleave, y_odd);
  };
  size_t c = 0;
  // Full-range outputs: the saturating packs are the clamp (signed dword -> word, then word ->
  // unsigned byte), and one permute undoes their lane interleave.
  const bool full_range = sizeof(OutT) == 1 ? p.out_min == 0 && p.out_max == 255 : p.out_min == -32768 && p.out_max == 32767;
  if (kNarrow && full_range) {
    if constexpr (sizeof(OutT) == 1) {
      const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
      for (; c + 64 <= n; c += 64) {
        const __m512i w01 = _mm512_packs_epi32(y16(c, 0xFFFF), y16(c + 16, 0xFFFF));
        const __m512i w23 = _mm512_packs_epi32(y16(c + 32, 0xFFFF), y16(c + 48, 0xFFFF));
        _mm512_storeu_si512(out + c, _mm512_permutexvar_epi32(order, _mm512_packus_epi16(w01, w23)));
      }
    } else {
      const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
      for (; c + 32 <= n; c += 32) {
        _mm512_storeu_si512(out + c, _mm512_permutexvar_epi64(order, _mm512_packs_epi32(y16(c, 0xFFFF), y16(c + 16, 0xFFFF))));
      }
    }
  }
  for (; c < n; c += 16) {
    const __mmask16 m = tail_mask16(n - c);
    const __m512i y = _mm512_min_epi32(_mm512_max_epi32(y16(c, m), lo), hi);
    if constexpr (sizeof(OutT) == 1) {
      _mm_mask_storeu_epi8(out + c, m, _mm512_cvtepi32_epi8(y));
    } else {
      _mm256_mask_storeu_epi16(out + c, m, _mm512_cvtepi32_epi16(y));
    }
  }
}

// ---- §6.6: the §6.5 stage without its two sign tests, for narrow calls (every h_c >= 32). Both
// roundings are computed half up, t = (ñ·R + 2^29) >> 30 and y = floor((t·G_c + K_c) / 2^h_c),
// which differs from Eq. 38-39 (half away from zero) only at a negative tie: ñ < 0 with
// v2(ñ) = 29 - v2(R) (then ñ·R = odd·2^29), or w = t·G_c + K_c ≡ 0 (mod 2^h_c) with w < Θ_c. Every
// lane tests for both (the low dword of w is 0 for the second) and a row where any lane might
// tie is recomputed by the exact stage. y = floor(w / 2^h) is the high dword of w shifted right
// by h - 32 (|w| < 2^63, so the high dword is floor(w / 2^32) as an int32).
template <typename OutT>
bool normalize_row_fast(const LayerNormParams& p, const LaneBlock* blocks, const int32_t* x, int s, int64_t sum,
                        const RowScale& rs, OutT* out) {
  const size_t n = p.channels;
  const int up = s - rs.j;  // in [0, 31]
  const auto sum0 = static_cast<uint64_t>(sum) >> s;
  const __m512i scale = _mm512_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(n) << up));
  const __m512i offset = _mm512_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(sum0) << up));
  const __m512i recip = _mm512_set1_epi64(rs.recip), half = _mm512_set1_epi64(int64_t{1} << (kTBits - 1));
  // Negative t tie: the sign bit and bits [0, κ] of ñ read 1 and 2^κ, κ = 29 - v2(R) (R = 2^30: none).
  const int kappa = 29 - __builtin_ctzll(static_cast<uint64_t>(rs.recip));
  const __m512i tie_mask = _mm512_set1_epi32(kappa < 0 ? 0 : static_cast<int32_t>(0x80000000u | ((2u << kappa) - 1)));
  const __m512i tie_bits = _mm512_set1_epi32(kappa < 0 ? 1 : static_cast<int32_t>(0x80000000u | (1u << kappa)));
  const __m512i lo = _mm512_set1_epi32(p.out_min), hi = _mm512_set1_epi32(p.out_max);
  const __m512i high_dwords = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
  const __m512i low_dwords = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
  __m512i ties = _mm512_set1_epi32(-1);  // a lane reaching 0 flags a possible negative tie
  auto y16 = [&](size_t c, __mmask16 m) {
    const LaneBlock& b = blocks[c / 16];
    const __m512i nt = _mm512_sub_epi32(_mm512_mullo_epi32(_mm512_maskz_loadu_epi32(m, x + c), scale), offset);
    ties = _mm512_mask_min_epu32(ties, m, ties, _mm512_ternarylogic_epi32(nt, tie_mask, tie_bits, 0x6A));  // (ñ & A) ^ B
    const __m512i t_even = _mm512_srai_epi64(_mm512_add_epi64(_mm512_mul_epi32(nt, recip), half), kTBits);
    const __m512i nt_odd = _mm512_shuffle_epi32(nt, _MM_PERM_CDAB);
    const __m512i t_odd = _mm512_srai_epi64(_mm512_add_epi64(_mm512_mul_epi32(nt_odd, recip), half), kTBits);
    const __m512i w_even = _mm512_add_epi64(_mm512_mul_epi32(t_even, _mm512_load_si512(b.g)), _mm512_load_si512(b.k));
    const __m512i w_odd = _mm512_add_epi64(_mm512_mul_epi32(t_odd, _mm512_load_si512(b.g + 8)), _mm512_load_si512(b.k + 8));
    ties = _mm512_mask_min_epu32(ties, m, ties, _mm512_permutex2var_epi32(w_even, low_dwords, w_odd));
    return _mm512_srav_epi32(_mm512_permutex2var_epi32(w_even, high_dwords, w_odd), _mm512_load_si512(b.high_shift));
  };
  size_t c = 0;
  const bool full_range = sizeof(OutT) == 1 ? p.out_min == 0 && p.out_max == 255 : p.out_min == -32768 && p.out_max == 32767;
  if (full_range) {
    if constexpr (sizeof(OutT) == 1) {
      const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
      for (; c + 64 <= n; c += 64) {
        const __m512i w01 = _mm512_packs_epi32(y16(c, 0xFFFF), y16(c + 16, 0xFFFF));
        const __m512i w23 = _mm512_packs_epi32(y16(c + 32, 0xFFFF), y16(c + 48, 0xFFFF));
        _mm512_storeu_si512(out + c, _mm512_permutexvar_epi32(order, _mm512_packus_epi16(w01, w23)));
      }
    } else {
      const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
      for (; c + 32 <= n; c += 32) {
        _mm512_storeu_si512(out + c, _mm512_permutexvar_epi64(order, _mm512_packs_epi32(y16(c, 0xFFFF), y16(c + 16, 0xFFFF))));
      }
    }
  }
  for (; c < n; c += 16) {
    const __mmask16 m = tail_mask16(n - c);
    const __m512i y = _mm512_min_epi32(_mm512_max_epi32(y16(c, m), lo), hi);
    if constexpr (sizeof(OutT) == 1) {
      _mm_mask_storeu_epi8(out + c, m, _mm512_cvtepi32_epi8(y));
    } else {
      _mm256_mask_storeu_epi16(out + c, m, _mm512_cvtepi32_epi16(y));
    }
  }
  return _mm512_cmpeq_epi32_mask(ties, _mm512_setzero_si512()) == 0;
}

// Everything Eq. 38-39 needs from a row's statistics.
struct RowPlan {
  int s;          // Eq. 34 pre-shift
  int64_t sum;    // S
  RowScale scale; // j, R (Eq. 36-37)
};

// Eq. 34-35 of a row: s, S and Q (the vector pass).
struct RowStats {
  int s;
  int64_t sum, sum_sq;
};

// Eq. 34-35 of an int32 row in one pass of 6 vector ops per 16 channels, all on the two ALU ports
// that multiply (no shift, abs or max): the even channels' x² from x itself, the odd channels' from
// a load one channel further on (vpmuldq reads the low dword of each qword), and max |x| as the OR
// of the squares: bitlen(max |x|) = ceil(bitlen(OR x²) / 2), as x in [2^(b-1), 2^b) has x² in
// [2^(2b-2), 2^2b). Rows that need a right pre-shift take row_stats' second pass.
RowStats row_stats_i32(const LayerNormParams& p, const int32_t* x) {
  const size_t n = p.channels;
  __m512i vor = _mm512_setzero_si512(), vsum = _mm512_setzero_si512();
  __m512i vsq_even = _mm512_setzero_si512(), vsq_odd = _mm512_setzero_si512();
  auto step = [&](__m512i even, __m512i odd) {
    const __m512i sq_even = _mm512_mul_epi32(even, even), sq_odd = _mm512_mul_epi32(odd, odd);  // <= 2^62
    vor = _mm512_ternarylogic_epi64(vor, sq_even, sq_odd, 0xFE);
    vsq_even = _mm512_add_epi64(vsq_even, sq_even);  // wraps harmlessly for rows that take the second pass
    vsq_odd = _mm512_add_epi64(vsq_odd, sq_odd);
    vsum = _mm512_add_epi32(vsum, even);  // exact when s >= 0 (|x| < 2^23, <= 256 per lane)
  };
  size_t c = 0;
  for (; c + 16 < n; c += 16) step(_mm512_loadu_si512(x + c), _mm512_loadu_si512(x + c + 1));  // x[c + 16] is in the row
  step(_mm512_maskz_loadu_epi32(tail_mask16(n - c), x + c), _mm512_maskz_loadu_epi32(tail_mask16(n - c - 1), x + c + 1));
  const auto squares_or = static_cast<uint64_t>(_mm512_reduce_or_epi64(vor));
  const int bits = squares_or == 0 ? 0 : (65 - __builtin_clzll(squares_or)) / 2;
  const int s = pre_shift_for_bits(p, bits);
  if (s < 0) return {s, 0, 0};
  const int64_t sum32 = _mm512_reduce_add_epi64(add_low_high_epi64(_mm512_setzero_si512(), vsum));  // |Σx| < 2^35
  const int64_t sq = _mm512_reduce_add_epi64(_mm512_add_epi64(vsq_even, vsq_odd));
  return {s, static_cast<int64_t>(static_cast<uint64_t>(sum32) << s), static_cast<int64_t>(static_cast<uint64_t>(sq) << (2 * s))};
}

RowStats row_stats(const LayerNormParams& p, const void* in) {
  const size_t n = p.channels;
  int s;
  if (!p.uint8_input) {
    const RowStats st = row_stats_i32(p, static_cast<const int32_t*>(in));
    if (st.s >= 0) return st;
    s = st.s;
  } else {
    // PTF rows (|x| < 2^11): one pass for Eq. 34 (max |x|) and Eq. 35 on the unshifted x.
    __m512i vmax = _mm512_setzero_si512(), vsum = _mm512_setzero_si512(), vsq = _mm512_setzero_si512();
    for (size_t c = 0; c < n; c += 16) {  // tail lanes are 0
      const __m512i x = load_x(p, in, c, tail_mask16(n - c));
      vmax = _mm512_max_epu32(vmax, _mm512_abs_epi32(x));
      vsum = _mm512_add_epi32(vsum, x);
      vsq = add_squares_epi64(vsq, x);
    }
    s = pre_shift_for(p, _mm512_reduce_max_epu32(vmax));
    if (s >= 0) {
      const int64_t sum32 = _mm512_reduce_add_epi64(add_low_high_epi64(_mm512_setzero_si512(), vsum));
      return {s, static_cast<int64_t>(static_cast<uint64_t>(sum32) << s),
              static_cast<int64_t>(static_cast<uint64_t>(_mm512_reduce_add_epi64(vsq)) << (2 * s))};
    }
  }
  // A right pre-shift (|x| >= 2^23 or a large eps, outside the residual contract): a second pass on x'.
  __m512i vsum = _mm512_setzero_si512(), vsq = _mm512_setzero_si512();
  for (size_t c = 0; c < n; c += 16) {
    const __m512i xs = pre_shift(load_x(p, in, c, tail_mask16(n - c)), s);  // |x'| <= 2^23
    vsum = add_low_high_epi64(vsum, xs);
    vsq = add_squares_epi64(vsq, xs);
  }
  return {s, _mm512_reduce_add_epi64(vsum), _mm512_reduce_add_epi64(vsq)};
}

// Whether a row takes normalize_row_lanes (int32 input, lane constants built, s >= j).
inline bool lanes_fit(const RowPlan& r) { return r.s >= 0 && r.s >= r.scale.j && r.s - r.scale.j <= 31; }

void normalize_lanes(const LayerNormParams& p, const LaneBlock* blocks, bool narrow, const void* in, const RowPlan& r,
                     void* out) {
  const auto* x = static_cast<const int32_t*>(in);
  if (p.out_bits == 8) {
    auto* y = static_cast<uint8_t*>(out);
    if (narrow && normalize_row_fast(p, blocks, x, r.s, r.sum, r.scale, y)) return;
    return narrow ? normalize_row_lanes<true>(p, blocks, x, r.s, r.sum, r.scale, y)
                  : normalize_row_lanes<false>(p, blocks, x, r.s, r.sum, r.scale, y);
  }
  auto* y = static_cast<int16_t*>(out);
  if (narrow && normalize_row_fast(p, blocks, x, r.s, r.sum, r.scale, y)) return;
  narrow ? normalize_row_lanes<true>(p, blocks, x, r.s, r.sum, r.scale, y)
         : normalize_row_lanes<false>(p, blocks, x, r.s, r.sum, r.scale, y);
}

void normalize(const LayerNormParams& p, const void* in, const RowPlan& r, void* out) {
  if (r.scale.j > 0) {
    normalize_row<true>(p, in, r.s, r.sum, r.scale, out);
  } else {
    normalize_row<false>(p, in, r.s, r.sum, r.scale, out);
  }
}

}  // namespace

void layernorm_rows__avx512(const LayerNormParams& p, size_t rows, const void* in, size_t ld_in, void* out,
                            size_t ld_out) {
  if (rows == 0) return;
  const size_t in_bytes = p.uint8_input ? 1 : 4, out_bytes = p.out_bits == 8 ? 1 : 2;
  auto row_in = [&](size_t row) { return static_cast<const char*>(in) + row * ld_in * in_bytes; };
  // Rows in groups: the statistics of kRowGroup rows, then their scalar Eq. 36-37 (each a chain of
  // dependent multiplies, independent of each other, so the out-of-order core runs the chains side
  // by side), then their output stages.
  alignas(64) LaneBlock blocks[kLaneChannels / 16];
  const bool lanes = !p.uint8_input && p.channels <= kLaneChannels;
  const bool narrow = lanes && build_lanes(p, blocks);
  for (size_t row0 = 0; row0 < rows; row0 += kRowGroup) {
    const size_t group = std::min(kRowGroup, rows - row0);
    RowStats stats[kRowGroup];
    RowPlan plans[kRowGroup];
    for (size_t i = 0; i < group; ++i) stats[i] = row_stats(p, row_in(row0 + i));
    for (size_t i = 0; i < group; ++i) plans[i] = {stats[i].s, stats[i].sum, row_scale(p, stats[i].s, stats[i].sum, stats[i].sum_sq)};
    for (size_t i = 0; i < group; ++i) {
      const size_t row = row0 + i;
      void* y = static_cast<char*>(out) + row * ld_out * out_bytes;
      if (lanes && lanes_fit(plans[i])) {
        normalize_lanes(p, blocks, narrow, row_in(row), plans[i], y);
      } else {
        normalize(p, row_in(row), plans[i], y);
      }
    }
  }
}

}  // namespace intvit
