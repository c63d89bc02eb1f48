// pack_vnni4_ref and pack_vnni4_kn_ref (amx-pack-vnni4.h): K-quads moved or assembled 4 bytes at
// a time, one tile row after the other.
#include <algorithm>
#include <cstring>

#include "kernels/gemm/amx-pack-vnni4.h"

namespace intvit::gemm::amx {

void pack_vnni4_ref(const uint8_t* rows, size_t ldb, size_t nc, size_t kn, size_t ns, uint8_t* out) {
  constexpr size_t kTileRowBytes = 64;  // one K-quad of 16 columns
  if (ns == 0) return;
  const size_t quads = kn / 4, rem = kn % 4;
  if (nc < 16 || kn < ns * 64) std::memset(out, 0, ns * 1024);
  for (size_t q = 0; q < quads; ++q) {
    for (size_t n = 0; n < nc; ++n) std::memcpy(out + kTileRowBytes * q + 4 * n, rows + n * ldb + 4 * q, 4);
  }
  for (size_t n = 0; n < nc; ++n) {
    for (size_t i = 0; i < rem; ++i) out[kTileRowBytes * quads + 4 * n + i] = rows[n * ldb + 4 * quads + i];
  }
}

void pack_vnni4_kn_ref(const uint8_t* rows, size_t ldb, size_t nc, size_t kn, size_t ns, uint8_t* out) {
  if (ns == 0) return;
  static constexpr uint8_t kZeroRow[16] = {};  // stands in for the rows of the last quad past kn
  if (nc < 16 || kn < ns * 64) std::memset(out, 0, ns * 1024);
  for (size_t q = 0; 4 * q < kn; ++q) {  // tile row q: 4 rows of K interleaved byte by byte
    const uint8_t* r[4];
    for (size_t i = 0; i < 4; ++i) r[i] = 4 * q + i < kn ? rows + (4 * q + i) * ldb : kZeroRow;
    for (size_t n = 0; n < nc; ++n) {
      const uint32_t quad = uint32_t{r[0][n]} | uint32_t{r[1][n]} << 8 | uint32_t{r[2][n]} << 16 | uint32_t{r[3][n]} << 24;
      std::memcpy(out + 64 * q + 4 * n, &quad, 4);  // little-endian: K order within the quad
    }
  }
}

}  // namespace intvit::gemm::amx
