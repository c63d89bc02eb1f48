// The one CPU-feature probe: what this CPU and OS can run, read once by CPUID/XGETBV. Every
// "is this variant supported" question (GEMM backends, nonlinear variants, tests) ends here.
#pragma once

namespace intvit {

struct CpuFeatures {
  bool avx2 = false;        // AVX2 + FMA + BMI2 with OS-enabled YMM state (the -mavx2 file flags)
  bool avxvnni = false;     // + AVX-VNNI
  bool avx512 = false;      // + AVX-512 F/BW/VL/DQ with OS-enabled ZMM state (the *-avx512.cc flags)
  bool avx512vnni = false;  // + AVX512-VNNI
  bool avx512vbmi = false;  // + AVX512-VBMI (vpermb / vpermi2b byte tables)
  // The CPU's own VNNI (AVX-VNNI or AVX512-VNNI), which oneDNN's CPUID dispatch sees: avxvnni ||
  // avx512vnni, except in tests/avx512_emu, where those report the emulated AVX-512 kernels.
  bool native_vnni = false;
  bool intel = false;       // vendor GenuineIntel (kernels whose best instruction mix differs by vendor)
  // AMX-TILE + AMX-INT8 (CPUID.7.0:EDX bits 24/25) with the tile state OS-enabled (XCR0 bits 17/18).
  // Linux still has to grant the process the tile data state: kernels/gemm/amx-support.cc.
  bool amx_int8 = false;
  const char* amx_missing = "no AMX-INT8: CPUID leaf 7 or OS XSAVE absent";  // why amx_int8 is false ("" when true)
};

const CpuFeatures& cpu_features();

}  // namespace intvit
