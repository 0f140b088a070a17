/* The runner: a row-streaming implementation of the reference.
 *
 * Each worker owns a stripe of output rows.  It walks down its rows keeping
 * small rings of rows per stage: 5 input rows (5x5 conv1), 3 conv1 rows and 3
 * conv2 rows (3x3 convs), each row channel-interleaved with zero columns for
 * the padding.  A stripe recomputes the 2 + 1 + 1 = 4 halo rows above and
 * below it, so stripes are independent and the bytes do not depend on the
 * number of threads.  Buffers belong to the runner and only grow. */
#include "engine/engine.h"
#include "engine/requant.h"

#include <gio/gio.h>
#include <string.h>

#define MAX_THREADS 64
#define IN_RING 5
#define HID_RING 3

typedef struct {
  EspcnRunner *r;
  int y0, y1;          /* output rows of the LR frame this stripe produces */
  guint8 *block;       /* all the buffers below */
  guint8 *in_ring[IN_RING];
  guint8 *c1_ring[HID_RING];
  guint8 *c2_ring[HID_RING];
  guint8 *zero;        /* a zero row as wide as the widest padded row */
  guint8 *c3_row;      /* one conv3 row, [x][3*s*s] */
  int in_tag[IN_RING], c1_tag[HID_RING], c2_tag[HID_RING];
} Stripe;

struct _EspcnRunner {
  EspcnInt8Model *m;
  const EspcnInt8Layer *l[3];
  int s;
  int n_threads;
  gint16 *w[3];        /* weights repacked as [out][ky][kx][in] */
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
};

static inline int
ring_slot (int row, int n)
{
  int q = row % n;
  return q < 0 ? q + n : q;
}

/* One output row of a conv: rows[ky] are the k input rows, each [width + 2p][in_c]
 * with p zero columns each side; dst is [width][out_c]. */
static void
conv_row (const EspcnInt8Layer *l, const gint16 *w, const guint8 *const *rows, int width, guint8 *dst)
{
  int k = l->k, cin = l->in_c, cout = l->out_c;
  int span = k * cin;  /* one kernel row's taps are contiguous in both weights and input */
  for (int x = 0; x < width; x++) {
    for (int oc = 0; oc < cout; oc++) {
      const gint16 *wo = w + (gsize) oc * k * span;
      gint32 acc = l->bias[oc];
      for (int ky = 0; ky < k; ky++) {
        const guint8 *src = rows[ky] + (gsize) x * cin;
        const gint16 *wk = wo + ky * span;
        gint32 sum = 0;
        for (int t = 0; t < span; t++)
          sum += wk[t] * (gint32) src[t];
        acc += sum;
      }
      dst[(gsize) x * cout + oc] = (guint8) espcn_requantize (acc, l->multiplier[oc], l->shift[oc], l->out_max);
    }
  }
}

/* Input row y as [width + 4][3] (R, G, B), or the zero row outside the frame. */
static const guint8 *
get_in (Stripe *st, int y)
{
  EspcnRunner *r = st->r;
  if (y < 0 || y >= r->height)
    return st->zero;
  int slot = ring_slot (y, IN_RING);
  guint8 *row = st->in_ring[slot];
  if (st->in_tag[slot] != y) {
    const guint8 *src = r->in + (gsize) y * r->in_stride;
    const EspcnPixelLayout *lay = &r->in_layout;
    memset (row, 0, 2 * 3);
    for (int x = 0; x < r->width; x++) {
      const guint8 *px = src + (gsize) x * lay->bpp;
      guint8 *d = row + (gsize) (x + 2) * 3;
      d[0] = px[lay->r];
      d[1] = px[lay->g];
      d[2] = px[lay->b];
    }
    memset (row + (gsize) (r->width + 2) * 3, 0, 2 * 3);
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
    int c = r->l[0]->out_c;
    memset (row, 0, c);
    conv_row (r->l[0], r->w[0], rows, r->width, row + c);
    memset (row + (gsize) (r->width + 1) * c, 0, c);
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
    int c = r->l[1]->out_c;
    memset (row, 0, c);
    conv_row (r->l[1], r->w[1], rows, r->width, row + c);
    memset (row + (gsize) (r->width + 1) * c, 0, c);
    st->c2_tag[slot] = y;
  }
  return row;
}

static void
process_stripe (Stripe *st)
{
  EspcnRunner *r = st->r;
  int s = r->s, ss = s * s, c3 = r->l[2]->out_c;
  const EspcnPixelLayout *lay = &r->out_layout;
  const int off[3] = { lay->r, lay->g, lay->b };

  for (int i = 0; i < IN_RING; i++)
    st->in_tag[i] = G_MININT;
  for (int i = 0; i < HID_RING; i++)
    st->c1_tag[i] = st->c2_tag[i] = G_MININT;

  for (int y = st->y0; y < st->y1; y++) {
    const guint8 *rows[3];
    for (int i = 0; i < 3; i++)
      rows[i] = get_c2 (st, y - 1 + i);
    conv_row (r->l[2], r->w[2], rows, r->width, st->c3_row);
    /* Pixel shuffle: channel c*s*s + i*s + j goes to (y*s + i, x*s + j), colour c. */
    for (int i = 0; i < s; i++) {
      guint8 *dst = r->out + ((gsize) y * s + i) * r->out_stride;
      for (int x = 0; x < r->width; x++) {
        const guint8 *v = st->c3_row + (gsize) x * c3;
        for (int j = 0; j < s; j++) {
          guint8 *px = dst + ((gsize) x * s + j) * lay->bpp;
          for (int c = 0; c < 3; c++)
            px[off[c]] = v[c * ss + i * s + j];
        }
      }
    }
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
  gsize f = r->l[0]->out_c, h = r->l[1]->out_c, c3 = r->l[2]->out_c, w = width;
  gsize in_row = (w + 4) * 3, c1_row = (w + 2) * f, c2_row = (w + 2) * h;
  gsize zero_row = MAX (in_row, c1_row);
  gsize total = IN_RING * in_row + HID_RING * (c1_row + c2_row) + zero_row + w * c3;
  for (int t = 0; t < r->n_threads; t++) {
    Stripe *st = &r->stripes[t];
    guint8 *block = g_try_malloc0 (total);
    if (block == NULL) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
          "out of memory for the runner's row buffers (%" G_GSIZE_FORMAT " bytes)", total);
      return FALSE;
    }
    g_free (st->block);
    st->block = block;
    guint8 *p = block;
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
  g_return_val_if_fail (m != NULL, NULL);
  if (n_threads < 1 || n_threads > MAX_THREADS) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "n_threads %d is outside [1, %d]", n_threads, MAX_THREADS);
    return NULL;
  }
  EspcnRunner *r = g_new0 (EspcnRunner, 1);
  r->m = espcn_int8_model_ref (m);
  r->s = espcn_int8_model_get_scale (m);
  r->n_threads = n_threads;
  g_mutex_init (&r->lock);
  g_cond_init (&r->done);
  for (int i = 0; i < 3; i++) {
    const EspcnInt8Layer *l = espcn_int8_model_get_layer (m, i);
    r->l[i] = l;
    int k = l->k;
    r->w[i] = g_new (gint16, (gsize) l->out_c * l->in_c * k * k);
    for (int oc = 0; oc < l->out_c; oc++)
      for (int ic = 0; ic < l->in_c; ic++)
        for (int ky = 0; ky < k; ky++)
          for (int kx = 0; kx < k; kx++)
            r->w[i][(((gsize) oc * k + ky) * k + kx) * l->in_c + ic] =
                l->weight[(((gsize) oc * l->in_c + ic) * k + ky) * k + kx];
  }
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
    g_free (r->w[i]);
  g_mutex_clear (&r->lock);
  g_cond_clear (&r->done);
  espcn_int8_model_unref (r->m);
  g_free (r);
}
