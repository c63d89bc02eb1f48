// Portable emulation of the AMX tile instructions (amx-tile.h): a per-thread file of 8 tile
// registers of 16 × 64 bytes. Where the hardware raises #UD (tiles not configured, a tile number
// outside the palette, operand shapes that do not match), the emulation throws Error(kInternal),
// so a kernel bug that would fault on an AMX host fails the tests on every host.
//
// Speed matters only for the test suite's run time. GCC 12's loop vectorizer makes the widening
// loops below 2.5× slower at -O3 (measured: 1.0 vs 2.5 GMAC/s, SSE2 baseline); SLP alone does better.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-vectorize")
#endif
#include <cstring>
#include <string>

#include "kernels/error.h"
#include "kernels/gemm/amx-tile.h"

namespace intvit::gemm::amx {
namespace {

struct EmuTiles {
  TileConfig cfg;
  bool configured = false;
  alignas(64) uint8_t t[8][kTileRows][kTileBytes];
};

thread_local EmuTiles tiles;

[[noreturn]] void fault(const std::string& what) {
  throw Error(ErrorCode::kInternal, "amx-emu: " + what + " (#UD on an AMX CPU)");
}

void check_tile(int t) {
  if (!tiles.configured) fault("tile instruction before ldtilecfg");
  if (t < 0 || t >= 8) fault("tile number " + std::to_string(t) + " outside palette 1");
  if (tiles.cfg.rows[t] == 0 || tiles.cfg.colsb[t] == 0) fault("tile " + std::to_string(t) + " not configured");
}

template <typename TA, typename TB>
void dot(int c, int a, int b) {
  const TileConfig& g = tiles.cfg;
  const int rows = g.rows[c], cols = g.colsb[c] / 4, depth = g.colsb[a];
  if (g.rows[a] != rows || g.colsb[b] != g.colsb[c] || g.rows[b] * 4 != depth || g.colsb[c] % 4 != 0) {
    fault("tdpb*d operand shapes do not match");
  }
  const uint8_t(&ta)[kTileRows][kTileBytes] = tiles.t[a];
  const uint8_t(&tb)[kTileRows][kTileBytes] = tiles.t[b];
  // B element (k, n) — row k / 4, byte 4n + k % 4 — widened into bt[k][n] so that the inner loop
  // runs over contiguous columns (values in [-128, 255] fit int16; each product fits int32).
  int16_t bt[kTileK][16];
  for (int q = 0; q < kTileRows; ++q)
    for (int n = 0; n < 16; ++n)
      for (int i = 0; i < 4; ++i) bt[4 * q + i][n] = static_cast<TB>(tb[q][4 * n + i]);
  for (int m = 0; m < rows; ++m) {
    int32_t sum[16] = {};  // |Σ over one tile row| <= 64·255·255 < 2^31: exact
    for (int kk = 0; kk < depth; ++kk) {
      const int32_t av = static_cast<TA>(ta[m][kk]);
      for (int n = 0; n < 16; ++n) sum[n] += av * bt[kk][n];  // columns >= cols are zero in B
    }
    uint32_t acc[16];
    std::memcpy(acc, tiles.t[c][m], sizeof acc);
    for (int n = 0; n < 16; ++n) acc[n] += static_cast<uint32_t>(sum[n]);  // wraps like the hardware
    std::memset(acc + cols, 0, (16 - cols) * sizeof(uint32_t));           // bytes beyond colsb: zero
    std::memcpy(tiles.t[c][m], acc, sizeof acc);
  }
}

}  // namespace

void emu_configure(const TileConfig& cfg) {
  if (cfg.palette != 1 || cfg.start_row != 0) fault("only palette 1 with start_row 0 is emulated");
  for (int t = 0; t < 8; ++t) {
    if (cfg.rows[t] > kTileRows || cfg.colsb[t] > kTileBytes) fault("tile shape beyond palette 1");
  }
  if (tiles.configured && std::memcmp(&tiles.cfg, &cfg, sizeof cfg) == 0) return;
  tiles.cfg = cfg;
  tiles.configured = true;
  std::memset(tiles.t, 0, sizeof tiles.t);  // ldtilecfg zeroes the tile data
}

void emu_release() {
  tiles.configured = false;
  tiles.cfg = TileConfig{};
  std::memset(tiles.t, 0, sizeof tiles.t);
}

bool emu_configured() { return tiles.configured; }

void emu_zero(int t) {
  check_tile(t);
  std::memset(tiles.t[t], 0, sizeof tiles.t[t]);
}

void emu_load(int t, const void* p, size_t stride) {
  check_tile(t);
  const int rows = tiles.cfg.rows[t], colsb = tiles.cfg.colsb[t];
  std::memset(tiles.t[t], 0, sizeof tiles.t[t]);
  for (int r = 0; r < rows; ++r) std::memcpy(tiles.t[t][r], static_cast<const uint8_t*>(p) + r * stride, colsb);
}

void emu_store(int t, void* p, size_t stride) {
  check_tile(t);
  const int rows = tiles.cfg.rows[t], colsb = tiles.cfg.colsb[t];
  for (int r = 0; r < rows; ++r) std::memcpy(static_cast<uint8_t*>(p) + r * stride, tiles.t[t][r], colsb);
}

void emu_dot(Sign sign, int c, int a, int b) {
  check_tile(c);
  check_tile(a);
  check_tile(b);
  switch (sign) {
    case Sign::kSS: dot<int8_t, int8_t>(c, a, b); break;
    case Sign::kSU: dot<int8_t, uint8_t>(c, a, b); break;
    case Sign::kUS: dot<uint8_t, int8_t>(c, a, b); break;
    case Sign::kUU: dot<uint8_t, uint8_t>(c, a, b); break;
  }
}

}  // namespace intvit::gemm::amx
