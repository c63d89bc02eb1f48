# The shipped default model (models/default/fashion-vit) on the full Fashion-MNIST test set
# (10,000 images, Debian's dataset-fashion-mnist, installed by .ci/setup): the integer model's
# top-1 must stay within 0.5 point of the FP32 model's (issue 5), reach an absolute floor and agree
# with FP32 on nearly every image (measured: int 90.00 %, FP32 90.02 %, agreement 99.5 %). Fails,
# never skips, when the dataset is missing.
add_test(NAME default_model_fashion_mnist_accuracy
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:intvit_cli> -DMODEL=${PROJECT_SOURCE_DIR}/models/default/fashion-vit
          -DDATA=/usr/share/datasets/fashion-mnist -DOUT=${CMAKE_CURRENT_BINARY_DIR}/fashion_mnist
          -DMIN_TOP1_PERMILLE=895 -DMIN_AGREEMENT_PERMILLE=990
          -P ${CMAKE_CURRENT_SOURCE_DIR}/default_model_accuracy.cmake)
set_tests_properties(default_model_fashion_mnist_accuracy PROPERTIES TIMEOUT 900 LABELS accuracy
  ENVIRONMENT "OMP_NUM_THREADS=1;OMP_WAIT_POLICY=passive")
