# cmake -DCLI=<intvit> -DMODEL=<10-class model dir> -DIMAGES=<tests/data/images/decode> -DOUT=<scratch> -P eval_labels_cli.cmake
# `intvit eval --labels CSV` whose labels lie outside the model's classes: they count nowhere, and a
# note on stderr says how many images had a label (eval printed nothing, and no accuracy or one over
# fewer images than it evaluated).
foreach(v CLI MODEL IMAGES OUT)
  if(NOT ${v})
    message(FATAL_ERROR "usage: cmake -DCLI=... -DMODEL=... -DIMAGES=... -DOUT=... -P eval_labels_cli.cmake")
  endif()
endforeach()
include(${CMAKE_CURRENT_LIST_DIR}/trace_cli_helpers.cmake)  # intvit()
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")

# Runs eval on two images labelled `first` and `second`; requires exit 0.
function(eval_labelled first second out_var err_var)
  file(WRITE "${OUT}/labels.csv" "file,class_index\njpeg_rgb_200_100_50.jpg,${first}\npng_rgb8.png,${second}\n")
  intvit(out err rc eval --model "${MODEL}" --images "${IMAGES}" --labels "${OUT}/labels.csv")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "eval --labels (${first}, ${second}): want exit 0, got ${rc}:\n${out}\n${err}")
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${err_var} "${err}" PARENT_SCOPE)
endfunction()

# 1. Every label outside the model's 10 classes (ImageNet indices): no accuracy, and a note saying so.
eval_labelled(517 999 out err)
if(NOT err MATCHES "eval: note: no accuracy \\(top-1 / top-5\\) is computed: no image has a label in the model's classes \\[0, 10\\) \\(images with a label: 2 of 2\\)"
   OR out MATCHES "top-1:")
  message(FATAL_ERROR "eval --labels outside the classes: want no top-1 and a note with the count, got:\n${out}\n${err}")
endif()
# 2. One in range, one outside: the accuracy over the one, and a note naming what was left out.
eval_labelled(3 517 out err)
if(NOT err MATCHES "eval: note: top-1 / top-5 cover 1 of 2 images, leaving out 1 with a label outside the model's classes \\[0, 10\\)"
   OR NOT out MATCHES "top-1: ")
  message(FATAL_ERROR "eval --labels partly outside the classes: want top-1 and a note with the counts, got:\n${out}\n${err}")
endif()
# 3. Every label in range: no note.
eval_labelled(3 7 out err)
if(err MATCHES "note:" OR NOT out MATCHES "top-1: ")
  message(FATAL_ERROR "eval --labels in range: want top-1 and no note, got:\n${out}\n${err}")
endif()
# 4. --labels with a .safetensors dataset, whose labels are its class_index: a usage error (the CSV was
# silently not read, even a missing one).
intvit(out err rc eval --model "${MODEL}" --images "${MODEL}/reference.safetensors" --labels "${OUT}/missing.csv" --limit 2)
if(NOT rc EQUAL 2 OR NOT err MATCHES "eval: --labels is not read for a .safetensors dataset: its labels are its class_index tensor")
  message(FATAL_ERROR "eval --labels with a .safetensors: want exit 2 naming class_index, got ${rc}:\n${out}\n${err}")
endif()
message(STATUS "eval: labels outside the model's classes are counted in a note; --labels with a .safetensors is refused")
file(REMOVE_RECURSE "${OUT}")
