/* espcn-gst: luma as the super-resolution benchmarks compute it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ITU-R BT.601 luma of 8-bit RGB on a 0..255 scale, in [16, 235], not rounded:
 * Y = 16 + 65.481 R + 128.553 G + 24.966 B with R, G, B = r/255 ... in [0, 1]
 * (MATLAB's rgb2ycbcr in double, the convention of the published tables). */
static inline double
espcn_rgb_to_y (guint8 r, guint8 g, guint8 b)
{
  return 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
}

G_END_DECLS
