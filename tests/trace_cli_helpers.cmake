# Helpers of the CLI scripts (tests/trace_cli.cmake, tests/trace_swin_cli.cmake, tests/quantize_calib_cli.cmake,
# tests/cli_usage_exit.cmake, tests/eval_labels_cli.cmake);
# they read CLI, the intvit executable.

function(intvit out_var err_var rc_var)
  execute_process(COMMAND "${CLI}" ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${err_var} "${err}" PARENT_SCOPE)
  set(${rc_var} "${rc}" PARENT_SCOPE)
endfunction()

# Runs the command and requires exit `want` and stdout+stderr matching `pattern`.
function(expect want pattern)
  intvit(out err rc ${ARGN})
  if(NOT rc STREQUAL "${want}" OR NOT "${out}${err}" MATCHES "${pattern}")
    message(FATAL_ERROR "intvit ${ARGN}: want exit ${want} and output matching '${pattern}', got exit ${rc}:\n${out}${err}")
  endif()
endfunction()

# SHA-256 of a safetensors file's data section (everything after the 8-byte length and the header).
function(data_hash file out_var)
  file(READ "${file}" len_hex LIMIT 8 HEX)
  set(len 0)
  foreach(i RANGE 7 0 -1)  # little-endian u64
    math(EXPR at "${i} * 2")
    string(SUBSTRING "${len_hex}" ${at} 2 byte)
    math(EXPR len "${len} * 256 + 0x${byte}")
  endforeach()
  math(EXPR offset "8 + ${len}")
  file(READ "${file}" data OFFSET ${offset} HEX)
  string(SHA256 hash "${data}")
  set(${out_var} "${hash}" PARENT_SCOPE)
endfunction()

# Traces `model` on `image` with every other backend this CPU has into `dir`/<backend>.safetensors
# and requires each to equal `dir`/ref.safetensors byte for byte past the header, and --compare to
# call them identical; fails when no backend besides ref ran (amx-emu runs everywhere).
function(expect_every_backend_identical model image dir)
  data_hash("${dir}/ref.safetensors" ref_hash)
  set(ran "")
  foreach(backend avx2 avxvnni avx512vnni onednn amx amx-emu)
    intvit(out err rc trace --model "${model}" --backend ${backend} "${image}" -o "${dir}/${backend}.safetensors")
    if(NOT rc EQUAL 0)
      if(err MATCHES "backend ${backend} is not supported here")
        message(STATUS "trace: backend ${backend} skipped: ${err}")
        continue()
      endif()
      message(FATAL_ERROR "trace --backend ${backend} failed (${rc}):\n${err}")
    endif()
    data_hash("${dir}/${backend}.safetensors" hash)
    if(NOT hash STREQUAL ref_hash)
      message(FATAL_ERROR "trace: backend ${backend}'s tensors differ from ref's (${model})")
    endif()
    expect(0 "identical: [0-9]+ tensors" trace --compare "${dir}/ref.safetensors" "${dir}/${backend}.safetensors")
    list(APPEND ran ${backend})
  endforeach()
  list(LENGTH ran n)
  if(n LESS 1)
    message(FATAL_ERROR "trace: no backend besides ref ran (amx-emu runs everywhere)")
  endif()
  message(STATUS "trace: ${model} identical to ref on ${ran}")
endfunction()
