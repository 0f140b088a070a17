/* espcn-gst: 8-bit 4:2:0 YUV <-> packed RGB for the espcnupscale element.
 *
 * The engine works on RGB, so I420 and NV12 frames are converted internally:
 * the small input to RGB (chroma replicated from its 2x2 block), and the
 * upscaled RGB back to YUV (chroma averaged over each 2x2 block, or over the
 * pixels that exist at an odd right or bottom edge).  Integer arithmetic with
 * 16 fractional bits; the coefficients come from the caps' colorimetry
 * (matrix and range), BT.601 when the matrix is unknown or RGB.
 *
 * The element converts through 4-byte RGBx intermediates ([R, G, B, 0xff]),
 * which ORC kernels (espcn-yuv-orc.orc) can load and store; they give exactly
 * the bytes of the plain C reference (the 3-byte functions and the RGBx ones
 * with use_orc FALSE). */
#pragma once

#include <glib.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

typedef struct {
  /* YUV -> RGB: R = (y_mul*(Y-y_off) + v_r*(V-128)) >> 16, and so on. */
  gint32 y_off, y_mul, v_r, u_g, v_g, u_b;
  /* RGB -> YUV: Y = y_off + (yr*R + yg*G + yb*B) >> 16, U and V around 128. */
  gint32 yr, yg, yb, ur, ug, ub, vr, vg, vb;
} EspcnYuvCoeffs;

/* One 8-bit 4:2:0 frame seen component by component: the data of Y, U and V,
 * their row strides and their pixel strides (1 for I420, 2 for NV12's UV). */
typedef struct {
  guint8 *data[3];
  gsize stride[3];
  int pstride[3];
  int width, height;  /* of the luma plane */
} EspcnYuvFrame;

/* Coefficients for a colorimetry's matrix and range. */
void espcn_yuv_coeffs_init (EspcnYuvCoeffs *c, const GstVideoColorimetry *colorimetry);

/* Fills the frame view from a mapped GstVideoFrame in I420 or NV12. */
void espcn_yuv_frame_from_video_frame (EspcnYuvFrame *f, GstVideoFrame *frame);

/* Narrows `f` to field `field` (0 = the even rows) of `n_fields` interleaved
 * fields (1 = the whole frame): every plane's rows of that field, chroma
 * included, as one picture of height / n_fields rows. */
void espcn_yuv_frame_select_field (EspcnYuvFrame *f, int field, int n_fields);

/* YUV frame -> packed RGB (3 bytes per pixel, rows rgb_stride apart). */
void espcn_yuv_to_rgb (const EspcnYuvCoeffs *c, const EspcnYuvFrame *in, guint8 *rgb, gsize rgb_stride);

/* Packed RGB of the frame's size -> YUV frame. */
void espcn_rgb_to_yuv (const EspcnYuvCoeffs *c, const guint8 *rgb, gsize rgb_stride, EspcnYuvFrame *out);

/* FALSE when the CPU policy masks ORC (cpu/cpu.h: ESPCN_CPU=none, -orc, or a
 * list without orc), as for the engine's output stage. */
gboolean espcn_yuv_orc_allowed (void);

/* YUV frame -> RGBx (4 bytes per pixel, x = 0xff, rows rgbx_stride apart).
 * use_orc: ORC kernels where they apply (I420 or NV12 planes, aligned rows,
 * little-endian), C elsewhere; FALSE: C only.  Same bytes either way. */
void espcn_yuv_to_rgbx (const EspcnYuvCoeffs *c, const EspcnYuvFrame *in, guint8 *rgbx, gsize rgbx_stride,
                        gboolean use_orc);

/* RGBx of the frame's size (x bytes ignored) -> YUV frame; use_orc as above.
 * The result equals espcn_rgb_to_yuv's on the same R, G, B. */
void espcn_rgbx_to_yuv (const EspcnYuvCoeffs *c, const guint8 *rgbx, gsize rgbx_stride, EspcnYuvFrame *out,
                        gboolean use_orc);

G_END_DECLS
