#!/usr/bin/env bash
# usage: check_integer_path.sh OFFLINE_SOURCE... -- OBJECT...
# Runs check_no_float.sh on the objects of the inference layers (tests/no_float.test.cmake) except
# those compiled from the OFFLINE sources (paths relative to the source tree, marked INTVIT_OFFLINE
# in CMakeLists.txt). Every offline source must match exactly one object: a renamed or removed
# file fails here instead of silently leaving the exception list stale.
set -euo pipefail
offline=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do offline+=("$1"); shift; done
[ "${1:-}" = "--" ] || { echo "check_integer_path: missing -- before the objects" >&2; exit 2; }
shift
keep=()
declare -A matched=()
for o in "$@"; do
  skip=0
  for src in "${offline[@]}"; do
    if [[ "$o" == */"$src".o ]]; then skip=1; matched[$src]=1; fi
  done
  ((skip)) || keep+=("$o")
done
for src in "${offline[@]}"; do
  [ -n "${matched[$src]:-}" ] || { echo "check_integer_path: offline source $src has no object" >&2; exit 2; }
done
echo "check_integer_path: ${#keep[@]} inference objects scanned, ${#offline[@]} offline ones exempt: ${offline[*]}"
exec "$(dirname "$0")/check_no_float.sh" "${keep[@]}"
