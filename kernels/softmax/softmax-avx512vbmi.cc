// AVX-512 VBMI softmax for the `lut` mode (QUANTIZATION.md §4.5-4.6, §4.10: Eq. 13, 20, 21, 21b),
// bit-identical to softmax-ref.cc; every other mode (and lut parameters outside the range below)
// runs softmax-avx512.cc. Two changes against the AVX-512 kernel, both exact (§4.11):
//   - the index of Eq. 20 is one rounding of a 64-bit product instead of Eq. 7's two, and
//   - the table is read from registers, not gathered: its 256 entries (< 2^18) are three planes
//     of bytes, each 4 registers, and vpermi2b looks up 64 indices per plane at a time.
// 64 logits per step: 4 vectors of indices -> 64 bytes (saturating packs, in-lane order) -> three
// byte planes -> unpacked back to 4 vectors of e in the original order (the unpacks invert the
// packs lane by lane). With a right shift (the ViT-Ti case) the index is Eq. 20c, a signed product
// of the logit itself (no subtraction, no saturation step). Eq. 21b is Eq. 21c (no rounding add).
// Rows go in fours, pass by pass, so one row's reductions and division overlap the others' work;
// while Eq. 20 runs on four rows, the next four are prefetched into L1 (calls above 32 KB of scores),
// or on rows of 256 logits or more, their maxes are taken from those loads.
// Port 5 is the bottleneck (two-source byte permutes take two cycles of it): see §4.11.
#include "kernels/avx512-intrinsics.h"

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
  __mmask16 outside = 0;
  for (int q = 0; q < 16; ++q) {
    outside |= _mm512_cmpge_epu32_mask(_mm512_loadu_si512(p.exp_table + 16 * q), _mm512_set1_epi32(kMaxEntry));
  }
  return outside == 0;  // unsigned compare: negative entries are outside too
}

// Eq. 13 + 20 as one rounding (§4.11). With a = max - x capped at 2^31 (= -d, d saturated as in
// Eq. 13) and Eq. 7's shift split into left l and right r:
//   i = min(255, (min(a, 2^(31-l))·2^l · M + K) >> (31 + r)),  K = 2^30 (r = 0), 2^30·(2^r + 1) (r >= 1)
// Even lanes: vpmuludq, + K, >> (31 + r): the index lands in the low dword (the high one is 0,
// i <= M < 2^31). Odd lanes: 2M and 2K, >> r: the same quotient lands in the high dword.
// kProduct (Eq. 20c, r >= 1, l = 0, index(2^31) >= 255): i = min(255, (C - x·M) >> (31 + r)) with
// C = max·M + K per row; odd lanes >> (r - 1) leave the quotient in the high dword.
enum class IndexForm { kRight, kLeft, kProduct };

struct IndexConsts {
  IndexForm form;
  int64_t m;   // M (kProduct: C = max·M + K per row)
  uint64_t k;  // K
  __m512i cap, mult, round, mult2, round2;
  __m512i left, shift, shift2;  // per-lane counts: vpsllvd / vpsrlvq are one uop, the xmm-count forms two
};

IndexConsts index_consts(const SoftmaxParams& p) {
  const int left = p.in_shift < 0 ? -p.in_shift : 0, right = p.in_shift > 0 ? p.in_shift : 0;
  const uint64_t k = right == 0 ? uint64_t{1} << 30 : (uint64_t{1} << (30 + right)) + (uint64_t{1} << 30);
  const auto m = static_cast<uint64_t>(p.in_multiplier);
  // Eq. 20c needs the capped index at a = 2^31 (Eq. 13's saturation) to be 255 already:
  // 2^31·M + K < 2^62 + 2^61, exact.
  const bool product = right >= 1 && (((m << 31) + k) >> (31 + right)) >= 255;
  const IndexForm form = left > 0 ? IndexForm::kLeft : product ? IndexForm::kProduct : IndexForm::kRight;
  return {form,
          static_cast<int64_t>(m),
          k,
          _mm512_set1_epi32(static_cast<int32_t>(uint32_t{1} << (31 - left))),
          _mm512_set1_epi64(static_cast<int64_t>(m)),
          _mm512_set1_epi64(static_cast<int64_t>(k)),
          _mm512_set1_epi64(static_cast<int64_t>(2 * m)),
          _mm512_set1_epi64(static_cast<int64_t>(2 * k)),
          _mm512_set1_epi32(left),
          _mm512_set1_epi64(31 + right),
          _mm512_set1_epi64(product ? right - 1 : right)};
}

// What the index of a row needs besides the constants: the max (kRight, kLeft) or C (kProduct).
struct RowConsts {
  __m512i vmax, c;
};

template <IndexForm kForm>
RowConsts row_consts(const IndexConsts& k, int32_t max) {
  // kProduct: C = max·M + K mod 2^64; C - x·M = (max - x)·M + K is in [0, 2^64), so the wrap is exact.
  const uint64_t c = kForm == IndexForm::kProduct ? static_cast<uint64_t>(int64_t{max} * k.m) + k.k : 0;
  return {_mm512_set1_epi32(max), _mm512_set1_epi64(static_cast<int64_t>(c))};
}

// The index (not yet capped at 255) of 16 logits: uint32 lanes < 2^31. x_odd (kProduct only): the
// same logits loaded one element later, so the odd ones sit in the low dwords vpmuldq reads.
template <IndexForm kForm>
inline __m512i lut_index(const IndexConsts& k, const RowConsts& row, __m512i x, __m512i x_odd) {
  if constexpr (kForm == IndexForm::kProduct) {  // Eq. 20c: vpmuldq reads the low dword as signed
    const __m512i even = _mm512_srlv_epi64(_mm512_sub_epi64(row.c, _mm512_mul_epi32(x, k.mult)), k.shift);
    const __m512i odd = _mm512_srlv_epi64(_mm512_sub_epi64(row.c, _mm512_mul_epi32(x_odd, k.mult)), k.shift2);
    return _mm512_mask_blend_epi32(0xAAAA, even, odd);
  } else {
    __m512i a = _mm512_min_epu32(_mm512_sub_epi32(row.vmax, x), k.cap);  // max - x >= 0 exactly in uint32
    if constexpr (kForm == IndexForm::kLeft) a = _mm512_sllv_epi32(a, k.left);
    const __m512i even = _mm512_srlv_epi64(_mm512_add_epi64(_mm512_mul_epu32(a, k.mult), k.round), k.shift);
    const __m512i odd = _mm512_srlv_epi64(_mm512_add_epi64(_mm512_mul_epu32(_mm512_srli_epi64(a, 32), k.mult2), k.round2), k.shift2);
    return _mm512_mask_blend_epi32(0xAAAA, even, odd);
  }
}

// The table as three byte planes (bits 0-7, 8-15, 16-23), each 4 registers of 64 entries.
struct Planes {
  __m512i t[3][4];
  __m512i t2_16;           // bits 16-23 of entries 0-15 in each 128-bit lane
  const int32_t* entries;  // the table itself, for the gathers of a row's last logits
};

Planes load_planes(const SoftmaxParams& p) {
  Planes planes;
  planes.entries = p.exp_table;
  for (int q = 0; q < 4; ++q) {
    for (int b = 0; b < 3; ++b) {
      __m128i part[4];
      for (int v = 0; v < 4; ++v) {
        const __m512i entries = _mm512_loadu_si512(p.exp_table + 64 * q + 16 * v);
        part[v] = _mm512_cvtepi32_epi8(_mm512_srli_epi32(entries, 8 * b));  // byte b of 16 entries
      }
      const __m256i lo = _mm256_inserti128_si256(_mm256_castsi128_si256(part[0]), part[1], 1);
      const __m256i hi = _mm256_inserti128_si256(_mm256_castsi128_si256(part[2]), part[3], 1);
      planes.t[b][q] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    }
  }
  planes.t2_16 = _mm512_broadcast_i32x4(_mm512_castsi512_si128(planes.t[2][0]));
  return planes;
}

// 64 table bytes of one plane: bit 7 of the index picks the register pair, bits 0-6 the entry.
inline __m512i lookup(const __m512i t[4], __m512i index, __mmask64 high) {
  const __m512i lo = _mm512_permutex2var_epi8(t[0], index, t[1]);
  const __m512i hi = _mm512_permutex2var_epi8(t[2], index, t[3]);
  return _mm512_mask_blend_epi8(high, lo, hi);
}

// e of 64 logits x[0..63] into e[0..63], added to vsum. kTail: only `valid` of them are in the
// row, in the first kVectors vectors of 16 (the rest of those read as the row max: e(0), stored
// but not summed; the vectors past them are neither computed nor stored).
template <IndexForm kForm, bool kPlane2In16, bool kTail, int kVectors = 4>
inline void exp64(const IndexConsts& k, const Planes& planes, const RowConsts& row, const int32_t* x, size_t valid,
                  bool ends_row, int32_t* e, __m512i& vsum) {
  __m512i idx[4];
  for (int v = 0; v < 4; ++v) {
    const size_t start = 16 * static_cast<size_t>(v);
    if (v >= kVectors) {
      idx[v] = _mm512_setzero_si512();
      continue;
    }
    const size_t in_row = kTail ? (valid > start ? valid - start : 0) : 16;  // logits of this vector in the row
    const __m512i xv = !kTail ? _mm512_loadu_si512(x + start) : _mm512_mask_loadu_epi32(row.vmax, tail_mask16(in_row), x + start);
    // kProduct: x[start + 1 .. start + 15] (the 16th would be past a row ending here; its lane, the
    // high dword of the last qword, is not read), the odd logits in the low dwords without a shift.
    __m512i x_odd = xv;
    if constexpr (kForm == IndexForm::kProduct) {
      // Within the row a plain load (a masked one costs a uop of port 0 or 5); masked where the
      // 16th element would be past the row's end.
      x_odd = !kTail && (v < 3 || !ends_row) ? _mm512_loadu_si512(x + start + 1)
                                             : _mm512_maskz_loadu_epi32(tail_mask16(in_row > 0 ? in_row - 1 : 0), x + start + 1);
    }
    idx[v] = lut_index<kForm>(k, row, xv, x_odd);
  }
  // Signed saturating packs: indices in [0, 2^31) -> int16 [0, 32767] -> uint8 [0, 255], the cap.
  const __m512i w01 = _mm512_packs_epi32(idx[0], idx[1]), w23 = _mm512_packs_epi32(idx[2], idx[3]);
  const __m512i index = _mm512_packus_epi16(w01, w23);  // lane L: idx0[L], idx1[L], idx2[L], idx3[L] (4 each)
  const __mmask64 high = _mm512_movepi8_mask(index);
  const __m512i b0 = lookup(planes.t[0], index, high), b1 = lookup(planes.t[1], index, high);
  // kPlane2In16: entries 16-255 are below 2^16 (make_softmax_params: T[16] = 65,355), so bits
  // 16-23 are a 16-entry vpshufb: + 0x70 with unsigned saturation keeps the low nibble of i < 16
  // and sets bit 7 (vpshufb's zero) for i >= 16. One cycle of port 5 instead of vpermi2b's two.
  const __m512i b2 = kPlane2In16 ? _mm512_shuffle_epi8(planes.t2_16, _mm512_adds_epu8(index, _mm512_set1_epi8(0x70)))
                                : lookup(planes.t[2], index, high);
  const __m512i zero = _mm512_setzero_si512();
  const __m512i w_lo = _mm512_unpacklo_epi8(b0, b1), w_hi = _mm512_unpackhi_epi8(b0, b1);  // bits 0-15
  const __m512i z_lo = _mm512_unpacklo_epi8(b2, zero), z_hi = _mm512_unpackhi_epi8(b2, zero);  // bits 16-23
  const __m512i ev[4] = {_mm512_unpacklo_epi16(w_lo, z_lo), _mm512_unpackhi_epi16(w_lo, z_lo),
                         _mm512_unpacklo_epi16(w_hi, z_hi), _mm512_unpackhi_epi16(w_hi, z_hi)};
  for (int v = 0; v < kVectors; ++v) {
    const size_t start = 16 * static_cast<size_t>(v);
    _mm512_store_si512(e + start, ev[v]);
    vsum = !kTail ? _mm512_add_epi32(vsum, ev[v]) : _mm512_mask_add_epi32(vsum, tail_mask16(valid - start), vsum, ev[v]);
  }
}

// e of a row's last `valid` <= 48 logits by vpgatherdd: a 64-logit step of exp64 costs its 4-6
// two-source byte lookups however few logits it holds, a gather of 16 loads the load ports.
template <IndexForm kForm, int kVectors>
inline void exp_gather(const IndexConsts& k, const Planes& planes, const RowConsts& row, const int32_t* x, size_t valid,
                       int32_t* e, __m512i& vsum) {
  for (int v = 0; v < kVectors; ++v) {
    const size_t start = 16 * static_cast<size_t>(v);
    const size_t in_row = valid > start ? valid - start : 0;
    const __m512i xv = _mm512_mask_loadu_epi32(row.vmax, tail_mask16(in_row), x + start);
    __m512i x_odd = xv;
    if constexpr (kForm == IndexForm::kProduct) {
      x_odd = _mm512_mask_loadu_epi32(row.vmax, tail_mask16(in_row > 0 ? in_row - 1 : 0), x + start + 1);
    }
    const __m512i index = _mm512_min_epu32(lut_index<kForm>(k, row, xv, x_odd), _mm512_set1_epi32(255));
    // At most 8 logits in the row (197 = 3·64 + 5): an 8-lane gather, half the loads (the upper
    // lanes of e are 0, not summed, and their outputs not stored).
    const __m512i ev = in_row <= 8 ? _mm512_zextsi256_si512(_mm256_i32gather_epi32(planes.entries, _mm512_castsi512_si256(index), 4))
                                   : _mm512_i32gather_epi32(index, planes.entries, 4);
    _mm512_store_si512(e + start, ev);
    vsum = _mm512_mask_add_epi32(vsum, tail_mask16(in_row), vsum, ev);
  }
}

// Pass 1 of a row: its max (Eq. 13).
inline int32_t row_max(size_t len, const int32_t* x) {
  __m512i vmax = _mm512_set1_epi32(std::numeric_limits<int32_t>::min());
  size_t j = 0;
  for (; j + 16 <= len; j += 16) vmax = _mm512_max_epi32(vmax, _mm512_loadu_si512(x + j));
  if (j < len) vmax = _mm512_max_epi32(vmax, _mm512_mask_loadu_epi32(vmax, tail_mask16(len - j), x + j));
  return _mm512_reduce_max_epi32(vmax);
}

// What a row's Eq. 20 pass does with the same row of the next group besides its own work.
//   kNone:     nothing (short calls, whose scores sit in L1, and the last group);
//   kPrefetch: one prefetch into L1 per 16 logits, for the next group's max pass, which is the
//              first to read them (a ViT-Ti head's 155 KB of scores come from L2);
//   kMax:      the next row's max itself (Eq. 13) from the loads the prefetches would have been,
//              on rows of kMaxInsideFrom logits or more: one read of the next rows instead of two
//              (four long rows outgrow L1 before their max pass comes), §4.11.
enum class NextRow { kNone, kPrefetch, kMax };

// Pass 2 of a row (Eq. 20): e_j into e_buf[0, len rounded up to 16); returns Σe. (Eq. 21b reads
// 32 at a time: lanes past that are never stored.) `next` is the same row of the next group; kMax
// stores its max in next_max.
template <IndexForm kForm, bool kPlane2In16, NextRow kNext>
int64_t exp_row(const IndexConsts& consts, const Planes& tables, size_t len, const int32_t* x, int32_t max, int32_t* e_buf,
                const int32_t* next, int32_t& next_max) {
  // Local copies: the e_buf stores cannot alias them, so the 12 table and 5 constant registers
  // stay loaded across the loop.
  const IndexConsts k = consts;
  const Planes planes = tables;
  const RowConsts row = row_consts<kForm>(k, max);
  __m512i vsum = _mm512_setzero_si512();  // per lane <= 256 entries < 2^18: no overflow
  __m512i vnext = _mm512_set1_epi32(std::numeric_limits<int32_t>::min());  // kMax: the next row's lane maxes
  size_t j = 0;
  for (; j + 64 <= len; j += 64) {
    if constexpr (kNext == NextRow::kPrefetch) {
      for (int v = 0; v < 4; ++v) _mm_prefetch(reinterpret_cast<const char*>(next + j + 16 * v), _MM_HINT_T0);
    } else if constexpr (kNext == NextRow::kMax) {
      for (int v = 0; v < 4; ++v) vnext = _mm512_max_epi32(vnext, _mm512_loadu_si512(next + j + 16 * v));
    }
    exp64<kForm, kPlane2In16, false>(k, planes, row, x + j, 64, j + 64 == len, e_buf + j, vsum);
  }
  if constexpr (kNext == NextRow::kPrefetch) {
    for (size_t p = j; p < len; p += 16) _mm_prefetch(reinterpret_cast<const char*>(next + p), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(next + len - 1), _MM_HINT_T0);  // the last line of an unaligned row
  } else if constexpr (kNext == NextRow::kMax) {
    size_t p = j;
    for (; p + 16 <= len; p += 16) vnext = _mm512_max_epi32(vnext, _mm512_loadu_si512(next + p));
    if (p < len) vnext = _mm512_max_epi32(vnext, _mm512_mask_loadu_epi32(vnext, tail_mask16(len - p), next + p));
    next_max = _mm512_reduce_max_epi32(vnext);
  }
  if (j < len) {  // the last 1..63 logits: only the vectors that hold some
    const size_t valid = len - j;
    switch ((valid + 15) / 16) {
      case 1: exp_gather<kForm, 1>(k, planes, row, x + j, valid, e_buf + j, vsum); break;
      case 2: exp_gather<kForm, 2>(k, planes, row, x + j, valid, e_buf + j, vsum); break;
      case 3: exp_gather<kForm, 3>(k, planes, row, x + j, valid, e_buf + j, vsum); break;
      default: exp64<kForm, kPlane2In16, true, 4>(k, planes, row, x + j, valid, true, e_buf + j, vsum); break;
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

// 16-bit output, Eq. 21b by Eq. 21c (§4.11), 32 at a time: v = the high dword of e·2F16 (< 2^49,
// vpmuludq on the even lanes and on e_buf read one element later for the odd ones), the high
// dwords of both gathered by one vpermt2d, the unsigned saturating pack to words (v <= 2^16, so
// only v = 2^16 saturates), p16 = (v + 1) >> 1 by vpavgw, and the clamp at 32767; vpermq undoes
// the pack's lane interleave. e_buf holds one readable element past the row (kMaxLen + 64).
void normalise_row(size_t len, int64_t sum, const int32_t* e_buf, uint16_t* y) {
  const uint64_t factor = ((uint64_t{1} << kProb16RecipBits) + sum / 2) / sum;  // F16 <= 2^30
  const __m512i vf2 = _mm512_set1_epi64(static_cast<int64_t>(2 * factor));      // 2·F16 < 2^32
  const __m512i high_dwords = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
  const __m512i unpack_order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
  const __m512i zero = _mm512_setzero_si512(), clamp = _mm512_set1_epi16(kProb16Max);
  auto v16 = [&](const int32_t* e) {  // v of e[0..15] as dwords
    const __m512i even = _mm512_mul_epu32(_mm512_load_si512(e), vf2);
    const __m512i odd = _mm512_mul_epu32(_mm512_loadu_si512(e + 1), vf2);
    return _mm512_permutex2var_epi32(even, high_dwords, odd);
  };
  auto p16 = [&](__m512i v_words) { return _mm512_min_epu16(_mm512_avg_epu16(v_words, zero), clamp); };
  size_t j = 0;
  for (; j + 16 < len; j += 32) {
    const __m512i out = _mm512_permutexvar_epi64(unpack_order, p16(_mm512_packus_epi32(v16(e_buf + j), v16(e_buf + j + 16))));
    if (j + 32 <= len) {
      _mm512_storeu_si512(y + j, out);
    } else {
      _mm512_mask_storeu_epi16(y + j, static_cast<__mmask32>((uint64_t{1} << (len - j)) - 1), out);
    }
  }
  if (j < len) {  // the last 1..16: one vector (the pack's second half unused, its lane order kept)
    const __m512i out = _mm512_permutexvar_epi64(unpack_order, p16(_mm512_packus_epi32(v16(e_buf + j), zero)));
    _mm512_mask_storeu_epi16(y + j, static_cast<__mmask32>((uint64_t{1} << (len - j)) - 1), out);
  }
}

// Rows in groups of kGroup, pass by pass: each row's passes wait on the one before (max -> index
// constants, Σ -> division -> F16), so the group's rows run side by side while a row waits. The
// next group's maxes are taken between this group's Eq. 20 and Eq. 21b passes, or on rows of
// kMaxInsideFrom logits or more inside its Eq. 20 pass.
constexpr size_t kGroup = 4;
constexpr size_t kPrefetchAbove = 32 * 1024;  // bytes of scores in one call (this host's L1D: 48 KB)
constexpr size_t kMaxInsideFrom = 256;  // measured: 1-3 % slower at 160-240 logits, faster from 256

template <IndexForm kForm, bool kPlane2In16, typename Out>
void softmax_rows_lut_form(const IndexConsts& k, const Planes& planes, size_t rows, size_t len, const int32_t* in,
                           size_t ld_in, Out* out, size_t ld_out) {
  alignas(64) int32_t e_buf[kGroup][kMaxLen + 64];
  int32_t max[kGroup];
  auto maxes = [&](size_t row) {  // pass 1 of the group starting at `row`
    for (size_t r = row; r < rows && r < row + kGroup; ++r) max[r - row] = row_max(len, in + r * ld_in);
  };
  maxes(0);
  auto groups = [&]<NextRow kNext>() {  // one loop per kNext: a choice per row cost Swin's 49x49 ~2 %
    for (size_t row = 0; row < rows; row += kGroup) {
      const size_t group = rows - row < kGroup ? rows - row : kGroup;
      int64_t sum[kGroup];
      for (size_t r = 0; r < group; ++r) {
        const int32_t* x = in + (row + r) * ld_in;
        const bool has_next = row + r + kGroup < rows;
        const int32_t* next = in + (has_next ? row + r + kGroup : rows - 1) * ld_in;  // kPrefetch: the last group's in vain
        // max[r] is read (into the row's constants) before the pass overwrites it with the next row's.
        if (kNext != NextRow::kMax || has_next) {
          sum[r] = exp_row<kForm, kPlane2In16, kNext>(k, planes, len, x, max[r], e_buf[r], next, max[r]);
        } else {
          sum[r] = exp_row<kForm, kPlane2In16, NextRow::kNone>(k, planes, len, x, max[r], e_buf[r], next, max[r]);
        }
      }
      // The next group's maxes before this group's Eq. 21b: they wait on no division, and the
      // next Eq. 20 pass finds them ready.
      if constexpr (kNext != NextRow::kMax) maxes(row + kGroup);
      for (size_t r = 0; r < group; ++r) normalise_row(len, sum[r], e_buf[r], out + (row + r) * ld_out);
    }
  };
  // Scores that fit L1 with room to spare (Swin's 49x49 windows: 9.6 KB) are there already; the
  // prefetches would only cost their uops (49x49: 1.30 -> 1.35 us, 64x64: 1.57 -> 1.60 us).
  if (len >= kMaxInsideFrom) return groups.template operator()<NextRow::kMax>();
  if (rows * len * sizeof(int32_t) > kPrefetchAbove) return groups.template operator()<NextRow::kPrefetch>();
  groups.template operator()<NextRow::kNone>();
}

template <typename Out>
void softmax_rows_lut(const SoftmaxParams& p, size_t rows, size_t len, const int32_t* in, size_t ld_in, Out* out,
                      size_t ld_out) {
  const IndexConsts k = index_consts(p);
  const Planes planes = load_planes(p);
  __mmask16 plane2_high = 0;  // entries 16-255 with bits 16-23 set
  for (int q = 1; q < 16; ++q) {
    plane2_high |= _mm512_cmpge_epu32_mask(_mm512_loadu_si512(p.exp_table + 16 * q), _mm512_set1_epi32(1 << 16));
  }
  auto run = [&]<IndexForm kForm>() {
    if (plane2_high == 0) return softmax_rows_lut_form<kForm, true>(k, planes, rows, len, in, ld_in, out, ld_out);
    softmax_rows_lut_form<kForm, false>(k, planes, rows, len, in, ld_in, out, ld_out);
  };
  switch (k.form) {
    case IndexForm::kProduct: return run.template operator()<IndexForm::kProduct>();
    case IndexForm::kLeft: return run.template operator()<IndexForm::kLeft>();
    case IndexForm::kRight: return run.template operator()<IndexForm::kRight>();
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
