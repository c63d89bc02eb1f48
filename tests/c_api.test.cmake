# C API checks beyond tests/c_api_test.cc (which is part of intvit_tests):
#  - intvit_c_api_alloc_tests: its own Catch2 binary, because it replaces the global operator new
#    to count allocations and inject failures (tests/c_api_alloc/c_api_alloc_test.cc);
#  - c_api_exports: libintvit.so exports exactly the functions the public header declares;
#  - c_api_exports_check_catches_extra_symbols: the same check fails on a library exporting more;
#  - c_api_install_smoke: `cmake --install` into a temp prefix, then the installed example
#    classify.c is built with find_package(intvit) (shared and static) and with pkg-config (shared
#    and static) and run on images; all four print what the C++ CLI prints.

# The header's version macros follow project(VERSION) (checked in c_api_test.cc).
target_compile_definitions(intvit_test_common INTERFACE INTVIT_PROJECT_VERSION="${PROJECT_VERSION}")

add_executable(intvit_c_api_alloc_tests ${CMAKE_CURRENT_LIST_DIR}/c_api_alloc/c_api_alloc_test.cc)
target_link_libraries(intvit_c_api_alloc_tests PRIVATE intvit_static intvit_catch_main)
target_include_directories(intvit_c_api_alloc_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(intvit_c_api_alloc_tests PRIVATE INTVIT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
catch_discover_tests(intvit_c_api_alloc_tests PROPERTIES TIMEOUT 300
  ENVIRONMENT "OMP_NUM_THREADS=1;OMP_WAIT_POLICY=passive")

set(INTVIT_SMOKE_DIR ${CMAKE_CURRENT_LIST_DIR}/install_smoke)

add_test(NAME c_api_exports
  COMMAND ${CMAKE_COMMAND} -DLIBRARY=$<TARGET_FILE:intvit_shared>
          -DHEADER=${PROJECT_SOURCE_DIR}/engine/include/intvit/intvit.h
          -P ${INTVIT_SMOKE_DIR}/check_exports.cmake)

# Prove the export check sees extra symbols: libstb.so exports stb*, none of them intvit_*.
list(FILTER STB_LINK_LIBRARIES INCLUDE REGEX "\\.so")
if(STB_LINK_LIBRARIES)
  list(GET STB_LINK_LIBRARIES 0 _intvit_stb_so)
  add_test(NAME c_api_exports_check_catches_extra_symbols
    COMMAND ${CMAKE_COMMAND} -DLIBRARY=${_intvit_stb_so} -DHEADER=${PROJECT_SOURCE_DIR}/engine/include/intvit/intvit.h
            -DONLY_EXTRA=ON -P ${INTVIT_SMOKE_DIR}/check_exports.cmake)
  # Passes only on the check's verdict naming the extra symbols, not on any failure (a missing nm
  # or an unreadable library fails differently).
  set_tests_properties(c_api_exports_check_catches_extra_symbols PROPERTIES
    PASS_REGULAR_EXPRESSION "exports [0-9]+ symbol\\(s\\) that are not[ \t\r\n]+intvit_")
endif()

# Sanitizer builds: the smoke projects compile and link with the same -fsanitize flags.
string(REGEX MATCHALL "-fsanitize=[^ ]+" _intvit_sanitize "${CMAKE_CXX_FLAGS}")
string(JOIN " " _intvit_sanitize ${_intvit_sanitize})
# libintvit built with clang's UBSan references UBSan's C++ runtime (vptr checks), which clang's
# C driver links only when asked, and that runtime needs libstdc++: link-only flags.
set(_intvit_sanitize_link "")
if(CMAKE_C_COMPILER_ID MATCHES "Clang" AND _intvit_sanitize MATCHES "undefined")
  set(_intvit_sanitize_link "-fsanitize-link-c++-runtime -lstdc++")
endif()

add_test(NAME c_api_install_smoke
  COMMAND ${CMAKE_COMMAND}
          -DBUILD_DIR=${PROJECT_BINARY_DIR}
          -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/c_api_install_smoke
          -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
          -DSMOKE_DIR=${INTVIT_SMOKE_DIR}
          -DTESTS_EXE=$<TARGET_FILE:intvit_tests>
          -DCLI_EXE=$<TARGET_FILE:intvit_cli>
          -DC_COMPILER=${CMAKE_C_COMPILER}
          -DPKG_CONFIG=${PKG_CONFIG_EXECUTABLE}
          -DGENERATOR=${CMAKE_GENERATOR}
          -DSANITIZE_FLAGS=${_intvit_sanitize}
          -DSANITIZE_LINK_FLAGS=${_intvit_sanitize_link}
          -DCONFIG=$<CONFIG>
          -P ${INTVIT_SMOKE_DIR}/run_smoke.cmake)
set_tests_properties(c_api_install_smoke PROPERTIES TIMEOUT 300
  ENVIRONMENT "OMP_NUM_THREADS=1;OMP_WAIT_POLICY=passive")
