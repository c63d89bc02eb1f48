# cmake -DOBJECTS="a.o;b.o" -P no_avx512_instructions.cmake: fails naming every object whose code uses
# an AVX-512 register (zmm, an opmask k0-k7, or xmm/ymm 16-31), i.e. holds native AVX-512 code, or a
# VNNI instruction (vpdpbusd / vpdpwssd and their saturating forms, AVX-VNNI's VEX ones included).
if(NOT OBJECTS)
  message(FATAL_ERROR "usage: cmake -DOBJECTS=<objects> -P no_avx512_instructions.cmake")
endif()
find_program(OBJDUMP objdump REQUIRED)
find_program(GREP grep REQUIRED)
set(bad 0)
list(LENGTH OBJECTS n)
foreach(obj IN LISTS OBJECTS)
  if(NOT EXISTS ${obj})
    message(FATAL_ERROR "no object ${obj}")
  endif()
  execute_process(COMMAND ${OBJDUMP} -d --no-show-raw-insn ${obj}
                  COMMAND ${GREP} -E "%(zmm[0-9]+|k[0-7]|[xy]mm(1[6-9]|2[0-9]|3[01]))([^0-9]|$)|vpdp(busd|wssd)"
                  OUTPUT_VARIABLE hits RESULT_VARIABLE rc)
  if(hits)
    string(REGEX MATCHALL "\n" lines "${hits}")
    list(LENGTH lines count)
    string(REGEX MATCH "^[^\n]*" first "${hits}")
    string(STRIP "${first}" first)
    get_filename_component(name ${obj} NAME)
    message(STATUS "native AVX-512 or VNNI code in ${name}: ${count} instructions, e.g. ${first}")  # STATUS: unwrapped
    math(EXPR bad "${bad} + 1")
  elseif(NOT rc EQUAL 1)  # grep: 1 = no match; anything else (objdump failing too) is an error
    message(FATAL_ERROR "objdump | grep failed on ${obj}")
  endif()
endforeach()
if(bad)
  message(FATAL_ERROR "${bad} of ${n} objects hold native AVX-512 or VNNI code")
endif()
message(STATUS "no AVX-512 or VNNI instruction in ${n} objects")
