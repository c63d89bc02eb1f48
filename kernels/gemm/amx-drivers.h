// The linear layers of the amx backend over the micro-kernel of ukernel-amx.h, templated over the
// tile-operations policy (instantiated by *-amx.cc with the real instructions and by *-amxemu.cc
// with the emulation). `block` (amx_block_stage_for) is the output stage of one block of tile
// results (Eq. 11 + store, bias added there), resolved for the plan once per call; where the host
// has none (the emulation on a CPU without AVX-512), `stage`, the ISA's generic output stage.
// The attention products (q@kᵀ, attn@v16) are in amx-attention.h.
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
               size_t n_end, OutputStageFn stage, AmxBlockStageFn block) {
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
      if (block) {
        block(out, r, src.rows, p.n0, p.g_begin, p.g_end, &acc[0][0], nullptr, l.bias_eff);
      } else {
        stage(out, r, src.rows, p.g_begin, p.g_end, &acc[0][p.g_begin - p.n0], 32, l.bias_eff);
      }
    }
  });
}

// (Eq. 10 via Eq. 12) s16 × s8: A = 256·hi + lo, hi·W by tdpbssd into C0/C1 and lo·W by tdpbusd
// into C2/C3, combined as 256·C_hi + C_lo modulo 2^32. Row tiles of 16 outside (their split planes
// are prepared once), column pairs inside.
template <class Ops>
void linear_s16(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out, size_t n_begin,
                size_t n_end, OutputStageFn stage, AmxBlockStageFn block) {
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
      if (block) return block(out, r, src.rows, p.n0, p.g_begin, p.g_end, &acc[0][0], &acc[kTileRows][0], l.bias_eff);
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

}  // namespace intvit::gemm::amx
