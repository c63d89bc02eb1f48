# Smoke test of `intvit-bench preprocess` (run with cmake -P): one pass over a few small images must
# print the decode row and a resize row per variant this CPU runs (each SIMD one identical to ref);
# a bad argument must exit 2.
#   cmake -DBENCH=<intvit-bench> -DIMAGES=<folder of images> -P preprocess_bench_smoke.cmake
if(NOT BENCH OR NOT IMAGES)
  message(FATAL_ERROR "usage: cmake -DBENCH=... -DIMAGES=... -P preprocess_bench_smoke.cmake")
endif()
execute_process(
  COMMAND "${BENCH}" preprocess --images "${IMAGES}" --passes 1 --input-size 8 --crop-pct 0.5
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "intvit-bench preprocess failed (${rc}):\n${out}\n${err}")
endif()
foreach(row "decode +[0-9.]+ µs/image" "resize\\+crop ref +[0-9.]+ µs/image")
  if(NOT out MATCHES "${row}")
    message(FATAL_ERROR "no row matching '${row}' in:\n${out}")
  endif()
endforeach()
string(REGEX MATCHALL "resize\\+crop [a-z0-9]+ " variants "${out}")
string(REGEX MATCHALL "pixels identical to ref" identical "${out}")
list(LENGTH variants n_variants)
list(LENGTH identical n_identical)
math(EXPR n_simd "${n_variants} - 1")
if(NOT n_identical EQUAL n_simd)
  message(FATAL_ERROR "${n_variants} resize rows but ${n_identical} SIMD rows identical to ref:\n${out}")
endif()
execute_process(COMMAND "${BENCH}" preprocess --images "${IMAGES}" --isa bogus
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT err MATCHES "unknown resize variant 'bogus'")
  message(FATAL_ERROR "--isa bogus: expected exit 2 naming the variant, got ${rc}:\n${out}\n${err}")
endif()
