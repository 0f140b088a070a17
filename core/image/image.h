/* espcn-gst: an 8-bit packed RGB image, the one pixel format of the data side. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Packed RGB, 3 bytes per pixel, rows of 3 * width bytes, no padding.
 * `gray` is TRUE when the image was decoded from a one-channel (grayscale)
 * file (so R = G = B); copy, crop and resize keep it. It matters only to the
 * metrics, which follow the benchmark convention of comparing a grayscale
 * reference on its grey level rather than on BT.601 luma (metrics/metrics.h). */
typedef struct {
  int width;
  int height;
  guint8 *data;
  gboolean gray;
} EspcnImage;

/* A zero-filled image; width and height must be > 0 (callers check sizes first). */
EspcnImage *espcn_image_new (int width, int height);
void espcn_image_free (EspcnImage *img);
EspcnImage *espcn_image_copy (const EspcnImage *img);
/* The w x h region at (x, y); it must lie inside img. */
EspcnImage *espcn_image_crop (const EspcnImage *img, int x, int y, int w, int h);
/* One of the 8 symmetries of the square grid: bit 0 mirrors left-right, bit 1
 * mirrors top-bottom, bit 2 transposes first (so width and height swap). */
EspcnImage *espcn_image_dihedral (const EspcnImage *img, unsigned op);
/* Crop to the largest multiple of `scale` in each dimension (top-left kept). */
EspcnImage *espcn_image_modcrop (const EspcnImage *img, int scale);

/* To planar float CHW (3 planes of width*height) with values q / 255. */
void espcn_image_to_planar_f32 (const EspcnImage *img, float *chw);
/* From planar float CHW in [0,1]: q = clamp(floor(v * 255 + 0.5), 0, 255). */
void espcn_image_from_planar_f32 (EspcnImage *img, const float *chw);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnImage, espcn_image_free)

G_END_DECLS
