// pack_vnni4__avx512 (amx-pack-vnni4.h): a tile of 16 columns × 64 K-bytes is 16 rows of 16
// K-quads (one zmm per row, masked loads past kn and zero rows past nc); its VNNI-4 layout is the
// 16 × 16 transpose of those quads (tile row q = quad q of every row), done in four shuffle stages
// (unpack 32-bit, unpack 64-bit, two 128-bit lane exchanges): 64 shuffles per KiB instead of 256
// 4-byte moves.
// GCC 12's AVX-512 headers trip -Wuninitialized on their _mm512_undefined_*() self-initialisation
// (GCC bug 105593, fixed in 12.3); the pragma must precede #include <immintrin.h>.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/gemm/amx-pack-vnni4.h"

namespace intvit::gemm::amx {
namespace {

// out[q] (64 bytes) = quad q of r[0..15], in order.
inline void transpose_quads(const __m512i (&r)[16], uint8_t* out) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {  // lane L of t[2i] = a4L b4L a4L+1 b4L+1, of t[2i+1] = a4L+2 b4L+2 a4L+3 b4L+3
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {  // lane L of u[4i + j] = quad 4L + j of rows 4i..4i+3
    u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int j = 0; j < 4; ++j) {  // quad 4L + j of all rows = lane L of u[j], u[4 + j], u[8 + j], u[12 + j]
    const __m512i x0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x44), x1 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xEE);
    const __m512i x2 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x44), x3 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xEE);
    _mm512_storeu_si512(out + 64 * j, _mm512_shuffle_i32x4(x0, x2, 0x88));
    _mm512_storeu_si512(out + 64 * (4 + j), _mm512_shuffle_i32x4(x0, x2, 0xDD));
    _mm512_storeu_si512(out + 64 * (8 + j), _mm512_shuffle_i32x4(x1, x3, 0x88));
    _mm512_storeu_si512(out + 64 * (12 + j), _mm512_shuffle_i32x4(x1, x3, 0xDD));
  }
}

}  // namespace

void pack_vnni4__avx512(const uint8_t* rows, size_t ldb, size_t nc, size_t kn, size_t ns, uint8_t* out) {
  for (size_t s = 0; s < ns; ++s) {
    const size_t k0 = 64 * s, bytes = kn > k0 ? (kn - k0 < 64 ? kn - k0 : 64) : 0;
    const __mmask64 mask = bytes == 64 ? ~__mmask64{0} : (__mmask64{1} << bytes) - 1;
    __m512i r[16];
    for (size_t n = 0; n < 16; ++n) {
      r[n] = n < nc && bytes != 0 ? _mm512_maskz_loadu_epi8(mask, rows + n * ldb + k0) : _mm512_setzero_si512();
    }
    transpose_quads(r, out + 1024 * s);
  }
}

}  // namespace intvit::gemm::amx
