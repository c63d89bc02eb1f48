// The AVX-512 output stage (Eq. 11) as inline primitives: every AVX-512 kernel and the standalone
// output_stage__avx512 (requantize-avx512.cc) use these, so Eq. 11 is written once for the ISA.
// Include only from *-avx512*.cc files.
//
// MBQM (Eq. 7) per column: kernels/fixedpoint-avx512.h (ColumnConsts, mbqm<kLeftShift>).
// Eq. 11's clamp and zero-point follow as clamp(MBQM, qmin − zp, qmax − zp) + zp (OutputPlan).
#pragma once

#include "kernels/avx512-intrinsics.h"

#include <cstddef>
#include <cstdint>
#include <limits>

#include "kernels/fixedpoint-avx512.h"
#include "kernels/gemm/gemm-kernels.h"

namespace intvit::gemm::avx512 {
// Internal linkage: the files including this header are compiled with different ISA flags, so
// external-linkage inline helpers could be merged across them by the linker (an ODR violation).
namespace {

// Eq. 7 and the saturating add: the AVX-512 fixed-point core (kernels/fixedpoint-avx512.h).
using fp_avx512::column_consts;
using fp_avx512::ColumnConsts;
using fp_avx512::mbqm;
using fp_avx512::saturating_add;

// The constants of columns n..n+15 of `plan` (all 16 must exist; per-tensor: any n).
inline ColumnConsts column_consts_for(const OutputPlan& plan, size_t n) {
  if (plan.per_channel) {
    return column_consts(_mm512_loadu_si512(plan.multiplier + n), _mm512_loadu_si512(plan.shift + n));
  }
  return column_consts(_mm512_set1_epi32(plan.multiplier[0]), _mm512_set1_epi32(plan.shift[0]));
}

// ---- Eq. 7 in the Intel form: |x'| by vpabsd (|INT32_MIN| = 2^31 as an unsigned dword, as
// fp_avx512::magnitude gives) and the sign as a mask (vpmovd2m / vpmovw2m) instead of srai / max(x, −x)
// / xor / sub: 3 uops fewer per 16 outputs (2 per 32 in zp_pair16). On Intel's cores these uops do not
// compete with vpdpbusd any more than the others do (the VNNI linears 0.4–3 % faster, measured on a Xeon); on AMD Zen 5
// vpabsd and vpmov*2m take vpdpbusd's issue slots (measured the opposite way), hence the choice per vendor.

// fp_avx512::mbqm_magnitude with the odd dwords brought down by vpshufd (port 5) rather than vpsrlq
// (port 0, which the multiplies, variable shifts, vpabsd and vpmov*2m already load).
inline __attribute__((always_inline)) __m512i mbqm_magnitude_p5(__m512i ax, const ColumnConsts& c) {
  const __m512i even = _mm512_add_epi64(_mm512_mul_epu32(ax, c.mult2_even), c.round2_even);
  const __m512i odd = _mm512_add_epi64(_mm512_mul_epu32(_mm512_shuffle_epi32(ax, _MM_PERM_DDBB), c.mult2_odd), c.round2_odd);
  return _mm512_srlv_epi32(_mm512_permutex2var_epi32(even, fp_avx512::high_dword_gather(), odd), c.right);
}

// fp_avx512::mbqm<kLeftShift, kSaturate> with the sign of x' as a mask selecting −m: the same lanes.
template <bool kLeftShift, bool kSaturate = true>
inline __attribute__((always_inline)) __m512i abs_sign_mbqm(__m512i x, const ColumnConsts& c) {
  x = fp_avx512::left_shifted<kLeftShift, kSaturate>(x, c);
  const __m512i m = mbqm_magnitude_p5(_mm512_abs_epi32(x), c);
  return _mm512_mask_sub_epi32(m, _mm512_movepi32_mask(x), _mm512_setzero_si512(), m);
}

// Stage::signed_pair + zp16 with int16 saturation, sat16(sign·min(|MBQM|, 32767) + zp) of two
// vectors in vpackssdw order, in the Intel form: the sign as a mask (vpmovw2m of vpackssdw(x0, x1))
// choosing sat(zp − m) over sat(m + zp) for the negative lanes, instead of srai/xor/sub then the add:
// the same int16 either way (m = min(|MBQM|, 32767), so −m is exact in int16).
inline __attribute__((always_inline)) __m512i zp_pair16(__m512i x0, __m512i x1, const ColumnConsts& c0, const ColumnConsts& c1,
                                                        __m512i zp16) {
  const __m512i mag = _mm512_packs_epi32(mbqm_magnitude_p5(_mm512_abs_epi32(x0), c0), mbqm_magnitude_p5(_mm512_abs_epi32(x1), c1));
  const __mmask32 negative = _mm512_movepi16_mask(_mm512_packs_epi32(x0, x1));
  return _mm512_mask_subs_epi16(_mm512_adds_epi16(mag, zp16), negative, zp16, mag);
}

// One output configuration, resolved at compile time; row r, column n of the output.
// kNarrow (u8/s16 outputs, OutputPlan::narrow): |MBQM| <= 2^30 and |zp| < 2^30, so MBQM + zp
// cannot overflow and Eq. 11's clamp can be done after a saturating pack to int16 (qmin, qmax lie
// inside int16), for whole rows of 64 columns at a time (store_row).
// kClamp = false: for int32 outputs whose plan is unclamped (bounds the whole int32 range, zero-point
// 0) Eq. 11's clamp and zero-point add are the identity and are left out; for narrow u8 outputs
// whose plan is byte_clamp, the row store clamps by saturating packs (store_row).
// kLeftSaturates = false (with kLeftShift): OutputPlan::left_shift_exact, the left shift without
// its saturation (2 compares and 2 merges fewer per 16 columns).
// kAbsSign: Eq. 7's sign and magnitude in the form with fewer uops on Intel cores (abs_sign_mbqm,
// zp_pair16 below); false: the form that leaves AMD Zen 5's vpdpbusd issue slots alone (fp_avx512::mbqm).
// The same bits either way; gemm::avx512_stage_abs_sign() picks per CPU vendor.
template <GemmOut kType, bool kAccumulate, bool kRaw, bool kPerChannel, bool kLeftShift, bool kNarrow = false, bool kClamp = true,
          bool kLeftSaturates = true, bool kAbsSign = false>
struct Stage {
  static constexpr bool kRowStore = kNarrow;
  static constexpr size_t kElemBytes = kType == GemmOut::kU8 ? 1 : kType == GemmOut::kS16 ? 2 : 4;
  static constexpr bool kRequantizes = !kRaw;

  explicit Stage(const OutputPlan& plan)
      : p(plan), lo(_mm512_set1_epi32(plan.lo)), hi(_mm512_set1_epi32(plan.hi)), zp(_mm512_set1_epi32(plan.zero_point)) {
    if constexpr (!kRaw && !kPerChannel) {
      tensor = column_consts(_mm512_set1_epi32(plan.multiplier[0]), _mm512_set1_epi32(plan.shift[0]));
    }
    if constexpr (kNarrow) {
      qmin16 = _mm512_set1_epi16(static_cast<int16_t>(plan.qmin));
      qmax16 = _mm512_set1_epi16(static_cast<int16_t>(plan.qmax));
      if constexpr (!kClamp) zp16 = _mm512_set1_epi16(static_cast<int16_t>(plan.zero_point));
    }
  }

  // Eq. 7 constants of the 16 columns from n (lanes outside `mask` are not read).
  inline __attribute__((always_inline)) ColumnConsts columns(size_t n, __mmask16 mask) const {
    if constexpr (!kRaw && kPerChannel) {
      return column_consts(_mm512_maskz_loadu_epi32(mask, p.multiplier + n), _mm512_maskz_loadu_epi32(mask, p.shift + n));
    } else {
      (void)n, (void)mask;
      return tensor;
    }
  }

  // Address of output element (row, n).
  inline __attribute__((always_inline)) uint8_t* at(size_t row, size_t n) const {
    return static_cast<uint8_t*>(p.data) + (row * p.ld + n) * kElemBytes;
  }

  // Eq. 7 in this stage's form (kAbsSign, or kAbs: the Intel form whatever the stage's).
  template <bool kAbs = kAbsSign>
  static inline __attribute__((always_inline)) __m512i multiply(__m512i v, const ColumnConsts& c) {
    if constexpr (kAbs) return abs_sign_mbqm<kLeftShift, kLeftSaturates>(v, c);
    return mbqm<kLeftShift, kLeftSaturates>(v, c);
  }

  // Eq. 11 on the accumulators v of 16 columns (int32 lanes, before the store's narrowing).
  template <bool kAbs = kAbsSign>
  inline __attribute__((always_inline)) __m512i requantize(__m512i v, const ColumnConsts& c) const {
    if constexpr (!kRaw && kClamp) v = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(multiply<kAbs>(v, c), lo), hi), zp);
    if constexpr (!kRaw && !kClamp) {
      static_assert(kType == GemmOut::kS32, "unclamped vector stores are for int32 outputs (u8 byte_clamp: store_row)");
      v = multiply<kAbs>(v, c);
    }
    return v;
  }

  // Eq. 11 on the accumulators v of 16 columns, stored at dst (an element address) where `mask`
  // allows; kFull: all 16 lanes, without masks.
  template <bool kFull = false>
  inline __attribute__((always_inline)) void store(__m512i v, const ColumnConsts& c, uint8_t* dst,
                                                   __mmask16 mask = 0xFFFF) const {
    v = requantize(v, c);
    if constexpr (kType == GemmOut::kU8) {
      if constexpr (kFull) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm512_cvtepi32_epi8(v));
      } else {
        _mm_mask_storeu_epi8(dst, mask, _mm512_cvtepi32_epi8(v));
      }
    } else if constexpr (kType == GemmOut::kS16) {
      if constexpr (kFull) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm512_cvtepi32_epi16(v));
      } else {
        _mm256_mask_storeu_epi16(dst, mask, _mm512_cvtepi32_epi16(v));
      }
    } else if constexpr (kFull) {
      if constexpr (kAccumulate) v = saturating_add(_mm512_loadu_si512(dst), v);
      _mm512_storeu_si512(dst, v);
    } else {
      if constexpr (kAccumulate) v = saturating_add(_mm512_maskz_loadu_epi32(mask, dst), v);
      _mm512_mask_storeu_epi32(dst, mask, v);
    }
  }

  // int32 accumulate (the residual stream) with the saturation deferred (QUANTIZATION.md §3.5):
  // tiles add Eq. 11 into the output modulo 2^32 (store_wrapping) and collect the lanes that
  // wrapped — int32 overflow iff the two addends share a sign that the sum does not — in the sign
  // bits of `wrapped`; only if any did, resaturate() redoes each store of the tile exactly: the
  // prior value is (stored − value) mod 2^32, and saturating_add of it is what store() would have
  // stored. Saves the per-vector mask, sign and merge of saturating_add on the common path.
  static constexpr bool kDeferredSaturation = kType == GemmOut::kS32 && kAccumulate;

  inline __attribute__((always_inline)) void store_wrapping(__m512i v, const ColumnConsts& c, uint8_t* dst,
                                                            __m512i& wrapped) const {
    static_assert(kDeferredSaturation);
    v = requantize(v, c);
    const __m512i prior = _mm512_loadu_si512(dst);
    const __m512i sum = _mm512_add_epi32(prior, v);
    wrapped = _mm512_or_si512(wrapped, _mm512_ternarylogic_epi32(prior, v, sum, 0x42));  // (prior ^ sum) & (v ^ sum)
    _mm512_storeu_si512(dst, sum);
  }
  inline __attribute__((always_inline)) void resaturate(__m512i v, const ColumnConsts& c, uint8_t* dst) const {
    static_assert(kDeferredSaturation);
    v = requantize(v, c);
    const __m512i stored = _mm512_loadu_si512(dst);
    _mm512_storeu_si512(dst, saturating_add(_mm512_sub_epi32(stored, v), v));
  }

  // kNarrow only: Eq. 11 on 64 consecutive columns (v[j] = columns 16j..) as int16, clamped to
  // [qmin, qmax]: w01 = vpackssdw of columns 0..31, w23 of 32..63 (4-column groups of the two
  // sources interleaved per 128-bit lane). Saturating to int16 is exact: the clamp bounds lie inside int16.
  inline __attribute__((always_inline)) void clamped_pairs16(const __m512i (&v)[4], const ColumnConsts* c, __m512i& w01,
                                                             __m512i& w23) const {
    static_assert(kNarrow && !kLeftShift && !kRaw);
    __m512i q[4];
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) q[j] = _mm512_add_epi32(multiply(v[j], c[j]), zp);
    w01 = _mm512_min_epi16(_mm512_max_epi16(_mm512_packs_epi32(q[0], q[1]), qmin16), qmax16);
    w23 = _mm512_min_epi16(_mm512_max_epi16(_mm512_packs_epi32(q[2], q[3]), qmin16), qmax16);
  }

  // kNarrow only: Eq. 11 on 64 consecutive columns (v[j] = columns 16j..), stored at dst.
  inline __attribute__((always_inline)) void store_row(const __m512i (&v)[4], const ColumnConsts* c, uint8_t* dst) const {
    static_assert(kNarrow && !kLeftShift && !kRaw);
    if constexpr (kType == GemmOut::kU8) {
      _mm512_storeu_si512(dst, row_u8(v, c));
    } else {
      __m512i w01, w23;
      clamped_pairs16(v, c, w01, w23);
      // qword 2i + s of w01 holds columns 16s + 4i..: back to column order.
      const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
      _mm512_storeu_si512(dst, _mm512_permutexvar_epi64(order, w01));
      _mm512_storeu_si512(dst + 64, _mm512_permutexvar_epi64(order, w23));
    }
  }

  // kNarrow u8 only: Eq. 11 on 64 consecutive columns as 64 bytes in column order (store_row's).
  inline __attribute__((always_inline)) __m512i row_u8(const __m512i (&v)[4], const ColumnConsts* c) const {
    static_assert(kNarrow && !kLeftShift && !kRaw && kType == GemmOut::kU8);
    if constexpr (!kClamp) {
      // OutputPlan::byte_clamp: [qmin, qmax] = [0, 255] and zp in [-32512, 32767] (QUANTIZATION.md
      // §3.5, the uint8 shortcut). |MBQM| saturated to int16, its sign put back in int16 (one srai/xor/sub per
      // 32 columns instead of per 16), plus zp with int16 saturation, then vpackuswb's [0, 255]
      // saturation is Eq. 11's clamp: for |MBQM| <= 32767 that is clamp(MBQM + zp); above it,
      // 32767 + zp >= 255 (and MBQM + zp > 255) or −32767 + zp <= 0 (and MBQM + zp < 0) — the same
      // byte either way.
      const __m512i w01 = zp_pair(v[0], v[1], c[0], c[1]), w23 = zp_pair(v[2], v[3], c[2], c[3]);
      const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
      return _mm512_permutexvar_epi32(order, _mm512_packus_epi16(w01, w23));
    } else {
      __m512i w01, w23;
      clamped_pairs16(v, c, w01, w23);
      // dword (4 columns) 4i + s holds columns 16s + 4i..: transpose back to column order.
      const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
      return _mm512_permutexvar_epi32(order, _mm512_packus_epi16(w01, w23));
    }
  }

  // sat16(sign·min(|MBQM|, 32767) + zp) of two vectors in vpackssdw order, in this stage's form.
  inline __attribute__((always_inline)) __m512i zp_pair(__m512i x0, __m512i x1, const ColumnConsts& c0, const ColumnConsts& c1) const {
    if constexpr (kAbsSign) return zp_pair16(x0, x1, c0, c1, zp16);
    return _mm512_adds_epi16(signed_pair(x0, x1, c0, c1), zp16);
  }

  // sign(x)·min(|MBQM(x)|, 32767) of two vectors as 32 int16 lanes in vpackssdw order (narrow
  // plans: right shifts >= 1, so |MBQM| <= 2^30 is a non-negative int32 and vpackssdw saturates
  // it to 32767; vpackssdw of x itself keeps each lane's sign in the same order).
  static inline __attribute__((always_inline)) __m512i signed_pair(__m512i x0, __m512i x1, const ColumnConsts& c0,
                                                                   const ColumnConsts& c1) {
    const __m512i mag = _mm512_packs_epi32(fp_avx512::mbqm_magnitude(fp_avx512::magnitude(x0), c0),
                                           fp_avx512::mbqm_magnitude(fp_avx512::magnitude(x1), c1));
    const __m512i sign = _mm512_srai_epi16(_mm512_packs_epi32(x0, x1), 15);
    return _mm512_sub_epi16(_mm512_xor_si512(mag, sign), sign);
  }

  const OutputPlan& p;
  __m512i lo, hi, zp;
  __m512i qmin16 = _mm512_setzero_si512(), qmax16 = _mm512_setzero_si512(), zp16 = _mm512_setzero_si512();
  ColumnConsts tensor{};
};

// Calls fn.template operator()<StageType>() for the Stage that `plan` describes; with
// kAllowNarrow, narrow u8/s16 plans get the row-store variant; kAbsSign: Stage::kAbsSign.
template <bool kAllowNarrow = false, bool kAbsSign = false, typename Fn>
decltype(auto) with_stage(const OutputPlan& plan, Fn&& fn) {
  const auto by_quant = [&]<GemmOut kType, bool kAccumulate>() -> decltype(auto) {
    // A requantizing Stage of this type (raw stages have no Eq. 7 and take the default form).
    const auto use = [&]<bool kPerChannel, bool kLeftShift, bool kNarrow = false, bool kClamp = true,
                         bool kLeftSaturates = true>() -> decltype(auto) {
      return fn.template operator()<Stage<kType, kAccumulate, false, kPerChannel, kLeftShift, kNarrow, kClamp, kLeftSaturates, kAbsSign>>();
    };
    if (plan.raw) return fn.template operator()<Stage<kType, kAccumulate, true, false, false>>();
    if constexpr (kAllowNarrow && kType != GemmOut::kS32) {
      if (plan.narrow) {
        if constexpr (kType == GemmOut::kU8) {
          if (plan.byte_clamp) {
            if (plan.per_channel) return use.template operator()<true, false, true, false>();
            return use.template operator()<false, false, true, false>();
          }
        }
        if (plan.per_channel) return use.template operator()<true, false, true>();
        return use.template operator()<false, false, true>();
      }
    }
    if constexpr (kType == GemmOut::kS32) {
      if (plan.unclamped) {  // the residual stream and the logits: their left shifts are usually exact
        if (plan.per_channel) {
          if (plan.left_shift_exact) return use.template operator()<true, true, false, false, false>();
          if (plan.any_left_shift) return use.template operator()<true, true, false, false>();
          return use.template operator()<true, false, false, false>();
        }
        if (plan.left_shift_exact) return use.template operator()<false, true, false, false, false>();
        if (plan.any_left_shift) return use.template operator()<false, true, false, false>();
        return use.template operator()<false, false, false, false>();
      }
    }
    if (plan.per_channel) {
      if (plan.any_left_shift) return use.template operator()<true, true>();
      return use.template operator()<true, false>();
    }
    if (plan.any_left_shift) return use.template operator()<false, true>();
    return use.template operator()<false, false>();
  };
  switch (plan.type) {
    case GemmOut::kU8: return by_quant.template operator()<GemmOut::kU8, false>();
    case GemmOut::kS16: return by_quant.template operator()<GemmOut::kS16, false>();
    default:
      if (plan.accumulate) return by_quant.template operator()<GemmOut::kS32, true>();
      return by_quant.template operator()<GemmOut::kS32, false>();
  }
}

}  // namespace
}  // namespace intvit::gemm::avx512
