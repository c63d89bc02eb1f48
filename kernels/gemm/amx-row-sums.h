// Row sums of uint8 rows for the zero-point terms of the amx q@kᵀ (Eq. 9: z_b·ΣA[m,:], and z_a·ΣB[n,:]
// where B is not packed whole), one function per ISA with one contract; amx-attention.h calls the
// AVX-512 one where it is compiled with AVX-512 (*-amx.cc), the reference elsewhere (*-amxemu.cc).
#pragma once

#include <cstddef>
#include <cstdint>

namespace intvit::gemm::amx {

// sums[i] = Σ_{q < k} a[i·lda + q] modulo 2^32 for i < rows; reads no byte of a row past k.
void row_sums_u8_ref(const uint8_t* a, size_t lda, size_t rows, size_t k, uint32_t* sums);
// AVX-512 F/BW: vpsadbw against zero per 64 bytes (masked load for the last part of a row).
void row_sums_u8__avx512(const uint8_t* a, size_t lda, size_t rows, size_t k, uint32_t* sums);

}  // namespace intvit::gemm::amx
