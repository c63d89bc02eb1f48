// AVX2 GELU, bit-identical to gelu-ref.cc (QUANTIZATION.md §5). The 8-bit table (outputs fit a
// byte) is held in sixteen 16-entry registers and read with vpshufb on the low nibble, the high
// nibble picking among the sixteen results by a 4-level vpblendvb tree; the 16-bit table is read
// with plain loads. The 8-bit formula modes tabulate the formula over all 256 codes first when the
// input is long enough to pay for it.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/fixedpoint-avx2.h"
#include "kernels/gelu/gelu.h"

namespace intvit {
namespace {

using namespace gelu_detail;
using namespace fp_avx2;

constexpr size_t kTabulateMin = 256;  // 8-bit formula inputs at least this long are tabulated

// Eq. 24-32 on 8 input codes (int32 lanes); returns output codes in [out_min, out_max].
template <GeluMode kMode>
__m256i gelu_codes(const GeluParams& p, __m256i q) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i x = _mm256_sub_epi32(q, _mm256_set1_epi32(p.in_zero_point));
  const __m256i v = mbqm(x, p.pre_multiplier, p.pre_shift);
  __m256i product;
  if constexpr (kMode == GeluMode::kIgelu) {
    const __m256i clip = _mm256_set1_epi32(p.erf_clip);
    const __m256i w = _mm256_min_epi32(_mm256_max_epi32(v, _mm256_sub_epi32(zero, clip)), clip);
    const __m256i a = _mm256_sub_epi32(_mm256_abs_epi32(w), clip);
    // Eq. 26: vpsignd multiplies by sign(w) (negates for w < 0, zeroes for w = 0).
    const __m256i erf = _mm256_sign_epi32(_mm256_sub_epi32(_mm256_set1_epi32(1 << kErfBits), _mm256_mullo_epi32(a, a)), w);
    const __m256i one_plus_erf = _mm256_add_epi32(_mm256_set1_epi32(1 << kErfNarrow), rdbp(erf, kErfBits - kErfNarrow));
    product = _mm256_mullo_epi32(x, one_plus_erf);
  } else {
    const __m256i w = _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(-(1 << 19))), _mm256_set1_epi32(1 << 19));
    const __m256i u = _mm256_sub_epi32(zero, _mm256_abs_epi32(w));
    const __m256i t = _mm256_sub_epi32(_mm256_add_epi32(u, _mm256_srai_epi32(u, 1)), _mm256_srai_epi32(u, 4));
    const __m256i k = _mm256_srai_epi32(_mm256_sub_epi32(zero, t), kShiftBits);
    const __m256i r = _mm256_add_epi32(t, _mm256_slli_epi32(k, kShiftBits));
    const __m256i e = _mm256_srav_epi32(_mm256_add_epi32(_mm256_srai_epi32(r, 1), _mm256_set1_epi32(1 << kShiftBits)), k);
    // Eq. 31: floor(e·2^14 / (2^15 + e)) by restoring division; the quotient is <= 2^13 and every
    // operand stays below 2^30.
    const __m256i divisor = _mm256_add_epi32(e, _mm256_set1_epi32(1 << kShiftBits));
    __m256i remainder = _mm256_slli_epi32(e, kSigmoidBits);
    __m256i quotient = zero;
    for (int b = kSigmoidBits - 1; b >= 0; --b) {
      const __m256i d = _mm256_slli_epi32(divisor, b);
      const __m256i short_of = _mm256_cmpgt_epi32(d, remainder);  // all ones where d does not fit
      remainder = _mm256_sub_epi32(remainder, _mm256_andnot_si256(short_of, d));
      quotient = _mm256_or_si256(quotient, _mm256_andnot_si256(short_of, _mm256_set1_epi32(1 << b)));
    }
    const __m256i sigmoid = _mm256_blendv_epi8(quotient, _mm256_sub_epi32(_mm256_set1_epi32(1 << kSigmoidBits), quotient),
                                               _mm256_cmpgt_epi32(w, zero));
    product = _mm256_mullo_epi32(x, sigmoid);
  }
  // Eq. 28/32. Clamping the rescaled value to ±2^17 first keeps z + y from wrapping and cannot
  // change the clamped result (|z| <= 2^15, outputs within 16 bits).
  __m256i y = mbqm(product, p.out_multiplier, p.out_shift);
  y = _mm256_min_epi32(_mm256_max_epi32(y, _mm256_set1_epi32(-(1 << 17))), _mm256_set1_epi32(1 << 17));
  y = _mm256_add_epi32(y, _mm256_set1_epi32(p.out_zero_point));
  return _mm256_min_epi32(_mm256_max_epi32(y, _mm256_set1_epi32(p.out_min)), _mm256_set1_epi32(p.out_max));
}

template <GeluMode kMode>
void gelu_formula(const GeluParams& p, size_t n, const void* in, void* out) {
  for (size_t i = 0; i < n; i += 8) {
    const size_t left = n - i;
    if (p.bits == 8) {
      const uint8_t* x = static_cast<const uint8_t*>(in) + i;
      uint8_t* y = static_cast<uint8_t*>(out) + i;
      if (left >= 8) {
        store8_u8(y, gelu_codes<kMode>(p, load8_u8_epi32(x)));
      } else {
        store8_u8_tail(y, gelu_codes<kMode>(p, load8_u8_epi32_tail(x, left)), left);
      }
    } else {
      const int16_t* x = static_cast<const int16_t*>(in) + i;
      int16_t* y = static_cast<int16_t*>(out) + i;
      alignas(16) int16_t buf[8] = {};
      if (left < 8) std::memcpy(buf, x, left * sizeof(int16_t));
      const __m256i q = _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(left >= 8 ? x : buf)));
      if (left >= 8) {
        store8_s16(y, gelu_codes<kMode>(p, q));
      } else {
        store8_s16_tail(y, gelu_codes<kMode>(p, q), left);
      }
    }
  }
}

// 256-entry byte table lookup, 32 codes at a time: vpshufb looks the low nibble up in each of the
// sixteen 16-entry rows (both 128-bit lanes hold the same row), bits 4-7 of the code pick the row
// (vpblendvb selects on bit 7 of each byte, so the code is shifted left to bring each bit there).
void gelu_lut8(const uint8_t* table, size_t n, const uint8_t* in, uint8_t* out) {
  __m256i t[16];
  for (int i = 0; i < 16; ++i) {
    t[i] = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table + 16 * i)));
  }
  const __m256i low_nibble = _mm256_set1_epi8(0x0F);
  auto lookup = [&](__m256i idx) {
    const __m256i lo = _mm256_and_si256(idx, low_nibble);
    __m256i r[16];
    for (int i = 0; i < 16; ++i) r[i] = _mm256_shuffle_epi8(t[i], lo);
    // Bit b of each byte to bit 7 (16-bit shifts: what crosses into the upper byte lands in its
    // bits 0-2 and is ignored).
    const __m256i bit4 = _mm256_slli_epi16(idx, 3), bit5 = _mm256_slli_epi16(idx, 2), bit6 = _mm256_slli_epi16(idx, 1);
    for (int i = 0; i < 8; ++i) r[i] = _mm256_blendv_epi8(r[2 * i], r[2 * i + 1], bit4);
    for (int i = 0; i < 4; ++i) r[i] = _mm256_blendv_epi8(r[2 * i], r[2 * i + 1], bit5);
    for (int i = 0; i < 2; ++i) r[i] = _mm256_blendv_epi8(r[2 * i], r[2 * i + 1], bit6);
    return _mm256_blendv_epi8(r[0], r[1], idx);
  };
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i idx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), lookup(idx));
  }
  if (i < n) {
    alignas(32) uint8_t buf[32] = {};
    std::memcpy(buf, in + i, n - i);
    _mm256_store_si256(reinterpret_cast<__m256i*>(buf), lookup(_mm256_load_si256(reinterpret_cast<const __m256i*>(buf))));
    std::memcpy(out + i, buf, n - i);
  }
}

// The 8-bit kLut table (int16 entries, in [0, 255] when built by make_gelu_params) as bytes: the
// low byte of each, as the reference's cast takes it.
void lut8_bytes(const GeluParams& p, uint8_t* bytes) {
  for (int i = 0; i < 256; i += 16) {
    const __m256i v = _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.table.data() + i)),
                                       _mm256_set1_epi16(0xFF));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(bytes + i),
                     _mm_packus_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
  }
}

// 16-bit table: plain loads (a gather is no faster).
void gelu_lut16(const GeluParams& p, size_t n, const int16_t* in, int16_t* out) {
  const int16_t* table = p.table.data() + 32768;
  for (size_t i = 0; i < n; ++i) out[i] = table[in[i]];
}

// 8-bit formula modes on long inputs: evaluate the formula once on all 256 codes (the same lanes
// of arithmetic, so the same bits) and look the input up in that table.
template <GeluMode kMode>
void gelu_formula_tabulated8(const GeluParams& p, size_t n, const uint8_t* in, uint8_t* out) {
  alignas(32) uint8_t table[256];
  for (int i = 0; i < 256; i += 8) {
    const __m256i q = _mm256_add_epi32(_mm256_set1_epi32(i), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    store8_u8(table + i, gelu_codes<kMode>(p, q));
  }
  gelu_lut8(table, n, in, out);
}

}  // namespace

void gelu__avx2(const GeluParams& p, size_t n, const void* in, void* out) {
  if (p.bits == 8 && p.mode != GeluMode::kLut && n >= kTabulateMin) {
    const auto* x = static_cast<const uint8_t*>(in);
    auto* y = static_cast<uint8_t*>(out);
    if (p.mode == GeluMode::kIgelu) return gelu_formula_tabulated8<GeluMode::kIgelu>(p, n, x, y);
    return gelu_formula_tabulated8<GeluMode::kShiftgelu>(p, n, x, y);
  }
  switch (p.mode) {
    case GeluMode::kIgelu: return gelu_formula<GeluMode::kIgelu>(p, n, in, out);
    case GeluMode::kShiftgelu: return gelu_formula<GeluMode::kShiftgelu>(p, n, in, out);
    case GeluMode::kLut:
      if (p.bits == 8) {
        alignas(32) uint8_t table[256];
        lut8_bytes(p, table);
        return gelu_lut8(table, n, static_cast<const uint8_t*>(in), static_cast<uint8_t*>(out));
      }
      return gelu_lut16(p, n, static_cast<const int16_t*>(in), static_cast<int16_t*>(out));
  }
}

}  // namespace intvit
