# cmake -DCLI=<intvit> [-DMODEL=<FP32 ViT dir> -DSWIN=<FP32 Swin dir>] -P cli_usage_exit.cmake
# A bad option value or combination is a usage error: exit 2 with a message naming the option, before
# any file is read (--model none), in quantize as in the other commands (main.cc). quantize's mode,
# observer and attention-bit checks exited 1, its --attn-bits range check 2.
if(NOT CLI)
  message(FATAL_ERROR "usage: cmake -DCLI=... -P cli_usage_exit.cmake")
endif()
include(${CMAKE_CURRENT_LIST_DIR}/trace_cli_helpers.cmake)  # expect()
set(q quantize --model none --calib none -o none)
expect(2 "quantize: unknown softmax mode" ${q} --softmax bogus)
expect(2 "quantize: unknown GELU mode 'bogus'" ${q} --gelu bogus)
expect(2 "quantize: unknown observer 'bogus'" ${q} --observer bogus)
# Every other --attn-bits value: the option and its values named (5 said "attention bits must be 4, 8
# or 16", without the option; 17 "an integer in [4, 16]").
foreach(bits 5 17 0 x)
  expect(2 "quantize: --attn-bits expects 4, 8 or 16, got '${bits}'" ${q} --attn-bits "${bits}")
endforeach()
expect(2 "quantize: --attn-bits 4 needs --softmax log2" ${q} --softmax iexp --attn-bits 4)
expect(2 "quantize: --attn-bits 16 does not apply to --softmax log2" ${q} --softmax log2 --attn-bits 16)
expect(2 "quantize: --wide-blocks expects [^\n]*got '7x'" ${q} --wide-blocks 7x)
expect(2 "quantize: --wide-blocks expects [^\n]*got '7,-1'" ${q} --wide-blocks 7,-1)
expect(2 "quantize: --calib-count expects an integer" ${q} --calib-count 0)
expect(2 "quantize: --log2-renorm expects on or off" ${q} --log2-renorm maybe)
# A --wide-blocks index past the model's last block, found in config.json before the weights load: it
# exited 1 after loading them (a Swin's only after calibrating).
if(MODEL)
  expect(2 "quantize: --wide-blocks: wide block index out of range: 6 \\(the model has 6 blocks: 0 to 5\\)"
         quantize --model "${MODEL}" --calib none -o none --wide-blocks 2,6)
endif()
if(SWIN)
  expect(2 "quantize: --wide-blocks: wide block index out of range: 99 \\(the model has 4 blocks, numbered over all stages: 0 to 3\\)"
         quantize --model "${SWIN}" --calib none -o none --wide-blocks 99)
endif()
# The other commands, for comparison.
expect(2 "classify: --top expects an integer" classify --model none --top 0 x.png)
expect(2 "eval: --threads expects an integer" eval --model none --images none --threads 0)
message(STATUS "bad option values are usage errors (exit 2)")
