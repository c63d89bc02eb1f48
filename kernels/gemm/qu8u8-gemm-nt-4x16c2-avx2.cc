// u8 × u8 product with two zero-points (Eq. 9), AVX2, B in the "nt" layout [N][K].
//
// Both operands are widened to int16 with their zero-points subtracted, so vpmaddwd computes
// (A − z_a)(B − z_b) pairs directly: |pair sum| <= 2·255² < 2^31, and no correction terms are needed.
// B − z_b is packed per call into a 32 KiB stack buffer ([block][k/2][8][2] int16), in chunks of
// columns (and of K for K > 1024); nothing is allocated.
// Pre-RA instruction scheduling: without it GCC 12 copies accumulators between registers on
// every k-step; it must precede every include of this file.
#pragma GCC optimize("schedule-insns")
#include <algorithm>

#include "kernels/gemm/ukernel-avx2.h"

namespace intvit::gemm {
namespace {

constexpr size_t kPackBytes = 32768;
constexpr size_t kMaxChunkK = 1024;  // even
constexpr size_t kMaxChunkCols = 1024;

// B[0:cols, k0:k0+kc] − zb → [block][kc/2][8][2] int16, zero beyond the matrix.
void pack_b(const uint8_t* b, size_t ldb, int32_t zb, size_t cols, size_t k0, size_t kc, int16_t* dst) {
  const size_t pairs = (kc + 1) / 2, blocks = (cols + 7) / 8;
  std::memset(dst, 0, blocks * pairs * 16 * sizeof(int16_t));
  for (size_t col = 0; col < cols; ++col) {
    const uint8_t* row = b + col * ldb + k0;
    int16_t* out = dst + (col / 8) * pairs * 16 + (col % 8) * 2;
    for (size_t p = 0; p < kc; ++p) out[(p / 2) * 16 + p % 2] = static_cast<int16_t>(row[p] - zb);
  }
}

}  // namespace

void qu8u8_gemm_nt_4x16c2__avx2(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za,
                                const uint8_t* b, size_t ldb, int32_t zb, int32_t* c, size_t ldc) {
  using namespace avx2;
  constexpr auto& kTable = DotTileTable<kMR, kNB, Kind::kU8Widen>::kTable;
  constexpr size_t kWidth = 8 * kNB;
  alignas(32) int16_t packed[kPackBytes / 2];
  alignas(32) static constexpr int32_t kZeros[kWidth] = {};
  const size_t chunk_k = std::min(k, kMaxChunkK);
  const size_t chunk_cols = std::min(kMaxChunkCols, kPackBytes / (((chunk_k + 1) / 2) * 32) * 8);
  for (size_t n0 = 0; n0 < n; n0 += chunk_cols) {
    const size_t cols = std::min(chunk_cols, n - n0);
    for (size_t k0 = 0; k0 < k; k0 += chunk_k) {
      const size_t kc = std::min(chunk_k, k - k0);
      const size_t block_stride = (kc + 1) / 2 * 32;
      pack_b(b + n0 * ldb, ldb, zb, cols, k0, kc, packed);
      for (size_t r = 0; r < m; r += kMR) {
        const size_t mr = std::min<size_t>(kMR, m - r);
        for (size_t j0 = 0; j0 < cols; j0 += kWidth) {
          const size_t width = std::min(kWidth, cols - j0);
          TileArgs t;
          t.k = kc;
          t.a = a + r * lda + k0;
          t.lda = lda;
          t.a_offset = za;
          t.w = reinterpret_cast<const int8_t*>(packed) + (j0 / 8) * block_stride;
          t.block_stride = block_stride;
          t.c = c + r * ldc + n0 + j0;
          t.ldc = ldc;
          t.init = k0 == 0 ? kZeros : t.c;  // later K chunks continue from the partial sums in C
          t.ld_init = k0 == 0 ? 0 : ldc;
          t.col_mask = (uint32_t{1} << width) - 1;
          kTable[mr - 1][(width + 7) / 8 - 1](t);
        }
      }
    }
  }
}

}  // namespace intvit::gemm
