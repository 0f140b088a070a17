/* 8-bit 4:2:0 YUV <-> packed RGB (see espcn-yuv.h). */
#include "espcn-yuv.h"

#include <math.h>

#define FRAC 16
#define HALF (1 << (FRAC - 1))

static gint32
fixed (double v)
{
  return (gint32) lround (v * (1 << FRAC));
}

void
espcn_yuv_coeffs_init (EspcnYuvCoeffs *c, const GstVideoColorimetry *colorimetry)
{
  gdouble kr = 0.299, kb = 0.114;  /* BT.601 when the caps name no YUV matrix */
  if (colorimetry != NULL && !gst_video_color_matrix_get_Kr_Kb (colorimetry->matrix, &kr, &kb)) {
    kr = 0.299;
    kb = 0.114;
  }
  double kg = 1.0 - kr - kb;
  gboolean full = colorimetry != NULL && colorimetry->range == GST_VIDEO_COLOR_RANGE_0_255;
  double sy = full ? 255.0 : 219.0, sc = full ? 255.0 : 224.0;

  c->y_off = full ? 0 : 16;
  c->y_mul = fixed (255.0 / sy);
  c->v_r = fixed (255.0 / sc * 2.0 * (1.0 - kr));
  c->u_g = -fixed (255.0 / sc * 2.0 * kb * (1.0 - kb) / kg);
  c->v_g = -fixed (255.0 / sc * 2.0 * kr * (1.0 - kr) / kg);
  c->u_b = fixed (255.0 / sc * 2.0 * (1.0 - kb));

  c->yr = fixed (sy / 255.0 * kr);
  c->yg = fixed (sy / 255.0 * kg);
  c->yb = fixed (sy / 255.0 * kb);
  c->ur = -fixed (sc / 255.0 * kr / (2.0 * (1.0 - kb)));
  c->ug = -fixed (sc / 255.0 * kg / (2.0 * (1.0 - kb)));
  c->ub = fixed (sc / 255.0 / 2.0);
  c->vr = fixed (sc / 255.0 / 2.0);
  c->vg = -fixed (sc / 255.0 * kg / (2.0 * (1.0 - kr)));
  c->vb = -fixed (sc / 255.0 * kb / (2.0 * (1.0 - kr)));
}

void
espcn_yuv_frame_from_video_frame (EspcnYuvFrame *f, GstVideoFrame *frame)
{
  for (int i = 0; i < 3; i++) {
    f->data[i] = GST_VIDEO_FRAME_COMP_DATA (frame, i);
    f->stride[i] = (gsize) GST_VIDEO_FRAME_COMP_STRIDE (frame, i);
    f->pstride[i] = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, i);
  }
  f->width = GST_VIDEO_FRAME_WIDTH (frame);
  f->height = GST_VIDEO_FRAME_HEIGHT (frame);
}

static inline guint8
clamp_u8 (gint32 v)
{
  return (guint8) (v < 0 ? 0 : (v > 255 ? 255 : v));
}

void
espcn_yuv_to_rgb (const EspcnYuvCoeffs *c, const EspcnYuvFrame *in, guint8 *rgb, gsize rgb_stride)
{
  for (int y = 0; y < in->height; y++) {
    const guint8 *yrow = in->data[0] + (gsize) y * in->stride[0];
    const guint8 *urow = in->data[1] + (gsize) (y / 2) * in->stride[1];
    const guint8 *vrow = in->data[2] + (gsize) (y / 2) * in->stride[2];
    guint8 *out = rgb + (gsize) y * rgb_stride;
    for (int x = 0; x < in->width; x++) {
      gint32 yy = c->y_mul * ((gint32) yrow[x * in->pstride[0]] - c->y_off) + HALF;
      gint32 u = (gint32) urow[(x / 2) * in->pstride[1]] - 128;
      gint32 v = (gint32) vrow[(x / 2) * in->pstride[2]] - 128;
      out[3 * x + 0] = clamp_u8 ((yy + c->v_r * v) >> FRAC);
      out[3 * x + 1] = clamp_u8 ((yy + c->u_g * u + c->v_g * v) >> FRAC);
      out[3 * x + 2] = clamp_u8 ((yy + c->u_b * u) >> FRAC);
    }
  }
}

/* Rounded (sum / (n << FRAC)) of a non-negative sum, clamped to a byte. */
static inline guint8
chroma_div (gint64 sum, int n)
{
  gint64 d = (gint64) n << FRAC;
  gint64 v = sum < 0 ? 0 : (sum + d / 2) / d;
  return (guint8) (v > 255 ? 255 : v);
}

void
espcn_rgb_to_yuv (const EspcnYuvCoeffs *c, const guint8 *rgb, gsize rgb_stride, EspcnYuvFrame *out)
{
  for (int y = 0; y < out->height; y++) {
    const guint8 *p = rgb + (gsize) y * rgb_stride;
    guint8 *yrow = out->data[0] + (gsize) y * out->stride[0];
    for (int x = 0; x < out->width; x++, p += 3)
      yrow[x * out->pstride[0]] =
          clamp_u8 (c->y_off + ((c->yr * p[0] + c->yg * p[1] + c->yb * p[2] + HALF) >> FRAC));
  }
  /* Chroma: one sample per 2x2 block, from the block's summed RGB. */
  for (int cy = 0; cy < (out->height + 1) / 2; cy++) {
    guint8 *urow = out->data[1] + (gsize) cy * out->stride[1];
    guint8 *vrow = out->data[2] + (gsize) cy * out->stride[2];
    int rows = (2 * cy + 1 < out->height) ? 2 : 1;
    for (int cx = 0; cx < (out->width + 1) / 2; cx++) {
      int cols = (2 * cx + 1 < out->width) ? 2 : 1;
      gint32 r = 0, g = 0, b = 0;
      for (int dy = 0; dy < rows; dy++) {
        const guint8 *p = rgb + (gsize) (2 * cy + dy) * rgb_stride + (gsize) 2 * cx * 3;
        for (int dx = 0; dx < cols; dx++) {
          r += p[3 * dx + 0];
          g += p[3 * dx + 1];
          b += p[3 * dx + 2];
        }
      }
      int n = rows * cols;
      gint64 base = ((gint64) 128 * n) << FRAC;
      urow[cx * out->pstride[1]] = chroma_div (base + (gint64) c->ur * r + (gint64) c->ug * g + (gint64) c->ub * b, n);
      vrow[cx * out->pstride[2]] = chroma_div (base + (gint64) c->vr * r + (gint64) c->vg * g + (gint64) c->vb * b, n);
    }
  }
}
