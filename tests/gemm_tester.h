// XNNPACK-style tester for the GEMM family (kernels/gemm/gemm.h):
//   GemmTester().m(4).n(16).k(192).lda(197).ldc(23).za(128).out(GemmOut::kU8).per_channel(true).TestAll();
// packs the weights with the real packer for each backend, runs it, and compares every output
// element with tolerance 0 against a naive int64 reference written here from QUANTIZATION.md
// (independent of the kernels' own reference and of kernels/fixedpoint.h). Elements outside the
// written range (row padding of strided C, columns outside an n-range) must be left untouched.
// Backends the CPU lacks are skipped with a visible WARN. Failures print every shape and
// quantization parameter and the seed.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "coverage.h"
#include "kernels/gemm/gemm-kernels.h"
#include "kernels/gemm/gemm.h"

namespace intvit::test {

// How operands are filled. The extreme patterns hit the int16-saturation trap of vpmaddubsw
// (255·127·2 > 32767) and the largest |accumulator| for a given K.
enum class Fill {
  kRandom,          // uniform over the type (weights in [-127, 127])
  kMaxPositive,     // A = max (255 / 32767), W = 127
  kMaxNegative,     // A = max, W = -128
  kMinTimesMin,     // A = min (0 / -32768), W = -128
  kExtremeMix,      // each element at random one of the type's two extremes
};

inline const char* fill_name(Fill f) {
  switch (f) {
    case Fill::kRandom: return "random";
    case Fill::kMaxPositive: return "max*127";
    case Fill::kMaxNegative: return "max*-128";
    case Fill::kMinTimesMin: return "min*-128";
    case Fill::kExtremeMix: return "extreme-mix";
  }
  return "?";
}

inline const char* out_name(GemmOut o) {
  switch (o) {
    case GemmOut::kU8: return "u8";
    case GemmOut::kS16: return "s16";
    case GemmOut::kS32: return "s32";
  }
  return "?";
}

// Runs `fn()` once per form of Eq. 7 in the avx512vnni linears' tile stage (gemm::StageForm: the
// CPU picks one by vendor, both must give the reference's bits on every host), then restores the CPU's.
template <typename Fn>
void for_each_avx512_stage_form(Fn&& fn) {
  struct Restore {
    ~Restore() { gemm::set_avx512_stage_form_for_testing(gemm::StageForm::kCpuDefault); }
  } restore;
  for (const auto& [form, name] : {std::pair{gemm::StageForm::kMaxSub, "gemm:avx512vnni-stage-max-sub"},
                                   std::pair{gemm::StageForm::kAbsSign, "gemm:avx512vnni-stage-abs-sign"}}) {
    INFO("avx512vnni tile stage form: " << name);
    gemm::set_avx512_stage_form_for_testing(form);
    record_variant_ran(name);
    fn();
  }
}

// Runs `fn(isa)` for every backend, skipping (visibly) those this machine lacks; avx512vnni in both
// forms of its tile stage.
template <typename Fn>
void for_each_gemm_backend(Fn&& fn) {
  for (GemmIsa isa : kAllGemmIsas) {
    if (!gemm_isa_supported(isa)) {
      WARN("SKIPPED gemm backend " << gemm_isa_name(isa) << ": " << gemm_isa_missing_feature(isa));
      record_variant_unsupported(std::string("gemm:") + gemm_isa_name(isa), gemm_isa_missing_feature(isa));
      continue;
    }
    record_variant_ran(std::string("gemm:") + gemm_isa_name(isa));
    if (isa == GemmIsa::kAvx512Vnni) {
      for_each_avx512_stage_form([&] { fn(isa); });
    } else {
      fn(isa);
    }
  }
}

// ---- The independent reference (QUANTIZATION.md Eq. 5–11), in int64.
namespace gemm_reference {

// round_half_away(v / 2^e) for |v| < 2^63, e in [0, 62].
inline int64_t round_div_pot(int64_t v, int e) {
  if (e == 0) return v;
  const uint64_t mag = v < 0 ? uint64_t(0) - uint64_t(v) : uint64_t(v);
  const uint64_t q = (mag + (uint64_t{1} << (e - 1))) >> e;
  return v < 0 ? -int64_t(q) : int64_t(q);
}

// Eq. 7: MBQM(x) = RDBP(SRDHM(sat(x · 2^left), M0), right).
inline int64_t mbqm(int32_t x, int32_t m0, int32_t shift) {
  const int left = shift < 0 ? -shift : 0, right = shift > 0 ? shift : 0;
  const int64_t shifted = std::clamp<int64_t>(int64_t{x} * (int64_t{1} << left), INT32_MIN, INT32_MAX);
  int64_t srdhm;
  if (shifted == INT32_MIN && m0 == INT32_MIN) {
    srdhm = INT32_MAX;  // Eq. 5's one saturating case
  } else {
    srdhm = round_div_pot(shifted * m0, 31);  // Eq. 5
  }
  return round_div_pot(srdhm, right);  // Eq. 6
}

inline int32_t wrap32(int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v))); }

}  // namespace gemm_reference

class GemmTester {
 public:
  GemmTester& m(size_t v) { m_ = v; return *this; }
  GemmTester& n(size_t v) { n_ = v; return *this; }
  GemmTester& k(size_t v) { k_ = v; return *this; }
  GemmTester& lda(size_t v) { lda_ = v; return *this; }  // 0: k
  GemmTester& ldb(size_t v) { ldb_ = v; return *this; }  // u8u8 only; 0: k
  GemmTester& ldc(size_t v) { ldc_ = v; return *this; }  // 0: n
  GemmTester& za(int32_t v) { za_ = v; return *this; }
  GemmTester& zb(int32_t v) { zb_ = v; return *this; }  // u8u8 only
  GemmTester& input(GemmInput v) { input_ = v; return *this; }
  GemmTester& out(GemmOut v) { out_ = v; return *this; }
  GemmTester& requant(bool v) { requant_ = v; return *this; }  // false: raw int32 (kS32 only)
  GemmTester& per_channel(bool v) { per_channel_ = v; return *this; }
  // Right shifts are drawn from [shift_min, shift_max] (negative = left); default: chosen from K
  // so that outputs spread over the output type instead of all clamping.
  GemmTester& shifts(int lo, int hi) { shift_lo_ = lo; shift_hi_ = hi; auto_shift_ = false; return *this; }
  GemmTester& zero_point(int32_t v) { zp_ = v; return *this; }
  GemmTester& clamp(int32_t lo, int32_t hi) { qmin_ = lo; qmax_ = hi; clamp_set_ = true; return *this; }
  GemmTester& accumulate(bool v) { accumulate_ = v; return *this; }
  // accumulate: prior output contents always within 1000 of INT32_MAX / INT32_MIN (else half the
  // seeds), so that most tiles saturate in some lanes and not in others.
  GemmTester& near_extreme_prior(bool v) { near_extreme_prior_ = v; return *this; }
  GemmTester& n_range(size_t b, size_t e) { n_begin_ = b; n_end_ = e; ranged_ = true; return *this; }
  GemmTester& fill(Fill v) { fill_ = v; return *this; }
  GemmTester& bias(bool v) { bias_ = v; return *this; }
  GemmTester& extreme_bias(bool v) { extreme_bias_ = v; return *this; }
  GemmTester& seed(uint64_t v) { seed_ = v; return *this; }
  // u8u8 only: run matmul_u8u8_nt_add with an addend D [m][n + 3] of random int32 (extremes
  // included, so the modulo-2^32 sum wraps) instead of matmul_u8u8_nt.
  GemmTester& addend(bool v) { addend_ = v; return *this; }
  // u8u8 only: B's values in [lo, hi] (a quarter each at lo and hi) instead of the fill's.
  GemmTester& b_range(int lo, int hi) { b_lo_ = lo; b_hi_ = hi; return *this; }
  // u8 outputs: a random 256-byte table applied after Eq. 11 (GemmOutput::byte_table, Eq. 11c).
  GemmTester& byte_table(bool v) {
    table_.clear();
    if (v) {
      std::mt19937_64 rng(0x7AB1E);
      for (int i = 0; i < 256; ++i) table_.push_back(static_cast<uint8_t>(rng()));
    }
    return *this;
  }

  std::string describe() const {
    std::ostringstream s;
    s << "m=" << m_ << " n=" << n_ << " k=" << k_ << " lda=" << lda() << " ldc=" << ldc()
      << " input=" << (input_ == GemmInput::kU8 ? "u8" : "s16") << " za=" << za_ << " zb=" << zb_ << " ldb=" << ldb()
      << " out=" << out_name(out_) << (requant_ ? "" : " raw") << (per_channel_ ? " per-channel" : " per-tensor")
      << " shifts=[" << shift_lo() << "," << shift_hi() << "] zp=" << zp_ << " clamp=[" << qmin() << "," << qmax() << "]"
      << (accumulate_ ? " accumulate" : "") << " n_range=[" << n_begin() << "," << n_end() << ")"
      << " fill=" << fill_name(fill_) << (bias_ ? (extreme_bias_ ? " bias=extreme" : " bias") : " no-bias")
      << (addend_ ? " addend" : "") << (table_.empty() ? "" : " byte-table") << " seed=" << seed_;
    return s.str();
  }

  // linear() on every supported backend (the reference is computed once).
  void TestAll() const {
    const Case c = make_case();
    for_each_gemm_backend([&](GemmIsa isa) { run_linear(c, isa); });
  }
  void Test(GemmIsa isa) const { run_linear(make_case(), isa); }

  // matmul_u8u8_nt() (Eq. 9) on every supported backend: uses m, n, k, lda, ldb, ldc, za, zb, fill.
  void TestU8U8All() const {
    for_each_gemm_backend([&](GemmIsa isa) { TestU8U8(isa); });
  }
  void TestU8U8(GemmIsa isa) const {
    std::mt19937_64 rng(seed_);
    std::vector<uint8_t> a(m_ * lda() + 1), b(n_ * ldb() + 1);
    for (size_t i = 0; i < m_; ++i) for (size_t p = 0; p < lda(); ++p) a[i * lda() + p] = u8_value(rng, p < k_);
    for (size_t j = 0; j < n_; ++j) for (size_t p = 0; p < ldb(); ++p) b[j * ldb() + p] = u8_b_value(rng);
    std::vector<int32_t> c(m_ * ldc() + 1, kSentinel32), expected = c;
    const size_t ldd = n_ + 3;
    std::vector<int32_t> d(addend_ ? m_ * ldd : 0);
    for (int32_t& v : d) v = interesting_acc(rng);
    for (size_t i = 0; i < m_; ++i) {
      for (size_t j = 0; j < n_; ++j) {
        int64_t acc = 0;  // Eq. 9
        for (size_t p = 0; p < k_; ++p) acc += (int64_t{a[i * lda() + p]} - za_) * (int64_t{b[j * ldb() + p]} - zb_);
        expected[i * ldc() + j] = addend_ ? gemm_reference::wrap32(acc + d[i * ldd + j]) : static_cast<int32_t>(acc);
      }
    }
    if (addend_) {
      matmul_u8u8_nt_add(isa, m_, n_, k_, a.data(), lda(), za_, b.data(), ldb(), zb_, d.data(), ldd, c.data(), ldc());
    } else {
      matmul_u8u8_nt(isa, m_, n_, k_, a.data(), lda(), za_, b.data(), ldb(), zb_, c.data(), ldc());
    }
    compare(isa, addend_ ? "matmul_u8u8_nt_add" : "matmul_u8u8_nt", c.data(), expected.data(), c.size(), sizeof(int32_t));
  }

  // requantize() (Eq. 11 alone) on every supported backend; acc values mix random numbers with
  // rounding ties of Eq. 5 and Eq. 6, powers of two ± 1 and the int32 extremes.
  void TestRequantizeAll() const {
    for_each_gemm_backend([&](GemmIsa isa) { TestRequantize(isa); });
  }
  void TestRequantize(GemmIsa isa) const {
    std::mt19937_64 rng(seed_);
    const size_t ld_acc = lda_ ? lda_ : n_;
    std::vector<int32_t> acc(m_ * ld_acc + 1);
    for (auto& v : acc) v = interesting_acc(rng);
    Quant q = make_quant(rng);
    std::vector<uint8_t> out(m_ * ldc() * 4 + 4), expected;
    fill_output(rng, out);
    expected = out;
    for (size_t i = 0; i < m_; ++i) {
      for (size_t j = 0; j < n_; ++j) store_expected(expected.data(), i, j, q, acc[i * ld_acc + j], true);
    }
    const RequantParams params = q.params();
    requantize(isa, m_, n_, acc.data(), ld_acc, params, GemmOutput{out.data(), ldc(), out_, nullptr, accumulate_, table()});
    compare(isa, "requantize", out.data(), expected.data(), out.size() / elem_bytes(), elem_bytes());
  }

 private:
  static constexpr int32_t kSentinel32 = 0x5A5A5A5A;

  struct Quant {
    std::vector<int32_t> multiplier, shift;
    bool per_channel = false;
    int32_t zp = 0, qmin = 0, qmax = 0;
    RequantParams params() const {
      return RequantParams{multiplier.data(), shift.data(), per_channel, zp, qmin, qmax};
    }
  };
  struct Case {
    std::vector<uint8_t> a;  // raw bytes of A (u8 or s16), m × lda
    std::vector<int8_t> w;   // n × k
    std::vector<int32_t> bias;
    Quant q;
    std::vector<uint8_t> out0, expected;  // output buffer before the call and the expected one
  };

  const uint8_t* table() const { return table_.empty() ? nullptr : table_.data(); }
  size_t lda() const { return lda_ ? lda_ : k_; }
  size_t ldb() const { return ldb_ ? ldb_ : k_; }
  size_t ldc() const { return ldc_ ? ldc_ : n_; }
  size_t n_begin() const { return ranged_ ? n_begin_ : 0; }
  size_t n_end() const { return ranged_ ? n_end_ : n_; }
  size_t elem_bytes() const { return out_ == GemmOut::kU8 ? 1 : out_ == GemmOut::kS16 ? 2 : 4; }
  int64_t type_min() const { return out_ == GemmOut::kU8 ? 0 : out_ == GemmOut::kS16 ? -32768 : INT32_MIN; }
  int64_t type_max() const { return out_ == GemmOut::kU8 ? 255 : out_ == GemmOut::kS16 ? 32767 : INT32_MAX; }
  int32_t qmin() const { return clamp_set_ ? qmin_ : static_cast<int32_t>(type_min()); }
  int32_t qmax() const { return clamp_set_ ? qmax_ : static_cast<int32_t>(type_max()); }
  int shift_lo() const { return auto_shift_ ? auto_shift() - 2 : shift_lo_; }
  int shift_hi() const { return auto_shift_ ? auto_shift() + 1 : shift_hi_; }
  // log2 of a typical |accumulator| (random inputs) over half the output range, Q31 M0 ~ 0.75.
  int auto_shift() const {
    const double a_spread = input_ == GemmInput::kU8 ? 74 : 18900, w_spread = 74;
    const double typical = std::sqrt(static_cast<double>(std::max<size_t>(k_, 1))) * a_spread * w_spread;
    const double half_range = static_cast<double>(type_max() - type_min()) / 2;
    return std::clamp(static_cast<int>(std::lround(std::log2(typical / half_range))), -31, 31);
  }

  uint8_t u8_value(std::mt19937_64& rng, bool in_k) const {
    if (!in_k) return static_cast<uint8_t>(rng());  // padding beyond K: garbage that must not matter
    switch (fill_) {
      case Fill::kRandom: return static_cast<uint8_t>(rng());
      case Fill::kMaxPositive:
      case Fill::kMaxNegative: return 255;
      case Fill::kMinTimesMin: return 0;
      case Fill::kExtremeMix: return rng() & 1 ? 255 : 0;
    }
    return 0;
  }
  uint8_t u8_b_value(std::mt19937_64& rng) const {
    if (b_lo_ >= 0) {
      const uint64_t r = rng();
      return static_cast<uint8_t>(r % 4 == 0 ? b_lo_ : r % 4 == 1 ? b_hi_ : b_lo_ + static_cast<int>(r / 4 % (b_hi_ - b_lo_ + 1)));
    }
    switch (fill_) {
      case Fill::kMaxPositive: return 255;
      case Fill::kMaxNegative:
      case Fill::kMinTimesMin: return 0;
      case Fill::kExtremeMix: return rng() & 1 ? 255 : 0;
      default: return static_cast<uint8_t>(rng());
    }
  }
  int16_t s16_value(std::mt19937_64& rng, bool in_k) const {
    if (!in_k) return static_cast<int16_t>(rng());
    switch (fill_) {
      case Fill::kRandom: return static_cast<int16_t>(rng());
      case Fill::kMaxPositive:
      case Fill::kMaxNegative: return 32767;
      case Fill::kMinTimesMin: return -32768;
      case Fill::kExtremeMix: return rng() & 1 ? 32767 : -32768;
    }
    return 0;
  }
  int8_t w_value(std::mt19937_64& rng) const {
    switch (fill_) {
      case Fill::kRandom: return static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
      case Fill::kMaxPositive: return 127;
      case Fill::kMaxNegative:
      case Fill::kMinTimesMin: return -128;
      case Fill::kExtremeMix: return rng() & 1 ? 127 : -128;
    }
    return 0;
  }
  int32_t interesting_acc(std::mt19937_64& rng) const {
    switch (rng() % 8) {
      case 0: return static_cast<int32_t>(rng());
      case 1: {  // ±(2^j ± 1) and ±2^j: ties for RDBP with right shift j + 1
        const int j = static_cast<int>(rng() % 31);
        const int64_t v = (int64_t{1} << j) + static_cast<int64_t>(rng() % 3) - 1;
        return static_cast<int32_t>(rng() & 1 ? -v : v);
      }
      case 2: {
        static constexpr int32_t kEdges[] = {0, 1, -1, 2, -2, 3, -3, INT32_MAX, INT32_MIN, INT32_MIN + 1, INT32_MAX - 1};
        return kEdges[rng() % std::size(kEdges)];
      }
      default: return static_cast<int32_t>(static_cast<int64_t>(rng() % 2000001) - 1000000);
    }
  }

  Quant make_quant(std::mt19937_64& rng) const {
    Quant q;
    q.per_channel = per_channel_;
    q.zp = zp_;
    q.qmin = qmin();
    q.qmax = qmax();
    const size_t channels = per_channel_ ? n_ : 1;
    for (size_t c = 0; c < channels; ++c) {
      int32_t mult;
      switch (rng() % 16) {
        case 0: mult = 1 << 30; break;  // exactly 0.5: every odd SRDHM input is a tie (Eq. 5)
        case 1: mult = INT32_MAX; break;
        case 2: mult = 0; break;
        default: mult = static_cast<int32_t>((1u << 30) + rng() % (1u << 30)); break;  // Eq. 7 range
      }
      q.multiplier.push_back(mult);
      const int span = shift_hi() - shift_lo() + 1;
      q.shift.push_back(shift_lo() + static_cast<int>(rng() % static_cast<uint64_t>(span)));
    }
    return q;
  }

  void fill_output(std::mt19937_64& rng, std::vector<uint8_t>& out) const {
    // Random prior contents: exercises the accumulate mode (including its saturation) and shows
    // any element written outside its range.
    for (auto& byte : out) byte = static_cast<uint8_t>(rng());
    if (accumulate_ && (near_extreme_prior_ || rng() % 2 == 0)) {
      for (size_t i = 0; i + 4 <= out.size(); i += 4) {
        const int32_t offset = static_cast<int32_t>(rng() % 1000);
        const int32_t near_extreme = rng() & 1 ? INT32_MAX - offset : INT32_MIN + offset;
        std::memcpy(&out[i], &near_extreme, 4);
      }
    }
  }

  // Eq. 11 (or the raw value) stored the way GemmOutput says.
  void store_expected(uint8_t* buffer, size_t row, size_t col, const Quant& q, int32_t acc, bool requant) const {
    int64_t value = acc;
    if (requant) {
      const size_t ch = q.per_channel ? col : 0;
      value = std::clamp<int64_t>(int64_t{q.zp} + gemm_reference::mbqm(acc, q.multiplier[ch], q.shift[ch]), q.qmin, q.qmax);
    }
    const size_t at = row * ldc() + col;
    if (out_ == GemmOut::kU8) {
      buffer[at] = table_.empty() ? static_cast<uint8_t>(value) : table_[static_cast<size_t>(value)];
    } else if (out_ == GemmOut::kS16) {
      const int16_t v = static_cast<int16_t>(value);
      std::memcpy(buffer + at * 2, &v, 2);
    } else {
      int32_t old;
      std::memcpy(&old, buffer + at * 4, 4);
      const int32_t v = accumulate_ ? static_cast<int32_t>(std::clamp<int64_t>(int64_t{old} + value, INT32_MIN, INT32_MAX))
                                    : static_cast<int32_t>(value);
      std::memcpy(buffer + at * 4, &v, 4);
    }
  }

  Case make_case() const {
    std::mt19937_64 rng(seed_);
    Case c;
    const size_t a_bytes = input_ == GemmInput::kU8 ? 1 : 2;
    c.a.resize(m_ * lda() * a_bytes + 2);
    for (size_t i = 0; i < m_; ++i) {
      for (size_t p = 0; p < lda(); ++p) {
        if (input_ == GemmInput::kU8) {
          c.a[i * lda() + p] = u8_value(rng, p < k_);
        } else {
          const int16_t v = s16_value(rng, p < k_);
          std::memcpy(&c.a[(i * lda() + p) * 2], &v, 2);
        }
      }
    }
    c.w.resize(n_ * k_);
    for (auto& v : c.w) v = w_value(rng);
    if (bias_) {
      c.bias.resize(n_);
      for (auto& v : c.bias) {
        v = extreme_bias_ ? static_cast<int32_t>(rng()) : static_cast<int32_t>(static_cast<int64_t>(rng() % (1u << 21)) - (1 << 20));
      }
    }
    c.q = make_quant(rng);
    c.out0.resize(m_ * ldc() * elem_bytes() + 4);
    fill_output(rng, c.out0);
    c.expected = c.out0;
    for (size_t i = 0; i < m_; ++i) {
      for (size_t j = n_begin(); j < n_end(); ++j) {
        // Eq. 8 (u8, with the zero-point) or Eq. 10 (s16), int64, then modulo 2^32 like the kernels.
        int64_t acc = bias_ ? c.bias[j] : 0;
        for (size_t p = 0; p < k_; ++p) {
          int64_t a;
          if (input_ == GemmInput::kU8) {
            a = int64_t{c.a[i * lda() + p]} - za_;
          } else {
            int16_t v;
            std::memcpy(&v, &c.a[(i * lda() + p) * 2], 2);
            a = v;
          }
          acc += a * c.w[j * k_ + p];
        }
        store_expected(c.expected.data(), i, j, c.q, gemm_reference::wrap32(acc), requant_);
      }
    }
    return c;
  }

  void run_linear(const Case& c, GemmIsa isa) const {
    const PackedWeights w = PackedWeights::pack(isa, input_, c.w.data(), n_, k_, bias_ ? c.bias.data() : nullptr,
                                                input_ == GemmInput::kU8 ? za_ : 0);
    REQUIRE(w.n() == n_);
    REQUIRE(w.k() == k_);
    std::vector<uint8_t> out = c.out0;
    const RequantParams params = c.q.params();
    const GemmOutput o{out.data(), ldc(), out_, requant_ ? &params : nullptr, accumulate_, table()};
    if (ranged_) {
      linear(w, m_, c.a.data(), lda(), o, n_begin(), n_end());
    } else {
      linear(w, m_, c.a.data(), lda(), o);
    }
    compare(isa, "linear", out.data(), c.expected.data(), out.size() / elem_bytes(), elem_bytes());
  }

  // Element-wise, tolerance 0; reports the first mismatches with the full configuration.
  void compare(GemmIsa isa, const char* what, const void* actual, const void* expected, size_t count,
               size_t elem) const {
    size_t mismatches = 0;
    std::ostringstream report;
    for (size_t e = 0; e < count; ++e) {
      if (std::memcmp(static_cast<const uint8_t*>(actual) + e * elem, static_cast<const uint8_t*>(expected) + e * elem, elem) == 0) {
        continue;
      }
      if (mismatches < 5) {
        report << "\n  element " << e << " (row " << e / ldc() << ", col " << e % ldc() << "): got "
               << value_at(actual, e, elem) << ", expected " << value_at(expected, e, elem);
      }
      ++mismatches;
    }
    if (mismatches != 0) {
      FAIL_CHECK(what << " backend=" << gemm_isa_name(isa) << " " << describe() << "\n  " << mismatches
                      << " mismatching elements" << report.str());
    }
    CHECK(mismatches == 0);
  }
  static int64_t value_at(const void* p, size_t e, size_t elem) {
    const auto* bytes = static_cast<const uint8_t*>(p) + e * elem;
    if (elem == 1) return *bytes;
    if (elem == 2) { int16_t v; std::memcpy(&v, bytes, 2); return v; }
    int32_t v;
    std::memcpy(&v, bytes, 4);
    return v;
  }

  size_t m_ = 1, n_ = 1, k_ = 1, lda_ = 0, ldb_ = 0, ldc_ = 0;
  int32_t za_ = 0, zb_ = 0;
  GemmInput input_ = GemmInput::kU8;
  GemmOut out_ = GemmOut::kS32;
  bool requant_ = false, per_channel_ = false, accumulate_ = false, ranged_ = false;
  bool near_extreme_prior_ = false;
  bool auto_shift_ = true;
  int shift_lo_ = 0, shift_hi_ = 0;
  int32_t zp_ = 0, qmin_ = 0, qmax_ = 0;
  bool clamp_set_ = false;
  size_t n_begin_ = 0, n_end_ = 0;
  Fill fill_ = Fill::kRandom;
  bool bias_ = true, extreme_bias_ = false;
  bool addend_ = false;  // u8u8: matmul_u8u8_nt_add
  int b_lo_ = -1, b_hi_ = -1;  // u8u8: B's range (b_range), -1: the fill's
  uint64_t seed_ = 1;
  std::vector<uint8_t> table_;
};

}  // namespace intvit::test
