// The 256-bit register tiles of the avx2 and avxvnni kernels (include only from *-avx2.cc or
// *-avxvnni.cc). MR rows × NB blocks of 8 output channels, one ymm accumulator per row and block,
// weights packed [block][k/KR][8][KR] (gemm.h PackedLayout), 32 bytes per block and k-group.
//
// Two drivers share the weight layout:
//  linear_tiles / dot_tile    A read in place (avxvnni kernels; avx2 only beyond kMaxPanelPairs).
//  linear_panels / panel_tile (avx2) A widened to int16 once per call into a stack panel,
//              [tile of 4 rows][k/2][4][2] (pack_pairs), so the inner step is a plain dword
//              broadcast, vpmaddwd and vpaddd: no per-step widening (which took 12 of 28 vector
//              instructions per step), ~88 % of the vpmaddwd + vpaddd peak on Zen 3 from L1.
//              qu8u8-gemm-nt-4x16c2-avx2.cc runs panel_tile on both operands packed per call.
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

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "kernels/gemm/gemm-kernels.h"

namespace intvit::gemm::avx2 {
// Internal linkage: the files including this header are compiled with different ISA flags, so
// external-linkage inline helpers could be merged across them by the linker (an ODR violation).
namespace {

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

#if defined(INTVIT_AVXVNNI_EMULATION)
// vpdpbusd's four u8 × s8 products per dword lane, summed exactly in AVX2: the even and the odd
// bytes as int16 (a zero-extended, w sign-extended), each pair of products through vpmaddwd
// (|sum| <= 2·255·128: no saturation).
inline __m256i dpbusd_products(__m256i a, __m256i w) {
  const __m256i a_even = _mm256_and_si256(a, _mm256_set1_epi16(0x00FF)), a_odd = _mm256_srli_epi16(a, 8);
  const __m256i w_even = _mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8), w_odd = _mm256_srai_epi16(w, 8);
  return _mm256_add_epi32(_mm256_madd_epi16(a_even, w_even), _mm256_madd_epi16(a_odd, w_odd));
}
#endif

// acc += the dword-group products of a and w. Inline asm with "+x" accumulators, as in
// ukernel-avx512vnni.h: GCC 12 otherwise copies accumulators between registers every k-step.
template <Kind K>
inline __m256i multiply_add(__m256i acc, __m256i a, __m256i w) {
  if constexpr (K == Kind::kU8Widen || K == Kind::kS16Madd) {
    __m256i product;
    __asm__("vpmaddwd %2, %1, %0" : "=x"(product) : "x"(a), "x"(w));
    __asm__("vpaddd %1, %0, %0" : "+x"(acc) : "x"(product));
  } else {
#if defined(INTVIT_AVXVNNI_EMULATION)
    // tests/avx512_emu: the same sums in AVX2 (the *-avxvnni.cc files are built without -mavxvnni).
    if constexpr (K == Kind::kU8Dpbusd) {
      acc = _mm256_add_epi32(acc, dpbusd_products(a, w));
    } else {
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(a, w));  // vpdpwssd: the same sum, modulo 2^32
    }
#elif defined(__AVXVNNI__)
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

// ---------------------------------------------------------------------------------------------
// Widened panels (avx2): operands converted to int16 once per call, interleaved so that one k-pair
// of R rows is R consecutive dwords.

// 8 k-pairs of R rows (v[r]: 8 dwords of int16 pairs) → R ymm in panel order: pair g of rows 0..R-1
// is R consecutive dwords (R = 4: two pairs per ymm; R = 8: one).
template <int R>
inline void transpose_pairs(const __m256i (&v)[R], __m256i (&o)[R]) {
  __m256i q[R / 4][4];  // 4×4 transposes within 128-bit lanes: q[i][g] = [pair g of rows 4i..4i+3 | pair g + 4]
#pragma GCC unroll 2
  for (int i = 0; i < R / 4; ++i) {
    const __m256i t0 = _mm256_unpacklo_epi32(v[4 * i], v[4 * i + 1]), t1 = _mm256_unpackhi_epi32(v[4 * i], v[4 * i + 1]);
    const __m256i t2 = _mm256_unpacklo_epi32(v[4 * i + 2], v[4 * i + 3]), t3 = _mm256_unpackhi_epi32(v[4 * i + 2], v[4 * i + 3]);
    q[i][0] = _mm256_unpacklo_epi64(t0, t2);
    q[i][1] = _mm256_unpackhi_epi64(t0, t2);
    q[i][2] = _mm256_unpacklo_epi64(t1, t3);
    q[i][3] = _mm256_unpackhi_epi64(t1, t3);
  }
  if constexpr (R == 4) {
    o[0] = _mm256_permute2x128_si256(q[0][0], q[0][1], 0x20);
    o[1] = _mm256_permute2x128_si256(q[0][2], q[0][3], 0x20);
    o[2] = _mm256_permute2x128_si256(q[0][0], q[0][1], 0x31);
    o[3] = _mm256_permute2x128_si256(q[0][2], q[0][3], 0x31);
  } else {
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      o[g] = _mm256_permute2x128_si256(q[0][g], q[1][g], 0x20);
      o[4 + g] = _mm256_permute2x128_si256(q[0][g], q[1][g], 0x31);
    }
  }
}

// pshufb controls: kTailShuffle + 16 − rem moves bytes [16 − rem, 16) of a vector to [0, rem) and
// zeroes the rest.
alignas(32) inline constexpr int8_t kTailShuffle[32] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                                        -128, -128, -128, -128, -128, -128, -128, -128,
                                                        -128, -128, -128, -128, -128, -128, -128, -128};

template <int R>
inline constexpr size_t kPackSlack = 7 * R * 4;

// dst[(g * R + r) * 2 + e] = src[r][2g + e] − z as int16 for r < rows and 2g + e < k, else 0;
// g < (k + 1) / 2. Src is uint8_t (z in [0, 255], so the difference fits int16) or int16_t (z = 0).
// R = 4 (A tiles) or 8 (u8u8 B blocks, the PackedLayout of 8 channels × k-pairs). Reads nothing
// outside the k elements of the `rows` rows. Writes up to kPackSlack<R> bytes of zeros past the end
// of dst (an unfinished group of 8 pairs): callers pack consecutive tiles in increasing order,
// which overwrites them, and keep that much room after the last one.
template <int R, typename Src>
inline void pack_pairs(const Src* src, size_t ld, size_t rows, size_t k, int32_t z, int16_t* dst) {
  static_assert(R == 4 || R == 8);
  constexpr bool kU8 = std::is_same_v<Src, uint8_t>;
  const __m256i zv = _mm256_set1_epi16(static_cast<int16_t>(z));
  size_t k0 = 0;
  for (; k0 + 16 <= k; k0 += 16) {  // 8 k-pairs per row: one ymm of 8 dwords
    __m256i v[R], o[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      if (static_cast<size_t>(r) >= rows) {
        v[r] = _mm256_setzero_si256();
      } else if constexpr (kU8) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + r * ld + k0));
        v[r] = _mm256_sub_epi16(_mm256_cvtepu8_epi16(bytes), zv);
      } else {
        v[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + r * ld + k0));
      }
    }
    transpose_pairs<R>(v, o);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + k0 * R) + i, o[i]);
  }
  if (k0 == k) return;
  if constexpr (kU8) {
    if (k >= 16) {  // the last 1..15 elements: a 16-byte load ending at k, shifted down by pshufb
      const size_t rem = k - k0;
      const __m128i shuffle = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kTailShuffle + 16 - rem));
      const __m256i inside = _mm256_cmpgt_epi16(_mm256_set1_epi16(static_cast<int16_t>(rem)),
                                                _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
      __m256i v[R], o[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        if (static_cast<size_t>(r) >= rows) {
          v[r] = _mm256_setzero_si256();
        } else {
          const __m128i bytes = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + r * ld + k - 16)), shuffle);
          v[r] = _mm256_and_si256(_mm256_sub_epi16(_mm256_cvtepu8_epi16(bytes), zv), inside);
        }
      }
      transpose_pairs<R>(v, o);  // whole vectors: up to 7 zero pairs past the tail (kPackSlack)
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + k0 * R) + i, o[i]);
      return;
    }
  }
  for (size_t g = k0 / 2; g < (k + 1) / 2; ++g) {
    for (size_t r = 0; r < static_cast<size_t>(R); ++r) {
      for (size_t e = 0; e < 2; ++e) {
        const bool inside = r < rows && 2 * g + e < k;
        dst[(g * R + r) * 2 + e] = inside ? static_cast<int16_t>(src[r * ld + 2 * g + e] - z) : int16_t{0};
      }
    }
  }
}

constexpr int kPanelMR = 4;  // rows per A tile of a panel

struct PanelTileArgs {
  size_t pairs;            // k-pairs (k rounded up to even, over 2)
  size_t tiles;            // consecutive A tiles (of 4 rows; the last may use fewer) run by one call
  const int16_t* a;        // first A tile: [pairs][4][2] int16 (pack_pairs<4>); the next at a + pairs * 8
  const int16_t* w;        // first weight block: [pairs][8][2] int16
  size_t block_stride;     // bytes between weight blocks
  const int32_t* init;     // initial accumulators: row r, column j at init[r * ld_init + j]; nullptr: 0
  size_t ld_init;          // 0 broadcasts one row (the bias) to every row
  uint32_t col_mask;       // 8 bits per block: columns that are loaded from init and stored
  int32_t* c;              // row 0, column 0 of the first tile
  size_t ldc;
};

// MR rows (of the 4 in each A tile) × NB blocks: per k-pair NB weight loads, MR dword broadcasts,
// MR·NB vpmaddwd + vpaddd. Products of int16 values with |A| <= 32767 (s16) or 255 (u8, or
// |A − z_a| <= 255 for Eq. 9) and |W| <= 255: pair sums are exact (vpmaddwd overflows only for
// two −32768·−32768 products).
template <int MR, int NB>
void panel_tile(const PanelTileArgs& t) {
  const int16_t* a = t.a;
  for (size_t tile = 0; tile < t.tiles; ++tile) {
    const size_t row0 = tile * kPanelMR;
    __m256i acc[MR][NB];
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) {
      const __m256i mask = lane_mask(t.col_mask >> (8 * j));  // not kept live: the k-loop needs the registers
#pragma GCC unroll 4
      for (int r = 0; r < MR; ++r) {
        acc[r][j] = t.init ? _mm256_maskload_epi32(t.init + (row0 + r) * t.ld_init + 8 * j, mask) : _mm256_setzero_si256();
      }
    }
    const auto* w = reinterpret_cast<const uint8_t*>(t.w);
    for (size_t g = 0; g < t.pairs; ++g) {
      __m256i wv[NB];
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) wv[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + j * t.block_stride));
      w += 32;
#pragma GCC unroll 4
      for (int r = 0; r < MR; ++r) {
        const __m256i av = _mm256_set1_epi32(load_dword(a + 2 * r, 4));
#pragma GCC unroll 4
        for (int j = 0; j < NB; ++j) acc[r][j] = multiply_add<Kind::kS16Madd>(acc[r][j], av, wv[j]);
      }
      a += 2 * kPanelMR;
    }
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) {
      const uint32_t bits = (t.col_mask >> (8 * j)) & 0xFF;
#pragma GCC unroll 4
      for (int r = 0; r < MR; ++r) {
        int32_t* dst = t.c + (row0 + r) * t.ldc + 8 * j;
        if (bits == 0xFF) {
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), acc[r][j]);
        } else {
          _mm256_maskstore_epi32(dst, lane_mask(bits), acc[r][j]);
        }
      }
    }
  }
}

using PanelTileFn = void (*)(const PanelTileArgs&);

// panel_tile<mr, nb> for mr in [1, 4], nb in [1, 2]: PanelTiles<>::kTable[mr - 1][nb - 1]. A template,
// like everything in this header, so that only the TUs that use it (compiled for their ISA) emit it.
template <int MR = kPanelMR, int NB = kNB>
struct PanelTiles {
  template <int Mr, int... C>
  static constexpr std::array<PanelTileFn, NB> cols(std::integer_sequence<int, C...>) {
    return {&panel_tile<Mr, C + 1>...};
  }
  template <int... R>
  static constexpr auto rows(std::integer_sequence<int, R...>) {
    return std::array<std::array<PanelTileFn, NB>, MR>{cols<R + 1>(std::make_integer_sequence<int, NB>())...};
  }
  static constexpr auto kTable = rows(std::make_integer_sequence<int, MR>());
};

// Stack budget of the A panel: 48 KiB holds 4-row tiles of 3072 k values (ViT-B fc2) and keeps the
// panel in L2 next to the weights. Deeper products fall back to linear_tiles.
constexpr size_t kPanelBytes = 49152;
constexpr size_t kMaxPanelPairs = kPanelBytes / (kPanelMR * 4);
constexpr size_t kMaxPanelRows = 128;  // rows per chunk: bounds the int32 buffer of the output stage

// The avx2 linear layer (Eq. 8 / Eq. 10): rows in chunks whose A panel fits kPanelBytes; per chunk,
// every group of 16 columns runs over all of the chunk's tiles (the weight block stays in L1/L2),
// then the output stage requantizes the chunk's rows × 16 columns in one call.
template <typename AElem>
void linear_panels(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out, size_t n_begin,
                   size_t n_end) {
  constexpr Kind kKind = std::is_same_v<AElem, uint8_t> ? Kind::kU8Widen : Kind::kS16Madd;
  const size_t pairs = (w.k() + 1) / 2;
  if (pairs > kMaxPanelPairs) return linear_tiles<kKind>(w, m, a, lda, out, n_begin, n_end);
  constexpr size_t kWidth = 8 * kNB;
  const PackedLayout& l = w.layout();
  const bool direct = out.raw && !out.accumulate;
  alignas(64) int16_t panel[(kPanelBytes + kPackSlack<kPanelMR>) / 2];
  alignas(32) int32_t chunk_acc[kMaxPanelRows * kWidth];
  const size_t tile_elems = pairs * kPanelMR * 2;
  const size_t chunk_rows = std::min(kMaxPanelRows, kPanelBytes / (tile_elems * 2) * kPanelMR);
  const AElem* rows_a = static_cast<const AElem*>(a);
  const size_t block_end = (n_end + 7) / 8;
  for (size_t r0 = 0; r0 < m; r0 += chunk_rows) {
    const size_t rows = std::min(chunk_rows, m - r0);
    for (size_t r = 0; r < rows; r += kPanelMR) {
      pack_pairs<kPanelMR>(rows_a + (r0 + r) * lda, lda, std::min<size_t>(kPanelMR, rows - r), w.k(), 0,
                           panel + r / kPanelMR * tile_elems);
    }
    for (size_t block = n_begin / 8; block < block_end; block += kNB) {
      const size_t nb = std::min<size_t>(kNB, block_end - block);
      const size_t n0 = block * 8;
      const size_t g_begin = std::max(n_begin, n0), g_end = std::min(n_end, n0 + 8 * nb);
      PanelTileArgs t;
      t.pairs = pairs;
      t.w = reinterpret_cast<const int16_t*>(static_cast<const uint8_t*>(l.weights) + block * l.block_stride);
      t.block_stride = l.block_stride;
      t.init = l.bias_eff + n0;
      t.ld_init = 0;
      t.col_mask = ((uint32_t{1} << (g_end - n0)) - 1) & ~((uint32_t{1} << (g_begin - n0)) - 1);
      for (size_t r = 0; r < rows;) {  // the full tiles in one call, then the rest
        const size_t mr = std::min<size_t>(kPanelMR, rows - r);
        t.tiles = mr == kPanelMR ? (rows - r) / kPanelMR : 1;
        t.a = panel + r / kPanelMR * tile_elems;
        if (direct) {
          t.c = static_cast<int32_t*>(out.data) + (r0 + r) * out.ld + n0;
          t.ldc = out.ld;
        } else {
          t.c = chunk_acc + r * kWidth;
          t.ldc = kWidth;
        }
        PanelTiles<>::kTable[mr - 1][nb - 1](t);
        r += t.tiles * kPanelMR;
      }
      if (!direct) output_stage__avx2(out, r0, rows, g_begin, g_end, chunk_acc + (g_begin - n0), kWidth, nullptr);
    }
  }
}

}  // namespace
}  // namespace intvit::gemm::avx2
