# Included by the Fashion-MNIST accuracy scripts: decompresses IDX files of Debian's
# dataset-fashion-mnist (.gz in DATA) into OUT, where `intvit eval` and the tests read them.
function(decompress_fashion_mnist data out)
  file(MAKE_DIRECTORY "${out}")
  foreach(name ${ARGN})
    if(NOT EXISTS "${data}/${name}.gz")
      message(FATAL_ERROR "${data}/${name}.gz is missing: install Debian's dataset-fashion-mnist (bash .ci/setup)")
    endif()
    execute_process(COMMAND gzip -dc "${data}/${name}.gz" OUTPUT_FILE "${out}/${name}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "gzip -dc ${data}/${name}.gz failed (${rc})")
    endif()
  endforeach()
endfunction()

# The test set: t10k images and labels.
function(decompress_fashion_mnist_test_set data out)
  decompress_fashion_mnist("${data}" "${out}" t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
endfunction()
