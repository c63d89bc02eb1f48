#include "models/dtype.h"

#include <bit>
#include <string>

#include "kernels/error.h"

namespace intvit {

namespace {
struct DTypeInfo { DType dtype; const char* name; size_t size; };
constexpr DTypeInfo kDTypes[] = {
    {DType::kF32, "F32", 4}, {DType::kF16, "F16", 2}, {DType::kBF16, "BF16", 2}, {DType::kI8, "I8", 1},
    {DType::kU8, "U8", 1},   {DType::kI16, "I16", 2}, {DType::kI32, "I32", 4},   {DType::kI64, "I64", 8},
};
const DTypeInfo& info(DType dtype) {
  for (const DTypeInfo& i : kDTypes)
    if (i.dtype == dtype) return i;
  throw Error(ErrorCode::kInvalidArgument, "invalid DType value " + std::to_string(static_cast<int>(dtype)));
}
}  // namespace

size_t dtype_size(DType dtype) { return info(dtype).size; }
const char* dtype_name(DType dtype) { return info(dtype).name; }

DType parse_dtype(std::string_view name) {
  for (const DTypeInfo& i : kDTypes)
    if (name == i.name) return i.dtype;
  throw Error(ErrorCode::kUnsupported, "unsupported dtype '" + std::string(name) + "'");
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1f;
  const uint32_t mantissa = h & 0x3ff;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN
  if (exponent != 0) return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
  // Zero or subnormal: mantissa * 2^-24 is exact in float.
  const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
  return sign ? -magnitude : magnitude;
}

float bf16_to_f32(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

}  // namespace intvit
