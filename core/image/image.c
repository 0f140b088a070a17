#include "image/image.h"

#include <math.h>
#include <string.h>

EspcnImage *
espcn_image_new (int width, int height)
{
  g_return_val_if_fail (width > 0 && height > 0, NULL);
  EspcnImage *img = g_new0 (EspcnImage, 1);
  img->width = width;
  img->height = height;
  img->data = g_malloc0 ((gsize) width * (gsize) height * 3);
  return img;
}

void
espcn_image_free (EspcnImage *img)
{
  if (img == NULL)
    return;
  g_free (img->data);
  g_free (img);
}

EspcnImage *
espcn_image_copy (const EspcnImage *img)
{
  EspcnImage *c = espcn_image_new (img->width, img->height);
  memcpy (c->data, img->data, (gsize) img->width * img->height * 3);
  c->gray = img->gray;
  return c;
}

EspcnImage *
espcn_image_crop (const EspcnImage *img, int x, int y, int w, int h)
{
  g_return_val_if_fail (x >= 0 && y >= 0 && w > 0 && h > 0, NULL);
  g_return_val_if_fail (x + w <= img->width && y + h <= img->height, NULL);
  EspcnImage *c = espcn_image_new (w, h);
  for (int r = 0; r < h; r++)
    memcpy (c->data + (gsize) r * w * 3,
        img->data + ((gsize) (y + r) * img->width + x) * 3, (gsize) w * 3);
  c->gray = img->gray;
  return c;
}

EspcnImage *
espcn_image_dihedral (const EspcnImage *img, unsigned op)
{
  gboolean tr = (op & 4) != 0;
  int w = tr ? img->height : img->width, h = tr ? img->width : img->height;
  EspcnImage *o = espcn_image_new (w, h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int sx = (op & 1) ? w - 1 - x : x, sy = (op & 2) ? h - 1 - y : y;
      if (tr) {
        int t = sx;
        sx = sy;
        sy = t;
      }
      memcpy (o->data + ((gsize) y * w + x) * 3, img->data + ((gsize) sy * img->width + sx) * 3, 3);
    }
  o->gray = img->gray;
  return o;
}

EspcnImage *
espcn_image_modcrop (const EspcnImage *img, int scale)
{
  g_return_val_if_fail (scale > 0, NULL);
  int w = img->width - img->width % scale;
  int h = img->height - img->height % scale;
  g_return_val_if_fail (w > 0 && h > 0, NULL);
  return espcn_image_crop (img, 0, 0, w, h);
}

void
espcn_image_to_planar_f32 (const EspcnImage *img, float *chw)
{
  gsize n = (gsize) img->width * img->height;
  const guint8 *p = img->data;
  for (gsize i = 0; i < n; i++) {
    chw[i] = p[3 * i] / 255.0f;
    chw[n + i] = p[3 * i + 1] / 255.0f;
    chw[2 * n + i] = p[3 * i + 2] / 255.0f;
  }
}

static inline guint8
to_u8 (float v)
{
  float q = floorf (v * 255.0f + 0.5f);
  /* NaN compares false both ways and lands on 0. */
  if (!(q > 0.0f))
    return 0;
  if (q > 255.0f)
    return 255;
  return (guint8) q;
}

void
espcn_image_from_planar_f32 (EspcnImage *img, const float *chw)
{
  gsize n = (gsize) img->width * img->height;
  guint8 *p = img->data;
  for (gsize i = 0; i < n; i++) {
    p[3 * i] = to_u8 (chw[i]);
    p[3 * i + 1] = to_u8 (chw[n + i]);
    p[3 * i + 2] = to_u8 (chw[2 * n + i]);
  }
}
