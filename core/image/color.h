/* espcn-gst: luma as the super-resolution benchmarks compute it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ITU-R BT.601 luma weights for R, G, B in [0, 1] on a 0..255 luma scale
 * (studio range: Y in [16, 235]; the three add up to 219). */
#define ESPCN_BT601_Y_OFFSET 16.0
#define ESPCN_BT601_Y_R 65.481
#define ESPCN_BT601_Y_G 128.553
#define ESPCN_BT601_Y_B 24.966

/* ITU-R BT.601 luma of 8-bit RGB on a 0..255 scale, in [16, 235], not rounded:
 * Y = 16 + 65.481 R + 128.553 G + 24.966 B with R, G, B = r/255 ... in [0, 1]
 * (MATLAB's rgb2ycbcr in double, the convention of the published tables). */
static inline double
espcn_rgb_to_y (guint8 r, guint8 g, guint8 b)
{
  return ESPCN_BT601_Y_OFFSET + (ESPCN_BT601_Y_R * r + ESPCN_BT601_Y_G * g + ESPCN_BT601_Y_B * b) / 255.0;
}

/* The luma network's pixels: the same luma divided by 255, from planar RGB in
 * [0, 1] (rgb[3][n]) to y[n].  y may be rgb itself (the first plane is
 * overwritten after each pixel is read). */
static inline void
espcn_planar_rgb_to_y01 (const float *rgb, gsize n, float *y)
{
  for (gsize i = 0; i < n; i++)
    y[i] = (float) ((ESPCN_BT601_Y_OFFSET + ESPCN_BT601_Y_R * rgb[i] + ESPCN_BT601_Y_G * rgb[n + i] +
                        ESPCN_BT601_Y_B * rgb[2 * n + i]) / 255.0);
}

G_END_DECLS
