/* Frame and pixel-layout checks shared by the reference and the runner. */
#include "engine/engine.h"

#include <gio/gio.h>
#include <stdint.h>

gboolean
espcn_pixel_layout_validate (const EspcnPixelLayout *l, GError **error)
{
  if (l == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "pixel layout is NULL");
    return FALSE;
  }
  if (l->bpp < 3 || l->bpp > 16 || l->r < 0 || l->g < 0 || l->b < 0 || l->r >= l->bpp || l->g >= l->bpp
      || l->b >= l->bpp || l->r == l->g || l->r == l->b || l->g == l->b) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "invalid pixel layout {bpp %d, r %d, g %d, b %d}: need bpp in 3..16 and distinct offsets below bpp",
        l->bpp, l->r, l->g, l->b);
    return FALSE;
  }
  return TRUE;
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
