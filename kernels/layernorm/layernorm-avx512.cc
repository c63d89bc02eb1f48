// AVX-512 LayerNorm, bit-identical to layernorm-ref.cc (QUANTIZATION.md §6). Int32 rows: max |x|
// (as the OR of the squares), Σx and Σx² in one pass of 6 vector ops per 16 channels (§6.6); the
// 128-bit D² and Eq. 37 per row, scalar and division-free, in groups of 8 rows whose chains run beside
// the previous group's output stages. Rows without a right
// pre-shift (s >= 0, C <= 1024) take the lane stages of layernorm-lanes-avx512.h (§6.5; s >= j: also
// §6.6's half-up stage in narrow calls); other rows the general stage: 8 channels in int64 lanes with
// 32×32-bit multiplies only (vpmuldq) and rounding shifts as add-half-and-sign.
#include "kernels/avx512-intrinsics.h"

#include <algorithm>
#include <cstdint>

#include "kernels/fixedpoint-avx512.h"
#include "kernels/fixedpoint.h"
#include "kernels/layernorm/layernorm.h"
#include "kernels/layernorm/layernorm-row.h"
#include "kernels/layernorm/layernorm-lanes-avx512.h"
#include "kernels/layernorm/layernorm-scale-avx512.h"

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

constexpr size_t kRowGroup = 8;

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

// Writes through `out` field by field: returned by value, the struct was assembled on the stack and
// copied by a 16-byte load over two smaller stores (a store-forwarding stall in every row).
void row_stats(const LayerNormParams& p, const void* in, RowStats& out) {
  const size_t n = p.channels;
  int s;
  if (!p.uint8_input) {
    const RowStats st = row_stats_i32(p, static_cast<const int32_t*>(in));
    if (st.s >= 0) {
      out.s = st.s, out.sum = st.sum, out.sum_sq = st.sum_sq;
      return;
    }
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
      out.s = s, out.sum = static_cast<int64_t>(static_cast<uint64_t>(sum32) << s);
      out.sum_sq = static_cast<int64_t>(static_cast<uint64_t>(_mm512_reduce_add_epi64(vsq)) << (2 * s));
      return;
    }
  }
  // A right pre-shift (|x| >= 2^23 or a large eps, outside the residual contract): a second pass on x'.
  __m512i vsum = _mm512_setzero_si512(), vsq = _mm512_setzero_si512();
  for (size_t c = 0; c < n; c += 16) {
    const __m512i xs = pre_shift(load_x(p, in, c, tail_mask16(n - c)), s);  // |x'| <= 2^23
    vsum = add_low_high_epi64(vsum, xs);
    vsq = add_squares_epi64(vsq, xs);
  }
  out.s = s, out.sum = _mm512_reduce_add_epi64(vsum), out.sum_sq = _mm512_reduce_add_epi64(vsq);
}

// Whether a row takes normalize_row_lanes (int32 input, lane constants built, s >= 0, |s − j| <= 31).
inline bool lanes_fit(const RowPlan& r) { return r.s >= 0 && r.s - r.scale.j <= 31 && r.scale.j - r.s <= 31; }

void normalize_lanes(const LayerNormParams& p, const LaneBlock* blocks, bool narrow, const void* in, const RowPlan& r,
                     void* out) {
  const auto* x = static_cast<const int32_t*>(in);
  auto stage = [&]<typename OutT>(OutT* y) {
    if (r.s < r.scale.j) {
      return narrow ? normalize_row_lanes<true, true>(p, blocks, x, r.s, r.sum, r.scale, y)
                    : normalize_row_lanes<false, true>(p, blocks, x, r.s, r.sum, r.scale, y);
    }
    if (narrow && normalize_row_fast(p, blocks, x, r.s, r.sum, r.scale, y)) return;
    narrow ? normalize_row_lanes<true, false>(p, blocks, x, r.s, r.sum, r.scale, y)
           : normalize_row_lanes<false, false>(p, blocks, x, r.s, r.sum, r.scale, y);
  };
  if (p.out_bits == 8) return stage(static_cast<uint8_t*>(out));
  stage(static_cast<int16_t*>(out));
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
  alignas(64) LaneBlock blocks[kLaneChannels / 16];
  const bool lanes = !p.uint8_input && p.channels <= kLaneChannels;
  const bool narrow = lanes && build_lanes(p, blocks);
  auto emit = [&](size_t row, const RowPlan& plan) {
    void* y = static_cast<char*>(out) + row * ld_out * out_bytes;
    if (lanes && lanes_fit(plan)) {
      normalize_lanes(p, blocks, narrow, row_in(row), plan, y);
    } else {
      normalize(p, row_in(row), plan, y);
    }
  };
  // Eq. 36-37 of one row into its plan: all scalar (row_scale), or (lanes) Eq. 36 up to N, with N
  // into the group's lane i for recips_of.
  alignas(64) uint64_t norm[kRowGroup];
  auto plan_of = [&](const RowStats& st, size_t i, RowPlan& plan, bool lanes) {
    if (!lanes) {
      plan = RowPlan{st.s, st.sum, row_scale(p, st.s, st.sum, st.sum_sq)};
      return;
    }
    const ScaleInput si = row_scale_input(p, st.s, st.sum, st.sum_sq);
    plan = RowPlan{st.s, st.sum, RowScale{si.j, 0}};
    norm[i] = si.n;
  };
  // Eq. 37 of a whole group at once, one row per lane (lanes past the group: N = 2^60, unused).
  auto recips_of = [&](size_t group, RowPlan* plan) {
    for (size_t i = group; i < kRowGroup; ++i) norm[i] = uint64_t{1} << 60;
    alignas(64) int64_t recip[kRowGroup];
    _mm512_store_si512(recip, root_recip8(_mm512_load_si512(norm)));
    for (size_t i = 0; i < group; ++i) plan[i].scale.recip = recip[i];
  };
  // Rows in groups of kRowGroup, software-pipelined: group g + 1's statistics are taken before group
  // g's output stages, its scalar Eq. 36 steps (128-bit multiplies) are issued one per row between
  // them, and its Eq. 37 (root_recip8, 8 rows in one vector chain) after them, so the out-of-order
  // core runs the scalar work beside the rows' vector work instead of waiting for it.
  // The first group's Eq. 37 has no output stage to hide behind, and the vector chain's latency is
  // longer than one scalar chain's (1 row: 0.21 -> 0.24 us): it and groups of fewer than
  // kLaneRowsMin rows take row_scale.
  constexpr size_t kLaneRowsMin = 4;
  RowStats stats[kRowGroup];
  RowPlan plans[2][kRowGroup];
  size_t group = std::min(kRowGroup, rows);
  for (size_t i = 0; i < group; ++i) row_stats(p, row_in(i), stats[i]);
  for (size_t i = 0; i < group; ++i) plan_of(stats[i], i, plans[0][i], false);
  for (size_t row0 = 0, g = 0; row0 < rows; row0 += kRowGroup, g ^= 1) {
    const size_t next0 = row0 + kRowGroup;
    const size_t next = next0 < rows ? std::min(kRowGroup, rows - next0) : 0;
    const bool next_lanes = next >= kLaneRowsMin;
    for (size_t i = 0; i < next; ++i) row_stats(p, row_in(next0 + i), stats[i]);
    for (size_t i = 0; i < group; ++i) {
      if (i < next) plan_of(stats[i], i, plans[g ^ 1][i], next_lanes);
      emit(row0 + i, plans[g][i]);
    }
    if (next_lanes) recips_of(next, plans[g ^ 1]);
    group = next;
  }
}

}  // namespace intvit
