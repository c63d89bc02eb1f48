#!/usr/bin/env bash
# The concurrency tests under ThreadSanitizer: configures the `tsan` preset (CMakePresets.json),
# builds only intvit_tsan_tests (the test files with such cases, tests/CMakeLists.txt; and the CLI),
# runs the Catch2 tags [concurrency] (tests/concurrency_test.cc, image_pipeline_test.cc) and
# [threads] (tests/c_api_test.cc, int_swin_test.cc) with halt_on_error=1, and exits
# non-zero on any failure or any TSan report. It first runs a hidden test with a planted race
# ([tsan_planted_race]) and fails unless TSan reports it.
#
#   tests/tsan/run_tsan.sh                   # build dir: build/tsan (the preset's)
#   INTVIT_TSAN_BUILD_DIR=build/x tests/tsan/run_tsan.sh
#   tests/tsan/run_tsan.sh '[thread_pool]'   # other Catch2 test specs instead of the default (only cases
#                                            # in the files intvit_tsan_tests holds: tag a new file's case
#                                            # [concurrency] or [threads] to bring the file in)
#
# Environment of the run, and why:
#  - INTVIT_ISA=avx2 (ref on a CPU without AVX2) unless already set: sessions that ask for the
#    default backend then use intvit's own kernels, not oneDNN. libdnnl and libgomp are not built
#    with TSan, so their internal synchronisation is invisible to it and it reports false races.
#    The [threads] test of c_api_test.cc still asks for "onednn" by name in one of its threads;
#    on a CPU without VNNI oneDNN is unsupported and that thread falls back to the default. If a
#    report on a VNNI machine comes from inside libdnnl/libgomp, run with '[concurrency]' only.
#  - OMP_NUM_THREADS=1, OMP_WAIT_POLICY=passive: what the test suite uses (tests/CMakeLists.txt);
#    with one OpenMP thread oneDNN runs on the calling thread only.
#  - TSAN_OPTIONS: halt_on_error=1 (first report ends the run with exit code 66),
#    second_deadlock_stack=1; anything the caller puts in TSAN_OPTIONS comes after and wins.
set -euo pipefail
cd "$(dirname "$0")/../.."

build_dir=${INTVIT_TSAN_BUILD_DIR:-build/tsan}
jobs=${INTVIT_TSAN_JOBS:-2}
specs=${1:-[concurrency],[threads]}
log=${build_dir}/tsan-run.log

if [[ -z "${INTVIT_ISA:-}" ]]; then
  if grep -qw avx2 /proc/cpuinfo; then export INTVIT_ISA=avx2; else export INTVIT_ISA=ref; fi
fi
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 exitcode=66 ${TSAN_OPTIONS:-}"

start=$SECONDS
cmake --preset tsan -B "$build_dir" >/dev/null
cmake --build "$build_dir" -j "$jobs" --target intvit_tsan_tests
echo "tsan build: $((SECONDS - start)) s"

# Self-check: the planted race in tests/concurrency_test.cc must be reported (exit 66), else
# this binary is not instrumented and a clean run below would prove nothing.
planted=0
"$build_dir/tests/intvit_tsan_tests" "[tsan_planted_race]" >"$log" 2>&1 || planted=$?
if [[ $planted -ne 66 ]] || ! grep -q "WARNING: ThreadSanitizer: data race" "$log"; then
  echo "FAIL: the planted race was not reported (exit $planted): is $build_dir built with -fsanitize=thread?" >&2
  exit 1
fi
echo "self-check: the planted race is reported"

start=$SECONDS
status=0
"$build_dir/tests/intvit_tsan_tests" "$specs" --durations yes 2>&1 | tee "$log" || status=$?
echo "tsan run ($specs, INTVIT_ISA=$INTVIT_ISA): $((SECONDS - start)) s, exit $status"

if grep -q "WARNING: ThreadSanitizer" "$log"; then
  echo "FAIL: ThreadSanitizer reported (see $log)" >&2
  exit 1
fi
if [[ $status -ne 0 ]]; then
  echo "FAIL: tests failed under TSan (exit $status, see $log)" >&2
  exit 1
fi
echo "OK: no ThreadSanitizer report"
