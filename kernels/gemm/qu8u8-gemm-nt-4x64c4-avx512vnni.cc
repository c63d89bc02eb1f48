// u8 × u8 product with two zero-points (Eq. 9), AVX-512 VNNI, B in the "nt" layout [N][K].
//
// vpdpbusd multiplies u8 by s8, so B is packed as B' = B − 128 (B xor 0x80) and Eq. 9 expands to
//   acc[m,n] = Σ_k A·B' + (128 − z_b)·Σ_k A[m,k] − z_a·Σ_k B[n,k] + K·z_a·z_b      (modulo 2^32,
// exact because the true value fits int32 for K <= 33000). The column terms are the tile's initial
// accumulators and the row terms are added per row, so the 4×64 tile of ukernel-avx512vnni.h does
// all the work. B is packed per call into a 32 KiB stack buffer, in chunks of columns (and of K for
// K > 2048), so nothing is allocated. The _add entry point starts the tiles from C = D + column
// terms instead (matmul_u8u8_nt_add: Swin's q@kᵀ with its relative-position bias).
// Where all of B' fits the buffer and K % 4 == 0 (q@kᵀ per head), matmul_whole_b takes the call
// instead: rows outer, 2-row tiles over every column (qu8u8-nt-tiles-avx512vnni.h), and B' = B − z_b
// without row terms when every B − z_b is an int8. Measured in the ViT-Ti forward (intvit-bench
// model, batch 1, per-op CPU time; Xeon SPR/EMR under KVM, AVX-512 VNNI, no AMX, host shared):
// q@kᵀ 377–393 → 413–443 GOPS per core on 1 thread, 316–367 → 345–410 on 2.
// Pre-RA instruction scheduling: without it GCC 12 copies accumulators between registers on
// every k-step of some tile shapes (e.g. 4 × 48); it must precede every include of this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("schedule-insns")
#endif
#include <algorithm>

#include "kernels/gemm/ukernel-avx512vnni.h"
#include "kernels/gemm/qu8u8-nt-tiles-avx512vnni.h"

namespace intvit::gemm {
namespace {

constexpr size_t kPackBytes = 32768;
constexpr size_t kMaxChunkK = 2048;     // multiple of 4
constexpr size_t kMaxChunkCols = 1024;  // multiple of 64

uint32_t sum_u8(const uint8_t* p, size_t k) {
  __m512i sums = _mm512_setzero_si512();
  for (size_t i = 0; i < k; i += 64) {
    const size_t count = std::min<size_t>(64, k - i);
    const __mmask64 mask = count == 64 ? ~__mmask64{0} : (__mmask64{1} << count) - 1;
    sums = _mm512_add_epi64(sums, _mm512_sad_epu8(_mm512_maskz_loadu_epi8(mask, p + i), _mm512_setzero_si512()));
  }
  return static_cast<uint32_t>(_mm512_reduce_add_epi64(sums));
}

// In-register transpose of a 16 × 16 matrix of dwords (r[i] = row i → r[j] = column j).
inline void transpose_16x16_epi32(__m512i (&r)[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // r[i + c], 128-bit lane L: column 4L + c of rows i..i+3
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  __m512i out[16];
  for (int c = 0; c < 4; ++c) {
    const __m512i lo01 = _mm512_shuffle_i32x4(r[c], r[4 + c], 0x44), hi01 = _mm512_shuffle_i32x4(r[c], r[4 + c], 0xEE);
    const __m512i lo23 = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0x44), hi23 = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0xEE);
    out[c] = _mm512_shuffle_i32x4(lo01, lo23, 0x88);
    out[4 + c] = _mm512_shuffle_i32x4(lo01, lo23, 0xDD);
    out[8 + c] = _mm512_shuffle_i32x4(hi01, hi23, 0x88);
    out[12 + c] = _mm512_shuffle_i32x4(hi01, hi23, 0xDD);
  }
  for (int i = 0; i < 16; ++i) r[i] = out[i];
}

// B[0:cols, k0:k0+kc] − zero → 64-byte [16][4] int8 tiles (zero beyond the matrix), block b (16
// columns) and k-group g at dst + b·block_stride + g·group_stride, 16 rows × 64 bytes at a time by
// a dword transpose. zero = 128 always fits int8 (B xor 0x80); another zero only where every B − zero
// does (b_fits_int8). col_sums (nullable): Σ_k B[n, k0:k0+kc] for each column n.
void pack_b(const uint8_t* b, size_t ldb, size_t cols, size_t k0, size_t kc, int8_t* dst, size_t block_stride,
            size_t group_stride, int32_t* col_sums, uint8_t zero = 128) {
  const __m512i bias = _mm512_set1_epi8(static_cast<char>(zero)), ones = _mm512_set1_epi8(1);
  for (size_t block = 0; block * 16 < cols; ++block) {
    const size_t rows = std::min<size_t>(16, cols - block * 16);
    int8_t* out = dst + block * block_stride;
    __m512i sums = _mm512_setzero_si512();
    for (size_t kk = 0; kk < kc; kk += 64) {
      const size_t bytes = std::min<size_t>(64, kc - kk);
      const __mmask64 mask = bytes == 64 ? ~__mmask64{0} : (__mmask64{1} << bytes) - 1;
      __m512i r[16];
      for (size_t i = 0; i < 16; ++i) {
        // shift only the valid bytes: the zero padding must stay 0 in B'.
        r[i] = i < rows ? _mm512_maskz_sub_epi8(mask, _mm512_maskz_loadu_epi8(mask, b + (block * 16 + i) * ldb + k0 + kk), bias)
                        : _mm512_setzero_si512();
      }
      transpose_16x16_epi32(r);
      const size_t here = (bytes + 3) / 4;
      for (size_t g = 0; g < here; ++g) {
        _mm512_storeu_si512(out + (kk / 4 + g) * group_stride, r[g]);
        sums = _mm512_dpbusd_epi32(sums, ones, r[g]);  // Σ B' per column
      }
    }
    if (col_sums) {  // a masked store: a lane copy loop became a rep movsq (~30 cycles to start)
      const __mmask16 valid = static_cast<__mmask16>((1u << rows) - 1);
      _mm512_mask_storeu_epi32(col_sums + block * 16, valid, _mm512_add_epi32(sums, _mm512_set1_epi32(static_cast<int32_t>(zero * kc))));
    }
  }
}

// C rows [r0, r0 + rows), columns [n0, n0 + cols) = D + col_term: the addend enters the tiles as
// their initial accumulators (in place in C), so it costs one pass over C in L1, not a pass after.
void init_from_addend(const int32_t* d, size_t ldd, const int32_t* col_term, size_t r0, size_t rows, size_t n0,
                      size_t cols, int32_t* c, size_t ldc) {
  for (size_t i = r0; i < r0 + rows; ++i) {
    for (size_t j = 0; j < cols; j += 16) {
      const __mmask16 mask = cols - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (cols - j)) - 1);
      const __m512i sum = _mm512_add_epi32(_mm512_maskz_loadu_epi32(mask, d + i * ldd + n0 + j), _mm512_maskz_loadu_epi32(mask, col_term + j));
      _mm512_mask_storeu_epi32(c + i * ldc + n0 + j, mask, sum);
    }
  }
}

// Whether matmul_whole_b takes the call: B' packs whole into the buffer (q@kᵀ per head: 13 blocks
// × 16 groups = 13 KiB) and A's rows are read in whole dwords (K % 4 == 0, K > 0).
bool fits_whole_b(size_t n, size_t k) { return k > 0 && k % 4 == 0 && (n + 15) / 16 * (k / 4) * 64 <= kPackBytes; }

// Whether every B[n, k] − zb of B[0:n, 0:k] is an int8: then B' = B − zb packs exactly and Eq. 9's
// row term (128 − z_b)·Σ_k A vanishes (ViT-Ti's k rows: z_b 118–145, values within ±127 of it).
bool b_fits_int8(const uint8_t* b, size_t ldb, size_t n, size_t k, int32_t zb) {
  const int32_t hi = std::min(255, zb + 127), lo = std::max(0, zb - 128);
  if (hi == 255 && lo == 0) return true;  // z_b = 128
  __m512i max = _mm512_setzero_si512(), min = _mm512_set1_epi8(static_cast<char>(0xFF));
  for (size_t j = 0; j < n; ++j) {
    for (size_t i = 0; i < k; i += 64) {
      const size_t count = std::min<size_t>(64, k - i);
      const __mmask64 mask = count == 64 ? ~__mmask64{0} : (__mmask64{1} << count) - 1;
      const __m512i v = _mm512_maskz_loadu_epi8(mask, b + j * ldb + i);
      max = _mm512_max_epu8(max, v);  // the masked-off zeros never raise the maximum
      min = _mm512_mask_min_epu8(min, mask, min, v);
    }
  }
  return _mm512_cmpgt_epu8_mask(max, _mm512_set1_epi8(static_cast<char>(hi))) == 0 &&
         _mm512_cmplt_epu8_mask(min, _mm512_set1_epi8(static_cast<char>(lo))) == 0;
}

// Eq. 9 (+ D) with B' packed once and rows outer: 2 rows × up to 13 blocks per tile
// (qu8u8-nt-tiles-avx512vnni.h).
__attribute__((noinline)) void matmul_whole_b(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za,
                                               const uint8_t* b, size_t ldb, int32_t zb, const int32_t* d, size_t ldd,
                                               int32_t* c, size_t ldc) {
  using namespace nt_tiles;
  alignas(64) int8_t packed[kPackBytes];
  alignas(64) int32_t col_term[kPackBytes / 64];  // >= 16 · blocks (each block holds at least one group)
  alignas(64) int32_t row_term[16];
  alignas(64) int32_t scratch[16 * kMaxNB];       // the unused second row of an odd last row's tile
  const size_t blocks = (n + 15) / 16, group_stride = blocks * 64;
  const bool exact = b_fits_int8(b, ldb, n, k, zb);  // B' = B − z_b: no row terms
  const auto& tiles = exact ? kTilesExact : kTiles;
  pack_b(b, ldb, n, 0, k, packed, 64, group_stride, col_term, static_cast<uint8_t>(exact ? zb : 128));
  const uint32_t kzz = static_cast<uint32_t>(k) * static_cast<uint32_t>(za) * static_cast<uint32_t>(zb);
  const __m512i kzz_v = _mm512_set1_epi32(static_cast<int32_t>(kzz)), za_v = _mm512_set1_epi32(za);
  for (size_t j = 0; j < n; j += 16) {  // Σ_k B → −z_a·Σ_k B + K·z_a·z_b (Eq. 9), modulo 2^32; 0 past n (never stored)
    const __mmask16 valid = n - j >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (n - j)) - 1);
    const __m512i sums = _mm512_maskz_load_epi32(valid, col_term + j);
    _mm512_store_si512(col_term + j, _mm512_maskz_sub_epi32(valid, kzz_v, _mm512_mullo_epi32(za_v, sums)));
  }
  // Column chunks of at most kMaxNB blocks, as even as possible (N = 197: one chunk of 13).
  const size_t chunks = (blocks + kMaxNB - 1) / kMaxNB;
  const __m512i row_scale = _mm512_set1_epi32(128 - zb);
  for (size_t r0 = 0; r0 < m; r0 += 16) {
    const size_t rows = std::min<size_t>(16, m - r0);
    // (128 − z_b)·Σ_k A (Eq. 9 with B = B' + 128), modulo 2^32.
    if (!exact) _mm512_store_si512(row_term, _mm512_mullo_epi32(row_sums16(a + r0 * lda, lda, rows, k), row_scale));
    if (d) init_from_addend(d, ldd, col_term, r0, rows, 0, n, c, ldc);  // C = D + column terms: the start values
    for (size_t r = 0; r < rows; r += 2) {
      const bool pair = r + 1 < rows;
      for (size_t ch = 0, b0 = 0; ch < chunks; ++ch) {
        const size_t nb = blocks / chunks + (ch < blocks % chunks ? 1 : 0);
        const size_t last_cols = std::min<size_t>(16, n - (b0 + nb - 1) * 16);
        NtArgs t;
        t.a0 = a + (r0 + r) * lda;
        t.a1 = pair ? t.a0 + lda : t.a0;
        t.w = packed + b0 * 64;
        t.group_stride = group_stride;
        t.groups = k / 4;
        t.init0 = d ? c + (r0 + r) * ldc + b0 * 16 : col_term + b0 * 16;
        t.init1 = d && pair ? t.init0 + ldc : t.init0;
        t.rt0 = row_term + r;
        t.rt1 = pair ? t.rt0 + 1 : t.rt0;
        t.c0 = c + (r0 + r) * ldc + b0 * 16;
        t.c1 = pair ? t.c0 + ldc : scratch;
        t.last_mask = static_cast<__mmask16>((1u << last_cols) - 1);
        // The next tile's two C rows, a line per k-group: a store missing L1 waits for its line
        // (C = 155 KiB per head lives in L2). Long K would run past them: there, and for the last
        // tile (rows past it may be another thread's), the prefetches touch the packed B' instead.
        const bool next_rows = r0 + r + 4 <= m && k <= 4 * 32 && ch + 1 == chunks;
        t.pf0 = next_rows ? reinterpret_cast<const char*>(t.c0 + 2 * ldc - b0 * 16) : reinterpret_cast<const char*>(packed);
        t.pf1 = next_rows ? reinterpret_cast<const char*>(t.c0 + 3 * ldc - b0 * 16) : reinterpret_cast<const char*>(packed);
        if (ch == 0 && r == 0 && r0 + 16 < m) {  // the next 16-row group's A rows (for its row sums or tiles)
          for (size_t i = r0 + 16; i < std::min(m, r0 + 32); ++i) _mm_prefetch(reinterpret_cast<const char*>(a + i * lda), _MM_HINT_T0);
        }
        tiles[nb - 1](t);
        b0 += nb;
      }
    }
  }
}

// The chunked path: d == nullptr is plain Eq. 9, otherwise D is added (modulo 2^32).
__attribute__((noinline)) void matmul_nt(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za,
                                          const uint8_t* b, size_t ldb, int32_t zb, const int32_t* d, size_t ldd, int32_t* c,
                                          size_t ldc) {
  using namespace avx512vnni;
  using RawStage = avx512::Stage<GemmOut::kS32, false, true, false, false>;
  constexpr auto& kTable = DotTileTable<kMR, kNB, false>::kTable;
  constexpr FusedRowsFn kFused[kNB] = {fused_rows<false, RawStage, 1>, fused_rows<false, RawStage, 2>,
                                       fused_rows<false, RawStage, 3>, fused_rows<false, RawStage, 4>};
  constexpr size_t kRowChunk = 256;  // rows whose Σ_k A is kept at a time
  alignas(64) int8_t packed[kPackBytes];
  alignas(64) int32_t col_term[kMaxChunkCols];
  alignas(64) int32_t row_term[kRowChunk];
  alignas(64) const avx512::ColumnConsts unused[kNB]{};  // raw stores need no Eq. 7 constants
  OutputPlan plan;  // raw int32 straight into C
  plan.data = c;
  plan.ld = ldc;
  const size_t chunk_k = std::min(k, kMaxChunkK);
  const size_t chunk_cols = std::min(kMaxChunkCols, kPackBytes / (((chunk_k + 3) / 4) * 64) * 16);
  const uint32_t kzz = static_cast<uint32_t>(k) * static_cast<uint32_t>(za) * static_cast<uint32_t>(zb);
  for (size_t n0 = 0; n0 < n; n0 += chunk_cols) {
    const size_t cols = std::min(chunk_cols, n - n0);
    const bool one_chunk = chunk_k == k;  // then the packer's column sums cover all of K
    if (!one_chunk) {
      for (size_t j = 0; j < cols; ++j) col_term[j] = static_cast<int32_t>(sum_u8(b + (n0 + j) * ldb, k));
    }
    for (size_t k0 = 0; k0 < k; k0 += chunk_k) {
      const size_t kc = std::min(chunk_k, k - k0);
      const size_t block_stride = (kc + 3) / 4 * 64;
      pack_b(b + n0 * ldb, ldb, cols, k0, kc, packed, block_stride, 64, one_chunk ? col_term : nullptr);
      if (k0 == 0) {
        for (size_t j = 0; j < cols; ++j) {  // Σ_k B → −z_a·Σ_k B + K·z_a·z_b (Eq. 9)
          col_term[j] = static_cast<int32_t>(kzz - static_cast<uint32_t>(za) * static_cast<uint32_t>(col_term[j]));
        }
      }
      for (size_t r0 = 0; r0 < m; r0 += kRowChunk) {
        const size_t rows = std::min(kRowChunk, m - r0), full_rows = rows / kMR * kMR;
        if (k0 == 0) {
          for (size_t i = 0; i < rows; ++i) {
            row_term[i] = static_cast<int32_t>(static_cast<uint32_t>(128 - zb) * sum_u8(a + (r0 + i) * lda, k));
          }
          if (d) init_from_addend(d, ldd, col_term, r0, rows, n0, cols, c, ldc);
        }
        // Column groups of 3–4 blocks where possible (13 blocks → 4 + 3 + 3 + 3, not 4 + 4 + 4 + 1):
        // a lone block has only 4 accumulator chains, too few to hide vpdpbusd's latency.
        const size_t blocks = (cols + 15) / 16, group_count = (blocks + kNB - 1) / kNB;
        for (size_t grp = 0, j0 = 0; grp < group_count; ++grp) {
          const size_t group_blocks = blocks / group_count + (grp < blocks % group_count ? 1 : 0);
          const size_t width = std::min(16 * group_blocks, cols - j0);
          TileArgs t;
          t.k = kc;
          t.a = a + r0 * lda + k0;
          t.lda = lda;
          t.w = packed + (j0 / 16) * block_stride;
          t.block_stride = block_stride;
          t.c = c + r0 * ldc + n0 + j0;
          t.ldc = ldc;
          if (k0 == 0 && d) {  // first K chunk with an addend: C holds D + the column terms
            t.init = t.c;
            t.ld_init = ldc;
            t.row_add = row_term;
          } else if (k0 == 0) {  // first K chunk: start from the zero-point terms
            t.init = col_term + j0;
            t.ld_init = 0;
            t.row_add = row_term;
          } else {  // later chunks continue from the partial sums in C
            t.init = t.c;
            t.ld_init = ldc;
            t.row_add = nullptr;
          }
          t.col_mask = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
          // For deep enough K, full row tiles with their int32 stores spread over the next tile's
          // k-steps (parking costs a store per vector, which only pays off from ~32 k-steps on).
          const size_t fused_rows_here = kc >= 128 ? full_rows : 0;
          if (fused_rows_here > 0) kFused[group_blocks - 1](t, fused_rows_here / kMR, plan, unused, r0, n0 + j0);
          // t moves down the rows in place: copying it per tile (one 64-byte vector store) and then
          // updating fields made each update wait for that store (a failed store forward, measured
          // ~30 % of q@kᵀ's time at K = 64).
          auto advance = [&](size_t r) {
            t.a = static_cast<const uint8_t*>(t.a) + r * lda;
            t.init += r * t.ld_init;
            if (t.row_add) t.row_add += r;
            t.c += r * ldc;
          };
          advance(fused_rows_here);
          for (size_t r = fused_rows_here; r < full_rows; r += kMR) {
            kTable[kMR - 1][group_blocks - 1](t);
            advance(kMR);
          }
          if (rows > full_rows) kTable[rows - full_rows - 1][group_blocks - 1](t);
          j0 += 16 * group_blocks;
        }
      }
    }
  }
}

}  // namespace

// Both entry points: the whole-B path where it fits, else the chunked one (each with its own
// 32 KiB pack buffer, so only one is on the stack at a time).
void qu8u8_gemm_nt_4x64c4__avx512vnni(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za,
                                      const uint8_t* b, size_t ldb, int32_t zb, int32_t* c, size_t ldc) {
  if (fits_whole_b(n, k)) {
    matmul_whole_b(m, n, k, a, lda, za, b, ldb, zb, nullptr, 0, c, ldc);
  } else {
    matmul_nt(m, n, k, a, lda, za, b, ldb, zb, nullptr, 0, c, ldc);
  }
}

void qu8u8_gemm_nt_add_4x64c4__avx512vnni(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za,
                                          const uint8_t* b, size_t ldb, int32_t zb, const int32_t* d, size_t ldd, int32_t* c,
                                          size_t ldc) {
  if (fits_whole_b(n, k)) {
    matmul_whole_b(m, n, k, a, lda, za, b, ldb, zb, d, ldd, c, ldc);
  } else {
    matmul_nt(m, n, k, a, lda, za, b, ldb, zb, d, ldd, c, ldc);
  }
}

}  // namespace intvit::gemm
