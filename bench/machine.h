// What intvit-bench needs to know about the machine it measures on: how busy it is (other
// engineers share it), the process's peak resident memory, and the measured peak throughput of the
// multiply instruction a GEMM backend's inner loop uses (the bound a model's GOPS are judged by).
#pragma once

#include <string>

#include "kernels/gemm/gemm.h"

namespace intvit::bench {

// First field of /proc/loadavg, or -1 if it cannot be read.
double load_average_1min();

// Average number of cores used by *other* processes between start() and stop(): busy time of all
// cores (/proc/stat: user+nice+system+irq+softirq+steal) minus this process's CPU time, per second
// of wall time. The same measure as bench/peers/timing.py's OthersCpu.
class OthersCpu {
 public:
  void start();
  double stop() const;

 private:
  double wall_ = 0, busy_ = 0, own_ = 0;
};

// Resets the kernel's peak-RSS mark of this process (/proc/self/clear_refs "5"); false if refused.
bool reset_peak_rss();
// Peak resident set in MiB: VmHWM of /proc/self/status (since the last reset), else ru_maxrss.
double peak_rss_mib();

// "model name" of /proc/cpuinfo, or "unknown".
std::string cpu_model_name();

// The multiply instruction of a backend's GEMM inner loop and its measurement (1 thread, best of
// short trials within `seconds`). measure is null for the reference backend (no SIMD bound).
struct InstructionPeak {
  std::string instruction;  // e.g. "vpmaddwd+vpaddd ymm"
  std::string note;         // e.g. "onednn: bound of avx2's instruction"
  double (*measure)(double seconds) = nullptr;
};
InstructionPeak instruction_peak(GemmIsa isa);

// The peak on `threads` threads measured at once (sum of the threads' GOPS), or 0 without measure.
double measure_peak_gops(const InstructionPeak& peak, int threads, double seconds);

// The clock this core runs at now, in GHz: a chain of dependent adds (one per cycle on every x86
// core intvit targets) over wall time. Read right after some work, it is the clock the power
// management chose for that work (it changes over a millisecond or more). Preemption and a
// hypervisor's steal read as a lower clock: compare medians of alternating readings.
double core_clock_ghz();

}  // namespace intvit::bench
