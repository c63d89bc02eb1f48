# Command-line checks of the intvit binary that need no data beyond the shipped default model.
set(INTVIT_DEFAULT_MODEL ${PROJECT_SOURCE_DIR}/models/default/fashion-vit)
# inspect --graph: the integer graph with its segments and a planned arena smaller than one buffer per tensor.
add_test(NAME cli_inspect_graph COMMAND intvit_cli inspect --graph ${INTVIT_DEFAULT_MODEL})
set_tests_properties(cli_inspect_graph PROPERTIES PASS_REGULAR_EXPRESSION
  "integer graph: [0-9]+ nodes, [0-9]+ tensors, 14 segments.*segment 1: attention.*arena: [0-9]+ bytes for 1 thread")
# inspect on a model folder reports the file the engine loads: model.intvit when the folder has one
# (the default folder also holds the FP32 model.safetensors it was quantized from).
add_test(NAME cli_inspect_integer_folder COMMAND intvit_cli inspect ${INTVIT_DEFAULT_MODEL})
set_tests_properties(cli_inspect_integer_folder PROPERTIES PASS_REGULAR_EXPRESSION
  "weights: +[^\n]*/model\\.intvit \\(integer\\)")
# --graph builds ViT/DeiT graphs only: on a Swin it says so and names what it found (it failed on the
# Swin config as "invalid ViT config: num_heads must be an integer"). The integer Swin: swin_cli.cmake.
add_test(NAME cli_inspect_graph_swin COMMAND intvit_cli inspect --graph ${PROJECT_SOURCE_DIR}/models/default/fashion-swin)
set_tests_properties(cli_inspect_graph_swin PROPERTIES PASS_REGULAR_EXPRESSION
  "error: --graph supports ViT/DeiT models only; [^\n]*fashion-swin/config\\.json describes a Swin \\(swin_fashion_patch2_window7_28\\)")
# A folder with no model in it is an error that names both files, not "cannot open model.safetensors".
add_test(NAME cli_inspect_empty_folder COMMAND intvit_cli inspect ${CMAKE_CURRENT_SOURCE_DIR}/c_api_alloc)
set_tests_properties(cli_inspect_empty_folder PROPERTIES PASS_REGULAR_EXPRESSION
  "no model in folder [^\n]*c_api_alloc: it holds neither model\\.intvit nor model\\.safetensors")
# A bad on|off value is a usage error (exit 2) naming the flag, before any file is read.
# Checked by message, not by exit code: with --model none any failure ("model not found") would pass.
add_test(NAME cli_quantize_bad_on_off COMMAND intvit_cli quantize --model none --calib none -o none --log2-renorm maybe)
set_tests_properties(cli_quantize_bad_on_off PROPERTIES PASS_REGULAR_EXPRESSION "--log2-renorm expects on or off, got 'maybe'")
add_test(NAME cli_quantize_bad_on_off_message COMMAND intvit_cli quantize --model none --calib none -o none --bias-correction yes)
set_tests_properties(cli_quantize_bad_on_off_message PROPERTIES PASS_REGULAR_EXPRESSION "--bias-correction expects on or off, got 'yes'")
# Bad option values and combinations exit 2 (usage error) in quantize as in the other commands.
add_test(NAME cli_usage_errors_exit_2
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:intvit_cli> -DMODEL=${INTVIT_DEFAULT_MODEL}
          -DSWIN=${PROJECT_SOURCE_DIR}/models/default/fashion-swin -P ${CMAKE_CURRENT_SOURCE_DIR}/cli_usage_exit.cmake)
# Option combinations quantize_vit rejects fail before the model is read (no minutes of calibration first).
add_test(NAME cli_quantize_bad_combination COMMAND intvit_cli quantize --model none --calib none -o none --softmax iexp --attn-bits 4)
set_tests_properties(cli_quantize_bad_combination PROPERTIES PASS_REGULAR_EXPRESSION "--attn-bits 4 needs --softmax log2")
# --fp32 names an FP32 model: a file or folder with only an integer model is an error (it was
# loaded silently, and eval then reported 100 % "agreement with FP32" against itself).
add_test(NAME cli_classify_fp32_needs_an_fp32_model
  COMMAND intvit_cli classify --fp32 --model ${INTVIT_DEFAULT_MODEL}/model.intvit ${PROJECT_SOURCE_DIR}/models/default/samples/bag.png)
add_test(NAME cli_eval_fp32_needs_an_fp32_model
  COMMAND intvit_cli eval --model ${INTVIT_DEFAULT_MODEL} --images ${PROJECT_SOURCE_DIR}/tests/data/images/decode
          --fp32 ${INTVIT_DEFAULT_MODEL}/model.intvit)
set_tests_properties(cli_classify_fp32_needs_an_fp32_model cli_eval_fp32_needs_an_fp32_model PROPERTIES
  PASS_REGULAR_EXPRESSION "--fp32: [^\n]*model\\.intvit holds no FP32 model")
# quantize names a missing model as such, and refuses what it would fail on after calibrating:
# an output path that is a file, a wide block the model does not have (a usage error, exit 2:
# tests/cli_usage_exit.cmake).
add_test(NAME cli_quantize_missing_model COMMAND intvit_cli quantize --model no-such-model --calib none -o none)
set_tests_properties(cli_quantize_missing_model PROPERTIES PASS_REGULAR_EXPRESSION "error: model not found: no-such-model")
add_test(NAME cli_quantize_output_is_a_file
  COMMAND intvit_cli quantize --model ${INTVIT_DEFAULT_MODEL} --calib none -o ${CMAKE_CURRENT_SOURCE_DIR}/cli.test.cmake)
set_tests_properties(cli_quantize_output_is_a_file PROPERTIES PASS_REGULAR_EXPRESSION "cli\\.test\\.cmake exists and is not a folder")
# quantize skips calibration files it cannot decode, with a warning each, and takes the next ones
# (tests/quantize_calib_cli.cmake); nothing decodable is an error.
add_test(NAME cli_quantize_skips_undecodable_calibration_images
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:intvit_cli> -DMODEL=${INTVIT_DEFAULT_MODEL} -DSHARED=${PROJECT_SOURCE_DIR}/../shared
          -DIMAGES=${PROJECT_SOURCE_DIR}/tests/data/images/decode -DOUT=${CMAKE_CURRENT_BINARY_DIR}/cli_quantize_calib
          -P ${CMAKE_CURRENT_SOURCE_DIR}/quantize_calib_cli.cmake)
# classify / eval on folders (tests/cli_folders.cmake): recursion, image files by extension, sorted
# order, identical output for any --threads / --batch, --json order, corrupt and empty inputs.
add_test(NAME cli_classify_folders
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:intvit_cli> -DMODEL=${INTVIT_DEFAULT_MODEL}
          -DIMAGES=${PROJECT_SOURCE_DIR}/tests/data/images/decode -DOUT=${CMAKE_CURRENT_BINARY_DIR}/cli_folders
          -P ${CMAKE_CURRENT_SOURCE_DIR}/cli_folders.cmake)
# Bad --threads / --batch values are usage errors (exit 2) naming the flag, before the model loads.
foreach(bad "threads;0" "threads;-1" "threads;abc" "threads;2x" "threads;257" "threads;" "batch;0" "batch;1025")
  list(GET bad 0 flag)
  list(LENGTH bad n)
  set(value "")
  if(n GREATER 1)
    list(GET bad 1 value)
  endif()
  string(MAKE_C_IDENTIFIER "${flag}_${value}" id)
  add_test(NAME cli_classify_bad_${id} COMMAND intvit_cli classify --model none --${flag} "${value}" x.png)
  set_tests_properties(cli_classify_bad_${id} PROPERTIES WILL_FAIL TRUE)
  add_test(NAME cli_classify_bad_${id}_message COMMAND intvit_cli classify --model none --${flag} "${value}" x.png)
  set_tests_properties(cli_classify_bad_${id}_message PROPERTIES
    PASS_REGULAR_EXPRESSION "--${flag} expects an integer in \\[1, [0-9]+\\], got '${value}'")
endforeach()
add_test(NAME cli_eval_bad_threads COMMAND intvit_cli eval --model none --images none --threads 0)
set_tests_properties(cli_eval_bad_threads PROPERTIES PASS_REGULAR_EXPRESSION "--threads expects an integer in \\[1, 256\\], got '0'")
# eval without labels says why it prints no accuracy, naming --labels (a folder's labels.csv: in
# tests/cli_folders.cmake); with labels in the .safetensors there is no such note.
add_test(NAME cli_eval_no_labels_note
  COMMAND intvit_cli eval --model ${INTVIT_DEFAULT_MODEL} --images ${PROJECT_SOURCE_DIR}/tests/data/images/decode --limit 2)
set_tests_properties(cli_eval_no_labels_note PROPERTIES PASS_REGULAR_EXPRESSION
  "eval: note: no labels, so no accuracy \\(top-1 / top-5\\) is computed \\(pass --labels CSV, columns file,class_index")
add_test(NAME cli_eval_labelled_no_note
  COMMAND intvit_cli eval --model ${INTVIT_DEFAULT_MODEL} --images ${INTVIT_DEFAULT_MODEL}/reference.safetensors --limit 2)
set_tests_properties(cli_eval_labelled_no_note PROPERTIES PASS_REGULAR_EXPRESSION "top-1: " FAIL_REGULAR_EXPRESSION "note: no labels")
# --labels outside the model's classes count nowhere: a note says how many images had a label
# (tests/eval_labels_cli.cmake).
add_test(NAME cli_eval_labels_outside_classes_note
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:intvit_cli> -DMODEL=${INTVIT_DEFAULT_MODEL}
          -DIMAGES=${PROJECT_SOURCE_DIR}/tests/data/images/decode -DOUT=${CMAKE_CURRENT_BINARY_DIR}/cli_eval_labels
          -P ${CMAKE_CURRENT_SOURCE_DIR}/eval_labels_cli.cmake)
# A format-1 model file (tests/corpus/model/version1_good.intvit) is refused with the fix named, and
# `intvit upgrade` rewrites it as the current version (weights/FORMAT.md), which then classifies.
add_test(NAME cli_version1_names_upgrade
  COMMAND intvit_cli classify --model ${PROJECT_SOURCE_DIR}/tests/corpus/model/version1_good.intvit ${PROJECT_SOURCE_DIR}/models/default/samples/bag.png)
set_tests_properties(cli_version1_names_upgrade PROPERTIES PASS_REGULAR_EXPRESSION "version 1 is no longer read.*intvit upgrade OLD_DIR -o NEW_DIR")
add_test(NAME cli_upgrade_version1_writes
  COMMAND intvit_cli upgrade ${PROJECT_SOURCE_DIR}/tests/corpus/model/version1_good.intvit -o ${CMAKE_CURRENT_BINARY_DIR}/cli_upgrade)
set_tests_properties(cli_upgrade_version1_writes PROPERTIES PASS_REGULAR_EXPRESSION "format version 2, read version 1")
add_test(NAME cli_upgrade_version1_runs
  COMMAND intvit_cli classify --model ${CMAKE_CURRENT_BINARY_DIR}/cli_upgrade ${PROJECT_SOURCE_DIR}/models/default/samples/bag.png)
set_tests_properties(cli_upgrade_version1_runs PROPERTIES DEPENDS cli_upgrade_version1_writes
  PASS_REGULAR_EXPRESSION "class [01]")
