# intvit trace (tests/trace_cli.cmake): the same trace bytes on every backend this CPU has,
# --compare's exit status and messages, an FP32 trace's SQNR report, and clear errors on bad inputs.
add_test(NAME cli_trace
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:intvit_cli> -DMODEL=${PROJECT_SOURCE_DIR}/models/default/fashion-vit
          -DSAMPLES=${PROJECT_SOURCE_DIR}/models/default/samples -DOUT=${CMAKE_CURRENT_BINARY_DIR}/cli_trace
          -P ${CMAKE_CURRENT_SOURCE_DIR}/trace_cli.cmake)
set_tests_properties(cli_trace PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=1")
add_test(NAME cli_trace_help COMMAND intvit_cli trace --help)
set_tests_properties(cli_trace_help PROPERTIES PASS_REGULAR_EXPRESSION "intvit trace --compare A B")
# The same for the Swin (tests/trace_swin_cli.cmake): the shipped FP32 Swin, quantized in the test.
add_test(NAME cli_trace_swin
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:intvit_cli> -DMODEL=${PROJECT_SOURCE_DIR}/models/default/fashion-swin
          -DSAMPLES=${PROJECT_SOURCE_DIR}/models/default/samples -DOUT=${CMAKE_CURRENT_BINARY_DIR}/cli_trace_swin
          -P ${CMAKE_CURRENT_SOURCE_DIR}/trace_swin_cli.cmake)
set_tests_properties(cli_trace_swin PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=1")
