// The AVX-512 LayerNorm's output stages for in-contract int32 rows (QUANTIZATION.md §6.5, §6.6):
// per-call lane constants, the exact 64-bit stage and the half-up stage of narrow calls. Included
// only by layernorm-avx512.cc (AVX-512 F/BW/VL/DQ + BMI2 flags).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "kernels/fixedpoint-avx512.h"
#include "kernels/layernorm/layernorm.h"
#include "kernels/layernorm/layernorm-row.h"

namespace intvit {
namespace {

using namespace layernorm_detail;
using namespace fp_avx512;

// ---- The fast output stage (QUANTIZATION.md §6.5) for int32 rows with s >= 0 and s >= j, i.e.
// every in-contract residual row: n_c = 2^s·(C·x_c - Σx) and s >= j make Eq. 38's ñ_c =
// 2^(s-j)·(C·x_c - Σx) exact, and since |ñ_c| < 2^31 it is one vpmulld and one vpsubd mod 2^32
// over 16 channels. Rows with 0 <= s < j (large values and a large variance) take ñ_c =
// RDBP64(C·x_c - Σx, j - s) in 64-bit lanes instead. Then, on the even and odd channels in 64-bit lanes:
//   t = (ñ·R + 2^29 - [ñ·R < 0]) >> 30     (Eq. 38; vpmuldq reads ñ from the low dwords)
//   w = t·G_c + K_c,  y = (w - [w < Θ_c]) >> h_c   (Eq. 39 with z_out, the half and the sign
//                                                   test folded into the per-channel K_c, Θ_c)
// K_c = H_c + 2^(h_c-1) + z·2^h_c and Θ_c = 2^(h_c-1) + z·2^h_c (h_c > 0; h_c = 0: K_c = H_c + z,
// Θ_c = INT64_MIN), so w - Θ_c = t·G_c + H_c is Eq. 39's sum and its sign decides the rounding.
constexpr size_t kLaneChannels = 1024;

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

// Stores y16(c, block, mask) (y of channels [c, c + 16) as int32 lanes, `block` their LaneBlock; an
// always-inline lambda: GCC had called the stages' y16 out of line, 40 % slower at 197 × 192) for
// the n channels of a row: 64 or 32 at a time through the saturating packs when may_pack and the
// output range is the whole type, the rest 16 at a time clamped to [out_min, out_max]. The block
// pointer advances with c (indexing blocks[c / 16] costs 4 scalar ops per call, some on the vector ports).
template <typename OutT, typename Y16>
inline __attribute__((always_inline)) void store_row_lanes(const LayerNormParams& p, size_t n, bool may_pack, const LaneBlock* b,
                                                           OutT* out, Y16&& y16) {
  const __m512i lo = _mm512_set1_epi32(p.out_min), hi = _mm512_set1_epi32(p.out_max);
  size_t c = 0;
  // Full-range outputs: the saturating packs are the clamp (signed dword -> word, then word ->
  // unsigned byte), and one permute undoes their lane interleave.
  const bool full_range = sizeof(OutT) == 1 ? p.out_min == 0 && p.out_max == 255 : p.out_min == -32768 && p.out_max == 32767;
  if (may_pack && full_range) {
    if constexpr (sizeof(OutT) == 1) {
      const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
      for (; c + 64 <= n; c += 64, b += 4) {
        const __m512i w01 = _mm512_packs_epi32(y16(c, b[0], 0xFFFF), y16(c + 16, b[1], 0xFFFF));
        const __m512i w23 = _mm512_packs_epi32(y16(c + 32, b[2], 0xFFFF), y16(c + 48, b[3], 0xFFFF));
        _mm512_storeu_si512(out + c, _mm512_permutexvar_epi32(order, _mm512_packus_epi16(w01, w23)));
      }
    } else {
      const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
      for (; c + 32 <= n; c += 32, b += 2) {
        _mm512_storeu_si512(out + c, _mm512_permutexvar_epi64(order, _mm512_packs_epi32(y16(c, b[0], 0xFFFF), y16(c + 16, b[1], 0xFFFF))));
      }
    }
  }
  for (; c < n; c += 16, ++b) {
    const __mmask16 m = tail_mask16(n - c);
    const __m512i y = _mm512_min_epi32(_mm512_max_epi32(y16(c, *b, m), lo), hi);
    if constexpr (sizeof(OutT) == 1) {
      _mm_mask_storeu_epi8(out + c, m, _mm512_cvtepi32_epi8(y));
    } else {
      _mm256_mask_storeu_epi16(out + c, m, _mm512_cvtepi32_epi16(y));
    }
  }
}

// Eq. 38's ñ of rows with s < j (§6.5, the right shift): RDBP64(C·x_c − Σx, j − s) on the 8 channels
// whose x sits in the low dwords of `x`, as int64 lanes (|ñ| < 2^31: the low dword is ñ).
inline __m512i scaled_down8(__m512i x, __m512i count, __m512i sum, __m512i half, __m128i down) {
  const __m512i v = _mm512_sub_epi64(_mm512_mul_epi32(x, count), sum);  // |C·x − Σx| < 2^45
  const __mmask8 negative = _mm512_cmplt_epi64_mask(v, _mm512_setzero_si512());
  const __m512i w = _mm512_add_epi64(v, half);
  return _mm512_sra_epi64(_mm512_mask_sub_epi64(w, negative, w, _mm512_set1_epi64(1)), down);
}

// kDown: rows with s < j (j − s in [1, 31]); else s >= j (s − j in [0, 31]).
template <bool kNarrow, bool kDown, typename OutT>
void normalize_row_lanes(const LayerNormParams& p, const LaneBlock* blocks, const int32_t* x, int s, int64_t sum,
                         const RowScale& rs, OutT* out) {
  const size_t n = p.channels;
  const int up = kDown ? 0 : s - rs.j, down = kDown ? rs.j - s : 0;
  const auto sum0 = static_cast<uint64_t>(sum) >> s;  // Σx (S = 2^s·Σx exactly) modulo 2^64
  const __m512i scale = _mm512_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(n) << up));
  const __m512i offset = _mm512_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(sum0) << up));
  const __m512i count = _mm512_set1_epi64(static_cast<int64_t>(n)), sum64 = _mm512_set1_epi64(sum >> s);
  const __m512i half_down = _mm512_set1_epi64(kDown ? int64_t{1} << (down - 1) : 0);
  const __m128i down_count = _mm_cvtsi32_si128(down);
  const __m512i recip = _mm512_set1_epi64(rs.recip), half = _mm512_set1_epi64((int64_t{1} << (kTBits - 1)) - 1);
  const __m512i lo64 = _mm512_set1_epi64(p.out_min), hi64 = _mm512_set1_epi64(p.out_max);
  const __m512i interleave = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
  // y of channels [c, c + 16) as int32 lanes (past the mask: anything); clamped unless kNarrow.
  auto y16 = [&](size_t c, const LaneBlock& b, __mmask16 m) __attribute__((always_inline)) {
    // Eq. 38: ñ of the even and odd channels in the low dwords of 64-bit lanes: for s >= j mod
    // 2^32 of 16 channels at once (exact, |ñ| < 2^31), for s < j rounded in 64-bit lanes.
    const __m512i xv = _mm512_maskz_loadu_epi32(m, x + c);
    __m512i nt_even, nt_odd;
    if constexpr (kDown) {
      nt_even = scaled_down8(xv, count, sum64, half_down, down_count);
      nt_odd = scaled_down8(_mm512_srli_epi64(xv, 32), count, sum64, half_down, down_count);
    } else {
      nt_even = _mm512_sub_epi32(_mm512_mullo_epi32(xv, scale), offset);
      nt_odd = _mm512_srli_epi64(nt_even, 32);
    }
    __m512i y_even = affine8(nt_even, recip, half, b.g, b.k, b.theta, b.h);
    __m512i y_odd = affine8(nt_odd, recip, half, b.g + 8, b.k + 8, b.theta + 8, b.h + 8);
    if constexpr (!kNarrow) {
      y_even = _mm512_min_epi64(_mm512_max_epi64(y_even, lo64), hi64);
      y_odd = _mm512_min_epi64(_mm512_max_epi64(y_odd, lo64), hi64);
    }
    return _mm512_permutex2var_epi32(y_even, interleave, y_odd);
  };
  store_row_lanes(p, n, kNarrow, blocks, out, y16);
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
  const __m512i high_dwords = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
  const __m512i low_dwords = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
  __m512i ties = _mm512_set1_epi32(-1);  // a lane reaching 0 flags a possible negative tie
  auto y16 = [&](size_t c, const LaneBlock& b, __mmask16 m) __attribute__((always_inline)) {
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
  store_row_lanes(p, n, true, blocks, out, y16);
  return _mm512_cmpeq_epi32_mask(ties, _mm512_setzero_si512()) == 0;
}

}  // namespace
}  // namespace intvit
