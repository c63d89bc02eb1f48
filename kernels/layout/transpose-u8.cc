// transpose_u8 (kernels/layout/transpose.h). A 16 × 16 byte block is 4 rounds of
// out[2i] = unpacklo_epi8(in[i], in[i + 8]), out[2i + 1] = unpackhi_epi8(in[i], in[i + 8]): each
// round rotates the 8-bit (row, column) index of every byte left by one, so after 4 rounds row and
// column have swapped. 64 unpacks per 256 bytes instead of 256 strided byte stores.
#include "kernels/layout/transpose.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace intvit {
namespace {

void transpose_scalar(size_t e0, size_t e1, size_t j0, size_t j1, const uint8_t* x, size_t ld_x, uint8_t* y, size_t ld_y) {
  for (size_t j = j0; j < j1; ++j) {
    for (size_t e = e0; e < e1; ++e) y[e * ld_y + j] = x[j * ld_x + e];
  }
}

}  // namespace

void transpose_u8(size_t d, size_t j0, size_t j1, const uint8_t* x, size_t ld_x, uint8_t* y, size_t ld_y) {
  size_t j = j0;
#if defined(__SSE2__)
  const size_t d16 = d / 16 * 16;
  for (; j + 16 <= j1; j += 16) {
    for (size_t e = 0; e < d16; e += 16) {
      __m128i r[16], t[16];
      for (int i = 0; i < 16; ++i) r[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + (j + i) * ld_x + e));
      for (int round = 0; round < 4; ++round) {
        for (int i = 0; i < 8; ++i) {
          t[2 * i] = _mm_unpacklo_epi8(r[i], r[i + 8]);
          t[2 * i + 1] = _mm_unpackhi_epi8(r[i], r[i + 8]);
        }
        for (int i = 0; i < 16; ++i) r[i] = t[i];
      }
      for (int i = 0; i < 16; ++i) _mm_storeu_si128(reinterpret_cast<__m128i*>(y + (e + i) * ld_y + j), r[i]);
    }
    transpose_scalar(d16, d, j, j + 16, x, ld_x, y, ld_y);
  }
#endif
  transpose_scalar(0, d, j, j1, x, ld_x, y, ld_y);
}

}  // namespace intvit
