// The attention products of the amx backend (q@kᵀ u8 × u8 with two zero-points, attn@v with
// 16-bit probabilities) over the micro-kernel of ukernel-amx.h, templated over the tile-operations
// policy like the linear layers (amx-drivers.h).
#pragma once

#include "kernels/gemm/amx-drivers.h"

namespace intvit::gemm::amx {

// (Eq. 9) u8 × u8 with both zero-points: Σ A·B by tdpbuud, then
// acc − z_b·ΣA[m,:] − z_a·ΣB[n,:] + K·z_a·z_b modulo 2^32 (exact: |Eq. 9| < 2^31 for K ≤ 33000).
// Column pairs outside (B is packed into VNNI-4 tiles once per pair), row tiles of 32 inside.
template <class Ops>
void matmul_u8u8_nt(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za, const uint8_t* b,
                    size_t ldb, int32_t zb, int32_t* c, size_t ldc) {
  Ops::configure(kernel_config());
  const size_t steps = round_up_k(k) / kTileK;
  alignas(64) Acc acc;
  U8Rows src;
  src.lda = lda;
  src.k = k;
  U8ColumnsVnni cols;
  cols.ldb = ldb;
  cols.k = k;
  const uint32_t kzz = static_cast<uint32_t>(k) * static_cast<uint32_t>(za) * static_cast<uint32_t>(zb);
  for_each_column_pair(0, n, [&](const ColumnPair& p) {
    cols.b = b + p.n0 * ldb;
    cols.cols = p.g_end - p.n0;
    cols.prepare();
    uint32_t col_term[32];  // z_a·ΣB[n,:] − K·z_a·z_b
    for (size_t j = 0; j < cols.cols; ++j) {
      uint32_t sum = 0;
      for (size_t q = 0; q < k; ++q) sum += cols.b[j * ldb + q];
      col_term[j] = static_cast<uint32_t>(za) * sum - kzz;
    }
    for (size_t r = 0; r < m; r += 2 * kTileRows) {
      src.a = a + r * lda;
      src.rows = std::min<size_t>(m - r, 2 * kTileRows);
      tile_product<Ops, Sign::kUU, Sign::kUU>(src.rows > kTileRows ? 2 : 1, p.nt, src, cols, steps, acc);
      for (size_t i = 0; i < src.rows; ++i) {
        uint32_t row_sum = 0;
        if (zb != 0) {
          for (size_t q = 0; q < k; ++q) row_sum += src.a[i * lda + q];
        }
        const uint32_t row_term = static_cast<uint32_t>(zb) * row_sum;
        int32_t* dst = c + (r + i) * ldc + p.n0;
        for (size_t j = 0; j < cols.cols; ++j) {
          dst[j] = static_cast<int32_t>(static_cast<uint32_t>(acc[i][j]) - row_term - col_term[j]);
        }
      }
    }
  });
}

// (§4.10, av16) attn@v with 16-bit probabilities: acc = Σ_k p·(v − z_v) with p = 256·p_hi + p_lo,
// both bytes unsigned (tdpbuud twice, on the same VNNI-4 tiles of vᵀ), combined as
// 256·H + L − z_v·Σ_k p modulo 2^32 — the arithmetic of av16_ref for every uint16 p and int32 z_v.
// Column pairs outside (vᵀ packed once per pair; head_dim 64 is one pair), row tiles of 16 inside.
template <class Ops>
void av16(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
          int32_t v_zero_point, int32_t* out, size_t ld_out) {
  if (k == 0) {
    for (size_t i = 0; i < m; ++i) std::fill_n(out + i * ld_out, n, 0);
    return;
  }
  Ops::configure(kernel_config());
  const size_t steps = round_up_k(k) / kTileK;
  alignas(64) Acc acc;
  S16Split src;  // the byte planes of p (the split reads the bits; the tdpbuud signs make both unsigned)
  src.lda = ld_p;
  src.k = k;
  U8ColumnsVnni cols;
  cols.ldb = ld_v;
  cols.k = k;
  for_each_column_pair(0, n, [&](const ColumnPair& p) {
    cols.b = v_t + p.n0 * ld_v;
    cols.cols = p.g_end - p.n0;
    cols.prepare();
    for (size_t r = 0; r < m; r += kTileRows) {
      src.a = reinterpret_cast<const int16_t*>(probs + r * ld_p);
      src.rows = std::min<size_t>(m - r, kTileRows);
      src.prepare();
      tile_product<Ops, Sign::kUU, Sign::kUU>(2, p.nt, src, cols, steps, acc);
      for (size_t i = 0; i < src.rows; ++i) {
        uint32_t row_sum = 0;
        for (size_t q = 0; q < k; ++q) row_sum += probs[(r + i) * ld_p + q];
        const uint32_t row_term = static_cast<uint32_t>(v_zero_point) * row_sum;
        int32_t* dst = out + (r + i) * ld_out + p.n0;
        for (size_t j = 0; j < cols.cols; ++j) {
          const uint32_t hi = static_cast<uint32_t>(acc[i][j]), lo = static_cast<uint32_t>(acc[kTileRows + i][j]);
          dst[j] = static_cast<int32_t>(hi * 256u + lo - row_term);
        }
      }
    }
  });
}

}  // namespace intvit::gemm::amx
