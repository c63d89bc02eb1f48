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
template <class Ops, Sign S0, Sign S1, int MT, int NT, class ASrc, class BSrc>
void tile_issue(ASrc& a, BSrc& b, size_t steps) {
  Ops::template zero<0>();
  if constexpr (NT > 1) Ops::template zero<1>();
  if constexpr (MT > 1) Ops::template zero<2>();
  if constexpr (MT > 1 && NT > 1) Ops::template zero<3>();
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

// acc = the C tiles of tile_issue<…, MT, NT>.
template <class Ops, int MT, int NT>
void tile_store(Acc& acc) {
  constexpr size_t ld = sizeof(acc[0]);
  Ops::template store<0>(&acc[0][0], ld);
  if constexpr (NT > 1) Ops::template store<1>(&acc[0][16], ld);
  if constexpr (MT > 1) Ops::template store<2>(&acc[16][0], ld);
  if constexpr (MT > 1 && NT > 1) Ops::template store<3>(&acc[16][16], ld);
}

// tile_issue and tile_store for mt, nt in {1, 2} at run time.
template <class Ops, Sign S0, Sign S1, class ASrc, class BSrc>
void tile_issue(int mt, int nt, ASrc& a, BSrc& b, size_t steps) {
  if (mt == 2 && nt == 2) return tile_issue<Ops, S0, S1, 2, 2>(a, b, steps);
  if (mt == 2) return tile_issue<Ops, S0, S1, 2, 1>(a, b, steps);
  if (nt == 2) return tile_issue<Ops, S0, S1, 1, 2>(a, b, steps);
  tile_issue<Ops, S0, S1, 1, 1>(a, b, steps);
}
template <class Ops>
void tile_store(int mt, int nt, Acc& acc) {
  if (mt == 2 && nt == 2) return tile_store<Ops, 2, 2>(acc);
  if (mt == 2) return tile_store<Ops, 2, 1>(acc);
  if (nt == 2) return tile_store<Ops, 1, 2>(acc);
  tile_store<Ops, 1, 1>(acc);
}

// acc = A · B: tile_issue then tile_store.
template <class Ops, Sign S0, Sign S1, class ASrc, class BSrc>
void tile_product(int mt, int nt, ASrc& a, BSrc& b, size_t steps, Acc& acc) {
  tile_issue<Ops, S0, S1>(mt, nt, a, b, steps);
  tile_store<Ops>(mt, nt, acc);
}

// ---- A sources.

// uint8 rows [0, rows) of a row-major matrix: tiles are loaded straight from A, except at the
// edges (fewer than 16 rows left, or the last k-step past k), which are copied into a zeroed buffer.
struct U8Rows {
  const uint8_t* a;
  size_t lda, k, rows;
  alignas(64) uint8_t edge[2][kTileRows][kTileBytes];

  TileSpan operator()(int i, size_t s) {
    const size_t r0 = size_t(kTileRows) * i, k0 = size_t(kTileK) * s;
    const uint8_t* p = a + r0 * lda + k0;
    if (rows >= r0 + kTileRows && k0 + kTileK <= k) return {p, lda};
    const size_t nr = std::min<size_t>(kTileRows, rows - r0), nk = std::min<size_t>(kTileK, k - k0);
    std::memset(edge[i], 0, sizeof edge[i]);
    for (size_t r = 0; r < nr; ++r) std::memcpy(edge[i][r], p + r * lda, nk);
    return {edge[i], kTileBytes};
  }
};

// int16 rows [0, rows ≤ 16) split as x = 256·hi + lo (Eq. 12): row tile 0 is the plane of high
// bytes (signed, x >> 8), row tile 1 the plane of low bytes (unsigned, x & 255). For k ≤ kPanelK
// both planes are split once (prepare()) and reused for every column tile; deeper rows are split
// per k-step when row tile 0 of that step is requested (tile_product asks for it first).
struct S16Split {
  const int16_t* a;
  size_t lda, k, rows;
  alignas(64) uint8_t panel[2][kTileRows][kPanelK];
  alignas(64) uint8_t step[2][kTileRows][kTileBytes];

  static void split(const int16_t* x, size_t n, uint8_t* hi, uint8_t* lo) {
    for (size_t i = 0; i < n; ++i) {
      hi[i] = static_cast<uint8_t>(static_cast<uint16_t>(x[i]) >> 8);
      lo[i] = static_cast<uint8_t>(x[i]);
    }
  }
  bool whole() const { return round_up_k(k) <= kPanelK; }
  void prepare() {
    if (!whole()) return;
    const size_t kp = round_up_k(k);
    for (size_t r = 0; r < kTileRows; ++r) {
      if (r < rows) split(a + r * lda, k, panel[0][r], panel[1][r]);
      const size_t from = r < rows ? k : 0;
      std::memset(panel[0][r] + from, 0, kp - from);
      std::memset(panel[1][r] + from, 0, kp - from);
    }
  }
  TileSpan operator()(int i, size_t s) {
    if (whole()) return {&panel[i][0][s * kTileK], kPanelK};
    if (i == 0) {
      const size_t k0 = size_t(kTileK) * s, nk = std::min<size_t>(kTileK, k - k0);
      std::memset(step, 0, sizeof step);
      for (size_t r = 0; r < rows; ++r) split(a + r * lda + k0, nk, step[0][r], step[1][r]);
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

// Columns [0, cols ≤ 32) of a row-major u8 matrix B[N][K] (the "nt" operand) in VNNI-4 tiles:
// element (n, k) goes to tile n / 16, k-step k / 64, row (k % 64) / 4, byte 4·(n % 16) + k % 4.
// Packed once per column pair for k ≤ kPanelK, else one k-step at a time into the panel's first
// step; padding is zero.
struct U8ColumnsVnni {
  const uint8_t* b;
  size_t ldb, k, cols;
  alignas(64) uint8_t panel[2][kPanelK / kTileK][kTileRows][kTileBytes];

  bool whole() const { return round_up_k(k) <= kPanelK; }
  // Packs k-steps [k0 / 64, k0 / 64 + steps) into tiles[j][0, steps).
  void pack(size_t k0, uint8_t (*tiles)[kPanelK / kTileK][kTileRows][kTileBytes], size_t steps) const {
    for (int j = 0; j < 2; ++j) {
      for (size_t s = 0; s < steps; ++s) std::memset(tiles[j][s], 0, kTileRows * kTileBytes);
    }
    const size_t k_end = std::min(k, k0 + steps * kTileK);
    for (size_t n = 0; n < cols; ++n) {
      const uint8_t* row = b + n * ldb;
      for (size_t p = k0; p < k_end; ++p) {
        const size_t q = p - k0;
        tiles[n / 16][q / kTileK][(q % kTileK) / 4][4 * (n % 16) + p % 4] = row[p];
      }
    }
  }
  void prepare() {
    if (whole()) pack(0, panel, round_up_k(k) / kTileK);
  }
  TileSpan operator()(int j, size_t s) {
    if (whole()) return {panel[j][s], kTileBytes};
    if (j == 0) pack(s * kTileK, panel, 1);  // tile_product asks for column tile 0 of a step first
    return {panel[j][0], kTileBytes};
  }
};

}  // namespace intvit::gemm::amx
