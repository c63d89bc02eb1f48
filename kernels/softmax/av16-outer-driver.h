// The driver of the av16 outer-product kernels, written once for both widths: av16-outer-avx2.h and
// av16-outer-avx512.h each include this file inside their own ISA namespace (internal linkage,
// compiled under that file's ISA flags), after defining kNr, kMr, kKc, kLanes (int32 lanes per
// vector), kPackAlign, kFoldMin / kFoldMax, last_lanes(n), pack_v, row_sum and tile_nv. No include
// guard: one inclusion per ISA namespace.
//
// Per kNr-column block of v: pack kKc k-values at a time (v − z folded in when it fits int16, else
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

