/* Choosing (M, shift) for a real multiplier: frexp splits it into a mantissa
 * in [0.5, 1) and an exponent, so the 31-bit mantissa is M and shift follows. */
#include "engine/requant.h"

#include <gio/gio.h>
#include <math.h>

gboolean
espcn_requant_from_real (double real, gint32 *multiplier, int *shift, GError **error)
{
  g_return_val_if_fail (multiplier != NULL && shift != NULL, FALSE);

  if (!isfinite (real) || real <= 0.0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "requantization multiplier %g is not a finite positive number", real);
    return FALSE;
  }
  int e;
  double f = frexp (real, &e);               /* real = f * 2^e, f in [0.5, 1) */
  /* f * 2^31 is exact in a double and below 2^31, so adding 0.5 is exact too. */
  gint64 m = (gint64) floor (ldexp (f, 31) + 0.5);
  int sh = 31 - e;
  if (m > ESPCN_REQUANT_M_MAX) {             /* the mantissa rounded up to 1.0 */
    m = ESPCN_REQUANT_M_MIN;
    sh -= 1;
  }
  if (sh < ESPCN_REQUANT_SHIFT_MIN || sh > ESPCN_REQUANT_SHIFT_MAX) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "requantization multiplier %g is out of range: it needs shift %d, outside [%d, %d]",
        real, sh, ESPCN_REQUANT_SHIFT_MIN, ESPCN_REQUANT_SHIFT_MAX);
    return FALSE;
  }
  *multiplier = (gint32) m;
  *shift = sh;
  return TRUE;
}

double
espcn_requant_to_real (gint32 multiplier, int shift)
{
  return ldexp ((double) multiplier, -shift);
}
