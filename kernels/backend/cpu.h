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
};

const CpuFeatures& cpu_features();

}  // namespace intvit
