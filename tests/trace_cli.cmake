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

include(${CMAKE_CURRENT_LIST_DIR}/trace_cli_helpers.cmake)  # intvit(), expect(), expect_every_backend_identical()

set(bag "${SAMPLES}/bag.png")
expect(0 "tensors of fashion-vit on bag.png \\(ref\\)" trace --model "${MODEL}" --backend ref "${bag}" -o "${OUT}/ref.safetensors")
expect_every_backend_identical("${MODEL}" "${bag}" "${OUT}")

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
