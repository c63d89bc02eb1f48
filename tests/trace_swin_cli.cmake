# cmake -DCLI=<intvit> -DMODEL=<FP32 Swin dir> -DSAMPLES=<images> -DOUT=<scratch> -P trace_swin_cli.cmake
# `intvit trace` on the shipped Fashion-MNIST Swin, quantized here as tests/swin_cli.cmake does:
# the integer trace of every backend this CPU has equals the reference backend's byte for byte past
# the header and --compare calls them identical; the FP32 trace has the same names, and --compare
# prints the integer trace's SQNR per tensor against it (attention tiles and logits among them).
foreach(v CLI MODEL SAMPLES OUT)
  if(NOT ${v})
    message(FATAL_ERROR "usage: cmake -DCLI=... -DMODEL=... -DSAMPLES=... -DOUT=... -P trace_swin_cli.cmake")
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

set(int "${OUT}/fashion-swin-int")
expect(0 "" quantize --model "${MODEL}" --calib "${MODEL}/reference.safetensors" --calib-count 16 -o "${int}")
set(bag "${SAMPLES}/bag.png")
expect(0 "[0-9]+ tensors of fashion-swin-int on bag.png \\(ref\\)" trace --model "${int}" --backend ref "${bag}" -o "${OUT}/ref.safetensors")
data_hash("${OUT}/ref.safetensors" ref_hash)
set(ran "")
foreach(backend avx2 avxvnni avx512vnni onednn amx amx-emu)
  intvit(out err rc trace --model "${int}" --backend ${backend} "${bag}" -o "${OUT}/${backend}.safetensors")
  if(NOT rc EQUAL 0)
    if(err MATCHES "backend ${backend} is not supported here")
      message(STATUS "trace: backend ${backend} skipped: ${err}")
      continue()
    endif()
    message(FATAL_ERROR "trace --backend ${backend} failed (${rc}):\n${err}")
  endif()
  data_hash("${OUT}/${backend}.safetensors" hash)
  if(NOT hash STREQUAL ref_hash)
    message(FATAL_ERROR "trace: the Swin's tensors on backend ${backend} differ from ref's")
  endif()
  expect(0 "identical: [0-9]+ tensors" trace --compare "${OUT}/ref.safetensors" "${OUT}/${backend}.safetensors")
  list(APPEND ran ${backend})
endforeach()
list(LENGTH ran n)
if(n LESS 1)
  message(FATAL_ERROR "trace: no backend besides ref ran (amx-emu runs everywhere)")
endif()
message(STATUS "trace: the Swin's trace is identical to ref's on ${ran}")

# Another image differs from the input on; the FP32 model gives SQNR lines under the same names.
expect(0 "" trace --model "${int}" "${SAMPLES}/coat.png" -o "${OUT}/coat.safetensors")
expect(1 "first difference: image \\(input u8\\)" trace --compare "${OUT}/ref.safetensors" "${OUT}/coat.safetensors")
expect(0 "[0-9]+ tensors of fashion-swin on bag.png \\(fp32\\)" trace --model "${MODEL}" --fp32 "${bag}" -o "${OUT}/fp32.safetensors")
intvit(out err rc trace --compare "${OUT}/fp32.safetensors" "${OUT}/ref.safetensors")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "trace --compare FP32 vs integer Swin failed (${rc}):\n${out}${err}")
endif()
foreach(line "only in A \\([0-9]+\\):.* layers\\.0\\.blocks\\.0\\.attn\\.proj\\.out"
             "SQNR of the integer trace against the FP32 trace"
             "\n  layers\\.0\\.blocks\\.1\\.attn\\.qk +[0-9.]+ dB"
             "\n  layers\\.0\\.blocks\\.1\\.attn\\.probs +[0-9.]+ dB"
             "\n  layers\\.1\\.downsample\\.reduction\\.out +[0-9.]+ dB"
             "\n  pool\\.out +[0-9.]+ dB"
             "\n  logits +[0-9.]+ dB")
  if(NOT out MATCHES "${line}")
    message(FATAL_ERROR "trace --compare FP32 vs integer Swin: no line matching '${line}' in:\n${out}")
  endif()
endforeach()
string(REGEX MATCH "\n  logits +([0-9.]+) dB" _ "${out}")
message(STATUS "trace: the integer Swin's logits SQNR against FP32 on bag.png: ${CMAKE_MATCH_1} dB")
# An FP32 Swin without --fp32 is a clear error.
expect(1 "error: model not found: .*model\\.intvit \\(an FP32 model needs --fp32\\)" trace --model "${MODEL}" "${bag}" -o "${OUT}/x.safetensors")
file(REMOVE_RECURSE "${OUT}")
