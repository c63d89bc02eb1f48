# The integer Swin (quantized in the test from models/default/fashion-swin, calibrated on the first
# 200 Fashion-MNIST training images) on the full Fashion-MNIST test set: within 0.5 point of FP32
# top-1 and >= 99 % top-1 agreement (issue 18). Release speed: the 10,000 FP32 forwards dominate.
# Label `accuracy` like the other Fashion-MNIST tests; fails, never skips, when the dataset is missing.
add_test(NAME swin_fashion_mnist_int_accuracy
  COMMAND ${CMAKE_COMMAND} -DTESTS=$<TARGET_FILE:intvit_tests> -DDATA=/usr/share/datasets/fashion-mnist
          -DOUT=${CMAKE_CURRENT_BINARY_DIR}/swin_int_fashion_mnist
          -P ${CMAKE_CURRENT_SOURCE_DIR}/swin_int_fashion_accuracy.cmake)
set_tests_properties(swin_fashion_mnist_int_accuracy PROPERTIES TIMEOUT 900 LABELS accuracy
  ENVIRONMENT "OMP_NUM_THREADS=1")
