# cmake -DTESTS=<intvit_tests> -DDATA=<fashion-mnist dir> -DOUT=<scratch> -P swin_int_fashion_accuracy.cmake
# Decompresses the IDX test set and the training images (calibration), then runs the hidden Catch2
# case [.swin-int-fashion-accuracy].
foreach(v TESTS DATA OUT)
  if(NOT ${v})
    message(FATAL_ERROR "usage: cmake -DTESTS=... -DDATA=... -DOUT=... -P swin_int_fashion_accuracy.cmake")
  endif()
endforeach()
include("${CMAKE_CURRENT_LIST_DIR}/fashion_mnist_idx.cmake")
decompress_fashion_mnist("${DATA}" "${OUT}" t10k-images-idx3-ubyte t10k-labels-idx1-ubyte train-images-idx3-ubyte)
set(ENV{INTVIT_FASHION_MNIST_IDX_DIR} "${OUT}")
execute_process(COMMAND "${TESTS}" "[.swin-int-fashion-accuracy]" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "[.swin-int-fashion-accuracy] failed (${rc})")
endif()
