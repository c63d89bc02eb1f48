# catch_discover_tests splits a test name at ';' (a CMake list separator): such a test becomes a CTest
# whose filter matches no test case, and Catch passes with "No tests ran". Keep ';' out of names.
add_test(NAME test_names_have_no_semicolon
  COMMAND ${CMAKE_COMMAND} -DDIR=${CMAKE_CURRENT_SOURCE_DIR} -P ${CMAKE_CURRENT_SOURCE_DIR}/test_names.cmake)
