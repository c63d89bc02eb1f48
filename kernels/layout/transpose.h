// Byte-matrix transpose: the executor's vᵀ ([T][D] -> [D][T]) that feeds attn@v (av16, av_log2 and
// the u8 × u8 "nt" GEMM all read v transposed).
#pragma once

#include <cstddef>
#include <cstdint>

namespace intvit {

// y[e][j] = x[j][e] for rows j in [j0, j1) of x and all d columns e (x: row stride ld_x bytes; y:
// row stride ld_y bytes). Writes only columns [j0, j1) of y, so threads may split j. SSE2 (the
// x86-64 baseline: no ISA dispatch) in 16 × 16 blocks, scalar at the edges.
void transpose_u8(size_t d, size_t j0, size_t j1, const uint8_t* x, size_t ld_x, uint8_t* y, size_t ld_y);

}  // namespace intvit
