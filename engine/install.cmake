# Installation of intvit as a package for C (and C++) users: the one public header, the static
# (libintvit.a) and shared (libintvit.so) libraries, a CMake package (find_package(intvit) ->
# intvit::intvit) and a pkg-config file (intvit.pc). Included by the top-level CMakeLists.txt.
#
# The installed interface is only the C header and the libraries: nlohmann_json (header-only) and
# the engine's internal headers stay in the build tree. Static linking needs the libraries the
# objects call: oneDNN, stb, libturbojpeg, pthreads and the C++ runtime (listed in the package files below).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Only the C API leaves libintvit.so. Hidden visibility covers intvit's own code, but template
# instantiations from the standard library headers are default-visible (libstdc++ marks its
# namespace so); the version script makes everything but intvit_* local.
set(INTVIT_VERSION_SCRIPT ${PROJECT_BINARY_DIR}/intvit_exports.map)
file(WRITE ${INTVIT_VERSION_SCRIPT} "{\n  global: intvit_*;\n  local: *;\n};\n")
target_link_options(intvit_shared PRIVATE "LINKER:--version-script=${INTVIT_VERSION_SCRIPT}")
set_property(TARGET intvit_shared APPEND PROPERTY LINK_DEPENDS ${INTVIT_VERSION_SCRIPT})

# The C example, built in the tree as C11 against the public header only.
add_executable(intvit_classify_example ${PROJECT_SOURCE_DIR}/engine/examples/classify.c)
target_include_directories(intvit_classify_example PRIVATE ${PROJECT_SOURCE_DIR}/engine/include)
target_link_libraries(intvit_classify_example PRIVATE intvit_shared)
set_target_properties(intvit_classify_example PROPERTIES
  C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF
  OUTPUT_NAME intvit-classify-example RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/examples)
target_compile_options(intvit_classify_example PRIVATE -Wpedantic)
# Sanitizer builds that set only CMAKE_CXX_FLAGS: the C example must link the same runtime.
string(REGEX MATCHALL "-fsanitize=[^ ]+" _intvit_example_sanitize "${CMAKE_CXX_FLAGS}")
if(_intvit_example_sanitize)
  target_compile_options(intvit_classify_example PRIVATE ${_intvit_example_sanitize})
  target_link_options(intvit_classify_example PRIVATE ${_intvit_example_sanitize})
  # Linked by the C++ driver: UBSan's C++ checks in libintvit.so (vptr, function types) need the C++
  # runtime, which clang's C driver leaves out.
  set_target_properties(intvit_classify_example PROPERTIES LINKER_LANGUAGE CXX)
endif()

install(FILES ${PROJECT_SOURCE_DIR}/engine/include/intvit/intvit.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/intvit COMPONENT dev)
install(TARGETS intvit_static intvit_shared
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/engine/examples/classify.c
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT dev)

# CMake package (written by hand rather than install(EXPORT): the build-tree targets carry
# nlohmann_json and an object library in their interface, which C users must not need).
set(INTVIT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/intvit)
set(INTVIT_PACKAGE_WITH_ONEDNN ${INTVIT_WITH_ONEDNN})
configure_package_config_file(${PROJECT_SOURCE_DIR}/engine/intvitConfig.cmake.in
  ${PROJECT_BINARY_DIR}/package/intvitConfig.cmake
  INSTALL_DESTINATION ${INTVIT_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/intvitConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/package/intvitConfig.cmake ${PROJECT_BINARY_DIR}/package/intvitConfigVersion.cmake
  DESTINATION ${INTVIT_CMAKE_DIR} COMPONENT dev)

# pkg-config, relocatable: the prefix is found from the .pc file's own location, so
# `cmake --install --prefix ANYWHERE` works.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(INTVIT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(INTVIT_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH _intvit_pc_up /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
  string(REGEX REPLACE "/$" "" _intvit_pc_up "${_intvit_pc_up}")
  set(INTVIT_PC_PREFIX "\${pcfiledir}/${_intvit_pc_up}")
  set(INTVIT_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(INTVIT_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(INTVIT_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
set(INTVIT_PC_LIBS_PRIVATE "-lstb -lturbojpeg -lpthread -lstdc++ -lm")
if(INTVIT_WITH_ONEDNN)
  string(PREPEND INTVIT_PC_LIBS_PRIVATE "-ldnnl ")
endif()
configure_file(${PROJECT_SOURCE_DIR}/engine/intvit.pc.in ${PROJECT_BINARY_DIR}/package/intvit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/package/intvit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
