// u8 × u8 product with two zero-points (Eq. 9), AVX2, B in the "nt" layout [N][K].
//
// Both operands are widened to int16 with their zero-points subtracted, so vpmaddwd computes
// (A − z_a)(B − z_b) pairs directly: |pair sum| <= 2·255² < 2^31, and no correction terms are needed.
// Per call, B − z_b is packed into a 32 KiB stack panel ([block][k/2][8][2], the weight layout of
// linear()) and A − z_a into a 32 KiB stack panel of 4-row tiles ([tile][k/2][4][2]), in chunks of
// columns, rows and (for K > 2048) depth; the tile is ukernel-avx2.h's panel_tile. Nothing is allocated.
// Pre-RA instruction scheduling: without it GCC 12 copies accumulators between registers on
// every k-step; it must precede every include of this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("schedule-insns")
#endif
#include <algorithm>

#include "kernels/gemm/ukernel-avx2.h"

namespace intvit::gemm {
namespace {

constexpr size_t kBPanelBytes = 32768;
constexpr size_t kAPanelBytes = 32768;
constexpr size_t kMaxChunkK = 2048;  // even; one 8-column block of B fills the B panel
constexpr size_t kMaxChunkCols = 1024;

}  // namespace

void qu8u8_gemm_nt_4x16c2__avx2(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za,
                                const uint8_t* b, size_t ldb, int32_t zb, int32_t* c, size_t ldc) {
  using namespace avx2;
  constexpr size_t kWidth = 8 * kNB;
  alignas(64) int16_t b_panel[(kBPanelBytes + kPackSlack<8>) / 2];
  alignas(64) int16_t a_panel[(kAPanelBytes + kPackSlack<kPanelMR>) / 2];
  const size_t chunk_k = std::min(k, kMaxChunkK);
  const size_t chunk_cols = std::min(kMaxChunkCols, kBPanelBytes / (((chunk_k + 1) / 2) * 32) * 8);
  for (size_t n0 = 0; n0 < n; n0 += chunk_cols) {
    const size_t cols = std::min(chunk_cols, n - n0);
    for (size_t k0 = 0; k0 < k; k0 += chunk_k) {
      const size_t kc = std::min(chunk_k, k - k0), pairs = (kc + 1) / 2;
      const size_t block_stride = pairs * 32, tile_elems = pairs * kPanelMR * 2;
      for (size_t j = 0; j < cols; j += 8) {
        pack_pairs<8>(b + (n0 + j) * ldb + k0, ldb, std::min<size_t>(8, cols - j), kc, zb, b_panel + j / 8 * (block_stride / 2));
      }
      const size_t chunk_rows = kAPanelBytes / (tile_elems * 2) * kPanelMR;
      for (size_t r0 = 0; r0 < m; r0 += chunk_rows) {
        const size_t rows = std::min(chunk_rows, m - r0);
        for (size_t r = 0; r < rows; r += kPanelMR) {
          pack_pairs<kPanelMR>(a + (r0 + r) * lda + k0, lda, std::min<size_t>(kPanelMR, rows - r), kc, za,
                               a_panel + r / kPanelMR * tile_elems);
        }
        for (size_t j0 = 0; j0 < cols; j0 += kWidth) {
          const size_t width = std::min(kWidth, cols - j0);
          PanelTileArgs t;
          t.pairs = pairs;
          t.w = b_panel + j0 / 8 * (block_stride / 2);
          t.block_stride = block_stride;
          t.col_mask = (uint32_t{1} << width) - 1;
          for (size_t r = 0; r < rows;) {  // the full tiles in one call, then the rest
            const size_t mr = std::min<size_t>(kPanelMR, rows - r);
            t.tiles = mr == kPanelMR ? (rows - r) / kPanelMR : 1;
            t.a = a_panel + r / kPanelMR * tile_elems;
            t.c = c + (r0 + r) * ldc + n0 + j0;
            t.ldc = ldc;
            t.init = k0 == 0 ? nullptr : t.c;  // later K chunks continue from the partial sums in C
            t.ld_init = ldc;
            PanelTiles<>::kTable[mr - 1][(width + 7) / 8 - 1](t);
            r += t.tiles * kPanelMR;
          }
        }
      }
    }
  }
}

}  // namespace intvit::gemm
