# cmake -DCLI=<intvit> -DMODEL=<model dir> -DIMAGES=<tests/data/images/decode> -DOUT=<scratch> -P cli_folders.cmake
# `intvit classify` / `eval` on folders: recursion, which files count as images, sorted order, the
# same output whatever --threads and --batch, --json one object per image in input order (an error
# object for a corrupt one), a corrupt image reported without stopping the others (exit 1), an empty
# folder, the images/s line; a bigger folder with corrupt and truncated files mixed in, the same bytes
# for 1-3 threads and batches 1-8.
foreach(v CLI MODEL IMAGES OUT)
  if(NOT ${v})
    message(FATAL_ERROR "usage: cmake -DCLI=... -DMODEL=... -DIMAGES=... -DOUT=... -P cli_folders.cmake")
  endif()
endforeach()
file(REMOVE_RECURSE "${OUT}")
set(dir "${OUT}/photos")
file(MAKE_DIRECTORY "${dir}/a/b" "${OUT}/empty/sub")
file(COPY_FILE "${IMAGES}/jpeg_rgb_200_100_50.jpg" "${dir}/a/jpeg_rgb_200_100_50.jpg")
file(COPY_FILE "${IMAGES}/png_rgb8.png" "${dir}/a/b/png_rgb8.png")
file(COPY_FILE "${IMAGES}/bmp_rgb24.bmp" "${dir}/a/b/bmp_rgb24.bmp")
file(COPY_FILE "${IMAGES}/ppm_rgb.ppm" "${dir}/c.PPM")
file(WRITE "${dir}/a/broken.jpg" "this is not a JPEG\n")
file(WRITE "${dir}/notes.txt" "not an image, skipped by extension\n")
file(WRITE "${dir}/labels.csv" "file,class_index\n")
file(WRITE "${OUT}/empty/sub/readme.md" "no images here\n")
# Byte order of the paths: "a/b/" < "a/broken.jpg" ('/' < 'r'), upper case before lower case.
set(good "${dir}/a/b/bmp_rgb24.bmp" "${dir}/a/b/png_rgb8.png" "${dir}/a/jpeg_rgb_200_100_50.jpg" "${dir}/c.PPM")

function(classify out_var err_var rc_var)
  execute_process(COMMAND "${CLI}" classify --model "${MODEL}" ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${err_var} "${err}" PARENT_SCOPE)
  set(${rc_var} "${rc}" PARENT_SCOPE)
endfunction()

# 1. The folder, one thread, batches of 2: the four images in order, the corrupt one reported, exit 1.
classify(out1 err1 rc1 --threads 1 --batch 2 "${dir}")
string(REGEX MATCHALL "[^\n]+:\n" heads "${out1}")
string(REPLACE ":\n" "" heads "${heads}")
if(NOT rc1 EQUAL 1 OR NOT heads STREQUAL "${good}")
  message(FATAL_ERROR "classify DIR: want exit 1 and images\n${good}\ngot exit ${rc1} and\n${heads}\nstderr:\n${err1}")
endif()
if(NOT err1 MATCHES "error: cannot decode [^\n]*broken\\.jpg")
  message(FATAL_ERROR "classify DIR: the corrupt image is not reported:\n${err1}")
endif()
if(err1 MATCHES "notes\\.txt|labels\\.csv" OR out1 MATCHES "notes\\.txt|labels\\.csv")
  message(FATAL_ERROR "classify DIR: a non-image file was taken for an image:\n${out1}\n${err1}")
endif()
if(NOT err1 MATCHES "classify: 4 images in [0-9.]+ s: [0-9.]+ images/s \\([a-z0-9]+, 1 threads, batch 2\\), 1 failed; [0-9.]+ per CPU-second")
  message(FATAL_ERROR "classify DIR: no images/s line on stderr:\n${err1}")
endif()
string(REGEX MATCHALL "\n  [ 0-9.]+%  [ 0-9]+  [^\n]+" preds "${out1}")
list(LENGTH preds n)
if(NOT n EQUAL 20)
  message(FATAL_ERROR "classify DIR: want 5 predictions for each of 4 images, got ${n}:\n${out1}")
endif()

# 2. Two threads and other batch sizes print the same bytes.
foreach(opts "--threads;2;--batch;3" "--threads;2;--batch;1" "--threads;1;--batch;8")
  classify(out err rc ${opts} "${dir}")
  if(NOT rc EQUAL 1 OR NOT out STREQUAL out1)
    message(FATAL_ERROR "classify ${opts} DIR differs from --threads 1 --batch 2 (exit ${rc}):\n${out}\n---\n${out1}")
  endif()
endforeach()

# 3. The same files named one by one: the same output, exit 0.
classify(out err rc --threads 2 ${good})
if(NOT rc EQUAL 0 OR NOT out STREQUAL out1)
  message(FATAL_ERROR "classify FILES differs from classify DIR (exit ${rc}):\n${out}\n---\n${out1}\n${err}")
endif()

# 4. --json: one object per line per image, in input order; the corrupt one as {"image", "error"}
# (as eval's "failed"), still reported on stderr, exit 1.
classify(outj errj rcj --threads 2 --batch 3 --json "${dir}" "${good}")
string(REGEX REPLACE "\n$" "" outj "${outj}")
string(REPLACE "\n" ";" lines "${outj}")
set(want_json ${good} ${good})
list(INSERT want_json 2 "${dir}/a/broken.jpg")
list(LENGTH lines n)
list(LENGTH want_json n_want)
if(NOT rcj EQUAL 1 OR NOT n EQUAL n_want)
  message(FATAL_ERROR "classify --json: want ${n_want} lines and exit 1, got ${n} (exit ${rcj}):\n${outj}\n${errj}")
endif()
math(EXPR last "${n_want} - 1")
foreach(i RANGE 0 ${last})
  list(GET lines ${i} line)
  list(GET want_json ${i} want)
  string(JSON image GET "${line}" image)
  if(i EQUAL 2)
    string(JSON error ERROR_VARIABLE json_error GET "${line}" error)
    if(NOT image STREQUAL want OR json_error OR NOT error MATCHES "^cannot decode [^\n]*broken\\.jpg" OR line MATCHES "\"top\"")
      message(FATAL_ERROR "classify --json line ${i}: want {\"image\": \"${want}\", \"error\": \"cannot decode ...\"}, got:\n${line}")
    endif()
    continue()
  endif()
  string(JSON ntop LENGTH "${line}" top)
  if(NOT image STREQUAL want OR NOT ntop EQUAL 5)
    message(FATAL_ERROR "classify --json line ${i}: want ${want} with 5 classes, got:\n${line}")
  endif()
endforeach()
if(NOT errj MATCHES "error: cannot decode [^\n]*broken\\.jpg")
  message(FATAL_ERROR "classify --json: the corrupt image is not reported on stderr:\n${errj}")
endif()

# 5. A folder without images is an error (exit 1) that names it; the other inputs still run.
classify(out err rc "${OUT}/empty" "${dir}/c.PPM")
if(NOT rc EQUAL 1 OR NOT err MATCHES "no image files in folder [^\n]*empty" OR NOT out MATCHES "c\\.PPM:\n")
  message(FATAL_ERROR "classify EMPTY_DIR FILE: want exit 1, the folder named, c.PPM classified; got ${rc}:\n${out}\n${err}")
endif()

# 6. eval on an unlabelled folder: the same four images, the corrupt one under "failed", exit 1.
execute_process(COMMAND "${CLI}" eval --model "${MODEL}" --images "${dir}" --threads 2 --batch 3 --json
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "eval DIR with a corrupt image: want exit 1, got ${rc}:\n${out}\n${err}")
endif()
# Without --labels: a note why there is no accuracy, naming the folder's labels.csv, which is not read.
if(NOT err MATCHES "note: no labels, so no accuracy [^\n]*photos/labels\\.csv is read only when named: --labels [^\n]*photos/labels\\.csv")
  message(FATAL_ERROR "eval DIR without --labels: no note naming labels.csv:\n${err}")
endif()
string(JSON images GET "${out}" images)
string(JSON nfailed LENGTH "${out}" failed)
string(JSON failed_image GET "${out}" failed 0 image)
string(JSON first GET "${out}" per_image 0 image)
string(JSON last GET "${out}" per_image 3 image)
if(NOT images EQUAL 4 OR NOT nfailed EQUAL 1 OR NOT failed_image STREQUAL "a/broken.jpg"
   OR NOT first STREQUAL "a/b/bmp_rgb24.bmp" OR NOT last STREQUAL "c.PPM")
  message(FATAL_ERROR "eval DIR: unexpected figures:\n${out}")
endif()
# 7. A bigger folder, corrupt and truncated files mixed in (tests/corpus/image, beside IMAGES'
# parent): every thread count and batch size prints the same --json bytes and the same errors in the
# same order as one thread with batches of 1, and exits 1. Threads decode and run batches of their
# own and the last batches shrink, so this covers out-of-order finishing and the reordering.
get_filename_component(corpus "${IMAGES}/../../../corpus/image" ABSOLUTE)
set(mix "${OUT}/mixed")
file(MAKE_DIRECTORY "${mix}/sub")
file(GLOB decodable "${IMAGES}/*")
foreach(f ${decodable})
  get_filename_component(name "${f}" NAME)
  file(COPY_FILE "${f}" "${mix}/${name}")
  file(COPY_FILE "${f}" "${mix}/sub/${name}")
endforeach()
# Named so that they sort between good images (byte order): b < g < j < p < sub/.
foreach(pair "bmp_truncated_half.bmp;bmp_q_truncated.bmp" "jpeg_truncated_half.jpg;jpeg_h_truncated.jpg"
             "jpeg_truncated_in_scan.jpg;jpeg_r_truncated_in_scan.jpg" "empty.jpg;gif_m_empty.gif"
             "jpeg_progressive_truncated.jpg;sub/jpeg_p_truncated.jpg" "gif_truncated_half.gif;sub/png_h_not_png.png")
  list(GET pair 0 from)
  list(GET pair 1 to)
  file(COPY_FILE "${corpus}/${from}" "${mix}/${to}")
endforeach()
function(errors_of err out_var)  # the error lines, without the speed line
  string(REGEX MATCHALL "error: [^\n]+" lines "${err}")
  set(${out_var} "${lines}" PARENT_SCOPE)
endfunction()
classify(ref_out ref_err ref_rc --threads 1 --batch 1 --json "${mix}")
errors_of("${ref_err}" ref_errors)
list(LENGTH ref_errors n_errors)
string(REGEX MATCHALL "\n" ref_lines "${ref_out}")
list(LENGTH ref_lines n_lines)
list(LENGTH decodable n_decodable)
math(EXPR want_lines "2 * ${n_decodable} + 6")  # --json: an error object per corrupt file
if(NOT ref_rc EQUAL 1 OR NOT n_errors EQUAL 6 OR NOT n_lines EQUAL want_lines)
  message(FATAL_ERROR "classify mixed folder: want exit 1, 6 errors, ${want_lines} lines; got ${ref_rc}:\n${ref_out}\n${ref_err}")
endif()
foreach(opts "--threads;1;--batch;8" "--threads;2;--batch;1" "--threads;2;--batch;3" "--threads;2;--batch;8"
             "--threads;3;--batch;1" "--threads;3;--batch;3" "--threads;3;--batch;8")
  classify(out err rc ${opts} --json "${mix}")
  errors_of("${err}" errors)
  if(NOT rc EQUAL 1 OR NOT out STREQUAL ref_out OR NOT errors STREQUAL ref_errors)
    message(FATAL_ERROR "classify ${opts} mixed folder differs from --threads 1 --batch 1 (exit ${rc}):\n${out}\n${err}\n---\n${ref_out}\n${ref_err}")
  endif()
endforeach()

# 8. Only corrupt files, on three threads: every one reported in order, nothing classified, exit 1.
set(bad "${OUT}/all_bad")
file(MAKE_DIRECTORY "${bad}")
foreach(name jpeg_truncated_half.jpg empty.jpg gif_truncated_half.gif bmp_truncated_half.bmp jpeg_soi_only.jpg)
  file(COPY_FILE "${corpus}/${name}" "${bad}/${name}")
endforeach()
classify(out err rc --threads 3 --batch 2 "${bad}")
errors_of("${err}" errors)
list(LENGTH errors n_errors)
if(NOT rc EQUAL 1 OR NOT out STREQUAL "" OR NOT n_errors EQUAL 5 OR NOT err MATCHES "classify: 0 images in [^\n]*, 5 failed")
  message(FATAL_ERROR "classify on corrupt files only: want exit 1, 5 errors, nothing on stdout; got ${rc}:\n${out}\n${err}")
endif()
list(GET errors 0 first_error)
if(NOT first_error MATCHES "bmp_truncated_half\\.bmp")
  message(FATAL_ERROR "classify on corrupt files only: errors not in input order:\n${err}")
endif()
message(STATUS "classify/eval on folders: order, recursion, threads, batches, --json, corrupt and empty inputs ok")
file(REMOVE_RECURSE "${OUT}")
