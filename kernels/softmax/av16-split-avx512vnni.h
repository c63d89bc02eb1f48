// AVX512-VNNI av16_u8 by the byte split of Eq. 23d with a sparse high plane (QUANTIZATION.md §4.10,
// Eq. 23f): included by av16-u8-avx512vnni.cc only (VNNI flags), after av16-outer-avx512.h, whose
// requantizing store it shares.
//
// vpdpbusd multiplies 4 byte pairs per int32 lane where vpdpwssd multiplies 2 word pairs, so the
// low bytes of the probabilities (every p) cost half of the pair form, and the high bytes are
// non-zero only for probabilities >= 256/32768: on real ViT heads 4.6–18.7 of a row's 50 k-quads
// (measured, session 16). Per row the high plane runs only over the quads where it is non-zero.
// Both planes multiply v − 128 (int8: v XOR 0x80), packed once per call as VNNI-4 groups
// [quad][column][4 k], and the zero-point term (128 − z_v)·Σ_k p is added per row.
//
// Per chunk of up to kChunkRows rows the probabilities are split in one pass that also takes the
// row sums and each row's high-plane quad mask. A 6-row tile then takes, per row, the high plane's
// quads from the mask (two sets of 4 accumulators, summed), shifts the sums left by 8, and adds the
// dense low plane over every quad (6 × 4 accumulators, as the pair form's tile), then the zero-point
// term; the epilogue is Eq. 11. k <= kSplitMaxK (a quad mask is one uint64; ViT/DeiT: 197); longer rows take
// the pair form.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/gemm/amx-split-planes-avx512.h"

namespace intvit::av16_split {
namespace {  // internal linkage: ISA-specific code (see av16-outer-avx512.h)

constexpr size_t kSplitMaxK = 256;             // quads per row <= 64: one uint64 mask
constexpr size_t kColumns = 64;                // columns per packed block: 4 vectors of 16 int32
constexpr size_t kTileRows = 6;                // 6 × 4 accumulators + 4 packed v + 1 broadcast
constexpr size_t kChunkRows = 2 * kTileRows;   // rows split together (12 measured faster than 6, 24, 48)
constexpr size_t kPlaneLd = 2 * kSplitMaxK;    // bytes per row of both planes
constexpr size_t kQuadBytes = 4 * kColumns;    // one quad of the packed v: [column][4 k]

// acc + Σ over the 4 byte pairs of each lane of p (unsigned) · w (signed). Inline asm, as in
// av16-outer-avx512.h: GCC 12 moves intrinsic accumulators through the stack.
inline __m512i dot(__m512i acc, __m512i p, __m512i w) {
#if defined(INTVIT_AVX512_EMULATION)  // tests/avx512_emu: no asm there, the same instruction as an intrinsic
  return _mm512_dpbusd_epi32(acc, p, w);
#else
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(p), "v"(w));
  return acc;
#endif
}
inline __m512i dot_mem(__m512i acc, __m512i p, const int8_t* w) {
#if defined(INTVIT_AVX512_EMULATION)
  return _mm512_dpbusd_epi32(acc, p, _mm512_loadu_si512(w));
#else
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(p), "m"(*reinterpret_cast<const __m512i*>(w)));
  return acc;
#endif
}
// acc[c] += p · w[64c..64c+63] for the 4 vectors of one packed quad, written out: GCC leaves a rolled
// loop over a second accumulator array in memory.
inline __attribute__((always_inline)) void dot4_mem(__m512i (&acc)[4], __m512i p, const int8_t* w) {
  acc[0] = dot_mem(acc[0], p, w);
  acc[1] = dot_mem(acc[1], p, w + 64);
  acc[2] = dot_mem(acc[2], p, w + 128);
  acc[3] = dot_mem(acc[3], p, w + 192);
}
inline __m512i broadcast_quad(const uint8_t* plane) {
  uint32_t quad;
  std::memcpy(&quad, plane, sizeof quad);
  return _mm512_set1_epi32(static_cast<int32_t>(quad));
}

// packed[q][c][t] = v[4q + t][c] − 128 (int8) for c < nc, 4q + t < k; 0 past k. Columns [nc, 64)
// hold −128 (their results are never stored). Four rows interleaved bytewise and then by words
// give per 128-bit lane L the 4-byte groups of columns 16L + {0..3, 4..7, 8..11, 12..15}; a 4 × 4
// transpose of lanes puts them in column order.
inline void pack_v_quads(size_t nc, size_t k, const uint8_t* v, size_t ld_v, int8_t* packed) {
  const __mmask64 cols = nc >= kColumns ? ~__mmask64{0} : (__mmask64{1} << nc) - 1;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (size_t q = 0; 4 * q < k; ++q) {
    __m512i r[4];
#pragma GCC unroll 4
    for (size_t t = 0; t < 4; ++t) {
      const size_t kk = 4 * q + t;
      r[t] = kk < k ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(cols, v + kk * ld_v), flip) : _mm512_setzero_si512();
    }
    const __m512i r01_lo = _mm512_unpacklo_epi8(r[0], r[1]), r01_hi = _mm512_unpackhi_epi8(r[0], r[1]);
    const __m512i r23_lo = _mm512_unpacklo_epi8(r[2], r[3]), r23_hi = _mm512_unpackhi_epi8(r[2], r[3]);
    const __m512i c0 = _mm512_unpacklo_epi16(r01_lo, r23_lo), c4 = _mm512_unpackhi_epi16(r01_lo, r23_lo);
    const __m512i c8 = _mm512_unpacklo_epi16(r01_hi, r23_hi), c12 = _mm512_unpackhi_epi16(r01_hi, r23_hi);
    const __m512i t0 = _mm512_shuffle_i32x4(c0, c4, 0x44), t1 = _mm512_shuffle_i32x4(c8, c12, 0x44);  // lanes 0, 1
    const __m512i t2 = _mm512_shuffle_i32x4(c0, c4, 0xEE), t3 = _mm512_shuffle_i32x4(c8, c12, 0xEE);  // lanes 2, 3
    int8_t* dst = packed + q * kQuadBytes;
    _mm512_store_si512(dst, _mm512_shuffle_i32x4(t0, t1, 0x88));
    _mm512_store_si512(dst + 64, _mm512_shuffle_i32x4(t0, t1, 0xDD));
    _mm512_store_si512(dst + 128, _mm512_shuffle_i32x4(t2, t3, 0x88));
    _mm512_store_si512(dst + 192, _mm512_shuffle_i32x4(t2, t3, 0xDD));
  }
}

// A chunk of rows split into byte planes, both in one buffer: per 16 bytes, the low bytes of quads
// 2t and 2t + 1, then their high bytes (the order vpshufb leaves a 128-bit lane of 8 probabilities in:
// no cross-lane shuffle). Bytes past k are zero up to the next 32 probabilities. Per row also Σ_k p
// (mod 2^32) and bit q set where some high byte of quad q is non-zero.
struct SplitRows {
  alignas(64) uint8_t planes[kChunkRows * kPlaneLd];
  alignas(64) uint32_t sums[kChunkRows];
  uint64_t hi_quads[kChunkRows];
};
inline size_t lo_offset(size_t q) { return 16 * (q / 2) + 4 * (q % 2); }
inline size_t hi_offset(size_t q) { return lo_offset(q) + 8; }

// One row, 32 probabilities per step: one vpshufb, one 64-byte store; vptestmd of the high dwords
// (2, 3 of each lane) and pext give 8 quads' mask bits; a vpdpbusd against bytes of 1 adds Σ lo
// (dwords 0, 1 of each lane) and Σ hi (dwords 2, 3). Full steps load unmasked: on Xeon (Sapphire
// Rapids, KVM) a masked zmm load that splits a cache line made the whole step twice as slow (the rows
// of 197 uint16 sit at every alignment). Returns int32 lanes whose sum is Σ_k p (mod 2^32).
inline __m512i split_row(const uint16_t* p, size_t k, uint8_t* planes, uint64_t& hi_quads) {
  const __m512i low_then_high = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
  const __m512i ones = _mm512_set1_epi8(1);
  constexpr __mmask16 kHighDwords = 0xCCCC;
  __m512i sum = _mm512_setzero_si512();
  uint64_t mask = 0;
  for (size_t kk = 0; kk < k; kk += 32) {
    const __m512i x = k - kk >= 32 ? _mm512_loadu_si512(p + kk) : _mm512_maskz_loadu_epi16((__mmask32{1} << (k - kk)) - 1, p + kk);
    const __m512i y = _mm512_shuffle_epi8(x, low_then_high);
    _mm512_store_si512(planes + 2 * kk, y);
    mask |= uint64_t{_pext_u32(_mm512_mask_test_epi32_mask(kHighDwords, y, y), kHighDwords)} << (kk / 4);
    sum = _mm512_dpbusd_epi32(sum, y, ones);
  }
  hi_quads = mask;
  const __m512i high_shift = _mm512_setr_epi32(0, 0, 8, 8, 0, 0, 8, 8, 0, 0, 8, 8, 0, 0, 8, 8);
  return _mm512_sllv_epi32(sum, high_shift);  // 256·Σ hi
}

inline void split_rows(const uint16_t* probs, size_t ld_p, size_t rows, size_t k, SplitRows& s) {
  for (size_t r0 = 0; r0 < rows; r0 += 16) {  // 16 rows' lane sums reduced together
    const size_t nr = std::min<size_t>(16, rows - r0);
    __m512i lanes[16];
    for (size_t r = 0; r < 16; ++r) {
      const size_t row = r0 + r;
      lanes[r] = r < nr ? split_row(probs + row * ld_p, k, s.planes + row * kPlaneLd, s.hi_quads[row]) : _mm512_setzero_si512();
    }
    _mm512_mask_storeu_epi32(s.sums + r0, static_cast<__mmask16>((1u << nr) - 1), gemm::amx::sum_rows16(lanes));
  }
}

// kRows rows × 64 columns: acc = 256·H + L + (128 − z_v)·S (mod 2^32), stored through `out`.
template <size_t kRows, typename Out>
__attribute__((noinline)) void split_tile(size_t quads, const uint8_t* planes, const uint64_t* hi_quads, const uint32_t* sums,
                                          uint32_t zero_point_term, const int8_t* packed, const Out& out) {
  __m512i a[kRows][4];
  // H: the high plane where it is non-zero, quads taken alternately into two sets of 4 accumulators
  // (one set would wait on vpdpbusd's latency: 4 products per 5 cycles instead of 8).
#pragma GCC unroll 8
  for (size_t r = 0; r < kRows; ++r) {
    const uint8_t* row = planes + r * kPlaneLd;
    __m512i even[4], odd[4];
#pragma GCC unroll 4
    for (size_t c = 0; c < 4; ++c) even[c] = odd[c] = _mm512_setzero_si512();
    for (uint64_t mask = hi_quads[r]; mask != 0;) {
      auto q = static_cast<size_t>(__builtin_ctzll(mask));
      mask &= mask - 1;
      dot4_mem(even, broadcast_quad(row + hi_offset(q)), packed + q * kQuadBytes);
      if (mask == 0) break;
      q = static_cast<size_t>(__builtin_ctzll(mask));
      mask &= mask - 1;
      dot4_mem(odd, broadcast_quad(row + hi_offset(q)), packed + q * kQuadBytes);
    }
#pragma GCC unroll 4
    for (size_t c = 0; c < 4; ++c) a[r][c] = _mm512_slli_epi32(_mm512_add_epi32(even[c], odd[c]), 8);
  }
  for (size_t q = 0; q < quads; ++q) {  // + L: the low plane, dense
    const int8_t* wq = packed + q * kQuadBytes;
    __m512i w[4];
#pragma GCC unroll 4
    for (size_t c = 0; c < 4; ++c) w[c] = _mm512_load_si512(wq + 64 * c);
    const size_t at = lo_offset(q);
#pragma GCC unroll 8
    for (size_t r = 0; r < kRows; ++r) {
      const __m512i p = broadcast_quad(planes + r * kPlaneLd + at);
#pragma GCC unroll 4
      for (size_t c = 0; c < 4; ++c) a[r][c] = dot(a[r][c], p, w[c]);
    }
  }
#pragma GCC unroll 8
  for (size_t r = 0; r < kRows; ++r) {
    const __m512i term = _mm512_set1_epi32(static_cast<int32_t>(zero_point_term * sums[r]));
#pragma GCC unroll 4
    for (size_t c = 0; c < 4; ++c) a[r][c] = _mm512_add_epi32(a[r][c], term);
    out.row(r, a[r]);
  }
}

// av16_u8 (Eq. 23c) for k <= kSplitMaxK; u8_out(dst, nc) is the requantizing store of av16-outer-avx512.h.
// Per 64-column block of v: pack it, then per chunk of rows split the probabilities and run the tiles
// (n > 64 splits each chunk again per block: heads are 64 wide).
template <typename MakeOut>
void av16_u8_split(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                   int32_t v_zero_point, uint8_t* out, size_t ld_out, const MakeOut& u8_out) {
  const size_t quads = (k + 3) / 4;
  const uint32_t zero_point_term = 128u - static_cast<uint32_t>(v_zero_point);  // mod 2^32
  alignas(64) int8_t packed[kSplitMaxK / 4 * kQuadBytes];
  SplitRows s;
  for (size_t j = 0; j < n; j += kColumns) {
    const size_t nc = std::min(kColumns, n - j);
    pack_v_quads(nc, k, k > 0 ? v + j : v, ld_v, packed);  // k == 0: v may be null
    for (size_t i0 = 0; i0 < m; i0 += kChunkRows) {
      const size_t rows = std::min(kChunkRows, m - i0);
      if (k > 0) {
        split_rows(probs + i0 * ld_p, ld_p, rows, k, s);
      } else {
        std::fill_n(s.sums, rows, 0u);
        std::fill_n(s.hi_quads, rows, uint64_t{0});
      }
      for (size_t i = 0; i < rows; i += kTileRows) {
        const size_t mr = std::min(kTileRows, rows - i);
        const uint8_t* planes = s.planes + i * kPlaneLd;
        const auto o = u8_out(out + (i0 + i) * ld_out + j, nc);
        switch (mr) {
          case 1: split_tile<1>(quads, planes, s.hi_quads + i, s.sums + i, zero_point_term, packed, o); break;
          case 2: split_tile<2>(quads, planes, s.hi_quads + i, s.sums + i, zero_point_term, packed, o); break;
          case 3: split_tile<3>(quads, planes, s.hi_quads + i, s.sums + i, zero_point_term, packed, o); break;
          case 4: split_tile<4>(quads, planes, s.hi_quads + i, s.sums + i, zero_point_term, packed, o); break;
          case 5: split_tile<5>(quads, planes, s.hi_quads + i, s.sums + i, zero_point_term, packed, o); break;
          default: split_tile<6>(quads, planes, s.hi_quads + i, s.sums + i, zero_point_term, packed, o); break;
        }
      }
    }
  }
}

}  // namespace
}  // namespace intvit::av16_split
