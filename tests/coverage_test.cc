// The list tests/coverage/summary.sh compares a test run with: every kernel variant of this build
// and whether this CPU can run it. Hidden ([.]): the summary runs it by name, CTest does not.
#include <catch2/catch.hpp>

#include <string>

#include "coverage.h"
#include "kernels/backend/cpu.h"
#include "models/fp32-gemm-kernels.h"
#include "models/resize-kernels.h"
#include "gemm_tester.h"
#include "nonlinear_tester.h"

using namespace intvit;

TEST_CASE("coverage: every kernel variant of this build", "[.][coverage]") {
  int n = 0;
  test::for_each_nonlinear_variant([&](const char* name, NonlinearIsa isa) {
    test::record_variant_known(name, nonlinear_isa_supported(isa), std::string("CPU lacks ") + nonlinear_isa_name(isa));
    ++n;
  });
  for (GemmIsa isa : kAllGemmIsas) {
    for (const char* family : {"gemm:", "engine:"}) {
      test::record_variant_known(family + std::string(gemm_isa_name(isa)), gemm_isa_supported(isa), gemm_isa_missing_feature(isa));
      ++n;
    }
  }
  for (const char* form : {"gemm:avx512vnni-stage-max-sub", "gemm:avx512vnni-stage-abs-sign"}) {  // Eq. 7's two forms
    test::record_variant_known(form, gemm_isa_supported(GemmIsa::kAvx512Vnni), gemm_isa_missing_feature(GemmIsa::kAvx512Vnni));
    ++n;
  }
  test::record_variant_known("gemm:avx512vnnivbmi-byte-table", gemm_isa_supported(GemmIsa::kAvx512Vnni) && cpu_features().avx512vbmi,
                             "CPU lacks AVX-512 VNNI or VBMI");  // the linear with GELU's byte table in registers (§3.6)
  ++n;
  for (const char* amx_operands : {"amx_pack_vnni4__avx512", "amx_pack_vnni4_kn__avx512", "amx_split_planes__avx512",
                                     "amx_split_planes_rows__avx512", "amx_row_sums_u8__avx512"}) {  // the amx kernels' operands
    test::record_variant_known(amx_operands, cpu_features().avx512, "CPU lacks AVX-512");
    ++n;
  }
  test::record_variant_known("amx_split_planes_rows__avx512vnnivbmi",  // attn@v16's split where the CPU has VBMI
                             cpu_features().avx512 && cpu_features().avx512vnni && cpu_features().avx512vbmi,
                             "CPU lacks AVX-512 VNNI or VBMI");
  ++n;
  for (ResizeIsa isa : kAllResizeIsas) {  // the resampler's passes (tests/resize_kernels_test.cc)
    if (isa == ResizeIsa::kRef) continue;
    for (const char* pass : {"resample_horizontal_rgb8__", "resample_vertical_u8__"}) {
      test::record_variant_known(pass + std::string(resize_isa_name(isa)), resize_isa_supported(isa),
                                 std::string("CPU lacks ") + resize_isa_name(isa));
      ++n;
    }
  }
  for (Fp32GemmIsa isa : kAllFp32GemmIsas) {  // the FP32 reference forward's product (tests/fp32_gemm_test.cc)
    if (isa == Fp32GemmIsa::kRef) continue;
    test::record_variant_known(std::string("fp32_gemm__") + fp32_gemm_isa_name(isa), fp32_gemm_isa_supported(isa),
                               std::string("CPU lacks ") + fp32_gemm_isa_name(isa));
    ++n;
  }
  // 2 families × (avx2, avx512), softmax, softmax16 and GELU × (avx2, avx512, avx512vbmi), av16 and
  // av16_u8 × (avx2, avxvnni, avx512, avx512vnni); GEMM and whole-engine runs per backend; the
  // two forms of the avx512vnni tile stage; the byte-table linear; 5 amx operands + the VBMI split; the resampler's 2 passes × (avx2, avx512);
  // the FP32 product × (avx2, avx512).
  CHECK(n == 2 * 2 + 3 * 3 + 2 * 4 + 2 * static_cast<int>(std::size(kAllGemmIsas)) + 2 + 1 + 5 + 1 + 2 * 2 + 2);
}
