// AVX-512 GELU, bit-identical to gelu-ref.cc (QUANTIZATION.md §5). The 8-bit table is held in
// eight registers and read with vpermi2w (AVX-512BW), or, in gelu__avx512vbmi, as bytes in four
// registers read with vpermi2b (64 codes per step); the 16-bit table with plain loads. The
// 8-bit formula modes tabulate the formula over all 256 codes first when the input is long.
#include "kernels/avx512-intrinsics.h"

#include <cstdint>

#include "kernels/fixedpoint-avx512.h"
#include "kernels/gelu/gelu.h"

namespace intvit {
namespace {

using namespace gelu_detail;
using namespace fp_avx512;

// Eq. 24-32 on 16 input codes (int32 lanes); returns output codes in [out_min, out_max].
template <GeluMode kMode>
__m512i gelu_codes(const GeluParams& p, __m512i q) {
  const __m512i x = _mm512_sub_epi32(q, _mm512_set1_epi32(p.in_zero_point));
  const __m512i v = mbqm(x, p.pre_multiplier, p.pre_shift);
  __m512i product;
  if constexpr (kMode == GeluMode::kIgelu) {
    const __m512i clip = _mm512_set1_epi32(p.erf_clip);
    const __m512i w = _mm512_min_epi32(_mm512_max_epi32(v, _mm512_sub_epi32(_mm512_setzero_si512(), clip)), clip);
    const __m512i a = _mm512_sub_epi32(_mm512_abs_epi32(w), clip);
    __m512i erf = _mm512_sub_epi32(_mm512_set1_epi32(1 << kErfBits), _mm512_mullo_epi32(a, a));
    erf = _mm512_mask_sub_epi32(erf, _mm512_cmplt_epi32_mask(w, _mm512_setzero_si512()), _mm512_setzero_si512(), erf);
    erf = _mm512_maskz_mov_epi32(_mm512_cmpneq_epi32_mask(w, _mm512_setzero_si512()), erf);
    const __m512i one_plus_erf = _mm512_add_epi32(_mm512_set1_epi32(1 << kErfNarrow), rdbp(erf, kErfBits - kErfNarrow));
    product = _mm512_mullo_epi32(x, one_plus_erf);
  } else {
    const __m512i w = _mm512_min_epi32(_mm512_max_epi32(v, _mm512_set1_epi32(-(1 << 19))), _mm512_set1_epi32(1 << 19));
    const __m512i u = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_abs_epi32(w));
    const __m512i t = _mm512_sub_epi32(_mm512_add_epi32(u, _mm512_srai_epi32(u, 1)), _mm512_srai_epi32(u, 4));
    const __m512i k = _mm512_srai_epi32(_mm512_sub_epi32(_mm512_setzero_si512(), t), kShiftBits);
    const __m512i r = _mm512_add_epi32(t, _mm512_slli_epi32(k, kShiftBits));
    const __m512i e = _mm512_srav_epi32(_mm512_add_epi32(_mm512_srai_epi32(r, 1), _mm512_set1_epi32(1 << kShiftBits)), k);
    // Eq. 31: floor(e·2^14 / (2^15 + e)) by restoring division; the quotient is <= 2^13.
    const __m512i divisor = _mm512_add_epi32(e, _mm512_set1_epi32(1 << kShiftBits));
    __m512i remainder = _mm512_slli_epi32(e, kSigmoidBits);
    __m512i quotient = _mm512_setzero_si512();
    for (int b = kSigmoidBits - 1; b >= 0; --b) {
      const __m512i d = _mm512_slli_epi32(divisor, b);
      const __mmask16 fits = _mm512_cmpge_epi32_mask(remainder, d);
      remainder = _mm512_mask_sub_epi32(remainder, fits, remainder, d);
      quotient = _mm512_mask_or_epi32(quotient, fits, quotient, _mm512_set1_epi32(1 << b));
    }
    const __m512i sigmoid = _mm512_mask_sub_epi32(quotient, _mm512_cmpgt_epi32_mask(w, _mm512_setzero_si512()),
                                                  _mm512_set1_epi32(1 << kSigmoidBits), quotient);
    product = _mm512_mullo_epi32(x, sigmoid);
  }
  // Eq. 28/32. Clamping the rescaled value to ±2^17 first keeps z + y from wrapping and cannot
  // change the clamped result (|z| <= 2^15, outputs within 16 bits).
  __m512i y = mbqm(product, p.out_multiplier, p.out_shift);
  y = _mm512_min_epi32(_mm512_max_epi32(y, _mm512_set1_epi32(-(1 << 17))), _mm512_set1_epi32(1 << 17));
  y = _mm512_add_epi32(y, _mm512_set1_epi32(p.out_zero_point));
  return _mm512_min_epi32(_mm512_max_epi32(y, _mm512_set1_epi32(p.out_min)), _mm512_set1_epi32(p.out_max));
}

template <GeluMode kMode>
void gelu_formula(const GeluParams& p, size_t n, const void* in, void* out) {
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask16(n - i);
    if (p.bits == 8) {
      const __m512i q = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, static_cast<const uint8_t*>(in) + i));
      _mm512_mask_cvtepi32_storeu_epi8(static_cast<uint8_t*>(out) + i, m, gelu_codes<kMode>(p, q));
    } else {
      const __m512i q = _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(m, static_cast<const int16_t*>(in) + i));
      _mm512_mask_cvtepi32_storeu_epi16(static_cast<int16_t*>(out) + i, m, gelu_codes<kMode>(p, q));
    }
  }
}

// 256-entry int16 table lookup for 32 uint8 codes at a time: vpermi2w picks among 64 entries,
// bits 6 and 7 of the code pick one of the four results.
void gelu_lut8(const int16_t* table, size_t n, const uint8_t* in, uint8_t* out) {
  __m512i t[8];
  for (int i = 0; i < 8; ++i) t[i] = _mm512_loadu_si512(table + 32 * i);
  for (size_t i = 0; i < n; i += 32) {
    const __mmask32 m = n - i >= 32 ? ~__mmask32{0} : static_cast<__mmask32>((uint32_t{1} << (n - i)) - 1);
    const __m512i idx = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(m, in + i));
    const __m512i r0 = _mm512_permutex2var_epi16(t[0], idx, t[1]);
    const __m512i r1 = _mm512_permutex2var_epi16(t[2], idx, t[3]);
    const __m512i r2 = _mm512_permutex2var_epi16(t[4], idx, t[5]);
    const __m512i r3 = _mm512_permutex2var_epi16(t[6], idx, t[7]);
    const __mmask32 bit6 = _mm512_test_epi16_mask(idx, _mm512_set1_epi16(64));
    const __mmask32 bit7 = _mm512_test_epi16_mask(idx, _mm512_set1_epi16(128));
    const __m512i lo = _mm512_mask_mov_epi16(r0, bit6, r1), hi = _mm512_mask_mov_epi16(r2, bit6, r3);
    _mm512_mask_cvtepi16_storeu_epi8(out + i, m, _mm512_mask_mov_epi16(lo, bit7, hi));
  }
}

// AVX-512 VBMI: the 256 table entries as bytes (8-bit outputs: the low byte is the code, as the
// reference's uint8 store takes it) in four registers; per 64 codes two vpermi2b (bits 0-6 pick
// among 128 bytes) and bit 7 picks the half. Compiled for VBMI by the target attribute, called
// only when the CPU has it (gelu__avx512vbmi). Not in tests/avx512_emu, whose intrinsics are emulated.
#if defined(INTVIT_AVX512_EMULATION)
#define INTVIT_TARGET_VBMI
#else
#define INTVIT_TARGET_VBMI __attribute__((target("avx512f,avx512bw,avx512vbmi")))
#endif
INTVIT_TARGET_VBMI void gelu_lut8_vbmi(const int16_t* table, size_t n, const uint8_t* in, uint8_t* out) {
  __m512i t[4];
  for (int i = 0; i < 4; ++i) {
    const __m256i lo = _mm512_cvtepi16_epi8(_mm512_loadu_si512(table + 64 * i));
    const __m256i hi = _mm512_cvtepi16_epi8(_mm512_loadu_si512(table + 64 * i + 32));
    t[i] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
  }
  for (size_t i = 0; i < n; i += 64) {
    const __mmask64 m = n - i >= 64 ? ~__mmask64{0} : (__mmask64{1} << (n - i)) - 1;
    const __m512i idx = _mm512_maskz_loadu_epi8(m, in + i);
    const __m512i lo = _mm512_permutex2var_epi8(t[0], idx, t[1]);
    const __m512i hi = _mm512_permutex2var_epi8(t[2], idx, t[3]);
    _mm512_mask_storeu_epi8(out + i, m, _mm512_mask_mov_epi8(lo, _mm512_movepi8_mask(idx), hi));
  }
}

// 16-bit table: plain loads. (A 32-bit vpgatherdd at 2-byte steps is bit-identical but measured
// no faster than scalar loads on Zen 4 and up to 3x slower under load.)
void gelu_lut16(const GeluParams& p, size_t n, const int16_t* in, int16_t* out) {
  const int16_t* table = p.table.data() + 32768;
  for (size_t i = 0; i < n; ++i) out[i] = table[in[i]];
}

// 8-bit formula modes on long inputs: evaluate the formula once on all 256 codes (the same lanes
// of arithmetic, so the same bits) and look the input up in that table.
using Lut8Fn = void (*)(const int16_t* table, size_t n, const uint8_t* in, uint8_t* out);

template <GeluMode kMode>
void gelu_formula_tabulated8(const GeluParams& p, size_t n, const uint8_t* in, uint8_t* out, Lut8Fn lut8) {
  alignas(64) int16_t table[256];
  for (int i = 0; i < 256; i += 16) {
    const __m512i q = _mm512_add_epi32(_mm512_set1_epi32(i), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    _mm256_store_si256(reinterpret_cast<__m256i*>(table + i), _mm512_cvtepi32_epi16(gelu_codes<kMode>(p, q)));
  }
  lut8(table, n, in, out);
}

void gelu_with_lut8(const GeluParams& p, size_t n, const void* in, void* out, Lut8Fn lut8) {
  if (p.bits == 8 && p.mode != GeluMode::kLut && n >= 1024) {
    const auto* x = static_cast<const uint8_t*>(in);
    auto* y = static_cast<uint8_t*>(out);
    if (p.mode == GeluMode::kIgelu) return gelu_formula_tabulated8<GeluMode::kIgelu>(p, n, x, y, lut8);
    return gelu_formula_tabulated8<GeluMode::kShiftgelu>(p, n, x, y, lut8);
  }
  switch (p.mode) {
    case GeluMode::kIgelu: return gelu_formula<GeluMode::kIgelu>(p, n, in, out);
    case GeluMode::kShiftgelu: return gelu_formula<GeluMode::kShiftgelu>(p, n, in, out);
    case GeluMode::kLut:
      if (p.bits == 8) return lut8(p.table.data(), n, static_cast<const uint8_t*>(in), static_cast<uint8_t*>(out));
      return gelu_lut16(p, n, static_cast<const int16_t*>(in), static_cast<int16_t*>(out));
  }
}

}  // namespace

void gelu__avx512(const GeluParams& p, size_t n, const void* in, void* out) { gelu_with_lut8(p, n, in, out, gelu_lut8); }

void gelu__avx512vbmi(const GeluParams& p, size_t n, const void* in, void* out) {
  gelu_with_lut8(p, n, in, out, gelu_lut8_vbmi);
}

}  // namespace intvit
