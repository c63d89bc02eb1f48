// Which kernel variants a test process held to their reference, and which it could not run on this
// CPU: a green run says what it covered. Testers record (nonlinear_tester.h, gemm_tester.h, the
// engine's across-backends test); at exit the process prints one line and appends its records to
// $INTVIT_COVERAGE_DIR (default: <build>/coverage) for tests/coverage/summary.sh, which .ci/test
// ends with.
#pragma once

#include <string>

namespace intvit::test {

// `variant` names a kernel function or a backend of a family, e.g. "softmax_rows__avx512",
// "gemm:avx512vnni", "engine:onednn".
void record_variant_ran(const std::string& variant);
void record_variant_unsupported(const std::string& variant, const std::string& why);
// The full list, with whether this CPU and build can run each one (the hidden test case
// "coverage: every kernel variant of this build" records it for the summary).
void record_variant_known(const std::string& variant, bool supported, const std::string& why);

}  // namespace intvit::test
