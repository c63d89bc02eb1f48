#include "kernels/backend/cpu.h"

#include <cpuid.h>

namespace intvit {
namespace {

CpuFeatures detect_cpu() {
  CpuFeatures f;
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return f;
  f.intel = ebx == 0x756E6547 && edx == 0x49656E69 && ecx == 0x6C65746E;  // "Genu" "ineI" "ntel"
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool fma = ecx & (1u << 12), osxsave = ecx & (1u << 27), avx = ecx & (1u << 28);
  if (!osxsave || !avx) return f;
  unsigned xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const bool os_avx = (xcr0_lo & 0x6) == 0x6;       // XMM + YMM state
  const bool os_avx512 = (xcr0_lo & 0xE6) == 0xE6;  // + opmask, ZMM_Hi256, Hi16_ZMM
  if (!os_avx || __get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const bool avx2 = ebx & (1u << 5), bmi2 = ebx & (1u << 8);
  const bool avx512f = ebx & (1u << 16), avx512dq = ebx & (1u << 17), avx512bw = ebx & (1u << 30),
             avx512vl = ebx & (1u << 31), avx512vnni = ecx & (1u << 11), avx512vbmi = ecx & (1u << 1);
  const unsigned max_subleaf = eax;
  unsigned eax1 = 0, ebx1, ecx1, edx1;
  if (max_subleaf >= 1) __cpuid_count(7, 1, eax1, ebx1, ecx1, edx1);
  const bool avxvnni = eax1 & (1u << 4);
  f.avx2 = avx2 && fma && bmi2;
  f.avxvnni = f.avx2 && avxvnni;
  f.avx512 = f.avx2 && os_avx512 && avx512f && avx512dq && avx512bw && avx512vl;
  f.avx512vnni = f.avx512 && avx512vnni;
  f.avx512vbmi = f.avx512 && avx512vbmi;
  f.native_vnni = f.avxvnni || f.avx512vnni;
  const bool amx_tile = edx & (1u << 24), amx_int8 = edx & (1u << 25);
  const bool os_amx = (xcr0_lo & (3u << 17)) == (3u << 17);  // XTILECFG + XTILEDATA
  f.amx_int8 = amx_tile && amx_int8 && os_amx;
  f.amx_missing = !(amx_tile && amx_int8) ? "no AMX-INT8: CPUID AMX-TILE/AMX-INT8 bits clear"
                  : !os_amx                ? "no AMX-INT8: OS does not enable tile state (XCR0 bits 17/18 clear)"
                                           : "";
#if defined(INTVIT_AVX512_EMULATION)
  // tests/avx512_emu: the AVX-512 kernels run on SIMDe's portable code there, the AVX-VNNI ones on
  // AVX2 twins of their vpdpbusd / vpdpwssd, on any AVX2 CPU.
  f.avx512 = f.avx512vnni = f.avx512vbmi = f.avxvnni = f.avx2;
#endif
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect_cpu();
  return f;
}

}  // namespace intvit
