// AVX2 attn@v with 16-bit probabilities (QUANTIZATION.md Eq. 23b), bit-identical to av16_ref.
//
// Tile: 2 probability rows × 4 columns of v_t, 16 k per step: each step loads 2 × 16 probs and
// 4 × 16 v bytes (widened to int16) once and issues 8 vpmaddwd (p as int16 × v as int16; p <= 32767
// and v <= 255, so each pair sum is < 2^24 and exact). The zero point is folded out of the loop:
//   Σ_k p·(v - z) = Σ_k p·v - z·Σ_k p   (mod 2^32, the reference's arithmetic, for any z)
// with Σ_k p computed once per row. Tails: k % 16 by one step over the window [k - 16, k) with the
// probs of the already-summed lanes zeroed (rows shorter than 16 go through zero-padded buffers);
// n % 4 by repeating the last column and storing only the valid sums; m % 2 by running the last
// row as both rows of the tile and storing it once.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/fixedpoint-avx2.h"
#include "kernels/softmax/softmax.h"

namespace intvit {
namespace {

using namespace fp_avx2;

constexpr size_t kKStep = 16;  // int16 lanes per vector
constexpr size_t kNr = 4;      // columns per tile

// [Σa0, Σa1, Σa2, Σa3] (mod 2^32) of four 8-lane vectors.
inline __m128i reduce4_epi32(__m256i a0, __m256i a1, __m256i a2, __m256i a3) {
  const __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
  return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

// The probabilities of the window [k - 16, k) as int16 lanes, zero where the index is below
// k - rest (summed by the main loop) or below 0 (k < 16).
inline __m256i load_probs_tail(const uint16_t* p, size_t k, size_t rest) {
  if (k >= kKStep) {
    const __m256i lane = _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m256i keep = _mm256_cmpgt_epi16(lane, _mm256_set1_epi16(static_cast<int16_t>(kKStep - 1 - rest)));
    return _mm256_and_si256(keep, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + k - kKStep)));
  }
  alignas(32) uint16_t buf[kKStep] = {};
  std::memcpy(buf + kKStep - k, p, k * sizeof(uint16_t));
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(buf));
}

// 16 v bytes widened to int16 lanes.
inline __m256i load_v16(const uint8_t* v) {
  return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v)));
}

// The v bytes of the window [k - 16, k) (zero below index 0 for k < 16; the probs are zero there).
inline __m256i load_v_tail(const uint8_t* v, size_t k) {
  if (k >= kKStep) return load_v16(v + k - kKStep);
  alignas(16) uint8_t buf[kKStep] = {};
  std::memcpy(buf + kKStep - k, v, k);
  return _mm256_cvtepu8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(buf)));
}

// z·Σ_k p of one probability row, broadcast (mod 2^32).
inline __m128i zero_point_term(const uint16_t* p, size_t full, __m256i p_tail, int32_t v_zero_point) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i s = _mm256_madd_epi16(p_tail, ones);
  for (size_t kk = 0; kk < full; kk += kKStep) {
    s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + kk)), ones));
  }
  return _mm_set1_epi32(static_cast<int32_t>(reduce_add_wrap_epi32(s) * static_cast<uint32_t>(v_zero_point)));
}

// The first nc (<= 4) int32 lanes of v to dst.
inline void store_cols(int32_t* dst, __m128i v, size_t nc) {
  if (nc == kNr) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), v);
  } else {
    alignas(16) int32_t buf[kNr];
    _mm_store_si128(reinterpret_cast<__m128i*>(buf), v);
    std::memcpy(dst, buf, nc * sizeof(int32_t));
  }
}

// Rows p0 and p1 of acc (acc0, acc1), all n columns. A single row passes p1 = p0, acc1 = nullptr.
// The 8 accumulators are named variables so that they stay in registers.
void av16_row_pair(size_t n, size_t k, const uint16_t* p0, const uint16_t* p1, const uint8_t* v_t, size_t ld_v,
                   int32_t v_zero_point, int32_t* acc0, int32_t* acc1) {
  const size_t rest = k % kKStep, full = k - rest;
  const __m256i zero = _mm256_setzero_si256();
  const __m256i t0 = rest != 0 ? load_probs_tail(p0, k, rest) : zero;
  const __m256i t1 = rest != 0 ? load_probs_tail(p1, k, rest) : zero;
  const __m128i zp0 = zero_point_term(p0, full, t0, v_zero_point);
  const __m128i zp1 = zero_point_term(p1, full, t1, v_zero_point);
  for (size_t j = 0; j < n; j += kNr) {
    const size_t nc = std::min(kNr, n - j);
    // n % 4: the missing columns repeat the last one and are not stored.
    const uint8_t* c0 = v_t + j * ld_v;
    const uint8_t* c1 = v_t + std::min(j + 1, n - 1) * ld_v;
    const uint8_t* c2 = v_t + std::min(j + 2, n - 1) * ld_v;
    const uint8_t* c3 = v_t + std::min(j + 3, n - 1) * ld_v;
    __m256i a00 = zero, a01 = zero, a02 = zero, a03 = zero, a10 = zero, a11 = zero, a12 = zero, a13 = zero;
    auto step = [&](__m256i q0, __m256i q1, __m256i v0, __m256i v1, __m256i v2, __m256i v3) {
      a00 = _mm256_add_epi32(a00, _mm256_madd_epi16(q0, v0));
      a01 = _mm256_add_epi32(a01, _mm256_madd_epi16(q0, v1));
      a02 = _mm256_add_epi32(a02, _mm256_madd_epi16(q0, v2));
      a03 = _mm256_add_epi32(a03, _mm256_madd_epi16(q0, v3));
      a10 = _mm256_add_epi32(a10, _mm256_madd_epi16(q1, v0));
      a11 = _mm256_add_epi32(a11, _mm256_madd_epi16(q1, v1));
      a12 = _mm256_add_epi32(a12, _mm256_madd_epi16(q1, v2));
      a13 = _mm256_add_epi32(a13, _mm256_madd_epi16(q1, v3));
    };
    for (size_t kk = 0; kk < full; kk += kKStep) {
      step(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p0 + kk)),
           _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p1 + kk)), load_v16(c0 + kk), load_v16(c1 + kk),
           load_v16(c2 + kk), load_v16(c3 + kk));
    }
    if (rest != 0) step(t0, t1, load_v_tail(c0, k), load_v_tail(c1, k), load_v_tail(c2, k), load_v_tail(c3, k));
    store_cols(acc0 + j, _mm_sub_epi32(reduce4_epi32(a00, a01, a02, a03), zp0), nc);
    if (acc1 != nullptr) store_cols(acc1 + j, _mm_sub_epi32(reduce4_epi32(a10, a11, a12, a13), zp1), nc);
  }
}

}  // namespace

void av16__avx2(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
                int32_t v_zero_point, int32_t* acc, size_t ld_acc) {
  if (n == 0) return;
  size_t i = 0;
  for (; i + 2 <= m; i += 2) {
    av16_row_pair(n, k, probs + i * ld_p, probs + (i + 1) * ld_p, v_t, ld_v, v_zero_point, acc + i * ld_acc,
                  acc + (i + 1) * ld_acc);
  }
  if (i < m) {  // m % 2: the last row twice, stored once
    av16_row_pair(n, k, probs + i * ld_p, probs + i * ld_p, v_t, ld_v, v_zero_point, acc + i * ld_acc, nullptr);
  }
}

}  // namespace intvit
