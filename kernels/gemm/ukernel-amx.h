// The AMX micro-kernel and its operand sources, written once over the tile-operations policy
// (amx-tile.h): *-amx.cc instantiate it with the real instructions, *-amxemu.cc with the
// emulation, so packing, tiling, edges and epilogues are the same code in both.
//
// Register tile (8 tiles of 16 rows × 64 bytes): C0..C3 = tmm0..3 (2 row tiles × 2 column tiles
// of 16 × 16 int32), A0/A1 = tmm4/5 (16 rows × 64 K-bytes), B0/B1 = tmm6/7 (16 K-quads × 16
// columns, VNNI-4). One k-step = 64 values of K: 4 loads, 4 tdpb*d. Results go through a 32 × 32
// int32 buffer to the ISA's output stage (Eq. 11 is not written here).
// Edges are zero-padded in memory rather than by reconfiguring tiles: A rows past m and K past k
// are copied into a zeroed 16 × 64 buffer; B columns and K past the end are zero in the packing.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "kernels/gemm/amx-pack-vnni4.h"
#include "kernels/gemm/amx-split-planes.h"
#include "kernels/gemm/amx-tile.h"
#include "kernels/gemm/gemm-kernels.h"

namespace intvit::gemm::amx {

using TileSpan = std::pair<const void*, size_t>;  // tile row 0 and the row stride in bytes
using Acc = int32_t[2 * kTileRows][32];           // C0 | C1 over C2 | C3

// Operands larger than this many K-bytes per row are prepared one k-step at a time instead of
// once per call: keeps the stack panels at 64 KiB (2 planes × 16 rows, or 32 columns × 2048).
constexpr size_t kPanelK = 2048;

inline size_t round_up_k(size_t k) { return (k + kTileK - 1) / kTileK * kTileK; }

// C = A · B over `steps` k-steps for mt row tiles and nt column tiles (1 or 2 each), left in the
// C tiles (tmm0..3) for tile_store. Row tile 0 is multiplied with the sign S0, row tile 1 with S1
// (the s16 split uses both rows for the same rows of A: high bytes signed, low bytes unsigned).
// a(i, s) and b(j, s) give the tiles of k-step s. Split from the store so that a driver can run
// the previous block's output stage (vector ports) while the tile unit computes this one.
// init0 / init1: where not null, the C tiles of row tile 0 / 1 start from that row of int32 (its
// 16j.. for column tile j, every row the same: a tileloadd with stride 0) instead of zero — a
// linear's bias, added by the tile unit since tdpb*d accumulates on top modulo 2^32 (Eq. 8).
template <class Ops, int T>
inline void init_tile(const int32_t* row) {
  if (row != nullptr) return Ops::template load<T>(row, 0);
  Ops::template zero<T>();
}
// The k-steps of tile_issue: C tiles tmm0..3 += A · B, whatever they started from.
template <class Ops, Sign S0, Sign S1, int MT, int NT, class ASrc, class BSrc>
inline void tile_steps(ASrc& a, BSrc& b, size_t steps) {
  for (size_t s = 0; s < steps; ++s) {
    const TileSpan a0 = a(0, s);
    Ops::template load<4>(a0.first, a0.second);
    if constexpr (MT > 1) {
      const TileSpan a1 = a(1, s);
      Ops::template load<5>(a1.first, a1.second);
    }
    const TileSpan b0 = b(0, s);
    Ops::template load<6>(b0.first, b0.second);
    if constexpr (NT > 1) {
      const TileSpan b1 = b(1, s);
      Ops::template load<7>(b1.first, b1.second);
    }
    Ops::template dot<S0, 0, 4, 6>();
    if constexpr (NT > 1) Ops::template dot<S0, 1, 4, 7>();
    if constexpr (MT > 1) Ops::template dot<S1, 2, 5, 6>();
    if constexpr (MT > 1 && NT > 1) Ops::template dot<S1, 3, 5, 7>();
  }
}
template <class Ops, Sign S0, Sign S1, int MT, int NT, class ASrc, class BSrc>
void tile_issue(ASrc& a, BSrc& b, size_t steps, const int32_t* init0 = nullptr, const int32_t* init1 = nullptr) {
  init_tile<Ops, 0>(init0);
  if constexpr (NT > 1) init_tile<Ops, 1>(init0 != nullptr ? init0 + 16 : nullptr);
  if constexpr (MT > 1) init_tile<Ops, 2>(init1);
  if constexpr (MT > 1 && NT > 1) init_tile<Ops, 3>(init1 != nullptr ? init1 + 16 : nullptr);
  tile_steps<Ops, S0, S1, MT, NT>(a, b, steps);
}

// tile_issue<Ops, S0, S1, 2, NT> with row tile 1's C tiles (both column tiles) starting from the
// 16 × 16 int32 tile at `rows1` (rows 64 bytes apart, one value per row: attn@v16's −z_v·Σ_k p,
// amx-attention.h, Eq. 23d) instead of zero; row tile 0 from zero. tdpb*d accumulates on top modulo 2^32.
// The k-steps are tile_issue's (tile_steps).
template <class Ops, Sign S0, Sign S1, int NT, class ASrc, class BSrc>
void tile_issue_row_init(ASrc& a, BSrc& b, size_t steps, const int32_t* rows1) {
  Ops::template zero<0>();
  if constexpr (NT > 1) Ops::template zero<1>();
  Ops::template load<2>(rows1, kTileBytes);
  if constexpr (NT > 1) Ops::template load<3>(rows1, kTileBytes);
  tile_steps<Ops, S0, S1, 2, NT>(a, b, steps);
}

// c = the C tiles of tile_issue<…, MT, NT> (c: rows of ldc int32, acc or a wider buffer).
template <class Ops, int MT, int NT>
void tile_store(int32_t* c, size_t ldc) {
  const size_t ld = ldc * sizeof(int32_t);
  Ops::template store<0>(c, ld);
  if constexpr (NT > 1) Ops::template store<1>(c + 16, ld);
  if constexpr (MT > 1) Ops::template store<2>(c + kTileRows * ldc, ld);
  if constexpr (MT > 1 && NT > 1) Ops::template store<3>(c + kTileRows * ldc + 16, ld);
}
template <class Ops, int MT, int NT>
void tile_store(Acc& acc) {
  tile_store<Ops, MT, NT>(&acc[0][0], 32);
}

// tile_issue and tile_store for mt, nt in {1, 2} at run time.
template <class Ops, Sign S0, Sign S1, class ASrc, class BSrc>
void tile_issue(int mt, int nt, ASrc& a, BSrc& b, size_t steps, const int32_t* init0 = nullptr, const int32_t* init1 = nullptr) {
  if (mt == 2 && nt == 2) return tile_issue<Ops, S0, S1, 2, 2>(a, b, steps, init0, init1);
  if (mt == 2) return tile_issue<Ops, S0, S1, 2, 1>(a, b, steps, init0, init1);
  if (nt == 2) return tile_issue<Ops, S0, S1, 1, 2>(a, b, steps, init0, init1);
  tile_issue<Ops, S0, S1, 1, 1>(a, b, steps, init0, init1);
}
template <class Ops>
void tile_store(int mt, int nt, int32_t* c, size_t ldc) {
  if (mt == 2 && nt == 2) return tile_store<Ops, 2, 2>(c, ldc);
  if (mt == 2) return tile_store<Ops, 2, 1>(c, ldc);
  if (nt == 2) return tile_store<Ops, 1, 2>(c, ldc);
  tile_store<Ops, 1, 1>(c, ldc);
}
template <class Ops>
void tile_store(int mt, int nt, Acc& acc) {
  tile_store<Ops>(mt, nt, &acc[0][0], 32);
}

// acc = A · B: tile_issue then tile_store.
template <class Ops, Sign S0, Sign S1, class ASrc, class BSrc>
void tile_product(int mt, int nt, ASrc& a, BSrc& b, size_t steps, Acc& acc) {
  tile_issue<Ops, S0, S1>(mt, nt, a, b, steps);
  tile_store<Ops>(mt, nt, acc);
}

// The operand sources have internal linkage: the files including this header are compiled with
// different ISA flags (*-amx.cc with AVX-512, *-amxemu.cc for any x86-64), so external-linkage
// inline members could be merged across them by the linker (an ODR violation: AVX-512 code in
// the emulation's path).
namespace {

// ---- A sources.

// uint8 rows [0, rows) of a row-major matrix: tiles are loaded straight from A, except at the
// edges (fewer than 16 rows left, or the last k-step past k), which are copied into zeroed buffers.
// An edge asked for again (the same rows of A for the next column pair) is not copied again: A
// does not change during a call. A row tile of fewer than 16 rows is an edge at every k-step, so
// for k ≤ kPanelK its rows are copied once for all k-steps into `partial` (rows round_up_k(k)
// bytes apart); a one-tile cache per k-step would copy it again for every column pair.
struct U8Rows {
  const uint8_t* a;
  size_t lda, k, rows;
  alignas(64) uint8_t edge[2][kTileRows][kTileBytes];
  const uint8_t* edge_of[2] = {nullptr, nullptr};  // the tile origin edge[i] holds
  size_t edge_rows[2] = {0, 0};
  alignas(64) uint8_t partial[kTileRows * kPanelK];
  const uint8_t* partial_of = nullptr;  // the first row of A `partial` holds
  size_t partial_rows = 0;

  TileSpan operator()(int i, size_t s) {
    const size_t r0 = size_t(kTileRows) * i, k0 = size_t(kTileK) * s;
    const uint8_t* p = a + r0 * lda + k0;
    if (rows >= r0 + kTileRows && k0 + kTileK <= k) return {p, lda};
    const size_t nr = std::min<size_t>(kTileRows, rows - r0), nk = std::min<size_t>(kTileK, k - k0);
    const size_t kp = round_up_k(k);
    if (nr < kTileRows && kp <= kPanelK) {
      const uint8_t* row0 = a + r0 * lda;
      if (partial_of != row0 || partial_rows != nr) {
        std::memset(partial, 0, kTileRows * kp);
        for (size_t r = 0; r < nr; ++r) std::memcpy(partial + r * kp, row0 + r * lda, k);
        partial_of = row0;
        partial_rows = nr;
      }
      return {partial + k0, kp};
    }
    if (edge_of[i] == p && edge_rows[i] == nr) return {edge[i], kTileBytes};
    std::memset(edge[i], 0, sizeof edge[i]);
    for (size_t r = 0; r < nr; ++r) std::memcpy(edge[i][r], p + r * lda, nk);
    edge_of[i] = p;
    edge_rows[i] = nr;
    return {edge[i], kTileBytes};
  }
};

// int16 rows [0, rows ≤ 16) split as x = 256·hi + lo (Eq. 12): row tile 0 is the plane of high
// bytes (signed, x >> 8), row tile 1 the plane of low bytes (unsigned, x & 255). For k ≤ kPanelK
// both planes are split once (prepare()) and reused for every column tile; deeper rows are split
// per k-step when row tile 0 of that step is requested (tile_product asks for it first).
// Panel rows are round_up_k(k) bytes apart (not kPanelK: rows 2 KiB apart share L1 sets). The
// panel is zeroed by the first prepare() only: the split never writes K past k (zero ever after),
// and rows past `rows` keep an earlier tile's bytes, which reach only accumulator rows no one reads.
struct S16Split {
  const int16_t* a;
  size_t lda, k, rows;
  bool zeroed = false;
  alignas(64) uint8_t panel[2 * kTileRows * kPanelK];
  alignas(64) uint8_t step[2][kTileRows][kTileBytes];

  // The planes of x[0, n) into hi, lo, returning Σ x as uint16 values modulo 2^32
  // (amx-split-planes.h: AVX-512 where compiled in).
  static uint32_t split_sum(const int16_t* x, size_t n, uint8_t* hi, uint8_t* lo) {
#if defined(__AVX512F__) && defined(__AVX512BW__)
    return split_planes__avx512(x, n, hi, lo);
#else
    return split_planes_ref(x, n, hi, lo);
#endif
  }
  bool whole() const { return round_up_k(k) <= kPanelK; }
  // Splits rows [0, rows) for k ≤ kPanelK; sums[r] = Σ_k row r as uint16 when sums is given.
  void prepare(uint32_t* sums = nullptr) {
    if (!whole()) return;
    const size_t kp = round_up_k(k);
    if (!zeroed) std::memset(panel, 0, 2 * kTileRows * kp);
    zeroed = true;
    for (size_t r = 0; r < rows; ++r) {
      uint8_t* hi = panel + r * kp;
      uint8_t* lo = panel + (kTileRows + r) * kp;
      const uint32_t sum = split_sum(a + r * lda, k, hi, lo);
      if (sums != nullptr) sums[r] = sum;
    }
  }
  // prepare(sums) through one call for all the rows (amx-split-planes.h: split_planes_rows, whose
  // AVX-512 form shares its constants and its sums' reductions across rows). k ≤ kPanelK only.
  void prepare_rows(uint32_t* sums) {
    const size_t kp = round_up_k(k);
    if (!zeroed) std::memset(panel, 0, 2 * kTileRows * kp);
    zeroed = true;
#if defined(__AVX512F__) && defined(__AVX512BW__)
    split_planes_rows__avx512(a, lda, rows, k, panel, panel + kTileRows * kp, kp, sums);
#else
    split_planes_rows_ref(a, lda, rows, k, panel, panel + kTileRows * kp, kp, sums);
#endif
  }
  // prepare_rows through the caller's split (attn@v16 picks the CPU's fastest once per call).
  void prepare_rows(uint32_t* sums, SplitPlanesRowsFn split) {
    const size_t kp = round_up_k(k);
    if (!zeroed) std::memset(panel, 0, 2 * kTileRows * kp);
    zeroed = true;
    split(a, lda, rows, k, panel, panel + kTileRows * kp, kp, sums);
  }
  TileSpan operator()(int i, size_t s) {
    const size_t kp = round_up_k(k);
    if (whole()) return {panel + i * kTileRows * kp + s * kTileK, kp};
    if (i == 0) {
      const size_t k0 = size_t(kTileK) * s, nk = std::min<size_t>(kTileK, k - k0);
      std::memset(step, 0, sizeof step);
      for (size_t r = 0; r < rows; ++r) split_sum(a + r * lda + k0, nk, step[0][r], step[1][r]);
    }
    return {step[i], kTileBytes};
  }
};

// ---- B sources.

// Weights packed at load time (PackedLayout nr = 16, kr = 4, K padded to 64): block j, k-step s is
// one 1 KiB tile, 16 K-quads × 16 channels × 4 bytes.
struct PackedB {
  const uint8_t* w;  // the first block of the column pair
  size_t block_stride;
  TileSpan operator()(int j, size_t s) const { return {w + j * block_stride + s * (kTileK * 16), kTileBytes}; }
};

// Columns of a u8 matrix B in VNNI-4 tiles: element (n, k) of a column tile goes to k-step k / 64,
// tile row (k % 64) / 4, byte 4·(n % 16) + k % 4; padding is zero. B is row-major B[N][K] (the
// "nt" operand: kᵀ's rows, vᵀ) or, with k_major, B[K][N] (v token-major, for av16_u8). For k ≤ kPanelK a whole group of columns (as many pairs as the 64 KiB panel holds, at
// least one) is packed once by pack_group and the drivers pick pairs from it with select; deeper B
// is packed one k-step of the selected pair at a time. Packing moves 4-byte K-quads, not bytes.
struct U8ColumnsVnni {
  static constexpr size_t kPanelTiles = 2 * kPanelK / kTileK;  // 64 tiles of 1 KiB
  const uint8_t* b;  // column 0 of the group
  size_t ldb, k;
  bool k_major = false;  // B[k][n] at b[k·ldb + n] instead of b[n·ldb + k]
  size_t cols = 0;   // columns of the group
  size_t tile0 = 0;  // first column tile of the selected pair
  alignas(64) uint8_t panel[kPanelTiles][kTileRows][kTileBytes];

  bool whole() const { return round_up_k(k) <= kPanelK; }
  size_t steps() const { return round_up_k(k) / kTileK; }
  // Columns per group: a multiple of 32 (column pairs stay aligned to the group).
  size_t group_columns() const {
    if (!whole()) return 32;
    return kPanelTiles / std::max<size_t>(steps(), 1) / 2 * 32;
  }

  const uint8_t* column(size_t c) const { return k_major ? b + c : b + c * ldb; }
  // K-bytes [k0, k0 + 64·ns) of nc ≤ 16 columns of B (from column pointer `col`) into ns consecutive
  // tiles (amx-pack-vnni4.h: 4-byte K-quads, a 16 × 16 transpose per tile where AVX-512 is compiled in).
  void pack_tile(const uint8_t* col, size_t nc, size_t k0, size_t ns, uint8_t (*tiles)[kTileRows][kTileBytes]) const {
    const size_t kn = std::min(k - std::min(k, k0), ns * kTileK);
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
    if (k_major) return pack_vnni4_kn__avx512(col + k0 * ldb, ldb, nc, kn, ns, &tiles[0][0][0]);
    pack_vnni4__avx512(col + k0, ldb, nc, kn, ns, &tiles[0][0][0]);
#else
    if (k_major) return pack_vnni4_kn_ref(col + k0 * ldb, ldb, nc, kn, ns, &tiles[0][0][0]);
    pack_vnni4_ref(col + k0, ldb, nc, kn, ns, &tiles[0][0][0]);
#endif
  }
  // Columns [0, ncols) of `group` (ncols ≤ group_columns()).
  void pack_group(const uint8_t* group, size_t ncols) {
    b = group;
    cols = ncols;
    if (!whole()) return;
    const size_t ns = steps();
    for (size_t t = 0; 16 * t < ncols; ++t) pack_tile(column(16 * t), std::min<size_t>(16, ncols - 16 * t), 0, ns, &panel[t * ns]);
  }
  // The pair of column tiles starting at tile `tile` of the group.
  void select(size_t tile) { tile0 = tile; }
  TileSpan operator()(int j, size_t s) {
    if (whole()) return {panel[(tile0 + j) * steps() + s], kTileBytes};
    if (j == 0) {  // tile_product asks for column tile 0 of a step first: pack both tiles of step s
      for (size_t t = 0; t < 2; ++t) {
        const size_t c0 = 16 * (tile0 + t), nc = cols > c0 ? std::min<size_t>(16, cols - c0) : 0;
        pack_tile(nc != 0 ? column(c0) : b, nc, s * kTileK, 1, &panel[t]);
      }
    }
    return {panel[j], kTileBytes};
  }
};

}  // namespace
}  // namespace intvit::gemm::amx
