// Element types of tensors in safetensors files, and the exact F16/BF16 -> F32 widenings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace intvit {

// The safetensors dtypes intvit reads; the names are the on-disk spellings ("F32", "BF16", ...).
enum class DType { kF32, kF16, kBF16, kI8, kU8, kI16, kI32, kI64 };

size_t dtype_size(DType dtype);       // bytes per element
const char* dtype_name(DType dtype);  // "F32", "F16", ...
DType parse_dtype(std::string_view name);  // throws Error(kUnsupported) for any other name

// Storage types for the two 16-bit floats: the raw IEEE binary16 / bfloat16 bit patterns.
struct Float16 { uint16_t bits; };
struct BFloat16 { uint16_t bits; };
static_assert(sizeof(Float16) == 2 && sizeof(BFloat16) == 2);

// Exact widenings (every F16 and BF16 value, incl. subnormals, inf and NaN, is a float).
float f16_to_f32(uint16_t bits);
float bf16_to_f32(uint16_t bits);

// The DType stored as C++ type T (used by TensorView::copy_as and SafeTensorsWriter::add).
template <typename T> inline constexpr bool kHasDType = false;
template <typename T> inline constexpr DType kDTypeOf = DType::kF32;
#define INTVIT_DTYPE_OF(T, D)                            \
  template <> inline constexpr bool kHasDType<T> = true; \
  template <> inline constexpr DType kDTypeOf<T> = D;
INTVIT_DTYPE_OF(float, DType::kF32)
INTVIT_DTYPE_OF(Float16, DType::kF16)
INTVIT_DTYPE_OF(BFloat16, DType::kBF16)
INTVIT_DTYPE_OF(int8_t, DType::kI8)
INTVIT_DTYPE_OF(uint8_t, DType::kU8)
INTVIT_DTYPE_OF(int16_t, DType::kI16)
INTVIT_DTYPE_OF(int32_t, DType::kI32)
INTVIT_DTYPE_OF(int64_t, DType::kI64)
#undef INTVIT_DTYPE_OF

template <typename T>
constexpr DType dtype_of() {
  static_assert(kHasDType<T>, "no safetensors dtype for this C++ type");
  return kDTypeOf<T>;
}

}  // namespace intvit
