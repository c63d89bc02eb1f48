#!/usr/bin/env bash
# Runs the libFuzzer targets (already built: cmake --preset fuzz && cmake --build --preset fuzz),
# each for a bounded time, -j at a time (each libFuzzer process uses one core). Each target starts from its committed seeds
# (tests/fuzz/corpus/<target>, read only) and writes new inputs to a temporary working corpus, so
# the committed corpus never grows. Prints executions and findings per target; exits 1 if any
# target found something (crash, sanitizer report, leak, timeout, out-of-memory, or a target that
# did not run), 2 on usage errors.
#
#   tests/fuzz/run_fuzzers.sh [-c] [-t SECONDS] [-j JOBS] [-b BUILD_DIR] [-k] [-r] [TARGET...]
#     -c  CI mode: for every target (unless named), first the regression replay of -r, then
#         fuzzing for 45 s (unless -t / $FUZZ_SECONDS); prints the libFuzzer seed of each run
#         ($FUZZ_SEED fixes it, to rerun a CI run exactly). The exit status is the verdict: a
#         replay failure or a fuzzing finding fails, and the other targets still run.
#     -t  seconds per target (default 60, or $FUZZ_SECONDS; 45 in CI mode)
#     -j  targets run at once (default 1); each target's output is printed when it ends, and the
#         summary lists the targets in order. More jobs than cores would shorten each target's
#         fuzzing and make its per-input timeout fire on slow inputs.
#     -b  binary dir of the fuzz preset (default <repo>/build/fuzz)
#     -k  keep the working directory (it is printed) even without findings
#     -r  regression only: run every committed seed and the target's robustness corpus
#         (tests/corpus/model, tests/corpus/image) once through the instrumented target, one file
#         per process, and list every file that fails; no fuzzing. Catches bugs the ordinary
#         asan build cannot see (stb_image is only instrumented here).
#   INTVIT_ISA=<backend> makes fuzz_model_loader compare that backend with ref (default: the best);
#   INTVIT_ISA=ref also runs the reference nonlinear kernels inside the forward.
# Findings are copied to $FUZZ_ARTIFACTS (default <repo>/build/fuzz-findings) with the command that
# reproduces each one: <build>/tests/fuzz/<target> <artifact>.
set -u -o pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${FUZZ_SECONDS:-}"
build="$repo/build/fuzz"
keep=0
regress=0
ci=0
jobs=1
while getopts "ct:j:b:krh" opt; do
  case "$opt" in
    c) ci=1 ;;
    t) seconds="$OPTARG" ;;
    j) jobs="$OPTARG" ;;
    b) build="$OPTARG" ;;
    k) keep=1 ;;
    r) regress=1 ;;
    *) sed -n '2,33p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ -z "$seconds" ]; then
  if [ "$ci" -eq 1 ]; then seconds=45; else seconds=60; fi
fi
case "$seconds" in
  '' | *[!0-9]* | 0) echo "run_fuzzers: -t needs a positive number of seconds, got '$seconds'" >&2; exit 2 ;;
esac
case "$jobs" in
  '' | *[!0-9]* | 0) echo "run_fuzzers: -j needs a positive number of jobs, got '$jobs'" >&2; exit 2 ;;
esac
seed_opt=()
if [ -n "${FUZZ_SEED:-}" ]; then seed_opt=("-seed=$FUZZ_SEED"); fi
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_safetensors fuzz_model_loader fuzz_image fuzz_c_api)

# Limits: 2 GiB RSS, 1 GiB for any single allocation (the largest legitimate one is a
# kMaxImagePixels RGB image, 192 MiB, plus stb_image's 4-channel scratch), 10 s per input.
# Per-target input size cap: room above the largest seed (model seeds are ~15 KB).
max_len() {
  case "$1" in
    fuzz_model_loader) echo 32768 ;;
    fuzz_safetensors) echo 32768 ;;
    fuzz_image) echo 16384 ;;
    fuzz_c_api) echo 32768 ;;  # 24-byte control block + a model seed
    *) echo 8192 ;;
  esac
}

# The robustness corpus folder each target also replays in -r / -c mode. fuzz_c_api has none: its
# inputs begin with a control block.
robustness_dir() {
  case "$1" in
    fuzz_model_loader | fuzz_safetensors) echo "$repo/tests/corpus/model" ;;
    fuzz_image) echo "$repo/tests/corpus/image" ;;
  esac
}

artifacts="${FUZZ_ARTIFACTS:-$repo/build/fuzz-findings}"
work="$(mktemp -d "${TMPDIR:-/tmp}/intvit-fuzz.XXXXXX")"
# Fresh heap blocks are filled with 0xFF (not ASan's default 4 KB of 0xBE), so a decoder that reads
# memory it never wrote goes wrong deterministically (stb_image's undefined Huffman tables).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:symbolize=1:malloc_fill_byte=255:max_malloc_fill_size=1048576}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

for t in "${targets[@]}"; do
  if [ ! -x "$build/tests/fuzz/$t" ]; then
    echo "run_fuzzers: $build/tests/fuzz/$t is not built (cmake --preset fuzz && cmake --build --preset fuzz)" >&2
    exit 2
  fi
done

# One target: replay (-r / -c), then fuzzing (unless -r). Its report goes to stdout, its summary
# lines to $work/$t.summary; returns 1 on a failure or finding.
run_target() {
  local t="$1" status=0
  local bin="$build/tests/fuzz/$t" seeds="$repo/tests/fuzz/corpus/$t"
  if [ "$regress" -eq 1 ] || [ "$ci" -eq 1 ]; then
    local failed=0 ran=0 files f
    mapfile -t files < <(find "$seeds" $(robustness_dir "$t") -type f ! -name manifest.txt ! -name '*.py' 2>/dev/null | sort)
    echo "== $t: replaying ${#files[@]} files"
    for f in "${files[@]}"; do
      ran=$((ran + 1))
      if ! "$bin" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 "$f" >"$work/$t.log" 2>&1; then
        failed=$((failed + 1))
        echo "   FAIL $t ${f#"$repo"/}: $(grep -m1 -E '^==[0-9]+==ERROR|runtime error|^FINDING|ERROR: libFuzzer' "$work/$t.log")"
        echo "   reproduce: $bin $f"
      fi
    done
    [ "$failed" -ne 0 ] && status=1
    printf '%-20s %12s files replayed  failures %d\n' "$t" "$ran" "$failed" >>"$work/$t.summary"
    [ "$regress" -eq 1 ] && return "$status"
  fi
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  local dict=() seed_dirs=()
  [ -f "$repo/tests/fuzz/$t.dict" ] && dict=("-dict=$repo/tests/fuzz/$t.dict")
  [ -d "$seeds" ] && seed_dirs=("$seeds")
  local log="$work/$t/fuzz.log"
  echo "== $t: fuzzing ${seconds}s, max_len $(max_len "$t"), seeds ${seeds#"$repo"/}"
  "$bin" "$work/$t/corpus" "${seed_dirs[@]}" "${dict[@]}" "${seed_opt[@]}" \
    -max_total_time="$seconds" -max_len="$(max_len "$t")" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$work/$t/artifacts/" >"$log" 2>&1
  local rc=$?
  local execs cov seed found
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
  seed="$(sed -n 's/^INFO: Seed: *//p' "$log" | head -1)"
  found=$(find "$work/$t/artifacts" -type f | wc -l)
  [ "$rc" -ne 0 ] && [ "$found" -eq 0 ] && found=1  # died without writing an artifact
  if [ "$rc" -eq 0 ] && [ -z "$execs" ]; then  # exited 0 but never fuzzed (e.g. a bad flag)
    found=1
    rc=1
  fi
  echo "   seed ${seed:-?}, ${execs:-?} executions, exit $rc"
  if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
    status=1
    mkdir -p "$artifacts/$t"
    cp "$work/$t/artifacts/"* "$log" "$artifacts/$t/" 2>/dev/null
    echo "   FINDING (exit $rc): $(grep -m1 -E '^==[0-9]+==ERROR|runtime error|^FINDING|ERROR: libFuzzer' "$log")"
    local a
    for a in "$work/$t/artifacts/"*; do
      [ -e "$a" ] && echo "   reproduce: $bin $artifacts/$t/$(basename "$a")"
    done
    echo "   log: $artifacts/$t/fuzz.log"
  fi
  printf '%-20s %12s execs  cov %6s  findings %d  seed %s\n' "$t" "${execs:-?}" "${cov:-?}" "$found" "${seed:-?}" >>"$work/$t.summary"
  return "$status"
}

# Up to $jobs targets at once, each in the background with its report in $work/$t.out (printed
# whole when it ends, so reports never interleave) and its verdict in $work/$t.status.
status=0
print_finished() {
  local t
  for t in "${targets[@]}"; do
    if [ -e "$work/$t.status" ] && [ ! -e "$work/$t.printed" ]; then
      cat "$work/$t.out"
      [ "$(cat "$work/$t.status")" -ne 0 ] && status=1
      touch "$work/$t.printed"
    fi
  done
}
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
    wait -n
    print_finished
  done
  { run_target "$t" >"$work/$t.out" 2>&1; echo $? >"$work/$t.status"; } &
done
wait
print_finished

if [ "$regress" -eq 1 ]; then
  echo "== summary (regression replay)"
elif [ "$ci" -eq 1 ]; then
  echo "== summary (CI: replay, then ${seconds}s of fuzzing per target)"
else
  echo "== summary (${seconds}s per target)"
fi
for t in "${targets[@]}"; do cat "$work/$t.summary"; done
if [ "$keep" -eq 1 ] || [ "$status" -ne 0 ]; then
  echo "working corpus and logs kept in $work"
else
  rm -rf "$work"
fi
exit "$status"
