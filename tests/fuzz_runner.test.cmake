# tests/fuzz/run_fuzzers.sh's verdict when targets run in parallel (-j, as CI runs them), on stand-in
# targets: no fuzz build needed (tests/fuzz_runner_check.cmake).
add_test(NAME fuzz_runner_parallel_verdict
  COMMAND ${CMAKE_COMMAND} -DSCRIPT=${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run_fuzzers.sh
          -DOUT=${CMAKE_CURRENT_BINARY_DIR}/fuzz_runner -P ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_runner_check.cmake)
