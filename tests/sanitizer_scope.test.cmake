# Sanitizer builds compile only the SIMD files this CPU cannot run without sanitizers (CMakeLists.txt,
# intvit_host_runs): every SIMD object of the kernels layer that it can run must call into the
# sanitizer runtime, and every other must not (a wrong /proc/cpuinfo name would silently leave
# runnable kernels unchecked, or waste the build's time).
if(INTVIT_SANITIZED)
  get_property(_intvit_scope GLOBAL PROPERTY INTVIT_SANITIZER_SCOPE)
  set(_intvit_scope_kernels)
  foreach(entry IN LISTS _intvit_scope)  # <absolute source>=<TRUE|FALSE>
    string(REGEX REPLACE "=[^=]*$" "" src "${entry}")
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${src})
    if(rel MATCHES "^kernels/[^/]+/")
      string(REGEX REPLACE "^.*=" "" runs "${entry}")
      list(APPEND _intvit_scope_kernels "${rel}=${runs}")
    endif()
  endforeach()
  add_test(NAME sanitizer_scope_runnable_simd_is_instrumented
    COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM} "-DSCOPE=${_intvit_scope_kernels}"
            "-DOBJECTS=$<TARGET_OBJECTS:intvit_kernels>"
            -P ${CMAKE_CURRENT_LIST_DIR}/sanitizer_scope/check_sanitizer_scope.cmake)
endif()
