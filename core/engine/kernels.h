/* espcn-gst: the convolution row kernels behind the runner, in the style of a
 * DSP context: one function-pointer type per operation, a table filled with
 * the plain C (`_c`) reference kernels and then overwritten, ISA by ISA, with
 * the SIMD versions the CPU supports.  Every variant takes the same packed
 * weights and must produce the same bytes as the `_c` one
 * (tests/engine/test-checkasm.c).
 *
 * Activation rows are NHWC: `cs` bytes per pixel (the channels, zero-padded to
 * a multiple of 4, or exactly 1 for a one-channel image), the k/2 padding
 * columns on each side stored as zero pixels.  A kernel reads, per kernel row,
 * `row_steps` groups of 4 consecutive bytes from the window's first pixel:
 * k * cs bytes when cs is a multiple of 4; with cs = 1 the k taps rounded up
 * to a multiple of 4 (5 -> 8), the taps past k having zero weights, so a row
 * needs that many readable bytes (any values) past its right padding.
 * Output channels are computed in blocks of ESPCN_OC_BLOCK (= one ymm of s32
 * accumulators); padded output channels have zero weights and bias, so they
 * requantize to 0 and feed the next layer's zero weights. */
#pragma once

#include <glib.h>

#include "engine/kernels-config.h"  /* ESPCN_HAVE_SSE41, ESPCN_HAVE_AVX2, ESPCN_HAVE_NEON */
#include "engine/model.h"

G_BEGIN_DECLS

#define ESPCN_OC_BLOCK 8

typedef enum {
  /* u8 activations <= 127 times s8 weights: vpmaddubsw pairs cannot saturate
   * (2 * 127 * 127 = 32258 <= 32767).  Weights per (ob, ky) as groups of 4
   * input taps: [k * cs / 4][8 oc][4 taps] s8. */
  ESPCN_CONV_U7S8 = 0,
  /* u8 activations <= 255 times s16 weights, widened: exact for any grid.
   * Weights per (ob, ky) as pairs of taps: [k * cs / 2][8 oc][2 taps] s16. */
  ESPCN_CONV_WIDE = 1,
  ESPCN_CONV_N_KINDS
} EspcnConvKind;

/* A layer packed for the kernels; built by espcn_conv_pack(), read-only after. */
typedef struct {
  EspcnConvKind kind;
  int k, in_cs, out_c, out_cs, n_ob;
  int row_steps;      /* 4-byte groups of taps read per kernel row: ceil(k * in_cs / 4) */
  gsize ob_bytes;     /* packed weight bytes per output-channel block */
  guint8 *w;          /* n_ob * ob_bytes */
  gint32 *bias;       /* out_cs */
  gint32 *mult;       /* out_cs, multiplier (padded channels: 2^30) */
  gint32 *shift;      /* out_cs (padded channels: 1) */
  /* Per block, for SIMD requantization of even and odd lanes:
   * rq[ob][0..3] rounding of lanes 0,2,4,6; [4..7] of lanes 1,3,5,7;
   * [8..11] shifts of even lanes; [12..15] of odd lanes. */
  gint64 *rq;
  gint32 qmax;
} EspcnConvPacked;

/* One output row: dst[x * out_cs + oc] for x < width, every oc < out_cs.
 * rows[ky] (ky < k) points at padded input row y + ky - k/2; the input pixel
 * x + kx - k/2 of that row is at rows[ky] + (x + kx) * in_cs, and the window of
 * output pixel x is the 4 * row_steps bytes from rows[ky] + x * in_cs. */
typedef void (*EspcnConvRowFn) (const EspcnConvPacked *p, const guint8 *const *rows, int width, guint8 *dst);

/* The output stage of a luma model: one conv3 row, c3[x * cs + i * s + j] for
 * x < width (s*s channels, in pixel-shuffle order), into Y rows out + i *
 * out_stride (i < s): out[i * out_stride + x * s + j] = c3[x * cs + i * s + j].
 * s in 2..4, cs >= s*s. */
typedef void (*EspcnShuffleYFn) (const guint8 *c3, int cs, int width, int s, guint8 *out, gsize out_stride);

typedef struct {
  const char *name;                          /* "c", "sse41", "avx2", "neon" */
  EspcnConvRowFn conv_row[ESPCN_CONV_N_KINDS];
  EspcnShuffleYFn shuffle_y;
} EspcnKernels;

typedef enum {
  ESPCN_KERNELS_C = 0,
  ESPCN_KERNELS_SSE41,  /* x86 without AVX2 */
  ESPCN_KERNELS_AVX2,
  ESPCN_KERNELS_NEON,   /* AArch64 (NEON is part of the base architecture) */
  ESPCN_KERNELS_N
} EspcnKernelIsa;

/* Bytes a kernel may read past the last padding pixel of an input row of a
 * layer packed with this k and in_cs (3 for k = 5 and in_cs = 1, else 0). */
int espcn_conv_row_overread (int k, int in_cs);

/* Packs layer `l` reading input rows of `in_cs` bytes per pixel (>= in_c, a
 * multiple of 4; or 1 for a one-channel layer).  oc_perm (out_c entries or NULL): packed channel j computes
 * the model's channel oc_perm[j].  The kind is U7S8 when every weight is in
 * [-127, 127] and the input never exceeds 127, WIDE otherwise (or always WIDE
 * when force_wide). */
void espcn_conv_pack (EspcnConvPacked *p, const EspcnInt8Layer *l, int in_cs, const int *oc_perm,
                      gboolean force_wide);
void espcn_conv_packed_clear (EspcnConvPacked *p);

/* TRUE if this build and this CPU can run the ISA (whatever ESPCN_CPU says). */
gboolean espcn_kernels_isa_supported (EspcnKernelIsa isa);
/* The fastest ISA this build and CPU run that the CPU policy allows
 * (cpu/cpu.h: ESPCN_CPU). */
EspcnKernelIsa espcn_kernels_isa_best (void);
/* The same for a given set of allowed EspcnCpuFlags. */
EspcnKernelIsa espcn_kernels_isa_best_for (guint allowed);
/* Fills k with the reference kernels, then with those of `isa` (which must be
 * supported). */
void espcn_kernels_init (EspcnKernels *k, EspcnKernelIsa isa);

/* The reference kernels. */
void espcn_conv_row_u7s8_c (const EspcnConvPacked *p, const guint8 *const *rows, int width, guint8 *dst);
void espcn_conv_row_wide_c (const EspcnConvPacked *p, const guint8 *const *rows, int width, guint8 *dst);
void espcn_shuffle_y_c (const guint8 *c3, int cs, int width, int s, guint8 *out, gsize out_stride);

#ifdef ESPCN_HAVE_SSE41
void espcn_kernels_init_sse41 (EspcnKernels *k);
#endif
#ifdef ESPCN_HAVE_AVX2
void espcn_kernels_init_avx2 (EspcnKernels *k);
#endif
#ifdef ESPCN_HAVE_NEON
void espcn_kernels_init_neon (EspcnKernels *k);
#endif

G_END_DECLS
