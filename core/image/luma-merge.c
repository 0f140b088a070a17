#include "image/luma-merge.h"

#include <math.h>

#include "image/color.h"

void
espcn_image_to_y8 (const EspcnImage *img, guint8 *y8)
{
  gsize n = (gsize) img->width * img->height;
  for (gsize i = 0; i < n; i++) {
    const guint8 *p = img->data + 3 * i;
    y8[i] = (guint8) floor (espcn_rgb_to_y (p[0], p[1], p[2]) + 0.5); /* in [16, 235] */
  }
}

void
espcn_image_to_y01 (const EspcnImage *img, float *y01)
{
  gsize n = (gsize) img->width * img->height;
  g_autofree guint8 *y8 = g_new (guint8, n);
  espcn_image_to_y8 (img, y8);
  for (gsize i = 0; i < n; i++)
    y01[i] = y8[i] / 255.0f;
}

void
espcn_image_merge_luma (EspcnImage *out, const float *y01, const EspcnImage *chroma)
{
  g_return_if_fail (out->width == chroma->width && out->height == chroma->height);
  const double luma_range = ESPCN_BT601_Y_R + ESPCN_BT601_Y_G + ESPCN_BT601_Y_B; /* 219 */
  gsize n = (gsize) chroma->width * chroma->height;
  for (gsize i = 0; i < n; i++) {
    const guint8 *c = chroma->data + 3 * i;
    double shift = ((double) y01[i] * 255.0 - espcn_rgb_to_y (c[0], c[1], c[2])) * (255.0 / luma_range);
    for (int k = 0; k < 3; k++) {
      double v = floor (c[k] + shift + 0.5);
      out->data[3 * i + k] = (guint8) CLAMP (v, 0.0, 255.0);
    }
  }
  out->gray = chroma->gray;
}
