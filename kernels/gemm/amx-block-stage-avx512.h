// The amx linear layers' per-block output stage (AmxBlockStageFn, gemm-kernels.h) as AVX-512
// templates over the Stage of a plan (requant-avx512.h): resolved once per call, so a block costs
// only its vector work (the generic output_stage__avx512 re-dispatches, rebuilds the column
// constants and stores through masks on every call, ~2× the vector work per 16 outputs on the
// Xeon). Byte-clamp u8 plans (qkv, fc1) take the row stage of the VNNI tiles (saturating packs,
// Eq. 11's clamp by vpackuswb) on 32 columns; int32 residual plans defer the saturation to the
// block as tiles_4x64 does; s16 inputs (Eq. 12) arrive as two planes, combined as 256·hi + lo
// modulo 2^32 in registers. The amx drivers start the C tiles from the bias (amx-drivers.h) and
// pass bias = nullptr: each block entry point dispatches once on that to a body without the add
// (kBias = false) or with it (kBias, for callers that give a bias). Include only from *-avx512*.cc files.
#pragma once

#include "kernels/gemm/requant-avx512.h"  // first: it carries the immintrin.h pragma

namespace intvit::gemm::amx_stage {
namespace {  // internal linkage: see requant-avx512.h

using avx512::ColumnConsts;

// Tile result (i, 16j..16j+15) of the block: hi (+ its low-byte plane) (+ bias), modulo 2^32.
template <bool kSplit, bool kBias>
inline __attribute__((always_inline)) __m512i tile_value(const int32_t* hi, const int32_t* lo, size_t i, size_t j, __m512i bias,
                                                         __mmask16 mask = 0xFFFF) {
  __m512i v = _mm512_maskz_loadu_epi32(mask, hi + i * kAmxBlockLd + 16 * j);
  if constexpr (kSplit) v = _mm512_add_epi32(_mm512_slli_epi32(v, 8), _mm512_maskz_loadu_epi32(mask, lo + i * kAmxBlockLd + 16 * j));
  if constexpr (kBias) v = _mm512_add_epi32(v, bias);
  return v;
}

// The bias vector of the 16 columns from n (kBias), else zero (not added).
template <bool kBias>
inline __attribute__((always_inline)) __m512i bias_at(const int32_t* bias, size_t n, __mmask16 mask = 0xFFFF) {
  if constexpr (kBias) return _mm512_maskz_loadu_epi32(mask, bias + n);
  (void)bias, (void)n, (void)mask;
  return _mm512_setzero_si512();
}

// Stage::store_wrapping on the two vectors of a block row (columns n0.., n0 + 16..): their
// overflow lanes folded into `wrapped` by one three-way vpternlogd instead of an OR each.
template <typename S>
inline __attribute__((always_inline)) void store_wrapping_row(const S& s, __m512i v0, __m512i v1, const ColumnConsts& c0,
                                                              const ColumnConsts& c1, uint8_t* dst, __m512i& wrapped) {
  v0 = s.template requantize<true>(v0, c0);  // the Intel form of Eq. 7 (requant-avx512.h): no AMD core has AMX
  v1 = s.template requantize<true>(v1, c1);
  int32_t* d = reinterpret_cast<int32_t*>(dst);
  const __m512i p0 = _mm512_loadu_si512(d), p1 = _mm512_loadu_si512(d + 16);
  const __m512i s0 = _mm512_add_epi32(p0, v0), s1 = _mm512_add_epi32(p1, v1);
  // overflow iff the addends share a sign the sum does not: (prior ^ sum) & (v ^ sum) < 0
  wrapped = _mm512_ternarylogic_epi32(wrapped, _mm512_ternarylogic_epi32(p0, v0, s0, 0x42), _mm512_ternarylogic_epi32(p1, v1, s1, 0x42),
                                      0xFE);
  _mm512_storeu_si512(d, s0);
  _mm512_storeu_si512(d + 16, s1);
}

// Any Stage, any columns: 16 columns at a time, masked at the ends of [g_begin, g_end).
template <typename S, bool kSplit, bool kBias>
void block_masked(const S& s, size_t row0, size_t rows, size_t n0, size_t g_begin, size_t g_end, const int32_t* hi,
                  const int32_t* lo, const int32_t* bias) {
  for (size_t n = g_begin; n < g_end; n += 16) {
    const size_t count = g_end - n < 16 ? g_end - n : 16;
    const __mmask16 mask = static_cast<__mmask16>((1u << count) - 1);
    const ColumnConsts c = s.columns(n, mask);
    const __m512i b = bias_at<kBias>(bias, n, mask);
    const size_t off = n - n0;
    for (size_t i = 0; i < rows; ++i) {
      s.store(tile_value<kSplit, kBias>(hi + off, lo ? lo + off : nullptr, i, 0, b, mask), c, s.at(row0 + i, n), mask);
    }
  }
}

// A Stage without row stores (with_stage<false>): full 32-column blocks vector by vector.
template <typename S, bool kSplit, bool kBias>
void block_stage_body(const OutputPlan& p, size_t row0, size_t rows, size_t n0, size_t g_begin, size_t g_end, const int32_t* hi,
                      const int32_t* lo, const int32_t* bias) {
  const S s(p);
  if (g_begin != n0 || g_end != n0 + 32) return block_masked<S, kSplit, kBias>(s, row0, rows, n0, g_begin, g_end, hi, lo, bias);
  const ColumnConsts c[2] = {s.columns(n0, 0xFFFF), s.columns(n0 + 16, 0xFFFF)};
  const __m512i b[2] = {bias_at<kBias>(bias, n0), bias_at<kBias>(bias, n0 + 16)};
  if constexpr (S::kDeferredSaturation) {
    __m512i wrapped = _mm512_setzero_si512();
    for (size_t i = 0; i < rows; ++i) {
      store_wrapping_row(s, tile_value<kSplit, kBias>(hi, lo, i, 0, b[0]), tile_value<kSplit, kBias>(hi, lo, i, 1, b[1]), c[0], c[1],
                         s.at(row0 + i, n0), wrapped);
    }
    if (_mm512_movepi32_mask(wrapped) != 0) [[unlikely]] {
      for (size_t i = 0; i < rows; ++i) {
        for (size_t j = 0; j < 2; ++j) s.resaturate(tile_value<kSplit, kBias>(hi, lo, i, j, b[j]), c[j], s.at(row0 + i, n0 + 16 * j));
      }
    }
  } else {
    for (size_t i = 0; i < rows; ++i) {
      for (size_t j = 0; j < 2; ++j) s.template store<true>(tile_value<kSplit, kBias>(hi, lo, i, j, b[j]), c[j], s.at(row0 + i, n0 + 16 * j));
    }
  }
}
template <typename S, bool kSplit>
void block_stage(const OutputPlan& p, size_t row0, size_t rows, size_t n0, size_t g_begin, size_t g_end, const int32_t* hi,
                 const int32_t* lo, const int32_t* bias) {
  if (bias != nullptr) return block_stage_body<S, kSplit, true>(p, row0, rows, n0, g_begin, g_end, hi, lo, bias);
  block_stage_body<S, kSplit, false>(p, row0, rows, n0, g_begin, g_end, hi, lo, bias);
}

// u8 byte_clamp plans (OutputPlan::byte_clamp; the derivation is Stage::row_u8's): 32 columns of
// a row as sign·min(|MBQM|, 32767) in int16, + zp with int16 saturation, vpackuswb of two rows,
// `finish` on their 64 codes (identity, or a byte table: amx-block-stage-avx512vbmi.cc), one
// 32-byte store per row. S: the
// narrow byte_clamp Stage (or one derived from it); Masked: the clamping stage of the same plan
// for partial blocks (identical codes: see row_u8), with `finish` applied by its own store.
template <typename S, typename Masked, bool kSplit, bool kBias, typename Finish>
void block_byte_clamp_body(const OutputPlan& p, size_t row0, size_t rows, size_t n0, size_t g_begin, size_t g_end, const int32_t* hi,
                           const int32_t* lo, const int32_t* bias, const Finish& finish) {
  if (g_begin != n0 || g_end != n0 + 32) return block_masked<Masked, kSplit, kBias>(Masked(p), row0, rows, n0, g_begin, g_end, hi, lo, bias);
  const S s(p);
  const ColumnConsts c0 = s.columns(n0, 0xFFFF), c1 = s.columns(n0 + 16, 0xFFFF);
  const __m512i b0 = bias_at<kBias>(bias, n0), b1 = bias_at<kBias>(bias, n0 + 16);
  // Two rows per vpackuswb: packus(w_i, w_i+1) puts in 128-bit lane L dword 4L + t (t = 0, 1: row
  // i, columns 4L.. of the first / second vector; t = 2, 3: the same of row i + 1). Gathered in
  // column order, row i fills the low 256 bits and row i + 1 the high ones: one packus and one
  // permute per two rows (the VNNI tiles' row_u8 order) instead of per row.
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const auto row16 = [&](size_t i) {
    return s.zp_pair(tile_value<kSplit, kBias>(hi, lo, i, 0, b0), tile_value<kSplit, kBias>(hi, lo, i, 1, b1), c0, c1);
  };
  size_t i = 0;
  for (; i + 2 <= rows; i += 2) {
    const __m512i bytes = finish(_mm512_permutexvar_epi32(order, _mm512_packus_epi16(row16(i), row16(i + 1))));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(s.at(row0 + i, n0)), _mm512_castsi512_si256(bytes));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(s.at(row0 + i + 1, n0)), _mm512_extracti64x4_epi64(bytes, 1));
  }
  if (i < rows) {  // an odd last row: packus(w, w), its low 256 bits
    const __m512i w = row16(i);
    const __m512i bytes = finish(_mm512_permutexvar_epi32(order, _mm512_packus_epi16(w, w)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(s.at(row0 + i, n0)), _mm512_castsi512_si256(bytes));
  }
}
template <typename S, typename Masked, bool kSplit, typename Finish>
void block_byte_clamp(const OutputPlan& p, size_t row0, size_t rows, size_t n0, size_t g_begin, size_t g_end, const int32_t* hi,
                      const int32_t* lo, const int32_t* bias, const Finish& finish) {
  if (bias != nullptr) return block_byte_clamp_body<S, Masked, kSplit, true>(p, row0, rows, n0, g_begin, g_end, hi, lo, bias, finish);
  block_byte_clamp_body<S, Masked, kSplit, false>(p, row0, rows, n0, g_begin, g_end, hi, lo, bias, finish);
}

}  // namespace
}  // namespace intvit::gemm::amx_stage
