# `intvit quantize` / `eval` / `classify` on the shipped FP32 Swin (tests/swin_cli.cmake): calibrated
# on 16 of its reference images, the integer model must agree with FP32 on >= 62 of the 64 (measured
# 64), and classify a sample; `inspect --graph` names it a Swin (ViT/DeiT only). Seconds in release; no data beyond the repository.
add_test(NAME cli_swin_quantize_eval
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:intvit_cli> -DMODEL=${PROJECT_SOURCE_DIR}/models/default/fashion-swin
          -DSAMPLE=${PROJECT_SOURCE_DIR}/models/default/samples/bag.png -DOUT=${CMAKE_CURRENT_BINARY_DIR}/cli_swin
          -P ${CMAKE_CURRENT_SOURCE_DIR}/swin_cli.cmake)
