/* The reference engine: the whole frame, one plane per channel, each layer a
 * direct convolution over every output, input channel and tap.  Written to be
 * obviously correct; the runner must match it byte for byte. */
#include "engine/engine.h"
#include "engine/requant.h"

#include <gio/gio.h>

/* out[oc][y][x] = requant(bias + sum w * in), zero outside the frame. */
static void
conv_plane (const EspcnInt8Layer *l, const gint32 *in, gint32 *out, int w, int h)
{
  int p = l->k / 2;
  gsize plane = (gsize) w * h;
  for (int oc = 0; oc < l->out_c; oc++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        /* The model's accumulator bound makes int32 exact here. */
        gint32 acc = l->bias[oc];
        for (int ic = 0; ic < l->in_c; ic++)
          for (int ky = 0; ky < l->k; ky++)
            for (int kx = 0; kx < l->k; kx++) {
              int iy = y + ky - p, ix = x + kx - p;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                continue;
              gint16 wt = l->weight[(((gsize) oc * l->in_c + ic) * l->k + ky) * l->k + kx];
              acc += wt * in[ic * plane + (gsize) iy * w + ix];
            }
        out[oc * plane + (gsize) y * w + x] =
            espcn_requantize (acc, l->multiplier[oc], l->shift[oc], l->out_max);
      }
}

static gint32 *
alloc_planes (int channels, gsize plane, GError **error)
{
  gint32 *p = g_try_malloc_n ((gsize) channels * plane, sizeof (gint32));
  if (p == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
        "out of memory for %d planes of %" G_GSIZE_FORMAT " pixels", channels, plane);
  return p;
}

gboolean
espcn_engine_process_reference (const EspcnInt8Model *m, const guint8 *in, gsize in_stride,
                                const EspcnPixelLayout *in_layout, int width, int height, guint8 *out,
                                gsize out_stride, const EspcnPixelLayout *out_layout, GError **error)
{
  if (!espcn_engine_check_frames (m, in, in_stride, in_layout, width, height, out, out_stride, out_layout,
          error))
    return FALSE;

  const EspcnInt8Layer *l1 = espcn_int8_model_get_layer (m, 0);
  const EspcnInt8Layer *l2 = espcn_int8_model_get_layer (m, 1);
  const EspcnInt8Layer *l3 = espcn_int8_model_get_layer (m, 2);
  int s = espcn_int8_model_get_scale (m);
  int nc = espcn_int8_model_get_channels (m);  /* 3 (RGB) or 1 (Y) */
  gsize plane = (gsize) width * height;

  g_autofree gint32 *x0 = alloc_planes (nc, plane, error);
  g_autofree gint32 *x1 = x0 ? alloc_planes (l1->out_c, plane, error) : NULL;
  g_autofree gint32 *x2 = x1 ? alloc_planes (l2->out_c, plane, error) : NULL;
  g_autofree gint32 *x3 = x2 ? alloc_planes (l3->out_c, plane, error) : NULL;
  if (x3 == NULL)
    return FALSE;

  const int in_off[3] = { in_layout->r, in_layout->g, in_layout->b };
  for (int c = 0; c < nc; c++)
    for (int y = 0; y < height; y++)
      for (int x = 0; x < width; x++)
        x0[c * plane + (gsize) y * width + x] = in[(gsize) y * in_stride + (gsize) x * in_layout->bpp + in_off[c]];

  conv_plane (l1, x0, x1, width, height);
  conv_plane (l2, x1, x2, width, height);
  conv_plane (l3, x2, x3, width, height);

  /* Pixel shuffle: out[c][y*s+i][x*s+j] = x3[c*s*s + i*s + j][y][x]. */
  const int out_off[3] = { out_layout->r, out_layout->g, out_layout->b };
  for (int c = 0; c < nc; c++)
    for (int i = 0; i < s; i++)
      for (int j = 0; j < s; j++)
        for (int y = 0; y < height; y++)
          for (int x = 0; x < width; x++) {
            gsize oy = (gsize) y * s + i, ox = (gsize) x * s + j;
            out[oy * out_stride + ox * out_layout->bpp + out_off[c]] =
                (guint8) x3[(gsize) (c * s * s + i * s + j) * plane + (gsize) y * width + x];
          }
  return TRUE;
}
