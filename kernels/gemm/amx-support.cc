// Whether this process may run AMX-INT8 tile instructions (gemm.h amx_usable), decided once.
// Three independent gates, each of which is off on some real machine:
//   1. the CPU has them: CPUID.(EAX=7,ECX=0):EDX bit 24 (AMX-TILE) and bit 25 (AMX-INT8);
//   2. the OS manages the tile state: XCR0 bit 17 (XTILECFG) and bit 18 (XTILEDATA) — hypervisors
//      often hide AMX here;
//   (1 and 2 are read by the one CPU probe, kernels/backend/cpu.cc)
//   3. Linux (>= 5.16) grants this process the 8 KiB XTILEDATA state: the state is off by default
//      and must be requested with arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) before the
//      first tile instruction (else SIGILL); ARCH_GET_XCOMP_PERM confirms the grant. The request
//      covers every thread of the process, present and future.
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "kernels/backend/cpu.h"
#include "kernels/gemm/gemm.h"

namespace intvit {
namespace {

constexpr int kArchGetXcompPerm = 0x1022;
constexpr int kArchReqXcompPerm = 0x1023;
constexpr int kXfeatureXtiledata = 18;

// "" when usable, else the reason.
std::string probe_amx() {
  if (!cpu_features().amx_int8) return cpu_features().amx_missing;
#if defined(__linux__) && defined(SYS_arch_prctl)
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) {
    return std::string("AMX-INT8 present but the kernel refused ARCH_REQ_XCOMP_PERM(XTILEDATA): ") + std::strerror(errno);
  }
  uint64_t granted = 0;
  if (syscall(SYS_arch_prctl, kArchGetXcompPerm, &granted) != 0 || !(granted & (uint64_t{1} << kXfeatureXtiledata))) {
    return "AMX-INT8 present but ARCH_GET_XCOMP_PERM does not confirm XTILEDATA";
  }
  return "";
#else
  return "AMX-INT8 present but this OS has no ARCH_REQ_XCOMP_PERM (Linux >= 5.16 needed)";
#endif
}

const std::string& amx_reason() {
  static const std::string reason = probe_amx();  // thread-safe, once per process
  return reason;
}

}  // namespace

bool amx_usable() { return amx_reason().empty(); }

const char* amx_unavailable_reason() { return amx_reason().c_str(); }

}  // namespace intvit
