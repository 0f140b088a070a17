/* espcn-gst: the integer inference engine.
 *
 * Frames are packed 8-bit pixels: each pixel is `bpp` bytes of which three are
 * R, G and B at the byte offsets of an EspcnPixelLayout, so RGB, BGR, RGBx,
 * BGRx, xRGB, xBGR, RGBA, ... are all read and written in place, without a
 * conversion pass.  Bytes of an output pixel that the layout does not name (the
 * x or alpha) are left untouched.  Rows are `stride` bytes apart.
 *
 * A luma model (espcn_int8_model_get_channels() == 1) runs on one 8-bit plane,
 * ESPCN_PIXEL_LAYOUT_Y8, for input and output: the Y plane of a YUV frame in,
 * the upscaled Y plane out.  An RGB model takes the three-channel layouts.
 *
 * The output of a width x height input is (width*s) x (height*s).  Every way of
 * running a model here computes the same bytes: the reference and the runner,
 * for any number of threads. */
#pragma once

#include <glib.h>

#include "engine/model.h"

G_BEGIN_DECLS

typedef struct {
  int bpp;      /* bytes per pixel: 3..16, or 1 for a one-channel (Y) plane */
  int r, g, b;  /* byte offsets of the channels within a pixel, distinct, < bpp; all 0 when bpp is 1 */
} EspcnPixelLayout;

#define ESPCN_PIXEL_LAYOUT_RGB ((EspcnPixelLayout) { 3, 0, 1, 2 })
#define ESPCN_PIXEL_LAYOUT_BGR ((EspcnPixelLayout) { 3, 2, 1, 0 })
#define ESPCN_PIXEL_LAYOUT_RGBX ((EspcnPixelLayout) { 4, 0, 1, 2 })  /* also RGBA */
#define ESPCN_PIXEL_LAYOUT_BGRX ((EspcnPixelLayout) { 4, 2, 1, 0 })  /* also BGRA */
#define ESPCN_PIXEL_LAYOUT_XRGB ((EspcnPixelLayout) { 4, 1, 2, 3 })  /* also ARGB */
#define ESPCN_PIXEL_LAYOUT_XBGR ((EspcnPixelLayout) { 4, 3, 2, 1 })  /* also ABGR */
/* One byte per pixel: a luma (Y) plane, for luma models. */
#define ESPCN_PIXEL_LAYOUT_Y8 ((EspcnPixelLayout) { 1, 0, 0, 0 })

/* TRUE if the layout is usable: bpp in 3..16 with distinct offsets inside the
 * pixel, or bpp 1 with r = g = b = 0 (ESPCN_PIXEL_LAYOUT_Y8). */
gboolean espcn_pixel_layout_validate (const EspcnPixelLayout *layout, GError **error);

/* Image channels of a valid layout: 1 for ESPCN_PIXEL_LAYOUT_Y8, else 3. */
int espcn_pixel_layout_get_channels (const EspcnPixelLayout *layout);

/* Checks a frame pair: non-NULL buffers, valid layouts whose channels are the
 * model's (espcn_int8_model_get_channels()), width and height >= 1, the
 * output size (width*s) x (height*s) and both buffers' extents computable without
 * overflow, and strides that hold a row.  Both process functions call it. */
gboolean espcn_engine_check_frames (const EspcnInt8Model *m, const guint8 *in, gsize in_stride,
                                    const EspcnPixelLayout *in_layout, int width, int height,
                                    const guint8 *out, gsize out_stride,
                                    const EspcnPixelLayout *out_layout, GError **error);

/* The plain C reference: obviously correct, allocates, not fast.  `in` is
 * width x height, `out` is (width*s) x (height*s).  Returns FALSE with `error`
 * set (and `out` untouched) when the frame arguments are invalid. */
gboolean espcn_engine_process_reference (const EspcnInt8Model *m, const guint8 *in, gsize in_stride,
                                         const EspcnPixelLayout *in_layout, int width, int height,
                                         guint8 *out, gsize out_stride,
                                         const EspcnPixelLayout *out_layout, GError **error);

/* A runner: the fast path.  Holds a reference on the model, its worker threads
 * and its scratch buffers (grown only when a frame is larger than any before), so
 * processing a frame allocates nothing in the steady state.  One runner serves
 * one thread at a time; run several runners on one model for concurrent frames.
 * The output is byte-identical to espcn_engine_process_reference() for any
 * n_threads. */
typedef struct _EspcnRunner EspcnRunner;

/* n_threads >= 1 worker threads over row stripes (1: everything on the caller's
 * thread); at most 64. */
EspcnRunner *espcn_runner_new (EspcnInt8Model *m, int n_threads, GError **error);
gboolean espcn_runner_process (EspcnRunner *r, const guint8 *in, gsize in_stride,
                               const EspcnPixelLayout *in_layout, int width, int height,
                               guint8 *out, gsize out_stride,
                               const EspcnPixelLayout *out_layout, GError **error);
int espcn_runner_get_n_threads (const EspcnRunner *r);

/* Kernel selection.  ESPCN_ISA_AUTO takes the best instruction set the CPU
 * policy allows (cpu/cpu.h: what the CPU has, masked by the environment
 * variable ESPCN_CPU): x86-64: AVX2, else SSE4.1, else plain C; AArch64: NEON.
 * The output stage uses ORC at x4 with SIMD kernels unless ESPCN_CPU masks
 * "orc".  ESPCN_CPU=none runs the plain C reference throughout; a malformed
 * ESPCN_CPU makes runner creation fail.  Every choice computes the same bytes;
 * only the speed differs. */
typedef enum {
  ESPCN_ISA_AUTO = 0,
  ESPCN_ISA_C = 1,
  ESPCN_ISA_AVX2 = 2,
  ESPCN_ISA_SSE41 = 3,
  ESPCN_ISA_NEON = 4,   /* AArch64 only */
} EspcnIsa;

/* espcn_runner_new() with an explicit instruction set (ESPCN_ISA_AUTO follows
 * the CPU policy as above; an explicit one ignores ESPCN_CPU's mask, for
 * checkers); fails if the build or CPU cannot run it. */
EspcnRunner *espcn_runner_new_full (EspcnInt8Model *m, int n_threads, EspcnIsa isa, GError **error);
/* Per-stage timing for benchmarks (espcn-bench): with it on, every stripe adds
 * up the wall time of each stage of each row it computes; off (the default) it
 * costs one test of a flag per row and stage.  Stages in row order: pack
 * (input pixels to the conv1 layout), conv1, conv2, conv3, shuffle (pixel
 * shuffle and the output pixels). */
typedef enum {
  ESPCN_RUNNER_STAGE_PACK,
  ESPCN_RUNNER_STAGE_CONV1,
  ESPCN_RUNNER_STAGE_CONV2,
  ESPCN_RUNNER_STAGE_CONV3,
  ESPCN_RUNNER_STAGE_SHUFFLE,
  ESPCN_RUNNER_N_STAGES
} EspcnRunnerStage;

/* Turns timing on or off and clears the sums (not while a frame is processed). */
void espcn_runner_set_timing (EspcnRunner *r, gboolean on);
/* Nanoseconds per stage since the last espcn_runner_set_timing(), summed over
 * the threads. */
void espcn_runner_get_timing (const EspcnRunner *r, gint64 ns[ESPCN_RUNNER_N_STAGES]);
/* "pack", "conv1", "conv2", "conv3", "shuffle". */
const char *espcn_runner_stage_name (EspcnRunnerStage stage);

/* The kernels in use: "c", "sse41", "avx2" or "neon". */
const char *espcn_runner_get_isa_name (const EspcnRunner *r);
void espcn_runner_free (EspcnRunner *r);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnRunner, espcn_runner_free)

G_END_DECLS
