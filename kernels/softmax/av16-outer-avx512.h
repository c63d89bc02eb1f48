// AVX-512 attn@v with 16-bit probabilities (QUANTIZATION.md Eq. 23b) in GEMM outer-product form,
// shared by av16-avx512.cc (vpmaddwd + vpaddd, AVX512-BW) and av16-avx512vnni.cc (vpdpwssd), and
// by their fused twins av16-u8-avx512{,vnni}.cc (Eq. 23c: v packed from its token-major rows by
// pack_v_rows, Eq. 11 as the tile's epilogue through the GEMM output stage of requant-avx512.h).
//
// v_t ([n][k] u8) is packed per call, 64 columns × up to 256 k at a time (32 KiB, on the stack, so
// it stays in L1 and the hot path allocates nothing), into k-pairs of int16: packed[q][c] holds
// (v[c][2q] - s, v[c][2q+1] - s) in one int32 lane. A micro-tile of 6 probability rows × 64 columns
// (24 accumulators) then broadcasts each row's pair (p[2q], p[2q+1]) and issues one multiply-add of
// pairs per accumulator, s16 × s16 summed into int32: exact, since p <= 32767 and |v - s| <= 32767
// make each pair sum < 2^31 (neither vpmaddwd's all -32768 case nor vpdpwssd's wrap can occur).
//
// The zero point (Eq. 23b): when v - z fits int16 for every v in [0, 255] (z in [-32512, 32767],
// every real model), s = z and the packed values already are v - z. Otherwise s = 0 and the tile
// starts from -z·Σ_k p (mod 2^32): the same integer as the reference's Σ p·(v - z) mod 2^32.
// Tails: k % 2 by a last half pair (p[k-1] broadcast to both halves, its partner packed as 0),
// k % 32 and n % 16 by masked loads and zero packing, n % 16 again by masked stores, m % 6 by
// smaller tiles. k > 256 runs in blocks, later blocks adding to acc.
#pragma once

#include "kernels/avx512-intrinsics.h"

#include "kernels/gemm/requant-avx512.h"
#include "kernels/softmax/av16-u8.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace intvit::av16_outer {
// Internal linkage on purpose: this header is compiled into files with different ISA flags, and a
// shared inline definition would let the linker pick the VNNI copy for the AVX512-BW caller.
namespace {

constexpr size_t kNr = 64;        // columns per packed block: 4 vectors of 16 int32 (ViT head_dim)
constexpr size_t kMr = 6;         // rows per tile: 6 × 4 accumulators + 4 packed v + 1 broadcast
constexpr size_t kKc = 256;       // k per packed block: 128 pairs × 64 × 4 B = 32 KiB
constexpr int32_t kFoldMin = 255 - 32767;  // z range whose v - z fits int16 for all v in [0, 255]
constexpr int32_t kFoldMax = 32767;

inline __mmask32 first_lanes32(size_t n) { return n >= 32 ? ~__mmask32{0} : (__mmask32{1} << n) - 1; }
inline __mmask16 first_lanes16(size_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

// r[i][j] -> r[j][i] for 16 vectors of 16 int32.
inline void transpose16x16_epi32(__m512i r[16]) {
  __m512i a[16], b[16];
  for (int i = 0; i < 16; i += 2) {
    a[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    a[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  // b[4g + c], 128-bit lane L: rows 4g..4g+3 of column 4L + c.
  for (int g = 0; g < 16; g += 4) {
    b[g] = _mm512_unpacklo_epi64(a[g], a[g + 2]);
    b[g + 1] = _mm512_unpackhi_epi64(a[g], a[g + 2]);
    b[g + 2] = _mm512_unpacklo_epi64(a[g + 1], a[g + 3]);
    b[g + 3] = _mm512_unpackhi_epi64(a[g + 1], a[g + 3]);
  }
  for (int c = 0; c < 4; ++c) {
    const __m512i lo0 = _mm512_shuffle_i32x4(b[c], b[4 + c], 0x44), hi0 = _mm512_shuffle_i32x4(b[c], b[4 + c], 0xEE);
    const __m512i lo1 = _mm512_shuffle_i32x4(b[8 + c], b[12 + c], 0x44), hi1 = _mm512_shuffle_i32x4(b[8 + c], b[12 + c], 0xEE);
    r[c] = _mm512_shuffle_i32x4(lo0, lo1, 0x88);
    r[4 + c] = _mm512_shuffle_i32x4(lo0, lo1, 0xDD);
    r[8 + c] = _mm512_shuffle_i32x4(hi0, hi1, 0x88);
    r[12 + c] = _mm512_shuffle_i32x4(hi0, hi1, 0xDD);
  }
}

// packed[q][c] = (v_t[c][2q] - s, v_t[c][2q+1] - s) as int16 pairs for c < nc, 2q + 1 < kc; 0 past
// nc columns (up to the next 16) and past kc (up to the next 32 k, i.e. 16 pairs).
inline void pack_v(size_t nc, size_t kc, const uint8_t* v_t, size_t ld_v, int16_t s, int32_t* packed) {
  const __m512i sv = _mm512_set1_epi16(s);
  for (size_t g = 0; g < nc; g += 16) {
    for (size_t kk = 0; kk < kc; kk += 32) {
      const __mmask32 mk = first_lanes32(kc - kk);
      __m512i r[16];
      for (size_t c = 0; c < 16; ++c) {
        r[c] = g + c < nc ? _mm512_maskz_sub_epi16(mk, _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mk, v_t + (g + c) * ld_v + kk)), sv)
                          : _mm512_setzero_si512();
      }
      transpose16x16_epi32(r);
      for (size_t q = 0; q < 16; ++q) _mm512_store_si512(packed + (kk / 2 + q) * kNr + g, r[q]);
    }
  }
}

// packed[q][c] = (v[2q][c] - s, v[2q+1][c] - s) as int16 pairs from token-major v ([k][n], row
// stride ld_v) for c < nc, 2q < kc; the partner of an odd last k is 0 (the tile's half pair), and
// so is every pair of columns [nc, 64). A k-pair is two rows of v interleaved byte by byte
// (vpunpck{l,h}bw), its four 128-bit lanes put in column order (vpermt2q) and widened: no vᵀ.
inline void pack_v_rows(size_t nc, size_t kc, const uint8_t* v, size_t ld_v, int16_t s, int32_t* packed) {
  const __m512i sv = _mm512_set1_epi16(s);
  const __mmask64 cols = nc >= 64 ? ~__mmask64{0} : (__mmask64{1} << nc) - 1;
  __mmask32 both[4], first[4];  // int16 lanes that get v - s per 16 columns: both of a pair, or the first
  for (size_t g = 0; g < 4; ++g) {
    const size_t c = nc > 16 * g ? std::min<size_t>(16, nc - 16 * g) : 0;
    both[g] = first_lanes32(2 * c);
    first[g] = both[g] & 0x55555555u;
  }
  const __m512i lanes01 = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), lanes23 = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
  for (size_t q = 0; 2 * q < kc; ++q) {
    const bool pair = 2 * q + 1 < kc;
    const __m512i r0 = _mm512_maskz_loadu_epi8(cols, v + 2 * q * ld_v);
    const __m512i r1 = pair ? _mm512_maskz_loadu_epi8(cols, v + (2 * q + 1) * ld_v) : _mm512_setzero_si512();
    // 128-bit lane L of lo / hi: the byte pairs of columns 16L..16L+7 / 16L+8..16L+15.
    const __m512i lo = _mm512_unpacklo_epi8(r0, r1), hi = _mm512_unpackhi_epi8(r0, r1);
    const __m512i c01 = _mm512_permutex2var_epi64(lo, lanes01, hi), c23 = _mm512_permutex2var_epi64(lo, lanes23, hi);
    const __m512i w[4] = {_mm512_cvtepu8_epi16(_mm512_castsi512_si256(c01)), _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(c01, 1)),
                          _mm512_cvtepu8_epi16(_mm512_castsi512_si256(c23)), _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(c23, 1))};
    int32_t* dst = packed + q * kNr;
#pragma GCC unroll 4
    for (size_t g = 0; g < 4; ++g) _mm512_store_si512(dst + 16 * g, _mm512_maskz_sub_epi16(pair ? both[g] : first[g], w[g], sv));
  }
}

// Σ_k p (mod 2^32) of one row.
inline uint32_t row_sum(const uint16_t* p, size_t k) {
  const __m512i ones = _mm512_set1_epi16(1);
  __m512i s = _mm512_setzero_si512();
  for (size_t kk = 0; kk < k; kk += 32) s = _mm512_add_epi32(s, _mm512_madd_epi16(_mm512_maskz_loadu_epi16(first_lanes32(k - kk), p + kk), ones));
  const __m256i a = _mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64(s, 1));
  __m128i b = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  b = _mm_add_epi32(b, _mm_shuffle_epi32(b, 0x4E));
  b = _mm_add_epi32(b, _mm_shuffle_epi32(b, 0xB1));
  return static_cast<uint32_t>(_mm_cvtsi128_si32(b));
}

// acc + Σ over the 2 int16 pairs of each lane of p·w. Inline asm rather than the intrinsics (as in
// kernels/gemm/ukernel-avx512vnni.h): GCC 12 does not coalesce an intrinsic's accumulator with its
// result and moves the 24 accumulators through other registers and the stack on every k-step
// (measured: ~150 instead of ~310 GOPS); "+v" pins each to one register.
template <bool kVnni>
inline __m512i madd_pairs(__m512i acc, __m512i p, __m512i w) {
#if defined(INTVIT_AVX512_EMULATION)  // tests/avx512_emu: no asm there, the same instructions as intrinsics
  return kVnni ? _mm512_dpwssd_epi32(acc, p, w) : _mm512_add_epi32(acc, _mm512_madd_epi16(p, w));
#else
  if constexpr (kVnni) {
    __asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(p), "v"(w));
  } else {
    const __m512i prod = _mm512_madd_epi16(p, w);
    __asm__("vpaddd %1, %0, %0" : "+v"(acc) : "v"(prod));
  }
  return acc;
#endif
}

inline __m512i broadcast_pair(const uint16_t* p) {
  int32_t pair;
  std::memcpy(&pair, p, sizeof pair);
  return _mm512_set1_epi32(pair);
}

// Where a tile's accumulators go (row r of the tile, kNv vectors): av16's raw int32 store, whose
// last vector keeps the `last` lanes.
struct StoreS32 {
  int32_t* acc;
  size_t ld;
  __mmask16 last;
  template <size_t kNv>
  inline __attribute__((always_inline)) void row(size_t r, const __m512i (&a)[kNv]) const {
#pragma GCC unroll 4
    for (size_t v = 0; v < kNv; ++v) {
      if (v + 1 == kNv) {
        _mm512_mask_storeu_epi32(acc + r * ld + 16 * v, last, a[v]);
      } else {
        _mm512_storeu_si512(acc + r * ld + 16 * v, a[v]);
      }
    }
  }
};

// kMrT rows × 16·kNv columns over kc k of one packed block, stored through `out` (StoreS32 or
// av16_u8's requantizing StoreU8). init: the rows' start values (first block), or nullptr to
// start from src (earlier blocks' int32 sums, row stride ld_src; `last`: lanes of the last vector
// to load).
template <size_t kMrT, size_t kNv, bool kVnni, typename Out>
__attribute__((noinline)) void tile(size_t kc, const uint16_t* p, size_t ld_p, const int32_t* packed, const int32_t* init,
                                    const int32_t* src, size_t ld_src, __mmask16 last, const Out& out) {
  __m512i a[kMrT][kNv];
#pragma GCC unroll 8
  for (size_t r = 0; r < kMrT; ++r) {
#pragma GCC unroll 4
    for (size_t v = 0; v < kNv; ++v) {
      const __mmask16 mask = v + 1 == kNv ? last : __mmask16(0xFFFF);
      a[r][v] = init != nullptr ? _mm512_set1_epi32(init[r]) : _mm512_maskz_loadu_epi32(mask, src + r * ld_src + 16 * v);
    }
  }
  const size_t pairs = kc / 2;
  for (size_t q = 0; q < pairs; ++q) {
    const int32_t* pv = packed + q * kNr;
    __m512i w[kNv];
#pragma GCC unroll 4
    for (size_t v = 0; v < kNv; ++v) w[v] = _mm512_load_si512(pv + 16 * v);
#pragma GCC unroll 8
    for (size_t r = 0; r < kMrT; ++r) {
      const __m512i b = broadcast_pair(p + r * ld_p + 2 * q);
#pragma GCC unroll 4
      for (size_t v = 0; v < kNv; ++v) a[r][v] = madd_pairs<kVnni>(a[r][v], b, w[v]);
    }
  }
  if (kc % 2 != 0) {  // the last k alone: its packed partner is 0, so broadcasting p[k-1] twice is exact
    const int32_t* pv = packed + pairs * kNr;
    __m512i w[kNv];
#pragma GCC unroll 4
    for (size_t v = 0; v < kNv; ++v) w[v] = _mm512_load_si512(pv + 16 * v);
    // Unrolled like the main loop, so the accumulators stay in registers (a rolled loop indexes a[r]
    // and GCC keeps the whole tile in memory around it).
#pragma GCC unroll 8
    for (size_t r = 0; r < kMrT; ++r) {
      const __m512i b = _mm512_set1_epi16(static_cast<int16_t>(p[r * ld_p + kc - 1]));
#pragma GCC unroll 4
      for (size_t v = 0; v < kNv; ++v) a[r][v] = madd_pairs<kVnni>(a[r][v], b, w[v]);
    }
  }
#pragma GCC unroll 8
  for (size_t r = 0; r < kMrT; ++r) out.row(r, a[r]);
}

template <size_t kMrT, bool kVnni>
void tile_nv(size_t nv, size_t kc, const uint16_t* p, size_t ld_p, const int32_t* packed, const int32_t* init, int32_t* acc,
             size_t ld_acc, __mmask16 last) {
  const StoreS32 out{acc, ld_acc, last};
  switch (nv) {
    case 1: return tile<kMrT, 1, kVnni>(kc, p, ld_p, packed, init, acc, ld_acc, last, out);
    case 2: return tile<kMrT, 2, kVnni>(kc, p, ld_p, packed, init, acc, ld_acc, last, out);
    case 3: return tile<kMrT, 3, kVnni>(kc, p, ld_p, packed, init, acc, ld_acc, last, out);
    default: return tile<kMrT, 4, kVnni>(kc, p, ld_p, packed, init, acc, ld_acc, last, out);
  }
}

// av16_u8's epilogue: Eq. 11 on a tile row's 64 accumulators through the AVX-512 output stage S
// (requant-avx512.h, a per-tensor u8 Stage), so the bytes are those requantize() stores; `bytes`:
// the columns to store.
template <typename S>
struct StoreU8 {
  const S& stage;
  const gemm::avx512::ColumnConsts* c;  // [4], all the same (per tensor)
  uint8_t* out;
  size_t ld;
  __mmask64 bytes;
  template <size_t kNv>
  inline __attribute__((always_inline)) void row(size_t r, const __m512i (&a)[kNv]) const {
    static_assert(kNv == 4, "av16_u8 tiles are 64 columns wide");
    uint8_t* dst = out + r * ld;
    if constexpr (S::kRowStore) {  // the byte_clamp plan: shift >= 1, z in [0, 255]
      _mm512_mask_storeu_epi8(dst, bytes, stage.row_u8(a, c));
    } else {
#pragma GCC unroll 4
      for (size_t v = 0; v < 4; ++v) stage.store(a[v], c[0], dst + 16 * v, static_cast<__mmask16>(bytes >> (16 * v)));
    }
  }
};

constexpr size_t kLanes = 16;  // int32 lanes per vector
constexpr size_t kPackAlign = 64;
inline __mmask16 last_lanes(size_t n) { return first_lanes16(n); }

#include "kernels/softmax/av16-outer-driver.h"

// Runs drive(u8_out) with av16_u8's requantizing store: the output plan of requantize() for
// {M, shift, z_out, [0, 255]} picks the Stage, and u8_out(dst, nc) is the StoreU8 of columns [0, nc)
// at dst (row stride ld_out) that every tile's epilogue runs.
template <typename Drive>
void with_u8_store(size_t n, const Av16Requant& rq, uint8_t* out, size_t ld_out, const Drive& drive) {
  const RequantParams params{&rq.multiplier, &rq.shift, false, rq.zero_point, 0, 255};
  const gemm::OutputPlan plan = gemm::make_output_plan(GemmOutput{out, ld_out, GemmOut::kU8, &params, false}, 0, n);
  const auto run = [&]<typename S>() {
    const S stage(plan);
    const gemm::avx512::ColumnConsts c0 = stage.columns(0, 0xFFFF);
    const gemm::avx512::ColumnConsts c[4] = {c0, c0, c0, c0};
    drive([&](uint8_t* dst, size_t nc) { return StoreU8<S>{stage, c, dst, ld_out, nc >= 64 ? ~__mmask64{0} : (__mmask64{1} << nc) - 1}; });
  };
  using gemm::avx512::Stage;
  if (plan.byte_clamp) return run.template operator()<Stage<GemmOut::kU8, false, false, false, false, true, false>>();
  if (plan.any_left_shift) return run.template operator()<Stage<GemmOut::kU8, false, false, false, true>>();
  run.template operator()<Stage<GemmOut::kU8, false, false, false, false>>();  // shift 0, or a z the byte clamp cannot take
}

// av16_u8 (Eq. 23c) on this width in the pair form.
template <bool kVnni>
void av16_u8(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v, int32_t v_zero_point,
             const Av16Requant& rq, uint8_t* out, size_t ld_out) {
  check_av16_u8_args(m, n, k, probs, ld_p, v, ld_v, rq, out, ld_out);
  if (m == 0 || n == 0) return;
  with_u8_store(n, rq, out, ld_out, [&](const auto& u8_out) {
    av16_u8_outer<kVnni>(m, n, k, probs, ld_p, v, ld_v, v_zero_point, out, ld_out, u8_out);
  });
}

}  // namespace
}  // namespace intvit::av16_outer
