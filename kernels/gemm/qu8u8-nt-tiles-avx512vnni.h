// The whole-B path of qu8u8_gemm_nt*__avx512vnni (Eq. 9), for B that fits one packed buffer
// (q@kᵀ per head: 197 × 197 × 64). Include only from qu8u8-gemm-nt-4x64c4-avx512vnni.cc.
//
// Unlike the chunked path (columns outer, 4 × 48/64 tiles), all of B' is packed once, group-major
// ([k/4][block][16][4], so one k-step's blocks are consecutive), and the rows are the outer loop: a
// tile is 2 rows × every column (NB ≤ kMaxNB blocks of 16), so each C row is written once, whole,
// and no 5-column tail forms a latency-bound tile of its own. The zero-point terms are the
// accumulators' start values: col_term[n] (+ D) + row_term[m] with B' = B − 128, or col_term[n]
// (+ D) alone with B' = B − z_b where that is exact (the caller checks every B − z_b is an int8).
#pragma once

#include "kernels/gemm/requant-avx512.h"  // first: it carries the immintrin.h pragma (GCC bug 105593)

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace intvit::gemm::nt_tiles {
namespace {

constexpr int kMaxNB = 13;  // 2 rows × 13 blocks: 26 accumulators + 2 A broadcasts + 4 weights = 32 zmm

// One 2 × 16·NB tile: rows 0 and 1 may be the same row (an odd last row; then c1 is scratch).
struct NtArgs {
  const uint8_t* a0;        // A rows of the tile
  const uint8_t* a1;
  const int8_t* w;          // packed B', block 0 of the tile at group 0 (64-byte aligned)
  size_t group_stride;      // bytes between k-groups of the packed B' (64 · blocks of the pack)
  size_t groups;            // k / 4 >= 1 (k % 4 == 0: A is read in whole dwords up to k)
  const int32_t* init0;     // start values of row 0: the column terms, or C = D + column terms
  const int32_t* init1;
  const int32_t* rt0;       // the row terms (added to the start values; unread by kRowTerms = false)
  const int32_t* rt1;
  int32_t* c0;              // output rows
  int32_t* c1;
  const char* pf0;          // lines prefetched for writing, one per k-group each from pf0 and pf1:
  const char* pf1;          // the next tile's C rows (or, where there is none, the packed B')
  __mmask16 last_mask;      // columns of the last block that exist (also masks its start values)
};

// The tile in one asm block over fixed registers (GCC 12 spills a 26-accumulator intrinsic loop):
// acc zmm0-25 (row r, block j in zmm(2j + r)), A broadcasts zmm26-27, weights zmm28-31 in turn.
// Per k-group: 2 broadcasts, NB weight loads, 2·NB vpdpbusd.
#define INTVIT_NT_INIT_FIRST \
  "vpbroadcastd (%[rt0]), %%zmm26\n\t" \
  "vpbroadcastd (%[rt1]), %%zmm27\n\t"
#define INTVIT_NT_LOAD_FIRST
// Each per-block instruction pair once, with the mask suffix M: none for full blocks, the last
// block's columns (zeroing the others where it writes a register: INTVIT_NT_ZMASK) for _LAST.
#define INTVIT_NT_ZMASK "%{%[k]%}%{z%}"
#define INTVIT_NT_MASK "%{%[k]%}"
#define INTVIT_NT_INIT_M(j, r0, r1, M) \
  "vpaddd " #j "*64(%[i0]), %%zmm26, %%zmm" #r0 M "\n\t" \
  "vpaddd " #j "*64(%[i1]), %%zmm27, %%zmm" #r1 M "\n\t"
#define INTVIT_NT_LOAD_M(j, r0, r1, M) \
  "vmovdqu32 " #j "*64(%[i0]), %%zmm" #r0 M "\n\t" \
  "vmovdqu32 " #j "*64(%[i1]), %%zmm" #r1 M "\n\t"
#define INTVIT_NT_STORE_M(j, r0, r1, M) \
  "vmovdqu32 %%zmm" #r0 ", " #j "*64(%[c0])" M "\n\t" \
  "vmovdqu32 %%zmm" #r1 ", " #j "*64(%[c1])" M "\n\t"
#define INTVIT_NT_INIT(j, r0, r1) INTVIT_NT_INIT_M(j, r0, r1, "")
#define INTVIT_NT_INIT_LAST(j, r0, r1) INTVIT_NT_INIT_M(j, r0, r1, INTVIT_NT_ZMASK)
#define INTVIT_NT_LOAD(j, r0, r1) INTVIT_NT_LOAD_M(j, r0, r1, "")
#define INTVIT_NT_LOAD_LAST(j, r0, r1) INTVIT_NT_LOAD_M(j, r0, r1, INTVIT_NT_ZMASK)
#define INTVIT_NT_STORE(j, r0, r1) INTVIT_NT_STORE_M(j, r0, r1, "")
#define INTVIT_NT_STORE_LAST(j, r0, r1) INTVIT_NT_STORE_M(j, r0, r1, INTVIT_NT_MASK)
#define INTVIT_NT_STEP(j, wr, r0, r1) \
  "vmovdqa64 " #j "*64(%[w]), %%zmm" #wr "\n\t" \
  "vpdpbusd %%zmm" #wr ", %%zmm26, %%zmm" #r0 "\n\t" \
  "vpdpbusd %%zmm" #wr ", %%zmm27, %%zmm" #r1 "\n\t"
// Block j's registers: accumulators 2j, 2j + 1; weights 28 + j % 4.
#define INTVIT_NT_B0(X) X(0, 0, 1)
#define INTVIT_NT_B1(X) X(1, 2, 3)
#define INTVIT_NT_B2(X) X(2, 4, 5)
#define INTVIT_NT_B3(X) X(3, 6, 7)
#define INTVIT_NT_B4(X) X(4, 8, 9)
#define INTVIT_NT_B5(X) X(5, 10, 11)
#define INTVIT_NT_B6(X) X(6, 12, 13)
#define INTVIT_NT_B7(X) X(7, 14, 15)
#define INTVIT_NT_B8(X) X(8, 16, 17)
#define INTVIT_NT_B9(X) X(9, 18, 19)
#define INTVIT_NT_B10(X) X(10, 20, 21)
#define INTVIT_NT_B11(X) X(11, 22, 23)
#define INTVIT_NT_B12(X) X(12, 24, 25)
#define INTVIT_NT_S0(j, r0, r1) INTVIT_NT_STEP(j, 28, r0, r1)
#define INTVIT_NT_S1(j, r0, r1) INTVIT_NT_STEP(j, 29, r0, r1)
#define INTVIT_NT_S2(j, r0, r1) INTVIT_NT_STEP(j, 30, r0, r1)
#define INTVIT_NT_S3(j, r0, r1) INTVIT_NT_STEP(j, 31, r0, r1)
// Blocks [0, n) with X (full blocks), for n = 0..12.
#define INTVIT_NT_UPTO0(X)
#define INTVIT_NT_UPTO1(X) INTVIT_NT_B0(X)
#define INTVIT_NT_UPTO2(X) INTVIT_NT_UPTO1(X) INTVIT_NT_B1(X)
#define INTVIT_NT_UPTO3(X) INTVIT_NT_UPTO2(X) INTVIT_NT_B2(X)
#define INTVIT_NT_UPTO4(X) INTVIT_NT_UPTO3(X) INTVIT_NT_B3(X)
#define INTVIT_NT_UPTO5(X) INTVIT_NT_UPTO4(X) INTVIT_NT_B4(X)
#define INTVIT_NT_UPTO6(X) INTVIT_NT_UPTO5(X) INTVIT_NT_B5(X)
#define INTVIT_NT_UPTO7(X) INTVIT_NT_UPTO6(X) INTVIT_NT_B6(X)
#define INTVIT_NT_UPTO8(X) INTVIT_NT_UPTO7(X) INTVIT_NT_B7(X)
#define INTVIT_NT_UPTO9(X) INTVIT_NT_UPTO8(X) INTVIT_NT_B8(X)
#define INTVIT_NT_UPTO10(X) INTVIT_NT_UPTO9(X) INTVIT_NT_B9(X)
#define INTVIT_NT_UPTO11(X) INTVIT_NT_UPTO10(X) INTVIT_NT_B10(X)
#define INTVIT_NT_UPTO12(X) INTVIT_NT_UPTO11(X) INTVIT_NT_B11(X)
// The k-step of blocks [0, n): the weight register rotates with j % 4.
#define INTVIT_NT_STEPS0
#define INTVIT_NT_STEPS1 INTVIT_NT_B0(INTVIT_NT_S0)
#define INTVIT_NT_STEPS2 INTVIT_NT_STEPS1 INTVIT_NT_B1(INTVIT_NT_S1)
#define INTVIT_NT_STEPS3 INTVIT_NT_STEPS2 INTVIT_NT_B2(INTVIT_NT_S2)
#define INTVIT_NT_STEPS4 INTVIT_NT_STEPS3 INTVIT_NT_B3(INTVIT_NT_S3)
#define INTVIT_NT_STEPS5 INTVIT_NT_STEPS4 INTVIT_NT_B4(INTVIT_NT_S0)
#define INTVIT_NT_STEPS6 INTVIT_NT_STEPS5 INTVIT_NT_B5(INTVIT_NT_S1)
#define INTVIT_NT_STEPS7 INTVIT_NT_STEPS6 INTVIT_NT_B6(INTVIT_NT_S2)
#define INTVIT_NT_STEPS8 INTVIT_NT_STEPS7 INTVIT_NT_B7(INTVIT_NT_S3)
#define INTVIT_NT_STEPS9 INTVIT_NT_STEPS8 INTVIT_NT_B8(INTVIT_NT_S0)
#define INTVIT_NT_STEPS10 INTVIT_NT_STEPS9 INTVIT_NT_B9(INTVIT_NT_S1)
#define INTVIT_NT_STEPS11 INTVIT_NT_STEPS10 INTVIT_NT_B10(INTVIT_NT_S2)
#define INTVIT_NT_STEPS12 INTVIT_NT_STEPS11 INTVIT_NT_B11(INTVIT_NT_S3)
#define INTVIT_NT_STEPS13 INTVIT_NT_STEPS12 INTVIT_NT_B12(INTVIT_NT_S0)
// NB blocks, the last one (B<NB - 1>) masked. START: the start values with the row terms
// (INTVIT_NT_INIT, the row terms broadcast first) or without (INTVIT_NT_LOAD).
#define INTVIT_NT_TILE(NB, FULL, LAST, START)                                                          \
  __asm__ volatile(                                                                                    \
      START##_FIRST INTVIT_NT_UPTO##FULL(START) INTVIT_NT_B##LAST(START##_LAST)                                      \
      "1:\n\t"                                                                                         \
      "vpbroadcastd (%[a0]), %%zmm26\n\t"                                                              \
      "vpbroadcastd (%[a1]), %%zmm27\n\t"                                                              \
      "prefetchw (%[p0])\n\t"                                                                          \
      "prefetchw (%[p1])\n\t"                                                                          \
      INTVIT_NT_STEPS##NB                                                                              \
      "add $4, %[a0]\n\t"                                                                              \
      "add $4, %[a1]\n\t"                                                                              \
      "add $64, %[p0]\n\t"                                                                             \
      "add $64, %[p1]\n\t"                                                                             \
      "add %[gs], %[w]\n\t"                                                                            \
      "dec %[n]\n\t"                                                                                   \
      "jnz 1b\n\t"                                                                                     \
      INTVIT_NT_UPTO##FULL(INTVIT_NT_STORE) INTVIT_NT_B##LAST(INTVIT_NT_STORE_LAST)                    \
      : [a0] "+r"(a0), [a1] "+r"(a1), [w] "+r"(w), [n] "+r"(n), [p0] "+r"(p0), [p1] "+r"(p1)           \
      : [gs] "r"(t.group_stride), [i0] "r"(t.init0), [i1] "r"(t.init1), [rt0] "r"(t.rt0), [rt1] "r"(t.rt1), \
        [c0] "r"(t.c0), [c1] "r"(t.c1), [k] "Yk"(t.last_mask)                                          \
      : "zmm0", "zmm1", "zmm2", "zmm3", "zmm4", "zmm5", "zmm6", "zmm7", "zmm8", "zmm9", "zmm10", "zmm11", \
        "zmm12", "zmm13", "zmm14", "zmm15", "zmm16", "zmm17", "zmm18", "zmm19", "zmm20", "zmm21", "zmm22", \
        "zmm23", "zmm24", "zmm25", "zmm26", "zmm27", "zmm28", "zmm29", "zmm30", "zmm31", "cc", "memory")

// kRowTerms: the start values are init + the row terms, else init alone (B' = B − z_b exactly).
template <bool kRowTerms, int NB>
void nt_tile(const NtArgs& t) {
#if defined(INTVIT_AVX512_EMULATION)  // tests/avx512_emu: no asm there; the same tile in intrinsics
  const uint8_t* a[2] = {t.a0, t.a1};
  const int32_t* init[2] = {t.init0, t.init1};
  const int32_t* rt[2] = {t.rt0, t.rt1};
  int32_t* c[2] = {t.c0, t.c1};
  __m512i acc[2][NB];
  for (int r = 0; r < 2; ++r) {
    for (int j = 0; j < NB; ++j) {
      const __mmask16 m = j == NB - 1 ? t.last_mask : __mmask16{0xFFFF};
      acc[r][j] = _mm512_maskz_loadu_epi32(m, init[r] + 16 * j);
      if constexpr (kRowTerms) acc[r][j] = _mm512_maskz_add_epi32(m, acc[r][j], _mm512_set1_epi32(*rt[r]));
    }
  }
  for (size_t g = 0; g < t.groups; ++g) {
    for (int r = 0; r < 2; ++r) {
      int32_t quad;
      std::memcpy(&quad, a[r] + 4 * g, 4);
      const __m512i av = _mm512_set1_epi32(quad);
      for (int j = 0; j < NB; ++j) {
        acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], av, _mm512_load_si512(t.w + g * t.group_stride + 64 * j));
      }
    }
  }
  for (int r = 0; r < 2; ++r) {
    for (int j = 0; j < NB; ++j) {
      _mm512_mask_storeu_epi32(c[r] + 16 * j, j == NB - 1 ? t.last_mask : __mmask16{0xFFFF}, acc[r][j]);
    }
  }
#else
  const uint8_t* a0 = t.a0;
  const uint8_t* a1 = t.a1;
  const int8_t* w = t.w;
  size_t n = t.groups;
  const char* p0 = t.pf0;
  const char* p1 = t.pf1;
#define INTVIT_NT_CASE(NB_, FULL)                                     \
  if constexpr (NB == NB_) {                                          \
    if constexpr (kRowTerms) {                                        \
      INTVIT_NT_TILE(NB_, FULL, FULL, INTVIT_NT_INIT);                \
    } else {                                                          \
      INTVIT_NT_TILE(NB_, FULL, FULL, INTVIT_NT_LOAD);                \
    }                                                                 \
  }
  INTVIT_NT_CASE(1, 0)
  INTVIT_NT_CASE(2, 1)
  INTVIT_NT_CASE(3, 2)
  INTVIT_NT_CASE(4, 3)
  INTVIT_NT_CASE(5, 4)
  INTVIT_NT_CASE(6, 5)
  INTVIT_NT_CASE(7, 6)
  INTVIT_NT_CASE(8, 7)
  INTVIT_NT_CASE(9, 8)
  INTVIT_NT_CASE(10, 9)
  INTVIT_NT_CASE(11, 10)
  INTVIT_NT_CASE(12, 11)
  INTVIT_NT_CASE(13, 12)
#undef INTVIT_NT_CASE
#endif
}

// Σ_k A[r, 0:k] of rows r in [0, rows), rows ≤ 16, as the 16 dwords of one vector (zero beyond
// `rows`): vpsadbw per row, then one tree over the 16 rows' 8 qword partials (45 ALU ops per 16
// rows instead of a horizontal reduction, ~10 ops, per row).
inline __m512i row_sums16(const uint8_t* a, size_t lda, size_t rows, size_t k) {
  __m512i v[16];
#pragma GCC unroll 16
  for (int r = 0; r < 16; ++r) v[r] = _mm512_setzero_si512();
  for (size_t i = 0; i < k; i += 64) {
    const size_t count = k - i < 64 ? k - i : 64;
    const __mmask64 mask = count == 64 ? ~__mmask64{0} : (__mmask64{1} << count) - 1;
#pragma GCC unroll 16
    for (size_t r = 0; r < 16; ++r) {  // rows past `rows` load nothing (mask 0) from a valid row
      const __m512i bytes = _mm512_maskz_loadu_epi8(r < rows ? mask : 0, a + (r < rows ? r : 0) * lda + i);
      v[r] = _mm512_add_epi64(v[r], _mm512_sad_epu8(bytes, _mm512_setzero_si512()));
    }
  }
  __m512i t[8], u[4], x[2];
  for (int i = 0; i < 8; ++i) {  // 128-bit lane L: rows 2i, 2i+1, partial L of each
    t[i] = _mm512_add_epi64(_mm512_unpacklo_epi64(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_epi64(v[2 * i], v[2 * i + 1]));
  }
  for (int i = 0; i < 4; ++i) {  // lanes 0, 1: rows 4i, 4i+1 (two halves); lanes 2, 3: rows 4i+2, 4i+3
    u[i] = _mm512_add_epi64(_mm512_shuffle_i64x2(t[2 * i], t[2 * i + 1], 0x88), _mm512_shuffle_i64x2(t[2 * i], t[2 * i + 1], 0xDD));
  }
  for (int i = 0; i < 2; ++i) {  // qword q: row 8i + q
    x[i] = _mm512_add_epi64(_mm512_shuffle_i64x2(u[2 * i], u[2 * i + 1], 0x88), _mm512_shuffle_i64x2(u[2 * i], u[2 * i + 1], 0xDD));
  }
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(x[0])), _mm512_cvtepi64_epi32(x[1]), 1);
}

using NtTileFn = void (*)(const NtArgs&);

// nt_tile<kRowTerms, nb> for nb in [1, kMaxNB]: kTiles[nb - 1] (row terms), kTilesExact[nb - 1].
template <bool kRowTerms, int... C>
constexpr std::array<NtTileFn, kMaxNB> tile_table(std::integer_sequence<int, C...>) {
  return {&nt_tile<kRowTerms, C + 1>...};
}
constexpr auto kTiles = tile_table<true>(std::make_integer_sequence<int, kMaxNB>());
constexpr auto kTilesExact = tile_table<false>(std::make_integer_sequence<int, kMaxNB>());

}  // namespace
}  // namespace intvit::gemm::nt_tiles
