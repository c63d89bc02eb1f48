// The AVX-512 VNNI register tile shared by the avx512vnni kernels (include only from *-avx512vnni.cc).
//
// MR rows × NB blocks of 16 output channels; each zmm accumulator holds 16 channels of one row.
// Per k-group a row's group of A (4 u8 for vpdpbusd, 2 s16 for vpdpwssd = one dword) is broadcast
// and multiplied with one zmm of packed weights per block: layout [block][k/KR][16][KR] (gemm.h
// PackedLayout), 64 bytes per block and group. Accumulation is int32 and wraps (vpdpbusd / vpdpwssd,
// never the saturating *s forms), so the result is Eq. 8 / Eq. 10 modulo 2^32 in any order.
#pragma once

#include "kernels/gemm/requant-avx512.h"  // first: it carries the immintrin.h pragma

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "kernels/gemm/gemm-kernels.h"

namespace intvit::gemm::avx512vnni {
// Internal linkage: the files including this header are compiled with different ISA flags, so
// external-linkage inline helpers could be merged across them by the linker (an ODR violation).
namespace {

struct TileArgs {
  size_t k;                   // depth, in elements of A
  const void* a;              // row 0 of the tile (uint8 or int16)
  size_t lda;                 // in elements
  const void* w;              // the first block of the tile
  size_t block_stride;        // bytes between blocks
  const int32_t* init;        // initial accumulators: row r, column j at init[r * ld_init + j]
  size_t ld_init;             // 0 broadcasts one row (the bias) to every row
  const int32_t* row_add;     // nullable: added to every column of row r
  uint64_t col_mask;          // 16 bits per block: columns that are loaded from init and stored
  int32_t* c;                 // row 0, column 0 of the tile
  size_t ldc;
};

// acc += Σ a·w over each dword's group. Inline asm rather than the intrinsic: GCC 12 does not
// coalesce the intrinsic's accumulator with its result and shuffles (or spills) the 16
// accumulators through other registers on every k step; "+v" pins each to one register.
template <bool kS16>
inline __m512i multiply_add(__m512i acc, __m512i a, __m512i w) {
#if defined(INTVIT_AVX512_EMULATION)  // tests/avx512_emu: no asm there, the same instruction as an intrinsic
  return kS16 ? _mm512_dpwssd_epi32(acc, a, w) : _mm512_dpbusd_epi32(acc, a, w);
#else
  if constexpr (kS16) {
    __asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(w));
  } else {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(w));
  }
  return acc;
#endif
}

// acc[r][j] = init (+ row_add[r]): the bias (Eq. 8 bracket / Eq. 10 bias) or partial sums.
template <int MR, int NB>
inline __attribute__((always_inline)) void load_init(__m512i (&acc)[MR][NB], const TileArgs& t) {
#pragma GCC unroll 4
  for (int j = 0; j < NB; ++j) {
    const __mmask16 mask = static_cast<__mmask16>(t.col_mask >> (16 * j));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      acc[r][j] = _mm512_maskz_loadu_epi32(mask, t.init + r * t.ld_init + 16 * j);
      if (t.row_add) acc[r][j] = _mm512_add_epi32(acc[r][j], _mm512_set1_epi32(t.row_add[r]));
    }
  }
}

// One k-group (4 u8 or 2 s16 per dword) of the tile product: acc += A[rows, group] · W[group, blocks].
// kS16: A is int16 and the product vpdpwssd, else A is uint8 and vpdpbusd. `valid` < the group size
// reads only that many elements of A (the last, partial group; the packed weights are zero there).
template <int MR, int NB, bool kS16, bool kPartial = false>
inline __attribute__((always_inline)) void k_step(__m512i (&acc)[MR][NB], const TileArgs& t, size_t g,
                                                  size_t valid = 0) {
  constexpr size_t kGroup = kS16 ? 2 : 4;
  using AElem = std::conditional_t<kS16, int16_t, uint8_t>;
  const int8_t* w = static_cast<const int8_t*>(t.w) + g * 64;
  const AElem* a = static_cast<const AElem*>(t.a) + g * kGroup;
  __m512i wv[NB];
#pragma GCC unroll 4
  for (int j = 0; j < NB; ++j) wv[j] = _mm512_loadu_si512(w + j * t.block_stride);
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    int32_t group = 0;
    if constexpr (kPartial) {
      std::memcpy(&group, a + r * t.lda, valid * sizeof(AElem));
    } else {
      std::memcpy(&group, a + r * t.lda, 4);
    }
    const __m512i av = _mm512_set1_epi32(group);
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) acc[r][j] = multiply_add<kS16>(acc[r][j], av, wv[j]);
  }
}

// buf (the 16 accumulators of a 4 × 64 tile, row r, block j at buf[4r + j]) = src (same layout;
// may be buf) + A[4 rows, k-groups [0, groups)] · W[those groups, 4 blocks], groups >= 1, as one
// asm loop over fixed registers:
// accumulators zmm0-15, weights zmm16-19, A broadcasts zmm20-23. With intrinsics in a C++ loop
// GCC 12 keeps some accumulators in other registers across the back edge and copies 2-4 of them
// (vmovdqa64, a vector-port uop each) on every k-step, next to 16 vpdpbusd; the asm has none.
// A group is 4 bytes of each A row (4 u8 or 2 s16), 64 bytes of each weight block.
template <bool kS16>
inline __attribute__((always_inline)) void k_loop_4x64(const __m512i* src, __m512i* buf, const TileArgs& t, size_t groups) {
#if defined(INTVIT_AVX512_EMULATION)  // tests/avx512_emu: no asm there; the same loop in k_steps
  __m512i acc[4][4];
  for (int e = 0; e < 16; ++e) acc[e / 4][e % 4] = src[e];
  for (size_t g = 0; g < groups; ++g) k_step<4, 4, kS16>(acc, t, g);
  for (int e = 0; e < 16; ++e) buf[e] = acc[e / 4][e % 4];
#else
  const uint8_t* w = static_cast<const uint8_t*>(t.w);
  const uint8_t* a = static_cast<const uint8_t*>(t.a);
  const size_t lda = t.lda * (kS16 ? 2 : 1), lda3 = 3 * lda, bs = t.block_stride, bs3 = 3 * bs;
  size_t n = groups;
#define INTVIT_K_LOOP_4X64(OP)                                                                       \
  __asm__ volatile("vmovdqa64 0(%[src]), %%zmm0\n\t" \
      "vmovdqa64 64(%[src]), %%zmm1\n\t" \
      "vmovdqa64 128(%[src]), %%zmm2\n\t" \
      "vmovdqa64 192(%[src]), %%zmm3\n\t" \
      "vmovdqa64 256(%[src]), %%zmm4\n\t" \
      "vmovdqa64 320(%[src]), %%zmm5\n\t" \
      "vmovdqa64 384(%[src]), %%zmm6\n\t" \
      "vmovdqa64 448(%[src]), %%zmm7\n\t" \
      "vmovdqa64 512(%[src]), %%zmm8\n\t" \
      "vmovdqa64 576(%[src]), %%zmm9\n\t" \
      "vmovdqa64 640(%[src]), %%zmm10\n\t" \
      "vmovdqa64 704(%[src]), %%zmm11\n\t" \
      "vmovdqa64 768(%[src]), %%zmm12\n\t" \
      "vmovdqa64 832(%[src]), %%zmm13\n\t" \
      "vmovdqa64 896(%[src]), %%zmm14\n\t" \
      "vmovdqa64 960(%[src]), %%zmm15\n\t" \
      "1:\n\t" \
      "vmovdqu64 (%[w]), %%zmm16\n\t" \
      "vmovdqu64 (%[w],%[bs],1), %%zmm17\n\t" \
      "vmovdqu64 (%[w],%[bs],2), %%zmm18\n\t" \
      "vmovdqu64 (%[w],%[bs3],1), %%zmm19\n\t" \
      "vpbroadcastd (%[a]), %%zmm20\n\t" \
      "vpbroadcastd (%[a],%[lda],1), %%zmm21\n\t" \
      "vpbroadcastd (%[a],%[lda],2), %%zmm22\n\t" \
      "vpbroadcastd (%[a],%[lda3],1), %%zmm23\n\t" \
      OP " %%zmm16, %%zmm20, %%zmm0\n\t" OP " %%zmm17, %%zmm20, %%zmm1\n\t" OP " %%zmm18, %%zmm20, %%zmm2\n\t" OP " %%zmm19, %%zmm20, %%zmm3\n\t" \
      OP " %%zmm16, %%zmm21, %%zmm4\n\t" OP " %%zmm17, %%zmm21, %%zmm5\n\t" OP " %%zmm18, %%zmm21, %%zmm6\n\t" OP " %%zmm19, %%zmm21, %%zmm7\n\t" \
      OP " %%zmm16, %%zmm22, %%zmm8\n\t" OP " %%zmm17, %%zmm22, %%zmm9\n\t" OP " %%zmm18, %%zmm22, %%zmm10\n\t" OP " %%zmm19, %%zmm22, %%zmm11\n\t" \
      OP " %%zmm16, %%zmm23, %%zmm12\n\t" OP " %%zmm17, %%zmm23, %%zmm13\n\t" OP " %%zmm18, %%zmm23, %%zmm14\n\t" OP " %%zmm19, %%zmm23, %%zmm15\n\t" \
      "add $64, %[w]\n\t" \
      "add $4, %[a]\n\t" \
      "dec %[n]\n\t" \
      "jnz 1b\n\t" \
      "vmovdqa64 %%zmm0, 0(%[buf])\n\t" \
      "vmovdqa64 %%zmm1, 64(%[buf])\n\t" \
      "vmovdqa64 %%zmm2, 128(%[buf])\n\t" \
      "vmovdqa64 %%zmm3, 192(%[buf])\n\t" \
      "vmovdqa64 %%zmm4, 256(%[buf])\n\t" \
      "vmovdqa64 %%zmm5, 320(%[buf])\n\t" \
      "vmovdqa64 %%zmm6, 384(%[buf])\n\t" \
      "vmovdqa64 %%zmm7, 448(%[buf])\n\t" \
      "vmovdqa64 %%zmm8, 512(%[buf])\n\t" \
      "vmovdqa64 %%zmm9, 576(%[buf])\n\t" \
      "vmovdqa64 %%zmm10, 640(%[buf])\n\t" \
      "vmovdqa64 %%zmm11, 704(%[buf])\n\t" \
      "vmovdqa64 %%zmm12, 768(%[buf])\n\t" \
      "vmovdqa64 %%zmm13, 832(%[buf])\n\t" \
      "vmovdqa64 %%zmm14, 896(%[buf])\n\t" \
      "vmovdqa64 %%zmm15, 960(%[buf])\n\t" \
      : [w] "+r"(w), [a] "+r"(a), [n] "+r"(n)                                                         \
      : [src] "r"(src), [buf] "r"(buf), [lda] "r"(lda), [lda3] "r"(lda3), [bs] "r"(bs), [bs3] "r"(bs3)                \
      : "zmm0", "zmm1", "zmm2", "zmm3", "zmm4", "zmm5", "zmm6", "zmm7", "zmm8", "zmm9", "zmm10",      \
        "zmm11", "zmm12", "zmm13", "zmm14", "zmm15", "zmm16", "zmm17", "zmm18", "zmm19", "zmm20",     \
        "zmm21", "zmm22", "zmm23", "cc", "memory")
  if constexpr (kS16) {
    INTVIT_K_LOOP_4X64("vpdpwssd");
  } else {
    INTVIT_K_LOOP_4X64("vpdpbusd");
  }
#undef INTVIT_K_LOOP_4X64
#endif
}

// acc += A[rows, 0:k] · W[0:k, block columns].
template <int MR, int NB, bool kS16>
inline __attribute__((always_inline)) void accumulate(__m512i (&acc)[MR][NB], const TileArgs& t) {
  constexpr size_t kGroup = kS16 ? 2 : 4;
  const size_t groups = t.k / kGroup;
  size_t g = 0;
  if constexpr (MR * NB <= 4) {
    // Thin tiles (edge rows / columns) have too few accumulator chains to cover vpdpbusd's
    // latency; a second set for odd k-steps doubles them (the sum is the same modulo 2^32).
    __m512i odd[MR][NB];
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) odd[r][j] = _mm512_setzero_si512();
    for (; g + 2 <= groups; g += 2) {
      k_step<MR, NB, kS16>(acc, t, g);
      k_step<MR, NB, kS16>(odd, t, g + 1);
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_add_epi32(acc[r][j], odd[r][j]);
  }
  for (; g < groups; ++g) k_step<MR, NB, kS16>(acc, t, g);
  if (const size_t rem = t.k % kGroup; rem != 0) k_step<MR, NB, kS16, true>(acc, t, groups, rem);
}

// Any tile shape: the int32 sums go to t.c (the output itself, or a buffer for the output stage).
template <int MR, int NB, bool kS16>
void dot_tile(const TileArgs& t) {
  __m512i acc[MR][NB];
  load_init(acc, t);
  accumulate<MR, NB, kS16>(acc, t);
#pragma GCC unroll 4
  for (int j = 0; j < NB; ++j) {
    const __mmask16 mask = static_cast<__mmask16>(t.col_mask >> (16 * j));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) _mm512_mask_storeu_epi32(t.c + r * t.ldc + 16 * j, mask, acc[r][j]);
  }
}

// `tiles` consecutive full 4 × 16·NB tiles (rows row0.., columns n0..) with the output stage
// software-pipelined: tile i's accumulators are parked in a buffer and requantized (or just
// stored) one unit at a time — a row of 64 for row-packing stages, else one vector — spread evenly
// over the k-steps of tile i + 1, so that the output work runs in the shadow of vpdpbusd. Measured
// on Zen 5: as a burst between tiles ~12 % slower at K = 192; crowded into the first k-steps ~5 %
// slower at K = 768. Unit destinations are precomputed per tile to keep scalar work out of the
// k-steps (a compile-time unrolled schedule made GCC 12 spill heavily). `consts`: the Eq. 7
// constants of the NB column blocks. Columns outside t.col_mask are not stored.
template <bool kS16, typename S, int NB = 4>
void fused_rows(TileArgs t, size_t tiles, const OutputPlan& plan, const avx512::ColumnConsts* consts, size_t row0,
                size_t n0) {
  constexpr int MR = 4;
  constexpr bool kRows = S::kRowStore && NB == 4;
  constexpr int kUnits = kRows ? MR : MR * NB;
  constexpr size_t kGroup = kS16 ? 2 : 4;
  const S stage(plan);
  alignas(64) __m512i parked[MR * NB];
  uint8_t* dst[kUnits];  // where unit e of the parked tile goes
  const size_t groups = t.k / kGroup, rem = t.k % kGroup;
  const size_t spacing = groups / (kUnits + 1) > 1 ? groups / (kUnits + 1) : 1;  // spread over the whole K loop
  const size_t a_step = MR * t.lda * (kS16 ? 2 : 1);
  const size_t row_bytes = plan.ld * S::kElemBytes;
  const auto aim = [&](size_t tile) {
    uint8_t* const base = stage.at(row0 + tile * MR, n0);
    for (int e = 0; e < kUnits; ++e) {
      dst[e] = kRows ? base + e * row_bytes : base + (e / NB) * row_bytes + (e % NB) * 16 * S::kElemBytes;
    }
  };
  // Columns outside t.col_mask (a partial last block) are not stored; row stores need all 64.
  const bool full_width = t.col_mask == (NB == 4 ? ~uint64_t{0} : (uint64_t{1} << (16 * NB)) - 1);
  const auto finish = [&](int e) {
    if constexpr (kRows) {
      const __m512i(&row)[NB] = *reinterpret_cast<const __m512i(*)[NB]>(&parked[e * NB]);
      stage.store_row(row, consts, dst[e]);
    } else if (full_width) {
      stage.template store<true>(parked[e], consts[e % NB], dst[e]);
    } else {
      stage.store(parked[e], consts[e % NB], dst[e], static_cast<__mmask16>(t.col_mask >> (16 * (e % NB))));
    }
  };
  for (size_t i = 0; i < tiles; ++i) {
    __m512i acc[MR][NB];
    load_init(acc, t);
    size_t g = 0;
    if (i > 0) {
      aim(i - 1);
      int e = 0;
      for (size_t next = 0; g < groups && e < kUnits; ++g) {
        k_step<MR, NB, kS16>(acc, t, g);
        if (g == next) {
          finish(e++);
          next += spacing;
        }
      }
      for (; e < kUnits; ++e) finish(e);  // K too short to hide them all
    }
    for (; g < groups; ++g) k_step<MR, NB, kS16>(acc, t, g);
    if (rem != 0) k_step<MR, NB, kS16, true>(acc, t, groups, rem);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) parked[r * NB + j] = acc[r][j];
    t.a = static_cast<const uint8_t*>(t.a) + a_step;
    t.init += MR * t.ld_init;
    if (t.row_add) t.row_add += MR;
  }
  aim(tiles - 1);
  for (int e = 0; e < kUnits; ++e) finish(e);
}
using FusedRowsFn = void (*)(TileArgs, size_t, const OutputPlan&, const avx512::ColumnConsts*, size_t, size_t);

// The next column group's weights: its blocks are contiguous, `bytes` from `data` (null: none).
struct NextPanel {
  const uint8_t* data = nullptr;
  size_t bytes = 0;
};

// `tiles` consecutive full 4 × 64 tiles (rows row0.., columns n0..n0+63, all stored) with the
// output stage: the k-loop of each tile is k_loop_4x64, then the stage requantizes and stores the
// tile from the buffer — a burst that the out-of-order core overlaps with the next tile's k-loop
// (on this Xeon as fast as spreading it over the k-steps, fused_rows, and without its register
// copies). Either way the stage costs about (its zmm ALU uops) / 2 cycles per tile on the Xeon:
// with 512-bit uops in flight only ports 0 and 5 run vector ALU ops, and vpdpbusd keeps both busy
// (K = 192: 384 cycles of vpdpbusd, ~+26 for the loop and buffers, +~95 for the u8 stage, +~160
// for the int32 residual stage before its deferred saturation; QUANTIZATION.md §3.5).
// Precondition: t.ld_init == 0 and t.row_add == nullptr (every tile starts from the bias row).
// Before each k-loop an even share of `next` is prefetched into L2 (not L1: that holds this
// panel and A), so it is there when the next group starts. In a whole forward every linear's
// weights come from L3 (6.35 MB per ViT-Ti image, 2 MB of L2): measured on the Xeon 6/207 host,
// ViT-Ti batch 1 linear GOPS +2–4 % (1 and 2 threads), batch 8 +0–1 % (reused over 394 tiles).
// A kernel bench that repeats one call has its weights in L1/L2 and sees only the cost (note 16
// measured that there). Prefetching the output rows for writing, or the next linear's first
// group, measured no gain.
template <bool kS16, typename S>
void tiles_4x64(TileArgs t, size_t tiles, const OutputPlan& plan, const avx512::ColumnConsts* consts, size_t row0, size_t n0,
                NextPanel next) {
  constexpr int MR = 4, NB = 4;
  constexpr size_t kGroup = kS16 ? 2 : 4;
  const S stage(plan);
  alignas(64) __m512i buf[MR * NB];
  // Every tile starts from the bias row (t.ld_init == 0, no t.row_add: linear_tiles' tiles), so
  // its 4 × 64 start values are loaded once per call, not masked and copied per tile.
  alignas(64) __m512i start[MR * NB];
  {
    __m512i acc[MR][NB];
    load_init(acc, t);
#pragma GCC unroll 16
    for (int e = 0; e < MR * NB; ++e) start[e] = acc[e / NB][e % NB];
  }
  const size_t groups = t.k / kGroup, rem = t.k % kGroup;
  const size_t a_step = MR * t.lda * (kS16 ? 2 : 1);
  const size_t row_bytes = plan.ld * S::kElemBytes;
  const size_t next_lines = (next.bytes + 63) / 64, lines_per_tile = (next_lines + tiles - 1) / tiles;
  for (size_t i = 0, line = 0; i < tiles; ++i) {
    for (const size_t end = line + lines_per_tile < next_lines ? line + lines_per_tile : next_lines; line < end; ++line) {
      _mm_prefetch(reinterpret_cast<const char*>(next.data + line * 64), _MM_HINT_T1);
    }
    __m512i acc[MR][NB];
    if (groups != 0) {
      k_loop_4x64<kS16>(start, buf, t, groups);
    } else {
#pragma GCC unroll 16
      for (int e = 0; e < MR * NB; ++e) buf[e] = start[e];
    }
    if (rem != 0) {
#pragma GCC unroll 16
      for (int e = 0; e < MR * NB; ++e) acc[e / NB][e % NB] = buf[e];
      k_step<MR, NB, kS16, true>(acc, t, groups, rem);
#pragma GCC unroll 16
      for (int e = 0; e < MR * NB; ++e) buf[e] = acc[e / NB][e % NB];
    }
    uint8_t* const base = stage.at(row0 + i * MR, n0);
    if constexpr (S::kDeferredSaturation) {
      __m512i wrapped = _mm512_setzero_si512();
#pragma GCC unroll 16
      for (int e = 0; e < MR * NB; ++e) {
        stage.store_wrapping(buf[e], consts[e % NB], base + (e / NB) * row_bytes + (e % NB) * 16 * S::kElemBytes, wrapped);
      }
      if (_mm512_movepi32_mask(wrapped) != 0) [[unlikely]] {
        for (int e = 0; e < MR * NB; ++e) {
          stage.resaturate(buf[e], consts[e % NB], base + (e / NB) * row_bytes + (e % NB) * 16 * S::kElemBytes);
        }
      }
    } else {
#pragma GCC unroll 4
      for (int r = 0; r < MR; ++r) {
        if constexpr (S::kRowStore) {
          const __m512i(&row)[NB] = *reinterpret_cast<const __m512i(*)[NB]>(&buf[r * NB]);
          stage.store_row(row, consts, base + r * row_bytes);
        } else {
#pragma GCC unroll 4
          for (int j = 0; j < NB; ++j) stage.template store<true>(buf[r * NB + j], consts[j], base + r * row_bytes + j * 16 * S::kElemBytes);
        }
      }
    }
    t.a = static_cast<const uint8_t*>(t.a) + a_step;
  }
}

using DotTileFn = void (*)(const TileArgs&);
using TilesFn = void (*)(TileArgs, size_t, const OutputPlan&, const avx512::ColumnConsts*, size_t, size_t, NextPanel);

// linear_tiles' output stages: `tiles` for full-width 4 × 64 tile runs (Eq. 7 in the form kAbsSign
// picks, requant-avx512.h), `edge` for the rest (an int32 tile buffer through output_stage__avx512).
// A variant kernel passes its own (e.g. the byte table of qu8s8-gemm-4x64c4-avx512vnnivbmi.cc).
template <bool kAbsSign>
struct PlainStages {
  template <bool kS16>
  static TilesFn tiles(const OutputPlan& out) {
    return avx512::with_stage<true, kAbsSign>(out, []<typename S>() -> TilesFn { return tiles_4x64<kS16, S>; });
  }
  static void edge(const OutputPlan& out, size_t row0, size_t rows, size_t n_begin, size_t n_end, const int32_t* acc,
                   size_t ld_acc) {
    output_stage__avx512(out, row0, rows, n_begin, n_end, acc, ld_acc, nullptr);
  }
};

// dot_tile<mr, nb> for mr in [1, MR], nb in [1, NB]: kTable[mr - 1][nb - 1].
template <int MR, int NB, bool kS16>
struct DotTileTable {
  template <int... R>
  static constexpr auto rows(std::integer_sequence<int, R...>) {
    return std::array<std::array<DotTileFn, NB>, MR>{cols<R + 1>(std::make_integer_sequence<int, NB>())...};
  }
  template <int Mr, int... C>
  static constexpr std::array<DotTileFn, NB> cols(std::integer_sequence<int, C...>) {
    return {&dot_tile<Mr, C + 1, kS16>...};
  }
  static constexpr auto kTable = rows(std::make_integer_sequence<int, MR>());
};

constexpr int kMR = 4, kNB = 4;  // 4 rows × 64 channels: 16 accumulators + 4 weight vectors

// The linear layer (Eq. 8 / Eq. 10) over groups of 64 columns (weights of the group stay in L1
// while the row tiles stream past). Full-width groups with an output stage run through tiles_4x64;
// raw int32 results are stored straight from the tile; the remaining edge tiles go through a 4×64
// buffer and output_stage__avx512 (Stages: PlainStages or a variant's own).
template <bool kS16, typename Stages>
void linear_tiles(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out, size_t n_begin,
                  size_t n_end) {
  constexpr auto& kTable = DotTileTable<kMR, kNB, kS16>::kTable;
  const TilesFn fused = Stages::template tiles<kS16>(out);
  alignas(64) avx512::ColumnConsts consts[kNB];
  const PackedLayout& l = w.layout();
  const size_t a_bytes = kS16 ? 2 : 1;
  const bool direct = out.raw && !out.accumulate;  // raw => kS32
  alignas(64) int32_t tile[kMR * 16 * kNB];
  const size_t block_end = (n_end + 15) / 16;
  for (size_t block = n_begin / 16; block < block_end; block += kNB) {
    const size_t nb = block_end - block < kNB ? block_end - block : kNB;
    const size_t n0 = block * 16;
    const size_t g_begin = n_begin > n0 ? n_begin : n0, g_end = n_end < n0 + 16 * nb ? n_end : n0 + 16 * nb;
    const uint64_t col_mask = ((g_end - n0 == 64 ? 0 : uint64_t{1} << (g_end - n0)) - 1) & ~((uint64_t{1} << (g_begin - n0)) - 1);
    const bool full_width = col_mask == ~uint64_t{0};
    if (!direct && full_width && !out.raw) {
      for (size_t j = 0; j < kNB; ++j) consts[j] = avx512::column_consts_for(out, n0 + 16 * j);
    }
    const bool pipelined = !direct && full_width && m >= kMR;
    for (size_t r = 0; r < m; r += kMR) {
      const size_t mr = m - r < kMR ? m - r : kMR;
      if (pipelined && r + kMR <= m && r != 0) continue;  // done by the tiles_4x64 call at r == 0
      TileArgs t;
      t.k = w.k();
      t.a = static_cast<const uint8_t*>(a) + r * lda * a_bytes;
      t.lda = lda;
      t.w = static_cast<const uint8_t*>(l.weights) + block * l.block_stride;
      t.block_stride = l.block_stride;
      t.init = l.bias_eff + n0;
      t.ld_init = 0;
      t.row_add = nullptr;
      t.col_mask = col_mask;
      if (direct) {
        t.c = static_cast<int32_t*>(out.data) + r * out.ld + n0;
        t.ldc = out.ld;
      } else {
        t.c = tile;
        t.ldc = 16 * kNB;
      }
      if (pipelined && r == 0) {
        NextPanel next;
        if (block + kNB < block_end) {
          next.data = static_cast<const uint8_t*>(l.weights) + (block + kNB) * l.block_stride;
          next.bytes = (block_end - block - kNB < kNB ? block_end - block - kNB : kNB) * l.block_stride;
        }
        fused(t, m / kMR, out, consts, 0, n0, next);
      } else {
        kTable[mr - 1][nb - 1](t);
        if (!direct) Stages::edge(out, r, mr, g_begin, g_end, tile + (g_begin - n0), 16 * kNB);
      }
    }
  }
}

// linear_tiles with Stages<kAbsSign> (PlainStages or a variant's) in the form of Eq. 7 that
// gemm::avx512_stage_abs_sign() picks for this CPU.
template <bool kS16, template <bool> class Stages>
void linear_tiles_cpu_form(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out, size_t n_begin,
                           size_t n_end) {
  if (avx512_stage_abs_sign()) return linear_tiles<kS16, Stages<true>>(w, m, a, lda, out, n_begin, n_end);
  linear_tiles<kS16, Stages<false>>(w, m, a, lda, out, n_begin, n_end);
}

}  // namespace
}  // namespace intvit::gemm::avx512vnni
