#include "image/imresize.h"

#include <math.h>
#include <string.h>

#include "image/image-io.h"

double
espcn_cubic_kernel (double x)
{
  double a = fabs (x), a2 = a * a, a3 = a2 * a;
  if (a <= 1.0)
    return 1.5 * a3 - 2.5 * a2 + 1.0;
  if (a <= 2.0)
    return -0.5 * a3 + 2.5 * a2 - 4.0 * a + 2.0;
  return 0.0;
}

/* Per-axis weight table: for each output index, `taps` input indices (already
 * mirrored into range) and normalised weights. Computed once per axis, so the
 * filtering loops do no kernel evaluation. */
typedef struct {
  int taps;
  int *index;     /* out_len * taps */
  double *weight; /* out_len * taps */
} Contrib;

static void
contrib_init (Contrib *c, int in_len, int out_len, double scale)
{
  gboolean shrink = scale < 1.0;
  double support = shrink ? 4.0 / scale : 4.0;
  c->taps = (int) ceil (support) + 2;
  c->index = g_new (int, (gsize) out_len * c->taps);
  c->weight = g_new (double, (gsize) out_len * c->taps);
  for (int i = 0; i < out_len; i++) {
    /* 1-based coordinates, as in MATLAB. */
    double u = (i + 1) / scale + 0.5 * (1.0 - 1.0 / scale);
    double left = floor (u - support / 2.0);
    double sum = 0.0;
    int *idx = c->index + (gsize) i * c->taps;
    double *w = c->weight + (gsize) i * c->taps;
    for (int k = 0; k < c->taps; k++) {
      double j = left + k;
      double x = u - j;
      w[k] = shrink ? scale * espcn_cubic_kernel (scale * x) : espcn_cubic_kernel (x);
      sum += w[k];
      /* Mirror over the sequence 1..n, n..1 (period 2n), then to 0-based. */
      gint64 p = (gint64) j - 1;
      gint64 period = 2 * (gint64) in_len;
      p %= period;
      if (p < 0)
        p += period;
      if (p >= in_len)
        p = period - 1 - p;
      idx[k] = (int) p;
    }
    for (int k = 0; k < c->taps; k++)
      w[k] /= sum;
  }
}

static void
contrib_clear (Contrib *c)
{
  g_free (c->index);
  g_free (c->weight);
}

/* Resample `channels` interleaved doubles per pixel, first along y, then x. */
static void
resize_interleaved (const double *src, int ch, int in_w, int in_h, double *dst,
    int out_w, int out_h, double scale_x, double scale_y)
{
  Contrib cy, cx;
  contrib_init (&cy, in_h, out_h, scale_y);
  contrib_init (&cx, in_w, out_w, scale_x);
  gsize in_row = (gsize) in_w * ch;
  double *tmp = g_new0 (double, (gsize) out_h * in_row);

  for (int y = 0; y < out_h; y++) {
    double *t = tmp + (gsize) y * in_row;
    const int *idx = cy.index + (gsize) y * cy.taps;
    const double *w = cy.weight + (gsize) y * cy.taps;
    for (int k = 0; k < cy.taps; k++) {
      if (w[k] == 0.0)
        continue;
      const double *s = src + (gsize) idx[k] * in_row;
      double wk = w[k];
      for (gsize i = 0; i < in_row; i++)
        t[i] += wk * s[i];
    }
  }
  for (int y = 0; y < out_h; y++) {
    const double *t = tmp + (gsize) y * in_row;
    double *d = dst + (gsize) y * out_w * ch;
    for (int x = 0; x < out_w; x++) {
      const int *idx = cx.index + (gsize) x * cx.taps;
      const double *w = cx.weight + (gsize) x * cx.taps;
      for (int c = 0; c < ch; c++) {
        double acc = 0.0;
        for (int k = 0; k < cx.taps; k++)
          acc += w[k] * t[(gsize) idx[k] * ch + c];
        d[(gsize) x * ch + c] = acc;
      }
    }
  }
  g_free (tmp);
  contrib_clear (&cy);
  contrib_clear (&cx);
}

static EspcnImage *
resize_u8 (const EspcnImage *src, int out_w, int out_h, double sx, double sy)
{
  gsize n_in = (gsize) src->width * src->height * 3;
  gsize n_out = (gsize) out_w * out_h * 3;
  double *in = g_new (double, n_in);
  double *out = g_new (double, n_out);
  for (gsize i = 0; i < n_in; i++)
    in[i] = src->data[i];
  resize_interleaved (in, 3, src->width, src->height, out, out_w, out_h, sx, sy);
  EspcnImage *dst = espcn_image_new (out_w, out_h);
  dst->gray = src->gray;
  for (gsize i = 0; i < n_out; i++) {
    /* Half away from zero (MATLAB's uint8 cast); negatives clamp to 0 anyway. */
    double v = floor (out[i] + 0.5);
    dst->data[i] = v <= 0.0 ? 0 : v >= 255.0 ? 255 : (guint8) v;
  }
  g_free (in);
  g_free (out);
  return dst;
}

EspcnImage *
espcn_imresize (const EspcnImage *src, int out_w, int out_h)
{
  g_return_val_if_fail (src != NULL && out_w > 0 && out_h > 0, NULL);
  return resize_u8 (src, out_w, out_h, (double) out_w / src->width,
      (double) out_h / src->height);
}

/* ceil(in * scale), except that a product within rounding error of an integer
 * counts as that integer: 510 * (1.0 / 3) must give 170, not 171. */
static double
out_len (int in, double scale)
{
  double v = in * scale, r = round (v);
  return fabs (v - r) <= 1e-9 * MAX (1.0, v) ? r : ceil (v);
}

EspcnImage *
espcn_imresize_scale (const EspcnImage *src, double scale)
{
  g_return_val_if_fail (src != NULL, NULL);
  if (!(scale > 0.0))
    return NULL;
  double w = out_len (src->width, scale), h = out_len (src->height, scale);
  if (w < 1 || h < 1 || w > ESPCN_IMAGE_MAX_SIDE || h > ESPCN_IMAGE_MAX_SIDE)
    return NULL;
  return resize_u8 (src, (int) w, (int) h, scale, scale);
}

void
espcn_imresize_planar_f32 (const float *src, int channels, int in_w, int in_h,
    float *dst, int out_w, int out_h, double scale_x, double scale_y)
{
  gsize in_plane = (gsize) in_w * in_h, out_plane = (gsize) out_w * out_h;
  double *in = g_new (double, in_plane);
  double *out = g_new (double, out_plane);
  for (int c = 0; c < channels; c++) {
    for (gsize i = 0; i < in_plane; i++)
      in[i] = src[c * in_plane + i];
    resize_interleaved (in, 1, in_w, in_h, out, out_w, out_h, scale_x, scale_y);
    for (gsize i = 0; i < out_plane; i++)
      dst[c * out_plane + i] = (float) out[i];
  }
  g_free (in);
  g_free (out);
}
