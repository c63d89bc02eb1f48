# The real AMX tile kernels against the reference (the hidden Catch2 case [.amx-real] of
# tests/gemm_amx_test.cc). On a CPU or OS without AMX-INT8 the case prints
# "amx: not run on this CPU (<reason>)" and CTest lists this test as Skipped, so a run that did not
# exercise the real tiles says so; the emulated tiles are tested by the gemm cases on every host.
add_test(NAME gemm_amx_real_tiles COMMAND intvit_tests "[.amx-real]")
set_tests_properties(gemm_amx_real_tiles PROPERTIES SKIP_REGULAR_EXPRESSION "amx: not run on this CPU" TIMEOUT 900)
