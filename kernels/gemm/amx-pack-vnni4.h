// Packing of the amx attention's "nt" operand (rows of a row-major u8 matrix: kᵀ's rows for q@kᵀ,
// vᵀ's for attn@v) into the VNNI-4 tiles tdpbuud reads (amx-tile.h), one function per ISA with
// one contract; ukernel-amx.h's U8ColumnsVnni calls the AVX-512 one where it is compiled with
// AVX-512 (*-amx.cc: every AMX CPU has it), the reference elsewhere (*-amxemu.cc).
#pragma once

#include <cstddef>
#include <cstdint>

namespace intvit::gemm::amx {

// K-bytes [0, kn) of nc ≤ 16 rows (row n at rows + n·ldb) into ns ≥ ⌈kn / 64⌉ consecutive tiles
// of 16 K-quads × 16 columns (ns KiB at out): byte k of row n goes to byte 64·(k / 4) + 4·n + k % 4
// (tile k / 64, tile row (k % 64) / 4); every other byte of the ns KiB is zero. Reads no byte of a
// row past kn.
void pack_vnni4_ref(const uint8_t* rows, size_t ldb, size_t nc, size_t kn, size_t ns, uint8_t* out);
// AVX-512 F/BW: per tile, 16 rows loaded (masked past kn), a 16 × 16 transpose of 4-byte quads.
void pack_vnni4__avx512(const uint8_t* rows, size_t ldb, size_t nc, size_t kn, size_t ns, uint8_t* out);

// The same tiles from a K-major matrix (v token-major for av16_u8): element (k, n) at
// rows[k·ldb + n], k < kn, n < nc; reads no byte past column nc of a row or past row kn.
void pack_vnni4_kn_ref(const uint8_t* rows, size_t ldb, size_t nc, size_t kn, size_t ns, uint8_t* out);
// AVX-512 F/BW/VL: per tile row, 4 rows of K (16 bytes each, masked past nc) interleaved bytewise
// by two rounds of unpacks.
void pack_vnni4_kn__avx512(const uint8_t* rows, size_t ldb, size_t nc, size_t kn, size_t ns, uint8_t* out);

}  // namespace intvit::gemm::amx
