// AVX2 attn@v with 16-bit probabilities (QUANTIZATION.md Eq. 23b) in the outer-product form of
// av16-outer-avx512.h on 8-lane vectors, shared by av16-avx2.cc (vpmaddwd + vpaddd) and
// av16-avxvnni.cc (vpdpwssd), and by their fused twins av16-u8-{avx2,avxvnni}.cc (Eq. 23c: v
// packed from its token-major rows by pack_v_rows, Eq. 11 as the tile's epilogue).
//
// v_t ([n][k] u8) is packed per call, 16 columns × up to 256 k at a time (8 KiB on the stack), into
// k-pairs of int16: packed[q][c] = (v[c][2q] - s, v[c][2q+1] - s) in one int32 lane. A tile of 6
// probability rows × 16 columns (12 accumulators + 2 packed v + 1 broadcast of the 16 registers;
// 12 chains cover vpdpwssd's latency, 8 did not: 131 -> 166 GOPS) broadcasts each row's pair
// (p[2q], p[2q+1]) and adds the pair sums (s16 × s16, exact: p <= 32767 and |v - s| <= 32767 give
// |sum| < 2^31). Zero point: s = z when v - z fits int16 for every v (z in [-32512, 32767]);
// otherwise s = 0 and the tile starts from -z·Σ_k p (mod 2^32), the same integer as the
// reference's. Tails: k % 2 by a last half pair (its packed partner is 0), k % 16 by zero-padded
// packing, n % 8 by masked loads and stores, m % 6 by smaller tiles; k > 256 in blocks, later
// blocks adding to acc.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/fixedpoint-avx2.h"
#include "kernels/softmax/av16-u8.h"

namespace intvit::av16_outer_avx2 {
// Internal linkage on purpose: this header is compiled into files with different ISA flags, and a
// shared inline definition would let the linker pick the AVX-VNNI copy for the AVX2 caller.
namespace {

using namespace fp_avx2;

constexpr size_t kNr = 16;  // columns per packed block (2 vectors)
constexpr size_t kMr = 6;   // rows per tile
constexpr size_t kKc = 256;  // k per packed block: 128 pairs × 16 × 4 B = 8 KiB
constexpr int32_t kFoldMin = 255 - 32767;  // z range whose v - z fits int16 for all v in [0, 255]
constexpr int32_t kFoldMax = 32767;

// Lanes [0, n) all ones (n <= 8 int32 lanes; n <= 16 int16 lanes).
inline __m256i first_lanes32(size_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline __m256i first_lanes16(size_t n) {
  return _mm256_cmpgt_epi16(_mm256_set1_epi16(static_cast<int16_t>(n)),
                            _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

// r[i][j] -> r[j][i] for 8 vectors of 8 int32.
inline void transpose8x8_epi32(__m256i r[8]) {
  __m256i t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int g = 0; g < 8; g += 4) {  // u[g + c], 128-bit lane L: rows g..g+3 of column 4L + c
    u[g] = _mm256_unpacklo_epi64(t[g], t[g + 2]);
    u[g + 1] = _mm256_unpackhi_epi64(t[g], t[g + 2]);
    u[g + 2] = _mm256_unpacklo_epi64(t[g + 1], t[g + 3]);
    u[g + 3] = _mm256_unpackhi_epi64(t[g + 1], t[g + 3]);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2x128_si256(u[c], u[4 + c], 0x20);
    r[4 + c] = _mm256_permute2x128_si256(u[c], u[4 + c], 0x31);
  }
}

// 16 v bytes from [v, v + count) (count <= 16; the rest 0) as int16 lanes minus s, 0 past count.
inline __m256i load_v16(const uint8_t* v, size_t count, __m256i sv) {
  if (count >= 16) return _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v))), sv);
  alignas(16) uint8_t buf[16] = {};
  std::memcpy(buf, v, count);
  const __m256i x = _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(buf))), sv);
  return _mm256_and_si256(x, first_lanes16(count));
}

// packed[q][c] = (v_t[c][2q] - s, v_t[c][2q+1] - s) for c < nc, 2q + 1 < kc; 0 past nc (up to
// the next 8 columns) and past kc (up to the next 16 k).
inline void pack_v(size_t nc, size_t kc, const uint8_t* v_t, size_t ld_v, int16_t s, int32_t* packed) {
  const __m256i sv = _mm256_set1_epi16(s);
  for (size_t g = 0; g < nc; g += 8) {
    for (size_t kk = 0; kk < kc; kk += 16) {
      __m256i r[8];
      for (size_t c = 0; c < 8; ++c) r[c] = g + c < nc ? load_v16(v_t + (g + c) * ld_v + kk, kc - kk, sv) : _mm256_setzero_si256();
      transpose8x8_epi32(r);
      for (size_t q = 0; q < 8; ++q) _mm256_store_si256(reinterpret_cast<__m256i*>(packed + (kk / 2 + q) * kNr + g), r[q]);
    }
  }
}

// packed[q][c] = (v[2q][c] - s, v[2q+1][c] - s) as int16 pairs from token-major v ([k][n], row
// stride ld_v) for c < nc, 2q < kc; the partner of an odd last k is 0 (the tile's half pair), and
// so is every pair of columns [nc, 16). A k-pair is two rows of v interleaved byte by byte
// (vpunpck{l,h}bw) and widened: no vᵀ.
inline void pack_v_rows(size_t nc, size_t kc, const uint8_t* v, size_t ld_v, int16_t s, int32_t* packed) {
  const __m256i sv = _mm256_set1_epi16(s);
  const __m256i both_lo = first_lanes16(2 * std::min<size_t>(nc, 8)), both_hi = first_lanes16(nc > 8 ? 2 * (nc - 8) : 0);
  const __m256i even = _mm256_set1_epi32(0xFFFF);  // the first int16 of each pair
  const auto row = [&](size_t kk) {
    if (nc >= 16) return _mm_loadu_si128(reinterpret_cast<const __m128i*>(v + kk * ld_v));
    alignas(16) uint8_t buf[16] = {};
    std::memcpy(buf, v + kk * ld_v, nc);
    return _mm_load_si128(reinterpret_cast<const __m128i*>(buf));
  };
  for (size_t q = 0; 2 * q < kc; ++q) {
    const bool pair = 2 * q + 1 < kc;
    const __m128i r0 = row(2 * q), r1 = pair ? row(2 * q + 1) : _mm_setzero_si128();
    const __m256i keep_lo = pair ? both_lo : _mm256_and_si256(both_lo, even), keep_hi = pair ? both_hi : _mm256_and_si256(both_hi, even);
    const __m256i lo = _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(r0, r1)), sv);  // columns 0..7
    const __m256i hi = _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_unpackhi_epi8(r0, r1)), sv);  // 8..15
    _mm256_store_si256(reinterpret_cast<__m256i*>(packed + q * kNr), _mm256_and_si256(lo, keep_lo));
    _mm256_store_si256(reinterpret_cast<__m256i*>(packed + q * kNr + 8), _mm256_and_si256(hi, keep_hi));
  }
}

// Σ_k p (mod 2^32) of one row.
inline uint32_t row_sum(const uint16_t* p, size_t k) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i s = _mm256_setzero_si256();
  size_t kk = 0;
  for (; kk + 16 <= k; kk += 16) s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + kk)), ones));
  if (kk < k) {
    alignas(32) uint16_t buf[16] = {};
    std::memcpy(buf, p + kk, (k - kk) * sizeof(uint16_t));
    s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(buf)), ones));
  }
  return reduce_add_wrap_epi32(s);
}

// acc + Σ over the 2 int16 pairs of each lane of p·w: vpdpwssd (AVX-VNNI, VEX-encoded) or
// vpmaddwd + vpaddd. Inline asm so that GCC keeps each accumulator in one register (with the
// intrinsics it copies them between registers on every k-step).
template <bool kVnni>
inline __m256i madd_pairs(__m256i acc, __m256i p, __m256i w) {
  if constexpr (kVnni) {
#if defined(INTVIT_AVXVNNI_EMULATION)  // tests/avx512_emu: vpdpwssd's sum (modulo 2^32) in AVX2
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, w));
#else
    __asm__("%{vex%} vpdpwssd %2, %1, %0" : "+x"(acc) : "x"(p), "x"(w));
#endif
  } else {
    const __m256i prod = _mm256_madd_epi16(p, w);
    __asm__("vpaddd %1, %0, %0" : "+x"(acc) : "x"(prod));
  }
  return acc;
}

inline __m256i broadcast_pair(const uint16_t* p) {
  int32_t pair;
  std::memcpy(&pair, p, sizeof pair);
  return _mm256_set1_epi32(pair);
}

// Where a tile's accumulators go (row r of the tile, kNv vectors): av16's raw int32 store, whose
// last vector keeps the `last` lanes.
struct StoreS32 {
  int32_t* acc;
  size_t ld;
  __m256i last;
  template <size_t kNv>
  inline __attribute__((always_inline)) void row(size_t r, const __m256i (&a)[kNv]) const {
    for (size_t v = 0; v < kNv; ++v) {
      int32_t* dst = acc + r * ld + 8 * v;
      if (v + 1 == kNv) {
        _mm256_maskstore_epi32(dst, last, a[v]);
      } else {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), a[v]);
      }
    }
  }
};

// kMrT rows × 8·kNv columns over kc k of one packed block, stored through `out` (StoreS32 or
// av16_u8's requantizing StoreU8). init: the rows' start values (first block), or nullptr to start
// from src (earlier blocks' int32 sums, row stride ld_src; `last`: lanes of the last vector to load).
template <size_t kMrT, size_t kNv, bool kVnni, typename Out>
__attribute__((noinline)) void tile(size_t kc, const uint16_t* p, size_t ld_p, const int32_t* packed, const int32_t* init,
                                    const int32_t* src, size_t ld_src, __m256i last, const Out& out) {
  __m256i a[kMrT][kNv];
  for (size_t r = 0; r < kMrT; ++r) {
    for (size_t v = 0; v < kNv; ++v) {
      const int32_t* from = src + r * ld_src + 8 * v;
      a[r][v] = init != nullptr ? _mm256_set1_epi32(init[r])
                : v + 1 == kNv ? _mm256_maskload_epi32(from, last)
                               : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(from));
    }
  }
  const size_t pairs = kc / 2;
  for (size_t q = 0; q < pairs; ++q) {
    __m256i w[kNv];
    for (size_t v = 0; v < kNv; ++v) w[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(packed + q * kNr + 8 * v));
    for (size_t r = 0; r < kMrT; ++r) {
      const __m256i b = broadcast_pair(p + r * ld_p + 2 * q);
      for (size_t v = 0; v < kNv; ++v) a[r][v] = madd_pairs<kVnni>(a[r][v], b, w[v]);
    }
  }
  if (kc % 2 != 0) {  // the last k alone: its packed partner is 0, so broadcasting p[k-1] twice is exact
    __m256i w[kNv];
    for (size_t v = 0; v < kNv; ++v) w[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(packed + pairs * kNr + 8 * v));
    // Unrolled, so the accumulators stay in registers (as in av16-outer-avx512.h).
#pragma GCC unroll 8
    for (size_t r = 0; r < kMrT; ++r) {
      const __m256i b = _mm256_set1_epi16(static_cast<int16_t>(p[r * ld_p + kc - 1]));
#pragma GCC unroll 2
      for (size_t v = 0; v < kNv; ++v) a[r][v] = madd_pairs<kVnni>(a[r][v], b, w[v]);
    }
  }
  for (size_t r = 0; r < kMrT; ++r) out.row(r, a[r]);
}

template <size_t kMrT, bool kVnni>
void tile_nv(size_t nv, size_t kc, const uint16_t* p, size_t ld_p, const int32_t* packed, const int32_t* init, int32_t* acc,
             size_t ld_acc, __m256i last) {
  const StoreS32 out{acc, ld_acc, last};
  if (nv == 1) return tile<kMrT, 1, kVnni>(kc, p, ld_p, packed, init, acc, ld_acc, last, out);
  tile<kMrT, 2, kVnni>(kc, p, ld_p, packed, init, acc, ld_acc, last, out);
}

// av16_u8's epilogue: Eq. 11 on a tile row's 16 accumulators as requantize()'s AVX2 stage does it
// (MBQM of kernels/fixedpoint-avx2.h, then clamp(·, −z, 255 − z) + z: Eq. 11 without overflow for
// z in [0, 255]), packed to bytes; `nc`: the columns to store.
template <bool kLeftShift>
struct StoreU8 {
  const ColumnConsts& c;
  __m256i lo, hi, zp;
  uint8_t* out;
  size_t ld, nc;
  template <size_t kNv>
  inline __attribute__((always_inline)) void row(size_t r, const __m256i (&a)[kNv]) const {
    static_assert(kNv == 2, "av16_u8 tiles are 16 columns wide");
    const __m256i q0 = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(mbqm<kLeftShift>(a[0], c), lo), hi), zp);
    const __m256i q1 = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(mbqm<kLeftShift>(a[1], c), lo), hi), zp);
    // q in [0, 255]: the saturating packs are exact; vpermq undoes vpackssdw's lane interleave.
    const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8);
    const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
    uint8_t* dst = out + r * ld;
    if (nc >= 16) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), bytes);
    } else {
      alignas(16) uint8_t buf[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(buf), bytes);
      std::memcpy(dst, buf, nc);
    }
  }
};

constexpr size_t kLanes = 8;  // int32 lanes per vector
constexpr size_t kPackAlign = 32;
inline __m256i last_lanes(size_t n) { return first_lanes32(n); }

#include "kernels/softmax/av16-outer-driver.h"

// av16_u8 (Eq. 23c) on this width: Eq. 7's constants once per call, then the fused driver.
template <bool kVnni>
void av16_u8(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v, int32_t v_zero_point,
             const Av16Requant& rq, uint8_t* out, size_t ld_out) {
  check_av16_u8_args(m, n, k, probs, ld_p, v, ld_v, rq, out, ld_out);
  if (m == 0 || n == 0) return;
  const ColumnConsts c = column_consts(_mm256_set1_epi32(rq.multiplier), _mm256_set1_epi32(rq.shift));
  const __m256i lo = _mm256_set1_epi32(-rq.zero_point), hi = _mm256_set1_epi32(255 - rq.zero_point), zp = _mm256_set1_epi32(rq.zero_point);
  const auto run = [&]<bool kLeftShift>() {
    av16_u8_outer<kVnni>(m, n, k, probs, ld_p, v, ld_v, v_zero_point, out, ld_out,
                         [&](uint8_t* dst, size_t nc) { return StoreU8<kLeftShift>{c, lo, hi, zp, dst, ld_out, nc}; });
  };
  if (rq.shift < 0) return run.template operator()<true>();
  run.template operator()<false>();
}

}  // namespace
}  // namespace intvit::av16_outer_avx2
