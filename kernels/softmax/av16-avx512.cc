// AVX-512 attn@v with 16-bit probabilities (QUANTIZATION.md Eq. 23b), bit-identical to av16_ref.
//
// The AVX2 kernel (av16-avx2.cc) at 32 k per step: a tile of 2 probability rows × 4 columns of v_t,
// vpmaddwd on p as int16 × v widened to int16 (exact: p <= 32767, v <= 255), the zero point folded
// out as Σ_k p·v - z·Σ_k p (mod 2^32). Tails: k % 32 by masked loads (masked lanes read as 0 and
// never fault), n % 4 by repeating the last column and storing only the valid sums (masked store),
// m % 2 by a 1-row tile.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports its own _mm512_undefined_* placeholders as uninitialized (a false positive).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/fixedpoint-avx512.h"
#include "kernels/softmax/softmax.h"

namespace intvit {
namespace {

using namespace fp_avx512;

constexpr size_t kKStep = 32;  // int16 lanes per vector
constexpr size_t kNr = 4;      // columns per tile

// The first min(n, 32) lanes.
inline __mmask32 tail_mask32(size_t n) { return n >= 32 ? ~__mmask32{0} : (__mmask32{1} << n) - 1; }

// [Σa0, Σa1, Σa2, Σa3] (mod 2^32) of four 16-lane vectors.
inline __m128i reduce4_epi32(__m512i a0, __m512i a1, __m512i a2, __m512i a3) {
  auto half = [](__m512i a) { return _mm256_add_epi32(_mm512_castsi512_si256(a), _mm512_extracti64x4_epi64(a, 1)); };
  const __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(half(a0), half(a1)), _mm256_hadd_epi32(half(a2), half(a3)));
  return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

// 32 v bytes (the first popcount(mask)) widened to int16 lanes.
inline __m512i load_v32(const uint8_t* v, __mmask32 mask) {
  return _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mask, v));
}

// kMr rows of acc (kMr = 1 or 2), all n columns.
template <size_t kMr>
void av16_rows(size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
               int32_t v_zero_point, int32_t* acc, size_t ld_acc) {
  const __m512i ones = _mm512_set1_epi16(1);
  __m128i zero_point_term[kMr];  // z·Σ_k p of each row, broadcast
  for (size_t r = 0; r < kMr; ++r) {
    __m512i s = _mm512_setzero_si512();
    for (size_t kk = 0; kk < k; kk += kKStep) {
      const __m512i p = _mm512_maskz_loadu_epi16(tail_mask32(k - kk), probs + r * ld_p + kk);
      s = _mm512_add_epi32(s, _mm512_madd_epi16(p, ones));
    }
    const uint32_t sum = reduce_add_wrap_epi32(s);
    zero_point_term[r] = _mm_set1_epi32(static_cast<int32_t>(sum * static_cast<uint32_t>(v_zero_point)));
  }
  for (size_t j = 0; j < n; j += kNr) {
    const size_t nc = std::min(kNr, n - j);
    const uint8_t* v[kNr];
    for (size_t c = 0; c < kNr; ++c) v[c] = v_t + std::min(j + c, n - 1) * ld_v;  // n % 4: repeat the last
    __m512i a[kMr][kNr];
    for (size_t r = 0; r < kMr; ++r) {
      for (size_t c = 0; c < kNr; ++c) a[r][c] = _mm512_setzero_si512();
    }
    for (size_t kk = 0; kk < k; kk += kKStep) {
      const __mmask32 mk = tail_mask32(k - kk);
      const __m512i v0 = load_v32(v[0] + kk, mk), v1 = load_v32(v[1] + kk, mk);
      const __m512i v2 = load_v32(v[2] + kk, mk), v3 = load_v32(v[3] + kk, mk);
      for (size_t r = 0; r < kMr; ++r) {
        const __m512i p = _mm512_maskz_loadu_epi16(mk, probs + r * ld_p + kk);
        a[r][0] = _mm512_add_epi32(a[r][0], _mm512_madd_epi16(p, v0));
        a[r][1] = _mm512_add_epi32(a[r][1], _mm512_madd_epi16(p, v1));
        a[r][2] = _mm512_add_epi32(a[r][2], _mm512_madd_epi16(p, v2));
        a[r][3] = _mm512_add_epi32(a[r][3], _mm512_madd_epi16(p, v3));
      }
    }
    const __mmask8 store_mask = static_cast<__mmask8>((1u << nc) - 1);
    for (size_t r = 0; r < kMr; ++r) {
      const __m128i out = _mm_sub_epi32(reduce4_epi32(a[r][0], a[r][1], a[r][2], a[r][3]), zero_point_term[r]);
      _mm_mask_storeu_epi32(acc + r * ld_acc + j, store_mask, out);
    }
  }
}

}  // namespace

void av16__avx512(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t,
                  size_t ld_v, int32_t v_zero_point, int32_t* acc, size_t ld_acc) {
  if (n == 0) return;
  size_t i = 0;
  for (; i + 2 <= m; i += 2) {
    av16_rows<2>(n, k, probs + i * ld_p, ld_p, v_t, ld_v, v_zero_point, acc + i * ld_acc, ld_acc);
  }
  if (i < m) av16_rows<1>(n, k, probs + i * ld_p, ld_p, v_t, ld_v, v_zero_point, acc + i * ld_acc, ld_acc);
}

}  // namespace intvit
