// attn@v with 16-bit probabilities and its requantization in one kernel (QUANTIZATION.md §4.10,
// Eq. 23c): av16 (Eq. 23b) reading v as the v projection stores it, token-major, and Eq. 11 applied
// to the accumulators before they leave the registers. The executor runs it for 16-bit-probability
// blocks of unobserved runs instead of vᵀ transpose -> av16 -> requantize (engine/int_executor.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace intvit {

// Eq. 11 for attn@v's output, per tensor, uint8 clamp [0, 255]. POD, no float.
struct Av16Requant {
  int32_t multiplier = 0;  // Q31, [0, 2^31) (Eq. 7)
  int32_t shift = 0;       // right shift, negative = left, [-31, 31]
  int32_t zero_point = 0;  // the output's zero-point, [0, 255]
};
static_assert(std::is_trivially_copyable_v<Av16Requant> && std::is_standard_layout_v<Av16Requant>);

// Throws intvit::Error(kInvalidArgument) unless rq is in the ranges above, ld_out >= n and, for
// m, n > 0, probs, v and out are set (k > 0: ld_p >= k). Every av16_u8* entry point calls it
// once per call. Defined in av16-u8-ref.cc (ISA-neutral: no std::string code under AVX flags).
void check_av16_u8_args(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                        const Av16Requant& rq, const uint8_t* out, size_t ld_out);

// (Eq. 23c) out[i][j] = clamp(z_out + MBQM(acc[i][j], M, shift), 0, 255) with
//   acc[i][j] = Σ_kk p[i][kk]·(v[kk][j] − z_v)  (mod 2^32, Eq. 23b)
// for i < m, j < n; v is token-major ([k][n], row stride ld_v: v[kk][j] at v[kk * ld_v + j]), the
// layout av16's vᵀ is the transpose of. The same bytes as av16 on vᵀ followed by requantize()
// with {&M, &shift, per tensor, z_out, 0, 255}. Precondition p <= 32767 (as av16).
void av16_u8_ref(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                 int32_t v_zero_point, const Av16Requant& rq, uint8_t* out, size_t ld_out);
// The outer-product kernels of av16 with v packed straight from its rows and Eq. 11 as the tile's
// epilogue: __avx2 (vpmaddwd + vpaddd), __avxvnni (VEX vpdpwssd), __avx512 (vpmaddwd,
// AVX512-BW), __avx512vnni (vpdpwssd); the KernelSet picks them as it picks av16's.
void av16_u8__avx2(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                   int32_t v_zero_point, const Av16Requant& rq, uint8_t* out, size_t ld_out);
void av16_u8__avxvnni(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                      int32_t v_zero_point, const Av16Requant& rq, uint8_t* out, size_t ld_out);
void av16_u8__avx512(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                     int32_t v_zero_point, const Av16Requant& rq, uint8_t* out, size_t ld_out);
void av16_u8__avx512vnni(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                         int32_t v_zero_point, const Av16Requant& rq, uint8_t* out, size_t ld_out);

}  // namespace intvit
