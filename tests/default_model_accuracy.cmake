# cmake -DCLI=<intvit> -DMODEL=<model dir> -DDATA=<fashion-mnist dir> -DOUT=<scratch> -P default_model_accuracy.cmake
# Decompresses the IDX test files, runs `intvit eval --fp32` and checks integer top-1 >= FP32 top-1 − 0.5 pt,
# integer top-1 >= MIN_TOP1_PERMILLE / 10 % and top-1 agreement with FP32 >= MIN_AGREEMENT_PERMILLE / 10 %.
foreach(v CLI MODEL DATA OUT MIN_TOP1_PERMILLE MIN_AGREEMENT_PERMILLE)
  if(NOT ${v})
    message(FATAL_ERROR "usage: cmake -DCLI=... -DMODEL=... -DDATA=... -DOUT=... -DMIN_TOP1_PERMILLE=... -DMIN_AGREEMENT_PERMILLE=... -P default_model_accuracy.cmake")
  endif()
endforeach()
include("${CMAKE_CURRENT_LIST_DIR}/fashion_mnist_idx.cmake")
decompress_fashion_mnist_test_set("${DATA}" "${OUT}")
execute_process(
  COMMAND "${CLI}" eval --model "${MODEL}" --fp32 "${MODEL}" --images "${OUT}/t10k-images-idx3-ubyte"
          --labels "${OUT}/t10k-labels-idx1-ubyte" --json
  RESULT_VARIABLE rc OUTPUT_VARIABLE j ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "intvit eval failed (${rc}):\n${err}")
endif()
string(JSON precision GET "${j}" precision)
string(JSON images GET "${j}" images)
string(JSON int_correct GET "${j}" top1_correct)
string(JSON fp32_correct GET "${j}" fp32_top1_correct)
string(JSON agreement GET "${j}" fp32_agreement)
string(JSON agree_count GET "${j}" fp32_agreement_count)
string(JSON int_top1 GET "${j}" top1)
string(JSON fp32_top1 GET "${j}" fp32_top1)
# Printed as counts: the JSON percentages are doubles (90.02 may print as 90.02000000000001).
message(STATUS "${images} images: integer (${precision}) top-1 ${int_correct} correct, FP32 ${fp32_correct} correct, agreement ${agreement} %")
if(NOT precision MATCHES "int" OR NOT images EQUAL 10000)
  message(FATAL_ERROR "expected the integer model on 10000 images, got ${precision} on ${images}")
endif()
# 0.5 point of `images` is images/200 images: int·200 >= fp32·200 − images.
math(EXPR lhs "${int_correct} * 200")
math(EXPR rhs "${fp32_correct} * 200 - ${images}")
if(lhs LESS rhs)
  message(FATAL_ERROR "integer top-1 ${int_top1} % is more than 0.5 point below FP32 ${fp32_top1} %")
endif()
# Absolute floor and agreement, in integers (per mille of `images`): count·1000 >= floor·images.
math(EXPR lhs "${int_correct} * 1000")
math(EXPR rhs "${MIN_TOP1_PERMILLE} * ${images}")
if(lhs LESS rhs)
  message(FATAL_ERROR "integer top-1 ${int_top1} % is below the floor of ${MIN_TOP1_PERMILLE} per mille")
endif()
math(EXPR lhs "${agree_count} * 1000")
math(EXPR rhs "${MIN_AGREEMENT_PERMILLE} * ${images}")
if(lhs LESS rhs)
  message(FATAL_ERROR "integer and FP32 top-1 agree on ${agreement} % of the images, below ${MIN_AGREEMENT_PERMILLE} per mille")
endif()
