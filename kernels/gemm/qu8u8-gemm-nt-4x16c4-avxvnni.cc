// u8 × u8 product with two zero-points (Eq. 9), AVX-VNNI (256-bit vpdpbusd), B in the "nt" layout.
// Same expansion as qu8u8-gemm-nt-4x64c4-avx512vnni.cc: B is packed as B − 128 (s8) and
//   acc[m,n] = Σ_k A·B' + (128 − z_b)·Σ_k A[m,k] − z_a·Σ_k B[n,k] + K·z_a·z_b   (modulo 2^32, exact),
// with the row terms folded into a per-call initial-accumulator row buffer. B is packed per call
// into a 16 KiB stack buffer in chunks; nothing is allocated.
// Pre-RA instruction scheduling: without it GCC 12 copies accumulators between registers on
// every k-step; it must precede every include of this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("schedule-insns")
#endif
#include <algorithm>

#include "kernels/gemm/ukernel-avx2.h"

namespace intvit::gemm {
namespace {

constexpr size_t kPackBytes = 16384;
constexpr size_t kMaxChunkK = 2048;  // multiple of 4
constexpr size_t kMaxChunkCols = 512;

uint32_t sum_u8(const uint8_t* p, size_t k) {
  __m256i sums = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= k; i += 32) {
    sums = _mm256_add_epi64(sums, _mm256_sad_epu8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)), _mm256_setzero_si256()));
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sums);
  uint64_t total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < k; ++i) total += p[i];
  return static_cast<uint32_t>(total);
}

// B[0:cols, k0:k0+kc] − 128 → [block][kc/4][8][4] int8, zero beyond the matrix.
void pack_b(const uint8_t* b, size_t ldb, size_t cols, size_t k0, size_t kc, int8_t* dst) {
  const size_t groups = (kc + 3) / 4, full = kc / 4, rem = kc % 4;
  const size_t blocks = (cols + 7) / 8;
  std::memset(dst, 0, blocks * groups * 32);
  for (size_t col = 0; col < cols; ++col) {
    const uint8_t* row = b + col * ldb + k0;
    int8_t* out = dst + (col / 8) * groups * 32 + (col % 8) * 4;
    for (size_t g = 0; g < full; ++g) {
      uint32_t v;
      std::memcpy(&v, row + 4 * g, 4);
      v ^= 0x80808080u;
      std::memcpy(out + g * 32, &v, 4);
    }
    for (size_t e = 0; e < rem; ++e) out[full * 32 + e] = static_cast<int8_t>(row[4 * full + e] ^ 0x80);
  }
}

}  // namespace

void qu8u8_gemm_nt_4x16c4__avxvnni(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za,
                                   const uint8_t* b, size_t ldb, int32_t zb, int32_t* c, size_t ldc) {
  using namespace avx2;
  constexpr auto& kTable = DotTileTable<kMR, kNB, Kind::kU8Dpbusd>::kTable;
  constexpr size_t kWidth = 8 * kNB;
  alignas(32) int8_t packed[kPackBytes];
  alignas(32) int32_t col_term[kMaxChunkCols];
  alignas(32) int32_t init[kMR * kWidth];  // col_term + row_term for one tile
  const size_t chunk_k = std::min(k, kMaxChunkK);
  const size_t chunk_cols = std::min(kMaxChunkCols, kPackBytes / (((chunk_k + 3) / 4) * 32) * 8);
  const uint32_t kzz = static_cast<uint32_t>(k) * static_cast<uint32_t>(za) * static_cast<uint32_t>(zb);
  for (size_t n0 = 0; n0 < n; n0 += chunk_cols) {
    const size_t cols = std::min(chunk_cols, n - n0);
    for (size_t j = 0; j < cols; ++j) {
      col_term[j] = static_cast<int32_t>(kzz - static_cast<uint32_t>(za) * sum_u8(b + (n0 + j) * ldb, k));
    }
    for (size_t k0 = 0; k0 < k; k0 += chunk_k) {
      const size_t kc = std::min(chunk_k, k - k0);
      const size_t block_stride = (kc + 3) / 4 * 32;
      pack_b(b + n0 * ldb, ldb, cols, k0, kc, packed);
      for (size_t r = 0; r < m; r += kMR) {
        const size_t mr = std::min<size_t>(kMR, m - r);
        uint32_t row_term[kMR] = {};
        if (k0 == 0) {
          for (size_t i = 0; i < mr; ++i) row_term[i] = static_cast<uint32_t>(128 - zb) * sum_u8(a + (r + i) * lda, k);
        }
        for (size_t j0 = 0; j0 < cols; j0 += kWidth) {
          const size_t width = std::min(kWidth, cols - j0);
          TileArgs t;
          t.k = kc;
          t.a = a + r * lda + k0;
          t.lda = lda;
          t.a_offset = 0;
          t.w = packed + (j0 / 8) * block_stride;
          t.block_stride = block_stride;
          t.c = c + r * ldc + n0 + j0;
          t.ldc = ldc;
          if (k0 == 0) {  // first K chunk: start from the zero-point terms
            for (size_t i = 0; i < mr; ++i) {
              for (size_t j = 0; j < width; ++j) {
                init[i * kWidth + j] = static_cast<int32_t>(static_cast<uint32_t>(col_term[j0 + j]) + row_term[i]);
              }
            }
            t.init = init;
            t.ld_init = kWidth;
          } else {  // later chunks continue from the partial sums in C
            t.init = t.c;
            t.ld_init = ldc;
          }
          t.col_mask = (uint32_t{1} << width) - 1;
          kTable[mr - 1][(width + 7) / 8 - 1](t);
        }
      }
    }
  }
}

}  // namespace intvit::gemm
