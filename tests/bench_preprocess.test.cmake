# intvit-bench preprocess runs on the resize goldens' PNGs (small images: input 8, crop_pct 0.5) and
# reports decode and every resize variant, each SIMD one with pixels identical to ref; a bad argument
# exits 2 (bench/preprocess_bench_smoke.cmake). Speed is never asserted here.
add_test(NAME bench_preprocess_smoke
  COMMAND ${CMAKE_COMMAND} -DBENCH=$<TARGET_FILE:intvit-bench> -DIMAGES=${PROJECT_SOURCE_DIR}/tests/data/images/resize
          -P ${PROJECT_SOURCE_DIR}/bench/preprocess_bench_smoke.cmake)
