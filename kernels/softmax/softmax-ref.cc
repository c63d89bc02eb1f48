// Scalar reference softmax (8- and 16-bit) and attn@v (log2 codes, 16-bit probabilities): the
// executable form of QUANTIZATION.md §4.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "kernels/fixedpoint.h"
#include "kernels/softmax/softmax.h"

namespace intvit {
namespace {

using namespace softmax_detail;

// Eq. 13: x - max saturated to int32 (<= 0).
int32_t centered(int32_t x, int32_t max) {
  return fp::clamp_to<int32_t>(int64_t{x} - max, std::numeric_limits<int32_t>::min(), 0);
}

// Eq. 14-20: the unnormalised exponential e(d) in [0, 2^18) of one centred logit d <= 0. The mode
// is a template parameter so the row loops below do not switch per element.
template <SoftmaxMode kMode>
int32_t exp_of(const SoftmaxParams& p, int32_t d) {
  const int32_t u = fp::multiply_by_quantized_multiplier(d, p.in_multiplier, p.in_shift);
  if constexpr (kMode == SoftmaxMode::kIexp || kMode == SoftmaxMode::kLog2) {
    const int32_t x = std::max(u, -(kIexpClampN << kIexpFracBits));                   // Eq. 14
    const int32_t q = (-x) >> kIexpFracBits, r = x + (q << kIexpFracBits);          // Eq. 15
    const int32_t z = r * (r + p.poly_b) + p.poly_c;                                  // Eq. 16
    return static_cast<int32_t>(fp::rounding_divide_by_pot64(z, q + kIexpNarrowShift));  // Eq. 17
  } else if constexpr (kMode == SoftmaxMode::kShiftmax) {
    const int32_t v = std::max(u, -kShiftPreClamp);                                    // Eq. 18
    const int32_t t = std::max(v + (v >> 1) - (v >> 4), -(kShiftClampN << kShiftFracBits));
    const int32_t q = (-t) >> kShiftFracBits, r = t + (q << kShiftFracBits);          // Eq. 19
    return ((r >> 1) + (1 << kShiftFracBits)) >> q;
  } else {
    return p.exp_table[-std::max(u, -255)];                                           // Eq. 20
  }
}

// One row, Eq. 13-20: e_j is computed once and kept for the normalisation pass (rows up to kKeep
// entries; longer rows, beyond the documented range, compute it again). Calls
// normalise(Σe, e_of) with e_of(j) = e_j: the only part the 8- and 16-bit outputs do not share.
template <SoftmaxMode kMode, typename Normalise>
void exp_row(const SoftmaxParams& p, size_t len, const int32_t* x, Normalise&& normalise) {
  constexpr size_t kKeep = 4096;
  int32_t e_buf[kKeep];
  const bool keep = len <= kKeep;
  const int32_t max = *std::max_element(x, x + len);
  int64_t sum = 0;  // Σe < 4096·2^18 = 2^30
  for (size_t j = 0; j < len; ++j) {
    const int32_t e = exp_of<kMode>(p, centered(x[j], max));
    if (keep) e_buf[j] = e;
    sum += e;
  }
  auto e_of = [&](size_t j) -> int64_t { return keep ? e_buf[j] : exp_of<kMode>(p, centered(x[j], max)); };
  normalise(sum, e_of);
}

// 8-bit output: Eq. 21 or (kLog2) Eq. 22.
template <SoftmaxMode kMode>
void softmax_row(const SoftmaxParams& p, size_t len, const int32_t* x, uint8_t* y) {
  exp_row<kMode>(p, len, x, [&](int64_t sum, auto e_of) {
    if constexpr (kMode == SoftmaxMode::kLog2) {
      for (size_t j = 0; j < len; ++j) {  // Eq. 22: c = #{n : 3e·2^n <= 2Σ}, capped
        const int64_t e = e_of(j);
        int32_t c = 0;
        if (e == 0) c = p.max_code;
        while (c < p.max_code && (3 * e << c) <= 2 * sum) ++c;
        y[j] = static_cast<uint8_t>(c);
      }
    } else {
      const uint64_t factor = ((uint64_t{1} << 31) + sum / 2) / sum;  // Eq. 21: round(2^31/Σ)
      for (size_t j = 0; j < len; ++j) {
        const uint64_t prob = (e_of(j) * factor + (uint64_t{1} << (kProbShift - 1))) >> kProbShift;
        y[j] = static_cast<uint8_t>(std::min<uint64_t>(prob, 255));
      }
    }
  });
}

// 16-bit output: Eq. 21b.
template <SoftmaxMode kMode>
void softmax_row(const SoftmaxParams& p, size_t len, const int32_t* x, uint16_t* y) {
  static_assert(kMode != SoftmaxMode::kLog2);
  exp_row<kMode>(p, len, x, [&](int64_t sum, auto e_of) {
    const uint64_t factor = ((uint64_t{1} << kProb16RecipBits) + sum / 2) / sum;  // round(2^47/Σ)
    for (size_t j = 0; j < len; ++j) {
      const uint64_t prob = (e_of(j) * factor + (uint64_t{1} << (kProb16Shift - 1))) >> kProb16Shift;
      y[j] = static_cast<uint16_t>(std::min<uint64_t>(prob, kProb16Max));
    }
  });
}

template <SoftmaxMode kMode, typename Out>
void softmax_rows_mode(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                       Out* out, size_t ld_out) {
  for (size_t row = 0; row < rows; ++row) softmax_row<kMode>(p, len, in + row * ld_in, out + row * ld_out);
}

}  // namespace

void softmax_rows_ref(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                      uint8_t* out, size_t ld_out) {
  if (len == 0) return;
  for_softmax_mode(p.mode, [&]<SoftmaxMode kMode>() { softmax_rows_mode<kMode>(p, rows, len, in, ld_in, out, ld_out); });
}

void softmax_rows16_ref(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                        uint16_t* out, size_t ld_out) {
  check_softmax16_params(p);
  if (len == 0) return;
  for_softmax_mode(p.mode, [&]<SoftmaxMode kMode>() {
    if constexpr (kMode != SoftmaxMode::kLog2) softmax_rows_mode<kMode>(p, rows, len, in, ld_in, out, ld_out);  // log2 rejected above
  });
}

void av_log2_ref(const SoftmaxParams& p, size_t m, size_t n, size_t k, const uint8_t* codes, size_t ld_codes,
                 const uint8_t* v_t, size_t ld_v, int32_t v_zero_point, int32_t* acc, size_t ld_acc) {
  const int32_t limit = std::min(p.max_code, kAvLog2Shift + 1);  // codes >= limit weigh 0
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      uint32_t sum = 0;  // Eq. 23, mod 2^32
      for (size_t kk = 0; kk < k; ++kk) {
        const int32_t c = codes[i * ld_codes + kk];
        if (c >= limit) continue;
        const int32_t v = static_cast<int32_t>(v_t[j * ld_v + kk]) - v_zero_point;
        sum += static_cast<uint32_t>(v) << (kAvLog2Shift - c);
      }
      acc[i * ld_acc + j] = static_cast<int32_t>(sum);
    }
  }
}

// Eq. 23b, mod 2^32 (p <= 32767 and |v - z| <= 255 keep each product below 2^23).
void av16_ref(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v_t, size_t ld_v,
              int32_t v_zero_point, int32_t* acc, size_t ld_acc) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      uint32_t sum = 0;
      for (size_t kk = 0; kk < k; ++kk) {
        const uint32_t v = static_cast<uint32_t>(v_t[j * ld_v + kk]) - static_cast<uint32_t>(v_zero_point);
        sum += uint32_t{probs[i * ld_p + kk]} * v;
      }
      acc[i * ld_acc + j] = static_cast<int32_t>(sum);
    }
  }
}

}  // namespace intvit
