// The linear layers of the amx backend over the micro-kernel of ukernel-amx.h, templated over the
// tile-operations policy (instantiated by *-amx.cc with the real instructions and by *-amxemu.cc
// with the emulation). `block` (amx_block_stage_for) is the output stage of one block of tile
// results (Eq. 11 + store), resolved for the plan once per call; where the host has none (the
// emulation on a CPU without AVX-512), `stage`, the ISA's generic output stage. The bias is not
// the stages' work: the C tiles start from it (tile_issue's init rows), as the VNNI kernels'
// accumulators start from bias_eff, so the stages get no bias (nullptr).
// The attention products (q@kᵀ, attn@v16) are in amx-attention.h.
#pragma once

#include "kernels/gemm/ukernel-amx.h"

namespace intvit::gemm::amx {
// Internal linkage: this header is compiled with AVX-512 flags in *-amx.cc and for any x86-64 in
// *-amxemu.cc, so external-linkage inline functions (DeferredStage's members) could be merged
// across them by the linker (an ODR violation: AVX-512 code in the emulation's path).
namespace {

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

// The output stage of the linear layers' blocks, run one block late: a driver issues the tile
// instructions of block i + 1 (tile_issue), then the stage of block i from its buffer (flush),
// then stores block i + 1 into the other buffer (tile_store into buffer(), defer). On AMX hardware
// the tile unit multiplies block i + 1 while the vector ports requantize block i; the values and
// where they go are the same as stage-after-product, only the order of independent work changes.
class DeferredStage {
 public:
  DeferredStage(const OutputPlan& out, OutputStageFn stage, AmxBlockStageFn block, bool split)
      : out_(out), stage_(stage), block_(block), split_(split) {}
  Acc& buffer() { return acc_[cur_]; }  // where the block being computed is stored
  // The block just stored into buffer() (rows [r, r + rows), column pair p) is the pending one.
  void defer(size_t r, size_t rows, const ColumnPair& p) {
    pending_ = Block{r, rows, p, cur_};
    has_pending_ = true;
    cur_ ^= 1;
  }
  void flush() {
    if (!has_pending_) return;
    has_pending_ = false;
    const Block& b = pending_;
    Acc& acc = acc_[b.buffer];
    if (block_) return block_(out_, b.r, b.rows, b.p.n0, b.p.g_begin, b.p.g_end, &acc[0][0], split_ ? &acc[kTileRows][0] : nullptr, nullptr);
    if (split_) {
      for (size_t i = 0; i < b.rows; ++i) {
        for (size_t j = 0; j < 32; ++j) {
          const uint32_t hi = static_cast<uint32_t>(acc[i][j]), lo = static_cast<uint32_t>(acc[kTileRows + i][j]);
          acc[i][j] = static_cast<int32_t>(hi * 256u + lo);  // (Eq. 12) modulo 2^32
        }
      }
    }
    stage_(out_, b.r, b.rows, b.p.g_begin, b.p.g_end, &acc[0][b.p.g_begin - b.p.n0], 32, nullptr);
  }

 private:
  struct Block {
    size_t r, rows;
    ColumnPair p;
    int buffer;
  };
  const OutputPlan& out_;
  OutputStageFn stage_;
  AmxBlockStageFn block_;
  bool split_;
  alignas(64) Acc acc_[2];
  Block pending_{};
  bool has_pending_ = false;
  int cur_ = 0;
};

// (Eq. 8) u8 × s8: acc = bias_eff (the Eq. 8 bracket, loaded into the C tiles) + Σ_k A·W by tdpbusd.
// Column pairs outside, row tiles of 32 inside: the pair's weights (32 × K bytes) stay in L1/L2
// while A streams past.
template <class Ops>
void linear_u8(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out, size_t n_begin,
               size_t n_end, OutputStageFn stage, AmxBlockStageFn block) {
  Ops::configure(kernel_config());
  const PackedLayout& l = w.layout();
  const size_t steps = l.k_padded / kTileK;
  DeferredStage deferred(out, stage, block, false);
  U8Rows src;
  src.lda = lda;
  src.k = w.k();
  for_each_column_pair(n_begin, n_end, [&](const ColumnPair& p) {
    PackedB b{static_cast<const uint8_t*>(l.weights) + p.block * l.block_stride, l.block_stride};
    for (size_t r = 0; r < m; r += 2 * kTileRows) {
      src.a = static_cast<const uint8_t*>(a) + r * lda;
      src.rows = std::min<size_t>(m - r, 2 * kTileRows);
      const int mt = src.rows > kTileRows ? 2 : 1;
      tile_issue<Ops, Sign::kUS, Sign::kUS>(mt, p.nt, src, b, steps, l.bias_eff + p.n0, l.bias_eff + p.n0);
      deferred.flush();
      tile_store<Ops>(mt, p.nt, deferred.buffer());
      deferred.defer(r, src.rows, p);
    }
  });
  deferred.flush();
}

// (Eq. 10 via Eq. 12) s16 × s8: A = 256·hi + lo, hi·W by tdpbssd into C0/C1 and lo·W by tdpbusd
// into C2/C3 (which start from the bias: 256·C_hi + C_lo + bias is the same modulo 2^32), combined
// as 256·C_hi + C_lo modulo 2^32 (in the output stage). Row tiles of 16
// outside (their split planes are prepared once), column pairs inside.
template <class Ops>
void linear_s16(const PackedWeights& w, size_t m, const void* a, size_t lda, const OutputPlan& out, size_t n_begin,
                size_t n_end, OutputStageFn stage, AmxBlockStageFn block) {
  Ops::configure(kernel_config());
  const PackedLayout& l = w.layout();
  const size_t steps = l.k_padded / kTileK;
  DeferredStage deferred(out, stage, block, true);
  S16Split src;
  src.lda = lda;
  src.k = w.k();
  for (size_t r = 0; r < m; r += kTileRows) {
    src.a = static_cast<const int16_t*>(a) + r * lda;
    src.rows = std::min<size_t>(m - r, kTileRows);
    src.prepare();
    for_each_column_pair(n_begin, n_end, [&](const ColumnPair& p) {
      PackedB b{static_cast<const uint8_t*>(l.weights) + p.block * l.block_stride, l.block_stride};
      tile_issue<Ops, Sign::kSS, Sign::kUS>(2, p.nt, src, b, steps, nullptr, l.bias_eff + p.n0);
      deferred.flush();
      tile_store<Ops>(2, p.nt, deferred.buffer());
      deferred.defer(r, src.rows, p);
    });
  }
  deferred.flush();
}

}  // namespace
}  // namespace intvit::gemm::amx
