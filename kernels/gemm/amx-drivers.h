// The three products of the amx backend over the micro-kernel of ukernel-amx.h, templated over the
// tile-operations policy (instantiated by *-amx.cc with the real instructions and by *-amxemu.cc
// with the emulation). `stage` is the ISA's output stage (Eq. 11 + store, bias added there).
#pragma once

#include "kernels/gemm/ukernel-amx.h"

namespace intvit::gemm::amx {

inline const TileConfig& kernel_config() {
  static const TileConfig cfg = full_tiles_config();
  return cfg;
}

// Columns [n_begin, n_end) are computed in pairs of 16-column blocks (the packed weights' blocks);
// `g_begin`/`g_end` are the pair's columns inside the requested range.
struct ColumnPair {
  size_t block, n0, g_begin, g_end;
  int nt;
};

template <typename Fn>
void for_each_column_pair(size_t n_begin, size_t n_end, Fn&& fn) {
  const size_t block_end = (n_end + 15) / 16;
  for (size_t block = n_begin / 16; block < block_end; block += 2) {
    ColumnPair p;
    p.block = block;
    p.n0 = block * 16;
    p.nt = block_end - block >= 2 ? 2 : 1;
    p.g_begin = std::max(n_begin, p.n0);
    p.g_end = std::min(n_end, p.n0 + 16 * p.nt);
    fn(p);
  }
}

// (Eq. 8) u8 × s8: acc = Σ_k A·W by tdpbusd, then bias_eff (the Eq. 8 bracket) in the output stage.
// Column pairs outside, row tiles of 32 inside: the pair's weights (32 × K bytes) stay in L1/L2
// while A streams past.
template <class Ops>
void linear_u8(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out, size_t n_begin,
               size_t n_end, OutputStageFn stage) {
  Ops::configure(kernel_config());
  const PackedLayout& l = w.layout();
  const size_t steps = l.k_padded / kTileK;
  alignas(64) Acc acc;
  U8Rows src;
  src.lda = lda;
  src.k = w.k();
  for_each_column_pair(n_begin, n_end, [&](const ColumnPair& p) {
    PackedB b{static_cast<const uint8_t*>(l.weights) + p.block * l.block_stride, l.block_stride};
    for (size_t r = 0; r < m; r += 2 * kTileRows) {
      src.a = static_cast<const uint8_t*>(a) + r * lda;
      src.rows = std::min<size_t>(m - r, 2 * kTileRows);
      tile_product<Ops, Sign::kUS, Sign::kUS>(src.rows > kTileRows ? 2 : 1, p.nt, src, b, steps, acc);
      stage(out, r, src.rows, p.g_begin, p.g_end, &acc[0][p.g_begin - p.n0], 32, l.bias_eff);
    }
  });
}

// (Eq. 10 via Eq. 12) s16 × s8: A = 256·hi + lo, hi·W by tdpbssd into C0/C1 and lo·W by tdpbusd
// into C2/C3, combined as 256·C_hi + C_lo modulo 2^32. Row tiles of 16 outside (their split planes
// are prepared once), column pairs inside.
template <class Ops>
void linear_s16(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out, size_t n_begin,
                size_t n_end, OutputStageFn stage) {
  Ops::configure(kernel_config());
  const PackedLayout& l = w.layout();
  const size_t steps = l.k_padded / kTileK;
  alignas(64) Acc acc;
  S16Split src;
  src.lda = lda;
  src.k = w.k();
  for (size_t r = 0; r < m; r += kTileRows) {
    src.a = static_cast<const int16_t*>(a) + r * lda;
    src.rows = std::min<size_t>(m - r, kTileRows);
    src.prepare();
    for_each_column_pair(n_begin, n_end, [&](const ColumnPair& p) {
      PackedB b{static_cast<const uint8_t*>(l.weights) + p.block * l.block_stride, l.block_stride};
      tile_product<Ops, Sign::kSS, Sign::kUS>(2, p.nt, src, b, steps, acc);
      for (size_t i = 0; i < src.rows; ++i) {
        for (size_t j = 0; j < 32; ++j) {
          const uint32_t hi = static_cast<uint32_t>(acc[i][j]), lo = static_cast<uint32_t>(acc[kTileRows + i][j]);
          acc[i][j] = static_cast<int32_t>(hi * 256u + lo);  // (Eq. 12) modulo 2^32
        }
      }
      stage(out, r, src.rows, p.g_begin, p.g_end, &acc[0][p.g_begin - p.n0], 32, l.bias_eff);
    });
  }
}

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
