# The layers (top-level CMakeLists.txt, ARCHITECTURE.md) are enforced by the compiler: a planted
# include that goes up a layer must fail with "No such file" for that header (not merely fail:
# a broken harness fails too), and the same harness with a header of the layer's own level must
# compile. The planted objects are built on demand by the tests, never by the normal build.
function(intvit_planted_include test layer header expect_missing)
  set(target planted_${test})
  add_library(${target} OBJECT EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/layering/planted_include.cc)
  target_link_libraries(${target} PRIVATE ${layer})
  target_compile_definitions(${target} PRIVATE PLANTED_HEADER="${header}")
  add_test(NAME ${test} COMMAND ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR} --target ${target})
  if(expect_missing)
    string(REPLACE "." "\\." header_re "${header}")
    # GCC: "<header>: No such file or directory"; clang: "'<header>' file not found".
    set_tests_properties(${test} PROPERTIES PASS_REGULAR_EXPRESSION
      "${header_re}: No such file or directory;'${header_re}' file not found")
  endif()
endfunction()

intvit_planted_include(layering_kernels_cannot_include_engine intvit_kernels engine/graph.h TRUE)
intvit_planted_include(layering_core_cannot_include_weights intvit_core weights/quantizer.h TRUE)
intvit_planted_include(layering_models_cannot_include_weights intvit_models weights/calibration.h TRUE)
intvit_planted_include(layering_kernels_can_include_base intvit_kernels kernels/fixedpoint.h FALSE)
