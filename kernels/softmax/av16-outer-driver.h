// The driver of the av16 outer-product kernels, written once for both widths: av16-outer-avx2.h and
// av16-outer-avx512.h each include this file inside their own ISA namespace (internal linkage,
// compiled under that file's ISA flags), after defining kNr, kMr, kKc, kLanes (int32 lanes per
// vector), kPackAlign, kFoldMin / kFoldMax, last_lanes(n), pack_v (from vᵀ), pack_v_rows (from v),
// row_sum, StoreS32, tile and tile_nv. No include guard: one inclusion per ISA namespace.
//
// av16: per kNr-column block of v: pack kKc k-values at a time (v − z folded in when it fits int16, else
// the tile starts from −z·Σp, Eq. 23b), then run kMr-row tiles over every row of probabilities.
template <bool kVnni>
void av16_outer(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
                int32_t v_zero_point, int32_t* acc, size_t ld_acc) {
  if (m == 0 || n == 0) return;
  alignas(kPackAlign) int32_t packed[kKc / 2 * kNr];
  const bool fold = v_zero_point >= kFoldMin && v_zero_point <= kFoldMax;
  const int16_t s = fold ? static_cast<int16_t>(v_zero_point) : int16_t{0};
  for (size_t j = 0; j < n; j += kNr) {
    const size_t nc = std::min(kNr, n - j), nv = (nc + kLanes - 1) / kLanes;
    const auto last = last_lanes(nc - kLanes * (nv - 1));
    for (size_t k0 = 0; k0 == 0 || k0 < k; k0 += kKc) {  // k == 0: one empty block writes the zeros
      const size_t kc = std::min(kKc, k - k0);
      pack_v(nc, kc, v_t + j * ld_v + k0, ld_v, s, packed);
      for (size_t i = 0; i < m; i += kMr) {
        const size_t mr = std::min(kMr, m - i);
        int32_t init[kMr] = {};
        if (k0 == 0 && !fold) {
          for (size_t r = 0; r < mr; ++r) {
            init[r] = static_cast<int32_t>(0u - row_sum(probs + (i + r) * ld_p, k) * static_cast<uint32_t>(v_zero_point));
          }
        }
        const int32_t* start = k0 == 0 ? init : nullptr;
        const uint16_t* p = probs + i * ld_p + k0;
        int32_t* out = acc + i * ld_acc + j;
        switch (mr) {
          case 1: tile_nv<1, kVnni>(nv, kc, p, ld_p, packed, start, out, ld_acc, last); break;
          case 2: tile_nv<2, kVnni>(nv, kc, p, ld_p, packed, start, out, ld_acc, last); break;
          case 3: tile_nv<3, kVnni>(nv, kc, p, ld_p, packed, start, out, ld_acc, last); break;
          case 4: tile_nv<4, kVnni>(nv, kc, p, ld_p, packed, start, out, ld_acc, last); break;
          case 5: tile_nv<5, kVnni>(nv, kc, p, ld_p, packed, start, out, ld_acc, last); break;
          default: tile_nv<6, kVnni>(nv, kc, p, ld_p, packed, start, out, ld_acc, last); break;
        }
      }
    }
  }
}


// Tile rows [0, mr) (mr <= kMr) of kNv vectors: the one switch over the row remainder.
template <size_t kNv, bool kVnni, typename Out>
void tile_rows(size_t mr, size_t kc, const uint16_t* p, size_t ld_p, const int32_t* packed, const int32_t* init, const int32_t* src,
               size_t ld_src, const Out& out) {
  static_assert(kMr == 6, "one case per row count");
  const auto all = last_lanes(kLanes);
  switch (mr) {
    case 1: return tile<1, kNv, kVnni>(kc, p, ld_p, packed, init, src, ld_src, all, out);
    case 2: return tile<2, kNv, kVnni>(kc, p, ld_p, packed, init, src, ld_src, all, out);
    case 3: return tile<3, kNv, kVnni>(kc, p, ld_p, packed, init, src, ld_src, all, out);
    case 4: return tile<4, kNv, kVnni>(kc, p, ld_p, packed, init, src, ld_src, all, out);
    case 5: return tile<5, kNv, kVnni>(kc, p, ld_p, packed, init, src, ld_src, all, out);
    default: return tile<6, kNv, kVnni>(kc, p, ld_p, packed, init, src, ld_src, all, out);
  }
}

// The start values −z·Σ_k p (mod 2^32) of mr rows (Eq. 23b's second form, z outside the fold range).
inline void start_values(const uint16_t* probs, size_t ld_p, size_t mr, size_t k, int32_t v_zero_point, int32_t* init) {
  for (size_t r = 0; r < mr; ++r) init[r] = static_cast<int32_t>(0u - row_sum(probs + r * ld_p, k) * static_cast<uint32_t>(v_zero_point));
}

// av16_u8 (Eq. 23c): per kNr-column block, v's rows packed as k-pairs straight from the token-major
// layout (pack_v_rows: no vᵀ), then kMr-row tiles of the full kNr width whose epilogue
// u8_out(dst, nc) (the ISA's requantizing store for columns [0, nc) at dst) writes the bytes. k <= kKc
// (ViT-Ti, DeiT-S: 197) packs each block once for all rows. Larger k runs the rows in chunks of
// kChunkRows through an int32 buffer (each k block adds to it, the last one requantizes), packing
// every block once per chunk.
template <bool kVnni, typename MakeOut>
void av16_u8_outer(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                   int32_t v_zero_point, uint8_t* out, size_t ld_out, const MakeOut& u8_out) {
  if (m == 0 || n == 0) return;
  constexpr size_t kNv = kNr / kLanes;
  constexpr size_t kChunkRows = 8 * kMr;
  alignas(kPackAlign) int32_t packed[kKc / 2 * kNr];
  const bool fold = v_zero_point >= kFoldMin && v_zero_point <= kFoldMax;
  const int16_t s = fold ? static_cast<int16_t>(v_zero_point) : int16_t{0};
  for (size_t j = 0; j < n; j += kNr) {
    const size_t nc = std::min(kNr, n - j);
    if (k <= kKc) {
      pack_v_rows(nc, k, k > 0 ? v + j : v, ld_v, s, packed);  // k == 0: v may be null
      for (size_t i = 0; i < m; i += kMr) {
        const size_t mr = std::min(kMr, m - i);
        int32_t init[kMr] = {};
        if (!fold) start_values(probs + i * ld_p, ld_p, mr, k, v_zero_point, init);
        tile_rows<kNv, kVnni>(mr, k, probs + i * ld_p, ld_p, packed, init, nullptr, 0, u8_out(out + i * ld_out + j, nc));
      }
      continue;
    }
    alignas(kPackAlign) int32_t partial[kChunkRows * kNr];
    for (size_t i0 = 0; i0 < m; i0 += kChunkRows) {
      const size_t i1 = std::min(m, i0 + kChunkRows);
      for (size_t k0 = 0; k0 < k; k0 += kKc) {
        const size_t kc = std::min(kKc, k - k0);
        pack_v_rows(nc, kc, v + k0 * ld_v + j, ld_v, s, packed);
        for (size_t i = i0; i < i1; i += kMr) {
          const size_t mr = std::min(kMr, i1 - i);
          int32_t init[kMr] = {};
          if (k0 == 0 && !fold) start_values(probs + i * ld_p, ld_p, mr, k, v_zero_point, init);
          const int32_t* start = k0 == 0 ? init : nullptr;
          const uint16_t* p = probs + i * ld_p + k0;
          int32_t* part = partial + (i - i0) * kNr;
          if (k0 + kc == k) {
            tile_rows<kNv, kVnni>(mr, kc, p, ld_p, packed, start, part, kNr, u8_out(out + i * ld_out + j, nc));
          } else {
            tile_rows<kNv, kVnni>(mr, kc, p, ld_p, packed, start, part, kNr, StoreS32{part, kNr, last_lanes(kLanes)});
          }
        }
      }
    }
  }
}
