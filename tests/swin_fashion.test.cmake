# The shipped FP32 Swin (models/default/fashion-swin) on the full Fashion-MNIST test set (10,000
# images) in C++: its top-1 count must be within 3 images of PyTorch's (models/default/README.md).
# FP32 reference code only, so like default_model_fashion_mnist_accuracy it is left out of the ASan
# stage (.ci/test); label `accuracy`. Fails, never skips, when the dataset is missing.
set(INTVIT_SWIN_FASHION_PYTORCH_CORRECT 8663)  # PyTorch FP32 top-1 count, from train_fashion_swin.py --eval-only
add_test(NAME swin_fashion_mnist_fp32_accuracy
  COMMAND ${CMAKE_COMMAND} -DTESTS=$<TARGET_FILE:intvit_tests> -DDATA=/usr/share/datasets/fashion-mnist
          -DOUT=${CMAKE_CURRENT_BINARY_DIR}/swin_fashion_mnist -DEXPECTED=${INTVIT_SWIN_FASHION_PYTORCH_CORRECT}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/swin_fashion_accuracy.cmake)
set_tests_properties(swin_fashion_mnist_fp32_accuracy PROPERTIES TIMEOUT 900 LABELS accuracy
  ENVIRONMENT "OMP_NUM_THREADS=1")
