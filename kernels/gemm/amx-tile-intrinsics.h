// The real AMX tile instructions behind the tile-operations interface of amx-tile.h.
// Include only from *-amx.cc files (compiled with -mamx-tile -mamx-int8 and the AVX-512 flags).
//
// Tile state per thread: configure() reads the live configuration with sttilecfg and loads ours
// with ldtilecfg only when it differs — so it stays correct when another library on the same
// thread (oneDNN's AMX kernels) reconfigures or releases the tiles between our calls, and costs a
// 64-byte store and compare per kernel call otherwise. The tiles stay configured between calls
// (a thread running one layer after another pays ldtilecfg once) and are released with
// tilerelease when the thread exits (a thread_local guard), returning the 8 KiB tile state to
// INIT so that context switches stop saving it.
#pragma once

#include "kernels/gemm/requant-avx512.h"  // first: it carries the immintrin.h pragma

#include <cstring>

#include "kernels/gemm/amx-tile.h"

namespace intvit::gemm::amx {

struct ReleaseTilesAtExit {
  bool used = false;
  ~ReleaseTilesAtExit() {
    if (used) _tile_release();
  }
};

struct AmxTileOps {
  static constexpr bool kEmulated = false;
  static void configure(const TileConfig& cfg) {
    static thread_local ReleaseTilesAtExit guard;
    // The operands are the whole 64-byte configs (GCC 12's _tile_storeconfig declares only 8
    // bytes written, which would let the compiler assume the rest of `live` unchanged).
    TileConfig live;
    __asm__ volatile("sttilecfg %0" : "=m"(live));
    if (std::memcmp(&live, &cfg, sizeof cfg) != 0) __asm__ volatile("ldtilecfg %0" ::"m"(cfg));
    guard.used = true;
  }
  // GCC 12's _tile_* macros stringify their tile argument (a template parameter would not expand)
  // and its tileloadd lacks a memory clobber (the edge buffers written just before could be
  // treated as dead stores), so the instructions are written here with "i" operands (AT&T syntax).
  template <int T>
  static void zero() { __asm__ volatile("tilezero %%tmm%c0" ::"i"(T)); }
  template <int T>
  static void load(const void* p, size_t stride) {
    __asm__ volatile("tileloadd (%0,%1,1), %%tmm%c2" ::"r"(p), "r"(static_cast<long>(stride)), "i"(T) : "memory");
  }
  template <int T>
  static void store(void* p, size_t stride) {
    __asm__ volatile("tilestored %%tmm%c2, (%0,%1,1)" ::"r"(p), "r"(static_cast<long>(stride)), "i"(T) : "memory");
  }
  template <Sign S, int C, int A, int B>
  static void dot() {  // AT&T operand order: src2 (B), src1 (A), dst (C)
    if constexpr (S == Sign::kSS) __asm__ volatile("tdpbssd %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"i"(C), "i"(A), "i"(B));
    if constexpr (S == Sign::kSU) __asm__ volatile("tdpbsud %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"i"(C), "i"(A), "i"(B));
    if constexpr (S == Sign::kUS) __asm__ volatile("tdpbusd %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"i"(C), "i"(A), "i"(B));
    if constexpr (S == Sign::kUU) __asm__ volatile("tdpbuud %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"i"(C), "i"(A), "i"(B));
  }
};

}  // namespace intvit::gemm::amx
