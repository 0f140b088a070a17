#include "quant/absmax-weight.h"
#include "quant/fakequant.h"

#include <gio/gio.h>

/* q->priv: the per-channel scales of the last forward. */

void
espcn_absmax_weight_init (EspcnQuantizer *q, const float *x, size_t n)
{
  (void) q;   /* max-based scales are recomputed every forward */
  (void) x;
  (void) n;
}

void
espcn_absmax_weight_forward (EspcnQuantizer *q, const float *x, float *y, size_t n)
{
  g_return_if_fail (n % (size_t) q->channels == 0);
  float *scale = q->priv;
  const float qmax = ESPCN_WEIGHT_QMAX_INT8;
  espcn_fq_absmax_scales (x, n, q->channels, qmax, scale);
  espcn_fq_uniform_per_channel (x, y, n, q->channels, scale, -qmax, qmax);
}

void
espcn_absmax_weight_backward (EspcnQuantizer *q, const float *x, const float *dy, float *dx, size_t n)
{
  (void) q;
  (void) x;
  for (size_t i = 0; i < n; i++)
    dx[i] = dy[i];
}

gboolean
espcn_absmax_weight_export (EspcnQuantizer *q, const float *w, size_t n, EspcnWeightExport *out, GError **error)
{
  const char *method = q->ops->method;
  const int channels = q->channels;
  const float qmax = ESPCN_WEIGHT_QMAX_INT8;
  if (channels < 1 || n == 0 || n % (size_t) channels != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s: cannot export %zu weights as %d output channels", method, n, channels);
    return FALSE;
  }
  espcn_fq_absmax_scales (w, n, channels, qmax, out->scale);
  out->w_int_max = ESPCN_WEIGHT_QMAX_INT8;
  g_autofree char *what = g_strdup_printf ("%s weight export", method);
  return espcn_fq_levels_per_channel (what, w, out->w_int, n, channels, out->scale, -qmax, qmax, error);
}

void
espcn_absmax_weight_free_state (EspcnQuantizer *q)
{
  g_clear_pointer (&q->priv, g_free);
}

void
espcn_absmax_weight_setup (EspcnQuantizer *q, const EspcnQuantizerOps *ops)
{
  q->ops = ops;
  q->priv = g_new0 (float, q->channels);
}
