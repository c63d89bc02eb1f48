// The byte planes of 16-bit operands for the amx tiles (Eq. 12: x = 256·hi + lo, the planes
// multiplied by tdpb*d separately), with the row sum attn@v16 needs (S_i of Eq. 23d) taken in the same pass; one
// function per ISA with one contract. ukernel-amx.h's S16Split calls the AVX-512 one where it is
// compiled with AVX-512 (*-amx.cc: every AMX CPU has it), the reference elsewhere (*-amxemu.cc).
#pragma once

#include <cstddef>
#include <cstdint>

namespace intvit::gemm::amx {

// hi[i] = x[i] >> 8 and lo[i] = x[i] & 255 (the bits of x as uint16), i < n; writes no other byte.
// Returns Σ x[i] as uint16 values modulo 2^32.
uint32_t split_planes_ref(const int16_t* x, size_t n, uint8_t* hi, uint8_t* lo);
// AVX-512 F/BW: 64 values per step (two vpackuswb + lane order fix-up), Σ by vpmaddwd on x ^ 0x8000
// (signed pairs, + 32768 per value after), the last partial step through masked loads and stores.
uint32_t split_planes__avx512(const int16_t* x, size_t n, uint8_t* hi, uint8_t* lo);

// The planes of `rows` rows (row r: x + r·ldx → hi + r·ld_plane, lo + r·ld_plane), each as
// split_planes, sums[r] = its return value. One call per row tile: the AVX-512 one keeps its
// constants across rows and reduces 16 rows' sums together (attn@v16 splits rows of K = 197, where
// the per-row reduction and tail cost as much as the split).
void split_planes_rows_ref(const int16_t* x, size_t ldx, size_t rows, size_t n, uint8_t* hi, uint8_t* lo, size_t ld_plane,
                           uint32_t* sums);
void split_planes_rows__avx512(const int16_t* x, size_t ldx, size_t rows, size_t n, uint8_t* hi, uint8_t* lo, size_t ld_plane,
                               uint32_t* sums);
// AVX-512 VBMI + VNNI: one vpermt2b per plane per 64 values (half the AVX-512 form's shuffles) and
// the sums from the planes by vpdpbusd. Every AMX CPU has both; callers check (cpu_features()).
void split_planes_rows__avx512vnnivbmi(const int16_t* x, size_t ldx, size_t rows, size_t n, uint8_t* hi, uint8_t* lo,
                                       size_t ld_plane, uint32_t* sums);
using SplitPlanesRowsFn = decltype(&split_planes_rows_ref);

}  // namespace intvit::gemm::amx
