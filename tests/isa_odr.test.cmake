# One copy per ISA: files are compiled per ISA (CMakeLists.txt intvit_set_isa_flags), and an inline
# function or template instance with external linkage that two of them emit is merged by the
# linker into one — possibly the AVX-512 build of it, which an AVX2-only CPU then runs. Every
# object of the library layers is checked (tests/isa_odr/check_isa_odr.sh); the check is shown to
# name a planted pair (one helper included by a baseline and an AVX-512 file).
set(_intvit_isa_odr_objects)
foreach(layer IN ITEMS intvit_base intvit_kernels intvit_core intvit_models intvit_weights_load intvit_weights intvit_api_run intvit_api)
  list(APPEND _intvit_isa_odr_objects $<TARGET_OBJECTS:${layer}>)
endforeach()
add_library(isa_odr_planted OBJECT ${CMAKE_CURRENT_LIST_DIR}/isa_odr/planted_inline.cc
  ${CMAKE_CURRENT_LIST_DIR}/isa_odr/planted_inline-avx512.cc)
intvit_set_isa_flags(${CMAKE_CURRENT_LIST_DIR}/isa_odr/planted_inline-avx512.cc)
add_test(NAME isa_odr_one_copy_per_isa
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/isa_odr/check_isa_odr.sh ${_intvit_isa_odr_objects}
  COMMAND_EXPAND_LISTS)
add_test(NAME isa_odr_check_catches_planted_helper
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/isa_odr/check_isa_odr.sh $<TARGET_OBJECTS:isa_odr_planted>
  COMMAND_EXPAND_LISTS)
# Passes only when the check names the planted helper with both ISAs (not merely on a non-zero
# exit, which a missing object or nm failure would also give).
set_tests_properties(isa_odr_check_catches_planted_helper PROPERTIES PASS_REGULAR_EXPRESSION
  "planted_isa_shared_sum\\(int const\\*, int\\)[^\n]*\n +avx512: [^\n]*planted_inline-avx512[^\n]*\n +base: [^\n]*planted_inline\\.cc")
