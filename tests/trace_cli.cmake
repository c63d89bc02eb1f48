# cmake -DCLI=<intvit> -DMODEL=<model dir> -DSAMPLES=<images> -DOUT=<scratch> -P trace_cli.cmake
# `intvit trace`: the trace of every backend this CPU has equals the reference backend's byte for
# byte past the header (the header differs only in the backend's name) and --compare calls them
# identical (exit 0); other images differ (exit 1, naming the tensor); an FP32 trace gives SQNR
# lines; missing or corrupt inputs and a non-trace file give clear errors, never a crash.
foreach(v CLI MODEL SAMPLES OUT)
  if(NOT ${v})
    message(FATAL_ERROR "usage: cmake -DCLI=... -DMODEL=... -DSAMPLES=... -DOUT=... -P trace_cli.cmake")
  endif()
endforeach()
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")

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

set(bag "${SAMPLES}/bag.png")
expect(0 "tensors of fashion-vit on bag.png \\(ref\\)" trace --model "${MODEL}" --backend ref "${bag}" -o "${OUT}/ref.safetensors")
data_hash("${OUT}/ref.safetensors" ref_hash)
set(ran "")
foreach(backend avx2 avxvnni avx512vnni onednn amx amx-emu)
  intvit(out err rc trace --model "${MODEL}" --backend ${backend} "${bag}" -o "${OUT}/${backend}.safetensors")
  if(NOT rc EQUAL 0)
    if(err MATCHES "backend ${backend} is not supported here")
      message(STATUS "trace: backend ${backend} skipped: ${err}")
      continue()
    endif()
    message(FATAL_ERROR "trace --backend ${backend} failed (${rc}):\n${err}")
  endif()
  data_hash("${OUT}/${backend}.safetensors" hash)
  if(NOT hash STREQUAL ref_hash)
    message(FATAL_ERROR "trace: backend ${backend}'s tensors differ from ref's")
  endif()
  expect(0 "identical: [0-9]+ tensors" trace --compare "${OUT}/ref.safetensors" "${OUT}/${backend}.safetensors")
  list(APPEND ran ${backend})
endforeach()
list(LENGTH ran n)
if(n LESS 1)
  message(FATAL_ERROR "trace: no backend besides ref ran (amx-emu runs everywhere)")
endif()
message(STATUS "trace: identical to ref on ${ran}")

# Another image: exit 1, the first differing tensor (the input itself) with counts.
expect(0 "" trace --model "${MODEL}" "${SAMPLES}/coat.png" -o "${OUT}/coat.safetensors")
expect(1 "first difference: image \\(input u8\\): [0-9]+ of [0-9]+ elements differ, max \\|A-B\\| = [0-9]+ \\(integer units\\)"
       trace --compare "${OUT}/ref.safetensors" "${OUT}/coat.safetensors")
# The FP32 model: SQNR lines for the common tensors, the logits among them.
expect(0 "[0-9]+ tensors of fashion-vit on bag.png \\(fp32\\)"
       trace --model "${MODEL}" --fp32 "${bag}" -o "${OUT}/fp32.safetensors")
expect(0 "SQNR of the integer trace against the FP32 trace.*\n  blocks\\.0\\.attn\\.probs +[-0-9.]+ dB.*\n  logits +[-0-9.]+ dB"
       trace --compare "${OUT}/fp32.safetensors" "${OUT}/ref.safetensors")

# Bad inputs: clear messages, exit 1 (trace) or 2 (--compare: usage and files), no crash.
expect(1 "error: .*missing\\.png" trace --model "${MODEL}" "${OUT}/missing.png" -o "${OUT}/x.safetensors")
file(MAKE_DIRECTORY "${OUT}/corrupt")
file(WRITE "${OUT}/corrupt/model.intvit" "not a model file\n")
expect(1 "error: .*model\\.intvit" trace --model "${OUT}/corrupt" "${bag}" -o "${OUT}/x.safetensors")
expect(1 "error: cannot write trace .*folder .*no/such does not exist" trace --model "${MODEL}" "${bag}" -o "${OUT}/no/such/t.safetensors")
expect(1 "error: model not found" trace --model "${OUT}/nothing" "${bag}" -o "${OUT}/x.safetensors")
expect(2 "not an intvit trace" trace --compare "${OUT}/ref.safetensors" "${MODEL}/model.safetensors")
expect(2 "cannot open .*absent\\.safetensors" trace --compare "${OUT}/absent.safetensors" "${OUT}/ref.safetensors")
expect(2 "not a model file|safetensors|header" trace --compare "${OUT}/corrupt/model.intvit" "${OUT}/ref.safetensors")
expect(2 "--compare needs two traces" trace --compare "${OUT}/ref.safetensors")
expect(2 "needs -o" trace --model "${MODEL}" "${bag}")
if(EXISTS "${OUT}/x.safetensors")
  message(FATAL_ERROR "trace: a failed run left ${OUT}/x.safetensors behind")
endif()
file(REMOVE_RECURSE "${OUT}")
