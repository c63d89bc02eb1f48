// intvit-bench kernels: GOPS (2·M·N·K / s) of every GEMM backend on the ViT-Ti and DeiT-S shapes,
// on 1 and 2 threads (rows split between threads, as the executor does), next to the measured
// vpdpbusd and tdpbusd (AMX) peaks; --json prints the same table as one JSON object instead.
// Each entry is the best of repeated calls within --seconds (other processes share this machine;
// the best run is the least disturbed one). Linear layers: u8 × s8 → u8 with
// per-channel requantization (Eq. 8 + Eq. 11); the "+res" rows are proj and fc2 as the model runs
// them: requantized to int32 and added into the residual stream (saturating), with a left shift
// on half of the channels (ViT-Ti's fc2 has left shifts in 9 of 12 blocks) — their output stage
// costs more than the u8 one; attention: u8 × u8 → s32 (Eq. 9), per head.
// The rows after the GEMMs time one call of the backend's KernelSet on one head / one LayerNorm:
// attn@v16 (Eq. 23b, 16-bit probabilities × u8 v, in GOPS), attn@v16->u8 (Eq. 23c: the fused
// kernel the engine runs, v token-major and the requantization to u8, in GOPS), softmax16 (lut, Eq. 21b) and
// LayerNorm (Eq. 33-39) on ViT-Ti-like data, in microseconds per call (JSON: "us").
// --clock adds, per backend, the core clock while each kernel runs over the clock while the peak
// loop of the host's multiply instruction runs (1 thread, median of alternating readings): kernels
// whose power makes the core slow down show below 1, and in a forward the clock follows the lowest
// (it recovers over milliseconds). On the VNNI Xeon LayerNorm and the VBMI softmax read ~0.9.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/amx_driver_cost.h"
#include "bench/machine.h"
#include "kernels/backend/backend.h"
#include "kernels/error.h"
#include "kernels/gemm/gemm.h"

double measure_vpdpbusd_peak_gops(double seconds);         // vnni_peak-avx512vnni.cc
double measure_tdpbusd_peak_gops(double seconds);          // tdpbusd_peak-amx.cc
double measure_vpmaddwd_vpaddd_peak_gops(double seconds);  // vpmaddwd_peak-avx2.cc

namespace {

using intvit::GemmIsa;

struct Options {
  double seconds = 0.3;
  std::vector<int> threads = {1, 2};
  std::vector<GemmIsa> isas;  // default: every supported backend except the (slow) ref and amx-emu
  bool json = false;
  bool clock = false;  // --clock: the core clock per kernel (clock_ratio)
  std::string filter;  // --shapes: only rows whose label contains this
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const size_t end = comma == std::string::npos ? s.size() : comma;
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw intvit::Error(intvit::ErrorCode::kInvalidArgument, arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--seconds") {
      o.seconds = std::atof(value().c_str());
    } else if (arg == "--threads") {
      o.threads.clear();
      for (const auto& t : split(value())) o.threads.push_back(std::max(1, std::atoi(t.c_str())));
    } else if (arg == "--shapes") {
      o.filter = value();
    } else if (arg == "--json") {
      o.json = true;
    } else if (arg == "--clock") {
      o.clock = true;
    } else if (arg == "--isa") {
      for (const auto& name : split(value())) o.isas.push_back(intvit::parse_gemm_isa(name));
    } else {
      throw intvit::Error(intvit::ErrorCode::kInvalidArgument, "unknown option " + arg);
    }
  }
  if (o.isas.empty()) {
    for (GemmIsa isa : intvit::kAllGemmIsas) {
      const bool slow = isa == GemmIsa::kRef || isa == GemmIsa::kAmxEmu;
      if (!slow && intvit::gemm_isa_supported(isa)) o.isas.push_back(isa);
    }
  }
  return o;
}

// Runs fn(thread_index) on `count` threads: the caller plus count − 1 workers that spin (and yield
// the core after a while, which matters when other processes share the machine) while this pool
// exists, so that a call costs no wake-up latency.
class SpinPool {
 public:
  explicit SpinPool(int count) : count_(count) {
    for (int t = 1; t < count; ++t) {
      workers_.emplace_back([this, t] {
        uint64_t seen = 0;
        while (true) {
          uint64_t g;
          for (int spins = 0; (g = generation_.load(std::memory_order_acquire)) == seen; ++spins) relax(spins);
          seen = g;
          if (stop_.load(std::memory_order_relaxed)) return;
          job_(job_ctx_, t);
          done_.fetch_add(1, std::memory_order_acq_rel);
        }
      });
    }
  }
  ~SpinPool() {
    stop_.store(true);
    generation_.fetch_add(1, std::memory_order_release);
    for (auto& w : workers_) w.join();
  }
  template <typename Fn>
  void run(Fn& fn) {
    job_ctx_ = &fn;
    job_ = [](void* ctx, int t) { (*static_cast<Fn*>(ctx))(t); };
    done_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    fn(0);
    for (int spins = 0; done_.load(std::memory_order_acquire) != count_ - 1; ++spins) relax(spins);
  }

 private:
  static void relax(int spins) {
    if (spins < 4096) {
      __builtin_ia32_pause();
    } else {
      std::this_thread::yield();
    }
  }
  int count_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> done_{0};
  std::atomic<bool> stop_{false};
  void (*job_)(void*, int) = nullptr;
  void* job_ctx_ = nullptr;
};

// Rows [begin, end) of thread t of `threads`, split on multiples of 4 (the kernels' row tile).
std::pair<size_t, size_t> rows_of(size_t m, int t, int threads) {
  const size_t tiles = (m + 3) / 4;
  const size_t b = tiles * t / threads * 4, e = tiles * (t + 1) / threads * 4;
  return {std::min(b, m), std::min(e, m)};
}

// kLinearResidual: u8 × s8 → s32 accumulated into the output (the residual stream); kU8U8: u8 × u8 (Eq. 9); kAv16: 16-bit probabilities × u8 (Eq. 23b); kAv16U8: the
// same product on v token-major, requantized to u8 (Eq. 23c, av16_u8); kSoftmax16: m rows of n
// scores (k unused); kLayerNorm: m rows of n int32 residuals (k unused).
enum class Op { kLinear, kLinearResidual, kU8U8, kAv16, kAv16U8, kSoftmax16, kLayerNorm };

// attn@v16->u8 as ViT-Ti runs it (engine/int_executor.cc): v is the v projection's output, token-major
// with all 3 heads' 192 columns (the head at column 64), the output written into attn.out's 192
// columns at the same offset; v's zero-point and attn_out's Eq. 11 parameters are those of block 0
// of the quantized ViT-Ti (vit-ti-v2: 16-bit probabilities, lut softmax).
constexpr size_t kAvRowStride = 192, kAvHeadColumn = 64;
constexpr int32_t kAvVZeroPoint = 119;                                // v_out.zero_point
constexpr intvit::Av16Requant kAvRequant{1163280654, 14, 118};       // attn_out_multiplier, _shift, attn_out.zero_point

struct Shape {
  std::string label;
  size_t m, k, n;
  Op op;
  bool gemm() const { return op == Op::kLinear || op == Op::kLinearResidual || op == Op::kU8U8 || op == Op::kAv16 || op == Op::kAv16U8; }
};

std::vector<Shape> shapes() {
  std::vector<Shape> s;
  struct Model { const char* name; size_t d; };
  for (const Model& model : {Model{"vit-ti", 192}, Model{"deit-s", 384}}) {
    const size_t d = model.d;
    for (size_t m : {197, 1576}) {
      const std::string p = std::string(model.name) + " ";
      s.push_back({p + "qkv", m, d, 3 * d, Op::kLinear});
      s.push_back({p + "proj", m, d, d, Op::kLinear});
      s.push_back({p + "fc1", m, d, 4 * d, Op::kLinear});
      s.push_back({p + "fc2", m, 4 * d, d, Op::kLinear});
      s.push_back({p + "proj+res", m, d, d, Op::kLinearResidual});
      s.push_back({p + "fc2+res", m, 4 * d, d, Op::kLinearResidual});
    }
  }
  s.push_back({"head q@k^T", 197, 64, 197, Op::kU8U8});
  s.push_back({"head attn@v", 197, 197, 64, Op::kU8U8});
  s.push_back({"head attn@v16", 197, 197, 64, Op::kAv16});
  s.push_back({"head attn@v16->u8", 197, 197, 64, Op::kAv16U8});
  s.push_back({"head softmax16 us", 197, 0, 197, Op::kSoftmax16});
  s.push_back({"layernorm us", 197, 0, 192, Op::kLayerNorm});
  return s;
}

// The operands of one shape, shared by every backend.
struct ShapeData {
  explicit ShapeData(const Shape& sh) : shape(sh) {
    std::mt19937 rng(1);
    a.resize(sh.m * sh.k);
    for (auto& v : a) v = static_cast<uint8_t>(rng());
    if (sh.op == Op::kAv16 || sh.op == Op::kAv16U8 || sh.op == Op::kSoftmax16) {
      // Scores like ViT-Ti's q@kᵀ (s_in ≈ 2.75e-4, logits of σ ≈ 2.5) and their 16-bit softmax.
      const size_t len = sh.op == Op::kSoftmax16 ? sh.n : sh.k;
      softmax = intvit::make_softmax_params(intvit::SoftmaxMode::kLut, 2.75e-4, 16);
      std::normal_distribution<double> logit(0, 9000);
      scores.resize(sh.m * len);
      for (auto& v : scores) v = static_cast<int32_t>(logit(rng));
      probs.resize(sh.m * len);
      intvit::softmax_rows16_ref(softmax, sh.m, len, scores.data(), len, probs.data(), len);
      b.resize(sh.op == Op::kAv16U8 ? sh.k * kAvRowStride : sh.n * sh.k);  // av16_u8: v token-major, all heads
      for (auto& v : b) v = static_cast<uint8_t>(rng());
    } else if (sh.op == Op::kLayerNorm) {
      // Residual rows like ViT-Ti's: |x| up to ~2^14, one outlier channel (QUANTIZATION.md §6.4).
      std::normal_distribution<double> x(0, 600);
      residual.resize(sh.m * sh.n);
      for (size_t i = 0; i < residual.size(); ++i) residual[i] = static_cast<int32_t>(i % sh.n == 7 ? -12000 + x(rng) : x(rng));
      std::vector<float> gamma(sh.n), beta(sh.n);
      std::normal_distribution<float> g(1.0f, 0.3f), bb(0.0f, 0.2f);
      for (size_t c = 0; c < sh.n; ++c) gamma[c] = g(rng), beta[c] = bb(rng);
      norm = intvit::make_layernorm_params(gamma.data(), beta.data(), sh.n, 1e-6, 1e-3, nullptr, 0, 0.05, 128, 8);
    } else if (sh.op == Op::kU8U8) {
      b.resize(sh.n * sh.k);
      for (auto& v : b) v = static_cast<uint8_t>(rng());
    } else {
      w.resize(sh.n * sh.k);
      for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
      bias.resize(sh.n), mult.resize(sh.n), shift.assign(sh.n, 10);
      for (size_t i = 0; i < sh.n; ++i) {
        bias[i] = static_cast<int32_t>(rng() % 20001) - 10000;
        mult[i] = (1 << 30) + static_cast<int32_t>(rng() % (1 << 30));
        if (sh.op == Op::kLinearResidual) shift[i] = i % 2 == 0 ? -1 : 9;  // int32 residual units: some left shifts
      }
    }
  }
  Shape shape;
  std::vector<uint8_t> a, b;
  std::vector<int8_t> w;
  std::vector<int32_t> bias, mult, shift;
  intvit::SoftmaxParams softmax;
  std::vector<int32_t> scores, residual;
  std::vector<uint16_t> probs;
  intvit::LayerNormParams norm;
};

// One backend's call on one shape; operator()(t, threads) runs thread t's rows.
class Job {
 public:
  Job(GemmIsa isa, const ShapeData& d) : isa_(isa), d_(d), kernels_(intvit::kernel_set(isa)) {
    const Shape& sh = d.shape;
    if (sh.op == Op::kSoftmax16) {
      c16_.resize(sh.m * sh.n);
    } else if (sh.op == Op::kAv16U8) {
      c8_.resize(sh.m * kAvRowStride);
    } else if (sh.op == Op::kLayerNorm) {
      c8_.resize(sh.m * sh.n);
    } else if (sh.op == Op::kLinearResidual) {
      packed_ = intvit::PackedWeights::pack(isa, intvit::GemmInput::kU8, d.w.data(), sh.n, sh.k, d.bias.data(), 117);
      q_ = {d.mult.data(), d.shift.data(), true, 0, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};
      c32_.resize(sh.m * sh.n);
    } else if (sh.op != Op::kLinear) {
      c32_.resize(sh.m * sh.n);
    } else {
      packed_ = intvit::PackedWeights::pack(isa, intvit::GemmInput::kU8, d.w.data(), sh.n, sh.k, d.bias.data(), 117);
      q_ = {d.mult.data(), d.shift.data(), true, 128, 0, 255};
      c8_.resize(sh.m * sh.n);
    }
  }
  void operator()(int t, int threads) {
    const Shape& sh = d_.shape;
    const auto [r0, r1] = rows_of(sh.m, t, threads);
    if (r1 <= r0) return;
    if (sh.op == Op::kU8U8) {
      intvit::matmul_u8u8_nt(isa_, r1 - r0, sh.n, sh.k, d_.a.data() + r0 * sh.k, sh.k, 121, d_.b.data(), sh.k, 133,
                             c32_.data() + r0 * sh.n, sh.n);
    } else if (sh.op == Op::kAv16) {
      kernels_.av16(r1 - r0, sh.n, sh.k, d_.probs.data() + r0 * sh.k, sh.k, d_.b.data(), sh.k, 121, c32_.data() + r0 * sh.n, sh.n);
    } else if (sh.op == Op::kAv16U8) {
      kernels_.av16_u8(r1 - r0, sh.n, sh.k, d_.probs.data() + r0 * sh.k, sh.k, d_.b.data() + kAvHeadColumn, kAvRowStride, kAvVZeroPoint,
                       kAvRequant, c8_.data() + r0 * kAvRowStride + kAvHeadColumn, kAvRowStride);
    } else if (sh.op == Op::kSoftmax16) {
      kernels_.softmax_rows16(d_.softmax, r1 - r0, sh.n, d_.scores.data() + r0 * sh.n, sh.n, c16_.data() + r0 * sh.n, sh.n);
    } else if (sh.op == Op::kLayerNorm) {
      kernels_.layernorm_rows(d_.norm, r1 - r0, d_.residual.data() + r0 * sh.n, sh.n, c8_.data() + r0 * sh.n, sh.n);
    } else if (sh.op == Op::kLinearResidual) {  // the sums saturate after many calls: same work per call
      const intvit::GemmOutput o{c32_.data() + r0 * sh.n, sh.n, intvit::GemmOut::kS32, &q_, true};
      intvit::linear(packed_, r1 - r0, d_.a.data() + r0 * sh.k, sh.k, o);
    } else {
      const intvit::GemmOutput o{c8_.data() + r0 * sh.n, sh.n, intvit::GemmOut::kU8, &q_};
      intvit::linear(packed_, r1 - r0, d_.a.data() + r0 * sh.k, sh.k, o);
    }
  }

 private:
  GemmIsa isa_;
  const ShapeData& d_;
  intvit::PackedWeights packed_;
  intvit::KernelSet kernels_;
  intvit::RequantParams q_{};
  std::vector<uint8_t> c8_;
  std::vector<uint16_t> c16_;
  std::vector<int32_t> c32_;
};

// Best seconds per call of each job. The jobs take turns call by call, so that every backend sees
// the same background load; at least 5 rounds and about `seconds` per job.
std::vector<double> best_seconds(std::vector<Job>& jobs, int threads, double seconds) {
  std::optional<SpinPool> pool;
  if (threads > 1) pool.emplace(threads);
  const auto call = [&](Job& job) {
    if (pool) {
      auto work = [&](int t) { job(t, threads); };
      pool->run(work);
    } else {
      job(0, 1);
    }
  };
  for (Job& job : jobs) call(job);  // warm-up (and oneDNN's primitive creation)
  std::vector<double> best(jobs.size(), 1e30);
  double total = 0;
  for (int round = 0; round < 5 || total < seconds * static_cast<double>(jobs.size()); ++round) {
    for (size_t i = 0; i < jobs.size(); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      call(jobs[i]);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best[i] = std::min(best[i], s);
      total += s;
    }
  }
  return best;
}

}  // namespace

namespace {

struct Peaks {
  double vnni = 0;  // vpdpbusd zmm, 1 thread
  double avx2 = 0;  // vpmaddwd + vpaddd ymm (the avx2 kernels' pair; no integer FMA on AVX2)
  double amx = 0;   // tdpbusd, 1 thread
};

struct Row {
  Shape shape;
  std::vector<std::vector<double>> gops;     // [backend][thread count]
  std::vector<std::vector<double>> seconds;  // [backend][thread count], best per call
  std::vector<double> clock;                 // [backend] with --clock: clock_ratio, 1 thread
};

// The core clock while `job` runs over the clock while the peak loop of the host's multiply
// instruction (`reference`, or a plain add chain without one) runs: each reading follows 20 ms
// of that work on this thread (bench/machine.h core_clock_ghz), the two alternating; the median
// of kClockRounds ratios.
constexpr int kClockRounds = 9;
constexpr double kClockWorkSeconds = 0.02;
double clock_ratio(Job& job, double (*reference)(double seconds)) {
  const auto run_for = [](auto&& work) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(kClockWorkSeconds);
    while (std::chrono::steady_clock::now() < end) work();
    return intvit::bench::core_clock_ghz();
  };
  std::vector<double> ratios;
  for (int r = 0; r < kClockRounds; ++r) {
    const double ref = reference ? run_for([&] { reference(kClockWorkSeconds / 4); }) : run_for([] { intvit::bench::core_clock_ghz(); });
    const double own = run_for([&] { job(0, 1); });
    ratios.push_back(ref > 0 ? own / ref : 0);
  }
  std::sort(ratios.begin(), ratios.end());
  return ratios[ratios.size() / 2];
}

const char* op_name(Op op) {
  switch (op) {
    case Op::kLinear: return "linear_u8s8";
    case Op::kLinearResidual: return "linear_u8s8_residual";
    case Op::kU8U8: return "u8u8_nt";
    case Op::kAv16: return "av16";
    case Op::kAv16U8: return "av16_u8";
    case Op::kSoftmax16: return "softmax16_lut";
    case Op::kLayerNorm: return "layernorm_s32_u8";
  }
  return "?";
}

// The text table: one line per shape, printed as soon as it is measured.
void print_header(const Options& o, const std::vector<GemmIsa>& isas, const Peaks& p) {
  std::printf("intvit-bench kernels: GOPS = 2*M*N*K / best time of repeated calls (--seconds %.2f per entry)\n", o.seconds);
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {  // other processes on the machine skew the numbers
    double load = 0;
    if (std::fscanf(f, "%lf", &load) == 1) std::printf("machine load average at start: %.2f on %u cores\n", load, std::thread::hardware_concurrency());
    std::fclose(f);
  }
  std::printf("linear: u8 x s8 -> u8, per-channel requant (Eq. 8 + 11); +res: -> s32 added into the residual, left shift on half the\n"
              "channels; attention (per head): u8 x u8 -> s32 (Eq. 9)\n");
  if (p.vnni > 0) std::printf("vpdpbusd zmm peak, 1 thread: %.0f GOPS (12 independent accumulators)\n", p.vnni);
  if (p.vnni <= 0) std::printf("vpdpbusd zmm peak: n/a (no AVX512-VNNI)\n");
  if (p.amx > 0) std::printf("tdpbusd tile peak, 1 thread: %.0f GOPS (4 independent accumulator tiles)\n", p.amx);
  if (p.amx <= 0) std::printf("tdpbusd tile peak: n/a (%s)\n", intvit::gemm_isa_missing_feature(GemmIsa::kAmx));
  if (p.avx2 > 0) std::printf("vpmaddwd+vpaddd ymm peak, 1 thread: %.0f GOPS (the avx2 kernels' instruction pair)\n", p.avx2);
  for (GemmIsa isa : o.isas) {
    if (!intvit::gemm_isa_supported(isa)) std::printf("SKIPPED %s: %s\n", intvit::gemm_isa_name(isa), intvit::gemm_isa_missing_feature(isa));
  }
  if (std::find(isas.begin(), isas.end(), GemmIsa::kOneDnn) != isas.end()) {
    std::printf("onednn: attention runs %s (oneDNN's int8 matmul has no u8 weights)\n",
                intvit::gemm_isa_name(intvit::best_native_gemm_isa()));
  }
}

// Derived columns, each shown when its inputs were measured on 1 thread.
struct Derived {
  const char* name;
  int num, den;   // backend indices (den < 0: divide by `peak`)
  double peak;    // percent of this peak when den < 0
};

std::vector<Derived> derived_columns(const std::vector<GemmIsa>& isas, const Peaks& p, bool one_thread) {
  const auto index_of = [&](GemmIsa isa) -> int {
    const auto it = std::find(isas.begin(), isas.end(), isa);
    return it == isas.end() ? -1 : static_cast<int>(it - isas.begin());
  };
  const int vnni = index_of(GemmIsa::kAvx512Vnni), onednn = index_of(GemmIsa::kOneDnn), avx2 = index_of(GemmIsa::kAvx2),
            amx = index_of(GemmIsa::kAmx);
  std::vector<Derived> d;
  if (!one_thread) return d;
  if (p.avx2 > 0 && avx2 >= 0) d.push_back({"avx2%peak", avx2, -1, p.avx2});
  if (p.vnni > 0 && vnni >= 0) d.push_back({"vnni%peak", vnni, -1, p.vnni});
  if (p.amx > 0 && amx >= 0) d.push_back({"amx%peak", amx, -1, p.amx});
  if (vnni >= 0 && onednn >= 0) d.push_back({"vnni/onednn", vnni, onednn, 0});
  if (amx >= 0 && onednn >= 0) d.push_back({"amx/onednn", amx, onednn, 0});
  return d;
}

nlohmann::json to_json(const Options& o, const std::vector<GemmIsa>& isas, const Peaks& p, const std::vector<Row>& rows) {
  nlohmann::json j;
  j["seconds_per_entry"] = o.seconds;
  j["threads"] = o.threads;
  j["units"] = "GOPS = 2*M*N*K / best seconds per call";
  const auto peak = [](double v) { return v > 0 ? nlohmann::json(v) : nlohmann::json(nullptr); };
  j["peaks_1thread_gops"] = {{"vpdpbusd_zmm", peak(p.vnni)}, {"tdpbusd_amx", peak(p.amx)}, {"vpmaddwd_vpaddd_ymm", peak(p.avx2)}};
  j["amx_unavailable"] = intvit::gemm_isa_missing_feature(GemmIsa::kAmx);
  for (GemmIsa isa : isas) j["backends"].push_back(intvit::gemm_isa_name(isa));
  for (GemmIsa isa : o.isas) {
    if (!intvit::gemm_isa_supported(isa)) j["skipped"][intvit::gemm_isa_name(isa)] = intvit::gemm_isa_missing_feature(isa);
  }
  j["shapes"] = nlohmann::json::array();
  for (const Row& r : rows) {
    nlohmann::json s = {{"shape", r.shape.label}, {"m", r.shape.m}, {"k", r.shape.k}, {"n", r.shape.n},
                        {"op", op_name(r.shape.op)}};
    for (size_t i = 0; i < isas.size(); ++i) {
      for (size_t t = 0; t < o.threads.size(); ++t) {
        const std::string isa = intvit::gemm_isa_name(isas[i]), threads = std::to_string(o.threads[t]);
        if (r.shape.gemm()) s["gops"][isa][threads] = r.gops[i][t];
        s["us"][isa][threads] = r.seconds[i][t] * 1e6;
      }
      if (i < r.clock.size()) s["clock_vs_peak_loop"][intvit::gemm_isa_name(isas[i])] = r.clock[i];
    }
    j["shapes"].push_back(s);
  }
  return j;
}

}  // namespace

namespace {

// The amx backend as it would run on an AMX host, from what this host can measure: its driver
// work without the tile instructions (bench/amx_driver_cost.h: packing, sums, edges, the output
// stage — timed here, 1 thread) plus the tile instructions at the tdpbusd peak — measured where
// AMX runs, else 1024 MACs per cycle (Sapphire Rapids: one 16 × 16 × 64 tdpbusd per 16 cycles) at
// the clock implied by the measured vpdpbusd peak (2 zmm per cycle). Tile work counts the padded
// operands (rows and columns to 16, K to 64) and both byte planes of 16-bit probabilities.
struct AmxProjection {
  std::string shape;
  double driver_us = 0, tile_us = 0, projected_gops = 0, vnni_gops = 0;
};

std::vector<AmxProjection> project_amx(const Options& o, const Peaks& p, const std::vector<GemmIsa>& isas, const std::vector<Row>& rows) {
  std::vector<AmxProjection> out;
  if (!intvit::gemm_isa_supported(GemmIsa::kAvx512Vnni) || (p.vnni <= 0 && p.amx <= 0)) return out;
  const double tile_macs_per_s = p.amx > 0 ? p.amx * 1e9 / 2 : 1024.0 * (p.vnni * 1e9 / (2 * 64 * 2));
  const auto vnni = std::find(isas.begin(), isas.end(), GemmIsa::kAvx512Vnni);
  const auto t1 = std::find(o.threads.begin(), o.threads.end(), 1);
  const auto up = [](size_t v, size_t to) { return (v + to - 1) / to * to; };
  for (const Row& r : rows) {
    const Shape& sh = r.shape;
    if (!sh.gemm()) continue;
    const ShapeData d(sh);
    AmxProjection a;
    a.shape = sh.label;
    std::vector<int32_t> c32(sh.m * sh.n);
    double macs = static_cast<double>(up(sh.m, 16)) * up(sh.n, 16) * up(sh.k, 64);
    if (sh.op == Op::kU8U8) {
      a.driver_us = intvit::bench::amx_driver_seconds_u8u8(sh.m, sh.n, sh.k, d.a.data(), sh.k, 121, d.b.data(), sh.k, 133, c32.data(), sh.n, o.seconds) * 1e6;
    } else if (sh.op == Op::kAv16) {
      a.driver_us = intvit::bench::amx_driver_seconds_av16(sh.m, sh.n, sh.k, d.probs.data(), sh.k, d.b.data(), sh.k, 121, c32.data(), sh.n, o.seconds) * 1e6;
      macs *= 2;
    } else if (sh.op == Op::kAv16U8) {
      std::vector<uint8_t> c8(sh.m * kAvRowStride);
      a.driver_us = intvit::bench::amx_driver_seconds_av16_u8(sh.m, sh.n, sh.k, d.probs.data(), sh.k, d.b.data() + kAvHeadColumn, kAvRowStride,
                                                              kAvVZeroPoint, kAvRequant, c8.data() + kAvHeadColumn, kAvRowStride, o.seconds) *
                    1e6;
      macs *= 2;  // both byte planes of the probabilities
    } else {
      const auto packed = intvit::PackedWeights::pack(GemmIsa::kAmxEmu, intvit::GemmInput::kU8, d.w.data(), sh.n, sh.k, d.bias.data(), 117);
      const bool residual = sh.op == Op::kLinearResidual;
      const intvit::RequantParams q = residual ? intvit::RequantParams{d.mult.data(), d.shift.data(), true, 0, std::numeric_limits<int32_t>::min(),
                                                                      std::numeric_limits<int32_t>::max()}
                                               : intvit::RequantParams{d.mult.data(), d.shift.data(), true, 128, 0, 255};
      std::vector<uint8_t> c8(sh.m * sh.n);
      const intvit::GemmOutput go = residual ? intvit::GemmOutput{c32.data(), sh.n, intvit::GemmOut::kS32, &q, true}
                                             : intvit::GemmOutput{c8.data(), sh.n, intvit::GemmOut::kU8, &q};
      a.driver_us = intvit::bench::amx_driver_seconds_linear(packed, sh.m, d.a.data(), sh.k, go, o.seconds) * 1e6;
    }
    a.tile_us = macs / tile_macs_per_s * 1e6;
    a.projected_gops = 2.0 * sh.m * sh.n * sh.k / ((a.driver_us + a.tile_us) * 1e-6) * 1e-9;
    if (vnni != isas.end() && t1 != o.threads.end()) a.vnni_gops = r.gops[static_cast<size_t>(vnni - isas.begin())][static_cast<size_t>(t1 - o.threads.begin())];
    out.push_back(a);
  }
  return out;
}

void print_amx_projection(const Peaks& p, const std::vector<AmxProjection>& rows) {
  if (rows.empty()) return;
  std::printf("\namx projection, 1 thread: driver work without tile instructions (measured here) + tile instructions at %s\n",
              p.amx > 0 ? "the measured tdpbusd peak" : "1024 MAC/cycle (Sapphire Rapids tdpbusd; no AMX here) at the vpdpbusd clock");
  std::printf("%-18s %10s %10s %10s %11s\n", "shape", "driver us", "tiles us", "proj GOPS", "proj/vnni");
  for (const AmxProjection& a : rows) {
    std::printf("%-18s %10.1f %10.1f %10.0f", a.shape.c_str(), a.driver_us, a.tile_us, a.projected_gops);
    if (a.vnni_gops > 0) std::printf(" %11.2f", a.projected_gops / a.vnni_gops);
    std::printf("\n");
  }
}

}  // namespace

void print_bench_usage();  // bench_main.cc

int run_kernels_bench(int argc, char** argv) {
  if (argc > 1 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))) {
    print_bench_usage();
    return 0;
  }
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const intvit::Error& e) {
    std::fprintf(stderr, "intvit-bench kernels: %s\n", e.what());
    return 2;
  }
  std::vector<GemmIsa> isas;
  for (GemmIsa isa : o.isas) {
    if (intvit::gemm_isa_supported(isa)) isas.push_back(isa);
  }
  const auto wanted = [&](GemmIsa isa) { return std::find(isas.begin(), isas.end(), isa) != isas.end(); };
  const double peak_seconds = std::max(0.2, o.seconds);
  Peaks p;
  if (intvit::gemm_isa_supported(GemmIsa::kAvx512Vnni)) p.vnni = measure_vpdpbusd_peak_gops(peak_seconds);
  if (intvit::gemm_isa_supported(GemmIsa::kAmx)) p.amx = measure_tdpbusd_peak_gops(peak_seconds);
  if (wanted(GemmIsa::kAvx2)) p.avx2 = measure_vpmaddwd_vpaddd_peak_gops(peak_seconds);
  if (!o.json) print_header(o, isas, p);
  // --clock's reference: the peak loop of the best vector multiply measured above (never the tiles).
  const intvit::bench::InstructionPeak clock_peak = intvit::bench::instruction_peak(p.vnni > 0 ? GemmIsa::kAvx512Vnni : p.avx2 > 0 ? GemmIsa::kAvx2 : GemmIsa::kRef);
  if (o.clock && !o.json) {
    std::printf("clk: the core clock while the kernel runs, 1 thread, over the clock in the %s loop (median of %d)\n",
                clock_peak.measure ? clock_peak.instruction.c_str() : "add-chain", kClockRounds);
  }

  const int t1 = static_cast<int>(std::find(o.threads.begin(), o.threads.end(), 1) - o.threads.begin());
  const bool one_thread = t1 < static_cast<int>(o.threads.size());
  const std::vector<Derived> derived = derived_columns(isas, p, one_thread);
  if (!o.json) {
    std::printf("\n%-18s %5s %5s %5s", "shape", "M", "K", "N");
    for (GemmIsa isa : isas) {
      for (int t : o.threads) std::printf(" %10s", (std::string(intvit::gemm_isa_name(isa)) + "/" + std::to_string(t) + "t").c_str());
    }
    for (const Derived& d : derived) std::printf(" %11s", d.name);
    if (o.clock) {
      for (GemmIsa isa : isas) std::printf(" %10s", (std::string(intvit::gemm_isa_name(isa)) + " clk").c_str());
    }
    std::printf("\n");
  }
  std::vector<Row> rows;
  for (const Shape& sh : shapes()) {
    if (sh.label.find(o.filter) == std::string::npos) continue;
    if (!o.json) {
      std::printf("%-18s %5zu %5zu %5zu", sh.label.c_str(), sh.m, sh.k, sh.n);
      std::fflush(stdout);
    }
    const ShapeData data(sh);
    std::vector<Job> jobs;
    for (GemmIsa isa : isas) jobs.emplace_back(isa, data);
    const std::vector<std::vector<double>> table(isas.size(), std::vector<double>(o.threads.size()));
    Row row{sh, table, table, {}};
    for (size_t ti = 0; ti < o.threads.size(); ++ti) {
      const std::vector<double> best = best_seconds(jobs, o.threads[ti], o.seconds);
      for (size_t i = 0; i < isas.size(); ++i) {
        row.seconds[i][ti] = best[i];
        row.gops[i][ti] = 2.0 * sh.m * sh.n * sh.k / best[i] * 1e-9;
      }
    }
    if (o.clock) {
      for (Job& job : jobs) row.clock.push_back(clock_ratio(job, clock_peak.measure));
    }
    if (!o.json) {
      for (size_t i = 0; i < isas.size(); ++i) {  // the nonlinear rows: microseconds per call
        for (size_t ti = 0; ti < o.threads.size(); ++ti) std::printf(" %10.1f", sh.gemm() ? row.gops[i][ti] : row.seconds[i][ti] * 1e6);
      }
      for (const Derived& d : derived) {
        if (!sh.gemm()) {
          std::printf(" %11s", "");
          continue;
        }
        const double v = row.gops[d.num][t1];
        if (d.den < 0) {
          std::printf(" %10.0f%%", 100 * v / d.peak);
        } else {
          std::printf(" %11.2f", v / row.gops[d.den][t1]);
        }
      }
      for (double c : row.clock) std::printf(" %10.2f", c);
      std::printf("\n");
    }
    rows.push_back(std::move(row));
  }
  const std::vector<AmxProjection> amx = project_amx(o, p, isas, rows);
  if (!o.json) print_amx_projection(p, amx);
  if (o.json) {
    nlohmann::json j = to_json(o, isas, p, rows);
    for (const AmxProjection& a : amx) {
      j["amx_projection_1thread"].push_back({{"shape", a.shape}, {"driver_us", a.driver_us}, {"tile_us", a.tile_us},
                                              {"projected_gops", a.projected_gops}, {"avx512vnni_gops", a.vnni_gops}});
    }
    std::printf("%s\n", j.dump(2).c_str());
  }
  return 0;
}
