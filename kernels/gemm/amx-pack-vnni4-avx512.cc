// pack_vnni4__avx512 and pack_vnni4_kn__avx512 (amx-pack-vnni4.h). From row-major B: a tile of 16 columns × 64 K-bytes is 16 rows of 16
// K-quads (one zmm per row, masked loads past kn and zero rows past nc); its VNNI-4 layout is the
// 16 × 16 transpose of those quads (tile row q = quad q of every row), done in four shuffle stages
// (unpack 32-bit, unpack 64-bit, two 128-bit lane exchanges): 64 shuffles per KiB instead of 256
// 4-byte moves.
#include "kernels/avx512-intrinsics.h"

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

void pack_vnni4_kn__avx512(const uint8_t* rows, size_t ldb, size_t nc, size_t kn, size_t ns, uint8_t* out) {
  const __mmask16 columns = static_cast<__mmask16>((1u << nc) - 1);
  for (size_t q = 0; q < 16 * ns; ++q) {  // tile row q: rows 4q..4q+3 of K (zero past kn)
    __m128i r[4];
    for (size_t i = 0; i < 4; ++i) {
      r[i] = 4 * q + i < kn ? _mm_maskz_loadu_epi8(columns, rows + (4 * q + i) * ldb) : _mm_setzero_si128();
    }
    const __m128i a = _mm_unpacklo_epi8(r[0], r[1]), b = _mm_unpackhi_epi8(r[0], r[1]);  // (k0, k1) pairs of columns 0..7, 8..15
    const __m128i c = _mm_unpacklo_epi8(r[2], r[3]), d = _mm_unpackhi_epi8(r[2], r[3]);  // (k2, k3) pairs
    uint8_t* dst = out + 64 * q;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_unpacklo_epi16(a, c));  // columns 0..3, k0..k3 each
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), _mm_unpackhi_epi16(a, c));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 32), _mm_unpacklo_epi16(b, d));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 48), _mm_unpackhi_epi16(b, d));
  }
}

}  // namespace intvit::gemm::amx
