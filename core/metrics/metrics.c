#include "metrics/metrics.h"

#include <math.h>

#include "image/color.h"

gboolean
espcn_image_is_gray (const EspcnImage *img)
{
  gsize n = (gsize) img->width * img->height;
  for (gsize i = 0; i < n; i++) {
    const guint8 *p = img->data + 3 * i;
    if (p[0] != p[1] || p[1] != p[2])
      return FALSE;
  }
  return TRUE;
}

/* The value compared: BT.601 luma, or for a grayscale reference the grey level,
 * which is the luma mapped back from [16, 235] to [0, 255] (exactly the grey
 * value when R = G = B, since the three weights add up to 219). */
static inline double
luma (const guint8 *p, gboolean gray)
{
  double y = espcn_rgb_to_y (p[0], p[1], p[2]);
  return gray ? (y - 16.0) * (255.0 / 219.0) : y;
}

static gboolean
shaved_size (const EspcnImage *a, const EspcnImage *b, int shave, int min, int *w, int *h)
{
  if (a->width != b->width || a->height != b->height || shave < 0)
    return FALSE;
  *w = a->width - 2 * shave;
  *h = a->height - 2 * shave;
  return *w >= min && *h >= min;
}

static double
psnr_from_mse (double mse)
{
  if (mse == 0.0)
    return INFINITY;
  return 10.0 * log10 (255.0 * 255.0 / mse);
}

double
espcn_psnr_y (const EspcnImage *a, const EspcnImage *b, int shave)
{
  int w, h;
  if (!shaved_size (a, b, shave, 1, &w, &h))
    return NAN;
  gboolean gray = a->gray || b->gray;
  double sum = 0.0;
  for (int y = shave; y < shave + h; y++) {
    const guint8 *pa = a->data + ((gsize) y * a->width + shave) * 3;
    const guint8 *pb = b->data + ((gsize) y * b->width + shave) * 3;
    for (int x = 0; x < w; x++, pa += 3, pb += 3) {
      double d = luma (pa, gray) - luma (pb, gray);
      sum += d * d;
    }
  }
  return psnr_from_mse (sum / ((double) w * h));
}

double
espcn_psnr_rgb (const EspcnImage *a, const EspcnImage *b, int shave)
{
  int w, h;
  if (!shaved_size (a, b, shave, 1, &w, &h))
    return NAN;
  double sum = 0.0;
  for (int y = shave; y < shave + h; y++) {
    const guint8 *pa = a->data + ((gsize) y * a->width + shave) * 3;
    const guint8 *pb = b->data + ((gsize) y * b->width + shave) * 3;
    for (int i = 0; i < 3 * w; i++) {
      double d = (double) pa[i] - pb[i];
      sum += d * d;
    }
  }
  return psnr_from_mse (sum / (3.0 * w * h));
}

/* 'valid' filtering of a w x h plane with the separable window g (11 taps):
 * the 2-D normalised Gaussian is the outer product of the normalised 1-D one. */
static double *
filter_valid (const double *src, int w, int h, const double *g, int n)
{
  int ow = w - n + 1, oh = h - n + 1;
  double *tmp = g_new (double, (gsize) w * oh);
  double *out = g_new (double, (gsize) ow * oh);
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < w; x++) {
      double acc = 0.0;
      for (int k = 0; k < n; k++)
        acc += g[k] * src[(gsize) (y + k) * w + x];
      tmp[(gsize) y * w + x] = acc;
    }
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++) {
      double acc = 0.0;
      for (int k = 0; k < n; k++)
        acc += g[k] * tmp[(gsize) y * w + x + k];
      out[(gsize) y * ow + x] = acc;
    }
  g_free (tmp);
  return out;
}

double
espcn_ssim_y (const EspcnImage *a, const EspcnImage *b, int shave)
{
  enum { N = 11 };
  int w, h;
  if (!shaved_size (a, b, shave, N, &w, &h))
    return NAN;
  double g[N], gsum = 0.0;
  for (int k = 0; k < N; k++) {
    double x = k - (N - 1) / 2.0;
    g[k] = exp (-x * x / (2.0 * 1.5 * 1.5));
    gsum += g[k];
  }
  for (int k = 0; k < N; k++)
    g[k] /= gsum;

  gboolean gray = a->gray || b->gray;
  gsize n = (gsize) w * h;
  double *ya = g_new (double, n), *yb = g_new (double, n);
  double *aa = g_new (double, n), *bb = g_new (double, n), *ab = g_new (double, n);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      gsize i = (gsize) y * w + x;
      const guint8 *pa = a->data + ((gsize) (y + shave) * a->width + x + shave) * 3;
      const guint8 *pb = b->data + ((gsize) (y + shave) * b->width + x + shave) * 3;
      ya[i] = luma (pa, gray);
      yb[i] = luma (pb, gray);
      aa[i] = ya[i] * ya[i];
      bb[i] = yb[i] * yb[i];
      ab[i] = ya[i] * yb[i];
    }
  double *mu_a = filter_valid (ya, w, h, g, N), *mu_b = filter_valid (yb, w, h, g, N);
  double *s_aa = filter_valid (aa, w, h, g, N), *s_bb = filter_valid (bb, w, h, g, N);
  double *s_ab = filter_valid (ab, w, h, g, N);
  const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
  gsize m = (gsize) (w - N + 1) * (h - N + 1);
  double sum = 0.0;
  for (gsize i = 0; i < m; i++) {
    double ma = mu_a[i], mb = mu_b[i];
    double va = s_aa[i] - ma * ma, vb = s_bb[i] - mb * mb, cov = s_ab[i] - ma * mb;
    sum += ((2 * ma * mb + c1) * (2 * cov + c2))
        / ((ma * ma + mb * mb + c1) * (va + vb + c2));
  }
  g_free (ya); g_free (yb); g_free (aa); g_free (bb); g_free (ab);
  g_free (mu_a); g_free (mu_b); g_free (s_aa); g_free (s_bb); g_free (s_ab);
  return sum / (double) m;
}
