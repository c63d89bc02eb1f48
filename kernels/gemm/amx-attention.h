// The attention products of the amx backend (q@kᵀ u8 × u8 with two zero-points, attn@v with
// 16-bit probabilities) over the micro-kernel of ukernel-amx.h, templated over the tile-operations
// policy like the linear layers (amx-drivers.h).
// Everything outside the tile instructions is done once per call: B is packed once per group of
// up to 256 columns (the whole of k or vᵀ for a ViT head), row sums once per pass of rows, column
// sums once per group. The tiles of a pass store into one wide buffer, so the zero-point
// corrections run once per output row over the group's width (plain loops GCC vectorizes; the
// output is written row by row, not in 32-column pieces, its next row's lines asked for ahead on
// wide groups) — except av16_u8's, whose row term is in the tiles and whose 32 × 32 blocks go to
// the amx linears' block stage as they come.
// Tried for q@kᵀ and measured slower (head q@k^T driver, NoTileOps): the corrections in the C
// tiles' start values (a 16 × 16 block of −row_term − col_term per tile) with the tiles stored
// straight into the output — storing 16-row tiles into the L2-resident output (rows 788 bytes
// apart) costs far more than writing it row by row (7.5 -> 15.5 us); the row sums on the tile
// unit (a ones tile in the idle tmm5 of 16-row passes: 5.4 -> 5.6 us); one row-sum call per 256
// rows instead of per pass (5.4 -> 5.6 us).
#pragma once

#include "kernels/backend/cpu.h"
#include "kernels/gemm/amx-drivers.h"
#include "kernels/gemm/amx-row-sums.h"

namespace intvit::gemm::amx {

// Internal linkage: included by files compiled with different ISA flags (see ukernel-amx.h).
namespace {

// Columns per group: the most the wide accumulator buffer holds (32 rows × 256 int32 = 32 KiB).
// Its rows are the group's width rounded up to 32 apart (a ViT head's av16: 256 bytes, not 1 KiB:
// the 32 rows stay in few L1 sets' worth of lines and off the 4 KiB aliasing of the output).
constexpr size_t kWideCols = 256;
using WideAcc = int32_t[2 * kTileRows * kWideCols];
inline size_t wide_stride(size_t group_cols) { return (group_cols + 31) / 32 * 32; }

// Rows of A per pass of q@kᵀ's column pairs: 32 (two row tiles: each B tile loaded serves two
// tdpbuud) on narrow groups, 16 on groups wider than 128 columns. The wide buffer the tiles are
// stored to and the output rows the corrections then write go through L1 together: 32 rows of a
// ViT head (197 columns, rows 224 int32 apart) are 28 KiB of buffer and 25 KiB of output, past
// the 48 KiB L1 of Sapphire Rapids, so the next pass's tile stores missed; 16 rows keep both in
// (intvit-bench kernels, head q@k^T driver: 7.3 -> 5.6 us; at 128 columns both heights measured
// the same, at 64 or fewer 32 rows are faster). The tile unit then issues 3 tile loads per 2
// tdpbuud instead of 4 per 4: still fewer load cycles than the tdpbuud's 16 each.
constexpr size_t kNarrowGroupCols = 128;
inline bool wide_group(size_t ldw) { return ldw > kNarrowGroupCols; }
inline size_t pass_rows(size_t ldw) { return wide_group(ldw) ? kTileRows : 2 * kTileRows; }

// Σ of n uint16 modulo 2^32 (a loop the compiler vectorizes; av16 takes it from the split unless
// K is past the panel).
inline uint32_t sum_u16(const uint16_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i < n; ++i) s += p[i];
  return s;
}

// sums[i] = Σ_{q < k} a[i·lda + q] modulo 2^32 (amx-row-sums.h: AVX-512 where compiled in).
inline void row_sums_u8(const uint8_t* a, size_t lda, size_t rows, size_t k, uint32_t* sums) {
#if defined(__AVX512F__) && defined(__AVX512BW__)
  row_sums_u8__avx512(a, lda, rows, k, sums);
#else
  row_sums_u8_ref(a, lda, rows, k, sums);
#endif
}

// The split of attn@v16's row tiles into byte planes (amx-split-planes.h): with AVX-512 compiled in
// (the amx backend), the VBMI + VNNI one where the CPU has them (every AMX CPU: 2 shuffles per 64
// values instead of 4), else the AVX-512 one; the reference in the portable emulation.
inline SplitPlanesRowsFn av16_split_rows() {
#if defined(__AVX512F__) && defined(__AVX512BW__)
  return cpu_features().avx512vnni && cpu_features().avx512vbmi ? split_planes_rows__avx512vnnivbmi : split_planes_rows__avx512;
#else
  return split_planes_rows_ref;
#endif
}

// Asks for the cache lines of dst[0, n) ahead of the epilogue's stores (prefetchw where compiled
// with PRFCHW, else prefetcht0 — the amx files' flags, measured as good here; a hint, never a
// fault). q@kᵀ's corrections write the output row by row into L2 (a ViT head's is 155 KiB of
// int32); on wide groups (pass_rows 16) the lines of row i + 1 asked for before row i is corrected
// arrive while it is (head q@k^T driver over NoTileOps, 1 thread: 6.5 -> 5.8 us with 16-row
// passes). Asking further ahead, or for a pass's rows during its tile loop, measured slower (the
// fetches meet the tile stores); on rows of ≤ 128 columns (head attn@v, 64) it cost more than it
// saved (3.4 -> 3.7 us), so narrow groups go without.
inline void prefetch_row_for_write(const int32_t* dst, size_t n) {
  const uintptr_t end = reinterpret_cast<uintptr_t>(dst + n);
  for (uintptr_t line = reinterpret_cast<uintptr_t>(dst) & ~uintptr_t{63}; line < end; line += 64) {
    __builtin_prefetch(reinterpret_cast<const void*>(line), 1, 3);
  }
}

// The epilogues below run over whole blocks of 16 columns; a row whose width is not a multiple of
// 16 ends with the block [n − 16, n), which rewrites some columns with the same values (dst never
// overlaps the inputs) instead of a scalar tail of up to 15 columns.
constexpr size_t kEpilogueBlock = 16;

// dst[j] = acc[j] − row_term − col_term[j] modulo 2^32, j < n (Eq. 9's corrections).
inline void subtract_terms(const int32_t* acc, uint32_t row_term, const uint32_t* col_term, size_t n, int32_t* dst) {
  const auto block = [&](size_t j0) {
    for (size_t j = j0; j < j0 + kEpilogueBlock; ++j) {
      dst[j] = static_cast<int32_t>(static_cast<uint32_t>(acc[j]) - row_term - col_term[j]);
    }
  };
  if (n < kEpilogueBlock) {
    for (size_t j = 0; j < n; ++j) dst[j] = static_cast<int32_t>(static_cast<uint32_t>(acc[j]) - row_term - col_term[j]);
    return;
  }
  for (size_t j0 = 0; j0 + kEpilogueBlock <= n; j0 += kEpilogueBlock) block(j0);
  if (n % kEpilogueBlock != 0) block(n - kEpilogueBlock);
}

// dst[j] = 256·hi[j] + lo[j] − row_term modulo 2^32, j < n (av16's combine of the byte planes).
inline void combine_planes(const int32_t* hi, const int32_t* lo, uint32_t row_term, size_t n, int32_t* dst) {
  const auto block = [&](size_t j0) {
    for (size_t j = j0; j < j0 + kEpilogueBlock; ++j) {
      dst[j] = static_cast<int32_t>(static_cast<uint32_t>(hi[j]) * 256u + static_cast<uint32_t>(lo[j]) - row_term);
    }
  };
  if (n < kEpilogueBlock) {
    for (size_t j = 0; j < n; ++j) {
      dst[j] = static_cast<int32_t>(static_cast<uint32_t>(hi[j]) * 256u + static_cast<uint32_t>(lo[j]) - row_term);
    }
    return;
  }
  for (size_t j0 = 0; j0 + kEpilogueBlock <= n; j0 += kEpilogueBlock) block(j0);
  if (n % kEpilogueBlock != 0) block(n - kEpilogueBlock);
}

}  // namespace

// (Eq. 9) u8 × u8 with both zero-points: Σ A·B by tdpbuud, then
// acc − z_b·ΣA[m,:] − z_a·ΣB[n,:] + K·z_a·z_b modulo 2^32 (exact: |Eq. 9| < 2^31 for K ≤ 33000).
// Column groups outside (B packed into VNNI-4 tiles once per group), passes of 32 or 16 rows next
// (pass_rows; their row sums once), the group's column pairs inside.
template <class Ops>
void matmul_u8u8_nt(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za, const uint8_t* b,
                    size_t ldb, int32_t zb, int32_t* c, size_t ldc) {
  Ops::configure(kernel_config());
  const size_t steps = round_up_k(k) / kTileK;
  alignas(64) WideAcc acc;
  U8Rows src;
  src.lda = lda;
  src.k = k;
  U8ColumnsVnni cols;
  cols.ldb = ldb;
  cols.k = k;
  const size_t group = std::min(cols.group_columns(), kWideCols);
  const uint32_t kzz = static_cast<uint32_t>(k) * static_cast<uint32_t>(za) * static_cast<uint32_t>(zb);
  uint32_t col_term[kWideCols];       // z_a·ΣB[n,:] − K·z_a·z_b
  uint32_t row_term[2 * kTileRows];  // z_b·ΣA[m,:]
  for (size_t g0 = 0; g0 < n; g0 += group) {
    const size_t gn = std::min(group, n - g0), ldw = wide_stride(gn);
    cols.pack_group(b + g0 * ldb, gn);
    if (za != 0) {
      row_sums_u8(b + g0 * ldb, ldb, gn, k, col_term);
    } else {
      std::fill_n(col_term, gn, 0u);
    }
    for (size_t j = 0; j < gn; ++j) col_term[j] = static_cast<uint32_t>(za) * col_term[j] - kzz;
    const size_t pass = pass_rows(ldw);
    for (size_t r = 0; r < m; r += pass) {
      src.a = a + r * lda;
      src.rows = std::min(m - r, pass);
      if (zb != 0) {
        row_sums_u8(src.a, lda, src.rows, k, row_term);
      } else {
        std::fill_n(row_term, src.rows, 0u);
      }
      for (size_t i = 0; i < src.rows; ++i) row_term[i] *= static_cast<uint32_t>(zb);
      for_each_column_pair(0, gn, [&](const ColumnPair& p) {
        cols.select(p.block);
        const int mt = src.rows > kTileRows ? 2 : 1;
        tile_issue<Ops, Sign::kUU, Sign::kUU>(mt, p.nt, src, cols, steps);
        tile_store<Ops>(mt, p.nt, acc + p.n0, ldw);
      });
      for (size_t i = 0; i < src.rows; ++i) {
        if (wide_group(ldw) && r + i + 1 < m) prefetch_row_for_write(c + (r + i + 1) * ldc + g0, gn);
        subtract_terms(acc + i * ldw, row_term[i], col_term, gn, c + (r + i) * ldc + g0);
      }
    }
  }
}

// (§4.10, av16; Eq. 23d) attn@v with 16-bit probabilities: acc = Σ_k p·(v − z_v) with p = 256·p_hi + p_lo,
// both bytes unsigned (tdpbuud twice, on the same VNNI-4 tiles of v), combined as
// 256·H + L − z_v·Σ_k p modulo 2^32 — the arithmetic of av16_ref for every uint16 p and int32 z_v.
// Column groups outside (v packed once per group: head_dim 64 is one group for k ≤ 1024), row
// tiles of 16 next (split into byte planes and summed once), the group's column pairs inside.
// v is vᵀ (v[n·ld_v + k], av16) or token-major (v[k·ld_v + n], av16_u8). Per row tile and group,
// sink(r, rows, g0, gn, acc, ldw, row_term) gets the planes' products and z_v·Σ_k p per row: wide
// (blocks = false), the high plane's at acc (rows ldw int32 apart, column 0 = output column g0) and
// the low plane's 16 rows below; or in blocks (blocks = true, ldw = 32), columns c0..c0 + 31 of
// the group (c0 a multiple of 32) at acc + 32·c0, 32 × 32 int32: the high plane's rows 0..15 over
// the low plane's (the layout of AmxBlockStageFn's hi, lo), whose tiles started from −z_v·Σ_k p
// (tile_issue_row_init), so that 256·hi + lo is Eq. 23b modulo 2^32 (Eq. 23d; row_term is then only for
// reading). k > 0.
template <class Ops, class Sink>
void av16_tiles(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                bool v_token_major, int32_t v_zero_point, bool blocks, Sink&& sink) {
  Ops::configure(kernel_config());
  const size_t steps = round_up_k(k) / kTileK;
  alignas(64) WideAcc acc;  // the high-byte products over the low-byte ones, wide or in 32 × 32 blocks
  S16Split src;  // the byte planes of p (the split reads the bits; the tdpbuud signs make both unsigned)
  src.lda = ld_p;
  src.k = k;
  U8ColumnsVnni cols;
  cols.ldb = ld_v;
  cols.k = k;
  cols.k_major = v_token_major;
  const size_t group = std::min(cols.group_columns(), kWideCols);
  uint32_t row_term[kTileRows];  // z_v·Σ_k p
  alignas(64) int32_t row_tile[kTileRows][16] = {};  // blocks: −z_v·Σ_k p of row i in every lane of row i
  const SplitPlanesRowsFn split = av16_split_rows();
  for (size_t g0 = 0; g0 < n; g0 += group) {
    const size_t gn = std::min(group, n - g0), ldw = blocks ? kAmxBlockLd : wide_stride(gn);
    cols.pack_group(v_token_major ? v + g0 : v + g0 * ld_v, gn);
    for (size_t r = 0; r < m; r += kTileRows) {
      src.a = reinterpret_cast<const int16_t*>(probs + r * ld_p);
      src.rows = std::min<size_t>(m - r, kTileRows);
      if (v_zero_point != 0 && src.whole()) {
        src.prepare_rows(row_term, split);  // the split sums each row on the way
      } else {
        src.prepare();
        for (size_t i = 0; i < src.rows; ++i) row_term[i] = v_zero_point != 0 ? sum_u16(probs + (r + i) * ld_p, k) : 0u;
      }
      for (size_t i = 0; i < src.rows; ++i) row_term[i] *= static_cast<uint32_t>(v_zero_point);
      if (blocks) {
        for (size_t i = 0; i < kTileRows; ++i) {
          std::fill_n(row_tile[i], 16, i < src.rows ? static_cast<int32_t>(0u - row_term[i]) : 0);
        }
      }
      for_each_column_pair(0, gn, [&](const ColumnPair& p) {
        cols.select(p.block);
        if (blocks && p.nt == 2) {
          tile_issue_row_init<Ops, Sign::kUU, Sign::kUU, 2>(src, cols, steps, &row_tile[0][0]);
        } else if (blocks) {
          tile_issue_row_init<Ops, Sign::kUU, Sign::kUU, 1>(src, cols, steps, &row_tile[0][0]);
        } else {
          tile_issue<Ops, Sign::kUU, Sign::kUU>(2, p.nt, src, cols, steps);
        }
        tile_store<Ops>(2, p.nt, blocks ? acc + p.n0 * kAmxBlockLd : acc + p.n0, ldw);
      });
      sink(r, src.rows, g0, gn, static_cast<const int32_t*>(acc), ldw, static_cast<const uint32_t*>(row_term));
    }
  }
}

// av16 on vᵀ ([n][k], row stride ld_v): int32 accumulators out.
template <class Ops>
void av16(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
          int32_t v_zero_point, int32_t* out, size_t ld_out) {
  if (k == 0) {
    for (size_t i = 0; i < m; ++i) std::fill_n(out + i * ld_out, n, 0);
    return;
  }
  av16_tiles<Ops>(m, n, k, probs, ld_p, v_t, ld_v, false, v_zero_point, false,
                  [&](size_t r, size_t rows, size_t g0, size_t gn, const int32_t* hi, size_t ldw, const uint32_t* row_term) {
                    const int32_t* lo = hi + kTileRows * ldw;
                    for (size_t i = 0; i < rows; ++i) {
                      combine_planes(hi + i * ldw, lo + i * ldw, row_term[i], gn, out + (r + i) * ld_out + g0);
                    }
                  });
}

// (Eq. 23c) av16_u8: av16 on v token-major ([k][n], row stride ld_v; packed into the same tiles as
// vᵀ, no transpose), each row tile's accumulators requantized (Eq. 11, per tensor, `params`: u8
// [0, 255]) into out by the output stage of `isa` (kAmx, kAmxEmu) — the bytes of av16 followed by
// requantize. Where that ISA has the amx linears' block stage (amx_block_stage_for: AVX-512), the
// tiles stay in 32 × 32 blocks and each goes through it as an s16 linear's block does — 256·hi + lo
// in registers (Eq. 12), the low plane's tiles having started from −z_v·Σ_k p (modulo 2^32, so the
// sum is Eq. 23b's) — instead of a combine pass into an int32 buffer and the generic stage.
// k = 0: every accumulator is 0 and MBQM(0) = 0, so every output is the zero-point.
template <class Ops>
void av16_u8(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
             int32_t v_zero_point, const RequantParams& params, uint8_t* out, size_t ld_out, GemmIsa isa) {
  if (k == 0) {
    for (size_t i = 0; i < m; ++i) std::fill_n(out + i * ld_out, n, static_cast<uint8_t>(params.zero_point));
    return;
  }
  const OutputPlan plan = make_output_plan(GemmOutput{out, ld_out, GemmOut::kU8, &params}, 0, n);
  if (const AmxBlockStageFn block = amx_block_stage_for(isa, plan, true); block != nullptr) {
    av16_tiles<Ops>(m, n, k, probs, ld_p, v, ld_v, true, v_zero_point, true,
                    [&](size_t r, size_t rows, size_t g0, size_t gn, const int32_t* acc, size_t, const uint32_t*) {
                      for (size_t c0 = 0; c0 < gn; c0 += 32) {
                        const int32_t* hi = acc + c0 * kAmxBlockLd;
                        block(plan, r, rows, g0 + c0, g0 + c0, g0 + c0 + std::min<size_t>(32, gn - c0), hi, hi + kTileRows * kAmxBlockLd,
                              nullptr);
                      }
                    });
    return;
  }
  const OutputStageFn stage = output_stage_for(isa);
  alignas(64) int32_t combined[kTileRows * kWideCols];
  av16_tiles<Ops>(m, n, k, probs, ld_p, v, ld_v, true, v_zero_point, false,
                  [&](size_t r, size_t rows, size_t g0, size_t gn, const int32_t* hi, size_t ldw, const uint32_t* row_term) {
                    const int32_t* lo = hi + kTileRows * ldw;
                    for (size_t i = 0; i < rows; ++i) combine_planes(hi + i * ldw, lo + i * ldw, row_term[i], gn, combined + i * ldw);
                    stage(plan, r, rows, g0, g0 + gn, combined, ldw, nullptr);
                  });
}

}  // namespace intvit::gemm::amx
