// The stored LayerNorm / softmax / GELU kernel parameters of a version-2 model file (FORMAT.md),
// read and range-checked in integers: nothing here derives a parameter from a scale.
#include "weights/nonlinear_params_reader.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/layernorm/layernorm-row.h"
#include "weights/int_model_reader.h"

namespace intvit {
namespace {

constexpr int64_t kQ31Min = int64_t{1} << 30, kI32Max = INT32_MAX;

// A Q31 multiplier (Eq. 7): 0 or in [2^30, 2^31), with its shift in [-31, 31].
void read_multiplier(const GraphJson& j, const char* mult_key, const char* shift_key, const std::string& where,
                     int32_t& multiplier, int32_t& shift) {
  multiplier = static_cast<int32_t>(j.integer(mult_key, 0, kI32Max, where));
  check_model(multiplier == 0 || multiplier >= kQ31Min, where + "." + mult_key + " outside {0} ∪ [2^30, 2^31)");
  shift = static_cast<int32_t>(j.integer(shift_key, -31, 31, where));
}

}  // namespace

LayerNormParams read_layernorm_params(const SafeTensorsFile& file, const GraphJson& desc, const std::string& name,
                                      size_t channels, const ActQuant& out) {
  using namespace layernorm_detail;
  check_model(channels >= 1 && channels <= static_cast<size_t>(kMaxChannels), name + ": channels outside [1, 4096]");
  LayerNormParams p;
  p.channels = channels;
  p.uint8_input = false;  // the model's LayerNorms read the int32 residual (zero-point 0)
  p.in_zero_point = 0;
  p.out_bits = out.bits;
  p.out_zero_point = out.zero_point;
  p.out_min = out.bits == 8 ? 0 : -32768;
  p.out_max = out.bits == 8 ? 255 : 32767;
  // Eq. 36: ε/s_in² = eps_mantissa·2^eps_exponent, mantissa 0 or in [2^30, 2^31).
  p.eps_mantissa = static_cast<int32_t>(desc.integer("eps_mantissa", 0, kI32Max, name));
  check_model(p.eps_mantissa == 0 || p.eps_mantissa >= kQ31Min, name + ".eps_mantissa outside {0} ∪ [2^30, 2^31)");
  p.eps_exponent = static_cast<int32_t>(desc.integer("eps_exponent", -1200, 1100, name));
  // Eq. 34: s_max in [-31, 22] with C·ε'(s_max) <= 2^60 (so V' < 2^61 for every row).
  p.max_pre_shift = static_cast<int32_t>(desc.integer("max_pre_shift", -31, kNormBits - 1, name));
  check_model(scaled_eps(p, p.max_pre_shift) <= (int64_t{1} << 60) / static_cast<int64_t>(channels),
              name + ".max_pre_shift: C·eps' exceeds 2^60");
  const auto n = static_cast<int64_t>(channels);
  // Eq. 39: |G_c| < 2^31, h_c in [0, 40], |H_c| <= 2^62 keep t·G_c + H_c inside int64.
  p.gamma_multiplier = read_model_tensor<int32_t>(file, name + ".gamma_multiplier", {n});
  p.out_shift = read_model_tensor<uint8_t>(file, name + ".out_shift", {n});
  p.beta_bias = read_model_tensor<int64_t>(file, name + ".beta_bias", {n});
  for (size_t c = 0; c < channels; ++c) {
    if (p.gamma_multiplier[c] == INT32_MIN || p.out_shift[c] > kMaxOutShift || p.beta_bias[c] > (int64_t{1} << 62) ||
        p.beta_bias[c] < -(int64_t{1} << 62)) {
      corrupt_model(name + ": channel " + std::to_string(c) +
                    " has gamma_multiplier -2^31, out_shift > 40 or |beta_bias| > 2^62");
    }
  }
  return p;
}

SoftmaxParams read_softmax_params(const SafeTensorsFile& file, const GraphJson& block, const std::string& name,
                                  SoftmaxMode mode, int attn_bits, bool renormalize) {
  using namespace softmax_detail;
  const std::string where = name + ".softmax_params";
  const GraphJson j = block.at("softmax_params");
  SoftmaxParams p;
  p.mode = mode;
  p.out_bits = attn_bits;
  const bool log2 = mode == SoftmaxMode::kLog2;
  const int32_t max_code = log2 ? (1 << attn_bits) - 1 : (attn_bits == 16 ? kProb16Max : 255);
  p.max_code = static_cast<int32_t>(j.integer("max_code", max_code, max_code, where));
  read_multiplier(j, "in_multiplier", "in_shift", where, p.in_multiplier, p.in_shift);
  p.renormalize = renormalize ? 1 : 0;
  const bool poly = mode == SoftmaxMode::kIexp || log2;
  // Eq. 16-17 on r in (-2^14, 0]: z = r·(r + B) + C must stay in [0, 2^31) (int32, no overflow)
  // and e(0) = round(C/2^13) >= 2^17 (every row's Σ >= 2^17, Eq. 21b); B in [0, 2^16] keeps
  // r·(r + B) inside int32. The other modes do not read B, C: they must be 0.
  p.poly_b = static_cast<int32_t>(j.integer("poly_b", 0, poly ? 1 << 16 : 0, where));
  p.poly_c = static_cast<int32_t>(j.integer("poly_c", poly ? 1 << 30 : 0, poly ? kI32Max : 0, where));
  if (poly) {
    const int64_t b = p.poly_b, c = p.poly_c, r_min = -((int64_t{1} << kIexpFracBits) - 1);
    const int64_t vertex = std::clamp<int64_t>(-b / 2, r_min, 0);
    for (int64_t r : {r_min, int64_t{0}, vertex, std::max(vertex - 1, r_min)}) {
      const int64_t z = r * (r + b) + c;
      check_model(z >= 0 && z <= kI32Max, where + ": poly_b/poly_c give z outside [0, 2^31) (Eq. 16)");
    }
  }
  // Eq. 20: T[i] in [0, 2^18), T[0] >= 2^17 (e(0)); stored only for the lut mode.
  const std::string table_name = name + ".softmax_exp_table";
  if (mode == SoftmaxMode::kLut) {
    const std::vector<int32_t> t = read_model_tensor<int32_t>(file, table_name, {256});
    check_model(t[0] >= (1 << 17), table_name + "[0] below 2^17");
    for (size_t i = 0; i < t.size(); ++i) {
      check_model(t[i] >= 0 && t[i] < (1 << 18), table_name + "[" + std::to_string(i) + "] outside [0, 2^18)");
    }
    std::memcpy(p.exp_table, t.data(), sizeof p.exp_table);
  } else {
    check_model(file.find(table_name) == nullptr, table_name + " is stored but the softmax mode has no table");
  }
  return p;
}

GeluParams read_gelu_params(const SafeTensorsFile& file, const GraphJson& block, const std::string& name, GeluMode mode,
                            const ActQuant& in, const ActQuant& out) {
  using namespace gelu_detail;
  const std::string where = name + ".gelu_params";
  const GraphJson j = block.at("gelu_params");
  GeluParams p;
  p.mode = mode;
  p.bits = in.bits;
  p.in_zero_point = in.zero_point;
  p.out_zero_point = out.zero_point;
  p.out_min = in.bits == 8 ? 0 : -32768;
  p.out_max = in.bits == 8 ? 255 : 32767;
  const bool lut = mode == GeluMode::kLut;
  if (lut) {
    // No arithmetic: the multipliers and the clip must be 0.
    for (const char* key : {"pre_multiplier", "pre_shift", "erf_clip", "out_multiplier", "out_shift"}) {
      (void)j.integer(key, 0, 0, where);
    }
  } else {
    read_multiplier(j, "pre_multiplier", "pre_shift", where, p.pre_multiplier, p.pre_shift);
    read_multiplier(j, "out_multiplier", "out_shift", where, p.out_multiplier, p.out_shift);
    // Eq. 25-27: B <= 2^14 keeps (|w| - B)² <= 2^28, so 1 + erf stays in [0, 2^15] and x·(1 + erf)
    // inside int32 for |x| <= 65535.
    p.erf_clip = static_cast<int32_t>(j.integer("erf_clip", 0, mode == GeluMode::kIgelu ? 1 << 14 : 0, where));
  }
  // kLut: one output code per input code (8-bit: 256; 16-bit: 65536 + one padding entry), each
  // inside the output type.
  const std::string table_name = name + ".gelu_table";
  if (lut) {
    const int64_t count = in.bits == 8 ? 256 : 65537;
    p.table = read_model_tensor<int16_t>(file, table_name, {count});
    for (size_t i = 0; i < p.table.size(); ++i) {
      check_model(p.table[i] >= p.out_min && p.table[i] <= p.out_max,
                  table_name + "[" + std::to_string(i) + "] = " + std::to_string(p.table[i]) + " outside the output type");
    }
  } else {
    check_model(file.find(table_name) == nullptr, table_name + " is stored but the GELU mode has no table");
  }
  return p;
}

}  // namespace intvit
