/*
 * intvit — integer-only vision-transformer inference. The public C API (C99/C11 and C++).
 *
 * Conventions (every function follows them):
 *  - Every fallible call returns an intvit_status; INTVIT_OK (0) is success. Status values are
 *    stable: new ones are only ever appended.
 *  - Objects come out through a `T** out` argument, which is set to NULL on failure.
 *  - A failed call records a message: intvit_last_error() (per thread, always), and also
 *    intvit_model_last_error() / intvit_session_last_error() when the call took that handle.
 *    Successful calls leave the messages as they were (errno style: check the status first).
 *  - Every pointer argument is checked: NULL where it is not allowed gives
 *    INTVIT_ERROR_INVALID_ARGUMENT, never a crash. intvit_*_destroy(NULL) is a no-op.
 *  - No C++ exception crosses this boundary; out-of-memory is INTVIT_ERROR_OUT_OF_MEMORY.
 *  - Ownership is written next to every pointer: "borrowed" = the caller keeps ownership and
 *    intvit does not keep the pointer after the call; "owned by X" = valid while X lives, do not
 *    free; "caller destroys" = release with the matching intvit_*_destroy.
 *  - Threads: an intvit_model is immutable after loading and may be used from any number of
 *    threads at once. An intvit_session belongs to one thread at a time (create one per thread);
 *    its own worker threads are internal.
 *  - Images are 8-bit, row-major, channels interleaved (gray, RGB or RGBA), any size up to
 *    INTVIT_MAX_IMAGE_PIXELS; a "cropped input" is what the model reads: input_size x input_size
 *    RGB (3 bytes per pixel, no row padding), i.e. intvit_model_input_bytes() bytes.
 * New behaviour gets a new function (e.g. a _v2 suffix), never a changed signature.
 */
#ifndef INTVIT_INTVIT_H_
#define INTVIT_INTVIT_H_

#include <stddef.h>
#include <stdint.h>

#define INTVIT_VERSION_MAJOR 0
#define INTVIT_VERSION_MINOR 1
#define INTVIT_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH, as intvit_version() returns it for the library in use. */
#define INTVIT_VERSION_NUMBER \
  (INTVIT_VERSION_MAJOR * 10000 + INTVIT_VERSION_MINOR * 100 + INTVIT_VERSION_PATCH)

#if defined(_WIN32)
#define INTVIT_API
#elif defined(__GNUC__)
#define INTVIT_API __attribute__((visibility("default")))
#else
#define INTVIT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Largest image accepted anywhere (decoded or passed in), in pixels: 64 Mi. */
#define INTVIT_MAX_IMAGE_PIXELS 67108864

typedef enum intvit_status {
  INTVIT_OK = 0,
  INTVIT_ERROR_INVALID_ARGUMENT = 1, /* NULL pointer, bad size/stride/k/index/flag, image too large */
  INTVIT_ERROR_IO = 2,               /* file or folder missing or unreadable */
  INTVIT_ERROR_CORRUPT_MODEL = 3,    /* model file malformed, truncated or inconsistent */
  INTVIT_ERROR_UNSUPPORTED = 4,      /* valid but not supported here (format version, backend, FP32) */
  INTVIT_ERROR_OUT_OF_MEMORY = 5,    /* memory, or threads for a session's pool, exhausted */
  INTVIT_ERROR_BUFFER_TOO_SMALL = 6, /* a caller-provided output buffer is shorter than needed */
  INTVIT_ERROR_INTERNAL = 7,         /* a bug in intvit: please report the message */
  INTVIT_ERROR_CORRUPT_IMAGE = 8     /* encoded image malformed, truncated or of an unknown format */
} intvit_status;

typedef struct intvit_model intvit_model;     /* opaque; immutable, shareable between threads */
typedef struct intvit_session intvit_session; /* opaque; one thread at a time */
typedef struct intvit_image intvit_image;     /* opaque; a decoded 8-bit image */

/* One class of a top-k result. */
typedef struct intvit_prediction {
  int32_t class_index;
  double probability; /* softmax over all classes of the real-valued logits */
  const char* label;  /* owned by the model: valid while the model or any of its sessions lives */
} intvit_prediction;

/* ---- Library ---------------------------------------------------------------------------- */

/* The run-time library version, MAJOR * 10000 + MINOR * 100 + PATCH. */
INTVIT_API int intvit_version(void);
/* "MAJOR.MINOR.PATCH". Static storage: never free. */
INTVIT_API const char* intvit_version_string(void);
/* A short English name of a status ("invalid argument", ...). Static storage: never free. Never
 * NULL; unknown values give "unknown status". */
INTVIT_API const char* intvit_status_string(intvit_status status);
/* The message of the most recent failed intvit call on the calling thread ("" if none).
 * Owned by intvit (thread-local): valid until the calling thread's next failing intvit call. */
INTVIT_API const char* intvit_last_error(void);

/* ---- Models ----------------------------------------------------------------------------- */

/* Flags for intvit_model_load / intvit_model_load_buffer (bitwise OR; 0 = defaults). */
#define INTVIT_LOAD_PREFER_FP32 1u /* folder with both: load the FP32 model, not model.intvit */

/* Loads a model from a folder or a file: an integer model (model.intvit) if present, else an
 * FP32 model (config.json + model.safetensors). path: borrowed, UTF-8. *out: caller destroys.
 * INTVIT_ERROR_IO if the path does not exist or holds no model (a folder without model.intvit or
 * config.json; a file that is not an integer model and has no config.json beside it),
 * _CORRUPT_MODEL / _UNSUPPORTED for bad files (a bad config.json too), _INVALID_ARGUMENT for
 * unknown flags. An integer model's default backend (intvit_session_create with NULL) is chosen
 * when it loads (here and in intvit_model_load_buffer), from $INTVIT_ISA if set (an unknown name: _INVALID_ARGUMENT; one this CPU cannot run:
 * _UNSUPPORTED) else the best this CPU has; changing $INTVIT_ISA later does not change it. */
INTVIT_API intvit_status intvit_model_load(const char* path, uint32_t flags, intvit_model** out);
/* Loads an integer model from the bytes of a model.intvit file. data: borrowed (copied; may be
 * freed as soon as this returns). flags must be 0. *out: caller destroys. */
INTVIT_API intvit_status intvit_model_load_buffer(const void* data, size_t size, uint32_t flags,
                                                  intvit_model** out);
/* Releases the caller's reference. Sessions created from the model keep it alive until they are
 * destroyed too. NULL: no-op. */
INTVIT_API void intvit_model_destroy(intvit_model* model);

/* Side of the square model input in pixels (e.g. 224). */
INTVIT_API intvit_status intvit_model_input_size(const intvit_model* model, int32_t* out);
/* Bytes of one cropped input: input_size * input_size * 3. */
INTVIT_API intvit_status intvit_model_input_bytes(const intvit_model* model, size_t* out);
INTVIT_API intvit_status intvit_model_num_classes(const intvit_model* model, int32_t* out);
/* Class name of index in [0, num_classes). *out: owned by the model (valid while the model or
 * any of its sessions lives). */
INTVIT_API intvit_status intvit_model_label(const intvit_model* model, int32_t index, const char** out);
/* "fp32", "int8" or "int8 (4-bit attention)". *out: owned by the model. */
INTVIT_API intvit_status intvit_model_precision(const intvit_model* model, const char** out);
/* *out = 1 for an integer model (raw int32 logits available), 0 for an FP32 model. */
INTVIT_API intvit_status intvit_model_is_integer(const intvit_model* model, int* out);
/* The message of the most recent failed call that took this model, made by the calling thread
 * ("" if none; NULL model: intvit_last_error()). Owned by the model: valid until the calling
 * thread's next failing call on this model, or the model's destruction. */
INTVIT_API const char* intvit_model_last_error(const intvit_model* model);

/* ---- Sessions --------------------------------------------------------------------------- */

/* Creates a session (its run memory is allocated here; a bigger batch grows it once). model:
 * borrowed; the session keeps its own reference, so the model handle may be destroyed first.
 * threads: worker threads of this session, in [1, 256] (FP32 models: accepted, but they run on
 * the calling thread only, and their runs allocate). backend: borrowed; NULL or "" = the model's default (intvit_model_load),
 * else "ref" | "avx2" | "avxvnni" | "avx512vnni" | "onednn" | "amx" | "amx-emu" (integer models;
 * "amx-emu" emulates the AMX tiles in portable code: the amx bits on any CPU, slowly) or "fp32"
 * (FP32 models). Unknown name: _INVALID_ARGUMENT; known but not available here: _UNSUPPORTED.
 * *out: caller destroys. */
INTVIT_API intvit_status intvit_session_create(const intvit_model* model, int32_t threads, const char* backend,
                                               intvit_session** out);
/* NULL: no-op. Invalidates nothing the model owns (labels stay valid while the model lives). */
INTVIT_API void intvit_session_destroy(intvit_session* session);

/* The backend in use ("avx512vnni", ..., "fp32"). *out: owned by the session. */
INTVIT_API intvit_status intvit_session_backend(const intvit_session* session, const char** out);
INTVIT_API intvit_status intvit_session_threads(const intvit_session* session, int32_t* out);
/* Bytes of scratch memory this session holds and reuses for every run: planned at creation, grown
 * by the first batch bigger than any before (intvit_session_run_batch_into). */
INTVIT_API intvit_status intvit_session_workspace_bytes(const intvit_session* session, size_t* out);
/* real logit = scale * int32 logit (integer models; 1.0 for FP32 models). */
INTVIT_API intvit_status intvit_session_logit_scale(const intvit_session* session, double* out);
/* The message of the most recent failed call that took this session ("" if none; NULL session:
 * intvit_last_error()). Owned by the session: valid until its next failing call or destruction. */
INTVIT_API const char* intvit_session_last_error(const intvit_session* session);

/* Classifies an image of any size: resize + center crop as the model was trained (included),
 * then the top-k classes, highest first (ties: lower class index first).
 * pixels: borrowed, height rows of row_stride bytes (the last row needs only width * channels).
 * channels: 1 (gray), 3 (RGB) or 4 (RGBA; alpha ignored). row_stride >= width * channels.
 * top: borrowed, k entries written; 1 <= k <= num_classes. Allocates (the resized image). */
INTVIT_API intvit_status intvit_session_run_image(intvit_session* session, const uint8_t* pixels, int32_t width,
                                                  int32_t height, int32_t channels, size_t row_stride,
                                                  intvit_prediction* top, size_t k);
/* Classifies one cropped input (intvit_model_input_bytes() bytes, borrowed); top-k as above.
 * Allocates nothing for integer models. */
INTVIT_API intvit_status intvit_session_run_cropped(intvit_session* session, const uint8_t* pixels,
                                                    intvit_prediction* top, size_t k);
/* Raw int32 logits of one cropped input into caller memory (logits: borrowed, logits_len
 * entries, >= num_classes else _BUFFER_TOO_SMALL). Real logit = intvit_session_logit_scale() *
 * value. Integer models only (FP32: _UNSUPPORTED). Allocates nothing. */
INTVIT_API intvit_status intvit_session_run_cropped_into(intvit_session* session, const uint8_t* pixels,
                                                         int32_t* logits, size_t logits_len);
/* n >= 1 cropped inputs stored back to back (pixels: borrowed, n * input_bytes bytes) -> raw
 * int32 logits [n][num_classes] (logits: borrowed, logits_len >= n * num_classes). With several
 * threads each thread runs an equal share of the images on its own, and the rest (n mod threads)
 * runs on all of them. ViT/DeiT images run batched, in passes of up to 8 (each linear one GEMM
 * over all their tokens); Swin images one at a time. Each image gives the bits of
 * intvit_session_run_cropped_into. The first call with a bigger batch than before grows the
 * session's workspace (intvit_session_workspace_bytes); later calls allocate nothing.
 * Integer models only. */
INTVIT_API intvit_status intvit_session_run_batch_into(intvit_session* session, const uint8_t* pixels, size_t n,
                                                       int32_t* logits, size_t logits_len);
/* Top-k of raw int32 logits this session produced (logits: borrowed, logits_len == num_classes),
 * as intvit_session_run_cropped would report them. Allocates nothing. Integer models only (FP32:
 * _UNSUPPORTED). */
INTVIT_API intvit_status intvit_session_top_k(intvit_session* session, const int32_t* logits, size_t logits_len,
                                              intvit_prediction* top, size_t k);

/* ---- Images ----------------------------------------------------------------------------- */

/* Decodes a JPEG, PNG, BMP, GIF (first frame) or binary PGM/PPM file into 8-bit RGB.
 * path: borrowed, UTF-8. *out: caller destroys. _IO if unreadable, _CORRUPT_IMAGE if it is not a
 * decodable image, _INVALID_ARGUMENT if it declares more than INTVIT_MAX_IMAGE_PIXELS or the file
 * is larger than 1 GiB. */
INTVIT_API intvit_status intvit_image_decode_file(const char* path, intvit_image** out);
/* The same from encoded bytes in memory (data: borrowed). */
INTVIT_API intvit_status intvit_image_decode_memory(const void* data, size_t size, intvit_image** out);
/* NULL: no-op. */
INTVIT_API void intvit_image_destroy(intvit_image* image);
/* The decoded pixels, ready for intvit_session_run_image. Each out pointer may be NULL if not
 * wanted. *pixels: owned by the image. channels is always 3 (RGB). */
INTVIT_API intvit_status intvit_image_pixels(const intvit_image* image, const uint8_t** pixels, int32_t* width,
                                             int32_t* height, int32_t* channels, size_t* row_stride);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* INTVIT_INTVIT_H_ */
