// The intrinsics tests/avx512_emu/avx512-emulation.h writes itself (SIMDe 0.7.4 lacks them or
// aliases them wrongly), against values worked out by hand from the Intel Intrinsics Guide.
// Compiled with the header force-included, as the emulated kernels are. The masked loads and
// stores use buffers of exactly the bytes they may touch, so that AddressSanitizer, in a build by
// hand with -fsanitize=address (CI builds this binary in Release only), catches any access to an
// unselected element past the end; in Release a value check catches a wrong selected lane.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

namespace {

template <class T, class V>
std::array<T, sizeof(V) / sizeof(T)> get(V v) {
  std::array<T, sizeof(V) / sizeof(T)> a;
  std::memcpy(a.data(), &v, sizeof v);
  return a;
}
template <class V, class T, std::size_t N>
V make(const std::array<T, N>& a) {
  static_assert(sizeof(V) == sizeof a);
  V v;
  std::memcpy(&v, a.data(), sizeof v);
  return v;
}
template <class T, std::size_t N>
std::array<T, N> iota(T first) {
  std::array<T, N> a;
  for (auto& e : a) e = first++;
  return a;
}
// A heap buffer of exactly n elements, 1, 2, 3, ... (each different from the lanes' other values).
template <class T>
std::unique_ptr<T[]> buffer(std::size_t n) {
  auto p = std::make_unique<T[]>(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(i + 1);
  return p;
}

using I32x16 = std::array<std::int32_t, 16>;
using I64x8 = std::array<std::int64_t, 8>;
using U64x8 = std::array<std::uint64_t, 8>;

}  // namespace

TEST_CASE("avx512 emulation: maskz loads read only the selected elements and zero the rest", "[avx512-emulation]") {
  SECTION("a prefix mask at a buffer's end") {
    const auto b8 = buffer<std::uint8_t>(3);
    std::array<std::uint8_t, 64> e8{1, 2, 3};
    CHECK(get<std::uint8_t>(_mm512_maskz_loadu_epi8(0b111, b8.get())) == e8);
    CHECK(get<std::uint8_t>(_mm256_maskz_loadu_epi8(0b111, b8.get())) == (std::array<std::uint8_t, 32>{1, 2, 3}));
    CHECK(get<std::uint8_t>(_mm_maskz_loadu_epi8(0b111, b8.get())) == (std::array<std::uint8_t, 16>{1, 2, 3}));

    const auto b16 = buffer<std::uint16_t>(5);
    CHECK(get<std::uint16_t>(_mm512_maskz_loadu_epi16(0x1F, b16.get())) == (std::array<std::uint16_t, 32>{1, 2, 3, 4, 5}));
    CHECK(get<std::uint16_t>(_mm256_maskz_loadu_epi16(0x1F, b16.get())) == (std::array<std::uint16_t, 16>{1, 2, 3, 4, 5}));

    const auto b32 = buffer<std::int32_t>(2);
    CHECK(get<std::int32_t>(_mm512_maskz_loadu_epi32(0b11, b32.get())) == I32x16{1, 2});
    CHECK(get<std::int32_t>(_mm256_maskz_loadu_epi32(0b11, b32.get())) == (std::array<std::int32_t, 8>{1, 2}));

    const auto b64 = buffer<std::int64_t>(1);
    CHECK(get<std::int64_t>(_mm512_maskz_loadu_epi64(0b1, b64.get())) == I64x8{1});

    // Nothing selected: nothing read, all zero (a 1-byte buffer, so a 64-byte read would be caught).
    const auto one = buffer<std::uint8_t>(1);
    CHECK(get<std::uint8_t>(_mm512_maskz_loadu_epi8(0, one.get())) == std::array<std::uint8_t, 64>{});
  }
  SECTION("a sparse mask") {
    const auto b8 = buffer<std::uint8_t>(64);
    std::array<std::uint8_t, 64> e8{};
    e8[0] = 1, e8[2] = 3, e8[63] = 64;
    CHECK(get<std::uint8_t>(_mm512_maskz_loadu_epi8(0x8000000000000005ull, b8.get())) == e8);
    const auto b16 = buffer<std::uint16_t>(32);
    std::array<std::uint16_t, 32> e16{};
    e16[1] = 2, e16[31] = 32;
    CHECK(get<std::uint16_t>(_mm512_maskz_loadu_epi16(0x80000002u, b16.get())) == e16);
    const auto b32 = buffer<std::int32_t>(16);
    CHECK(get<std::int32_t>(_mm512_maskz_loadu_epi32(0x8001, b32.get())) == I32x16{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16});
    const auto b64 = buffer<std::int64_t>(8);
    CHECK(get<std::int64_t>(_mm512_maskz_loadu_epi64(0b10100000, b64.get())) == I64x8{0, 0, 0, 0, 0, 6, 0, 8});
  }
  SECTION("the aligned form") {
    auto* p = new (std::align_val_t{64}) std::int32_t[3]{-7, 8, -9};
    CHECK(get<std::int32_t>(_mm512_maskz_load_epi32(0b101, p)) == I32x16{-7, 0, -9});
    ::operator delete[](p, std::align_val_t{64});
  }
}

TEST_CASE("avx512 emulation: mask_loadu_epi32 keeps src in the unselected lanes", "[avx512-emulation]") {
  const auto b = buffer<std::int32_t>(2);
  const __m512i src = _mm512_set1_epi32(-5);
  CHECK(get<std::int32_t>(_mm512_mask_loadu_epi32(src, 0b11, b.get())) ==
        I32x16{1, 2, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5});
  CHECK(get<std::int32_t>(_mm512_mask_loadu_epi32(src, 0b10, b.get())) ==
        I32x16{-5, 2, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5});
}

TEST_CASE("avx512 emulation: masked stores write only the selected elements", "[avx512-emulation]") {
  SECTION("a prefix mask at a buffer's end") {
    auto b8 = std::make_unique<std::uint8_t[]>(3);
    _mm512_mask_storeu_epi8(b8.get(), 0b111, make<__m512i>(iota<std::uint8_t, 64>(100)));
    CHECK((b8[0] == 100 && b8[1] == 101 && b8[2] == 102));
    _mm_mask_storeu_epi8(b8.get(), 0b11, make<__m128i>(iota<std::uint8_t, 16>(7)));
    CHECK((b8[0] == 7 && b8[1] == 8 && b8[2] == 102));

    auto b16 = std::make_unique<std::uint16_t[]>(2);
    _mm512_mask_storeu_epi16(b16.get(), 0b11, make<__m512i>(iota<std::uint16_t, 32>(0xFFF0)));
    CHECK((b16[0] == 0xFFF0 && b16[1] == 0xFFF1));
    _mm256_mask_storeu_epi16(b16.get(), 0b1, make<__m256i>(iota<std::uint16_t, 16>(40)));
    CHECK((b16[0] == 40 && b16[1] == 0xFFF1));

    auto b32 = std::make_unique<std::int32_t[]>(1);
    _mm512_mask_storeu_epi32(b32.get(), 0b1, make<__m512i>(iota<std::int32_t, 16>(-3)));
    CHECK(b32[0] == -3);

    auto bf = std::make_unique<float[]>(2);
    _mm512_mask_storeu_ps(bf.get(), 0b11, _mm512_set1_ps(2.5f));
    CHECK((bf[0] == 2.5f && bf[1] == 2.5f));
  }
  SECTION("a sparse mask leaves the other elements alone") {
    std::array<std::uint8_t, 64> b8;
    b8.fill(0xEE);
    _mm512_mask_storeu_epi8(b8.data(), 0x8000000000000002ull, make<__m512i>(iota<std::uint8_t, 64>(0)));
    std::array<std::uint8_t, 64> e8;
    e8.fill(0xEE);
    e8[1] = 1, e8[63] = 63;
    CHECK(b8 == e8);

    std::array<std::int32_t, 16> b32;
    b32.fill(-1);
    _mm512_mask_storeu_epi32(b32.data(), 0x4001, make<__m512i>(iota<std::int32_t, 16>(10)));
    CHECK(b32 == I32x16{10, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 24, -1});

    std::array<float, 16> bf;
    bf.fill(-1.0f);
    _mm512_mask_storeu_ps(bf.data(), 0x0100, _mm512_set1_ps(3.0f));
    CHECK((bf[7] == -1.0f && bf[8] == 3.0f && bf[9] == -1.0f && bf[0] == -1.0f));

    std::array<std::uint16_t, 32> b16;
    b16.fill(9);
    _mm512_mask_storeu_epi16(b16.data(), 0x80000000u, _mm512_set1_epi16(-2));
    CHECK((b16[30] == 9 && b16[31] == 0xFFFE && b16[0] == 9));
  }
}

TEST_CASE("avx512 emulation: widening conversions", "[avx512-emulation]") {
  std::array<std::uint8_t, 32> bytes{0x80, 0xFF, 0x00, 0x7F, 0x01};
  bytes[31] = 0xFE;
  bytes[15] = 0x81;
  const auto u16 = get<std::uint16_t>(_mm512_cvtepu8_epi16(make<__m256i>(bytes)));
  CHECK((u16[0] == 0x80 && u16[1] == 0xFF && u16[2] == 0 && u16[3] == 0x7F && u16[4] == 1 && u16[31] == 0xFE));

  std::array<std::uint8_t, 16> low;
  std::memcpy(low.data(), bytes.data(), 16);
  CHECK(get<std::int32_t>(_mm512_cvtepu8_epi32(make<__m128i>(low))) == I32x16{128, 255, 0, 127, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 129});
  low[7] = 0xC0;
  low[8] = 0x55;  // the 9th byte and on are not used
  CHECK(get<std::int64_t>(_mm512_cvtepu8_epi64(make<__m128i>(low))) == I64x8{128, 255, 0, 127, 1, 0, 0, 192});

  std::array<std::uint16_t, 16> words{0x8000, 0xFFFF, 0x7FFF, 0, 1};
  words[15] = 0xFFFE;
  CHECK(get<std::int32_t>(_mm512_cvtepi16_epi32(make<__m256i>(words))) == I32x16{-32768, -1, 32767, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -2});

  const std::array<std::uint32_t, 8> dwords{0x80000000u, 0xFFFFFFFFu, 0x7FFFFFFFu, 0, 1, 2, 3, 0xFFFFFFFEu};
  CHECK(get<std::int64_t>(_mm512_cvtepi32_epi64(make<__m256i>(dwords))) ==
        I64x8{-2147483648LL, -1, 2147483647, 0, 1, 2, 3, -2});
  CHECK(get<std::uint64_t>(_mm512_cvtepu32_epi64(make<__m256i>(dwords))) ==
        U64x8{0x80000000u, 0xFFFFFFFFu, 0x7FFFFFFFu, 0, 1, 2, 3, 0xFFFFFFFEu});

  const std::array<std::uint32_t, 8> halves{1, 2, 3, 4, 5, 6, 7, 8};
  CHECK(get<std::uint64_t>(_mm512_zextsi256_si512(make<__m256i>(halves))) ==
        U64x8{0x0000000200000001u, 0x0000000400000003u, 0x0000000600000005u, 0x0000000800000007u, 0, 0, 0, 0});
}

TEST_CASE("avx512 emulation: narrowing conversions truncate, cvtus saturates unsigned", "[avx512-emulation]") {
  const __m512i x = make<__m512i>(std::array<std::uint32_t, 16>{0x12345678u, 0xFFFFFFFFu, 0x00018000u, 256, 255, 0x80000000u, 0, 0x7F,
                                                               0x1FF, 0xFFFFFF80u, 1, 2, 3, 4, 5, 254});
  CHECK(get<std::uint16_t>(_mm512_cvtepi32_epi16(x)) ==
        (std::array<std::uint16_t, 16>{0x5678, 0xFFFF, 0x8000, 256, 255, 0, 0, 0x7F, 0x1FF, 0xFF80, 1, 2, 3, 4, 5, 254}));
  CHECK(get<std::uint8_t>(_mm512_cvtepi32_epi8(x)) ==
        (std::array<std::uint8_t, 16>{0x78, 0xFF, 0x00, 0, 255, 0, 0, 0x7F, 0xFF, 0x80, 1, 2, 3, 4, 5, 254}));
  // Unsigned: 0xFFFFFFFF and 0x80000000 are large, not negative.
  CHECK(get<std::uint8_t>(_mm512_cvtusepi32_epi8(x)) ==
        (std::array<std::uint8_t, 16>{255, 255, 255, 255, 255, 255, 0, 0x7F, 255, 255, 1, 2, 3, 4, 5, 254}));

  SECTION("masked converting stores") {
    auto b16 = std::make_unique<std::uint16_t[]>(3);
    b16[1] = 0xAAAA;
    _mm512_mask_cvtepi32_storeu_epi16(b16.get(), 0b101, x);
    CHECK((b16[0] == 0x5678 && b16[1] == 0xAAAA && b16[2] == 0x8000));

    auto b8 = std::make_unique<std::uint8_t[]>(2);
    _mm512_mask_cvtepi32_storeu_epi8(b8.get(), 0b11, x);
    CHECK((b8[0] == 0x78 && b8[1] == 0xFF));
    std::array<std::uint8_t, 16> full;
    full.fill(0xEE);
    _mm512_mask_cvtepi32_storeu_epi8(full.data(), 0x8200, x);
    CHECK((full[8] == 0xEE && full[9] == 0x80 && full[15] == 254 && full[0] == 0xEE));

    std::array<std::uint16_t, 32> w{0x8000, 0xFFFF, 255, 256, 7, 0, 0x1234};
    w[31] = 0x0180;
    auto c8 = std::make_unique<std::uint8_t[]>(7);
    _mm512_mask_cvtepi16_storeu_epi8(c8.get(), 0x7F, make<__m512i>(w));
    CHECK((c8[0] == 0x00 && c8[1] == 0xFF && c8[2] == 255 && c8[3] == 0 && c8[4] == 7 && c8[5] == 0 && c8[6] == 0x34));
    _mm512_mask_cvtusepi16_storeu_epi8(c8.get(), 0x7F, make<__m512i>(w));
    CHECK((c8[0] == 255 && c8[1] == 255 && c8[2] == 255 && c8[3] == 255 && c8[4] == 7 && c8[5] == 0 && c8[6] == 255));
    std::array<std::uint8_t, 32> d8;
    d8.fill(0xEE);
    _mm512_mask_cvtusepi16_storeu_epi8(d8.data(), 0x80000010u, make<__m512i>(w));
    CHECK((d8[4] == 7 && d8[31] == 255 && d8[3] == 0xEE && d8[30] == 0xEE));
    _mm512_mask_cvtepi16_storeu_epi8(d8.data(), 0x80000000u, make<__m512i>(w));
    CHECK((d8[31] == 0x80 && d8[4] == 7));
  }
}

TEST_CASE("avx512 emulation: compare masks, signed and unsigned", "[avx512-emulation]") {
  const __m512i a = make<__m512i>(I32x16{INT32_MIN, -1, 0, INT32_MAX, 5, 5, -7, 3, 0, 0, 0, 0, 0, 0, 0, 1});
  const __m512i b = make<__m512i>(I32x16{0, 0, -1, -1, 5, 6, -8, 3, 0, 0, 0, 0, 0, 0, 0, 0});
  // a < b (signed) in lanes 0, 1, 5.
  CHECK(_mm512_cmplt_epi32_mask(a, b) == 0b0000000000100011);
  CHECK(_mm512_mask_cmplt_epi32_mask(0xFFFE, a, b) == 0b0000000000100010);
  CHECK(_mm512_cmpneq_epi32_mask(a, b) == 0b1000000001101111);

  const __m512i c = make<__m512i>(I64x8{INT64_MIN, -1, 0, INT64_MAX, 5, 5, -7, 0});
  const __m512i d = make<__m512i>(I64x8{0, 0, -1, -1, 5, 6, -8, 0});
  CHECK(_mm512_cmplt_epi64_mask(c, d) == 0b00100011);
  CHECK(_mm512_mask_cmplt_epi64_mask(0b00100001, c, d) == 0b00100001);
  CHECK(_mm512_mask_cmplt_epi64_mask(0b00000010, c, d) == 0b00000010);
  // Unsigned: INT64_MIN is 2^63 and -1 is 2^64 - 1, both above 0 and INT64_MAX.
  const __m512i e = make<__m512i>(U64x8{0x8000000000000000u, ~0ull, 0, 0x7FFFFFFFFFFFFFFFu, 5, 6, 1, 0});
  const __m512i f = make<__m512i>(U64x8{0x7FFFFFFFFFFFFFFFu, 0, ~0ull, 0x8000000000000000u, 5, 5, 0, 0});
  CHECK(_mm512_cmpgt_epu64_mask(e, f) == 0b01100011);
}

TEST_CASE("avx512 emulation: mask_subs_epi16 saturates, maskz_sub_epi16 wraps", "[avx512-emulation]") {
  std::array<std::int16_t, 32> a{-32768, 32767, 100, -100, 0, -32768, 32767, 1};
  std::array<std::int16_t, 32> b{1, -1, 30, 32767, -32768, -32768, 32767, 2};
  a[31] = 9, b[31] = 4;
  const __m512i src = _mm512_set1_epi16(77);
  std::array<std::int16_t, 32> e;
  e.fill(77);
  const std::array<std::int16_t, 8> head{-32768, 32767, 70, -32768, 32767, 0, 0, -1};
  std::copy(head.begin(), head.end(), e.begin());
  e[31] = 5;
  CHECK(get<std::int16_t>(_mm512_mask_subs_epi16(src, 0x800000FFu, make<__m512i>(a), make<__m512i>(b))) == e);
  e[2] = 77;  // lane 2 unselected: src
  CHECK(get<std::int16_t>(_mm512_mask_subs_epi16(src, 0x800000FBu, make<__m512i>(a), make<__m512i>(b))) == e);

  std::array<std::int16_t, 32> w{32767, -32768, 70, 32669, -32768, 0, 0, -1};
  w[31] = 5;
  CHECK(get<std::int16_t>(_mm512_maskz_sub_epi16(0x800000FFu, make<__m512i>(a), make<__m512i>(b))) == w);
  w[0] = 0;
  CHECK(get<std::int16_t>(_mm512_maskz_sub_epi16(0x800000FEu, make<__m512i>(a), make<__m512i>(b))) == w);
}

TEST_CASE("avx512 emulation: maskz_sllv_epi32, counts of 32 and more give 0", "[avx512-emulation]") {
  const __m512i x = make<__m512i>(std::array<std::uint32_t, 16>{1, 1, 1, 1, 1, 1, 0x80000001u, 0x80000001u, 0xFFFFFFFFu, 0xFFFFFFFFu, 3, 3, 3,
                                                               3, 3, 3});
  const __m512i n = make<__m512i>(std::array<std::uint32_t, 16>{0, 1, 31, 32, 33, 200, 1, 0xFFFFFFFFu, 4, 0x80000000u, 2, 2, 2, 2, 2, 2});
  CHECK(get<std::uint32_t>(_mm512_maskz_sllv_epi32(0xFFFF, x, n)) ==
        (std::array<std::uint32_t, 16>{1, 2, 0x80000000u, 0, 0, 0, 2, 0, 0xFFFFFFF0u, 0, 12, 12, 12, 12, 12, 12}));
  CHECK(get<std::uint32_t>(_mm512_maskz_sllv_epi32(0x0402, x, n)) ==
        (std::array<std::uint32_t, 16>{0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0, 0, 0}));
}

TEST_CASE("avx512 emulation: arithmetic right shifts fill with the sign past the width", "[avx512-emulation]") {
  const __m512i neg32 = _mm512_set1_epi32(-1000), pos32 = _mm512_set1_epi32(0x40000000);
  const auto all32 = [](std::int32_t v) {
    I32x16 a;
    a.fill(v);
    return a;
  };
  CHECK(get<std::int32_t>(_mm512_srai_epi32(neg32, 0)) == all32(-1000));
  CHECK(get<std::int32_t>(_mm512_srai_epi32(neg32, 1)) == all32(-500));
  CHECK(get<std::int32_t>(_mm512_srai_epi32(neg32, 3)) == all32(-125));
  CHECK(get<std::int32_t>(_mm512_srai_epi32(neg32, 4)) == all32(-63));  // floor(-62.5)
  CHECK(get<std::int32_t>(_mm512_srai_epi32(neg32, 31)) == all32(-1));
  CHECK(get<std::int32_t>(_mm512_srai_epi32(neg32, 32)) == all32(-1));
  CHECK(get<std::int32_t>(_mm512_srai_epi32(neg32, 200)) == all32(-1));
  CHECK(get<std::int32_t>(_mm512_srai_epi32(pos32, 1)) == all32(0x20000000));
  CHECK(get<std::int32_t>(_mm512_srai_epi32(pos32, 30)) == all32(1));
  CHECK(get<std::int32_t>(_mm512_srai_epi32(pos32, 31)) == all32(0));
  CHECK(get<std::int32_t>(_mm512_srai_epi32(pos32, 32)) == all32(0));
  CHECK(get<std::int32_t>(_mm512_srai_epi32(pos32, 200)) == all32(0));

  const __m512i v64 = make<__m512i>(I64x8{-1000, INT64_MIN, 0x4000000000000000, 7, -1000, INT64_MIN, 0x4000000000000000, 7});
  CHECK(get<std::int64_t>(_mm512_srai_epi64(v64, 0)) == I64x8{-1000, INT64_MIN, 0x4000000000000000, 7, -1000, INT64_MIN, 0x4000000000000000, 7});
  CHECK(get<std::int64_t>(_mm512_srai_epi64(v64, 1)) == I64x8{-500, -0x4000000000000000, 0x2000000000000000, 3, -500, -0x4000000000000000, 0x2000000000000000, 3});
  CHECK(get<std::int64_t>(_mm512_srai_epi64(v64, 31)) == I64x8{-1, -0x100000000, 0x80000000, 0, -1, -0x100000000, 0x80000000, 0});
  CHECK(get<std::int64_t>(_mm512_srai_epi64(v64, 32)) == I64x8{-1, -0x80000000LL, 0x40000000, 0, -1, -0x80000000LL, 0x40000000, 0});
  CHECK(get<std::int64_t>(_mm512_srai_epi64(v64, 63)) == I64x8{-1, -1, 0, 0, -1, -1, 0, 0});
  CHECK(get<std::int64_t>(_mm512_srai_epi64(v64, 64)) == I64x8{-1, -1, 0, 0, -1, -1, 0, 0});
  CHECK(get<std::int64_t>(_mm512_srai_epi64(v64, 200)) == I64x8{-1, -1, 0, 0, -1, -1, 0, 0});

  SECTION("sra_epi64: the count is the whole low quadword of a __m128i") {
    const auto count = [](std::uint64_t lo, std::uint64_t hi) { return make<__m128i>(std::array<std::uint64_t, 2>{lo, hi}); };
    CHECK(get<std::int64_t>(_mm512_sra_epi64(v64, count(0, 0))) == I64x8{-1000, INT64_MIN, 0x4000000000000000, 7, -1000, INT64_MIN, 0x4000000000000000, 7});
    CHECK(get<std::int64_t>(_mm512_sra_epi64(v64, count(1, 99))) == I64x8{-500, -0x4000000000000000, 0x2000000000000000, 3, -500, -0x4000000000000000, 0x2000000000000000, 3});
    CHECK(get<std::int64_t>(_mm512_sra_epi64(v64, count(63, 0))) == I64x8{-1, -1, 0, 0, -1, -1, 0, 0});
    CHECK(get<std::int64_t>(_mm512_sra_epi64(v64, count(64, 0))) == I64x8{-1, -1, 0, 0, -1, -1, 0, 0});
    CHECK(get<std::int64_t>(_mm512_sra_epi64(v64, count(200, 0))) == I64x8{-1, -1, 0, 0, -1, -1, 0, 0});
    // 2^32: large, though its low dword is 0.
    CHECK(get<std::int64_t>(_mm512_sra_epi64(v64, count(0x100000000u, 0))) == I64x8{-1, -1, 0, 0, -1, -1, 0, 0});
  }
  SECTION("srav: a count per lane") {
    const __m512i x = make<__m512i>(I32x16{-1000, -1000, -1000, -1000, -1000, -1000, -1000, -1000, 0x40000000, 0x40000000, 0x40000000,
                                           0x40000000, 0x40000000, 0x40000000, 0x40000000, INT32_MIN});
    const __m512i n = make<__m512i>(std::array<std::uint32_t, 16>{0, 1, 31, 32, 63, 64, 200, 0x80000000u, 0, 1, 30, 31, 32, 64, 200, 1});
    CHECK(get<std::int32_t>(_mm512_srav_epi32(x, n)) ==
          I32x16{-1000, -500, -1, -1, -1, -1, -1, -1, 0x40000000, 0x20000000, 1, 0, 0, 0, 0, -0x40000000});

    const __m512i y = make<__m512i>(I64x8{-1000, -1000, -1000, -1000, -1000, 0x4000000000000000, 0x4000000000000000, 0x4000000000000000});
    const __m512i m = make<__m512i>(U64x8{1, 63, 64, 200, 0x100000000u, 62, 63, 0x100000001u});
    CHECK(get<std::int64_t>(_mm512_srav_epi64(y, m)) == I64x8{-500, -1, -1, -1, -1, 1, 0, 0});
    CHECK(get<std::int64_t>(_mm512_srav_epi64(y, _mm512_setzero_si512())) ==
          I64x8{-1000, -1000, -1000, -1000, -1000, 0x4000000000000000, 0x4000000000000000, 0x4000000000000000});
  }
}

TEST_CASE("avx512 emulation: gathers scale the indices by bytes", "[avx512-emulation]") {
  std::array<std::int32_t, 40> d;
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::int32_t>(100 + i);
  const __m512i idx = make<__m512i>(I32x16{0, 1, 2, 3, 15, 7, 7, 0, 8, 9, 10, 11, 12, 13, 14, 19});
  CHECK(get<std::int32_t>(_mm512_i32gather_epi32(idx, d.data(), 4)) ==
        I32x16{100, 101, 102, 103, 115, 107, 107, 100, 108, 109, 110, 111, 112, 113, 114, 119});
  // Scale 8: every other dword.
  CHECK(get<std::int32_t>(_mm512_i32gather_epi32(idx, d.data(), 8)) ==
        I32x16{100, 102, 104, 106, 130, 114, 114, 100, 116, 118, 120, 122, 124, 126, 128, 138});
  // Scale 1: byte offsets, so index 4 is the next dword and 2 straddles two (little endian).
  const std::array<std::uint32_t, 4> words{0x44332211u, 0x88776655u, 0xCCBBAA99u, 0x00FFEEDDu};
  const auto b = get<std::uint32_t>(
      _mm512_i32gather_epi32(make<__m512i>(I32x16{0, 4, 2, 1, 12, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), words.data(), 1));
  CHECK((b[0] == 0x44332211u && b[1] == 0x88776655u && b[2] == 0x66554433u && b[3] == 0x55443322u && b[4] == 0x00FFEEDDu &&
         b[5] == 0xCCBBAA99u));
  // Negative indices, from the middle of the array.
  CHECK(get<std::int32_t>(_mm512_i32gather_epi32(make<__m512i>(I32x16{-1, -20, 0, 19, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), d.data() + 20, 4)) ==
        I32x16{119, 100, 120, 139, 120, 120, 120, 120, 120, 120, 120, 120, 120, 120, 120, 120});

  std::array<std::int64_t, 16> q;
  for (std::size_t i = 0; i < q.size(); ++i) q[i] = -static_cast<std::int64_t>(i) * 0x100000001LL;
  const __m512i qi = make<__m512i>(I64x8{0, 15, 3, 3, 8, 1, 2, 5});
  CHECK(get<std::int64_t>(_mm512_i64gather_epi64(qi, q.data(), 8)) ==
        I64x8{0, -15 * 0x100000001LL, -3 * 0x100000001LL, -3 * 0x100000001LL, -8 * 0x100000001LL, -0x100000001LL, -2 * 0x100000001LL,
              -5 * 0x100000001LL});
  // Scale 4: half-quadword steps; index 1 is the high dword of q[0] and the low dword of q[1].
  const std::array<std::uint64_t, 2> two{0x1111111122222222u, 0x3333333344444444u};
  CHECK(get<std::uint64_t>(_mm512_i64gather_epi64(make<__m512i>(I64x8{1, 0, 2, 1, 1, 1, 1, 1}), two.data(), 4)) ==
        U64x8{0x4444444411111111u, 0x1111111122222222u, 0x3333333344444444u, 0x4444444411111111u, 0x4444444411111111u,
              0x4444444411111111u, 0x4444444411111111u, 0x4444444411111111u});
  CHECK(get<std::uint64_t>(_mm512_i64gather_epi64(make<__m512i>(I64x8{8, 0, 4, 0, 0, 0, 0, 0}), two.data(), 1)) ==
        U64x8{0x3333333344444444u, 0x1111111122222222u, 0x4444444411111111u, 0x1111111122222222u, 0x1111111122222222u,
              0x1111111122222222u, 0x1111111122222222u, 0x1111111122222222u});
}

TEST_CASE("avx512 emulation: reductions over all lanes", "[avx512-emulation]") {
  const __m512i a = make<__m512i>(I32x16{-5, 3, -7, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 1000});
  CHECK(_mm512_reduce_add_epi32(a) == 992);
  CHECK(_mm512_reduce_max_epi32(a) == 1000);
  const __m512i neg = make<__m512i>(I32x16{-9, -8, -7, -100, -5, -6, INT32_MIN, -30, -9, -8, -7, -100, -5, -6, -4, -30});
  CHECK(_mm512_reduce_max_epi32(neg) == -4);
  CHECK(_mm512_reduce_add_epi32(neg) == 0x7FFFFEB2);  // −2^31 − 334 wraps to 2^31 − 334
  CHECK(_mm512_reduce_add_epi32(_mm512_set1_epi32(-3)) == -48);
  CHECK(_mm512_reduce_max_epu32(neg) == 0xFFFFFFFCu);  // −4 as unsigned is the largest
  CHECK(_mm512_reduce_max_epu32(make<__m512i>(I32x16{1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, INT32_MIN})) == 0x80000000u);
  CHECK(_mm512_reduce_max_epu32(_mm512_setzero_si512()) == 0);

  CHECK(_mm512_reduce_add_epi64(make<__m512i>(I64x8{-5, 0x100000000, -7, 2, 0, 0, 0, 0})) == 0xFFFFFFF6);
  CHECK(_mm512_reduce_add_epi64(_mm512_set1_epi64(-0x100000000LL)) == -0x800000000LL);
  // Overlapping bits (1 and 3, 2^32 twice), so an xor or a sum would differ.
  CHECK(_mm512_reduce_or_epi64(make<__m512i>(U64x8{1, 3, 0x8000000000000000u, 0, 0, 0, 0x100000000u, 0x100000001u})) ==
        static_cast<long long>(0x8000000100000003u));
  CHECK(_mm512_reduce_or_epi64(_mm512_setzero_si512()) == 0);
}

TEST_CASE("avx512 emulation: shuffle_epi32 within each 128-bit lane", "[avx512-emulation]") {
  const __m512i x = make<__m512i>(iota<std::int32_t, 16>(0));
  CHECK(get<std::int32_t>(_mm512_shuffle_epi32(x, _MM_PERM_DDBB)) == I32x16{1, 1, 3, 3, 5, 5, 7, 7, 9, 9, 11, 11, 13, 13, 15, 15});
  CHECK(get<std::int32_t>(_mm512_shuffle_epi32(x, _MM_PERM_AAAA)) == I32x16{0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12});
  CHECK(get<std::int32_t>(_mm512_shuffle_epi32(x, 0x1B)) == I32x16{3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12});
  CHECK(get<std::int32_t>(_mm512_shuffle_epi32(x, _MM_SHUFFLE(2, 3, 0, 1))) ==
        I32x16{1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14});
  CHECK(get<std::int32_t>(_mm512_shuffle_epi32(x, _MM_PERM_ABCD)) == I32x16{3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12});
}

TEST_CASE("avx512 emulation: shuffle_i64x2 takes two 128-bit lanes from a, two from b", "[avx512-emulation]") {
  const __m512i a = make<__m512i>(iota<std::int64_t, 8>(0)), b = make<__m512i>(iota<std::int64_t, 8>(10));
  CHECK(get<std::int64_t>(_mm512_shuffle_i64x2(a, b, 0x00)) == I64x8{0, 1, 0, 1, 10, 11, 10, 11});
  CHECK(get<std::int64_t>(_mm512_shuffle_i64x2(a, b, 0xE4)) == I64x8{0, 1, 2, 3, 14, 15, 16, 17});
  CHECK(get<std::int64_t>(_mm512_shuffle_i64x2(a, b, _MM_SHUFFLE(2, 0, 2, 0))) == I64x8{0, 1, 4, 5, 10, 11, 14, 15});
  CHECK(get<std::int64_t>(_mm512_shuffle_i64x2(a, b, _MM_SHUFFLE(3, 1, 3, 1))) == I64x8{2, 3, 6, 7, 12, 13, 16, 17});
  CHECK(get<std::int64_t>(_mm512_shuffle_i64x2(a, b, 0x1B)) == I64x8{6, 7, 4, 5, 12, 13, 10, 11});
}

TEST_CASE("avx512 emulation: madd_epi16 takes two operands (SIMDe 0.7.4's alias takes four)", "[avx512-emulation]") {
  std::array<std::int16_t, 32> a{-32768, -32768, 3, 4, -2, 7, 32767, 32767};
  std::array<std::int16_t, 32> b{-32768, -32768, 5, -6, 9, 1, 32767, -32766};
  a[31] = 2, b[31] = 100;
  const auto r = get<std::int32_t>(_mm512_madd_epi16(make<__m512i>(a), make<__m512i>(b)));
  // 2 · 2^30 = 2^31 wraps to INT32_MIN (the one overflowing case of vpmaddwd).
  CHECK(r == I32x16{INT32_MIN, -9, -11, 32767, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200});
}
