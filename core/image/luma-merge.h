/* espcn-gst: an RGB image from a luma plane and another image's chroma, the way a
 * luma model's output is shown and scored on RGB images. */
#pragma once

#include <glib.h>

#include "image/image.h"

G_BEGIN_DECLS

/* The 8-bit luma plane of `img` as a video frame carries it: BT.601 Y
 * (image/color.h) rounded half up; width * height bytes. */
void espcn_image_to_y8 (const EspcnImage *img, guint8 *y8);
/* The same plane as the luma network reads it: y01[i] = y8[i] / 255. */
void espcn_image_to_y01 (const EspcnImage *img, float *y01);

/* Writes into `out` (the size of `chroma`) the RGB image whose BT.601 luma is
 * y01 * 255 and whose Cb, Cr are those of `chroma` (e.g. a bicubic upscale):
 * every channel of chroma's pixel moves by (Y - Y(chroma)) * 255 / 219, which
 * changes luma only (BT.601's Cb and Cr rows sum to zero), then is rounded and
 * clamped to 0 .. 255.  `gray` is copied from chroma. */
void espcn_image_merge_luma (EspcnImage *out, const float *y01, const EspcnImage *chroma);

G_END_DECLS
