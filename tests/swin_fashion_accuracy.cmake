# cmake -DTESTS=<intvit_tests> -DDATA=<fashion-mnist dir> -DOUT=<scratch> -DEXPECTED=<count> -P swin_fashion_accuracy.cmake
# Decompresses the IDX test files and runs the hidden Catch2 case [.swin-fashion-accuracy]: the FP32
# Swin's top-1 count in C++ on all 10,000 images must be within 3 images of PyTorch's EXPECTED.
foreach(v TESTS DATA OUT EXPECTED)
  if(NOT ${v})
    message(FATAL_ERROR "usage: cmake -DTESTS=... -DDATA=... -DOUT=... -DEXPECTED=... -P swin_fashion_accuracy.cmake")
  endif()
endforeach()
include("${CMAKE_CURRENT_LIST_DIR}/fashion_mnist_idx.cmake")
decompress_fashion_mnist_test_set("${DATA}" "${OUT}")
set(ENV{INTVIT_FASHION_MNIST_IDX_DIR} "${OUT}")
set(ENV{INTVIT_SWIN_EXPECTED_CORRECT} "${EXPECTED}")
execute_process(COMMAND "${TESTS}" "[.swin-fashion-accuracy]" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "[.swin-fashion-accuracy] failed (${rc})")
endif()
