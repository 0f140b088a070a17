/* Helpers shared by the LSQ, PACT and STE tests: random data, grid checks and the
 * export-reproduces-forward check. */
#pragma once

#include "quant/quantizer.h"
#include "util/rng.h"

#include <math.h>
#include <string.h>

static inline float
qt_gauss (EspcnRng *rng)
{
  const float u = espcn_rng_uniform_range (rng, 1e-7f, 1.0f);
  const float v = espcn_rng_uniform (rng);
  return sqrtf (-2.0f * logf (u)) * cosf (6.2831853f * v);
}

static inline EspcnQuantizer *
qt_new (const char *method, EspcnQuantRole role, int channels, size_t n, gint32 qmax)
{
  g_autoptr (GError) error = NULL;
  EspcnQuantizer *q = espcn_quantizer_new (method, role, channels, n, qmax, &error);
  g_assert_no_error (error);
  g_assert_nonnull (q);
  g_assert_cmpstr (q->ops->method, ==, method);
  return q;
}

/* Round half up in double: the grid's rule, computed independently of the library. */
static inline double
qt_round (double v)
{
  return floor (v + 0.5);
}

/* Every y in block c (n / channels contiguous values) is an integer multiple k of
 * scale[c] with lo <= k <= hi (to float precision), and the block uses at most
 * hi - lo + 1 distinct levels.  Returns the number of distinct levels seen in
 * the whole tensor (max over blocks). */
static inline int
qt_assert_on_grid (const float *y, size_t n, int channels, const float *scale, int lo, int hi)
{
  const size_t m = n / (size_t) channels;
  int most = 0;
  g_autofree gboolean *seen = g_new0 (gboolean, (size_t) (hi - lo + 1));
  for (int c = 0; c < channels; c++) {
    memset (seen, 0, sizeof (gboolean) * (size_t) (hi - lo + 1));
    int distinct = 0;
    for (size_t i = 0; i < m; i++) {
      const double k = (double) y[(size_t) c * m + i] / (double) scale[c];
      const double r = nearbyint (k);
      g_assert_cmpfloat (fabs (k - r), <, 1e-4);
      g_assert_cmpfloat (r, >=, (double) lo);
      g_assert_cmpfloat (r, <=, (double) hi);
      if (!seen[(int) r - lo]) {
        seen[(int) r - lo] = TRUE;
        distinct++;
      }
    }
    g_assert_cmpint (distinct, <=, hi - lo + 1);
    most = MAX (most, distinct);
  }
  return most;
}

/* export_weights reproduces forward bit for bit: y[i] == w_int[i] * scale[c],
 * |w_int| <= 127, w_int_max == 127.  `scale` receives the exported scales. */
static inline void
qt_assert_weight_export_matches (EspcnQuantizer *q, const float *w, const float *y, size_t n, float *scale)
{
  g_autoptr (GError) error = NULL;
  g_autofree gint32 *w_int = g_new (gint32, n);
  EspcnWeightExport ex = { .w_int = w_int, .scale = scale, .w_int_max = 0 };
  g_assert_true (q->ops->export_weights (q, w, n, &ex, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ex.w_int_max, ==, ESPCN_WEIGHT_QMAX_INT8);
  const size_t m = n / (size_t) q->channels;
  for (int c = 0; c < q->channels; c++) {
    g_assert_cmpfloat (scale[c], >, 0.0f);
    for (size_t i = 0; i < m; i++) {
      const size_t j = (size_t) c * m + i;
      g_assert_cmpint (ABS (w_int[j]), <=, ESPCN_WEIGHT_QMAX_INT8);
      const float back = (float) w_int[j] * scale[c];
      g_assert_true (memcmp (&back, &y[j], sizeof (float)) == 0 || back == y[j]);
    }
  }
}

/* export_act: the forward output is level * scale bit for bit, level in [0, qmax]. */
static inline void
qt_assert_act_export_matches (EspcnQuantizer *q, const float *y, size_t n, float *scale_out)
{
  g_autoptr (GError) error = NULL;
  float scale = 0.0f;
  gint32 qmax = 0;
  g_assert_true (q->ops->export_act (q, &scale, &qmax, &error));
  g_assert_no_error (error);
  g_assert_cmpint (qmax, ==, q->qmax);
  g_assert_cmpfloat (scale, >, 0.0f);
  for (size_t i = 0; i < n; i++) {
    const double k = nearbyint ((double) y[i] / (double) scale);
    g_assert_cmpfloat (k, >=, 0.0);
    g_assert_cmpfloat (k, <=, (double) qmax);
    g_assert_cmpfloat ((float) k * scale, ==, y[i]);
  }
  if (scale_out != NULL)
    *scale_out = scale;
}
