# No floating point on the integer path (kernels/QUANTIZATION.md): disassemble the objects of the
# integer kernels and executor and fail on any float instruction; and prove the check sees float code
# by running it on a deliberately planted float multiply, which must fail.
add_library(no_float_planted OBJECT ${CMAKE_CURRENT_LIST_DIR}/no_float/planted_float.cc)
add_test(NAME no_float_on_integer_path
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/no_float/check_integer_path.sh $<TARGET_OBJECTS:intvit_objects>
  COMMAND_EXPAND_LISTS)
add_test(NAME no_float_check_catches_planted_float
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/no_float/check_no_float.sh $<TARGET_OBJECTS:no_float_planted>
  COMMAND_EXPAND_LISTS)
# Passes only when the check names the planted float (not merely on a non-zero exit, which a
# missing object or objdump failure would also give).
set_tests_properties(no_float_check_catches_planted_float PROPERTIES PASS_REGULAR_EXPRESSION "FLOAT INSTRUCTIONS in")
