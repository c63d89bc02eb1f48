// The AMX tile-operations layer the amx micro-kernel (ukernel-amx.h) is written against, and its
// portable emulation. Two policies expose the same static interface:
//   EmuTileOps  (this header, amx-tile-emu.cc): the instructions emulated on a per-thread register
//               file of plain arrays, same memory layout and semantics — runs on every host;
//   AmxTileOps  (amx-tile-intrinsics.h, *-amx.cc only): the real instructions.
// Interface (tile numbers are template arguments because the instructions encode them):
//   configure(cfg)              ldtilecfg, skipped when this thread's tiles already hold cfg
//   zero<T>()                   tilezero
//   load<T>(p, stride) / store<T>(p, stride)   tileloadd / tilestored, stride in bytes
//   dot<Sign, C, A, B>()        tdpb{su,uu,su,ss}d: C[m][n] += Σ_{q,i} A[m][4q+i] · B[q][4n+i]
// Semantics (Intel SDM, "TDPBSSD/TDPBSUD/TDPBUSD/TDPBUUD"): a tile is rows × colsb bytes of a
// 16 × 64-byte register; tile row r of B holds K-quad r of colsb/4 columns (the VNNI-4 layout:
// element (k, n) at row k/4, byte 4n + k%4). Each int32 lane of C accumulates with wrap-around
// (no saturation), so every summation order gives the same bits (Eq. 8–10 are modulo 2^32).
// Loads zero the bytes beyond colsb and the rows beyond rows, as the hardware does.
#pragma once

#include <cstddef>
#include <cstdint>

namespace intvit::gemm::amx {

constexpr int kTileRows = 16;   // rows per tile (palette 1 maximum)
constexpr int kTileBytes = 64;  // bytes per tile row (palette 1 maximum): 64 u8 of A, 16 int32 of C
constexpr int kTileK = 64;      // depth of one tile product in bytes of A (16 K-quads)

// The 64-byte operand of ldtilecfg (palette 1).
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};  // bytes per row of tiles 0..15 (0..7 used by palette 1)
  uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64, "ldtilecfg reads exactly 64 bytes");

// The one configuration every intvit amx kernel uses: all 8 tiles 16 rows × 64 bytes (edges are
// zero-padded in memory instead of reconfigured, so a thread loads the config once).
inline TileConfig full_tiles_config() {
  TileConfig c;
  for (int t = 0; t < 8; ++t) {
    c.colsb[t] = kTileBytes;
    c.rows[t] = kTileRows;
  }
  return c;
}

// Operand signedness of the dot-product instructions: first letter A (rows), second B (VNNI-4).
enum class Sign { kSS, kSU, kUS, kUU };

// ---- The emulation: each call is one instruction on this thread's emulated tile registers.
void emu_configure(const TileConfig& cfg);
void emu_release();
void emu_zero(int t);
void emu_load(int t, const void* p, size_t stride);
void emu_store(int t, void* p, size_t stride);
void emu_dot(Sign sign, int c, int a, int b);
bool emu_configured();  // for tests: whether this thread's emulated tiles are configured

struct EmuTileOps {
  static constexpr bool kEmulated = true;
  static void configure(const TileConfig& cfg) { emu_configure(cfg); }
  template <int T>
  static void zero() { emu_zero(T); }
  template <int T>
  static void load(const void* p, size_t stride) { emu_load(T, p, stride); }
  template <int T>
  static void store(void* p, size_t stride) { emu_store(T, p, stride); }
  template <Sign S, int C, int A, int B>
  static void dot() { emu_dot(S, C, A, B); }
};

}  // namespace intvit::gemm::amx
