// A deliberately planted floating-point operation: the no-float check must reject this object
// (CTest expects that test to fail), proving the check can see float code at all.
#include <cstdint>

extern "C" int32_t intvit_planted_float_requantize(int32_t acc, float scale) {
  return static_cast<int32_t>(static_cast<float>(acc) * scale);
}
