// The reference of av16_u8 (Eq. 23c: Eq. 23b then Eq. 11, one value at a time) and the argument
// check every av16_u8 entry point shares.
#include <string>

#include "kernels/error.h"
#include "kernels/fixedpoint.h"
#include "kernels/softmax/av16-u8.h"

namespace intvit {

void check_av16_u8_args(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                        const Av16Requant& rq, const uint8_t* out, size_t ld_out) {
  auto fail = [](const std::string& why) { throw Error(ErrorCode::kInvalidArgument, "av16_u8: " + why); };
  if (rq.multiplier < 0) fail("multiplier " + std::to_string(rq.multiplier) + " is not in [0, 2^31) (Eq. 7)");
  if (rq.shift < -31 || rq.shift > 31) fail("shift " + std::to_string(rq.shift) + " is not in [-31, 31] (Eq. 7)");
  if (rq.zero_point < 0 || rq.zero_point > 255) fail("output zero-point " + std::to_string(rq.zero_point) + " is not in [0, 255]");
  if (ld_out < n) fail("ld_out " + std::to_string(ld_out) + " < n " + std::to_string(n));
  if (m == 0 || n == 0) return;
  if (out == nullptr) fail("out is null");
  if (k > 0 && (probs == nullptr || v == nullptr)) fail("probs or v is null");
  if (k > 0 && ld_p < k) fail("ld_p " + std::to_string(ld_p) + " < k " + std::to_string(k));
  if (k > 1 && ld_v < n) fail("ld_v " + std::to_string(ld_v) + " < n " + std::to_string(n));
}

void av16_u8_ref(size_t m, size_t n, size_t k, const uint16_t* probs, size_t ld_p, const uint8_t* v, size_t ld_v,
                 int32_t v_zero_point, const Av16Requant& rq, uint8_t* out, size_t ld_out) {
  check_av16_u8_args(m, n, k, probs, ld_p, v, ld_v, rq, out, ld_out);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      uint32_t sum = 0;  // Eq. 23b, mod 2^32
      for (size_t kk = 0; kk < k; ++kk) {
        sum += uint32_t{probs[i * ld_p + kk]} * (static_cast<uint32_t>(v[kk * ld_v + j]) - static_cast<uint32_t>(v_zero_point));
      }
      // Eq. 11 (MBQM is Eq. 7)
      const int64_t q = int64_t{rq.zero_point} + fp::multiply_by_quantized_multiplier(static_cast<int32_t>(sum), rq.multiplier, rq.shift);
      out[i * ld_out + j] = static_cast<uint8_t>(fp::clamp_to<int32_t>(q, 0, 255));
    }
  }
}

}  // namespace intvit
