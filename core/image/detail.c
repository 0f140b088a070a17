#include "image/detail.h"

#include <math.h>
#include <stdlib.h>

#include "image/color.h"
#include "image/imresize.h"

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

EspcnDetail
espcn_image_detail (const EspcnImage *img)
{
  EspcnDetail d = { 0, 0, 0, 0 };
  const int w = img->width, h = img->height;
  if (w < 4 || h < 4)
    return d;
  /* Y as float planes; the resampling runs on one plane without rounding. */
  const gsize n = (gsize) w * h;
  const int dw = (w + 1) / 2, dh = (h + 1) / 2;
  g_autofree float *y = g_new (float, n);
  g_autofree float *down = g_new (float, (gsize) dw * dh);
  g_autofree float *up = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    y[i] = (float) espcn_rgb_to_y (img->data[3 * i], img->data[3 * i + 1], img->data[3 * i + 2]);
  espcn_imresize_planar_f32 (y, 1, w, h, down, dw, dh, 0.5, 0.5);
  espcn_imresize_planar_f32 (down, 1, dw, dh, up, w, h, 2.0, 2.0);

  double total = 0;
  for (gsize i = 0; i < n; i++) {
    double r = (double) y[i] - up[i];
    total += r * r;
  }
  d.rms = sqrt (total / n);

  const int B = ESPCN_DETAIL_BLOCK, bx = w / B, by = h / B;
  int textured = 0;
  g_autofree double *block = g_new (double, MAX (1, bx * by));
  for (int j = 0; j < by; j++)
    for (int i = 0; i < bx; i++) {
      double s = 0;
      for (int yy = j * B; yy < (j + 1) * B; yy++)
        for (int xx = i * B; xx < (i + 1) * B; xx++) {
          double r = (double) y[(gsize) yy * w + xx] - up[(gsize) yy * w + xx];
          s += r * r;
        }
      block[j * bx + i] = sqrt (s / (B * B));
      if (block[j * bx + i] >= ESPCN_DETAIL_BLOCK_MIN)
        textured++;
    }
  d.n_blocks = bx * by;
  if (d.n_blocks > 0) {
    qsort (block, d.n_blocks, sizeof *block, compare_doubles);
    d.sharpest = block[(int) (0.9 * (d.n_blocks - 1) + 0.5)];
  }
  d.textured_fraction = d.n_blocks > 0 ? (double) textured / d.n_blocks : 0;
  return d;
}
