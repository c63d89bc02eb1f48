# intvit-bench model runs end to end on the shipped model and writes the JSON run_peers.py reads
# (bench/model_bench_smoke.cmake checks the fields and that a bad argument exits 2). Speed is
# never asserted here: speed goals live in bench/.
add_test(NAME bench_model_smoke
  COMMAND ${CMAKE_COMMAND} -DBENCH=$<TARGET_FILE:intvit-bench> -DOUT=${CMAKE_CURRENT_BINARY_DIR}/bench_model_smoke
          -DMODEL=${PROJECT_SOURCE_DIR}/models/default/fashion-vit -P ${PROJECT_SOURCE_DIR}/bench/model_bench_smoke.cmake)
# intvit-bench kernels: one row with --clock --json (bench/kernels_bench_smoke.cmake).
add_test(NAME bench_kernels_smoke
  COMMAND ${CMAKE_COMMAND} -DBENCH=$<TARGET_FILE:intvit-bench> -P ${PROJECT_SOURCE_DIR}/bench/kernels_bench_smoke.cmake)
