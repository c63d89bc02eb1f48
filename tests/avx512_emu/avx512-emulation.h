// Force-included (-include) into the AVX-512 kernel sources when they are compiled a second time
// for a host without AVX-512 (-DINTVIT_AVX512_EMULATION, -mavx2 only): every _mm*_ intrinsic the
// kernels use becomes portable code, from SIMDe where it has one and from this file where SIMDe
// 0.7.4 has none (or a broken alias). An intrinsic missing from both falls through to GCC's
// native one and fails to compile ("target specific option mismatch"), so nothing is silently
// native. Semantics follow the Intel Intrinsics Guide; intrinsics_emulation_test.cc checks them.
#pragma once

// GCC's own declarations first, so they are parsed before any of the macros below exists.
#include <immintrin.h>

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

// SIMDe 0.7.4's alias takes 4 parameters (copied from a masked form); the function takes 2.
#undef _mm512_madd_epi16
#define _mm512_madd_epi16(a, b) simde_mm512_madd_epi16(a, b)

namespace intvit_emu_detail {

// A vector as an array of lanes and back. memcpy rather than SIMDe's private unions: it depends
// on nothing but the vector's size, not on SIMDe's internals.
template <class T, class V>
inline std::array<T, sizeof(V) / sizeof(T)> lanes(V v) {
  std::array<T, sizeof(V) / sizeof(T)> a;
  std::memcpy(a.data(), &v, sizeof v);
  return a;
}
template <class V, class T, std::size_t N>
inline V vec(const std::array<T, N>& a) {
  static_assert(sizeof(V) == sizeof a);
  V v;
  std::memcpy(&v, a.data(), sizeof v);
  return v;
}

inline bool bit(std::uint64_t k, std::size_t i) { return (k >> i) & 1; }

// Masked loads read only the selected elements, one memcpy each: the kernels load the tail of a
// buffer with a mask, and reading past its end would be an over-read (AddressSanitizer).
template <class V, class T>
inline V mask_load(V src, std::uint64_t k, const void* p) {
  auto r = lanes<T>(src);
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (bit(k, i)) std::memcpy(&r[i], static_cast<const char*>(p) + i * sizeof(T), sizeof(T));
  }
  return vec<V>(r);
}
template <class V, class T>
inline V maskz_load(std::uint64_t k, const void* p) {
  return mask_load<V, T>(V{}, k, p);
}

// Masked stores write only the selected elements: the others may belong to someone else.
template <class T, std::size_t N>
inline void mask_store(void* p, std::uint64_t k, const std::array<T, N>& a) {
  for (std::size_t i = 0; i < N; ++i) {
    if (bit(k, i)) std::memcpy(static_cast<char*>(p) + i * sizeof(T), &a[i], sizeof(T));
  }
}

// Each lane of type From converted to To (by C++ conversion: sign/zero extension, or modular
// truncation), the first N lanes of the source.
template <class To, class From, std::size_t N, class V>
inline std::array<To, N> convert(V v) {
  const auto a = lanes<From>(v);
  static_assert(N <= a.size());
  std::array<To, N> r;
  for (std::size_t i = 0; i < N; ++i) r[i] = static_cast<To>(a[i]);
  return r;
}

// Each unsigned lane saturated to To's maximum.
template <class To, class From, class V>
inline std::array<To, sizeof(V) / sizeof(From)> convert_us(V v) {
  constexpr From max = static_cast<To>(~To{0});
  const auto a = lanes<From>(v);
  std::array<To, sizeof(V) / sizeof(From)> r;
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<To>(a[i] > max ? max : a[i]);
  return r;
}

// The comparison of each lane pair as a bit mask, masked by k.
template <class T, class Cmp>
inline std::uint64_t compare(std::uint64_t k, __m512i a, __m512i b, Cmp cmp) {
  const auto x = lanes<T>(a), y = lanes<T>(b);
  std::uint64_t m = 0;
  for (std::size_t i = 0; i < x.size(); ++i) m |= std::uint64_t{bit(k, i) && cmp(x[i], y[i])} << i;
  return m;
}

// Arithmetic right shift with counts ≥ the lane width filling with the sign bit.
template <class T>
inline T sra(T x, std::uint64_t count) {
  constexpr std::uint64_t width = 8 * sizeof(T);
  return static_cast<T>(x >> (count < width ? count : width - 1));  // C++20: >> of a negative is arithmetic
}
template <class T, class U>
inline __m512i sra_each(__m512i a, __m512i count) {
  auto x = lanes<T>(a);
  const auto c = lanes<U>(count);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = sra<T>(x[i], c[i]);
  return vec<__m512i>(x);
}
template <class T>
inline __m512i sra_all(__m512i a, std::uint64_t count) {
  auto x = lanes<T>(a);
  for (auto& e : x) e = sra<T>(e, count);
  return vec<__m512i>(x);
}

template <class T, class Index>
inline __m512i gather(__m512i vindex, const void* base, int scale) {
  const auto idx = lanes<Index>(vindex);
  std::array<T, 64 / sizeof(T)> r;
  for (std::size_t i = 0; i < r.size(); ++i) {
    std::memcpy(&r[i], static_cast<const char*>(base) + static_cast<std::ptrdiff_t>(idx[i]) * scale, sizeof(T));
  }
  return vec<__m512i>(r);
}

}  // namespace intvit_emu_detail

// ---- Masked loads ----

#define INTVIT_EMU_MASKZ_LOAD(name, V, T, M)                                             \
  static inline V intvit_emu_##name(M k, const void* mem_addr) {                         \
    return intvit_emu_detail::maskz_load<V, T>(k, mem_addr);                             \
  }
INTVIT_EMU_MASKZ_LOAD(mm_maskz_loadu_epi8, __m128i, std::uint8_t, __mmask16)
INTVIT_EMU_MASKZ_LOAD(mm256_maskz_loadu_epi8, __m256i, std::uint8_t, __mmask32)
INTVIT_EMU_MASKZ_LOAD(mm256_maskz_loadu_epi16, __m256i, std::uint16_t, __mmask16)
INTVIT_EMU_MASKZ_LOAD(mm256_maskz_loadu_epi32, __m256i, std::uint32_t, __mmask8)
INTVIT_EMU_MASKZ_LOAD(mm512_maskz_loadu_epi8, __m512i, std::uint8_t, __mmask64)
INTVIT_EMU_MASKZ_LOAD(mm512_maskz_loadu_epi16, __m512i, std::uint16_t, __mmask32)
INTVIT_EMU_MASKZ_LOAD(mm512_maskz_loadu_epi32, __m512i, std::uint32_t, __mmask16)
INTVIT_EMU_MASKZ_LOAD(mm512_maskz_loadu_epi64, __m512i, std::uint64_t, __mmask8)
// The aligned form: the alignment it requires is the caller's to keep; the lanes are the same.
INTVIT_EMU_MASKZ_LOAD(mm512_maskz_load_epi32, __m512i, std::uint32_t, __mmask16)
#undef INTVIT_EMU_MASKZ_LOAD
#undef _mm_maskz_loadu_epi8
#define _mm_maskz_loadu_epi8 intvit_emu_mm_maskz_loadu_epi8
#undef _mm256_maskz_loadu_epi8
#define _mm256_maskz_loadu_epi8 intvit_emu_mm256_maskz_loadu_epi8
#undef _mm256_maskz_loadu_epi16
#define _mm256_maskz_loadu_epi16 intvit_emu_mm256_maskz_loadu_epi16
#undef _mm256_maskz_loadu_epi32
#define _mm256_maskz_loadu_epi32 intvit_emu_mm256_maskz_loadu_epi32
#undef _mm512_maskz_loadu_epi8
#define _mm512_maskz_loadu_epi8 intvit_emu_mm512_maskz_loadu_epi8
#undef _mm512_maskz_loadu_epi16
#define _mm512_maskz_loadu_epi16 intvit_emu_mm512_maskz_loadu_epi16
#undef _mm512_maskz_loadu_epi32
#define _mm512_maskz_loadu_epi32 intvit_emu_mm512_maskz_loadu_epi32
#undef _mm512_maskz_loadu_epi64
#define _mm512_maskz_loadu_epi64 intvit_emu_mm512_maskz_loadu_epi64
#undef _mm512_maskz_load_epi32
#define _mm512_maskz_load_epi32 intvit_emu_mm512_maskz_load_epi32

static inline __m512i intvit_emu_mm512_mask_loadu_epi32(__m512i src, __mmask16 k, const void* mem_addr) {
  return intvit_emu_detail::mask_load<__m512i, std::uint32_t>(src, k, mem_addr);
}
#undef _mm512_mask_loadu_epi32
#define _mm512_mask_loadu_epi32 intvit_emu_mm512_mask_loadu_epi32

// ---- Masked stores ----

#define INTVIT_EMU_MASK_STORE(name, V, T, M)                                             \
  static inline void intvit_emu_##name(void* mem_addr, M k, V a) {                       \
    intvit_emu_detail::mask_store(mem_addr, k, intvit_emu_detail::lanes<T>(a));          \
  }
INTVIT_EMU_MASK_STORE(mm_mask_storeu_epi8, __m128i, std::uint8_t, __mmask16)
INTVIT_EMU_MASK_STORE(mm256_mask_storeu_epi16, __m256i, std::uint16_t, __mmask16)
INTVIT_EMU_MASK_STORE(mm512_mask_storeu_epi8, __m512i, std::uint8_t, __mmask64)
INTVIT_EMU_MASK_STORE(mm512_mask_storeu_epi16, __m512i, std::uint16_t, __mmask32)
INTVIT_EMU_MASK_STORE(mm512_mask_storeu_epi32, __m512i, std::uint32_t, __mmask16)
INTVIT_EMU_MASK_STORE(mm512_mask_storeu_ps, __m512, float, __mmask16)
#undef INTVIT_EMU_MASK_STORE
#undef _mm_mask_storeu_epi8
#define _mm_mask_storeu_epi8 intvit_emu_mm_mask_storeu_epi8
#undef _mm256_mask_storeu_epi16
#define _mm256_mask_storeu_epi16 intvit_emu_mm256_mask_storeu_epi16
#undef _mm512_mask_storeu_epi8
#define _mm512_mask_storeu_epi8 intvit_emu_mm512_mask_storeu_epi8
#undef _mm512_mask_storeu_epi16
#define _mm512_mask_storeu_epi16 intvit_emu_mm512_mask_storeu_epi16
#undef _mm512_mask_storeu_epi32
#define _mm512_mask_storeu_epi32 intvit_emu_mm512_mask_storeu_epi32
#undef _mm512_mask_storeu_ps
#define _mm512_mask_storeu_ps intvit_emu_mm512_mask_storeu_ps

// ---- Conversions ----

// Widening: sign extension from signed lanes, zero extension from unsigned ones.
static inline __m512i intvit_emu_mm512_cvtepi16_epi32(__m256i a) {
  return intvit_emu_detail::vec<__m512i>(intvit_emu_detail::convert<std::int32_t, std::int16_t, 16>(a));
}
static inline __m512i intvit_emu_mm512_cvtepi32_epi64(__m256i a) {
  return intvit_emu_detail::vec<__m512i>(intvit_emu_detail::convert<std::int64_t, std::int32_t, 8>(a));
}
static inline __m512i intvit_emu_mm512_cvtepu32_epi64(__m256i a) {
  return intvit_emu_detail::vec<__m512i>(intvit_emu_detail::convert<std::uint64_t, std::uint32_t, 8>(a));
}
static inline __m512i intvit_emu_mm512_cvtepu8_epi16(__m256i a) {
  return intvit_emu_detail::vec<__m512i>(intvit_emu_detail::convert<std::uint16_t, std::uint8_t, 32>(a));
}
static inline __m512i intvit_emu_mm512_cvtepu8_epi32(__m128i a) {
  return intvit_emu_detail::vec<__m512i>(intvit_emu_detail::convert<std::uint32_t, std::uint8_t, 16>(a));
}
static inline __m512i intvit_emu_mm512_cvtepu8_epi64(__m128i a) {  // the low 8 bytes
  return intvit_emu_detail::vec<__m512i>(intvit_emu_detail::convert<std::uint64_t, std::uint8_t, 8>(a));
}
// Narrowing: truncation (the low bits of each lane).
static inline __m256i intvit_emu_mm512_cvtepi32_epi16(__m512i a) {
  return intvit_emu_detail::vec<__m256i>(intvit_emu_detail::convert<std::uint16_t, std::uint32_t, 16>(a));
}
static inline __m128i intvit_emu_mm512_cvtepi32_epi8(__m512i a) {
  return intvit_emu_detail::vec<__m128i>(intvit_emu_detail::convert<std::uint8_t, std::uint32_t, 16>(a));
}
// Unsigned saturation: the source lanes are unsigned, so 0xFFFFFFFF becomes 255, not 0.
static inline __m128i intvit_emu_mm512_cvtusepi32_epi8(__m512i a) {
  return intvit_emu_detail::vec<__m128i>(intvit_emu_detail::convert_us<std::uint8_t, std::uint32_t>(a));
}
static inline void intvit_emu_mm512_mask_cvtepi16_storeu_epi8(void* base_addr, __mmask32 k, __m512i a) {
  intvit_emu_detail::mask_store(base_addr, k, intvit_emu_detail::convert<std::uint8_t, std::uint16_t, 32>(a));
}
static inline void intvit_emu_mm512_mask_cvtepi32_storeu_epi16(void* base_addr, __mmask16 k, __m512i a) {
  intvit_emu_detail::mask_store(base_addr, k, intvit_emu_detail::convert<std::uint16_t, std::uint32_t, 16>(a));
}
static inline void intvit_emu_mm512_mask_cvtepi32_storeu_epi8(void* base_addr, __mmask16 k, __m512i a) {
  intvit_emu_detail::mask_store(base_addr, k, intvit_emu_detail::convert<std::uint8_t, std::uint32_t, 16>(a));
}
static inline void intvit_emu_mm512_mask_cvtusepi16_storeu_epi8(void* base_addr, __mmask32 k, __m512i a) {
  intvit_emu_detail::mask_store(base_addr, k, intvit_emu_detail::convert_us<std::uint8_t, std::uint16_t>(a));
}
static inline __m512i intvit_emu_mm512_zextsi256_si512(__m256i a) {
  std::array<std::uint64_t, 8> r{};  // the upper half zero (a cast would leave it undefined)
  std::memcpy(r.data(), &a, sizeof a);
  return intvit_emu_detail::vec<__m512i>(r);
}
#undef _mm512_cvtepi16_epi32
#define _mm512_cvtepi16_epi32 intvit_emu_mm512_cvtepi16_epi32
#undef _mm512_cvtepi32_epi64
#define _mm512_cvtepi32_epi64 intvit_emu_mm512_cvtepi32_epi64
#undef _mm512_cvtepu32_epi64
#define _mm512_cvtepu32_epi64 intvit_emu_mm512_cvtepu32_epi64
#undef _mm512_cvtepu8_epi16
#define _mm512_cvtepu8_epi16 intvit_emu_mm512_cvtepu8_epi16
#undef _mm512_cvtepu8_epi32
#define _mm512_cvtepu8_epi32 intvit_emu_mm512_cvtepu8_epi32
#undef _mm512_cvtepu8_epi64
#define _mm512_cvtepu8_epi64 intvit_emu_mm512_cvtepu8_epi64
#undef _mm512_cvtepi32_epi16
#define _mm512_cvtepi32_epi16 intvit_emu_mm512_cvtepi32_epi16
#undef _mm512_cvtepi32_epi8
#define _mm512_cvtepi32_epi8 intvit_emu_mm512_cvtepi32_epi8
#undef _mm512_cvtusepi32_epi8
#define _mm512_cvtusepi32_epi8 intvit_emu_mm512_cvtusepi32_epi8
#undef _mm512_mask_cvtepi16_storeu_epi8
#define _mm512_mask_cvtepi16_storeu_epi8 intvit_emu_mm512_mask_cvtepi16_storeu_epi8
#undef _mm512_mask_cvtepi32_storeu_epi16
#define _mm512_mask_cvtepi32_storeu_epi16 intvit_emu_mm512_mask_cvtepi32_storeu_epi16
#undef _mm512_mask_cvtepi32_storeu_epi8
#define _mm512_mask_cvtepi32_storeu_epi8 intvit_emu_mm512_mask_cvtepi32_storeu_epi8
#undef _mm512_mask_cvtusepi16_storeu_epi8
#define _mm512_mask_cvtusepi16_storeu_epi8 intvit_emu_mm512_mask_cvtusepi16_storeu_epi8
#undef _mm512_zextsi256_si512
#define _mm512_zextsi256_si512 intvit_emu_mm512_zextsi256_si512

// ---- Comparisons ----

static inline __mmask8 intvit_emu_mm512_cmpgt_epu64_mask(__m512i a, __m512i b) {
  return static_cast<__mmask8>(intvit_emu_detail::compare<std::uint64_t>(~0ull, a, b, [](auto x, auto y) { return x > y; }));
}
static inline __mmask16 intvit_emu_mm512_mask_cmplt_epi32_mask(__mmask16 k1, __m512i a, __m512i b) {
  return static_cast<__mmask16>(intvit_emu_detail::compare<std::int32_t>(k1, a, b, [](auto x, auto y) { return x < y; }));
}
static inline __mmask8 intvit_emu_mm512_mask_cmplt_epi64_mask(__mmask8 k1, __m512i a, __m512i b) {
  return static_cast<__mmask8>(intvit_emu_detail::compare<std::int64_t>(k1, a, b, [](auto x, auto y) { return x < y; }));
}
static inline __mmask16 intvit_emu_mm512_cmplt_epi32_mask(__m512i a, __m512i b) {
  return intvit_emu_mm512_mask_cmplt_epi32_mask(0xFFFF, a, b);
}
static inline __mmask8 intvit_emu_mm512_cmplt_epi64_mask(__m512i a, __m512i b) {
  return intvit_emu_mm512_mask_cmplt_epi64_mask(0xFF, a, b);
}
static inline __mmask16 intvit_emu_mm512_cmpneq_epi32_mask(__m512i a, __m512i b) {
  return static_cast<__mmask16>(intvit_emu_detail::compare<std::int32_t>(~0ull, a, b, [](auto x, auto y) { return x != y; }));
}
#undef _mm512_cmpgt_epu64_mask
#define _mm512_cmpgt_epu64_mask intvit_emu_mm512_cmpgt_epu64_mask
#undef _mm512_mask_cmplt_epi32_mask
#define _mm512_mask_cmplt_epi32_mask intvit_emu_mm512_mask_cmplt_epi32_mask
#undef _mm512_mask_cmplt_epi64_mask
#define _mm512_mask_cmplt_epi64_mask intvit_emu_mm512_mask_cmplt_epi64_mask
#undef _mm512_cmplt_epi32_mask
#define _mm512_cmplt_epi32_mask intvit_emu_mm512_cmplt_epi32_mask
#undef _mm512_cmplt_epi64_mask
#define _mm512_cmplt_epi64_mask intvit_emu_mm512_cmplt_epi64_mask
#undef _mm512_cmpneq_epi32_mask
#define _mm512_cmpneq_epi32_mask intvit_emu_mm512_cmpneq_epi32_mask

// ---- Arithmetic and shifts ----

static inline __m512i intvit_emu_mm512_mask_subs_epi16(__m512i src, __mmask32 k, __m512i a, __m512i b) {
  auto r = intvit_emu_detail::lanes<std::int16_t>(src);
  const auto x = intvit_emu_detail::lanes<std::int16_t>(a), y = intvit_emu_detail::lanes<std::int16_t>(b);
  for (std::size_t i = 0; i < r.size(); ++i) {
    const int d = x[i] - y[i];
    if (intvit_emu_detail::bit(k, i)) r[i] = static_cast<std::int16_t>(d < -32768 ? -32768 : d > 32767 ? 32767 : d);
  }
  return intvit_emu_detail::vec<__m512i>(r);
}
static inline __m512i intvit_emu_mm512_maskz_sub_epi16(__mmask32 k, __m512i a, __m512i b) {
  std::array<std::uint16_t, 32> r{};
  const auto x = intvit_emu_detail::lanes<std::uint16_t>(a), y = intvit_emu_detail::lanes<std::uint16_t>(b);
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (intvit_emu_detail::bit(k, i)) r[i] = static_cast<std::uint16_t>(x[i] - y[i]);  // modular
  }
  return intvit_emu_detail::vec<__m512i>(r);
}
static inline __m512i intvit_emu_mm512_maskz_sllv_epi32(__mmask16 k, __m512i a, __m512i count) {
  std::array<std::uint32_t, 16> r{};
  const auto x = intvit_emu_detail::lanes<std::uint32_t>(a), c = intvit_emu_detail::lanes<std::uint32_t>(count);
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (intvit_emu_detail::bit(k, i) && c[i] < 32) r[i] = x[i] << c[i];  // unsigned: no UB; ≥ 32 gives 0
  }
  return intvit_emu_detail::vec<__m512i>(r);
}
// Immediate counts: only imm8[7:0] counts, as in the Intel definition.
static inline __m512i intvit_emu_mm512_srai_epi32(__m512i a, unsigned int imm8) {
  return intvit_emu_detail::sra_all<std::int32_t>(a, imm8 & 0xFF);
}
static inline __m512i intvit_emu_mm512_srai_epi64(__m512i a, unsigned int imm8) {
  return intvit_emu_detail::sra_all<std::int64_t>(a, imm8 & 0xFF);
}
// The count is the whole low 64 bits of count, unsigned.
static inline __m512i intvit_emu_mm512_sra_epi64(__m512i a, __m128i count) {
  return intvit_emu_detail::sra_all<std::int64_t>(a, intvit_emu_detail::lanes<std::uint64_t>(count)[0]);
}
static inline __m512i intvit_emu_mm512_srav_epi32(__m512i a, __m512i count) {
  return intvit_emu_detail::sra_each<std::int32_t, std::uint32_t>(a, count);
}
static inline __m512i intvit_emu_mm512_srav_epi64(__m512i a, __m512i count) {
  return intvit_emu_detail::sra_each<std::int64_t, std::uint64_t>(a, count);
}
#undef _mm512_mask_subs_epi16
#define _mm512_mask_subs_epi16 intvit_emu_mm512_mask_subs_epi16
#undef _mm512_maskz_sub_epi16
#define _mm512_maskz_sub_epi16 intvit_emu_mm512_maskz_sub_epi16
#undef _mm512_maskz_sllv_epi32
#define _mm512_maskz_sllv_epi32 intvit_emu_mm512_maskz_sllv_epi32
#undef _mm512_srai_epi32
#define _mm512_srai_epi32 intvit_emu_mm512_srai_epi32
#undef _mm512_srai_epi64
#define _mm512_srai_epi64 intvit_emu_mm512_srai_epi64
#undef _mm512_sra_epi64
#define _mm512_sra_epi64 intvit_emu_mm512_sra_epi64
#undef _mm512_srav_epi32
#define _mm512_srav_epi32 intvit_emu_mm512_srav_epi32
#undef _mm512_srav_epi64
#define _mm512_srav_epi64 intvit_emu_mm512_srav_epi64

// ---- Gathers: lane i reads base_addr + vindex[i] * scale bytes (scale 1, 2, 4 or 8) ----

static inline __m512i intvit_emu_mm512_i32gather_epi32(__m512i vindex, const void* base_addr, int scale) {
  return intvit_emu_detail::gather<std::uint32_t, std::int32_t>(vindex, base_addr, scale);
}
static inline __m512i intvit_emu_mm512_i64gather_epi64(__m512i vindex, const void* base_addr, int scale) {
  return intvit_emu_detail::gather<std::uint64_t, std::int64_t>(vindex, base_addr, scale);
}
#undef _mm512_i32gather_epi32
#define _mm512_i32gather_epi32 intvit_emu_mm512_i32gather_epi32
#undef _mm512_i64gather_epi64
#define _mm512_i64gather_epi64 intvit_emu_mm512_i64gather_epi64

// ---- Reductions over all lanes (sums wrap, as the adds they stand for) ----

static inline int intvit_emu_mm512_reduce_add_epi32(__m512i a) {
  std::uint32_t s = 0;
  for (const auto e : intvit_emu_detail::lanes<std::uint32_t>(a)) s += e;
  return static_cast<int>(s);
}
static inline long long intvit_emu_mm512_reduce_add_epi64(__m512i a) {
  std::uint64_t s = 0;
  for (const auto e : intvit_emu_detail::lanes<std::uint64_t>(a)) s += e;
  return static_cast<long long>(s);
}
static inline int intvit_emu_mm512_reduce_max_epi32(__m512i a) {
  std::int32_t m = INT32_MIN;
  for (const auto e : intvit_emu_detail::lanes<std::int32_t>(a)) m = e > m ? e : m;
  return m;
}
static inline unsigned int intvit_emu_mm512_reduce_max_epu32(__m512i a) {
  std::uint32_t m = 0;
  for (const auto e : intvit_emu_detail::lanes<std::uint32_t>(a)) m = e > m ? e : m;
  return m;
}
static inline long long intvit_emu_mm512_reduce_or_epi64(__m512i a) {
  std::uint64_t m = 0;
  for (const auto e : intvit_emu_detail::lanes<std::uint64_t>(a)) m |= e;
  return static_cast<long long>(m);
}
#undef _mm512_reduce_add_epi32
#define _mm512_reduce_add_epi32 intvit_emu_mm512_reduce_add_epi32
#undef _mm512_reduce_add_epi64
#define _mm512_reduce_add_epi64 intvit_emu_mm512_reduce_add_epi64
#undef _mm512_reduce_max_epi32
#define _mm512_reduce_max_epi32 intvit_emu_mm512_reduce_max_epi32
#undef _mm512_reduce_max_epu32
#define _mm512_reduce_max_epu32 intvit_emu_mm512_reduce_max_epu32
#undef _mm512_reduce_or_epi64
#define _mm512_reduce_or_epi64 intvit_emu_mm512_reduce_or_epi64

// ---- Shuffles ----

// Within each 128-bit lane, dword j = the lane's dword imm8[2j+1:2j]. int rather than Intel's
// _MM_PERM_ENUM so that both an enumerator (which converts) and a plain int are accepted.
static inline __m512i intvit_emu_mm512_shuffle_epi32(__m512i a, int imm8) {
  const auto x = intvit_emu_detail::lanes<std::uint32_t>(a);
  std::array<std::uint32_t, 16> r;
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = x[(i & ~std::size_t{3}) + ((imm8 >> (2 * (i & 3))) & 3)];
  return intvit_emu_detail::vec<__m512i>(r);
}
// 128-bit lanes 0, 1 from a, 2, 3 from b, each chosen by two bits of imm8.
static inline __m512i intvit_emu_mm512_shuffle_i64x2(__m512i a, __m512i b, const int imm8) {
  const auto x = intvit_emu_detail::lanes<std::uint64_t>(a), y = intvit_emu_detail::lanes<std::uint64_t>(b);
  std::array<std::uint64_t, 8> r;
  for (std::size_t lane = 0; lane < 4; ++lane) {
    const auto& from = lane < 2 ? x : y;
    const std::size_t pick = (imm8 >> (2 * lane)) & 3;
    r[2 * lane] = from[2 * pick];
    r[2 * lane + 1] = from[2 * pick + 1];
  }
  return intvit_emu_detail::vec<__m512i>(r);
}
#undef _mm512_shuffle_epi32
#define _mm512_shuffle_epi32 intvit_emu_mm512_shuffle_epi32
#undef _mm512_shuffle_i64x2
#define _mm512_shuffle_i64x2 intvit_emu_mm512_shuffle_i64x2
