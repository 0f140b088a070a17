/* DoReFa quantizers: the odd 8-bit weight grid through tanh and the layer max,
 * scaled back by the layer's max |tanh(w)| so the weights keep their magnitude,
 * the gradient through tanh and the max, the [0, 1] activation grid, export. */
#include "quant/quantizer.h"
#include "util/rng.h"

#include <math.h>
#include <string.h>

static float
gauss (EspcnRng *rng)
{
  float u = espcn_rng_uniform_range (rng, 1e-7f, 1.0f);
  float v = espcn_rng_uniform (rng);
  return sqrtf (-2.0f * logf (u)) * cosf (6.2831853f * v);
}

static EspcnQuantizer *
new_weight_q (int channels, size_t n)
{
  g_autoptr (GError) error = NULL;
  EspcnQuantizer *q = espcn_quantizer_new ("dorefa", ESPCN_QUANT_WEIGHT, channels, n, ESPCN_WEIGHT_QMAX_INT8, &error);
  g_assert_no_error (error);
  g_assert_nonnull (q);
  return q;
}

static double
max_tanh (const float *w, size_t n)
{
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    m = fmax (m, fabs (tanh ((double) w[i])));
  return m;
}

static void
test_dorefa_weights_on_odd_grid_within_half_step (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 11);
  const size_t n = 4000;
  g_autofree float *w = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    w[i] = 0.4f * gauss (&rng);
  g_autoptr (EspcnQuantizer) q = new_weight_q (8, n);
  q->ops->init (q, w, n);
  q->ops->forward (q, w, y, n);
  double m = max_tanh (w, n);
  int n_max = 0;
  for (size_t i = 0; i < n; i++) {
    /* y = M w_q: w_q an odd multiple of 1/255 in [-1, 1] */
    double k = (double) y[i] / m * 255.0;
    double r = nearbyint (k);
    g_assert_cmpfloat (fabs (k - r), <, 1e-3);
    g_assert_cmpint (((long) r) & 1, ==, 1);   /* odd (also for negatives in two's complement) */
    g_assert_cmpfloat (fabs (r), <=, 255.0);
    /* w_q = 2 quantize(w_t) - 1 is within one level (1/255) of 2 w_t - 1 = tanh/M,
     * so y is within M/255 of tanh(w) */
    double exact = tanh ((double) w[i]);
    g_assert_cmpfloat (fabs ((double) y[i] - exact), <=, m / 255.0 * (1 + 1e-5));
    if (fabs (fabs (tanh ((double) w[i])) - m) < 1e-12) {
      g_assert_cmpfloat_with_epsilon (fabs (y[i]), m, 1e-6);
      n_max++;
    }
  }
  g_assert_cmpint (n_max, >=, 1);
}

static void
test_dorefa_weight_gradient_through_tanh_and_max (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 12);
  const size_t n = 40;
  float w[40], dy[40], dx[40];
  for (size_t i = 0; i < n; i++) {
    w[i] = 0.6f * gauss (&rng);
    dy[i] = gauss (&rng);
  }
  g_autoptr (EspcnQuantizer) q = new_weight_q (4, n);
  q->ops->init (q, w, n);
  q->ops->backward (q, w, dy, dx, n);
  /* straight through quantize_k the function is M w_q = M tanh(w) / M with
   * M = max|tanh(w)|: central differences of sum dy_i M w_q_i, in double, for
   * every weight (including the one that sets the max, where M moves too) */
  for (size_t j = 0; j < n; j++) {
    const double h = 1e-4;
    double f[2];
    for (int sgn = 0; sgn < 2; sgn++) {
      double wj = (double) w[j] + (sgn ? h : -h);
      double m = 0.0;
      for (size_t i = 0; i < n; i++)
        m = fmax (m, fabs (tanh (i == j ? wj : (double) w[i])));
      double s = 0.0;
      for (size_t i = 0; i < n; i++)
        s += dy[i] * m * (tanh (i == j ? wj : (double) w[i]) / m);
      f[sgn] = s;
    }
    double fd = (f[1] - f[0]) / (2 * h);
    g_assert_cmpfloat_with_epsilon (dx[j], fd, 1e-3 * (1.0 + fabs (fd)));
  }
}

static void
test_dorefa_weight_export_reproduces_forward (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 13);
  const int channels = 6;
  const size_t n = 6 * 75;
  g_autofree float *w = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  g_autofree gint32 *wi = g_new (gint32, n);
  float scale[6];
  for (size_t i = 0; i < n; i++)
    w[i] = 0.1f * gauss (&rng);
  g_autoptr (EspcnQuantizer) q = new_weight_q (channels, n);
  q->training = FALSE;
  q->ops->forward (q, w, y, n);
  EspcnWeightExport ex = { wi, scale, 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (q->ops->export_weights (q, w, n, &ex, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ex.w_int_max, ==, 255);
  /* one scale for the layer: max|tanh(w)| / 255 */
  double m = max_tanh (w, n);
  for (int c = 0; c < channels; c++) {
    g_assert_cmpfloat (scale[c], ==, scale[0]);
    g_assert_cmpfloat_with_epsilon (scale[c], m / 255.0, 1e-6 * m / 255.0);
  }
  for (size_t i = 0; i < n; i++) {
    g_assert_cmpint (ABS (wi[i]), <=, 255);
    g_assert_cmpint (ABS (wi[i]) % 2, ==, 1);
    g_assert_cmpfloat ((float) wi[i] * scale[i / 75], ==, y[i]);
  }
  /* a weight count that does not split into channels is refused */
  g_assert_false (q->ops->export_weights (q, w, n - 1, &ex, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* ESPCN has no batch norm to absorb a weight scale: weights of a trained layer's
 * size (a few hundredths) must come out at their own size, within one level. */
static void
test_dorefa_weights_keep_layer_magnitude (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 14);
  const size_t n = 32 * 576;
  g_autofree float *w = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  double mw = 0.0, sw = 0.0, sy = 0.0;
  for (size_t i = 0; i < n; i++) {
    w[i] = 0.02f * gauss (&rng);
    mw = fmax (mw, fabs (w[i]));
  }
  g_autoptr (EspcnQuantizer) q = new_weight_q (32, n);
  q->ops->forward (q, w, y, n);
  for (size_t i = 0; i < n; i++) {
    /* |tanh(w) - w| <= |w|^3 / 3, and one level is max|tanh| / 255 */
    g_assert_cmpfloat (fabs ((double) y[i] - w[i]), <=, mw / 255.0 + mw * mw * mw / 3.0 + 1e-7);
    sw += fabs (w[i]);
    sy += fabs (y[i]);
  }
  g_assert_cmpfloat (fabs (sy / sw - 1.0), <, 0.01);
}

static void
test_dorefa_activations_clip_to_unit_and_round (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnQuantizer) q = espcn_quantizer_new ("dorefa", ESPCN_QUANT_ACT, 1, 0, ESPCN_ACT_QMAX_WIDE, &error);
  g_assert_no_error (error);
  const size_t n = 20001;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  g_autofree float *dy = g_new (float, n);
  g_autofree float *dx = g_new (float, n);
  for (size_t i = 0; i < n; i++) {
    x[i] = -0.5f + 2.0f * (float) i / (float) (n - 1);
    dy[i] = 1.0f + (float) (i % 7);
  }
  q->ops->init (q, x, n);
  q->ops->forward (q, x, y, n);
  q->ops->backward (q, x, dy, dx, n);
  float scale;
  gint32 qmax;
  g_assert_true (q->ops->export_act (q, &scale, &qmax, &error));
  g_assert_cmpint (qmax, ==, 255);
  g_assert_cmpfloat (scale, ==, 1.0f / 255.0f);
  for (size_t i = 0; i < n; i++) {
    float c = fminf (fmaxf (x[i], 0.0f), 1.0f);
    float lvl = floorf (255.0f * c + 0.5f);
    g_assert_cmpfloat (y[i], ==, lvl * scale);
    g_assert_cmpfloat (dx[i], ==, (x[i] >= 0.0f && x[i] <= 1.0f) ? dy[i] : 0.0f);
  }
  g_assert_cmpint (q->n_params, ==, 0);
}

/* Switching DoReFa on over float weights (an interpolator's identity rows: a few
 * weights above 1, the rest near 0 with one sign) keeps the layer: every
 * quantized weight within one step of the float one (1.5 for those under half a
 * step, whose sign may flip), weights above 1 included, and the near-0 weights'
 * errors cancel instead of adding up. */
static void
test_dorefa_adopting_float_weights_keeps_the_layer (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 5);
  const size_t n = 576 * 4;
  g_autofree float *v = g_new (float, n);
  g_autofree float *w = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    v[i] = (i % 5 == 0) ? 0.05f * gauss (&rng) : 1e-6f;
  v[4] = 1.22f;
  v[600] = -1.11f;
  memcpy (w, v, n * sizeof *w);
  g_autoptr (EspcnQuantizer) q = new_weight_q (4, n);
  q->ops->adopt (q, w, n);
  q->ops->init (q, w, n);
  q->ops->forward (q, w, y, n);
  const double step = 1.22 / 255.0 * 1.001 + 1e-5;
  double err_near_zero = 0.0, plain_near_zero = 0.0;
  for (size_t i = 0; i < n; i++) {
    g_assert_cmpfloat (fabs ((double) y[i] - v[i]), <=, fabs (v[i]) < 0.5 * step ? 1.5 * step : step);
    if (fabs (v[i]) < 1e-5) {
      err_near_zero += (double) y[i] - v[i];
      plain_near_zero += step;  /* what every one of them costs without adoption */
    }
  }
  g_assert_cmpfloat (fabs ((double) y[4] - 1.22), <=, step);
  g_assert_cmpfloat (fabs ((double) y[600] + 1.11), <=, step);
  /* 1,840 near-0 weights: without adoption each is +1 step, together 7.5 units. */
  g_assert_cmpfloat (plain_near_zero, >, 5.0);
  g_assert_cmpfloat (fabs (err_near_zero), <=, 2.0 * step);

  /* The export writes what forward computes, with the adoption gain in the scale. */
  g_autofree gint32 *w_int = g_new (gint32, n);
  float scale[4];
  EspcnWeightExport out = { w_int, scale, 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (q->ops->export_weights (q, w, n, &out, &error));
  g_assert_no_error (error);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (fabs ((double) w_int[i] * scale[i / 576] - y[i]), <=, 1e-6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/quant/dorefa/weights-on-odd-grid-within-half-step", test_dorefa_weights_on_odd_grid_within_half_step);
  g_test_add_func ("/quant/dorefa/weight-gradient-through-tanh-and-max", test_dorefa_weight_gradient_through_tanh_and_max);
  g_test_add_func ("/quant/dorefa/weight-export-reproduces-forward", test_dorefa_weight_export_reproduces_forward);
  g_test_add_func ("/quant/dorefa/weights-keep-layer-magnitude", test_dorefa_weights_keep_layer_magnitude);
  g_test_add_func ("/quant/dorefa/activations-clip-to-unit-and-round", test_dorefa_activations_clip_to_unit_and_round);
  g_test_add_func ("/quant/dorefa/adopting-float-weights-keeps-the-layer", test_dorefa_adopting_float_weights_keeps_the_layer);
  return g_test_run ();
}
