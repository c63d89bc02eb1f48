# No floating point on the integer path (kernels/QUANTIZATION.md): disassemble every object of the
# inference layers (INTVIT_INFERENCE_LAYERS: base, kernels, core, the api's run path and the model
# file loader intvit_weights_load — taken from the targets, so a new or renamed file is scanned
# without being listed) and fail on any float instruction. The only
# exceptions are the sources CMakeLists.txt marks INTVIT_OFFLINE; the script checks that each of
# them matches an object, so a rename cannot silently widen the exception. The check is shown to
# see float code on a deliberately planted float multiply, which must fail.
set(_intvit_offline)
foreach(layer IN LISTS INTVIT_INFERENCE_LAYERS)
  get_target_property(srcs ${layer} SOURCES)
  foreach(src IN LISTS srcs)
    get_source_file_property(offline ${src} DIRECTORY ${PROJECT_SOURCE_DIR} INTVIT_OFFLINE)
    if(offline)
      file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${src})
      list(APPEND _intvit_offline ${rel})
    endif()
  endforeach()
endforeach()
set(_intvit_inference_objects)
foreach(layer IN LISTS INTVIT_INFERENCE_LAYERS)
  list(APPEND _intvit_inference_objects $<TARGET_OBJECTS:${layer}>)
endforeach()
add_library(no_float_planted OBJECT ${CMAKE_CURRENT_LIST_DIR}/no_float/planted_float.cc
  ${CMAKE_CURRENT_LIST_DIR}/no_float/planted_float-avx512.cc)
intvit_set_isa_flags(${CMAKE_CURRENT_LIST_DIR}/no_float/planted_float-avx512.cc)
target_link_libraries(no_float_planted PRIVATE intvit_base)  # kernels/avx512-intrinsics.h
add_test(NAME no_float_on_integer_path
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/no_float/check_integer_path.sh ${_intvit_offline} -- ${_intvit_inference_objects}
  COMMAND_EXPAND_LISTS)
add_test(NAME no_float_check_catches_planted_float
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/no_float/check_no_float.sh $<TARGET_OBJECTS:no_float_planted>
  COMMAND_EXPAND_LISTS)
# Passes only when the check names the planted float (not merely on a non-zero exit, which a
# missing object or objdump failure would also give).
set_tests_properties(no_float_check_catches_planted_float PROPERTIES PASS_REGULAR_EXPRESSION
  # GCC names the compare vcmplt_oqps, clang vcmpltps.
  "FLOAT INSTRUCTIONS in [^\n]*planted_float\\.cc\\.o.*FLOAT INSTRUCTIONS in [^\n]*planted_float-avx512\\.cc\\.o:[^=]*vcmplt(_oq)?ps[^=]*vrsqrt14ps[^=]*vrcp14ps")
