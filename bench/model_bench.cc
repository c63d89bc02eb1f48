// intvit-bench model: whole-model throughput and latency of the integer engine (issue 7).
//
//   intvit-bench model (--model DIR | --arch vit_tiny|deit_small|vit_base|swin_tiny) [--batch 1,8]
//                      [--threads 1,2] [--warmup S] [--seconds S] [--repeats N] [--backend NAME]
//                      [--json FILE]
//
// Per (batch, threads): one Session on random preprocessed inputs; warm-up, then --repeats timed
// runs of --seconds each (the method of bench/peers/timing.py, so the rows compare with the
// peers'): images/s = median of the runs, spread = (max − min) / median, latency percentiles of one
// call (one batch). Then a separate profiled session (SessionOptions::profile) gives the per-op
// time shares without perturbing the timed runs. GOPS = 2 · executed MACs per image · images/s, judged
// against the measured peak of the backend's multiply instruction on as many threads
// (bench/machine.h). --json writes what bench/peers/run_peers.py --intvit-json reads.
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "bench/machine.h"
#include "bench/swin_model_bench.h"
#include "kernels/backend/backend.h"
#include "kernels/error.h"
#include "engine/model.h"
#include "engine/op_profile.h"
#include "engine/session.h"
#include "weights/calibration.h"
#include "weights/int_model_file.h"
#include "weights/quantizer.h"
#include "random_vit.h"  // tests/random_vit.h

namespace {

namespace fs = std::filesystem;
using intvit::Error;
using intvit::ErrorCode;
using intvit::OpKind;
using Clock = std::chrono::steady_clock;

constexpr int kCalibrationImages = 4;     // --arch: random images the quantizer calibrates on
constexpr unsigned kWeightSeed = 1, kCalibrationSeed = 2, kInputSeed = 3;
constexpr double kSpreadWarnPct = 10;     // repeats disagreeing by more than this: not trustworthy
constexpr double kBusyOthersCores = 0.5;  // other processes using more than this many cores
constexpr double kBusyLoadMargin = 0.5;   // 1-min load above our threads + this
constexpr double kPeakSeconds = 0.3;      // per thread count
constexpr double kProfileMaxSeconds = 2;  // the profiled pass: min(--seconds, this), at least 1 call
constexpr int kOps = static_cast<int>(OpKind::kCount);

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Arch {
  const char* name;
  int dim, depth, heads;
};
constexpr Arch kArchs[] = {{"vit_tiny", 192, 12, 3}, {"deit_small", 384, 12, 6}, {"vit_base", 768, 12, 12}};

intvit::ViTConfig arch_config(const Arch& a) {
  intvit::ViTConfig c;  // defaults: image 224, patch 16, MLP ratio 4, 1000 classes, class token
  c.architecture = a.name;
  c.embed_dim = a.dim;
  c.depth = a.depth;
  c.num_heads = a.heads;
  c.validate();
  return c;
}

// ---- Arguments --------------------------------------------------------------------------------

struct Options {
  fs::path model_dir;
  std::string arch;
  std::vector<int> batches = {1, 8};
  std::vector<int> threads = {1, 2};
  double warmup = 1, seconds = 3;
  int repeats = 3;
  std::string backend;  // "" = $INTVIT_ISA or the best this CPU has
  fs::path json;
};

[[noreturn]] void bad(const std::string& message) { throw Error(ErrorCode::kInvalidArgument, message); }

double parse_seconds(const std::string& flag, const std::string& text, bool allow_zero) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v) || v < 0 || (!allow_zero && v == 0) || v > 3600) {
    bad(flag + " needs a number of seconds in " + (allow_zero ? "[0" : "(0") + ", 3600], got '" + text + "'");
  }
  return v;
}

int parse_int(const std::string& flag, const std::string& text, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < lo || v > hi) {
    bad(flag + " needs an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" + text + "'");
  }
  return static_cast<int>(v);
}

std::vector<int> parse_int_list(const std::string& flag, const std::string& text, long lo, long hi) {
  std::vector<int> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    out.push_back(parse_int(flag, text.substr(start, comma == std::string::npos ? std::string::npos : comma - start), lo, hi));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void usage(FILE* out) {
  std::fprintf(out,
               "usage: intvit-bench model (--model DIR | --arch vit_tiny|deit_small|vit_base|swin_tiny)\n"
               "                          [--batch 1,8] [--threads 1,2] [--warmup S] [--seconds S]\n"
               "                          [--repeats N] [--backend ref|avx2|avxvnni|avx512vnni|onednn|amx|amx-emu] [--json FILE]\n"
               "  --model DIR   an integer model folder (model.intvit) or file\n"
               "  --arch NAME   instead: that geometry with seeded random weights, quantized on %d random images\n"
               "  defaults: --batch 1,8 --threads 1,2 --warmup 1 --seconds 3 --repeats 3, backend by CPUID\n",
               kCalibrationImages);
}

// Returns false for --help.
bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return false;
    if (arg.rfind("--", 0) != 0) bad("unexpected argument '" + arg + "'");
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) bad(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--model") {
      o.model_dir = value();
    } else if (arg == "--arch") {
      o.arch = value();
      if (o.arch != intvit::bench::kSwinArch &&
          std::none_of(std::begin(kArchs), std::end(kArchs), [&](const Arch& a) { return o.arch == a.name; })) {
        bad("unknown --arch '" + o.arch + "' (vit_tiny, deit_small, vit_base or swin_tiny)");
      }
    } else if (arg == "--batch") {
      o.batches = parse_int_list(arg, value(), 1, 4096);
    } else if (arg == "--threads") {
      o.threads = parse_int_list(arg, value(), 1, 256);
    } else if (arg == "--warmup") {
      o.warmup = parse_seconds(arg, value(), true);
    } else if (arg == "--seconds") {
      o.seconds = parse_seconds(arg, value(), false);
    } else if (arg == "--repeats") {
      o.repeats = parse_int(arg, value(), 1, 1000);
    } else if (arg == "--backend") {
      o.backend = value();
      const intvit::GemmIsa isa = intvit::parse_gemm_isa(o.backend);  // Error(kInvalidArgument) if unknown
      if (!intvit::gemm_isa_supported(isa)) {
        bad("backend " + o.backend + " is not supported here (" + intvit::gemm_isa_missing_feature(isa) + ")");
      }
    } else if (arg == "--json") {
      o.json = value();
    } else {
      bad("unknown option " + arg);
    }
  }
  if (o.model_dir.empty() == o.arch.empty()) bad("give exactly one of --model DIR and --arch NAME");
  if (!o.model_dir.empty()) {
    const fs::path& p = o.model_dir;
    if (!fs::exists(p)) bad("model not found: " + p.string());
    if (fs::is_directory(p) ? !fs::exists(p / intvit::kIntModelFileName) : p.extension() != ".intvit") {
      bad(p.string() + " is not an integer model (no " + intvit::kIntModelFileName + "; quantize it first)");
    }
  }
  if (!o.json.empty()) {
    const fs::path parent = o.json.has_parent_path() ? o.json.parent_path() : fs::path(".");
    if (!fs::is_directory(parent)) bad("--json: no such directory " + parent.string());
  }
  return true;
}

// ---- The model --------------------------------------------------------------------------------

struct LoadedModel {
  std::shared_ptr<const intvit::Model> model;
  std::string arch;        // vit_tiny etc. when the geometry is one of kArchs, else the folder name
  std::string source;      // the model path, or "random (seed 1)"
  uintmax_t file_bytes = 0;
  double build_seconds = 0;
  std::optional<intvit::SwinConfig> swin;  // a Swin: its geometry (MACs, the header line)
};

uintmax_t model_file_bytes(const fs::path& p) {
  const fs::path file = fs::is_directory(p) ? p / intvit::kIntModelFileName : p;
  std::error_code ec;
  const uintmax_t n = fs::file_size(file, ec);
  return ec ? 0 : n;
}

// The arch name whose geometry the config has, so that run_peers.py joins the rows.
std::string arch_of(const intvit::ViTConfig& c, const fs::path& source) {
  for (const Arch& a : kArchs) {
    if (c.embed_dim == a.dim && c.depth == a.depth && c.num_heads == a.heads && c.image_size == 224 &&
        c.patch_size == 16 && c.num_classes == 1000 && !c.distillation_token) {
      return a.name;
    }
  }
  fs::path dir = fs::absolute(fs::is_directory(source) ? source : source.parent_path()).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();  // "models/x/" -> "models/x"
  return dir.filename().string();
}

// --arch swin_tiny: built, saved and loaded back like the ViT archs below.
LoadedModel load_random_swin(const fs::path& dir) {
  LoadedModel m;
  const auto t0 = Clock::now();
  m.swin = intvit::bench::swin_arch_config();
  intvit::QuantizeReport report;
  const intvit::bench::SwinBuildTimes t = intvit::bench::build_random_swin(*m.swin, kWeightSeed, kCalibrationSeed, kCalibrationImages, dir, &report);
  malloc_trim(0);
  const auto t4 = Clock::now();
  try {
    m.model = intvit::load_model(dir);
  } catch (...) {
    fs::remove_all(dir);
    throw;
  }
  const double t_load = since(t4);
  m.file_bytes = model_file_bytes(dir);
  fs::remove_all(dir);
  m.build_seconds = since(t0);
  m.arch = intvit::bench::kSwinArch;
  m.source = "random (seed " + std::to_string(kWeightSeed) + ")";
  std::printf("built %s (swin_tiny_patch4_window7_224) with random weights in %.1f s (FP32 init %.1f s, calibration on %d images "
              "%.1f s, quantization %.1f s, save %.1f s, load + pack %.1f s)\n",
              m.arch.c_str(), m.build_seconds, t.init, kCalibrationImages, t.calib, t.quant, t.save, t_load);
  return m;
}

LoadedModel load(const Options& o) {
  LoadedModel m;
  const auto t0 = Clock::now();
  if (!o.model_dir.empty()) {
    std::unique_ptr<intvit::Model> model = intvit::load_model(o.model_dir);
    if (model->precision() == "fp32") {
      bad(o.model_dir.string() + " holds no integer model (" + intvit::kIntModelFileName + "); quantize it first");
    }
    m.build_seconds = since(t0);
    m.swin = intvit::bench::swin_config_of(o.model_dir);
    m.arch = m.swin && m.swin->architecture == "swin_tiny_patch4_window7_224" ? intvit::bench::kSwinArch : arch_of(model->config(), o.model_dir);
    m.source = o.model_dir.string();
    m.file_bytes = model_file_bytes(o.model_dir);
    m.model = std::move(model);
    std::printf("loaded %s in %.2f s\n", m.source.c_str(), m.build_seconds);
    return m;
  }
  const fs::path dir = fs::temp_directory_path() / ("intvit-bench-" + std::to_string(::getpid()));
  double t_init, t_calib, t_quant, t_save, t_load;
  intvit::QuantizeReport report;
  if (o.arch == intvit::bench::kSwinArch) return load_random_swin(dir);
  const Arch& arch = *std::find_if(std::begin(kArchs), std::end(kArchs), [&](const Arch& a) { return o.arch == a.name; });
  const intvit::ViTConfig c = arch_config(arch);
  {
    const intvit::ViTWeightsF32 fp32 = intvit::random_vit(c, kWeightSeed);
    t_init = since(t0);
    const auto t1 = Clock::now();
    const intvit::CalibrationStats stats =
        intvit::calibrate(fp32, intvit::random_model_inputs(c, kCalibrationImages, kCalibrationSeed), intvit::ObserverKind::kMinMax);
    t_calib = since(t1);
    const auto t2 = Clock::now();
    intvit::IntViT q = intvit::quantize_vit(fp32, stats, {}, &report);
    for (int i = 0; i < c.num_classes; ++i) q.labels.push_back("class_" + std::to_string(i));
    t_quant = since(t2);
    // Written and loaded back: the model then runs exactly as a shipped one (and has a file size).
    const auto t3 = Clock::now();
    fs::remove_all(dir);
    intvit::save_int_model(q, dir);
    t_save = since(t3);
  }
  malloc_trim(0);  // give the FP32 weights back before anything is measured
  const auto t4 = Clock::now();
  try {
    m.model = intvit::load_model(dir);
  } catch (...) {
    fs::remove_all(dir);
    throw;
  }
  t_load = since(t4);
  m.file_bytes = model_file_bytes(dir);
  fs::remove_all(dir);
  m.build_seconds = since(t0);
  m.arch = arch.name;
  m.source = "random (seed " + std::to_string(kWeightSeed) + ")";
  std::string wide;
  for (int b : report.wide_blocks) wide += (wide.empty() ? "" : ",") + std::to_string(b);
  std::printf("built %s with random weights in %.1f s (FP32 init %.1f s, calibration on %d images %.1f s, "
              "quantization %.1f s, save %.1f s, load + pack %.1f s); 16-bit MLP blocks: %s\n",
              arch.name, m.build_seconds, t_init, kCalibrationImages, t_calib, t_quant, t_save, t_load,
              wide.empty() ? "none" : wide.c_str());
  return m;
}

// Multiply-accumulates one forward executes per op kind (weights/quantizer.h count_macs, split
// up; a distilled model has two heads), or with `nominal`, what the model defines. The engine runs
// the last block's q, attention, proj and MLP on the selected token rows only (engine/int_executor.cc
// live_rows), so GOPS and per-op GOPS count executed MACs, not skipped ones.
std::array<double, kOps> macs_per_op(const intvit::ViTConfig& c, bool nominal = false) {
  std::array<double, kOps> m{};
  const double t = c.num_tokens(), d = c.embed_dim, h = c.mlp_hidden(), p = c.patch_size;
  const double tail = nominal ? t : (c.distillation_token ? 2 : 1);  // query rows of the last block
  const double full_blocks = c.depth - 1;
  m[static_cast<int>(OpKind::kPatchEmbed)] = c.num_patches() * 3 * p * p * d;
  m[static_cast<int>(OpKind::kLinear)] = full_blocks * (t * d * 3 * d + t * d * d + 2 * t * d * h) +
                                         (t * d * 2 * d + tail * d * d + tail * d * d + 2 * tail * d * h) +
                                         (c.distillation_token ? 2 : 1) * d * c.num_classes;
  m[static_cast<int>(OpKind::kQk)] = full_blocks * t * t * d + tail * t * d;
  m[static_cast<int>(OpKind::kAv)] = full_blocks * t * t * d + tail * t * d;
  return m;
}

// ---- Measuring --------------------------------------------------------------------------------

// One layer of the profiled pass: the graph nodes of one name outside their block index
// ("blocks.3.attn.q" -> "attn.q") and one op kind (a block's attention nodes share the name
// "attn": its q@kᵀ, softmax and attn@v are three layers), summed over the blocks.
struct Layer {
  std::string name;
  OpKind kind = OpKind::kLinear;
  double us_per_image = 0, macs_per_image = 0, share = 0, gops_per_core = 0;
};

// "blocks.<n>.<rest>" -> "<rest>"; other names as they are.
std::string layer_of(const std::string& node) {
  const std::string prefix = "blocks.";
  if (node.rfind(prefix, 0) != 0) return node;
  const size_t dot = node.find('.', prefix.size());
  return dot == std::string::npos ? node : node.substr(dot + 1);
}

// The profile's per-node times and MACs grouped into layers (order of first appearance; nodes
// that never ran left out); shares of the summed node time.
std::vector<Layer> layers_of(const intvit::OpProfile& p, double images) {
  std::vector<Layer> layers;
  std::map<std::pair<std::string, OpKind>, size_t> index;
  std::vector<double> ns;
  for (size_t i = 0; i < p.nodes(); ++i) {
    const std::string name = layer_of(p.node_name(i));
    auto [it, added] = index.emplace(std::make_pair(name, p.node_kind(i)), layers.size());
    if (added) {
      layers.push_back({name, p.node_kind(i)});
      ns.push_back(0);
    }
    ns[it->second] += static_cast<double>(p.node_nanoseconds(i));
    layers[it->second].macs_per_image += static_cast<double>(p.node_macs(i)) / images;
  }
  double total = 0;
  for (double v : ns) total += v;
  std::vector<Layer> ran;
  for (size_t l = 0; l < layers.size(); ++l) {
    if (ns[l] <= 0) continue;
    Layer x = layers[l];
    x.us_per_image = ns[l] * 1e-3 / images;
    x.share = ns[l] / total;
    x.gops_per_core = 2 * x.macs_per_image * images / ns[l];  // ops per ns = GOPS
    ran.push_back(x);
  }
  return ran;
}

struct Row {
  int batch = 1, threads = 1;
  std::vector<double> repeats_ips;
  double images_per_s = 0, spread_pct = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0;
  long calls = 0;
  double gops = 0, peak_gops = 0;
  std::array<double, kOps> op_share{}, op_gops_per_core{};
  double op_coverage = 0;  // time inside the ops (summed over threads) / (wall time × threads) of the profiled pass
  // The profiled pass's wall time per image over the timed rows' (1 / images_per_s), minus 1: what its
  // per-op clock reads (two per op call, engine/op_profile.h) add to a forward.
  double profile_overhead = 0;
  std::vector<Layer> layers;  // the profiled pass per layer (integer ViT only)
  double layer_macs_per_image = 0;  // their MACs as the forward counted them
  double rss_mib = 0;
  bool rss_is_process_peak = false;
  double load1_before = 0, others_cores = 0;
  // Images per second of this process's CPU time (all threads, spinning included) over the timed
  // runs: what a dedicated core would give at 1 thread; robust to other processes' load, unlike
  // images_per_s (bench/peers/timing.py measures the same for the peers).
  double images_per_cpu_s = 0;
  bool busy = false;
  std::string warning;
};

class Runner {
 public:
  Runner(intvit::Session& s, int batch, const std::vector<uint8_t>& pixels)
      : s_(s), batch_(batch), pixels_(pixels), logits_(static_cast<size_t>(batch) * s.model().config().num_classes) {}
  void operator()() {
    if (batch_ == 1) {
      s_.run_int(pixels_.data(), logits_.data());
    } else {
      s_.run_batch_int(static_cast<size_t>(batch_), pixels_.data(), logits_.data());
    }
  }

 private:
  intvit::Session& s_;
  int batch_;
  const std::vector<uint8_t>& pixels_;
  std::vector<int32_t> logits_;
};

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double percentile_ms(const std::vector<double>& sorted, double q) {
  return 1e3 * sorted[static_cast<size_t>(q * static_cast<double>(sorted.size() - 1))];  // as timing.py
}

Row measure(const Options& o, const LoadedModel& m, const std::string& backend, int batch, int threads,
            const std::array<double, kOps>& macs, double peak_gops) {
  Row r;
  r.batch = batch;
  r.threads = threads;
  r.peak_gops = peak_gops;
  const intvit::ViTConfig& c = m.model->config();
  std::vector<uint8_t> pixels(static_cast<size_t>(batch) * c.image_size * c.image_size * 3);
  std::mt19937 rng(kInputSeed);
  for (uint8_t& v : pixels) v = static_cast<uint8_t>(rng());
  r.rss_is_process_peak = !intvit::bench::reset_peak_rss();
  r.load1_before = intvit::bench::load_average_1min();

  std::vector<double> latencies;
  {
    const std::unique_ptr<intvit::Session> session = intvit::create_session(m.model, {threads, backend, nullptr});
    Runner run(*session, batch, pixels);
    const auto w0 = Clock::now();
    for (int n = 1;; ++n) {  // at least one call; at least 3 when warming up at all
      run();
      if (since(w0) >= o.warmup && (o.warmup == 0 || n >= 3)) break;
    }
    intvit::bench::OthersCpu others;
    const double cpu0 = process_cpu_seconds();
    for (int rep = 0; rep < o.repeats; ++rep) {
      r.load1_before = std::max(r.load1_before, intvit::bench::load_average_1min());
      long calls = 0;
      others.start();
      const auto start = Clock::now();
      double elapsed = 0;
      while (true) {
        const auto t0 = Clock::now();
        run();
        const auto t1 = Clock::now();
        latencies.push_back(std::chrono::duration<double>(t1 - t0).count());
        ++calls;
        elapsed = std::chrono::duration<double>(t1 - start).count();
        if (calls >= 2 && elapsed >= o.seconds) break;
      }
      r.others_cores = std::max(r.others_cores, others.stop());
      r.repeats_ips.push_back(static_cast<double>(calls * batch) / elapsed);
      r.calls += calls;
    }
    const double cpu = process_cpu_seconds() - cpu0;
    r.images_per_cpu_s = cpu > 0 ? static_cast<double>(r.calls * batch) / cpu : 0;
  }
  std::vector<double> ips = r.repeats_ips;
  std::sort(ips.begin(), ips.end());
  r.images_per_s = ips.size() % 2 ? ips[ips.size() / 2] : (ips[ips.size() / 2 - 1] + ips[ips.size() / 2]) / 2;
  r.spread_pct = 100 * (ips.back() - ips.front()) / r.images_per_s;
  std::sort(latencies.begin(), latencies.end());
  r.p50_ms = percentile_ms(latencies, 0.5);
  r.p90_ms = percentile_ms(latencies, 0.9);
  r.p99_ms = percentile_ms(latencies, 0.99);
  double total_macs = 0;
  for (double v : macs) total_macs += v;
  r.gops = 2 * total_macs * r.images_per_s * 1e-9;

  {  // The profiled pass, in its own session after the timed one is gone.
    intvit::OpProfile profile;
    const std::unique_ptr<intvit::Session> session = intvit::create_session(m.model, {threads, backend, &profile});
    Runner run(*session, batch, pixels);
    run();  // warm (first-touch of this session's workspace), not counted
    profile.reset();
    const double seconds = std::min(o.seconds, kProfileMaxSeconds);
    const auto t0 = Clock::now();
    long calls = 0;
    do {
      run();
      ++calls;
    } while (since(t0) < seconds);
    const double wall = since(t0);
    double sum_ns = 0;
    for (int k = 0; k < kOps; ++k) sum_ns += static_cast<double>(profile.get(static_cast<OpKind>(k)));
    const double images = static_cast<double>(calls * batch);
    for (int k = 0; k < kOps; ++k) {
      const double ns = static_cast<double>(profile.get(static_cast<OpKind>(k)));
      r.op_share[k] = sum_ns > 0 ? ns / sum_ns : 0;
      r.op_gops_per_core[k] = ns > 0 && macs[k] > 0 ? 2 * macs[k] * images / ns : 0;  // ops per ns = GOPS
    }
    r.op_coverage = sum_ns * 1e-9 / (wall * threads);
    r.profile_overhead = r.images_per_s > 0 && images > 0 ? wall / images * r.images_per_s - 1 : 0;
    r.layers = layers_of(profile, images);
    for (const Layer& l : r.layers) r.layer_macs_per_image += l.macs_per_image;
  }
  r.rss_mib = intvit::bench::peak_rss_mib();

  std::string why;
  if (r.load1_before > threads + kBusyLoadMargin) {
    char b[96];
    std::snprintf(b, sizeof b, "1-min load %.2f > %d threads + %.1f", r.load1_before, threads, kBusyLoadMargin);
    why = b;
  }
  if (r.others_cores > kBusyOthersCores) {
    char b[96];
    std::snprintf(b, sizeof b, "other processes used %.2f cores while timing", r.others_cores);
    why += (why.empty() ? "" : "; ") + std::string(b);
  }
  r.busy = !why.empty();
  if (r.spread_pct > kSpreadWarnPct) {
    char b[96];
    std::snprintf(b, sizeof b, "repeats spread %.1f %% > %.0f %%", r.spread_pct, kSpreadWarnPct);
    why += (why.empty() ? "" : "; ") + std::string(b);
  }
  r.warning = why;
  return r;
}

// ---- Output -----------------------------------------------------------------------------------

void print_header() {
  std::printf("\n%5s %7s %9s %7s %8s %8s %8s %7s %6s %7s %6s %6s\n", "batch", "threads", "images/s", "spread",
              "p50 ms", "p90 ms", "p99 ms", "GOPS", "%peak", "RSS MiB", "load1", "others");
}

void print_row(const Row& r) {
  char peak[16] = "   n/a";
  if (r.peak_gops > 0) std::snprintf(peak, sizeof peak, "%5.1f%%", 100 * r.gops / r.peak_gops);
  std::printf("%5d %7d %9.2f %5.1f %% %8.2f %8.2f %8.2f %7.1f %6s %7.0f %6.2f %6.2f%s\n", r.batch, r.threads,
              r.images_per_s, r.spread_pct, r.p50_ms, r.p90_ms, r.p99_ms, r.gops, peak, r.rss_mib, r.load1_before,
              r.others_cores, r.warning.empty() ? "" : " !");
  if (!r.warning.empty()) {
    std::printf("WARNING: batch %d threads %d: %s -- numbers not trustworthy\n", r.batch, r.threads, r.warning.c_str());
  }
  std::fflush(stdout);
}

void print_profile(const std::vector<Row>& rows) {
  std::printf("\nper-op share of the time inside ops (profiled pass; summed over threads)\n%5s %7s", "batch", "threads");
  for (int k = 0; k < kOps; ++k) std::printf(" %11s", intvit::op_kind_name(static_cast<OpKind>(k)));
  std::printf(" %9s %9s\n", "coverage", "slower");
  for (const Row& r : rows) {
    std::printf("%5d %7d", r.batch, r.threads);
    for (int k = 0; k < kOps; ++k) std::printf(" %9.1f %%", 100 * r.op_share[k]);
    std::printf(" %7.0f %% %7.1f %%\n", 100 * r.op_coverage, 100 * r.profile_overhead);
  }
  std::printf("(coverage: the ops' share of the threads' time, the rest is waiting; slower: the profiled pass per image\n"
              " against the timed rows, the cost of its per-op clock reads — noise can make it negative)\n");
  std::printf("\nGEMM GOPS per busy core, by op (2 * MACs / time inside the op)\n%5s %7s", "batch", "threads");
  for (OpKind k : {OpKind::kPatchEmbed, OpKind::kLinear, OpKind::kQk, OpKind::kAv}) std::printf(" %11s", intvit::op_kind_name(k));
  std::printf("\n");
  for (const Row& r : rows) {
    std::printf("%5d %7d", r.batch, r.threads);
    for (OpKind k : {OpKind::kPatchEmbed, OpKind::kLinear, OpKind::kQk, OpKind::kAv}) {
      std::printf(" %11.1f", r.op_gops_per_core[static_cast<int>(k)]);
    }
    std::printf("\n");
  }
}

// Layers as rows, one column group per measured row: µs per image, and for products GOPS per busy
// core with its share of one core's peak. A layer's time sums its blocks and the threads.
void print_layers(const std::vector<Row>& rows) {
  std::vector<std::pair<std::string, OpKind>> names;  // every layer of any row, first row's order
  for (const Row& r : rows) {
    for (const Layer& l : r.layers) {
      if (std::find(names.begin(), names.end(), std::make_pair(l.name, l.kind)) == names.end()) names.emplace_back(l.name, l.kind);
    }
  }
  if (names.empty()) return;
  std::printf("\nper-layer time per image in us (profiled pass; summed over the blocks and threads), "
              "GOPS per busy core and %% of one core's peak\n%-18s %-12s", "layer", "op");
  for (const Row& r : rows) {
    char h[32];
    std::snprintf(h, sizeof h, "batch %d threads %d", r.batch, r.threads);
    std::printf(" %21s", h);
  }
  std::printf("\n");
  for (const auto& [name, kind] : names) {
    std::printf("%-18s %-12s", name.c_str(), intvit::op_kind_name(kind));
    for (const Row& r : rows) {
      // name and kind copied: clang before 16 cannot capture structured bindings (Debian 12 has clang 14).
      const auto l = std::find_if(r.layers.begin(), r.layers.end(), [&name = name, kind = kind](const Layer& x) { return x.name == name && x.kind == kind; });
      if (l == r.layers.end()) {
        std::printf(" %21s", "-");
      } else if (l->macs_per_image <= 0) {
        std::printf(" %8.1f %12s", l->us_per_image, "");
      } else if (r.peak_gops > 0) {
        std::printf(" %8.1f %6.0f %4.0f%%", l->us_per_image, l->gops_per_core, 100 * l->gops_per_core * r.threads / r.peak_gops);
      } else {
        std::printf(" %8.1f %6.0f %5s", l->us_per_image, l->gops_per_core, "");
      }
    }
    std::printf("\n");
  }
}

nlohmann::json row_json(const Row& r, const LoadedModel& m, const std::string& backend) {
  nlohmann::json share = nlohmann::json::object(), op_gops = nlohmann::json::object();
  for (int k = 0; k < kOps; ++k) {
    const char* name = intvit::op_kind_name(static_cast<OpKind>(k));
    share[name] = r.op_share[k];
    if (r.op_gops_per_core[k] > 0) op_gops[name] = r.op_gops_per_core[k];
  }
  nlohmann::json j = {{"arch", m.arch},
                      {"model", m.source},
                      {"backend", backend},
                      {"batch", r.batch},
                      {"threads", r.threads},
                      {"images_per_s", r.images_per_s},
                      {"repeats_images_per_s", r.repeats_ips},
                      {"spread_pct", r.spread_pct},
                      {"p50_ms", r.p50_ms},
                      {"p90_ms", r.p90_ms},
                      {"p99_ms", r.p99_ms},
                      {"calls", r.calls},
                      {"gops", r.gops},
                      {"op_share", share},
                      {"op_gops_per_core", op_gops},
                      {"op_coverage", r.op_coverage},
                      {"profile_overhead", r.profile_overhead},
                      {"rss_mb", r.rss_mib},
                      {"rss_is_process_peak", r.rss_is_process_peak},
                      {"model_bytes", m.file_bytes},
                      {"load1_before", r.load1_before},
                      {"others_cores", r.others_cores},
                      {"images_per_cpu_s", r.images_per_cpu_s},
                      {"busy", r.busy},
                      {"warning", r.warning}};
  nlohmann::json layers = nlohmann::json::array();
  for (const Layer& l : r.layers) {
    nlohmann::json x = {{"layer", l.name}, {"op", intvit::op_kind_name(l.kind)}, {"us_per_image", l.us_per_image}, {"share", l.share}};
    if (l.macs_per_image > 0) {
      x["macs_per_image"] = l.macs_per_image;
      x["gops_per_core"] = l.gops_per_core;
    }
    layers.push_back(x);
  }
  j["layers"] = layers;
  j["layer_macs_per_image"] = r.layer_macs_per_image;
  j["peak_gops"] = r.peak_gops > 0 ? nlohmann::json(r.peak_gops) : nlohmann::json(nullptr);
  j["peak_pct"] = r.peak_gops > 0 ? nlohmann::json(100 * r.gops / r.peak_gops) : nlohmann::json(nullptr);
  return j;
}

int run(const Options& o) {
  const intvit::GemmIsa isa = intvit::resolve_backend(o.backend);
  const std::string backend = intvit::gemm_isa_name(isa);
  const double load_start = intvit::bench::load_average_1min();
  const std::string cpu = intvit::bench::cpu_model_name();
  const unsigned cores = std::thread::hardware_concurrency();
  std::printf("intvit-bench model: %s, %u cores; load average %.2f at start\n", cpu.c_str(), cores, load_start);

  const LoadedModel m = load(o);
  const intvit::ViTConfig& c = m.model->config();
  const std::array<double, kOps> macs = m.swin ? intvit::bench::swin_macs_per_op(*m.swin) : macs_per_op(c);
  double total_macs = 0, nominal_macs = 0;
  for (double v : macs) total_macs += v;
  if (m.swin) {
    nominal_macs = total_macs;
  } else {
    for (double v : macs_per_op(c, true)) nominal_macs += v;
  }

  // The bound, measured before the model runs, once per thread count.
  const intvit::bench::InstructionPeak peak = intvit::bench::instruction_peak(isa);
  std::map<int, double> peak_gops;
  for (int t : o.threads) {
    if (!peak_gops.count(t)) peak_gops[t] = intvit::bench::measure_peak_gops(peak, t, kPeakSeconds);
  }
  if (m.swin) {
    std::string depths, heads;
    for (size_t s = 0; s < m.swin->depths.size(); ++s) {
      depths += (s ? "," : "") + std::to_string(m.swin->depths[s]);
      heads += (s ? "," : "") + std::to_string(m.swin->num_heads[s]);
    }
    std::printf("model %s (%s): Swin, embed %d, depths %s, heads %s, window %d, %d tokens in stage 0, %.3f GMAC/image, model file %.2f MB\n",
                m.arch.c_str(), m.source.c_str(), m.swin->embed_dim, depths.c_str(), heads.c_str(), m.swin->window_size,
                m.swin->stage_resolution(0) * m.swin->stage_resolution(0), total_macs * 1e-9, static_cast<double>(m.file_bytes) / 1e6);
  } else {
    std::printf("model %s (%s): dim %d, depth %d, heads %d, %d tokens, %.3f GMAC/image (%.3f executed: the last block "
                "runs its queries and MLP on the selected token rows only), model file %.2f MB\n",
                m.arch.c_str(), m.source.c_str(), c.embed_dim, c.depth, c.num_heads, c.num_tokens(), nominal_macs * 1e-9,
                total_macs * 1e-9, static_cast<double>(m.file_bytes) / 1e6);
  }
  std::printf("backend %s; peak of %s:", backend.c_str(), peak.instruction.c_str());
  if (!peak.measure) std::printf(" not measured (GOPS shown without a bound)");
  for (const auto& [t, g] : peak_gops) {
    if (peak.measure) std::printf(" %d thread%s %.1f GOPS;", t, t > 1 ? "s" : "", g);
  }
  if (!peak.note.empty()) std::printf(" (%s)", peak.note.c_str());
  if (!intvit::amx_usable()) std::printf("\namx: not used (%s)", intvit::amx_unavailable_reason());
  std::printf("\n%g s warm-up, %d x %g s timed per row; GOPS = 2 * executed MACs/image * images/s; "
              "latency = one call (one batch)\n", o.warmup, o.repeats, o.seconds);

  std::vector<Row> rows;
  print_header();
  for (int batch : o.batches) {
    for (int threads : o.threads) {
      rows.push_back(measure(o, m, backend, batch, threads, macs, peak_gops[threads]));
      print_row(rows.back());
      // GOPS count macs_per_op's MACs; the forward counts what it ran: they must agree.
      const Row& r = rows.back();
      if (!r.layers.empty() && std::fabs(r.layer_macs_per_image - total_macs) > 0.5) {
        throw Error(ErrorCode::kInternal, "the forward executed " + std::to_string(r.layer_macs_per_image) +
                                              " MACs per image, the bench counts " + std::to_string(total_macs) +
                                              ": its GOPS would be wrong (macs_per_op)");
      }
    }
  }
  print_profile(rows);
  print_layers(rows);
  bool warned = false;
  for (const Row& r : rows) {
    if (r.warning.empty()) continue;
    if (!warned) std::printf("\n");
    warned = true;
    std::printf("WARNING: batch %d threads %d: %s -- numbers not trustworthy\n", r.batch, r.threads, r.warning.c_str());
  }

  if (!o.json.empty()) {
    nlohmann::json peaks = nlohmann::json::object();
    for (const auto& [t, g] : peak_gops) peaks[std::to_string(t)] = g;
    nlohmann::json j = {
        {"machine",
         {{"cpu", cpu},
          {"cores", cores},
          {"load1_start", load_start},
          {"backend", backend},
          {"peak_instruction", peak.instruction},
          {"peak_gops_by_threads", peaks}}},
        {"model",
         {{"arch", m.arch},
          {"source", m.source},
          {"build_or_load_s", m.build_seconds},
          {"model_bytes", m.file_bytes},
          {"macs_per_image", total_macs},  // executed (macs_per_op)
          {"nominal_macs_per_image", nominal_macs}}},
        {"settings", {{"warmup_s", o.warmup}, {"seconds", o.seconds}, {"repeats", o.repeats}}},
        {"results", nlohmann::json::array()}};
    for (const Row& r : rows) j["results"].push_back(row_json(r, m, backend));
    std::ofstream f(o.json);
    f << j.dump(2) << "\n";
    if (!f) {
      std::fprintf(stderr, "intvit-bench model: cannot write %s\n", o.json.string().c_str());
      return 1;
    }
    std::printf("\nwrote %s\n", o.json.string().c_str());
  }
  return 0;
}

}  // namespace

int run_model_bench(int argc, char** argv) {
  Options o;
  try {
    if (!parse(argc, argv, o)) {
      usage(stdout);
      return 0;
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "intvit-bench model: %s\n", e.what());
    usage(stderr);
    return 2;
  }
  try {
    return run(o);
  } catch (const Error& e) {
    std::fprintf(stderr, "intvit-bench model: %s\n", e.what());
    return e.code() == ErrorCode::kInvalidArgument ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "intvit-bench model: %s\n", e.what());
    return 1;
  }
}
