#!/usr/bin/env bash
# usage: summary.sh BUILD_DIR
# The kernel-variant coverage of the last test run in BUILD_DIR (records in BUILD_DIR/coverage,
# written by every test process, see tests/coverage.h): what ran, what this CPU cannot run, and
# what it can run but no test ran. With CI=true the last kind fails the run.
set -euo pipefail
build=${1:?usage: summary.sh BUILD_DIR}
dir=$build/coverage
tests=$build/tests/intvit_tests
mkdir -p "$dir"
# The full list of variants of this build, with this CPU's support (a hidden test case).
INTVIT_COVERAGE_DIR=$dir "$tests" "coverage: every kernel variant of this build" > "$dir/list.log" 2>&1 ||
  { cat "$dir/list.log" >&2; echo "kernel variant coverage: could not list this build's variants" >&2; exit 1; }
# Variants the emulated binary (tests/avx512_emu: AVX-512 and AVX-VNNI) held to their references, as "emulated".
emu_dir=$build/coverage-avx512emu
{ sort -t$'\t' -k2,2 -k1,1 "$dir"/*.txt
  if compgen -G "$emu_dir/*.txt" >/dev/null; then awk -F'\t' '$1 == "ran" { print "emulated\t" $2 }' "$emu_dir"/*.txt; fi
} | awk -F'\t' '
  $1 == "ran" { ran[$2] = 1 }
  $1 == "emulated" { emulated[$2] = 1 }
  $1 == "known" && !($2 in known) { known[$2] = $3; why[$2] = $4; order[++n] = $2 }
  END {
    nr = nu = nm = ne = 0
    for (i = 1; i <= n; ++i) {
      v = order[i]
      if (v in ran) { r[++nr] = v }
      else if (known[v] == 0 && (v in emulated)) { e[++ne] = v; u[++nu] = v " (" why[v] "; ran emulated)" }
      else if (known[v] == 0) { u[++nu] = v " (" why[v] ")" }
      else { m[++nm] = v }
    }
    printf "== kernel variant coverage: %d variants ran, %d not runnable on this CPU, %d runnable but not run\n", nr, nu, nm
    line = "  ran:"; for (i = 1; i <= nr; ++i) line = line " " r[i]; print line
    if (nu) { line = "  not runnable on this CPU:"; for (i = 1; i <= nu; ++i) line = line " " u[i]; print line }
    printf "  of those, %d ran on emulated AVX-512 / AVX-VNNI instructions (tests/avx512_emu; its inline-asm loops as intrinsics)\n", ne
    if (nm) { line = "  RUNNABLE BUT NOT RUN:"; for (i = 1; i <= nm; ++i) line = line " " m[i]; print line }
    exit nm > 0 ? 3 : 0
  }' && status=0 || status=$?
if [ "$status" -eq 3 ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "kernel variant coverage: a variant this CPU supports was not run (CI=true: failing)" >&2
    exit 1
  fi
  exit 0
fi
exit "$status"
