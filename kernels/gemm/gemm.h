// Integer matrix products (kernels/QUANTIZATION.md §3) and their requantization epilogue (Eq. 11):
//   linear()          u8 × s8 → s32 (Eq. 8) or s16 × s8 → s32 (Eq. 10) against weights packed once;
//   matmul_u8u8_nt()  u8 × u8 → s32 with two zero-points (Eq. 9), for q@kᵀ and attn@v;
//   requantize()      Eq. 11 on any int32 buffer.
// Every backend (GemmIsa) returns the same bits as the reference (tests/gemm_test.cc, tolerance 0).
// All functions are single-threaded and allocate nothing on the hot path (exceptions: the oneDNN
// backend creates and caches one primitive per shape and thread on first use).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>  // unique_ptr, shared_ptr
#include <string_view>

namespace intvit {

// ---------------------------------------------------------------------------------------------
// Backends and run-time dispatch.

// kAmx: the AMX-INT8 tile kernels (+ the AVX-512 output stage); kAmxEmu: the same kernels on a
// portable emulation of the tile instructions (kernels/gemm/amx-tile.h) — a test vehicle that runs
// on every host, far slower than any SIMD backend.
enum class GemmIsa { kRef, kAvx2, kAvxVnni, kAvx512Vnni, kOneDnn, kAmx, kAmxEmu };
inline constexpr GemmIsa kAllGemmIsas[] = {GemmIsa::kRef,    GemmIsa::kAvx2, GemmIsa::kAvxVnni, GemmIsa::kAvx512Vnni,
                                           GemmIsa::kOneDnn, GemmIsa::kAmx,  GemmIsa::kAmxEmu};

const char* gemm_isa_name(GemmIsa);  // "ref", "avx2", "avxvnni", "avx512vnni", "onednn", "amx", "amx-emu"
// The inverse of gemm_isa_name; throws Error(kInvalidArgument) for an unknown name.
GemmIsa parse_gemm_isa(std::string_view name);
// CPUID says the instructions are there (and, for kOneDnn, oneDNN was compiled in). kRef: always.
bool gemm_isa_supported(GemmIsa);
// The fastest supported native (non-oneDNN, non-emulated) backend: amx > avx512vnni > avxvnni >
// avx2 > ref.
GemmIsa best_native_gemm_isa();
// What the CPU lacks for `isa` (e.g. "AVX512-VNNI"), for skip messages; "" when supported.
const char* gemm_isa_missing_feature(GemmIsa);

// AMX-INT8 for this process (kernels/gemm/amx-support.cc), decided once: CPUID.7.0:EDX AMX-TILE
// (bit 24) and AMX-INT8 (bit 25), XCR0 bits 17/18 (XTILECFG, XTILEDATA) set by the OS, then
// arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) granted and confirmed by ARCH_GET_XCOMP_PERM.
bool amx_usable();
// Why AMX is not used, as one line for intvit-bench / inspect (e.g. "no AMX-INT8: CPUID AMX-TILE/
// AMX-INT8 bits clear"); "" when amx_usable().
const char* amx_unavailable_reason();

// ---------------------------------------------------------------------------------------------
// Output stage.

// Eq. 11 parameters. POD, no float. multiplier must be in [0, 2^31) (Q31; Eq. 7 produces
// [2^30, 2^31) or 0) and shift in [-31, 31]; linear()/requantize() throw Error otherwise.
// The extremes of per-channel multiplier and shift arrays (requant_extremes), for RequantParams.
struct RequantExtremes {
  int32_t min_multiplier = 0, min_shift = 0, max_shift = 0;
};
RequantExtremes requant_extremes(const int32_t* multiplier, const int32_t* shift, size_t n);

struct RequantParams {
  const int32_t* multiplier;  // Q31, [N] if per_channel else [1]
  const int32_t* shift;       // right shift (negative = left), [N] or [1]
  bool per_channel;
  int32_t zero_point;         // output zero-point
  int32_t qmin, qmax;         // clamp bounds within the output type
  // Optional, per_channel only: requant_extremes of all N channels, for callers that reuse the
  // arrays (a model's linears): the output stage then takes its plan from them instead of scanning
  // the column range on every call (a column range gets the whole arrays' plan: as exact, at most
  // less specialised). Must match the arrays.
  const RequantExtremes* extremes = nullptr;
};

enum class GemmOut { kU8, kS16, kS32 };

// Where and how results are stored. Element (m, n) lives at data[m * ld + n], n being the absolute
// output column (also for the n-range overload). With requant == nullptr the raw int32
// accumulators are stored (type must be kS32). accumulate (kS32 only): out = sat_s32(out + value),
// value being the (requantized and clamped, or raw) result — the int32 residual stream.
// byte_table (kU8 with requant only): each stored code q becomes byte_table[q] (256 entries) — a
// u8 → u8 op such as the 8-bit GELU folded into the output stage (QUANTIZATION.md §3.6, Eq. 11c).
struct GemmOutput {
  void* data;
  size_t ld;                     // in elements
  GemmOut type;
  const RequantParams* requant;  // nullptr => raw int32 accumulators
  bool accumulate = false;
  const uint8_t* byte_table = nullptr;  // [256] or nullptr
};

// ---------------------------------------------------------------------------------------------
// Packed weights.

enum class GemmInput { kU8, kS16 };

// Where a packed kernel finds its operands. The layout belongs to kernel_isa: weight element
// (n, k) is at block n / nr, offset ((k / kr) * nr + n % nr) * kr + k % kr inside the block
// (zero-padded to k_padded and whole blocks); the reference uses nr = kr = 1, i.e. plain [N][K].
struct PackedLayout {
  GemmIsa kernel_isa = GemmIsa::kRef;
  uint32_t nr = 1, kr = 1;       // channels per block, k values interleaved per channel
  uint32_t element_bytes = 1;    // 1: int8 weights, 2: weights widened to int16
  size_t k_padded = 0;           // k rounded up to kr
  size_t block_stride = 0;       // bytes from one block to the next = nr * k_padded * element_bytes
  const void* weights = nullptr;
  const int32_t* bias_eff = nullptr;  // [n rounded up to 64]: Eq. 8 bracket (u8) or bias (s16); pad 0
  const int32_t* bias = nullptr;      // [n] the bias as given (zeros if none)
  const int8_t* plain = nullptr;      // [N][K] row-major copy (reference layout; kRef and kOneDnn)
  int32_t a_zero_point = 0;
  const void* backend = nullptr;      // oneDNN state (opaque), nullptr otherwise
};

// Weights [N][K] int8 (row n = output channel), packed once at load time for one backend.
class PackedWeights {
 public:
  PackedWeights();
  ~PackedWeights();
  PackedWeights(PackedWeights&&) noexcept;
  PackedWeights& operator=(PackedWeights&&) noexcept;
  PackedWeights(const PackedWeights&) = delete;
  PackedWeights& operator=(const PackedWeights&) = delete;

  // Precomputes the effective bias of Eq. 8 (bias[n] − a_zero_point·Σ_k W[n,k], int32 modulo 2^32)
  // for u8 activations, or keeps bias as-is for s16 ones (Eq. 10; a_zero_point must be 0).
  // Throws Error(kUnsupported) if !gemm_isa_supported(isa), Error(kInvalidArgument) for k == 0,
  // n == 0, a zero-point outside [0, 255], or u8 with k > 66000 (Eq. 8 exactness bound).
  static PackedWeights pack(GemmIsa isa, GemmInput input, const int8_t* w, size_t n, size_t k,
                            const int32_t* bias /*[n] or nullptr*/, int32_t a_zero_point /*0 for s16*/);

  size_t n() const { return n_; }
  size_t k() const { return k_; }
  GemmIsa isa() const { return isa_; }        // as requested
  GemmInput input() const { return input_; }
  // max over channels n of |acc[n]| for any A in the input's range (u8: [0, 255], s16: [-32768, 32767]):
  // |bias_eff[n] + Σ_k a_k·W[n,k]| in exact integers (QUANTIZATION.md §3.5, the exact left shift).
  uint64_t acc_bound() const { return acc_bound_; }
  // The backend that actually runs: isa() except for kOneDnn with s16 input (oneDNN has no
  // s16 × s8 matmul), which falls back to best_native_gemm_isa().
  GemmIsa kernel_isa() const { return layout_.kernel_isa; }
  const PackedLayout& layout() const { return layout_; }
  bool empty() const { return storage_ == nullptr; }

 private:
  struct Free {
    void operator()(void* p) const;
  };
  size_t n_ = 0, k_ = 0;
  uint64_t acc_bound_ = UINT64_MAX;
  GemmIsa isa_ = GemmIsa::kRef;
  GemmInput input_ = GemmInput::kU8;
  PackedLayout layout_;
  std::unique_ptr<void, Free> storage_;
  std::shared_ptr<void> backend_;  // oneDNN state (type-erased deleter); never shared between objects

  friend struct PackedWeightsAccess;
};

// ---------------------------------------------------------------------------------------------
// Products.

// C[m, n] for rows [0, m) of A (uint8 or int16 per w.input(); lda in elements, >= k) and output
// columns [n_begin, n_end) (default: all). Single-threaded: the caller splits rows and/or column
// ranges across threads. Nothing is allocated, except by the oneDNN backend: its first call per
// (shape, thread) creates and caches a primitive and an int32 scratch buffer.
void linear(const PackedWeights& w, size_t m, const void* a, size_t lda, const GemmOutput& out);
void linear(const PackedWeights& w, size_t m, const void* a, size_t lda, const GemmOutput& out,
            size_t n_begin, size_t n_end);

// Whether linear() on these weights applies GemmOutput::byte_table inside its output stage, on the
// bytes in registers (the reference; u8 × s8 on a CPU with AVX512-VBMI: vpermi2b, in the
// avx512vnni tiles and in the amx block stage — amx-emu too where its output stage is AVX-512).
// Elsewhere linear() still honours the table, bit for bit, by a separate pass over the output
// after the GEMM — no faster than running the u8 → u8 op on its own.
bool linear_fuses_byte_table(const PackedWeights& w);

// Eq. 9: C[m, n] = Σ_k (A[m,k] − za)(B[n,k] − zb), raw int32, exact for k <= 33000 (larger k
// throws). B is [N][K] (the "nt" layout: q@kᵀ passes k as-is; attn@v passes v transposed).
// kOneDnn runs best_native_gemm_isa() (oneDNN's int8 matmul has no u8 weights).
void matmul_u8u8_nt(GemmIsa isa, size_t m, size_t n, size_t k, const uint8_t* a, size_t lda,
                    int32_t za, const uint8_t* b, size_t ldb, int32_t zb, int32_t* c, size_t ldc);

// Eq. 9 plus an int32 addend D [m][n] (leading dimension ldd): C[m, n] = D[m, n] + Eq. 9, modulo
// 2^32 like Eq. 9's expansion, so exact whenever the true sum fits int32 (Swin's q@kᵀ plus its
// relative-position bias, Eq. 42: |D| <= 2^28). The AVX-512 VNNI backend starts its tiles from D
// (no pass after the product); the others add D after matmul_u8u8_nt. D must not overlap C
// (Error(kInvalidArgument)); otherwise the same checks as matmul_u8u8_nt.
void matmul_u8u8_nt_add(GemmIsa isa, size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, int32_t za,
                        const uint8_t* b, size_t ldb, int32_t zb, const int32_t* d, size_t ldd, int32_t* c, size_t ldc);

// Eq. 11 alone: out[i][j] = clamp(zp + MBQM(acc[i][j], M[j], shift[j])) for i < m, j < n, stored
// per out.type / out.accumulate (out.requant is ignored; `params` is used), through
// out.byte_table if set (Eq. 11c, as a pass after the stage). kOneDnn runs best_native_gemm_isa().
void requantize(GemmIsa isa, size_t m, size_t n, const int32_t* acc, size_t ld_acc,
                const RequantParams& params, const GemmOutput& out);

}  // namespace intvit
