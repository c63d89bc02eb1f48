// PackedWeights::pack: the effective bias of Eq. 8 and the per-ISA weight layouts (gemm.h PackedLayout).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>

#include "kernels/error.h"
#include "kernels/gemm/gemm-kernels.h"

namespace intvit {
namespace {

size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }

// The register layout each kernel reads (see the kernel files): channels per block × k interleave.
PackedLayout layout_for(GemmIsa kernel_isa, GemmInput input) {
  PackedLayout l;
  l.kernel_isa = kernel_isa;
  const bool s16 = input == GemmInput::kS16;
  switch (kernel_isa) {
    case GemmIsa::kRef:
    case GemmIsa::kOneDnn: l.nr = 1; l.kr = 1; l.element_bytes = 1; break;
    case GemmIsa::kAvx2: l.nr = 8; l.kr = 2; l.element_bytes = 2; break;  // vpmaddwd on widened pairs
    case GemmIsa::kAvxVnni: l.nr = 8; l.kr = s16 ? 2 : 4; l.element_bytes = s16 ? 2 : 1; break;
    case GemmIsa::kAvx512Vnni: l.nr = 16; l.kr = s16 ? 2 : 4; l.element_bytes = s16 ? 2 : 1; break;
    // AMX: one 16-channel block per B tile column, VNNI-4 rows (k / 4); the s16 split multiplies
    // the same int8 weights twice (Eq. 12). K is padded to a whole tile depth of 64 (k_padded).
    case GemmIsa::kAmx:
    case GemmIsa::kAmxEmu: l.nr = 16; l.kr = 4; l.element_bytes = 1; break;
  }
  return l;
}

template <typename T>
void pack_blocked(const int8_t* w, size_t n, size_t k, const PackedLayout& l, T* dst) {
  const size_t blocks = round_up(n, l.nr) / l.nr;
  std::memset(static_cast<void*>(dst), 0, blocks * l.block_stride);
  for (size_t c = 0; c < n; ++c) {
    T* block = dst + (c / l.nr) * (l.block_stride / sizeof(T));
    for (size_t p = 0; p < k; ++p) {
      block[((p / l.kr) * l.nr + c % l.nr) * l.kr + p % l.kr] = static_cast<T>(w[c * k + p]);
    }
  }
}

}  // namespace

void PackedWeights::Free::operator()(void* p) const { std::free(p); }

PackedWeights::PackedWeights() = default;
PackedWeights::~PackedWeights() = default;
PackedWeights::PackedWeights(PackedWeights&&) noexcept = default;
PackedWeights& PackedWeights::operator=(PackedWeights&&) noexcept = default;

PackedWeights PackedWeights::pack(GemmIsa isa, GemmInput input, const int8_t* w, size_t n, size_t k,
                                  const int32_t* bias, int32_t a_zero_point) {
  if (!gemm_isa_supported(isa)) {
    throw Error(ErrorCode::kUnsupported, std::string("gemm: backend ") + gemm_isa_name(isa) +
                                             " is not supported here (" + gemm_isa_missing_feature(isa) + ")");
  }
  if (n == 0 || k == 0 || w == nullptr) throw Error(ErrorCode::kInvalidArgument, "gemm: pack needs n, k > 0 and weights");
  if (input == GemmInput::kU8 && (a_zero_point < 0 || a_zero_point > 255)) {
    throw Error(ErrorCode::kInvalidArgument, "gemm: u8 activation zero-point must be in [0, 255]");
  }
  if (input == GemmInput::kS16 && a_zero_point != 0) {
    throw Error(ErrorCode::kInvalidArgument, "gemm: s16 activations are symmetric (zero-point 0, Eq. 10)");
  }
  if (input == GemmInput::kU8 && k > 66000) {
    throw Error(ErrorCode::kInvalidArgument, "gemm: k > 66000 breaks the int32 bound of Eq. 8");
  }

  // oneDNN has no s16 × s8 matmul: such weights run (and are packed for) the best native kernel.
  GemmIsa kernel_isa = isa;
  if (isa == GemmIsa::kOneDnn && input == GemmInput::kS16) kernel_isa = best_native_gemm_isa();

  PackedWeights p;
  p.n_ = n;
  p.k_ = k;
  p.isa_ = isa;
  p.input_ = input;
  PackedLayout l = layout_for(kernel_isa, input);
  const bool amx = kernel_isa == GemmIsa::kAmx || kernel_isa == GemmIsa::kAmxEmu;
  l.k_padded = round_up(k, amx ? 64 : l.kr);
  l.block_stride = size_t{l.nr} * l.k_padded * l.element_bytes;
  l.a_zero_point = a_zero_point;
  const bool keep_plain = kernel_isa == GemmIsa::kRef || kernel_isa == GemmIsa::kOneDnn;

  // One 64-byte aligned allocation: bias[n] | bias_eff[n up to 64] | plain [N][K] | blocked weights.
  const size_t bias_bytes = round_up(n * 4, 64);
  const size_t bias_eff_bytes = round_up(n, 64) * 4;
  const size_t plain_bytes = keep_plain ? round_up(n * k, 64) : 0;
  const size_t blocked_bytes = keep_plain ? 0 : round_up(round_up(n, l.nr) / l.nr * l.block_stride, 64);
  const size_t total = bias_bytes + bias_eff_bytes + plain_bytes + blocked_bytes;
  p.storage_.reset(std::aligned_alloc(64, total));
  if (!p.storage_) throw Error(ErrorCode::kOutOfMemory, "gemm: cannot allocate packed weights");
  auto* base = static_cast<std::byte*>(p.storage_.get());
  auto* bias_copy = reinterpret_cast<int32_t*>(base);
  auto* bias_eff = reinterpret_cast<int32_t*>(base + bias_bytes);
  std::byte* rest = base + bias_bytes + bias_eff_bytes;

  std::memset(bias_eff, 0, bias_eff_bytes);
  uint64_t acc_bound = 0;
  for (size_t c = 0; c < n; ++c) {
    bias_copy[c] = bias ? bias[c] : 0;
    // (Eq. 8) bias_eff[n] = bias[n] − z_a · Σ_k W[n,k], modulo 2^32 like every accumulator.
    int64_t positive = 0, negative = 0;  // Σ of the positive / negative weights of the channel
    for (size_t q = 0; q < k; ++q) (w[c * k + q] > 0 ? positive : negative) += w[c * k + q];
    const int64_t start = int64_t{bias_copy[c]} - int64_t{a_zero_point} * (positive + negative);
    bias_eff[c] = static_cast<int32_t>(static_cast<uint32_t>(start));
    // The accumulator's exact range over every A, in int64 (|start| < 2^33, |Σ a·w| ≤ 2^22·k).
    const int64_t a_max = input == GemmInput::kU8 ? 255 : 32767, a_min = input == GemmInput::kU8 ? 0 : -32768;
    const int64_t hi = start + a_max * positive + a_min * negative, lo = start + a_min * positive + a_max * negative;
    acc_bound = std::max<uint64_t>(acc_bound, static_cast<uint64_t>(std::max(hi < 0 ? -hi : hi, lo < 0 ? -lo : lo)));
  }
  p.acc_bound_ = acc_bound;
  l.bias = bias_copy;
  l.bias_eff = bias_eff;
  if (keep_plain) {
    std::memcpy(rest, w, n * k);
    l.plain = reinterpret_cast<const int8_t*>(rest);
    l.weights = rest;
  } else {
    if (l.element_bytes == 1) {
      pack_blocked(w, n, k, l, reinterpret_cast<int8_t*>(rest));
    } else {
      pack_blocked(w, n, k, l, reinterpret_cast<int16_t*>(rest));
    }
    l.weights = rest;
  }
#if INTVIT_WITH_ONEDNN
  if (kernel_isa == GemmIsa::kOneDnn) {
    p.backend_ = std::shared_ptr<void>(gemm::onednn_prepare_weights(l.plain, n, k), &gemm::onednn_destroy_weights);
    l.backend = p.backend_.get();
  }
#endif
  p.layout_ = l;
  return p;
}

}  // namespace intvit
