// See bench/machine.h.
#include "bench/machine.h"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

double measure_vpdpbusd_peak_gops(double seconds);        // vnni_peak-avx512vnni.cc
double measure_tdpbusd_peak_gops(double seconds);         // tdpbusd_peak-amx.cc
double measure_vpdpbusd_ymm_peak_gops(double seconds);    // vnni_peak-avxvnni.cc
double measure_vpmaddwd_vpaddd_peak_gops(double seconds); // vpmaddwd_peak-avx2.cc

namespace intvit::bench {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double system_busy_seconds() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  f >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  if (!f) return 0;
  return static_cast<double>(user + nice + system + irq + softirq + steal) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double own_cpu_seconds() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + 1e-6 * static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

}  // namespace

double load_average_1min() {
  std::ifstream f("/proc/loadavg");
  double load = -1;
  if (!(f >> load)) return -1;
  return load;
}

void OthersCpu::start() {
  wall_ = now_seconds();
  busy_ = system_busy_seconds();
  own_ = own_cpu_seconds();
}

double OthersCpu::stop() const {
  const double wall = now_seconds() - wall_;
  const double others = (system_busy_seconds() - busy_) - (own_cpu_seconds() - own_);
  return wall > 0 && others > 0 ? others / wall : 0.0;
}

bool reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  if (!f) return false;
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

double peak_rss_mib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream in(line.substr(6));
      double kib = 0;
      if (in >> kib) return kib / 1024;
    }
  }
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_maxrss) / 1024;  // KiB on Linux
}

std::string cpu_model_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

InstructionPeak instruction_peak(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kRef:
      return {"none (scalar reference)", "", nullptr};
    case GemmIsa::kAvx2:
      return {"vpmaddwd+vpaddd ymm", "", &measure_vpmaddwd_vpaddd_peak_gops};
    case GemmIsa::kAvxVnni:
      return {"vpdpbusd ymm", "", &measure_vpdpbusd_ymm_peak_gops};
    case GemmIsa::kAvx512Vnni:
      return {"vpdpbusd zmm", "", &measure_vpdpbusd_peak_gops};
    case GemmIsa::kAmx:
      return {"tdpbusd tile", "", &measure_tdpbusd_peak_gops};
    case GemmIsa::kAmxEmu:
      return {"none (emulated tiles)", "", nullptr};
    case GemmIsa::kOneDnn: {
      // oneDNN picks its own kernels; attention runs best_native_gemm_isa() (gemm.h). Judged
      // against the native backend's instruction.
      const GemmIsa native = best_native_gemm_isa();
      InstructionPeak p = instruction_peak(native);
      p.note = std::string("onednn judged against ") + gemm_isa_name(native) + "'s instruction";
      return p;
    }
  }
  return {};
}

double measure_peak_gops(const InstructionPeak& peak, int threads, double seconds) {
  if (!peak.measure) return 0;
  if (threads <= 1) return peak.measure(seconds);
  std::vector<double> gops(static_cast<size_t>(threads));
  std::atomic<int> ready{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < threads) std::this_thread::yield();  // start together
      gops[static_cast<size_t>(t)] = peak.measure(seconds);
    });
  }
  for (auto& th : pool) th.join();
  double sum = 0;
  for (double g : gops) sum += g;
  return sum;
}

double core_clock_ghz() {
  constexpr int kAdds = 40000;  // ~14 us at 3 GHz: short against the clock's own changes
  uint64_t x = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kAdds; ++i) __asm__ volatile("add $1, %0" : "+r"(x));  // each add waits for the one before
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  return ns > 0 ? kAdds / ns : 0;
}

}  // namespace intvit::bench
