# Command-line checks of the intvit binary that need no data beyond the shipped default model.
set(INTVIT_DEFAULT_MODEL ${PROJECT_SOURCE_DIR}/models/default/fashion-vit)
# inspect --graph: the integer graph with its segments and a planned arena smaller than one buffer per tensor.
add_test(NAME cli_inspect_graph COMMAND intvit_cli inspect --graph ${INTVIT_DEFAULT_MODEL})
set_tests_properties(cli_inspect_graph PROPERTIES PASS_REGULAR_EXPRESSION
  "integer graph: [0-9]+ nodes, [0-9]+ tensors, 14 segments.*segment 1: attention.*arena: [0-9]+ bytes for 1 thread")
# A bad on|off value is a usage error (exit 2) naming the flag, before any file is read.
# Checked by message, not by exit code: with --model none any failure ("model not found") would pass.
add_test(NAME cli_quantize_bad_on_off COMMAND intvit_cli quantize --model none --calib none -o none --log2-renorm maybe)
set_tests_properties(cli_quantize_bad_on_off PROPERTIES PASS_REGULAR_EXPRESSION "--log2-renorm expects on or off, got 'maybe'")
add_test(NAME cli_quantize_bad_on_off_message COMMAND intvit_cli quantize --model none --calib none -o none --bias-correction yes)
set_tests_properties(cli_quantize_bad_on_off_message PROPERTIES PASS_REGULAR_EXPRESSION "--bias-correction expects on or off, got 'yes'")
# Option combinations quantize_vit rejects fail before the model is read (no minutes of calibration first).
add_test(NAME cli_quantize_bad_combination COMMAND intvit_cli quantize --model none --calib none -o none --softmax iexp --attn-bits 4)
set_tests_properties(cli_quantize_bad_combination PROPERTIES PASS_REGULAR_EXPRESSION "--attn-bits 4 needs --softmax log2")
