# Installs the build into a temp prefix and uses it as a C user would (see c_api.test.cmake).
# Inputs: BUILD_DIR WORK_DIR SOURCE_DIR SMOKE_DIR TESTS_EXE CLI_EXE C_COMPILER PKG_CONFIG GENERATOR
# SANITIZE_FLAGS (compile and link) SANITIZE_LINK_FLAGS (link only) CONFIG.
function(run)
  cmake_parse_arguments(R "" "OUTPUT;WORKING_DIRECTORY" "COMMAND" ${ARGN})
  if(NOT R_WORKING_DIRECTORY)
    set(R_WORKING_DIRECTORY ${WORK_DIR})
  endif()
  execute_process(COMMAND ${R_COMMAND} WORKING_DIRECTORY ${R_WORKING_DIRECTORY}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${R_COMMAND}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  if(R_OUTPUT)
    set(${R_OUTPUT} "${out}" PARENT_SCOPE)
  endif()
endfunction()

string(TIMESTAMP t0 "%s")
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

# 1. Install. Only the one public header may appear under include/.
run(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --config ${CONFIG})
file(GLOB_RECURSE headers RELATIVE ${prefix}/include ${prefix}/include/*)
if(NOT headers STREQUAL "intvit/intvit.h")
  message(FATAL_ERROR "installed headers should be exactly intvit/intvit.h, got: ${headers}")
endif()
file(GLOB pc_files ${prefix}/lib*/pkgconfig/intvit.pc ${prefix}/lib/*/pkgconfig/intvit.pc)
list(GET pc_files 0 pc_file)
get_filename_component(pc_dir ${pc_file} DIRECTORY)
get_filename_component(libdir ${pc_dir} DIRECTORY)
file(GLOB example ${prefix}/share/doc/*/examples/classify.c)
if(NOT EXISTS "${example}")
  message(FATAL_ERROR "the example classify.c was not installed")
endif()

# 2. A tiny integer model (written by the test binary's hidden fixture test) and test images.
set(model ${WORK_DIR}/model)
run(COMMAND ${CMAKE_COMMAND} -E env INTVIT_C_API_MODEL_OUT=${model}
            ${TESTS_EXE} "c_api: write the tiny model for the install smoke test")
set(images ${SOURCE_DIR}/tests/data/images/resize/photo.png ${SOURCE_DIR}/tests/data/images/decode/jpeg_rgb_200_100_50.jpg
           ${SOURCE_DIR}/tests/data/images/decode/png_gray8.png)
file(GLOB shared_jpegs ${SOURCE_DIR}/../shared/data/imagenet-sample/*.JPEG)
if(shared_jpegs)
  list(GET shared_jpegs 0 shared_jpeg)
  list(APPEND images ${shared_jpeg})
endif()

# 3. find_package(intvit): shared and static, plus the header as C99.
set(flags "")
if(SANITIZE_FLAGS)
  set(flags "-DCMAKE_C_FLAGS=${SANITIZE_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${SANITIZE_FLAGS} ${SANITIZE_LINK_FLAGS}")
endif()
run(COMMAND ${CMAKE_COMMAND} -S ${SMOKE_DIR} -B ${WORK_DIR}/cmake-build -G ${GENERATOR}
            -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_PREFIX_PATH=${prefix} -DINTVIT_EXAMPLE=${example}
            -DCMAKE_BUILD_TYPE=Release ${flags})
run(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/cmake-build)

# 4. pkg-config: shared (-lintvit) and static (Libs.private, libintvit.a).
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
run(COMMAND ${PKG_CONFIG} --cflags intvit OUTPUT cflags)
run(COMMAND ${PKG_CONFIG} --libs intvit OUTPUT libs)
run(COMMAND ${PKG_CONFIG} --static --libs intvit OUTPUT static_libs)
separate_arguments(cflags UNIX_COMMAND "${cflags}")
separate_arguments(libs UNIX_COMMAND "${libs}")
separate_arguments(static_libs UNIX_COMMAND "${static_libs}")
list(TRANSFORM static_libs REPLACE "^-lintvit$" "-l:libintvit.a")
separate_arguments(sanitize UNIX_COMMAND "${SANITIZE_FLAGS} ${SANITIZE_LINK_FLAGS}")
run(COMMAND ${C_COMPILER} -std=c11 -Wall -Wextra -Wpedantic -Werror ${sanitize} ${cflags} ${example}
            -o ${WORK_DIR}/classify_pc_shared ${libs} -Wl,-rpath,${libdir})
run(COMMAND ${C_COMPILER} -std=c11 -Wall -Wextra -Wpedantic -Werror ${sanitize} ${cflags} ${example}
            -o ${WORK_DIR}/classify_pc_static ${static_libs})

# 5. Run all four; each must print exactly what the C++ CLI prints for the same model and images.
run(COMMAND ${CLI_EXE} classify --model ${model} ${images} OUTPUT cli_out)
string(REGEX MATCHALL "  [ 0-9.]+%  [ 0-9]+  [^\n]*" want "${cli_out}")
list(LENGTH want n_want)
if(n_want LESS 10)
  message(FATAL_ERROR "could not read the CLI's predictions:\n${cli_out}")
endif()
foreach(exe cmake-build/classify_cmake_shared cmake-build/classify_cmake_static classify_pc_shared classify_pc_static)
  run(COMMAND ${WORK_DIR}/${exe} ${model} ${images} OUTPUT got_out)
  string(REGEX MATCHALL "  [ 0-9.]+%  [ 0-9]+  [^\n]*" got "${got_out}")
  if(NOT got STREQUAL want)
    message(FATAL_ERROR "${exe} disagrees with `intvit classify`:\n${got_out}\n--- CLI:\n${cli_out}")
  endif()
  if(NOT got_out MATCHES "int8, 10 classes")
    message(FATAL_ERROR "${exe}: unexpected model line:\n${got_out}")
  endif()
endforeach()

# The static builds must not need libintvit.so; the shared ones must.
find_program(READELF readelf)
if(READELF)
  foreach(exe cmake-build/classify_cmake_static classify_pc_static cmake-build/classify_cmake_shared classify_pc_shared)
    run(COMMAND ${READELF} -d ${WORK_DIR}/${exe} OUTPUT dyn)
    if(exe MATCHES "static" AND dyn MATCHES "libintvit")
      message(FATAL_ERROR "${exe} links libintvit.so dynamically")
    elseif(exe MATCHES "shared" AND NOT dyn MATCHES "libintvit\\.so")
      message(FATAL_ERROR "${exe} does not link libintvit.so")
    endif()
  endforeach()
endif()

# 6. A bad image gives the example's error path, not a crash.
execute_process(COMMAND ${WORK_DIR}/classify_pc_shared ${model} ${SMOKE_DIR}/CMakeLists.txt
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT err MATCHES "corrupt image")
  message(FATAL_ERROR "classifying a non-image should fail with 'corrupt image' and exit 1, got ${rc}: ${err}")
endif()

string(TIMESTAMP t1 "%s")
math(EXPR seconds "${t1} - ${t0}")
list(LENGTH images n_images)
message(STATUS "install smoke: 4 builds of classify.c agree with the CLI on ${n_images} images (${seconds} s)")
file(REMOVE_RECURSE ${WORK_DIR})
