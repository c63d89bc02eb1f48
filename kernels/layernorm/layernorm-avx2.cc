// AVX2 LayerNorm, bit-identical to layernorm-ref.cc (QUANTIZATION.md §6). Int32 rows of C <= 1024
// take one statistics pass and, in narrow calls, the half-up stage (§6.6). Otherwise: statistics in 8 int32
// lanes with int64 accumulators (the 128-bit D² is per row, scalar, layernorm-row.h); the output
// stage runs 4 channels in int64 lanes.
//
// AVX2 has no 64-bit multiply-low and no 64-bit arithmetic shift, so Eq. 38 is evaluated on
// magnitudes: RDBP rounds half away from zero, so RDBP(-v, e) = -RDBP(|v|, e), and for v >= 0 it is
// (v + 2^(e-1)) >> e. With |ñ| <= 2^31 and R <= 2^30, ñ·R is one unsigned 32×32 multiply.
// Int32 rows without a right pre-shift (s >= 0, C <= 1024) take the output stage of QUANTIZATION.md
// §6.5 instead (as layernorm-avx512.cc; s < j: ñ rounded in 64-bit lanes), with Eq. 39's arithmetic
// shift as a logical one of w XOR 2^63 minus 2^(63-h_c).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/fixedpoint-avx2.h"
#include "kernels/fixedpoint.h"
#include "kernels/layernorm/layernorm.h"
#include "kernels/layernorm/layernorm-row.h"

namespace intvit {
namespace {

using namespace layernorm_detail;
using namespace fp_avx2;

// Eq. 33 for 8 channels from c, of which `left` (>= 1) are in the row; lanes past it are 0.
template <bool kU8In>
__m256i load_x(const LayerNormParams& p, const void* row, size_t c, size_t left) {
  if constexpr (!kU8In) {
    const int32_t* r = static_cast<const int32_t*>(row) + c;
    return left >= 8 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r)) : _mm256_maskload_epi32(r, tail_mask8(left));
  } else {
    const uint8_t* r = static_cast<const uint8_t*>(row) + c;
    const uint8_t* a = p.alpha.data() + c;
    const bool full = left >= 8;
    const __m256i q = full ? load8_u8_epi32(r) : load8_u8_epi32_tail(r, left);
    const __m256i alpha = full ? load8_u8_epi32(a) : load8_u8_epi32_tail(a, left);
    const __m256i x = _mm256_sllv_epi32(_mm256_sub_epi32(q, _mm256_set1_epi32(p.in_zero_point)), alpha);
    return full ? x : _mm256_and_si256(x, tail_mask8(left));
  }
}

// Eq. 34: x' = x·2^s or RDBP(x, -s).
__m256i pre_shift(__m256i x, int s) {
  return s >= 0 ? _mm256_sll_epi32(x, _mm_cvtsi32_si128(s)) : rdbp(x, -s);
}

// The low dwords of the 4 int64 lanes of a and of b, as 8 int32 lanes (a's first).
__m256i narrow_epi64x2(__m256i a, __m256i b) {
  const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm256_castsi256_si128(_mm256_permutevar8x32_epi32(a, even))),
                                 _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(b, even)), 1);
}

// ---- §6.5: per block of 8 channels, G, K, Θ, h and 2^(63-h) (mod 2^64), each as 4 even-channel
// then 4 odd-channel int64 lanes (see layernorm-avx512.cc).
constexpr size_t kLaneChannels = 1024;

struct LaneBlock {
  int64_t g[8], k[8], theta[8], h[8], bias[8];
  int32_t high_shift[8];  // h_c - 32 in channel order (§6.6: narrow calls only)
};

// Returns whether every h_c >= 32, which keeps |y| < 2^31 (|w| < 2^63): y is then its low dword,
// clamped in int32 lanes (§6.5), instead of by 64-bit compares and blends.
bool build_lanes(const LayerNormParams& p, LaneBlock* blocks) {
  bool narrow = true;
  const size_t n = p.channels;
  for (size_t b = 0; b * 8 < n; ++b) {
    for (size_t i = 0; i < 8; ++i) {
      const size_t c = 8 * b + i, lane = (i % 2) * 4 + i / 2;
      const ChannelConsts cc = channel_consts(p, c);
      if (c < n) narrow = narrow && cc.h >= 32;
      blocks[b].g[lane] = cc.g, blocks[b].k[lane] = cc.k, blocks[b].theta[lane] = cc.theta, blocks[b].h[lane] = cc.h;
      blocks[b].bias[lane] = static_cast<int64_t>(uint64_t{1} << (63 - cc.h));
      blocks[b].high_shift[i] = static_cast<int32_t>(cc.h >= 32 ? cc.h - 32 : 0);
    }
  }
  return narrow;
}

// Eq. 38-39 on 4 channels (even or odd) from their ñ (low dwords): y in int64 lanes, unclamped.
inline __m256i affine4(__m256i nt, __m256i recip, __m256i half, const int64_t* g, const int64_t* k, const int64_t* theta,
                       const int64_t* h, const int64_t* bias) {
  const __m256i prod = _mm256_mul_epi32(nt, recip);  // |ñ·R| < 2^61
  // t = (ñR + 2^29 - [ñR < 0]) >> 30: a logical shift leaves the same low dword, all vpmuldq reads.
  const __m256i r = _mm256_add_epi64(_mm256_add_epi64(prod, half), _mm256_cmpgt_epi64(_mm256_setzero_si256(), prod));
  const __m256i t = _mm256_srli_epi64(r, kTBits);
  const __m256i w = _mm256_add_epi64(_mm256_mul_epi32(t, _mm256_load_si256(reinterpret_cast<const __m256i*>(g))),
                                     _mm256_load_si256(reinterpret_cast<const __m256i*>(k)));
  const __m256i below = _mm256_cmpgt_epi64(_mm256_load_si256(reinterpret_cast<const __m256i*>(theta)), w);  // -1: w < Θ
  const __m256i flipped = _mm256_xor_si256(_mm256_add_epi64(w, below), _mm256_set1_epi64x(INT64_MIN));
  return _mm256_sub_epi64(_mm256_srlv_epi64(flipped, _mm256_load_si256(reinterpret_cast<const __m256i*>(h))),
                          _mm256_load_si256(reinterpret_cast<const __m256i*>(bias)));
}

// Eq. 38's ñ of rows with s < j (§6.5): RDBP64(C·x_c − Σx, j − s) on the 4 channels whose x sits in
// the low dwords of `x`. Only the low dword (ñ itself, |ñ| < 2^31) is used, and a logical shift leaves
// the same low dword as the arithmetic one AVX2 lacks.
inline __m256i scaled_down4(__m256i x, __m256i count, __m256i sum, __m256i half, __m128i down) {
  const __m256i v = _mm256_sub_epi64(_mm256_mul_epi32(x, count), sum);  // |C·x − Σx| < 2^45
  const __m256i w = _mm256_add_epi64(_mm256_add_epi64(v, half), _mm256_cmpgt_epi64(_mm256_setzero_si256(), v));
  return _mm256_srl_epi64(w, down);
}

// kDown: rows with s < j (j − s in [1, 31]); else s >= j (s − j in [0, 31]).
template <int kOutBits, bool kNarrow, bool kDown = false>
void normalize_row_lanes(const LayerNormParams& p, const LaneBlock* blocks, const int32_t* x, int s, int64_t sum,
                         const RowScale& rs, void* out) {
  const size_t n = p.channels;
  const int up = kDown ? 0 : s - rs.j, down = kDown ? rs.j - s : 0;
  const auto sum0 = static_cast<uint64_t>(sum) >> s;  // Σx (S = 2^s·Σx exactly) modulo 2^64
  const __m256i scale = _mm256_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(n) << up));
  const __m256i offset = _mm256_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(sum0) << up));
  const __m256i count = _mm256_set1_epi64x(static_cast<int64_t>(n)), sum64 = _mm256_set1_epi64x(sum >> s);
  const __m256i half_down = _mm256_set1_epi64x(kDown ? int64_t{1} << (down - 1) : 0);
  const __m128i down_count = _mm_cvtsi32_si128(down);
  const __m256i recip = _mm256_set1_epi64x(rs.recip), half = _mm256_set1_epi64x(int64_t{1} << (kTBits - 1));
  [[maybe_unused]] const __m256i lo = _mm256_set1_epi64x(p.out_min), hi = _mm256_set1_epi64x(p.out_max);
  const __m256i lo32 = _mm256_set1_epi32(p.out_min), hi32 = _mm256_set1_epi32(p.out_max);
  auto* out_row = static_cast<std::conditional_t<kOutBits == 8, uint8_t, int16_t>*>(out);
  for (size_t c = 0; c < n; c += 8) {
    const LaneBlock& b = blocks[c / 8];
    const size_t left = n - c;
    const __m256i xv = left >= 8 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c)) : _mm256_maskload_epi32(x + c, tail_mask8(left));
    __m256i nt_even, nt_odd;  // ñ of the even and odd channels in the low dwords
    if constexpr (kDown) {
      nt_even = scaled_down4(xv, count, sum64, half_down, down_count);
      nt_odd = scaled_down4(_mm256_srli_epi64(xv, 32), count, sum64, half_down, down_count);
    } else {
      nt_even = _mm256_sub_epi32(_mm256_mullo_epi32(xv, scale), offset);  // ñ mod 2^32 = ñ
      nt_odd = _mm256_srli_epi64(nt_even, 32);
    }
    __m256i y_even = affine4(nt_even, recip, half, b.g, b.k, b.theta, b.h, b.bias);
    __m256i y_odd = affine4(nt_odd, recip, half, b.g + 4, b.k + 4, b.theta + 4, b.h + 4, b.bias + 4);
    if constexpr (!kNarrow) {
      y_even = min_epi64(max_epi64(y_even, lo), hi);
      y_odd = min_epi64(max_epi64(y_odd, lo), hi);
    }
    __m256i y = _mm256_blend_epi32(y_even, _mm256_slli_epi64(y_odd, 32), 0xAA);  // channel order
    if constexpr (kNarrow) y = _mm256_min_epi32(_mm256_max_epi32(y, lo32), hi32);  // y fits int32
    if constexpr (kOutBits == 8) {
      if (left >= 8) store8_u8(out_row + c, y); else store8_u8_tail(out_row + c, y, left);
    } else {
      if (left >= 8) store8_s16(out_row + c, y); else store8_s16_tail(out_row + c, y, left);
    }
  }
}

// Eq. 34-35 of an int32 row in one pass (QUANTIZATION.md §6.6, as layernorm-avx512.cc): x² of the
// even channels from x, of the odd ones from a load one channel further on (vpmuldq reads the low
// dword of each qword), bitlen(max |x|) = ceil(bitlen(OR x²) / 2). S and Q are exact when s >= 0
// (|x| < 2^23, at most 128 values per int32 lane for C <= 1024); returns s only otherwise.
struct OnePassStats {
  int s;
  int64_t sum, sum_sq;
};
OnePassStats one_pass_stats(const LayerNormParams& p, const int32_t* x) {
  const size_t n = p.channels;
  __m256i vor = _mm256_setzero_si256(), vsum = _mm256_setzero_si256(), vsq = _mm256_setzero_si256();
  auto step = [&](__m256i even, __m256i odd) {
    const __m256i sq_even = _mm256_mul_epi32(even, even), sq_odd = _mm256_mul_epi32(odd, odd);  // <= 2^62
    vor = _mm256_or_si256(vor, _mm256_or_si256(sq_even, sq_odd));
    vsq = _mm256_add_epi64(vsq, _mm256_add_epi64(sq_even, sq_odd));
    vsum = _mm256_add_epi32(vsum, even);
  };
  size_t c = 0;
  for (; c + 8 < n; c += 8) {  // x[c + 8] is in the row
    step(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c)), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c + 1)));
  }
  const size_t left = n - c;  // 1..8
  step(_mm256_maskload_epi32(x + c, tail_mask8(left)), left > 1 ? _mm256_maskload_epi32(x + c + 1, tail_mask8(left - 1)) : _mm256_setzero_si256());
  const __m128i or2 = _mm_or_si128(_mm256_castsi256_si128(vor), _mm256_extracti128_si256(vor, 1));
  const auto squares_or = static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_or_si128(or2, _mm_unpackhi_epi64(or2, or2))));
  const int s = pre_shift_for_bits(p, squares_or == 0 ? 0 : (65 - __builtin_clzll(squares_or)) / 2);
  if (s < 0) return {s, 0, 0};
  const int64_t sum = reduce_add_epi64(_mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(vsum)),
                                                        _mm256_cvtepi32_epi64(_mm256_extracti128_si256(vsum, 1))));
  return {s, static_cast<int64_t>(static_cast<uint64_t>(sum) << s), static_cast<int64_t>(static_cast<uint64_t>(reduce_add_epi64(vsq)) << (2 * s))};
}

// §6.6: the half-up stage of narrow calls (every h_c >= 32), as layernorm-avx512.cc: t = (ñ·R + 2^29)
// >> 30 (a logical shift leaves the low dword vpmuldq reads), y = high dword of w = t·G + K shifted
// by h - 32; a lane that might hold a negative tie (ñ & A == B, or a zero low dword of w) makes the
// caller recompute the row with the exact stage. Returns false then.
template <int kOutBits>
bool normalize_row_fast(const LayerNormParams& p, const LaneBlock* blocks, const int32_t* x, int s, int64_t sum,
                        const RowScale& rs, void* out) {
  const size_t n = p.channels;
  const int up = s - rs.j;  // in [0, 31]
  const auto sum0 = static_cast<uint64_t>(sum) >> s;
  const __m256i scale = _mm256_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(n) << up));
  const __m256i offset = _mm256_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(sum0) << up));
  const __m256i recip = _mm256_set1_epi64x(rs.recip), half = _mm256_set1_epi64x(int64_t{1} << (kTBits - 1));
  const int kappa = 29 - __builtin_ctzll(static_cast<uint64_t>(rs.recip));  // < 0: no tie of t
  const __m256i tie_mask = _mm256_set1_epi32(kappa < 0 ? 0 : static_cast<int32_t>(0x80000000u | ((2u << kappa) - 1)));
  const __m256i tie_bits = _mm256_set1_epi32(kappa < 0 ? 1 : static_cast<int32_t>(0x80000000u | (1u << kappa)));
  const __m256i lo32 = _mm256_set1_epi32(p.out_min), hi32 = _mm256_set1_epi32(p.out_max);
  __m256i ties = _mm256_setzero_si256();  // all-ones lanes: a possible negative tie
  auto* out_row = static_cast<std::conditional_t<kOutBits == 8, uint8_t, int16_t>*>(out);
  for (size_t c = 0; c < n; c += 8) {
    const LaneBlock& b = blocks[c / 8];
    const size_t left = n - c;
    const __m256i live = tail_mask8(left);
    const __m256i xv = left >= 8 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c)) : _mm256_maskload_epi32(x + c, live);
    const __m256i nt = _mm256_sub_epi32(_mm256_mullo_epi32(xv, scale), offset);
    ties = _mm256_or_si256(ties, _mm256_and_si256(live, _mm256_cmpeq_epi32(_mm256_and_si256(nt, tie_mask), tie_bits)));
    const __m256i t_even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(nt, recip), half), kTBits);
    const __m256i t_odd = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(nt, 32), recip), half), kTBits);
    const __m256i w_even = _mm256_add_epi64(_mm256_mul_epi32(t_even, _mm256_load_si256(reinterpret_cast<const __m256i*>(b.g))),
                                            _mm256_load_si256(reinterpret_cast<const __m256i*>(b.k)));
    const __m256i w_odd = _mm256_add_epi64(_mm256_mul_epi32(t_odd, _mm256_load_si256(reinterpret_cast<const __m256i*>(b.g + 4))),
                                           _mm256_load_si256(reinterpret_cast<const __m256i*>(b.k + 4)));
    // Channel order: channel 2i's qword is w_even's lane i, channel 2i + 1's is w_odd's lane i.
    const __m256i low = _mm256_blend_epi32(w_even, _mm256_slli_epi64(w_odd, 32), 0xAA);
    const __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(w_even, 32), w_odd, 0xAA);
    ties = _mm256_or_si256(ties, _mm256_and_si256(live, _mm256_cmpeq_epi32(low, _mm256_setzero_si256())));
    const __m256i y = _mm256_srav_epi32(high, _mm256_load_si256(reinterpret_cast<const __m256i*>(b.high_shift)));
    const __m256i yc = _mm256_min_epi32(_mm256_max_epi32(y, lo32), hi32);
    if constexpr (kOutBits == 8) {
      if (left >= 8) store8_u8(out_row + c, yc); else store8_u8_tail(out_row + c, yc, left);
    } else {
      if (left >= 8) store8_s16(out_row + c, yc); else store8_s16_tail(out_row + c, yc, left);
    }
  }
  return _mm256_testz_si256(ties, ties);
}

template <bool kU8In, int kOutBits>
void layernorm_row(const LayerNormParams& p, const LaneBlock* blocks, bool narrow, const void* in, void* out) {
  if constexpr (!kU8In) {
    if (blocks != nullptr) {  // int32, C <= 1024: one pass when the row takes the §6.5 stage
      const auto* x = static_cast<const int32_t*>(in);
      const OnePassStats st = one_pass_stats(p, x);
      if (st.s >= 0) {
        const RowScale rs = row_scale(p, st.s, st.sum, st.sum_sq);  // Eq. 36-37
        if (st.s >= rs.j && st.s - rs.j <= 31) {
          if (narrow && normalize_row_fast<kOutBits>(p, blocks, x, st.s, st.sum, rs, out)) return;
          return narrow ? normalize_row_lanes<kOutBits, true>(p, blocks, x, st.s, st.sum, rs, out)
                        : normalize_row_lanes<kOutBits, false>(p, blocks, x, st.s, st.sum, rs, out);
        }
        if (rs.j > st.s && rs.j - st.s <= 31) {  // (s − j > 31 only with n_c = 0: the general stage)
          return narrow ? normalize_row_lanes<kOutBits, true, true>(p, blocks, x, st.s, st.sum, rs, out)
                        : normalize_row_lanes<kOutBits, false, true>(p, blocks, x, st.s, st.sum, rs, out);
        }
      }
    }
  }
  alignas(32) int32_t xs_buf[kMaxChannels + 8];
  const size_t n = p.channels;
  const auto count = static_cast<int64_t>(n);
  __m256i vmax = _mm256_setzero_si256();  // Eq. 34: max |x| (unsigned: |INT32_MIN| = 2^31)
  for (size_t c = 0; c < n; c += 8) vmax = _mm256_max_epu32(vmax, _mm256_abs_epi32(load_x<kU8In>(p, in, c, n - c)));
  const int s = pre_shift_for(p, reduce_max_epu32(vmax));

  // Eq. 35 (lanes past the row are 0). |x'| <= 2^23: the int32 lane sums are widened every
  // 128 vectors (128·2^23 = 2^30), the squares (<= 2^46) go straight to int64 lanes.
  constexpr size_t kBlock = 128 * 8;
  __m256i vsum = _mm256_setzero_si256(), vsq = _mm256_setzero_si256();
  for (size_t c0 = 0; c0 < n; c0 += kBlock) {
    __m256i block_sum = _mm256_setzero_si256();
    for (size_t c = c0; c < std::min(n, c0 + kBlock); c += 8) {
      const __m256i xs = pre_shift(load_x<kU8In>(p, in, c, n - c), s);
      _mm256_store_si256(reinterpret_cast<__m256i*>(xs_buf + c), xs);
      block_sum = _mm256_add_epi32(block_sum, xs);
      const __m256i xs_odd = _mm256_srli_epi64(xs, 32);
      vsq = _mm256_add_epi64(vsq, _mm256_add_epi64(_mm256_mul_epi32(xs, xs), _mm256_mul_epi32(xs_odd, xs_odd)));
    }
    vsum = _mm256_add_epi64(vsum, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(block_sum)));
    vsum = _mm256_add_epi64(vsum, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(block_sum, 1)));
  }
  const int64_t sum = reduce_add_epi64(vsum), sum_sq = reduce_add_epi64(vsq);
  const RowScale rs = row_scale(p, s, sum, sum_sq);  // Eq. 36-37
  if (!kU8In && blocks != nullptr && s >= 0 && s >= rs.j && s - rs.j <= 31) {
    const auto* x = static_cast<const int32_t*>(in);
    return narrow ? normalize_row_lanes<kOutBits, true>(p, blocks, x, s, sum, rs, out)
                  : normalize_row_lanes<kOutBits, false>(p, blocks, x, s, sum, rs, out);
  }

  // Eq. 38 on magnitudes: |ñ| = ((|n|·2^left) + half) >> right with left/right = max(∓j, 0).
  const int left = rs.j < 0 ? -rs.j : 0, right = rs.j > 0 ? rs.j : 0;
  const __m128i vleft = _mm_cvtsi32_si128(left), vright = _mm_cvtsi32_si128(right);
  const __m256i vhalf = _mm256_set1_epi64x(right > 0 ? int64_t{1} << (right - 1) : 0);
  const __m256i vrecip = _mm256_set1_epi64x(rs.recip), vsum64 = _mm256_set1_epi64x(sum);
  const __m256i vcount = _mm256_set1_epi64x(count), t_half = _mm256_set1_epi64x(int64_t{1} << (kTBits - 1));
  const __m256i zp = _mm256_set1_epi64x(p.out_zero_point);
  const __m256i lo = _mm256_set1_epi64x(p.out_min), hi = _mm256_set1_epi64x(p.out_max);
  // Eq. 38-39 for 4 channels: x' in 4 int32, their G, H and h from g, b, h.
  auto four = [&](__m128i xs4, const int32_t* g, const int64_t* b, const uint8_t* h) {
    const __m256i centred = _mm256_sub_epi64(_mm256_mul_epi32(_mm256_cvtepi32_epi64(xs4), vcount), vsum64);
    const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), centred);
    const __m256i mag = _mm256_sub_epi64(_mm256_xor_si256(centred, sign), sign);  // <= 2^36
    const __m256i scaled = _mm256_srl_epi64(_mm256_add_epi64(_mm256_sll_epi64(mag, vleft), vhalf), vright);  // <= 2^31
    const __m256i tmag = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epu32(scaled, vrecip), t_half), kTBits);
    const __m256i t = _mm256_sub_epi64(_mm256_xor_si256(tmag, sign), sign);  // |t| <= 2^30 + 1: fits int32
    const __m256i gv = _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g)));
    const __m256i bv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    uint32_t h4;
    std::memcpy(&h4, h, 4);
    const __m256i hv = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(static_cast<int32_t>(h4)));
    // |t·G + H| < 2^61 + 2^62 and h <= 40: inside rdbp64's range.
    const __m256i y = _mm256_add_epi64(rdbp64(_mm256_add_epi64(_mm256_mul_epi32(t, gv), bv), hv), zp);
    return min_epi64(max_epi64(y, lo), hi);
  };
  auto eight = [&](size_t c, const int32_t* g, const int64_t* b, const uint8_t* h) {  // in [out_min, out_max]
    const __m256i xs = _mm256_load_si256(reinterpret_cast<const __m256i*>(xs_buf + c));
    return narrow_epi64x2(four(_mm256_castsi256_si128(xs), g, b, h),
                          four(_mm256_extracti128_si256(xs, 1), g + 4, b + 4, h + 4));
  };
  const int32_t* gamma = p.gamma_multiplier.data();
  const int64_t* beta = p.beta_bias.data();
  const uint8_t* out_shift = p.out_shift.data();
  auto* out_row = static_cast<std::conditional_t<kOutBits == 8, uint8_t, int16_t>*>(out);
  size_t c = 0;
  for (; c + 8 <= n; c += 8) {
    const __m256i y = eight(c, gamma + c, beta + c, out_shift + c);
    if constexpr (kOutBits == 8) store8_u8(out_row + c, y); else store8_s16(out_row + c, y);
  }
  if (c < n) {  // the last 1..7 channels, their constants copied into zero-padded blocks
    const size_t rest = n - c;
    alignas(32) int64_t b8[8] = {};
    alignas(32) int32_t g8[8] = {};
    alignas(8) uint8_t h8[8] = {};
    std::memcpy(g8, gamma + c, rest * sizeof(int32_t));
    std::memcpy(b8, beta + c, rest * sizeof(int64_t));
    std::memcpy(h8, out_shift + c, rest);
    const __m256i y = eight(c, g8, b8, h8);
    if constexpr (kOutBits == 8) store8_u8_tail(out_row + c, y, rest); else store8_s16_tail(out_row + c, y, rest);
  }
}

template <bool kU8In, int kOutBits>
void layernorm_rows_kind(const LayerNormParams& p, size_t rows, const void* in, size_t ld_in, void* out, size_t ld_out) {
  constexpr size_t in_bytes = kU8In ? 1 : 4, out_bytes = kOutBits == 8 ? 1 : 2;
  alignas(32) LaneBlock blocks[kLaneChannels / 8];
  const bool lanes = !kU8In && p.channels <= kLaneChannels;
  const bool narrow = lanes && build_lanes(p, blocks);
  for (size_t row = 0; row < rows; ++row) {
    layernorm_row<kU8In, kOutBits>(p, lanes ? blocks : nullptr, narrow, static_cast<const char*>(in) + row * ld_in * in_bytes,
                                   static_cast<char*>(out) + row * ld_out * out_bytes);
  }
}

}  // namespace

void layernorm_rows__avx2(const LayerNormParams& p, size_t rows, const void* in, size_t ld_in, void* out,
                          size_t ld_out) {
  if (p.channels > static_cast<size_t>(kMaxChannels)) {  // make_layernorm_params never builds this
    return layernorm_rows_ref(p, rows, in, ld_in, out, ld_out);
  }
  if (p.uint8_input) {
    if (p.out_bits == 8) return layernorm_rows_kind<true, 8>(p, rows, in, ld_in, out, ld_out);
    return layernorm_rows_kind<true, 16>(p, rows, in, ld_in, out, ld_out);
  }
  if (p.out_bits == 8) return layernorm_rows_kind<false, 8>(p, rows, in, ld_in, out, ld_out);
  return layernorm_rows_kind<false, 16>(p, rows, in, ld_in, out, ld_out);
}

}  // namespace intvit
