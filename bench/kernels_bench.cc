// intvit-bench kernels: GOPS (2·M·N·K / s) of every GEMM backend on the ViT-Ti and DeiT-S shapes,
// on 1 and 2 threads (rows split between threads, as the executor does), next to the measured
// vpdpbusd peak. Each entry is the best of repeated calls within --seconds (other processes share
// this machine; the best run is the least disturbed one). Linear layers: u8 × s8 → u8 with
// per-channel requantization (Eq. 8 + Eq. 11); attention: u8 × u8 → s32 (Eq. 9), per head, and
// attn@v with 16-bit probabilities (av16, Eq. 23b; the build with the backend's instructions).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/error.h"
#include "kernels/gemm/gemm.h"
#include "kernels/nonlinear.h"

double measure_vpdpbusd_peak_gops(double seconds);         // vnni_peak-avx512vnni.cc
double measure_vpmaddwd_vpaddd_peak_gops(double seconds);  // vpmaddwd_peak-avx2.cc

namespace {

using intvit::GemmIsa;

struct Options {
  double seconds = 0.3;
  std::vector<int> threads = {1, 2};
  std::vector<GemmIsa> isas;  // default: every supported backend except the (slow) reference
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
    } else if (arg == "--isa") {
      for (const auto& name : split(value())) o.isas.push_back(intvit::parse_gemm_isa(name));
    } else {
      throw intvit::Error(intvit::ErrorCode::kInvalidArgument, "unknown option " + arg);
    }
  }
  if (o.isas.empty()) {
    for (GemmIsa isa : intvit::kAllGemmIsas) {
      if (isa != GemmIsa::kRef && intvit::gemm_isa_supported(isa)) o.isas.push_back(isa);
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

struct Shape {
  std::string label;
  size_t m, k, n;
  bool attention;     // u8 × u8 (Eq. 9) instead of a linear layer
  bool av16 = false;  // attention with uint16 probabilities (av16, Eq. 23b): a is [m][k] uint16
};

std::vector<Shape> shapes() {
  std::vector<Shape> s;
  struct Model { const char* name; size_t d; };
  for (const Model& model : {Model{"vit-ti", 192}, Model{"deit-s", 384}}) {
    const size_t d = model.d;
    for (size_t m : {197, 1576}) {
      const std::string p = std::string(model.name) + " ";
      s.push_back({p + "qkv", m, d, 3 * d, false});
      s.push_back({p + "proj", m, d, d, false});
      s.push_back({p + "fc1", m, d, 4 * d, false});
      s.push_back({p + "fc2", m, 4 * d, d, false});
    }
  }
  s.push_back({"head q@k^T", 197, 64, 197, true});
  s.push_back({"head attn@v", 197, 197, 64, true});
  s.push_back({"head attn@v16", 197, 197, 64, true, true});
  return s;
}

// The operands of one shape, shared by every backend.
struct ShapeData {
  explicit ShapeData(const Shape& sh) : shape(sh) {
    std::mt19937 rng(1);
    a.resize(sh.m * sh.k);
    for (auto& v : a) v = static_cast<uint8_t>(rng());
    if (sh.av16) {  // softmax rows, as the model feeds av16 (p <= 32767)
      std::vector<int32_t> logits(sh.m * sh.k);
      for (auto& v : logits) v = static_cast<int32_t>(rng() % 2001) - 1000;
      probs.resize(sh.m * sh.k);
      intvit::softmax_rows16_ref(intvit::make_softmax_params(intvit::SoftmaxMode::kLut, 0.01, 16), sh.m, sh.k, logits.data(),
                                 sh.k, probs.data(), sh.k);
    }
    if (sh.attention) {
      b.resize(sh.n * sh.k);
      for (auto& v : b) v = static_cast<uint8_t>(rng());
    } else {
      w.resize(sh.n * sh.k);
      for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
      bias.resize(sh.n), mult.resize(sh.n), shift.assign(sh.n, 10);
      for (size_t i = 0; i < sh.n; ++i) {
        bias[i] = static_cast<int32_t>(rng() % 20001) - 10000;
        mult[i] = (1 << 30) + static_cast<int32_t>(rng() % (1 << 30));
      }
    }
  }
  Shape shape;
  std::vector<uint8_t> a, b;
  std::vector<uint16_t> probs;
  std::vector<int8_t> w;
  std::vector<int32_t> bias, mult, shift;
};

// The av16 build that matches a GEMM backend's instructions: avx2 the vpmaddwd one (so that its
// %peak column stays against vpmaddwd), avxvnni / avx512vnni the vpdpwssd ones, onednn the best.
decltype(&intvit::av16_ref) av16_for(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kRef: return intvit::av16_ref;
    case GemmIsa::kAvx2: return intvit::av16_madd__avx2;
    case GemmIsa::kAvxVnni: return intvit::av16__avxvnni;
    case GemmIsa::kAvx512Vnni: return intvit::av16__avx512;
    case GemmIsa::kOneDnn: break;
  }
  return intvit::av16;
}

// One backend's call on one shape; operator()(t, threads) runs thread t's rows.
class Job {
 public:
  Job(GemmIsa isa, const ShapeData& d) : isa_(isa), d_(d) {
    const Shape& sh = d.shape;
    if (sh.attention) {
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
    if (sh.av16) {
      av16_for(isa_)(r1 - r0, sh.n, sh.k, d_.probs.data() + r0 * sh.k, sh.k, d_.b.data(), sh.k, 133, c32_.data() + r0 * sh.n, sh.n);
    } else if (sh.attention) {
      intvit::matmul_u8u8_nt(isa_, r1 - r0, sh.n, sh.k, d_.a.data() + r0 * sh.k, sh.k, 121, d_.b.data(), sh.k, 133,
                             c32_.data() + r0 * sh.n, sh.n);
    } else {
      const intvit::GemmOutput o{c8_.data() + r0 * sh.n, sh.n, intvit::GemmOut::kU8, &q_};
      intvit::linear(packed_, r1 - r0, d_.a.data() + r0 * sh.k, sh.k, o);
    }
  }

 private:
  GemmIsa isa_;
  const ShapeData& d_;
  intvit::PackedWeights packed_;
  intvit::RequantParams q_{};
  std::vector<uint8_t> c8_;
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

int run_kernels_bench(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const intvit::Error& e) {
    std::fprintf(stderr, "intvit-bench kernels: %s\n", e.what());
    return 2;
  }
  double peak = 0;
  if (intvit::gemm_isa_supported(GemmIsa::kAvx512Vnni)) peak = measure_vpdpbusd_peak_gops(std::max(0.2, o.seconds));
  const bool want_avx2 = std::find(o.isas.begin(), o.isas.end(), GemmIsa::kAvx2) != o.isas.end();
  double peak_avx2 = 0;  // the avx2 kernels' vpmaddwd + vpaddd pair (no integer FMA on AVX2)
  if (want_avx2 && intvit::gemm_isa_supported(GemmIsa::kAvx2)) peak_avx2 = measure_vpmaddwd_vpaddd_peak_gops(std::max(0.2, o.seconds));
  std::printf("intvit-bench kernels: GOPS = 2*M*N*K / best time of repeated calls (--seconds %.2f per entry)\n", o.seconds);
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {  // other processes on the machine skew the numbers
    double load = 0;
    if (std::fscanf(f, "%lf", &load) == 1) std::printf("machine load average at start: %.2f on %u cores\n", load, std::thread::hardware_concurrency());
    std::fclose(f);
  }
  std::printf("linear: u8 x s8 -> u8, per-channel requant (Eq. 8 + 11); attention (per head): u8 x u8 -> s32 (Eq. 9)\n");
  std::printf("attn@v16: u16 probabilities x u8 v -> s32 (Eq. 23b), the av16 build with the backend's instructions\n");
  if (peak > 0) {
    std::printf("vpdpbusd zmm peak, 1 thread: %.0f GOPS (12 independent accumulators)\n", peak);
  } else {
    std::printf("vpdpbusd zmm peak: n/a (no AVX512-VNNI)\n");
  }
  if (peak_avx2 > 0) std::printf("vpmaddwd+vpaddd ymm peak, 1 thread: %.0f GOPS (the avx2 kernels' instruction pair)\n", peak_avx2);
  for (GemmIsa isa : o.isas) {
    if (!intvit::gemm_isa_supported(isa)) {
      std::printf("SKIPPED %s: %s\n", intvit::gemm_isa_name(isa), intvit::gemm_isa_missing_feature(isa));
    }
  }
  if (std::find(o.isas.begin(), o.isas.end(), GemmIsa::kOneDnn) != o.isas.end()) {
    std::printf("onednn: attention runs %s (oneDNN's int8 matmul has no u8 weights)\n",
                intvit::gemm_isa_name(intvit::best_native_gemm_isa()));
  }
  std::vector<GemmIsa> isas;
  for (GemmIsa isa : o.isas) {
    if (intvit::gemm_isa_supported(isa)) isas.push_back(isa);
  }
  const auto index_of = [&](GemmIsa isa) -> int {
    const auto it = std::find(isas.begin(), isas.end(), isa);
    return it == isas.end() ? -1 : static_cast<int>(it - isas.begin());
  };
  const int t1 = static_cast<int>(std::find(o.threads.begin(), o.threads.end(), 1) - o.threads.begin());
  const bool one_thread = t1 < static_cast<int>(o.threads.size());
  const int vnni = index_of(GemmIsa::kAvx512Vnni), onednn = index_of(GemmIsa::kOneDnn), avx2 = index_of(GemmIsa::kAvx2);
  const bool show_peak = peak > 0 && vnni >= 0 && one_thread;
  const bool show_avx2_peak = peak_avx2 > 0 && avx2 >= 0 && one_thread;
  const bool show_ratio = vnni >= 0 && onednn >= 0 && one_thread;
  std::printf("\n%-18s %5s %5s %5s", "shape", "M", "K", "N");
  for (GemmIsa isa : isas) {
    for (int t : o.threads) std::printf(" %10s", (std::string(intvit::gemm_isa_name(isa)) + "/" + std::to_string(t) + "t").c_str());
  }
  if (show_avx2_peak) std::printf(" %9s", "avx2%peak");
  if (show_peak) std::printf(" %9s", "vnni%peak");
  if (show_ratio) std::printf(" %11s", "vnni/onednn");
  std::printf("\n");
  for (const Shape& sh : shapes()) {
    std::printf("%-18s %5zu %5zu %5zu", sh.label.c_str(), sh.m, sh.k, sh.n);
    std::fflush(stdout);
    const ShapeData data(sh);
    std::vector<Job> jobs;
    for (GemmIsa isa : isas) jobs.emplace_back(isa, data);
    std::vector<std::vector<double>> gops(isas.size(), std::vector<double>(o.threads.size()));
    for (size_t ti = 0; ti < o.threads.size(); ++ti) {
      const std::vector<double> best = best_seconds(jobs, o.threads[ti], o.seconds);
      for (size_t i = 0; i < isas.size(); ++i) gops[i][ti] = 2.0 * sh.m * sh.n * sh.k / best[i] * 1e-9;
    }
    for (size_t i = 0; i < isas.size(); ++i) {
      for (size_t ti = 0; ti < o.threads.size(); ++ti) std::printf(" %10.1f", gops[i][ti]);
    }
    if (show_avx2_peak) std::printf(" %8.0f%%", 100 * gops[avx2][t1] / peak_avx2);
    if (show_peak) std::printf(" %8.0f%%", 100 * gops[vnni][t1] / peak);
    if (show_ratio) std::printf(" %11.2f", gops[vnni][t1] / gops[onednn][t1]);
    std::printf("\n");
  }
  return 0;
}
