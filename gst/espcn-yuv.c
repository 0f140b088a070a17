/* 8-bit 4:2:0 YUV <-> packed RGB (see espcn-yuv.h). */
#include "espcn-yuv.h"

#include <math.h>

#include "espcn-yuv-orc.h"
#include "cpu/cpu.h"

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

void
espcn_yuv_frame_select_field (EspcnYuvFrame *f, int field, int n_fields)
{
  for (int i = 0; i < 3; i++) {
    f->data[i] += (gsize) field * f->stride[i];
    f->stride[i] *= (gsize) n_fields;
  }
  f->height /= n_fields;
}

static inline guint8
clamp_u8 (gint32 v)
{
  return (guint8) (v < 0 ? 0 : (v > 255 ? 255 : v));
}

/* One pixel of the reference conversion: Y, U, V -> R, G, B at out[0..2]. */
static inline void
yuv_pixel (const EspcnYuvCoeffs *c, guint8 yv, guint8 uv, guint8 vv, guint8 *out)
{
  gint32 yy = c->y_mul * ((gint32) yv - c->y_off) + HALF;
  gint32 u = (gint32) uv - 128;
  gint32 v = (gint32) vv - 128;
  out[0] = clamp_u8 ((yy + c->v_r * v) >> FRAC);
  out[1] = clamp_u8 ((yy + c->u_g * u + c->v_g * v) >> FRAC);
  out[2] = clamp_u8 ((yy + c->u_b * u) >> FRAC);
}

/* Pixels x0 .. in->width - 1 of row y, bpp bytes apart (3, or 4 with x = 0xff). */
static void
yuv_row_c (const EspcnYuvCoeffs *c, const EspcnYuvFrame *in, int y, int x0, guint8 *out, int bpp)
{
  const guint8 *yrow = in->data[0] + (gsize) y * in->stride[0];
  const guint8 *urow = in->data[1] + (gsize) (y / 2) * in->stride[1];
  const guint8 *vrow = in->data[2] + (gsize) (y / 2) * in->stride[2];
  for (int x = x0; x < in->width; x++) {
    guint8 *px = out + (gsize) x * bpp;
    yuv_pixel (c, yrow[x * in->pstride[0]], urow[(x / 2) * in->pstride[1]], vrow[(x / 2) * in->pstride[2]], px);
    if (bpp == 4)
      px[3] = 0xff;
  }
}

void
espcn_yuv_to_rgb (const EspcnYuvCoeffs *c, const EspcnYuvFrame *in, guint8 *rgb, gsize rgb_stride)
{
  for (int y = 0; y < in->height; y++)
    yuv_row_c (c, in, y, 0, rgb + (gsize) y * rgb_stride, 3);
}

/* Rounded (sum / (n << FRAC)) of a non-negative sum, clamped to a byte. */
static inline guint8
chroma_div (gint64 sum, int n)
{
  gint64 d = (gint64) n << FRAC;
  gint64 v = sum < 0 ? 0 : (sum + d / 2) / d;
  return (guint8) (v > 255 ? 255 : v);
}

static inline guint8
luma (const EspcnYuvCoeffs *c, const guint8 *p)
{
  return clamp_u8 (c->y_off + ((c->yr * p[0] + c->yg * p[1] + c->yb * p[2] + HALF) >> FRAC));
}

/* The chroma sample (cx, cy) from the summed RGB of its block's pixels that exist. */
static void
chroma_block (const EspcnYuvCoeffs *c, const guint8 *rgb, gsize rgb_stride, int bpp, const EspcnYuvFrame *out,
              int cx, int cy)
{
  int rows = (2 * cy + 1 < out->height) ? 2 : 1;
  int cols = (2 * cx + 1 < out->width) ? 2 : 1;
  gint32 r = 0, g = 0, b = 0;
  for (int dy = 0; dy < rows; dy++) {
    const guint8 *p = rgb + (gsize) (2 * cy + dy) * rgb_stride + (gsize) 2 * cx * bpp;
    for (int dx = 0; dx < cols; dx++) {
      r += p[bpp * dx + 0];
      g += p[bpp * dx + 1];
      b += p[bpp * dx + 2];
    }
  }
  int n = rows * cols;
  gint64 base = ((gint64) 128 * n) << FRAC;
  out->data[1][(gsize) cy * out->stride[1] + (gsize) cx * out->pstride[1]] =
      chroma_div (base + (gint64) c->ur * r + (gint64) c->ug * g + (gint64) c->ub * b, n);
  out->data[2][(gsize) cy * out->stride[2] + (gsize) cx * out->pstride[2]] =
      chroma_div (base + (gint64) c->vr * r + (gint64) c->vg * g + (gint64) c->vb * b, n);
}

static void
rgb_to_yuv_c (const EspcnYuvCoeffs *c, const guint8 *rgb, gsize rgb_stride, int bpp, EspcnYuvFrame *out)
{
  for (int y = 0; y < out->height; y++) {
    const guint8 *p = rgb + (gsize) y * rgb_stride;
    guint8 *yrow = out->data[0] + (gsize) y * out->stride[0];
    for (int x = 0; x < out->width; x++, p += bpp)
      yrow[x * out->pstride[0]] = luma (c, p);
  }
  /* Chroma: one sample per 2x2 block, from the block's summed RGB. */
  for (int cy = 0; cy < (out->height + 1) / 2; cy++)
    for (int cx = 0; cx < (out->width + 1) / 2; cx++)
      chroma_block (c, rgb, rgb_stride, bpp, out, cx, cy);
}

void
espcn_rgb_to_yuv (const EspcnYuvCoeffs *c, const guint8 *rgb, gsize rgb_stride, EspcnYuvFrame *out)
{
  rgb_to_yuv_c (c, rgb, rgb_stride, 3, out);
}

/* ---- RGBx intermediates, ORC where it applies ---- */

gboolean
espcn_yuv_orc_allowed (void)
{
  return (espcn_cpu_flags () & ESPCN_CPU_ORC) != 0;
}

static inline gboolean
aligned (const void *p, gsize stride, gsize n)
{
  return (guintptr) p % n == 0 && stride % n == 0;
}

/* The frame's chroma layout as the ORC kernels take it: 1 = I420 planes,
 * 2 = NV12 (U then V interleaved in 2-byte words), 0 = neither (C). */
static int
orc_chroma_kind (const EspcnYuvFrame *f)
{
  if (G_BYTE_ORDER != G_LITTLE_ENDIAN || f->pstride[0] != 1)
    return 0;
  if (f->pstride[1] == 1 && f->pstride[2] == 1)
    return 1;
  if (f->pstride[1] == 2 && f->pstride[2] == 2 && f->data[2] == f->data[1] + 1 && f->stride[1] == f->stride[2]
      && aligned (f->data[1], f->stride[1], 2))
    return 2;
  return 0;
}

void
espcn_yuv_to_rgbx (const EspcnYuvCoeffs *c, const EspcnYuvFrame *in, guint8 *rgbx, gsize rgbx_stride,
                   gboolean use_orc)
{
  int kind = use_orc && aligned (rgbx, rgbx_stride, 4) ? orc_chroma_kind (in) : 0;
  if (kind == 0 || in->width < 2) {
    for (int y = 0; y < in->height; y++)
      yuv_row_c (c, in, y, 0, rgbx + (gsize) y * rgbx_stride, 4);
    return;
  }
  /* U and V replicated to one sample per pixel, once per chroma row. */
  int pairs = in->width / 2;
  g_autofree guint8 *ud = g_malloc ((gsize) pairs * 4);
  guint8 *vd = ud + (gsize) pairs * 2;
  for (int y = 0; y < in->height; y++) {
    guint8 *out = rgbx + (gsize) y * rgbx_stride;
    if (y % 2 == 0) {
      const guint8 *urow = in->data[1] + (gsize) (y / 2) * in->stride[1];
      if (kind == 1) {
        espcn_yuv_orc_dup (ud, urow, pairs);
        espcn_yuv_orc_dup (vd, in->data[2] + (gsize) (y / 2) * in->stride[2], pairs);
      } else {
        espcn_yuv_orc_split_dup (ud, vd, urow, pairs);
      }
    }
    espcn_yuv_orc_to_rgbx (out, in->data[0] + (gsize) y * in->stride[0], ud, vd, c->y_off, c->y_mul, c->v_r, c->u_g,
        c->v_g, c->u_b, 2 * pairs);
    if (in->width % 2)
      yuv_row_c (c, in, y, in->width - 1, out, 4);
  }
}

void
espcn_rgbx_to_yuv (const EspcnYuvCoeffs *c, const guint8 *rgbx, gsize rgbx_stride, EspcnYuvFrame *out,
                   gboolean use_orc)
{
  int kind = use_orc && aligned (rgbx, rgbx_stride, 8) ? orc_chroma_kind (out) : 0;
  /* rgbx_to_y multiplies unsigned 16-bit: true of every colorimetry's
   * coefficients, checked so that no other could reach it. */
  if (kind != 0
      && (c->yr < 0 || c->yr > 65535 || c->yg < 0 || c->yg > 65535 || c->yb < 0 || c->yb > 65535 || c->y_off < 0
          || c->y_off > 255))
    kind = 0;
  if (kind == 0) {
    rgb_to_yuv_c (c, rgbx, rgbx_stride, 4, out);
    return;
  }
  for (int y = 0; y < out->height; y++)
    espcn_yuv_orc_rgbx_to_y (out->data[0] + (gsize) y * out->stride[0], rgbx + (gsize) y * rgbx_stride, c->yr,
        c->yg, c->yb, c->y_off, out->width);
  int cw = (out->width + 1) / 2, full_cols = out->width / 2;
  for (int cy = 0; cy < (out->height + 1) / 2; cy++) {
    int cx0 = 0;
    if (2 * cy + 1 < out->height && full_cols > 0) {
      const guint8 *a = rgbx + (gsize) 2 * cy * rgbx_stride;
      guint8 *urow = out->data[1] + (gsize) cy * out->stride[1];
      if (kind == 1)
        espcn_yuv_orc_rgbx_to_uv_i420 (urow, out->data[2] + (gsize) cy * out->stride[2], a, a + rgbx_stride, c->ur,
            c->ug, c->ub, c->vr, c->vg, c->vb, full_cols);
      else
        espcn_yuv_orc_rgbx_to_uv_nv12 (urow, a, a + rgbx_stride, c->ur, c->ug, c->ub, c->vr, c->vg, c->vb,
            full_cols);
      cx0 = full_cols;
    }
    for (int cx = cx0; cx < cw; cx++)
      chroma_block (c, rgbx, rgbx_stride, 4, out, cx, cy);
  }
}
