// Row renormalization of attn@v with log2 codes (QUANTIZATION.md §4.8, Eq. 24). One scalar
// implementation serves every backend: its cost is len additions and head_dim multiplies per row,
// against len·head_dim for av_log2 itself.
#include <algorithm>
#include <bit>
#include <climits>

#include "kernels/softmax/softmax.h"

namespace intvit {

void av_log2_renormalize(const SoftmaxParams& p, size_t m, size_t n, size_t k, const uint8_t* codes,
                         size_t ld_codes, int32_t* acc, size_t ld_acc) {
  const int32_t limit = std::min(p.max_code, kAvLog2Shift + 1);  // the weights av_log2 used
  for (size_t i = 0; i < m; ++i) {
    uint64_t w = 0;  // W = Σ_k w(c) < k·2^22 < 2^54 for k < 2^32
    for (size_t kk = 0; kk < k; ++kk) {
      const int32_t c = codes[i * ld_codes + kk];
      if (c < limit) w += uint64_t{1} << (kAvLog2Shift - c);
    }
    if (w == 0) continue;  // every weight 0: acc is 0 already
    // W·2^s ∈ [2^30, 2^31); R = round(2^61 / (W·2^s)) ∈ [2^30, 2^31]; acc·2^22/W = acc·R / 2^(39−s).
    // |acc·R| <= 2^62 and the shift is 9..62 (s >= −23), so int64 holds every step.
    const int s = 30 - static_cast<int>(std::bit_width(w) - 1);
    const uint64_t wn = s >= 0 ? w << s : w >> -s;
    const int64_t r = static_cast<int64_t>(((uint64_t{1} << 61) + wn / 2) / wn);
    const int shift = 39 - s;
    const int64_t half = int64_t{1} << (shift - 1);
    int32_t* row = acc + i * ld_acc;
    for (size_t j = 0; j < n; ++j) {
      const int64_t v = (int64_t{row[j]} * r + half) >> shift;  // round half up
      row[j] = static_cast<int32_t>(std::clamp<int64_t>(v, INT32_MIN, INT32_MAX));
    }
  }
}

}  // namespace intvit
