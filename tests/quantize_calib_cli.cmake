# cmake -DCLI=<intvit> -DMODEL=<FP32 ViT dir> -DSHARED=<../shared> -DIMAGES=<tests/data/images/decode> -DOUT=<scratch>
#       -P quantize_calib_cli.cmake
# `intvit quantize` on a calibration folder with corrupt files among real JPEGs (the first four of
# ../shared's ImageNet sample; without ../shared, the repository's test JPEGs): each corrupt file is
# skipped with one warning naming it and the reason, the next files are taken until --calib-count
# images decode, the summary counts the skipped files, and only a folder where nothing decodes is an
# error (exit 1). The shipped 28×28 model keeps it to seconds.
foreach(v CLI MODEL IMAGES OUT)
  if(NOT ${v})
    message(FATAL_ERROR "usage: cmake -DCLI=... -DMODEL=... -DSHARED=... -DIMAGES=... -DOUT=... -P quantize_calib_cli.cmake")
  endif()
endforeach()
include(${CMAKE_CURRENT_LIST_DIR}/trace_cli_helpers.cmake)  # intvit(), expect()
file(REMOVE_RECURSE "${OUT}")
set(calib "${OUT}/calib")
file(MAKE_DIRECTORY "${calib}")
if(NOT "$ENV{INTVIT_SHARED_DIR}" STREQUAL "")
  set(SHARED "$ENV{INTVIT_SHARED_DIR}")
endif()
file(GLOB jpegs "${SHARED}/data/imagenet-sample/*.JPEG")
list(LENGTH jpegs n_jpegs)
if(n_jpegs LESS 4)
  message(STATUS "../shared/ not found: calibrating on the repository's test JPEGs instead")
  set(jpegs "${IMAGES}/jpeg_rgb_200_100_50.jpg" "${IMAGES}/jpeg_gray_77.jpg" "${IMAGES}/jpeg_progressive_30_160_220.jpg"
            "${IMAGES}/jpeg_rgb_200_100_50.jpg")
endif()
set(i 0)
foreach(name a b c d)
  list(GET jpegs ${i} jpeg)
  file(COPY_FILE "${jpeg}" "${calib}/${name}.JPEG")
  math(EXPR i "${i} + 1")
endforeach()
# Byte order: a.JPEG < a_empty.jpg < b.JPEG < b_broken.jpg < c.JPEG < d.JPEG ('.' < '_').
file(WRITE "${calib}/a_empty.jpg" "")
file(WRITE "${calib}/b_broken.jpg" "this is not a JPEG\n")

# 1. --calib-count 3: a, b, c decode (a_empty and b_broken skipped, d not needed); exit 0.
intvit(out err rc quantize --model "${MODEL}" --calib "${calib}" --calib-count 3 -o "${OUT}/int")
string(REGEX MATCHALL "warning: [^\n]*" warnings "${err}")
list(LENGTH warnings n_warnings)
if(NOT rc EQUAL 0 OR NOT EXISTS "${OUT}/int/model.intvit" OR NOT n_warnings EQUAL 2
   OR NOT out MATCHES "calibrated on 3 images \\(2 skipped")
  message(FATAL_ERROR "quantize with 2 corrupt calibration files: want exit 0, 2 warnings, \"calibrated on 3 images (2 skipped\";"
                      " got exit ${rc}:\n${out}\n${err}")
endif()
list(GET warnings 0 first)
list(GET warnings 1 second)
if(NOT first MATCHES "skipped calibration image: cannot decode [^\n]*/a_empty\\.jpg: [^\n]+"
   OR NOT second MATCHES "skipped calibration image: cannot decode [^\n]*/b_broken\\.jpg: [^\n]+")
  message(FATAL_ERROR "quantize: the warnings do not name each skipped file and why, in order:\n${err}")
endif()

# 2. More images asked for than decode: the four JPEGs, the two corrupt files counted; exit 0. The
# loading bar keeps its total (the 6 files there are) and ends "4/6 (ended early)": it jumped to "4/4"
# after "4/6".
intvit(out err rc quantize --model "${MODEL}" --calib "${calib}" --calib-count 10 -o "${OUT}/int")
if(NOT rc EQUAL 0 OR NOT out MATCHES "calibrated on 4 images \\(2 skipped")
  message(FATAL_ERROR "quantize --calib-count 10 with 4 decodable files: want exit 0, \"calibrated on 4 images (2 skipped\";"
                      " got exit ${rc}:\n${out}\n${err}")
endif()
string(REGEX MATCHALL "loading +\\[[#.]+\\] [0-9]+/[0-9]+[^\n]*" bars "${err}")
list(LENGTH bars n_bars)
if(n_bars LESS 1)
  message(FATAL_ERROR "quantize: no loading bar on stderr:\n${err}")
endif()
list(GET bars -1 last_bar)
foreach(bar IN LISTS bars)
  if(NOT bar MATCHES "/6( |$)")
    message(FATAL_ERROR "quantize: the loading bar's total changed (want /6 throughout, ending \"4/6 (ended early)\"):\n${err}")
  endif()
endforeach()
if(NOT last_bar MATCHES "\\] 4/6 \\(ended early\\)$")
  message(FATAL_ERROR "quantize: the loading bar does not end \"4/6 (ended early)\":\n${err}")
endif()

# 3. Nothing decodes: an error (exit 1) after a warning per file.
file(MAKE_DIRECTORY "${OUT}/bad")
file(COPY_FILE "${calib}/a_empty.jpg" "${OUT}/bad/a_empty.jpg")
file(COPY_FILE "${calib}/b_broken.jpg" "${OUT}/bad/b_broken.jpg")
expect(1 "warning: [^\n]*a_empty\\.jpg.*warning: [^\n]*b_broken\\.jpg.*error: no calibration image in [^\n]*bad could be read and decoded \\(2 image files tried\\)"
       quantize --model "${MODEL}" --calib "${OUT}/bad" --calib-count 3 -o "${OUT}/int_bad")
message(STATUS "quantize skips undecodable calibration images: warnings, count, all-corrupt error ok")
file(REMOVE_RECURSE "${OUT}")
