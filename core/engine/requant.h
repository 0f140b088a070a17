/* espcn-gst: fixed-point requantization of an int32 accumulator onto an
 * unsigned grid, exactly as fixed in docs/integer-grid.md:
 *
 *   y = clamp((acc * M + 2^(sh-1)) >> sh, 0, qmax)   (int64 product)
 *
 * with M in [2^30, 2^31) and sh in [1, 62], so that M * 2^-sh approximates the
 * real multiplier s_w * s_in / s_out. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ESPCN_REQUANT_M_MIN (G_GINT64_CONSTANT (1) << 30)      /* smallest multiplier */
#define ESPCN_REQUANT_M_MAX ((G_GINT64_CONSTANT (1) << 31) - 1) /* largest multiplier */
#define ESPCN_REQUANT_SHIFT_MIN 1
#define ESPCN_REQUANT_SHIFT_MAX 62

/* (M, shift) whose M * 2^-shift is nearest to `real` (the mantissa is rounded
 * half up to 31 bits).  Fails for NaN, infinities, real <= 0 and for values
 * whose shift would fall outside [1, 62] (real >= 2^30 or real < 2^-32 about). */
gboolean espcn_requant_from_real (double real, gint32 *multiplier, int *shift, GError **error);

/* The real multiplier M * 2^-shift that (M, shift) stands for. */
double espcn_requant_to_real (gint32 multiplier, int shift);

/* Requantize one accumulator; multiplier and shift must be in range (the model
 * loader guarantees it).  Rounds half up; a negative result clamps to 0 (the
 * lower clamp is the ReLU or the darkest pixel), so the arithmetic shift of a
 * negative number never happens. */
static inline gint32
espcn_requantize (gint32 acc, gint32 multiplier, int shift, gint32 qmax)
{
  /* |acc| <= 2^31 and M < 2^31: the product and the rounding term fit in int64. */
  gint64 p = (gint64) acc * multiplier + (G_GINT64_CONSTANT (1) << (shift - 1));
  if (p < 0)
    return 0;
  gint64 y = p >> shift;
  return y > qmax ? qmax : (gint32) y;
}

G_END_DECLS
