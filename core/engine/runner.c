/* The runner: a row-streaming implementation of the reference on the SIMD
 * kernels of kernels.h.
 *
 * Each worker owns a stripe of output rows.  It walks down its rows keeping
 * small rings of rows per stage: 5 input rows (5x5 conv1), 3 conv1 rows and 3
 * conv2 rows (3x3 convs), each row NHWC (channels innermost, padded to the
 * kernels' channel stride) with zero columns for the padding, so the three
 * layers are fused and the intermediate rows stay in L2.  A stripe recomputes
 * the 2 + 1 + 1 = 4 halo rows above and below it, so stripes are independent
 * and the bytes do not depend on the number of threads.  Buffers belong to the
 * runner and only grow; the worker threads live as long as the runner.
 *
 * A luma model's input rows are the Y bytes as they are (1 byte per pixel,
 * with the few readable bytes past the padding its conv1 kernel may touch),
 * and its conv3 rows, s^2 channels in pixel-shuffle order, go straight into
 * the output Y plane (EspcnKernels.shuffle_y). */
#include "engine/engine.h"
#include "cpu/cpu.h"
#include "engine/kernels.h"
#include "engine/espcn-orc.h"
#include "engine/frame-pack.h"

#include <gio/gio.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 64
#define IN_RING 5
#define HID_RING 3
#define IN_CS_RGB 4  /* conv1 input of an RGB model: R, G, B, 0 per pixel; of a luma model: Y, 1 byte */

typedef struct {
  EspcnRunner *r;
  int y0, y1;          /* output rows of the LR frame this stripe produces */
  guint8 *block;       /* all the buffers below */
  guint8 *in_ring[IN_RING];
  guint8 *c1_ring[HID_RING];
  guint8 *c2_ring[HID_RING];
  guint8 *zero;        /* a zero row as wide as the widest padded row */
  guint8 *c3_row;      /* one conv3 row, [x][out_cs], channels in (i, j, colour) order */
  int in_tag[IN_RING], c1_tag[HID_RING], c2_tag[HID_RING];
  gint64 stage_ns[ESPCN_RUNNER_N_STAGES];  /* time per stage, when the runner's timing is on */
} Stripe;

struct _EspcnRunner {
  EspcnInt8Model *m;
  int s;
  int channels;        /* 3 (RGB) or 1 (luma) */
  int in_cs;           /* bytes per pixel of the conv1 input rows: IN_CS_RGB or 1 */
  int in_overread;     /* bytes conv1 may read past an input row's right padding (kernels.h) */
  int n_threads;
  EspcnKernels kern;
  EspcnConvPacked pk[3];
  Stripe *stripes;
  gsize cap_width;     /* widest frame the stripe buffers hold */
  GThreadPool *pool;   /* n_threads - 1 workers; the caller runs stripe 0 */
  GMutex lock;
  GCond done;
  int pending;

  /* The frame being processed. */
  const guint8 *in;
  gsize in_stride;
  EspcnPixelLayout in_layout;
  int width, height;
  guint8 *out;
  gsize out_stride;
  EspcnPixelLayout out_layout;
  gboolean orc_output;      /* output stage may use ORC (not when the reference is forced) */
  gboolean out_orc;         /* ... and does for this frame */
  EspcnConvPacked pk3_orc;  /* conv3 in the ORC output stage's channel order */
  gboolean timing;          /* espcn_runner_set_timing(): stripes add up their stage times */
};

/* Stage timing: one test of a flag per row and stage when off. */
static inline gint64
stage_clock (const EspcnRunner *r)
{
  if (G_LIKELY (!r->timing))
    return 0;
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return (gint64) t.tv_sec * G_GINT64_CONSTANT (1000000000) + t.tv_nsec;
}

static inline void
stage_add (Stripe *st, EspcnRunnerStage stage, gint64 t0)
{
  if (G_UNLIKELY (st->r->timing))
    st->stage_ns[stage] += stage_clock (st->r) - t0;
}

static inline int
ring_slot (int row, int n)
{
  int q = row % n;
  return q < 0 ? q + n : q;
}

/* Copies one frame row into [x][R, G, B, 0] (IN_CS_RGB bytes per pixel), or a
 * Y row as it is. */
static void
unpack_row (const guint8 *src, const EspcnPixelLayout *lay, int width, guint8 *d)
{
  if (lay->bpp == 1) {
    memcpy (d, src, width);
    return;
  }
  /* ORC reads 32-bit words: only rows on a 4-byte boundary (its C fallback
   * would be an unaligned access, undefined behaviour). */
  if (lay->bpp == 4 && G_BYTE_ORDER == G_LITTLE_ENDIAN && ((guintptr) src & 3) == 0) {
    /* The four common 4-byte layouts are a byte permutation plus a mask: ORC. */
    guint32 *d32 = (guint32 *) d;
    if (lay->r == 0 && lay->g == 1 && lay->b == 2) {
      espcn_orc_unpack_rgbx (d32, src, width);
      return;
    }
    if (lay->r == 2 && lay->g == 1 && lay->b == 0) {
      espcn_orc_unpack_bgrx (d32, src, width);
      return;
    }
    if (lay->r == 1 && lay->g == 2 && lay->b == 3) {
      espcn_orc_unpack_xrgb (d32, src, width);
      return;
    }
    if (lay->r == 3 && lay->g == 2 && lay->b == 1) {
      espcn_orc_unpack_xbgr (d32, src, width);
      return;
    }
  }
  for (int x = 0; x < width; x++) {
    const guint8 *px = src + (gsize) x * lay->bpp;
    d[4 * x] = px[lay->r];
    d[4 * x + 1] = px[lay->g];
    d[4 * x + 2] = px[lay->b];
    d[4 * x + 3] = 0;
  }
}

/* Input row y as [width + 4][in_cs] (and in_overread bytes more), or the zero
 * row outside the frame.  The left padding was zeroed at allocation and is
 * never written; the right one is cleared on each fill, since a wider frame may
 * have left data there. */
static const guint8 *
get_in (Stripe *st, int y)
{
  EspcnRunner *r = st->r;
  if (y < 0 || y >= r->height)
    return st->zero;
  int slot = ring_slot (y, IN_RING);
  guint8 *row = st->in_ring[slot];
  if (st->in_tag[slot] != y) {
    gint64 t0 = stage_clock (r);
    unpack_row (r->in + (gsize) y * r->in_stride, &r->in_layout, r->width, row + 2 * r->in_cs);
    memset (row + (gsize) (r->width + 2) * r->in_cs, 0, 2 * r->in_cs + r->in_overread);
    stage_add (st, ESPCN_RUNNER_STAGE_PACK, t0);
    st->in_tag[slot] = y;
  }
  return row;
}

static const guint8 *
get_c1 (Stripe *st, int y)
{
  EspcnRunner *r = st->r;
  if (y < 0 || y >= r->height)
    return st->zero;
  int slot = ring_slot (y, HID_RING);
  guint8 *row = st->c1_ring[slot];
  if (st->c1_tag[slot] != y) {
    /* Fetch in increasing order: each fetch only evicts rows older than y - 2. */
    const guint8 *rows[5];
    for (int i = 0; i < 5; i++)
      rows[i] = get_in (st, y - 2 + i);
    const EspcnConvPacked *p = &r->pk[0];
    gint64 t0 = stage_clock (r);
    r->kern.conv_row[p->kind](p, rows, r->width, row + p->out_cs);
    memset (row + (gsize) (r->width + 1) * p->out_cs, 0, p->out_cs);
    stage_add (st, ESPCN_RUNNER_STAGE_CONV1, t0);
    st->c1_tag[slot] = y;
  }
  return row;
}

static const guint8 *
get_c2 (Stripe *st, int y)
{
  EspcnRunner *r = st->r;
  if (y < 0 || y >= r->height)
    return st->zero;
  int slot = ring_slot (y, HID_RING);
  guint8 *row = st->c2_ring[slot];
  if (st->c2_tag[slot] != y) {
    const guint8 *rows[3];
    for (int i = 0; i < 3; i++)
      rows[i] = get_c1 (st, y - 1 + i);
    const EspcnConvPacked *p = &r->pk[1];
    gint64 t0 = stage_clock (r);
    r->kern.conv_row[p->kind](p, rows, r->width, row + p->out_cs);
    memset (row + (gsize) (r->width + 1) * p->out_cs, 0, p->out_cs);
    stage_add (st, ESPCN_RUNNER_STAGE_CONV2, t0);
    st->c2_tag[slot] = y;
  }
  return row;
}

/* Pixel shuffle of one conv3 row into output rows y*s .. y*s + s - 1: the ORC
 * kernels for the 4-byte layouts they cover, plain C otherwise and whenever
 * the reference is forced. */
static void
shuffle_row (EspcnRunner *r, const guint8 *c3, int y)
{
  guint8 *dst = r->out + (gsize) y * r->s * r->out_stride;
  if (r->channels == 1)
    r->kern.shuffle_y (c3, r->pk[2].out_cs, r->width, r->s, dst, r->out_stride);
  else if (r->out_orc)
    espcn_shuffle_row_orc (c3, r->pk[2].out_cs, r->width, r->s, dst, r->out_stride, &r->out_layout);
  else
    espcn_shuffle_row_c (c3, r->pk[2].out_cs, r->width, r->s, dst, r->out_stride, &r->out_layout);
}

static void
process_stripe (Stripe *st)
{
  EspcnRunner *r = st->r;
  for (int i = 0; i < IN_RING; i++)
    st->in_tag[i] = G_MININT;
  for (int i = 0; i < HID_RING; i++)
    st->c1_tag[i] = st->c2_tag[i] = G_MININT;

  /* conv3 packed for the output stage in use (frame-pack.h). */
  const EspcnConvPacked *p = r->out_orc ? &r->pk3_orc : &r->pk[2];
  for (int y = st->y0; y < st->y1; y++) {
    const guint8 *rows[3];
    for (int i = 0; i < 3; i++)
      rows[i] = get_c2 (st, y - 1 + i);
    gint64 t0 = stage_clock (r);
    r->kern.conv_row[p->kind](p, rows, r->width, st->c3_row);
    stage_add (st, ESPCN_RUNNER_STAGE_CONV3, t0);
    t0 = stage_clock (r);
    shuffle_row (r, st->c3_row, y);
    stage_add (st, ESPCN_RUNNER_STAGE_SHUFFLE, t0);
  }
}

static void
worker (gpointer data, gpointer user_data)
{
  Stripe *st = data;
  EspcnRunner *r = user_data;
  process_stripe (st);
  g_mutex_lock (&r->lock);
  if (--r->pending == 0)
    g_cond_signal (&r->done);
  g_mutex_unlock (&r->lock);
}

/* Make every stripe's buffers hold rows of `width` pixels. */
static gboolean
ensure_capacity (EspcnRunner *r, int width, GError **error)
{
  if ((gsize) width <= r->cap_width)
    return TRUE;
  gsize cs1 = r->pk[0].out_cs, cs2 = r->pk[1].out_cs, cs3 = r->pk[2].out_cs, w = width;
  /* Every row rounded up to 64 bytes so each starts on a cache line. */
  gsize in_row = ((w + 4) * r->in_cs + r->in_overread + 63) / 64 * 64, c1_row = ((w + 2) * cs1 + 63) / 64 * 64;
  gsize c2_row = ((w + 2) * cs2 + 63) / 64 * 64, c3_row = (w * cs3 + 63) / 64 * 64;
  gsize zero_row = MAX (in_row, MAX (c1_row, c2_row));
  gsize total = IN_RING * in_row + HID_RING * (c1_row + c2_row) + zero_row + c3_row;
  for (int t = 0; t < r->n_threads; t++) {
    Stripe *st = &r->stripes[t];
    guint8 *block = g_try_malloc0 (total + 64);
    if (block == NULL) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
          "out of memory for the runner's row buffers (%" G_GSIZE_FORMAT " bytes)", total);
      return FALSE;
    }
    g_free (st->block);
    st->block = block;
    guint8 *p = (guint8 *) (((guintptr) block + 63) & ~(guintptr) 63);
    for (int i = 0; i < IN_RING; i++, p += in_row)
      st->in_ring[i] = p;
    for (int i = 0; i < HID_RING; i++, p += c1_row)
      st->c1_ring[i] = p;
    for (int i = 0; i < HID_RING; i++, p += c2_row)
      st->c2_ring[i] = p;
    st->zero = p;
    p += zero_row;
    st->c3_row = p;
  }
  r->cap_width = w;
  return TRUE;
}

EspcnRunner *
espcn_runner_new (EspcnInt8Model *m, int n_threads, GError **error)
{
  return espcn_runner_new_full (m, n_threads, ESPCN_ISA_AUTO, error);
}

EspcnRunner *
espcn_runner_new_full (EspcnInt8Model *m, int n_threads, EspcnIsa isa, GError **error)
{
  g_return_val_if_fail (m != NULL, NULL);
  if (n_threads < 1 || n_threads > MAX_THREADS) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "n_threads %d is outside [1, %d]", n_threads, MAX_THREADS);
    return NULL;
  }
  /* A malformed ESPCN_CPU masks every feature; say so rather than run slowly. */
  if (!espcn_cpu_check_env (error))
    return NULL;
  EspcnKernelIsa kisa;
  switch (isa) {
    case ESPCN_ISA_AUTO:
      kisa = espcn_kernels_isa_best ();
      break;
    case ESPCN_ISA_C:
      kisa = ESPCN_KERNELS_C;
      break;
    case ESPCN_ISA_SSE41:
      kisa = ESPCN_KERNELS_SSE41;
      break;
    case ESPCN_ISA_AVX2:
      kisa = ESPCN_KERNELS_AVX2;
      break;
    case ESPCN_ISA_NEON:
      kisa = ESPCN_KERNELS_NEON;
      break;
    default:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "unknown instruction set %d", (int) isa);
      return NULL;
  }
  if (!espcn_kernels_isa_supported (kisa)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
        "this build or CPU does not support the requested instruction set (%s)",
        kisa == ESPCN_KERNELS_SSE41 ? "sse41" : kisa == ESPCN_KERNELS_AVX2 ? "avx2"
        : kisa == ESPCN_KERNELS_NEON ? "neon" : "?");
    return NULL;
  }

  EspcnRunner *r = g_new0 (EspcnRunner, 1);
  r->m = espcn_int8_model_ref (m);
  r->s = espcn_int8_model_get_scale (m);
  r->channels = espcn_int8_model_get_channels (m);
  r->in_cs = r->channels == 1 ? 1 : IN_CS_RGB;
  r->in_overread = espcn_conv_row_overread (espcn_int8_model_get_layer (m, 0)->k, r->in_cs);
  r->n_threads = n_threads;
  g_mutex_init (&r->lock);
  g_cond_init (&r->done);
  espcn_kernels_init (&r->kern, kisa);

  /* conv3's channels reordered for the output stage (frame-pack.h): for the
   * C one always, for the ORC one too unless the CPU policy (cpu/cpu.h) masks
   * ORC.  The plain C kernels are the reference, so with them (ESPCN_ISA_C, or
   * ESPCN_CPU masking every kernel ISA) no ORC code runs on the output side
   * either. */
  int s = r->s;
  g_autofree int *perm = g_new (int, 3 * s * s);
  g_autofree int *perm_orc = g_new (int, 3 * s * s);
  espcn_shuffle_order_c (s, perm);
  espcn_shuffle_order_orc (s, perm_orc);
  /* ORC only at x4: its output stage measured faster than C there and slower at
   * x2 and x3 (0.83 -> 0.62 ms, 0.50 -> 0.57 ms and 0.23 -> 0.33 ms per 320x180
   * frame, one thread), where the C path's rows are short memcpy-like loops. */
  r->orc_output = kisa != ESPCN_KERNELS_C && s == 4 && r->channels == 3
      && (espcn_cpu_flags () & ESPCN_CPU_ORC) != 0;
  espcn_conv_pack (&r->pk[0], espcn_int8_model_get_layer (m, 0), r->in_cs, NULL, FALSE);
  espcn_conv_pack (&r->pk[1], espcn_int8_model_get_layer (m, 1), r->pk[0].out_cs, NULL, FALSE);
  /* A luma model's conv3 channels i * s + j are already in output order. */
  espcn_conv_pack (&r->pk[2], espcn_int8_model_get_layer (m, 2), r->pk[1].out_cs,
      r->channels == 1 ? NULL : perm, FALSE);
  if (r->orc_output)
    espcn_conv_pack (&r->pk3_orc, espcn_int8_model_get_layer (m, 2), r->pk[1].out_cs, perm_orc, FALSE);

  r->stripes = g_new0 (Stripe, n_threads);
  for (int t = 0; t < n_threads; t++)
    r->stripes[t].r = r;
  if (n_threads > 1) {
    r->pool = g_thread_pool_new (worker, r, n_threads - 1, TRUE, error);
    if (r->pool == NULL) {
      espcn_runner_free (r);
      return NULL;
    }
  }
  return r;
}

const char *
espcn_runner_get_isa_name (const EspcnRunner *r)
{
  g_return_val_if_fail (r != NULL, NULL);
  return r->kern.name;
}

gboolean
espcn_runner_process (EspcnRunner *r, const guint8 *in, gsize in_stride, const EspcnPixelLayout *in_layout,
                      int width, int height, guint8 *out, gsize out_stride,
                      const EspcnPixelLayout *out_layout, GError **error)
{
  g_return_val_if_fail (r != NULL, FALSE);
  if (!espcn_engine_check_frames (r->m, in, in_stride, in_layout, width, height, out, out_stride, out_layout,
          error))
    return FALSE;
  if (!ensure_capacity (r, width, error))
    return FALSE;

  r->in = in;
  r->in_stride = in_stride;
  r->in_layout = *in_layout;
  r->width = width;
  r->height = height;
  r->out = out;
  r->out_stride = out_stride;
  r->out_layout = *out_layout;
  r->out_orc = r->orc_output && espcn_shuffle_orc_supports (out_layout, out, out_stride);

  int n = MIN (r->n_threads, height);
  for (int t = 0; t < n; t++) {
    r->stripes[t].y0 = (int) ((gint64) height * t / n);
    r->stripes[t].y1 = (int) ((gint64) height * (t + 1) / n);
  }
  r->pending = n - 1;
  for (int t = 1; t < n; t++) {
    g_autoptr (GError) push_error = NULL;
    if (!g_thread_pool_push (r->pool, &r->stripes[t], &push_error)) {
      /* Run it here instead; the bytes do not depend on who computes them. */
      process_stripe (&r->stripes[t]);
      g_mutex_lock (&r->lock);
      r->pending--;
      g_mutex_unlock (&r->lock);
    }
  }
  process_stripe (&r->stripes[0]);
  g_mutex_lock (&r->lock);
  while (r->pending > 0)
    g_cond_wait (&r->done, &r->lock);
  g_mutex_unlock (&r->lock);
  return TRUE;
}

void
espcn_runner_set_timing (EspcnRunner *r, gboolean on)
{
  g_return_if_fail (r != NULL);
  r->timing = on;
  for (int t = 0; t < r->n_threads; t++)
    memset (r->stripes[t].stage_ns, 0, sizeof r->stripes[t].stage_ns);
}

void
espcn_runner_get_timing (const EspcnRunner *r, gint64 ns[ESPCN_RUNNER_N_STAGES])
{
  g_return_if_fail (r != NULL);
  for (int k = 0; k < ESPCN_RUNNER_N_STAGES; k++) {
    ns[k] = 0;
    for (int t = 0; t < r->n_threads; t++)
      ns[k] += r->stripes[t].stage_ns[k];
  }
}

const char *
espcn_runner_stage_name (EspcnRunnerStage stage)
{
  static const char *const names[ESPCN_RUNNER_N_STAGES] = { "pack", "conv1", "conv2", "conv3", "shuffle" };
  g_return_val_if_fail (stage >= 0 && stage < ESPCN_RUNNER_N_STAGES, NULL);
  return names[stage];
}

int
espcn_runner_get_n_threads (const EspcnRunner *r)
{
  g_return_val_if_fail (r != NULL, 0);
  return r->n_threads;
}

void
espcn_runner_free (EspcnRunner *r)
{
  if (r == NULL)
    return;
  if (r->pool != NULL)
    g_thread_pool_free (r->pool, FALSE, TRUE);
  if (r->stripes != NULL)
    for (int t = 0; t < r->n_threads; t++)
      g_free (r->stripes[t].block);
  g_free (r->stripes);
  for (int i = 0; i < 3; i++)
    espcn_conv_packed_clear (&r->pk[i]);
  espcn_conv_packed_clear (&r->pk3_orc);
  g_mutex_clear (&r->lock);
  g_cond_clear (&r->done);
  espcn_int8_model_unref (r->m);
  g_free (r);
}
