// AVX-512 VBMI softmax for the `lut` mode (QUANTIZATION.md §4.5-4.6, §4.10: Eq. 13, 20, 21, 21b),
// bit-identical to softmax-ref.cc; every other mode (and lut parameters outside the range below)
// runs softmax-avx512.cc. Two changes against the AVX-512 kernel, both exact (§4.11):
//   - the index of Eq. 20 is one rounding of a 64-bit product instead of Eq. 7's two, and
//   - the table is read from registers, not gathered: its 256 entries (< 2^18) are three planes
//     of bytes, each 4 registers, and vpermi2b looks up 64 indices per plane at a time.
// 64 logits per step: 4 vectors of indices -> 64 bytes (saturating packs, in-lane order) -> three
// byte planes -> unpacked back to 4 vectors of e in the original order (the unpacks invert the
// packs lane by lane).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports its own _mm512_undefined_* placeholders as uninitialized (a false positive).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "kernels/fixedpoint-avx512.h"
#include "kernels/softmax/softmax.h"

namespace intvit {
namespace {

using namespace softmax_detail;
using namespace fp_avx512;

constexpr size_t kMaxLen = 4096;
constexpr int32_t kMaxEntry = 1 << 18;  // table entries in [0, 2^18): three byte planes, Σ < 2^30

// Whether p takes this kernel: lut, Eq. 7's shift in [-31, 31], multiplier in [0, 2^31), every
// table entry in [0, 2^18) (make_softmax_params: <= 2^17). Anything else runs __avx512.
bool lut_fast_path(const SoftmaxParams& p) {
  if (p.mode != SoftmaxMode::kLut || p.in_shift < -31 || p.in_shift > 31 || p.in_multiplier < 0) return false;
  return std::all_of(std::begin(p.exp_table), std::end(p.exp_table), [](int32_t e) { return e >= 0 && e < kMaxEntry; });
}

// Eq. 13 + 20 as one rounding (§4.11). With a = max - x capped at 2^31 (= -d, d saturated as in
// Eq. 13) and Eq. 7's shift split into left l and right r:
//   i = min(255, (min(a, 2^(31-l))·2^l · M + K) >> (31 + r)),  K = 2^30 (r = 0), 2^30·(2^r + 1) (r >= 1)
// Even lanes: vpmuludq, + K, >> (31 + r): the index lands in the low dword (the high one is 0,
// i <= M < 2^31). Odd lanes: 2M and 2K, >> r: the same quotient lands in the high dword.
struct IndexConsts {
  __m512i cap, mult, round, mult2, round2;
  __m512i left, shift, shift2;  // per-lane counts: vpsllvd / vpsrlvq are one uop, the xmm-count forms two
};

IndexConsts index_consts(const SoftmaxParams& p) {
  const int left = p.in_shift < 0 ? -p.in_shift : 0, right = p.in_shift > 0 ? p.in_shift : 0;
  const uint64_t k = right == 0 ? uint64_t{1} << 30 : (uint64_t{1} << (30 + right)) + (uint64_t{1} << 30);
  const auto m = static_cast<uint64_t>(p.in_multiplier);
  return {_mm512_set1_epi32(static_cast<int32_t>(uint32_t{1} << (31 - left))),
          _mm512_set1_epi64(static_cast<int64_t>(m)),
          _mm512_set1_epi64(static_cast<int64_t>(k)),
          _mm512_set1_epi64(static_cast<int64_t>(2 * m)),
          _mm512_set1_epi64(static_cast<int64_t>(2 * k)),
          _mm512_set1_epi32(left),
          _mm512_set1_epi64(31 + right),
          _mm512_set1_epi64(right)};
}

// The index (not yet capped at 255) of 16 logits from x and the row max: uint32 lanes < 2^31.
template <bool kLeft>
inline __m512i lut_index(const IndexConsts& k, __m512i vmax, __m512i x) {
  __m512i a = _mm512_min_epu32(_mm512_sub_epi32(vmax, x), k.cap);  // max - x >= 0 exactly in uint32
  if constexpr (kLeft) a = _mm512_sllv_epi32(a, k.left);
  const __m512i even = _mm512_srlv_epi64(_mm512_add_epi64(_mm512_mul_epu32(a, k.mult), k.round), k.shift);
  const __m512i odd = _mm512_srlv_epi64(_mm512_add_epi64(_mm512_mul_epu32(_mm512_srli_epi64(a, 32), k.mult2), k.round2), k.shift2);
  return _mm512_mask_blend_epi32(0xAAAA, even, odd);
}

// The table as three byte planes (bits 0-7, 8-15, 16-23), each 4 registers of 64 entries.
struct Planes {
  __m512i t[3][4];
};

Planes load_planes(const SoftmaxParams& p) {
  alignas(64) uint8_t bytes[3][256];
  for (int i = 0; i < 256; ++i) {
    for (int b = 0; b < 3; ++b) bytes[b][i] = static_cast<uint8_t>(p.exp_table[i] >> (8 * b));
  }
  Planes planes;
  for (int b = 0; b < 3; ++b) {
    for (int q = 0; q < 4; ++q) planes.t[b][q] = _mm512_load_si512(bytes[b] + 64 * q);
  }
  return planes;
}

// 64 table bytes of one plane: bit 7 of the index picks the register pair, bits 0-6 the entry.
inline __m512i lookup(const __m512i t[4], __m512i index, __mmask64 high) {
  const __m512i lo = _mm512_permutex2var_epi8(t[0], index, t[1]);
  const __m512i hi = _mm512_permutex2var_epi8(t[2], index, t[3]);
  return _mm512_mask_blend_epi8(high, lo, hi);
}

// e of 64 logits x[0..63]. kTail: only `valid` of them are in the row, in the first kVectors
// vectors of 16 (the rest of those read as the max: e(0), not summed by the caller; the vectors
// past them are not computed).
template <bool kLeft, bool kTail, int kVectors = 4>
inline void exp64(const IndexConsts& k, const Planes& planes, __m512i vmax, const int32_t* x, size_t valid, __m512i e[4]) {
  __m512i idx[4];
  for (int v = 0; v < 4; ++v) {
    const size_t start = 16 * static_cast<size_t>(v);
    if (v >= kVectors) {
      idx[v] = _mm512_setzero_si512();
      continue;
    }
    const __m512i xv = !kTail ? _mm512_loadu_si512(x + start)
                              : _mm512_mask_loadu_epi32(vmax, tail_mask16(valid > start ? valid - start : 0), x + start);
    idx[v] = lut_index<kLeft>(k, vmax, xv);
  }
  // Packs saturate: indices < 2^31 -> uint16 (<= 65535), capped at 255 before the signed word pack.
  const __m512i cap = _mm512_set1_epi16(255);
  const __m512i w01 = _mm512_min_epu16(_mm512_packus_epi32(idx[0], idx[1]), cap);
  const __m512i w23 = _mm512_min_epu16(_mm512_packus_epi32(idx[2], idx[3]), cap);
  const __m512i index = _mm512_packus_epi16(w01, w23);  // lane L: idx0[L], idx1[L], idx2[L], idx3[L] (4 each)
  const __mmask64 high = _mm512_movepi8_mask(index);
  const __m512i b0 = lookup(planes.t[0], index, high), b1 = lookup(planes.t[1], index, high), b2 = lookup(planes.t[2], index, high);
  const __m512i zero = _mm512_setzero_si512();
  const __m512i w_lo = _mm512_unpacklo_epi8(b0, b1), w_hi = _mm512_unpackhi_epi8(b0, b1);  // bits 0-15
  const __m512i z_lo = _mm512_unpacklo_epi8(b2, zero), z_hi = _mm512_unpackhi_epi8(b2, zero);  // bits 16-23
  e[0] = _mm512_unpacklo_epi16(w_lo, z_lo);
  e[1] = _mm512_unpackhi_epi16(w_lo, z_lo);
  e[2] = _mm512_unpacklo_epi16(w_hi, z_hi);
  e[3] = _mm512_unpackhi_epi16(w_hi, z_hi);
}

// Passes 1-2 of a row (Eq. 13, 20): e_j into e_buf[0, len rounded up to 16); returns Σe. (Eq. 21b reads
// 32 at a time: lanes past that are never stored.)
template <bool kLeft>
int64_t exp_row(const IndexConsts& consts, const Planes& tables, size_t len, const int32_t* x, int32_t* e_buf) {
  // Local copies: the e_buf stores cannot alias them, so the 12 table and 5 constant registers
  // stay loaded across the loop.
  const IndexConsts k = consts;
  const Planes planes = tables;
  __m512i vmax = _mm512_set1_epi32(std::numeric_limits<int32_t>::min());
  for (size_t j = 0; j < len; j += 16) {
    vmax = _mm512_max_epi32(vmax, _mm512_mask_loadu_epi32(vmax, tail_mask16(len - j), x + j));
  }
  vmax = _mm512_set1_epi32(_mm512_reduce_max_epi32(vmax));
  __m512i vsum = _mm512_setzero_si512();  // per lane <= 256 entries < 2^18: no overflow
  size_t j = 0;
  for (; j + 64 <= len; j += 64) {
    __m512i e[4];
    exp64<kLeft, false>(k, planes, vmax, x + j, 64, e);
    for (int v = 0; v < 4; ++v) {
      _mm512_store_si512(e_buf + j + 16 * v, e[v]);
      vsum = _mm512_add_epi32(vsum, e[v]);
    }
  }
  if (j < len) {  // the last 1..63 logits: only the vectors that hold some
    const size_t valid = len - j, vectors = (valid + 15) / 16;
    __m512i e[4];
    switch (vectors) {
      case 1: exp64<kLeft, true, 1>(k, planes, vmax, x + j, valid, e); break;
      case 2: exp64<kLeft, true, 2>(k, planes, vmax, x + j, valid, e); break;
      case 3: exp64<kLeft, true, 3>(k, planes, vmax, x + j, valid, e); break;
      default: exp64<kLeft, true, 4>(k, planes, vmax, x + j, valid, e); break;
    }
    for (size_t v = 0; v < vectors; ++v) {
      const size_t start = 16 * v;
      _mm512_store_si512(e_buf + j + start, e[v]);
      vsum = _mm512_mask_add_epi32(vsum, tail_mask16(valid - start), vsum, e[v]);
    }
  }
  return reduce_add_wrap_epi32(vsum);  // < 2^30
}

// 8-bit output, Eq. 21 (as softmax-avx512.cc).
void normalise_row(size_t len, int64_t sum, const int32_t* e_buf, uint8_t* y) {
  const uint64_t factor = ((uint64_t{1} << 31) + sum / 2) / sum;
  const __m512i vf = _mm512_set1_epi32(static_cast<int32_t>(factor));
  const __m512i round = _mm512_set1_epi32(1 << (kProbShift - 1));
  for (size_t j = 0; j < len; j += 16) {
    const __m512i e = _mm512_load_si512(e_buf + j);
    __m512i prob = _mm512_srli_epi32(_mm512_add_epi32(_mm512_mullo_epi32(e, vf), round), kProbShift);
    prob = _mm512_min_epu32(prob, _mm512_set1_epi32(255));
    _mm512_mask_cvtepi32_storeu_epi8(y + j, tail_mask16(len - j), prob);
  }
}

// 16-bit output, Eq. 21b, 32 at a time: vpmuludq on even and odd lanes (e·F16 < 2^48), the high
// dwords of both gathered by one vpermt2d, and the signed saturating pack is the clamp at 32767
// (p16 <= 2^15, never negative); vpermq undoes the pack's lane interleave.
void normalise_row(size_t len, int64_t sum, const int32_t* e_buf, uint16_t* y) {
  const uint64_t factor = ((uint64_t{1} << kProb16RecipBits) + sum / 2) / sum;
  const __m512i vf = _mm512_set1_epi64(static_cast<int64_t>(factor));
  const __m512i round = _mm512_set1_epi64(int64_t{1} << (kProb16Shift - 1));
  const __m512i high_dwords = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
  const __m512i unpack_order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
  auto p16 = [&](__m512i e) {
    const __m512i even = _mm512_add_epi64(_mm512_mul_epu32(e, vf), round);
    const __m512i odd = _mm512_add_epi64(_mm512_mul_epu32(_mm512_shuffle_epi32(e, _MM_PERM_DDBB), vf), round);
    return _mm512_permutex2var_epi32(even, high_dwords, odd);
  };
  for (size_t j = 0; j < len; j += 32) {
    const __m512i packed = _mm512_packs_epi32(p16(_mm512_load_si512(e_buf + j)), p16(_mm512_load_si512(e_buf + j + 16)));
    const __m512i out = _mm512_permutexvar_epi64(unpack_order, packed);
    if (j + 32 <= len) {
      _mm512_storeu_si512(y + j, out);
    } else {
      _mm512_mask_storeu_epi16(y + j, static_cast<__mmask32>((uint64_t{1} << (len - j)) - 1), out);
    }
  }
}

template <typename Out>
void softmax_rows_lut(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in, Out* out,
                      size_t ld_out) {
  const IndexConsts k = index_consts(p);
  const Planes planes = load_planes(p);
  alignas(64) int32_t e_buf[kMaxLen + 64];
  const bool left = p.in_shift < 0;
  for (size_t row = 0; row < rows; ++row) {
    const int32_t* x = in + row * ld_in;
    const int64_t sum = left ? exp_row<true>(k, planes, len, x, e_buf) : exp_row<false>(k, planes, len, x, e_buf);
    normalise_row(len, sum, e_buf, out + row * ld_out);
  }
}

}  // namespace

void softmax_rows__avx512vbmi(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                              uint8_t* out, size_t ld_out) {
  if (len == 0 || len > kMaxLen || !lut_fast_path(p)) return softmax_rows__avx512(p, rows, len, in, ld_in, out, ld_out);
  softmax_rows_lut(p, rows, len, in, ld_in, out, ld_out);
}

void softmax_rows16__avx512vbmi(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in,
                                uint16_t* out, size_t ld_out) {
  if (len == 0 || len > kMaxLen || !lut_fast_path(p)) return softmax_rows16__avx512(p, rows, len, in, ld_in, out, ld_out);
  softmax_rows_lut(p, rows, len, in, ld_in, out, ld_out);
}

}  // namespace intvit
