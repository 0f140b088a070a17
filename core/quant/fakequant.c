/* Shared fake-quantization helpers: export of levels, reductions, quantile. */
#include "quant/fakequant.h"

#include <gio/gio.h>
#include <math.h>

gboolean
espcn_fq_levels_per_channel (const char *what, const float *x, gint32 *q, size_t n, int channels,
                             const float *scale, float lo, float hi, GError **error)
{
  g_return_val_if_fail (channels >= 1 && n % (size_t) channels == 0, FALSE);

  const size_t m = n / (size_t) channels;
  for (int c = 0; c < channels; c++) {
    const float inv = 1.0f / scale[c];
    const float *xc = x + (size_t) c * m;
    gint32 *qc = q + (size_t) c * m;
    for (size_t i = 0; i < m; i++) {
      if (!isfinite (xc[i])) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: value %zu (channel %d) is not finite (%g)",
            what, (size_t) c * m + i, c, (double) xc[i]);
        return FALSE;
      }
      qc[i] = (gint32) espcn_fq_level (xc[i], inv, lo, hi);
    }
  }
  return TRUE;
}

/* Max reductions keep 8 independent lanes (max is exact in any order), which
 * GCC turns into maxps; NaN compares false and is ignored. */
#define LANES 8

float
espcn_fq_absmax (const float *x, size_t n)
{
  float lane[LANES] = { 0 };
  size_t i = 0;
  for (; i + LANES <= n; i += LANES)
    for (int j = 0; j < LANES; j++) {
      const float a = fabsf (x[i + j]);
      lane[j] = a > lane[j] ? a : lane[j];
    }
  float m = 0.0f;
  for (; i < n; i++) {
    const float a = fabsf (x[i]);
    m = a > m ? a : m;
  }
  for (int j = 0; j < LANES; j++)
    m = lane[j] > m ? lane[j] : m;
  return m;
}

float
espcn_fq_relu_max (const float *x, size_t n)
{
  float lane[LANES] = { 0 };
  size_t i = 0;
  for (; i + LANES <= n; i += LANES)
    for (int j = 0; j < LANES; j++)
      lane[j] = x[i + j] > lane[j] ? x[i + j] : lane[j];
  float m = 0.0f;
  for (; i < n; i++)
    m = x[i] > m ? x[i] : m;
  for (int j = 0; j < LANES; j++)
    m = lane[j] > m ? lane[j] : m;
  return m;
}

double
espcn_fq_sum (const float *x, size_t n)
{
  double lane[4] = { 0 };
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; j++)
      lane[j] += x[i + j];
  double s = 0.0;
  for (; i < n; i++)
    s += x[i];
  return s + ((lane[0] + lane[1]) + (lane[2] + lane[3]));
}

void
espcn_fq_absmax_scales (const float *w, size_t n, int channels, float qmax, float *scale)
{
  const size_t m = n / (size_t) channels;
  for (int c = 0; c < channels; c++) {
    const float a = espcn_fq_absmax (w + (size_t) c * m, m);
    scale[c] = (a > 0.0f && isfinite (a)) ? a / qmax : 1.0f / qmax;
  }
}

double
espcn_fq_abs_mean (const float *x, size_t n, gboolean relu)
{
  double sum = 0.0;
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite (x[i]))
      continue;
    count++;
    sum += relu ? (x[i] > 0.0f ? x[i] : 0.0) : fabs ((double) x[i]);
  }
  return count > 0 ? sum / (double) count : 0.0;
}

/* Hoare-partition quickselect with a median-of-three pivot: the k-th smallest of
 * v[0..n).  Equal values (many zeros after ReLU) split evenly, so it stays linear. */
static float
select_kth (float *v, size_t n, size_t k)
{
  ptrdiff_t lo = 0, hi = (ptrdiff_t) n - 1;
  const ptrdiff_t kk = (ptrdiff_t) k;
  while (lo < hi) {
    const ptrdiff_t mid = lo + (hi - lo) / 2;
    const float a = v[lo], b = v[mid], c = v[hi];
    const float pivot = (a < b) ? ((b < c) ? b : (a < c ? c : a)) : ((a < c) ? a : (b < c ? c : b));
    ptrdiff_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot)
        i++;
      while (v[j] > pivot)
        j--;
      if (i <= j) {
        const float t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        j--;
      }
    }
    /* v[lo..j] <= pivot <= v[i..hi], and everything strictly between is the pivot */
    if (kk <= j)
      hi = j;
    else if (kk >= i)
      lo = i;
    else
      return v[kk];
  }
  return v[kk];
}

float
espcn_fq_relu_quantile (const float *x, size_t n, double p)
{
  g_autofree float *v = g_new (float, n > 0 ? n : 1);
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite (x[i]))
      v[m++] = x[i] > 0.0f ? x[i] : 0.0f;
  if (m == 0)
    return 0.0f;
  p = p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
  const size_t k = (size_t) floor (p * (double) (m - 1));
  return select_kth (v, m, k);
}

gboolean
espcn_fq_check_setup (const char *method, EspcnQuantizer *q, size_t n, GError **error)
{
  if (q->role == ESPCN_QUANT_WEIGHT) {
    if (n == 0 || n % (size_t) q->channels != 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "%s: weight tensor of %zu values does not split into %d output channels", method, n, q->channels);
      return FALSE;
    }
    q->qmax = ESPCN_WEIGHT_QMAX_INT8;
    return TRUE;
  }
  if (q->role != ESPCN_QUANT_ACT) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: unknown quantizer role %d", method,
        (int) q->role);
    return FALSE;
  }
  if (q->channels != 1) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s: activation quantizers are per tensor (channels must be 1, got %d)", method, q->channels);
    return FALSE;
  }
  if (q->qmax < 1 || q->qmax > ESPCN_ACT_QMAX_WIDE) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s: activation qmax %d is outside [1, %d]", method, (int) q->qmax, ESPCN_ACT_QMAX_WIDE);
    return FALSE;
  }
  return TRUE;
}
