/* Classifies image files with intvit's C API and prints the top-5 classes of each.
 *
 *   usage: classify MODEL IMAGE...
 *
 * MODEL is a model folder or file (see intvit_model_load); IMAGE is a JPEG, PNG, BMP, GIF or
 * PGM/PPM file. Exit status: 0 if every image was classified, 1 otherwise. Build:
 *   cc -std=c11 classify.c $(pkg-config --cflags --libs intvit)
 */
#include <stdio.h>
#include <stdlib.h>

#include <intvit/intvit.h>

enum { kTopK = 5 };

/* Prints one image's top classes; returns 0 on success. */
static int classify_file(intvit_session* session, size_t k, const char* path) {
  intvit_image* image = NULL;
  intvit_status status = intvit_image_decode_file(path, &image);
  if (status != INTVIT_OK) {
    fprintf(stderr, "classify: %s: %s (%s)\n", path, intvit_last_error(), intvit_status_string(status));
    return 1;
  }
  const uint8_t* pixels = NULL;
  int32_t width = 0, height = 0, channels = 0;
  size_t stride = 0;
  intvit_prediction top[kTopK];
  status = intvit_image_pixels(image, &pixels, &width, &height, &channels, &stride);
  if (status == INTVIT_OK) {
    status = intvit_session_run_image(session, pixels, width, height, channels, stride, top, k);
  }
  intvit_image_destroy(image);
  if (status != INTVIT_OK) {
    fprintf(stderr, "classify: %s: %s (%s)\n", path, intvit_session_last_error(session), intvit_status_string(status));
    return 1;
  }
  printf("%s (%dx%d):\n", path, (int)width, (int)height);
  for (size_t i = 0; i < k; ++i) {
    printf("  %6.2f%%  %4d  %s\n", 100.0 * top[i].probability, (int)top[i].class_index, top[i].label);
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL IMAGE...\n(intvit %s)\n", argv[0], intvit_version_string());
    return 2;
  }
  if (intvit_version() / 100 != INTVIT_VERSION_NUMBER / 100) {
    fprintf(stderr, "classify: built for intvit %d, running with %d\n", INTVIT_VERSION_NUMBER, intvit_version());
    return 1;
  }

  intvit_model* model = NULL;
  intvit_status status = intvit_model_load(argv[1], 0, &model);
  if (status != INTVIT_OK) {
    fprintf(stderr, "classify: %s (%s)\n", intvit_last_error(), intvit_status_string(status));
    return 1;
  }
  int32_t classes = 0;
  const char* precision = "";
  intvit_model_num_classes(model, &classes);
  intvit_model_precision(model, &precision);

  intvit_session* session = NULL;
  status = intvit_session_create(model, 1, NULL, &session);
  if (status != INTVIT_OK) {
    fprintf(stderr, "classify: %s (%s)\n", intvit_model_last_error(model), intvit_status_string(status));
    intvit_model_destroy(model);
    return 1;
  }
  const char* backend = "";
  intvit_session_backend(session, &backend);
  printf("model %s: %s, %d classes, backend %s\n", argv[1], precision, (int)classes, backend);

  const size_t k = classes < kTopK ? (size_t)classes : (size_t)kTopK;
  int failures = 0;
  for (int i = 2; i < argc; ++i) failures += classify_file(session, k, argv[i]);

  intvit_session_destroy(session);
  intvit_model_destroy(model);
  return failures ? 1 : 0;
}
