// Integer GELU (kernels/QUANTIZATION.md §5, Eq. 24-32): uint8 -> uint8 (bits = 8, zero-points in
// [0, 255]) or int16 -> int16 (bits = 16, zero-points in [-32768, 32767], normally 0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace intvit {

enum class GeluMode { kIgelu, kShiftgelu, kLut };

// "igelu" | "shiftgelu" | "lut"; throws intvit::Error(kInvalidArgument) otherwise.
GeluMode parse_gelu_mode(std::string_view name);
const char* gelu_mode_name(GeluMode mode);

namespace gelu_detail {
inline constexpr int kErfBits = 28;      // Eq. 26: erf in Q28
inline constexpr int kErfNarrow = 14;    // Eq. 27: 1 + erf in Q14
inline constexpr int kShiftBits = 15;    // Eq. 29-30: Q15 exp
inline constexpr int kSigmoidBits = 14;  // Eq. 31: sigmoid in Q14
}  // namespace gelu_detail

// Built offline by make_gelu_params; the kernels only read it. No float.
struct GeluParams {
  GeluMode mode = GeluMode::kLut;
  int32_t bits = 8;
  int32_t in_zero_point = 0, out_zero_point = 0;
  int32_t out_min = 0, out_max = 255;
  int32_t pre_multiplier = 0, pre_shift = 0;   // Eq. 25 / 29: (q - z_in) -> erf / sigmoid argument
  int32_t erf_clip = 0;                        // Eq. 25: B = round(1.769 / s_e)
  int32_t out_multiplier = 0, out_shift = 0;   // Eq. 28 / 32: product -> output steps
  // kLut: output code per input code; 8-bit: 256 entries indexed by q; 16-bit: 65536 entries
  // indexed by q + 32768 (plus one padding entry, so a 32-bit gather could stay inside).
  std::vector<int16_t> table;
};

GeluParams make_gelu_params(GeluMode mode, double in_scale, int32_t in_zero_point, double out_scale,
                            int32_t out_zero_point, int bits);

// n elements; in/out are uint8_t* (bits = 8) or int16_t* (bits = 16). May run in place. The _ref,
// __avx2, __avx512 and __avx512vbmi (AVX-512 + VBMI: the 8-bit tables by vpermi2b) variants compute
// the same bits; the session's KernelSet picks one (kernels/backend/backend.h), VBMI where the CPU
// has it.
void gelu_ref(const GeluParams& p, size_t n, const void* in, void* out);
void gelu__avx2(const GeluParams& p, size_t n, const void* in, void* out);
void gelu__avx512(const GeluParams& p, size_t n, const void* in, void* out);
void gelu__avx512vbmi(const GeluParams& p, size_t n, const void* in, void* out);

// The 8-bit GELU (any mode) as a byte table: table[q] = gelu_ref of code q, for all 256 codes — the
// form a GEMM output stage applies after fc1 (GemmOutput::byte_table, QUANTIZATION.md §3.6).
// Throws intvit::Error(kInvalidArgument) unless p.bits == 8.
void gelu_byte_table(const GeluParams& p, uint8_t* table /*[256]*/);

}  // namespace intvit
