#!/usr/bin/env bash
# Picks the objects of the integer inference path out of the library's objects and runs
# check_no_float.sh on them. Offline code is excluded by path: parameter builders (*-params.cc),
# the quantizer/calibration (weights/), the FP32 reference and preprocessing (models/). Kept: the
# kernels, the executor and what it runs from (graph IR, segments, memory plan); the graph typing
# (engine/int_vit_graph.cc) copies offline scales at session setup and is not kept.
set -euo pipefail
keep=()
for o in "$@"; do
  case "$o" in
    *-params.cc.o) ;;
    */kernels/*.o|*/engine/int_vit.cc.o|*/engine/int_executor.cc.o|*/engine/graph.cc.o|*/engine/memory_plan.cc.o) keep+=("$o") ;;
  esac
done
exec "$(dirname "$0")/check_no_float.sh" "${keep[@]}"
