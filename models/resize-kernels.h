// The two integer passes of the Pillow-exact resampler (resize.h) as kernels with one ABI: a
// scalar reference (`*_ref`, the specification and test oracle) and SIMD variants (`*__avx2`,
// `*__avx512` = F/BW/VL/DQ) that compute the same bytes for every input the contract allows.
//
// One output value of a pass, for output position j and channel byte c:
//   clip(((1 << 21) + sum_t weights[j][t] * in[first[j] + t][c]) >> 22, 0, 255)      (Q22)
// with the >> arithmetic (Pillow's round half up, resize.h). compute_resample_taps() makes the
// tables and guarantees the contract: 1 <= count[j] <= max_taps, first[j] + count[j] <= in_size,
// and the positive and the negative weights of a position each sum to at most
// (2^31 - 1 - 2^21) / 255 in magnitude, so every partial sum in any tap order fits int32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "models/image.h"
#include "models/resize.h"

namespace intvit {

// For each output position j of one pass: the first input index, how many inputs it reads, and
// their Q22 weights (weights[j * max_taps + t], zero for t >= count[j]).
struct ResampleTaps {
  int max_taps = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int32_t> weights;
};

// Pillow precompute_coeffs() + normalize_coeffs_8bpc() for output positions
// [out_begin, out_begin + out_count) of an in_size -> out_size pass over the box (0, in_size).
// Error(kInternal) if a window is empty or the weights could overflow the int32 sums.
ResampleTaps compute_resample_taps(int in_size, int out_size, int out_begin, int out_count, ResizeFilter filter);

// Horizontal pass over `rows` rows of packed RGB, src_width pixels each, starting at src:
// dst row r gets taps.first.size() pixels (packed). Reads only the rows' bytes.
using ResampleHorizontalFn = void (*)(const uint8_t* src, int src_width, int rows, const ResampleTaps& taps,
                                      uint8_t* dst);
// Vertical pass: src holds input rows from src_first_row on, row_bytes bytes each; dst gets
// taps.first.size() rows of row_bytes bytes. Reads only the rows the taps name.
using ResampleVerticalFn = void (*)(const uint8_t* src, size_t row_bytes, int src_first_row, const ResampleTaps& taps,
                                    uint8_t* dst);

void resample_horizontal_rgb8_ref(const uint8_t* src, int src_width, int rows, const ResampleTaps& taps, uint8_t* dst);
void resample_horizontal_rgb8__avx2(const uint8_t* src, int src_width, int rows, const ResampleTaps& taps, uint8_t* dst);
void resample_horizontal_rgb8__avx512(const uint8_t* src, int src_width, int rows, const ResampleTaps& taps,
                                      uint8_t* dst);
void resample_vertical_u8_ref(const uint8_t* src, size_t row_bytes, int src_first_row, const ResampleTaps& taps,
                              uint8_t* dst);
void resample_vertical_u8__avx2(const uint8_t* src, size_t row_bytes, int src_first_row, const ResampleTaps& taps,
                                uint8_t* dst);
void resample_vertical_u8__avx512(const uint8_t* src, size_t row_bytes, int src_first_row, const ResampleTaps& taps,
                                  uint8_t* dst);

// The variants, by the CPU features their files are compiled for (kernels/backend/cpu.h).
enum class ResizeIsa { kRef, kAvx2, kAvx512 };
inline constexpr ResizeIsa kAllResizeIsas[] = {ResizeIsa::kRef, ResizeIsa::kAvx2, ResizeIsa::kAvx512};

const char* resize_isa_name(ResizeIsa isa);
bool resize_isa_supported(ResizeIsa isa);

struct ResizeKernels {
  ResampleHorizontalFn horizontal = resample_horizontal_rgb8_ref;
  ResampleVerticalFn vertical = resample_vertical_u8_ref;
};
// Error(kUnsupported) if this CPU lacks the variant.
ResizeKernels resize_kernels(ResizeIsa isa);

// What resize() runs: the width of the nonlinear kernels (nonlinear_isa_of) of resolve_backend(""),
// the backend $INTVIT_ISA names or else the best this CPU has; so INTVIT_ISA=ref runs the scalar
// passes, and an unknown or unsupported INTVIT_ISA throws resolve_backend's error.
ResizeIsa default_resize_isa();

// resize_window() (resize.h) on the given variant's passes; the same bytes for every variant.
Image resize_window_isa(ResizeIsa isa, const Image& image, int out_width, int out_height, ResizeFilter filter,
                        int crop_left, int crop_top, int crop_width, int crop_height);

}  // namespace intvit
