// Eq. 11c (QUANTIZATION.md §3.6) in AVX-512 VBMI registers: a 256-byte table applied to u8 codes by
// two vpermi2b and a blend, and a u8 Stage (requant-avx512.h) whose stores put the codes through
// it. Shared by the avx512vnnivbmi tiles and the amx block stage (amx-block-stage-avx512vbmi.cc).
// Include only from files compiled with AVX-512 VBMI (*avx512vbmi.cc, *avx512vnnivbmi.cc).
#pragma once

#include "kernels/gemm/requant-avx512.h"  // first: it carries the immintrin.h pragma

namespace intvit::gemm::avx512 {
namespace {  // internal linkage: see requant-avx512.h

// The 256 table bytes in four registers; lookup(q) = table[q] for each of 64 bytes.
struct ByteTable {
  explicit ByteTable(const uint8_t* table) {
    for (int i = 0; i < 4; ++i) t[i] = _mm512_loadu_si512(table + 64 * i);
  }
  inline __attribute__((always_inline)) __m512i lookup(__m512i codes) const {
    const __m512i lo = _mm512_permutex2var_epi8(t[0], codes, t[1]);  // table[q & 127]
    const __m512i hi = _mm512_permutex2var_epi8(t[2], codes, t[3]);  // table[128 + (q & 127)]
    return _mm512_mask_mov_epi8(lo, _mm512_movepi8_mask(codes), hi);
  }
  __m512i t[4];
};

// A u8 Stage (requant-avx512.h) whose stores put the codes through the table first.
template <typename S>
struct ByteTableStage : S {
  static_assert(S::kElemBytes == 1, "byte tables are for u8 outputs");
  explicit ByteTableStage(const OutputPlan& plan) : S(plan), table(plan.table) {}

  inline __attribute__((always_inline)) void store_row(const __m512i (&v)[4], const ColumnConsts* c, uint8_t* dst) const {
    _mm512_storeu_si512(dst, table.lookup(S::row_u8(v, c)));
  }
  template <bool kFull = false>
  inline __attribute__((always_inline)) void store(__m512i v, const ColumnConsts& c, uint8_t* dst,
                                                   __mmask16 mask = 0xFFFF) const {
    // The 16 codes in the low 128 bits; the upper lanes' lookups are discarded.
    const __m128i codes = _mm512_cvtepi32_epi8(S::requantize(v, c));
    const __m128i bytes = _mm512_castsi512_si128(table.lookup(_mm512_castsi128_si512(codes)));
    if constexpr (kFull) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), bytes);
    } else {
      _mm_mask_storeu_epi8(dst, mask, bytes);
    }
  }

  ByteTable table;
};

}  // namespace
}  // namespace intvit::gemm::avx512
