/* Frames and pixel layouts: the checks shared by the reference and the
 * runner, and the runner's output stage (frame-pack.h). */
#include "engine/engine.h"
#include "engine/frame-pack.h"
#include "engine/espcn-orc.h"

#include <gio/gio.h>
#include <stdint.h>
#include <string.h>

gboolean
espcn_pixel_layout_validate (const EspcnPixelLayout *l, GError **error)
{
  if (l == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "pixel layout is NULL");
    return FALSE;
  }
  if (l->bpp == 1) {
    if (l->r != 0 || l->g != 0 || l->b != 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "invalid pixel layout {bpp 1, r %d, g %d, b %d}: a one-byte (Y) layout has all offsets 0",
          l->r, l->g, l->b);
      return FALSE;
    }
    return TRUE;
  }
  if (l->bpp < 3 || l->bpp > 16 || l->r < 0 || l->g < 0 || l->b < 0 || l->r >= l->bpp || l->g >= l->bpp
      || l->b >= l->bpp || l->r == l->g || l->r == l->b || l->g == l->b) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "invalid pixel layout {bpp %d, r %d, g %d, b %d}: need bpp in 3..16 and distinct offsets below bpp "
        "(or bpp 1 for a Y plane)",
        l->bpp, l->r, l->g, l->b);
    return FALSE;
  }
  return TRUE;
}

int
espcn_pixel_layout_get_channels (const EspcnPixelLayout *layout)
{
  g_return_val_if_fail (layout != NULL, 0);
  return layout->bpp == 1 ? 1 : 3;
}

/* The layout carries the model's channels. */
static gboolean
layout_fits_model (const char *what, const EspcnPixelLayout *l, int channels, GError **error)
{
  int lc = espcn_pixel_layout_get_channels (l);
  if (lc == channels)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
      "the %s layout has %d channel%s (%s, %d bytes per pixel) but the model is %s (%d channel%s)", what, lc,
      lc == 1 ? "" : "s", lc == 1 ? "Y" : "RGB", l->bpp, channels == 1 ? "a luma model" : "an RGB model", channels,
      channels == 1 ? "" : "s");
  return FALSE;
}

/* Bytes from the first pixel to one past the last: (rows-1)*stride + cols*bpp. */
static gboolean
frame_extent (const char *what, gsize cols, gsize rows, gsize bpp, gsize stride, gsize *extent, GError **error)
{
  gsize row_bytes, last;
  if (!g_size_checked_mul (&row_bytes, cols, bpp) || !g_size_checked_mul (&last, rows - 1, stride)
      || !g_size_checked_add (extent, last, row_bytes)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s frame of %" G_GSIZE_FORMAT " x %" G_GSIZE_FORMAT " pixels does not fit in memory", what, cols, rows);
    return FALSE;
  }
  if (stride < row_bytes) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s stride %" G_GSIZE_FORMAT " is smaller than a row of %" G_GSIZE_FORMAT " bytes", what, stride, row_bytes);
    return FALSE;
  }
  return TRUE;
}

gboolean
espcn_engine_check_frames (const EspcnInt8Model *m, const guint8 *in, gsize in_stride,
                           const EspcnPixelLayout *in_layout, int width, int height, const guint8 *out,
                           gsize out_stride, const EspcnPixelLayout *out_layout, GError **error)
{
  if (m == NULL || in == NULL || out == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "model, input or output is NULL");
    return FALSE;
  }
  if (!espcn_pixel_layout_validate (in_layout, error) || !espcn_pixel_layout_validate (out_layout, error))
    return FALSE;
  int channels = espcn_int8_model_get_channels (m);
  if (!layout_fits_model ("input", in_layout, channels, error)
      || !layout_fits_model ("output", out_layout, channels, error))
    return FALSE;
  int s = espcn_int8_model_get_scale (m);
  if (width < 1 || height < 1 || width > G_MAXINT / s || height > G_MAXINT / s) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "invalid frame size %d x %d (need >= 1, and x%d output within int range)", width, height, s);
    return FALSE;
  }
  gsize in_extent, out_extent;
  if (!frame_extent ("input", width, height, in_layout->bpp, in_stride, &in_extent, error)
      || !frame_extent ("output", (gsize) width * s, (gsize) height * s, out_layout->bpp, out_stride,
          &out_extent, error))
    return FALSE;
  uintptr_t a = (uintptr_t) in, b = (uintptr_t) out;
  if (a > UINTPTR_MAX - in_extent || b > UINTPTR_MAX - out_extent
      || (a < b + out_extent && b < a + in_extent)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "input and output frames overlap");
    return FALSE;
  }
  return TRUE;
}

void
espcn_shuffle_order_c (int s, int *perm)
{
  for (int i = 0; i < s; i++)
    for (int j = 0; j < s; j++)
      for (int c = 0; c < 3; c++)
        perm[(i * s + j) * 3 + c] = c * s * s + i * s + j;
}

void
espcn_shuffle_order_orc (int s, int *perm)
{
  for (int i = 0; i < s; i++)
    for (int c = 0; c < 3; c++)
      for (int j = 0; j < s; j++)
        perm[(i * 3 + c) * s + j] = c * s * s + i * s + j;
}

void
espcn_shuffle_row_c (const guint8 *c3, int cs, int width, int s, guint8 *out, gsize out_stride,
                     const EspcnPixelLayout *lay)
{
  int bpp = lay->bpp, ro = lay->r, go = lay->g, bo = lay->b;
  for (int i = 0; i < s; i++) {
    guint8 *dst = out + (gsize) i * out_stride;
    const guint8 *src = c3 + i * s * 3;
    if (bpp == 3 && ro == 0 && go == 1 && bo == 2) {
      /* Sub-row i of LR pixel x is already RGB RGB ...: copy it. */
      for (int x = 0; x < width; x++)
        memcpy (dst + (gsize) x * s * 3, src + (gsize) x * cs, 3 * s);
      continue;
    }
    for (int x = 0; x < width; x++) {
      const guint8 *v = src + (gsize) x * cs;
      guint8 *px = dst + (gsize) x * s * bpp;
      for (int j = 0; j < s; j++, px += bpp) {
        px[ro] = v[3 * j];
        px[go] = v[3 * j + 1];
        px[bo] = v[3 * j + 2];
      }
    }
  }
}

typedef void (*ShuffleOrcFn) (guint8 *d, int d_stride, const guint8 *r, int r_stride, const guint8 *g,
                              int g_stride, const guint8 *b, int b_stride, int m);

/* [s - 2][layout]: one ORC kernel per scale (n = s is compiled in) and layout. */
static const ShuffleOrcFn shuffle_orc_fns[3][4] = {
  { espcn_orc_shuffle2_rgbx, espcn_orc_shuffle2_bgrx, espcn_orc_shuffle2_xrgb, espcn_orc_shuffle2_xbgr },
  { espcn_orc_shuffle3_rgbx, espcn_orc_shuffle3_bgrx, espcn_orc_shuffle3_xrgb, espcn_orc_shuffle3_xbgr },
  { espcn_orc_shuffle4_rgbx, espcn_orc_shuffle4_bgrx, espcn_orc_shuffle4_xrgb, espcn_orc_shuffle4_xbgr },
};

/* Index of the layout among RGBx, BGRx, xRGB, xBGR, or -1. */
static int
shuffle_orc_layout (const EspcnPixelLayout *l)
{
  static const int offs[4][3] = { { 0, 1, 2 }, { 2, 1, 0 }, { 1, 2, 3 }, { 3, 2, 1 } };
  if (G_BYTE_ORDER != G_LITTLE_ENDIAN || l == NULL || l->bpp != 4)
    return -1;
  for (int k = 0; k < 4; k++)
    if (l->r == offs[k][0] && l->g == offs[k][1] && l->b == offs[k][2])
      return k;
  return -1;
}

gboolean
espcn_shuffle_orc_supports (const EspcnPixelLayout *layout, const guint8 *out, gsize out_stride)
{
  return shuffle_orc_layout (layout) >= 0 && (guintptr) out % 4 == 0 && out_stride % 4 == 0;
}

void
espcn_shuffle_row_orc (const guint8 *c3, int cs, int width, int s, guint8 *out, gsize out_stride,
                       const EspcnPixelLayout *layout)
{
  g_return_if_fail (s >= 2 && s <= 4 && espcn_shuffle_orc_supports (layout, out, out_stride));
  ShuffleOrcFn fn = shuffle_orc_fns[s - 2][shuffle_orc_layout (layout)];
  /* One call per output sub-row: m = width LR pixels of s sub-pixels each. */
  for (int i = 0; i < s; i++) {
    const guint8 *src = c3 + i * 3 * s;
    fn (out + (gsize) i * out_stride, 4 * s, src, cs, src + s, cs, src + 2 * s, cs, width);
  }
}
