// AVX2 output stage (Eq. 11), shared by the avx2 and avxvnni kernels: 8 columns per ymm.
// Same arithmetic as requantize-avx512.cc (MBQM on magnitudes with the merged rounding of Eq. 5
// and Eq. 6; see there), with blends instead of mask registers.
#include <immintrin.h>

#include <cstring>
#include <limits>

#include "kernels/fixedpoint-avx2.h"
#include "kernels/gemm/gemm-kernels.h"

namespace intvit::gemm {
namespace {

// Eq. 7 and the saturating add: the AVX2 fixed-point core (kernels/fixedpoint-avx2.h).
using fp_avx2::column_consts;
using fp_avx2::ColumnConsts;
using fp_avx2::mbqm;
using fp_avx2::saturating_add;


// Loads `count` (< 8 allowed) int32 without touching memory beyond them.
inline __m256i load_partial(const int32_t* p, size_t count) {
  if (count == 8) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  return _mm256_maskload_epi32(p, mask);
}

// OutputPlan::byte_clamp (u8, [qmin, qmax] = [0, 255], |MBQM| <= 2^30, zp in [-32512, 32767]):
// Eq. 11 on groups of 16 columns as MBQM saturated to int16 (vpackssdw), + zp with int16
// saturation, then vpackuswb's [0, 255] saturation as the clamp (QUANTIZATION.md §3.5: the same
// byte as clamp(MBQM + zp)). Returns the first column it did not do (the last n_end - n < 16).
template <bool kPerChannel>
size_t byte_clamp_columns(const OutputPlan& p, const ColumnConsts& tensor, size_t row0, size_t rows, size_t n_begin,
                          size_t n_end, const int32_t* acc, size_t ld_acc, const int32_t* col_bias) {
  const __m256i zp16 = _mm256_set1_epi16(static_cast<int16_t>(p.zero_point));
  size_t n = n_begin;
  for (; n + 16 <= n_end; n += 16) {
    ColumnConsts c0 = tensor, c1 = tensor;
    if constexpr (kPerChannel) {
      c0 = column_consts(load_partial(p.multiplier + n, 8), load_partial(p.shift + n, 8));
      c1 = column_consts(load_partial(p.multiplier + n + 8, 8), load_partial(p.shift + n + 8, 8));
    }
    const __m256i bias0 = col_bias ? load_partial(col_bias + n, 8) : _mm256_setzero_si256();
    const __m256i bias1 = col_bias ? load_partial(col_bias + n + 8, 8) : _mm256_setzero_si256();
    for (size_t i = 0; i < rows; ++i) {
      const int32_t* a = acc + i * ld_acc + (n - n_begin);
      const __m256i v0 = _mm256_add_epi32(load_partial(a, 8), bias0), v1 = _mm256_add_epi32(load_partial(a + 8, 8), bias1);
      // vpackssdw interleaves 4-column groups per 128-bit lane; vpermq restores columns 0-7 | 8-15.
      const __m256i w = _mm256_adds_epi16(_mm256_packs_epi32(mbqm<false>(v0, c0), mbqm<false>(v1, c1)), zp16);
      const __m256i ordered = _mm256_permute4x64_epi64(w, 0xD8);
      const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(ordered), _mm256_extracti128_si256(ordered, 1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(static_cast<uint8_t*>(p.data) + (row0 + i) * p.ld + n), bytes);
    }
  }
  return n;
}

// kClamp = false: int32 outputs whose plan is unclamped (OutputPlan::unclamped: the whole int32
// range, zero-point 0, e.g. the residual stream), where Eq. 11's clamp and zero-point are the identity.
template <GemmOut kType, bool kAccumulate, bool kRaw, bool kPerChannel, bool kLeftShift, bool kClamp = true>
void stage(const OutputPlan& p, size_t row0, size_t rows, size_t n_begin, size_t n_end, const int32_t* acc,
           size_t ld_acc, const int32_t* col_bias) {
  ColumnConsts c{};
  if constexpr (!kRaw && !kPerChannel) c = column_consts(_mm256_set1_epi32(p.multiplier[0]), _mm256_set1_epi32(p.shift[0]));
  const __m256i lo = _mm256_set1_epi32(p.lo), hi = _mm256_set1_epi32(p.hi), zp = _mm256_set1_epi32(p.zero_point);
  size_t n = n_begin;
  if constexpr (kType == GemmOut::kU8 && !kRaw && !kLeftShift) {
    if (p.byte_clamp) n = byte_clamp_columns<kPerChannel>(p, c, row0, rows, n_begin, n_end, acc, ld_acc, col_bias);
  }
  for (; n < n_end; n += 8) {
    const size_t count = n_end - n < 8 ? n_end - n : 8;
    if constexpr (!kRaw && kPerChannel) c = column_consts(load_partial(p.multiplier + n, count), load_partial(p.shift + n, count));
    const __m256i bias = col_bias ? load_partial(col_bias + n, count) : _mm256_setzero_si256();
    for (size_t i = 0; i < rows; ++i) {
      __m256i v = load_partial(acc + i * ld_acc + (n - n_begin), count);
      if (col_bias) v = _mm256_add_epi32(v, bias);
      if constexpr (!kRaw && kClamp) {
        v = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(mbqm<kLeftShift>(v, c), lo), hi), zp);  // Eq. 11
      }
      if constexpr (!kRaw && !kClamp) v = mbqm<kLeftShift>(v, c);
      const size_t at = (row0 + i) * p.ld + n;
      if constexpr (kType == GemmOut::kU8) {
        // Values are already inside [qmin, qmax] ⊆ [0, 255], so the saturating packs are exact.
        const __m256i s16 = _mm256_packs_epi32(v, v);
        const __m256i u8 = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(s16, s16), _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4));
        if (count == 8) {
          _mm_storel_epi64(reinterpret_cast<__m128i*>(static_cast<uint8_t*>(p.data) + at), _mm256_castsi256_si128(u8));
        } else {
          alignas(8) uint8_t bytes[8];
          _mm_storel_epi64(reinterpret_cast<__m128i*>(bytes), _mm256_castsi256_si128(u8));
          std::memcpy(static_cast<uint8_t*>(p.data) + at, bytes, count);
        }
      } else if constexpr (kType == GemmOut::kS16) {
        const __m256i s16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(v, v), 0x08);
        if (count == 8) {
          _mm_storeu_si128(reinterpret_cast<__m128i*>(static_cast<int16_t*>(p.data) + at), _mm256_castsi256_si128(s16));
        } else {
          alignas(16) int16_t halves[8];
          _mm_store_si128(reinterpret_cast<__m128i*>(halves), _mm256_castsi256_si128(s16));
          std::memcpy(static_cast<int16_t*>(p.data) + at, halves, count * 2);
        }
      } else {
        int32_t* dst = static_cast<int32_t*>(p.data) + at;
        if constexpr (kAccumulate) v = saturating_add(load_partial(dst, count), v);
        if (count == 8) {
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), v);
        } else {
          const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
          _mm256_maskstore_epi32(dst, mask, v);
        }
      }
    }
  }
}

template <GemmOut kType, bool kAccumulate>
OutputStageFn pick(const OutputPlan& p) {
  if (p.raw) return stage<kType, kAccumulate, true, false, false>;
  if constexpr (kType == GemmOut::kS32) {
    if (p.unclamped) {
      if (p.per_channel) {
        return p.any_left_shift ? stage<kType, kAccumulate, false, true, true, false> : stage<kType, kAccumulate, false, true, false, false>;
      }
      return p.any_left_shift ? stage<kType, kAccumulate, false, false, true, false> : stage<kType, kAccumulate, false, false, false, false>;
    }
  }
  if (p.per_channel) {
    return p.any_left_shift ? stage<kType, kAccumulate, false, true, true> : stage<kType, kAccumulate, false, true, false>;
  }
  return p.any_left_shift ? stage<kType, kAccumulate, false, false, true> : stage<kType, kAccumulate, false, false, false>;
}

}  // namespace

void output_stage__avx2(const OutputPlan& p, size_t row0, size_t rows, size_t n_begin, size_t n_end,
                        const int32_t* acc, size_t ld_acc, const int32_t* col_bias) {
  OutputStageFn fn;
  switch (p.type) {
    case GemmOut::kU8: fn = pick<GemmOut::kU8, false>(p); break;
    case GemmOut::kS16: fn = pick<GemmOut::kS16, false>(p); break;
    default: fn = p.accumulate ? pick<GemmOut::kS32, true>(p) : pick<GemmOut::kS32, false>(p); break;
  }
  fn(p, row0, rows, n_begin, n_end, acc, ld_acc, col_bias);
}

}  // namespace intvit::gemm
