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

include(${CMAKE_CURRENT_LIST_DIR}/trace_cli_helpers.cmake)  # intvit(), expect(), expect_every_backend_identical()

set(int "${OUT}/fashion-swin-int")
expect(0 "" quantize --model "${MODEL}" --calib "${MODEL}/reference.safetensors" --calib-count 16 -o "${int}")
set(bag "${SAMPLES}/bag.png")
expect(0 "[0-9]+ tensors of fashion-swin-int on bag.png \\(ref\\)" trace --model "${int}" --backend ref "${bag}" -o "${OUT}/ref.safetensors")
expect_every_backend_identical("${int}" "${bag}" "${OUT}")

# Another image: exit 1, the input the first difference. The FP32 model: SQNR lines under the same names.
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
