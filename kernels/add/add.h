// Residual add of two int32 tensors at different scales (kernels/QUANTIZATION.md §7, Eq. 40):
// out = sat32(MBQM(a, M_a) + MBQM(b, M_b)), M_a = s_a/s_out, M_b = s_b/s_out, all zero-points 0.
// Used where the scales differ (patch embedding + position embedding); block outputs are added
// into the residual stream by the GEMM epilogue instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace intvit {

struct ResidualAddParams {  // POD, no float
  int32_t a_multiplier = 0, a_shift = 0;  // Eq. 7 form of s_a / s_out
  int32_t b_multiplier = 0, b_shift = 0;  // Eq. 7 form of s_b / s_out
};
static_assert(std::is_trivially_copyable_v<ResidualAddParams>);

// Offline (float allowed): each ratio must be < 2^31 (throws intvit::Error otherwise).
ResidualAddParams make_residual_add_params(double a_scale, double b_scale, double out_scale);

// n elements; out may alias a or b. The _ref, __avx2 and __avx512 variants compute the same bits;
// residual_add() runs the one nonlinear_isa() picks (kernels/nonlinear.h).
void residual_add_ref(const ResidualAddParams& p, size_t n, const int32_t* a, const int32_t* b, int32_t* out);
void residual_add__avx2(const ResidualAddParams& p, size_t n, const int32_t* a, const int32_t* b, int32_t* out);
void residual_add__avx512(const ResidualAddParams& p, size_t n, const int32_t* a, const int32_t* b, int32_t* out);
void residual_add(const ResidualAddParams& p, size_t n, const int32_t* a, const int32_t* b, int32_t* out);

}  // namespace intvit
