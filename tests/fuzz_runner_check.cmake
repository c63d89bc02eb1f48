# cmake -DSCRIPT=<tests/fuzz/run_fuzzers.sh> -DOUT=<scratch> -P fuzz_runner_check.cmake
# run_fuzzers.sh's verdict with targets running in parallel (-j), on stand-in targets (shell scripts
# that answer like libFuzzer): a finding in one target fails the run and is reported whole, the
# summary keeps the targets' order, -j 2 runs two targets at once, and a bad -j is a usage error.
foreach(v SCRIPT OUT)
  if(NOT ${v})
    message(FATAL_ERROR "usage: cmake -DSCRIPT=... -DOUT=... -P fuzz_runner_check.cmake")
  endif()
endforeach()
find_program(BASH bash REQUIRED)
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}/build/tests/fuzz" "${OUT}/tmp")

# A stand-in target: `body` runs before it reports one run of 5 executions and exits with `rc`.
function(fake_target name body rc)
  file(WRITE "${OUT}/${name}.sh" "#!/bin/sh\n${body}\necho 'INFO: Seed: 7'\necho 'stat::number_of_executed_units: 5'\nexit ${rc}\n")
  file(COPY "${OUT}/${name}.sh" DESTINATION "${OUT}/build/tests/fuzz"
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
  file(RENAME "${OUT}/build/tests/fuzz/${name}.sh" "${OUT}/build/tests/fuzz/${name}")
endfunction()

function(run_fuzzers out_var rc_var)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env "TMPDIR=${OUT}/tmp" "FUZZ_ARTIFACTS=${OUT}/findings"
                          ${BASH} "${SCRIPT}" -b "${OUT}/build" ${ARGN}
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  set(${out_var} "${out}${err}" PARENT_SCOPE)
  set(${rc_var} "${rc}" PARENT_SCOPE)
endfunction()

# 1. -j 2: fuzz_safetensors waits (10 s at most) for fuzz_image to start, so it finds nothing only if
# both run at once; fuzz_c_api finds something.
fake_target(fuzz_safetensors
  "i=0; while [ ! -e '${OUT}/image_started' ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; [ -e '${OUT}/image_started' ] || { echo '==1==ERROR: not in parallel'; exit 1; }" 0)
fake_target(fuzz_image "touch '${OUT}/image_started'" 0)
fake_target(fuzz_c_api "echo '==1==ERROR: AddressSanitizer: stand-in finding'" 1)
run_fuzzers(out rc -t 1 -j 2 fuzz_safetensors fuzz_image fuzz_c_api)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "a finding in one of three targets: want exit 1, got ${rc}:\n${out}")
endif()
if(NOT out MATCHES "== fuzz_c_api: fuzzing 1s[^\n]*\n   seed [^\n]*exit 1\n   FINDING \\(exit 1\\): ==1==ERROR: AddressSanitizer: stand-in finding")
  message(FATAL_ERROR "the finding's report is missing or interleaved:\n${out}")
endif()
if(NOT out MATCHES "summary[^\n]*\nfuzz_safetensors +5 execs[^\n]*findings 0[^\n]*\nfuzz_image +5 execs[^\n]*findings 0[^\n]*\nfuzz_c_api +5 execs[^\n]*findings 1")
  message(FATAL_ERROR "want the summary in target order, fuzz_safetensors and fuzz_image without findings (both ran at once):\n${out}")
endif()

# 2. No finding anywhere: exit 0.
fake_target(fuzz_c_api "" 0)
file(REMOVE "${OUT}/image_started")
run_fuzzers(out rc -t 1 -j 2 fuzz_image fuzz_c_api)
if(NOT rc EQUAL 0 OR NOT out MATCHES "fuzz_image +5 execs[^\n]*findings 0[^\n]*\nfuzz_c_api +5 execs[^\n]*findings 0")
  message(FATAL_ERROR "no findings: want exit 0 and both in the summary, got ${rc}:\n${out}")
endif()

# 3. A bad -j: usage error.
run_fuzzers(out rc -t 1 -j 0 fuzz_image)
if(NOT rc EQUAL 2 OR NOT out MATCHES "-j needs a positive number of jobs, got '0'")
  message(FATAL_ERROR "-j 0: want exit 2 naming -j, got ${rc}:\n${out}")
endif()
message(STATUS "run_fuzzers.sh -j: parallel targets, whole reports, ordered summary, exit status")
file(REMOVE_RECURSE "${OUT}")
