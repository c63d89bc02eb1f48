// The 256-bit register tile shared by the avx2 and avxvnni kernels (include only from *-avx2.cc or
// *-avxvnni.cc). MR rows × NB blocks of 8 output channels, one ymm accumulator per row and block,
// weights packed [block][k/KR][8][KR] (gemm.h PackedLayout), 32 bytes per block and k-group.
//
// Products, by Kind:
//  kU8Widen    (avx2, u8 A): A is zero-extended to int16 (minus a_offset, for Eq. 9) and multiplied
//              with int16 weights by vpmaddwd. NOT vpmaddubsw: its int16 pair sum saturates
//              (2·255·127 > 32767). Pair sums here are at most 2·255·255 < 2^31, exact.
//  kS16Madd    (avx2, s16 A): vpmaddwd on int16 pairs; its one overflow (both pairs −32768·−32768)
//              cannot happen because weights are int8 values.
//  kU8Dpbusd   (avxvnni, u8 A): vpdpbusd, u8 × s8 quads, exact.
//  kS16Dpwssd  (avxvnni, s16 A): vpdpwssd (wrapping, not vpdpwssds).
// All accumulate in int32 modulo 2^32, like Eq. 8 / Eq. 10 and the reference.
#pragma once

#include <immintrin.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "kernels/gemm/gemm-kernels.h"

namespace intvit::gemm::avx2 {

enum class Kind { kU8Widen, kS16Madd, kU8Dpbusd, kS16Dpwssd };

struct TileArgs {
  size_t k;                // depth, in elements of A
  const void* a;           // row 0 of the tile (uint8 or int16)
  size_t lda;              // in elements
  int32_t a_offset;        // kU8Widen only: subtracted from A (z_a of Eq. 9), else 0
  const void* w;           // the first block of the tile
  size_t block_stride;     // bytes between blocks
  const int32_t* init;     // initial accumulators: row r, column j at init[r * ld_init + j]
  size_t ld_init;          // 0 broadcasts one row (the bias) to every row
  uint32_t col_mask;       // 8 bits per block: columns that are loaded from init and stored
  int32_t* c;              // row 0, column 0 of the tile
  size_t ldc;
};

inline __m256i lane_mask(uint32_t bits) {
  const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(static_cast<int>(bits & 0xFF)), bit), bit);
}

inline int32_t load_dword(const void* p, size_t bytes) {
  int32_t v = 0;
  std::memcpy(&v, p, bytes);
  return v;
}

// acc += the dword-group products of a and w. Inline asm with "+x" accumulators, as in
// ukernel-avx512vnni.h: GCC 12 otherwise copies accumulators between registers every k-step.
template <Kind K>
inline __m256i multiply_add(__m256i acc, __m256i a, __m256i w) {
  if constexpr (K == Kind::kU8Widen || K == Kind::kS16Madd) {
    __m256i product;
    __asm__("vpmaddwd %2, %1, %0" : "=x"(product) : "x"(a), "x"(w));
    __asm__("vpaddd %1, %0, %0" : "+x"(acc) : "x"(product));
  } else {
#if defined(__AVXVNNI__)
    if constexpr (K == Kind::kU8Dpbusd) {
      __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(w));
    } else {
      __asm__("%{vex%} vpdpwssd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(w));
    }
#else
    static_assert(K == Kind::kU8Widen, "VNNI kinds compile only in *-avxvnni.cc files");
#endif
  }
  return acc;
}

template <int MR, int NB, Kind K>
void dot_tile(const TileArgs& t) {
  constexpr bool kS16 = K == Kind::kS16Madd || K == Kind::kS16Dpwssd;
  constexpr size_t kGroup = K == Kind::kU8Dpbusd ? 4 : 2;  // elements of A per dword lane
  using AElem = std::conditional_t<kS16, int16_t, uint8_t>;
  const AElem* a = static_cast<const AElem*>(t.a);
  __m256i acc[MR][NB];
#pragma GCC unroll 4
  for (int j = 0; j < NB; ++j) {
    const __m256i mask = lane_mask(t.col_mask >> (8 * j));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) acc[r][j] = _mm256_maskload_epi32(t.init + r * t.ld_init + 8 * j, mask);
  }
  const int8_t* w = static_cast<const int8_t*>(t.w);
  // kU8Widen: a byte pair is broadcast (vpbroadcastw) and zero-extended in place by vpshufb into
  // the int16 pair (a0, a1) of every dword, minus a_offset; the other kinds broadcast a dword.
  const __m256i widen = _mm256_setr_epi8(0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1,
                                         1, -1, 0, -1, 1, -1, 0, -1, 1, -1);
  const __m256i offset = _mm256_set1_epi16(static_cast<int16_t>(t.a_offset));
  const size_t full = t.k / kGroup;
  for (size_t g = 0; g < full; ++g) {
    __m256i wv[NB];
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) wv[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + j * t.block_stride));
    w += 32;
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const AElem* p = a + r * t.lda + g * kGroup;
      __m256i av;
      if constexpr (K == Kind::kU8Widen) {
        int16_t pair;
        std::memcpy(&pair, p, 2);
        av = _mm256_sub_epi16(_mm256_shuffle_epi8(_mm256_set1_epi16(pair), widen), offset);
      } else {
        av = _mm256_set1_epi32(load_dword(p, 4));
      }
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) acc[r][j] = multiply_add<K>(acc[r][j], av, wv[j]);
    }
  }
  if (const size_t valid = t.k % kGroup; valid != 0) {
    // The last, partial group: only `valid` elements of A exist (the packed weights are 0 beyond).
    __m256i wv[NB];
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) wv[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + j * t.block_stride));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const AElem* p = a + r * t.lda + full * kGroup;
      int32_t dword;
      if constexpr (K == Kind::kU8Widen) {
        dword = static_cast<int32_t>(static_cast<uint32_t>(p[0] - t.a_offset) & 0xFFFF);  // valid == 1
      } else {
        dword = load_dword(p, valid * sizeof(AElem));
      }
      const __m256i av = _mm256_set1_epi32(dword);
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) acc[r][j] = multiply_add<K>(acc[r][j], av, wv[j]);
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < NB; ++j) {
    const uint32_t bits = (t.col_mask >> (8 * j)) & 0xFF;
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      int32_t* dst = t.c + r * t.ldc + 8 * j;
      if (bits == 0xFF) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), acc[r][j]);
      } else {
        _mm256_maskstore_epi32(dst, lane_mask(bits), acc[r][j]);
      }
    }
  }
}

using DotTileFn = void (*)(const TileArgs&);

// dot_tile<mr, nb> for mr in [1, MR], nb in [1, NB]: kTable[mr - 1][nb - 1].
template <int MR, int NB, Kind K>
struct DotTileTable {
  template <int Mr, int... C>
  static constexpr std::array<DotTileFn, NB> cols(std::integer_sequence<int, C...>) {
    return {&dot_tile<Mr, C + 1, K>...};
  }
  template <int... R>
  static constexpr auto rows(std::integer_sequence<int, R...>) {
    return std::array<std::array<DotTileFn, NB>, MR>{cols<R + 1>(std::make_integer_sequence<int, NB>())...};
  }
  static constexpr auto kTable = rows(std::make_integer_sequence<int, MR>());
};

constexpr int kMR = 4, kNB = 2;  // 4 rows × 16 channels: 8 accumulators of 16 ymm registers

// The linear layer (Eq. 8 / Eq. 10) over groups of 16 columns, each tile stored raw to C or
// requantized through a 4×16 buffer by output_stage__avx2.
template <Kind K>
void linear_tiles(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out, size_t n_begin,
                  size_t n_end) {
  constexpr auto& kTable = DotTileTable<kMR, kNB, K>::kTable;
  constexpr size_t kWidth = 8 * kNB;
  const PackedLayout& l = w.layout();
  const size_t a_bytes = (K == Kind::kS16Madd || K == Kind::kS16Dpwssd) ? 2 : 1;
  const bool direct = out.raw && !out.accumulate;
  alignas(32) int32_t tile[kMR * kWidth];
  const size_t block_end = (n_end + 7) / 8;
  for (size_t block = n_begin / 8; block < block_end; block += kNB) {
    const size_t nb = block_end - block < kNB ? block_end - block : kNB;
    const size_t n0 = block * 8;
    const size_t g_begin = n_begin > n0 ? n_begin : n0, g_end = n_end < n0 + 8 * nb ? n_end : n0 + 8 * nb;
    const uint32_t col_mask = ((uint32_t{1} << (g_end - n0)) - 1) & ~((uint32_t{1} << (g_begin - n0)) - 1);
    for (size_t r = 0; r < m; r += kMR) {
      const size_t mr = m - r < kMR ? m - r : kMR;
      TileArgs t;
      t.k = w.k();
      t.a = static_cast<const uint8_t*>(a) + r * lda * a_bytes;
      t.lda = lda;
      t.a_offset = 0;
      t.w = static_cast<const uint8_t*>(l.weights) + block * l.block_stride;
      t.block_stride = l.block_stride;
      t.init = l.bias_eff + n0;
      t.ld_init = 0;
      t.col_mask = col_mask;
      if (direct) {
        t.c = static_cast<int32_t*>(out.data) + r * out.ld + n0;
        t.ldc = out.ld;
      } else {
        t.c = tile;
        t.ldc = kWidth;
      }
      kTable[mr - 1][nb - 1](t);
      if (!direct) output_stage__avx2(out, r, mr, g_begin, g_end, tile + (g_begin - n0), kWidth, nullptr);
    }
  }
}

}  // namespace intvit::gemm::avx2
