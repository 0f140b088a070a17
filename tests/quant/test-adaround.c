/* AdaRound: scale and V initialisation, soft rounding in training and hard
 * rounding outside, the V gradient with h's clipping, the rounding regulariser
 * and its beta schedule, the fixed roundings of the final phase, export, and the
 * activation calibration. */
#include "quant/quantizer.h"
#include "util/rng.h"

#include <math.h>
#include <string.h>

#define QMAX 127

static float
gauss (EspcnRng *rng)
{
  float u = espcn_rng_uniform_range (rng, 1e-7f, 1.0f);
  float v = espcn_rng_uniform (rng);
  return sqrtf (-2.0f * logf (u)) * cosf (6.2831853f * v);
}

static double
h_of (double v)
{
  double h = 1.2 / (1.0 + exp (-v)) - 0.1;
  return fmin (fmax (h, 0.0), 1.0);
}

static EspcnQuantizer *
new_weight_q (int channels, size_t n)
{
  g_autoptr (GError) error = NULL;
  EspcnQuantizer *q = espcn_quantizer_new ("adaround", ESPCN_QUANT_WEIGHT, channels, n, QMAX, &error);
  g_assert_no_error (error);
  g_assert_nonnull (q);
  return q;
}

/* Random weights (sigma 0.1) and output gradients, a quantizer initialised on the
 * weights, then V uniform in [-v_range, v_range]. */
static EspcnQuantizer *
new_random_rounding_q (EspcnRng *rng, int channels, float *w, float *dy, size_t n, float v_range)
{
  for (size_t i = 0; i < n; i++) {
    w[i] = 0.1f * gauss (rng);
    dy[i] = gauss (rng);
  }
  EspcnQuantizer *q = new_weight_q (channels, n);
  q->ops->init (q, w, n);
  for (size_t i = 0; i < n; i++)
    q->params[i] = espcn_rng_uniform_range (rng, -v_range, v_range);
  return q;
}

static double
rtn_mse (const float *w, size_t k, double s)
{
  double e = 0.0;
  for (size_t i = 0; i < k; i++) {
    double r = fmin (fmax (floor (w[i] / s + 0.5), -QMAX), QMAX);
    e += (w[i] - r * s) * (w[i] - r * s);
  }
  return e;
}

static void
test_adaround_init_scale_and_h_equals_fraction (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 31);
  const int channels = 4;
  const size_t k = 300, n = 4 * 300;
  g_autofree float *w = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    w[i] = 0.05f * gauss (&rng) * (1.0f + (float) (i / k));
  g_autoptr (EspcnQuantizer) q = new_weight_q (channels, n);
  q->ops->init (q, w, n);
  int n_inner = 0;
  for (int c = 0; c < channels; c++) {
    double s = q->state[2 + c];
    double m = 0.0;
    for (size_t i = 0; i < k; i++)
      m = fmax (m, fabs (w[c * k + i]));
    g_assert_cmpfloat (s, <=, m / QMAX * 1.0001);
    g_assert_cmpfloat (s, >=, 0.3 * m / QMAX * 0.9999);
    g_assert_cmpfloat (rtn_mse (w + c * k, k, s), <=, rtn_mse (w + c * k, k, m / QMAX) * (1 + 1e-6));
    for (size_t i = 0; i < k; i++) {
      float r = w[c * k + i] / (float) s; /* in float, as the quantizer divides */
      double f = r - floorf (r);
      double fc = fmin (fmax (f, 1e-3), 1.0 - 1e-3);
      g_assert_cmpfloat_with_epsilon (h_of (q->params[c * k + i]), fc, 2e-5);
      n_inner += f > 1e-3 && f < 1.0 - 1e-3;
    }
  }
  g_assert_cmpint (n_inner, >, (int) n * 9 / 10);
}

static void
test_adaround_soft_in_training_hard_outside (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 32);
  const int channels = 3;
  const size_t k = 50, n = 150;
  float w[150], y[150], yh[150];
  for (size_t i = 0; i < n; i++)
    w[i] = 0.1f * gauss (&rng);
  g_autoptr (EspcnQuantizer) q = new_weight_q (channels, n);
  q->ops->init (q, w, n);
  for (size_t i = 0; i < n; i++)
    q->params[i] = espcn_rng_uniform_range (&rng, -4.0f, 4.0f);
  q->training = TRUE;
  q->ops->forward (q, w, y, n);
  q->training = FALSE;
  q->ops->forward (q, w, yh, n);
  int n_soft = 0;
  for (size_t i = 0; i < n; i++) {
    double s = q->state[2 + i / k];
    double base = floor (w[i] / s);
    double soft = fmin (fmax (base + h_of (q->params[i]), -QMAX), QMAX);
    g_assert_cmpfloat_with_epsilon (y[i], s * soft, 1e-5 * s);
    double hard = fmin (fmax (base + (q->params[i] >= 0.0f ? 1.0 : 0.0), -QMAX), QMAX);
    g_assert_cmpfloat (yh[i], ==, (float) hard * (float) s);
    n_soft += fabs (soft - nearbyint (soft)) > 1e-3;
  }
  g_assert_cmpint (n_soft, >, 10);

  /* right after init the hard rounding is round-to-nearest (h(V0) = fraction) */
  q->ops->init (q, w, n);
  q->ops->forward (q, w, yh, n);
  for (size_t i = 0; i < n; i++) {
    double s = q->state[2 + i / k];
    double r = w[i] / s, f = r - floor (r);
    if (fabs (f - 0.5) > 1e-3)
      g_assert_cmpfloat (yh[i], ==, (float) fmin (fmax (floor (r + 0.5), -QMAX), QMAX) * (float) s);
  }
}

/* sum_i dy_i y_i(V) of the training forward, in double */
static double
soft_objective (const EspcnQuantizer *q, const float *w, const double *v, const float *dy, size_t n, size_t k)
{
  double f = 0.0;
  for (size_t i = 0; i < n; i++) {
    double s = q->state[2 + i / k];
    double z = fmin (fmax (floor (w[i] / s) + h_of (v[i]), -QMAX), QMAX);
    f += dy[i] * s * z;
  }
  return f;
}

static void
test_adaround_v_gradient_matches_finite_differences (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 33);
  const int channels = 2;
  const size_t k = 60, n = 120;
  float w[120], dy[120], dx[120];
  double v[120];
  /* V over [-4, 4]: h clips below about -2.4 and above 2.4 */
  g_autoptr (EspcnQuantizer) q = new_random_rounding_q (&rng, channels, w, dy, n, 4.0f);
  /* two weights far outside the clip range: no gradient at all */
  w[3] = 200.0f * q->state[2];
  w[70] = -200.0f * q->state[3];
  for (size_t i = 0; i < n; i++)
    v[i] = q->params[i];
  q->ops->backward (q, w, dy, dx, n);
  int n_clipped_h = 0;
  for (size_t i = 0; i < n; i++) {
    if (fabs (fabs (v[i]) - 2.3979) < 0.01)
      continue; /* too close to h's kink for a central difference */
    double vi = v[i], hstep = 1e-4;
    v[i] = vi + hstep;
    double fp = soft_objective (q, w, v, dy, n, k);
    v[i] = vi - hstep;
    double fm = soft_objective (q, w, v, dy, n, k);
    v[i] = vi;
    double fd = (fp - fm) / (2 * hstep);
    g_assert_cmpfloat_with_epsilon (q->grads[i], fd, 1e-3 * (1e-3 + fabs (fd)));
    n_clipped_h += fabs (vi) > 2.4;
  }
  g_assert_cmpint (n_clipped_h, >, 5);
  for (size_t i = 0; i < n; i++) {
    if (i == 3 || i == 70) {
      g_assert_cmpfloat (dx[i], ==, 0.0f);
      g_assert_cmpfloat (q->grads[i], ==, 0.0f);
    } else {
      /* straight through floor inside the clip range of the soft value */
      float sc = q->state[2 + i / k];
      double z = floorf (w[i] / sc) + h_of (v[i]);
      g_assert_cmpfloat (dx[i], ==, (z >= -QMAX && z <= QMAX) ? dy[i] : 0.0f);
    }
  }
}

static double
reg_value (const double *v, size_t n, double beta)
{
  double f = 0.0;
  for (size_t i = 0; i < n; i++)
    f += 1.0 - pow (fabs (2.0 * h_of (v[i]) - 1.0), beta);
  return 0.01 / n * f;
}

static void
test_adaround_regulariser_value_and_gradient (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 34);
  const size_t n = 80;
  float w[80];
  double v[80];
  for (size_t i = 0; i < n; i++)
    w[i] = 0.1f * gauss (&rng);
  g_autoptr (EspcnQuantizer) q = new_weight_q (1, n);
  q->ops->init (q, w, n);
  for (size_t i = 0; i < n; i++) {
    q->params[i] = espcn_rng_uniform_range (&rng, -3.0f, 3.0f);
    v[i] = q->params[i];
  }
  /* warm start: no regulariser, no gradient */
  q->ops->step (q, 0.1f);
  g_assert_cmpfloat (q->ops->regularizer (q, w, NULL, n), ==, 0.0f);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (q->grads[i], ==, 0.0f);

  q->ops->step (q, 0.45f); /* beta = 20 - 18 (0.45 - 0.2) / 0.5 = 11 */
  const double beta = 11.0;
  float f = q->ops->regularizer (q, w, NULL, n);
  g_assert_cmpfloat_with_epsilon (f, reg_value (v, n, beta), 1e-6 * (1e-6 + reg_value (v, n, beta)));
  g_assert_cmpfloat (f, >, 0.0f);
  for (size_t i = 0; i < n; i++) {
    if (fabs (fabs (v[i]) - 2.3979) < 0.01)
      continue;
    double vi = v[i], hs = 1e-4;
    v[i] = vi + hs;
    double fp = reg_value (v, n, beta);
    v[i] = vi - hs;
    double fm = reg_value (v, n, beta);
    v[i] = vi;
    double fd = (fp - fm) / (2 * hs);
    g_assert_cmpfloat_with_epsilon (q->grads[i], fd, 1e-3 * fabs (fd) + 1e-9);
  }
}

static void
test_adaround_beta_anneals_after_warm_start (void)
{
  /* one weight with h(V) = 3/4: f = 0.01 (1 - (1/2)^beta) reveals beta */
  float w[1] = { 0.3f };
  g_autoptr (EspcnQuantizer) q = new_weight_q (1, 1);
  q->ops->init (q, w, 1);
  q->params[0] = (float) log ((0.85 / 1.2) / (1.0 - 0.85 / 1.2)); /* sigmoid = 0.85/1.2, h = 0.75 */
  const struct {
    float progress;
    double beta; /* 0: regulariser off */
  } cases[] = { { 0.0f, 0 }, { 0.19f, 0 }, { 0.2f, 20 }, { 0.325f, 15.5 }, { 0.45f, 11 }, { 0.6f, 5.6 } };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
    q->ops->step (q, cases[c].progress);
    float f = q->ops->regularizer (q, w, NULL, 1);
    double want = cases[c].beta == 0 ? 0.0 : 0.01 * (1.0 - pow (0.5, cases[c].beta));
    g_assert_cmpfloat_with_epsilon (f, want, 1e-6 * want + 1e-12);
  }
}

static void
test_adaround_roundings_fixed_in_final_phase (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 38);
  const int channels = 3;
  const size_t n = 120;
  float w[120], y[120], yh[120], dy[120], dx[120];
  g_autoptr (EspcnQuantizer) q = new_random_rounding_q (&rng, channels, w, dy, n, 3.0f);

  /* before 70% the rounding is still soft in training */
  q->ops->step (q, 0.69f);
  q->training = TRUE;
  q->ops->forward (q, w, y, n);
  q->training = FALSE;
  q->ops->forward (q, w, yh, n);
  int n_diff = 0;
  for (size_t i = 0; i < n; i++)
    n_diff += y[i] != yh[i];
  g_assert_cmpint (n_diff, >, (int) n / 2);

  /* from 70% on every rounding keeps its hard value, and training runs exactly it */
  q->ops->step (q, 0.7f);
  q->training = TRUE;
  q->ops->forward (q, w, y, n);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (y[i], ==, yh[i]);
  memset (q->grads, 0, sizeof (float) * n);
  q->ops->backward (q, w, dy, dx, n);
  g_assert_cmpfloat (q->ops->regularizer (q, w, NULL, n), ==, 0.0f);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (q->grads[i], ==, 0.0f); /* no gradient can move V back */
  q->ops->step (q, 1.0f);
  q->ops->forward (q, w, y, n);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (y[i], ==, yh[i]);
}

static void
test_adaround_export_reproduces_eval_forward (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 35);
  const int channels = 5;
  const size_t k = 45, n = 225;
  float w[225], y[225], scale[5];
  gint32 wi[225];
  for (size_t i = 0; i < n; i++)
    w[i] = 0.07f * gauss (&rng);
  g_autoptr (EspcnQuantizer) q = new_weight_q (channels, n);
  EspcnWeightExport ex = { wi, scale, 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (q->ops->export_weights (q, w, n, &ex, &error)); /* never initialised */
  g_clear_error (&error);
  q->ops->init (q, w, n);
  for (size_t i = 0; i < n; i++)
    q->params[i] += espcn_rng_uniform_range (&rng, -1.0f, 1.0f);
  q->training = FALSE;
  q->ops->forward (q, w, y, n);
  g_assert_true (q->ops->export_weights (q, w, n, &ex, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ex.w_int_max, ==, QMAX);
  for (size_t i = 0; i < n; i++) {
    g_assert_cmpint (ABS (wi[i]), <=, QMAX);
    g_assert_cmpfloat ((float) wi[i] * scale[i / k], ==, y[i]);
  }
  g_assert_false (q->ops->export_weights (q, w, n - 1, &ex, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_adaround_rejects_bad_setup (void)
{
  g_autoptr (GError) error = NULL;
  EspcnQuantizer *q = espcn_quantizer_new ("adaround", ESPCN_QUANT_WEIGHT, 4, 10, QMAX, &error);
  g_assert_null (q);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  q = espcn_quantizer_new ("adaround", ESPCN_QUANT_WEIGHT, 4, 16, ESPCN_ACT_QMAX_WIDE, &error);
  g_assert_null (q);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static double
act_mse (const float *x, size_t n, double s)
{
  double e = 0.0;
  for (size_t i = 0; i < n; i++) {
    double r = fmax (x[i], 0.0);
    double l = fmin (fmax (floor (r / s + 0.5), 0.0), QMAX);
    e += (r - l * s) * (r - l * s);
  }
  return e / n;
}

static void
test_adaround_activations_calibrate_then_quantize_in_training (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 36);
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnQuantizer) q = espcn_quantizer_new ("adaround", ESPCN_QUANT_ACT, 1, 0, ESPCN_ACT_QMAX_FAST, &error);
  g_assert_no_error (error);
  const size_t nb = 50000, batches = 4, n = nb * batches;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  float mx = 0.0f;
  /* heavy-tailed ReLU inputs; the batches' maxima grow, so the histogram widens */
  for (size_t b = 0; b < batches; b++)
    for (size_t i = 0; i < nb; i++) {
      float u = espcn_rng_uniform_range (&rng, 1e-7f, 1.0f);
      float v = gauss (&rng) < 0.0f ? -0.5f * u : -logf (u) * 0.2f * (1.0f + (float) b);
      x[b * nb + i] = v;
      mx = fmaxf (mx, v);
    }

  /* before calibration: a plain ReLU, in training and outside */
  float scale;
  gint32 qmax;
  g_assert_false (q->ops->export_act (q, &scale, &qmax, &error));
  g_clear_error (&error);
  g_assert_false (q->ops->calibrate_finish (q, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);
  for (int training = 0; training < 2; training++) {
    q->training = training;
    q->ops->forward (q, x, y, nb);
    for (size_t i = 0; i < nb; i++)
      g_assert_cmpfloat (y[i], ==, fmaxf (x[i], 0.0f));
  }

  for (size_t b = 0; b < batches; b++)
    q->ops->observe (q, x + b * nb, nb);
  g_assert_true (q->ops->calibrate_finish (q, &error));
  g_assert_no_error (error);
  g_assert_true (q->ops->export_act (q, &scale, &qmax, &error));
  g_assert_cmpint (qmax, ==, QMAX);
  double e_cal = act_mse (x, n, scale), e_max = act_mse (x, n, mx / QMAX);
  g_test_message ("calibrated clip %.4f (max %.4f): MSE %.3g vs %.3g max-based", scale * QMAX, mx, e_cal, e_max);
  g_assert_cmpfloat (e_cal, <, 0.8 * e_max);
  g_assert_cmpfloat (scale, <, mx / QMAX);

  /* quantizes outside training, on [0, qmax] steps of the exported scale */
  q->training = FALSE;
  q->ops->forward (q, x, y, n);
  int n_clipped = 0;
  for (size_t i = 0; i < n; i++) {
    double l = nearbyint (y[i] / scale);
    g_assert_cmpfloat ((float) l * scale, ==, y[i]);
    g_assert_cmpfloat (l, >=, 0.0);
    g_assert_cmpfloat (l, <=, QMAX);
    double r = fmin (fmax (x[i], 0.0f), scale * QMAX);
    g_assert_cmpfloat (fabs (y[i] - r), <=, 0.5 * scale * 1.001);
    n_clipped += l == QMAX;
  }
  g_assert_cmpint (n_clipped, >, 0);
  /* the same grid in training, so the rounding is learned on quantized inputs;
   * the gradient passes inside (0, clip) only */
  g_autofree float *y_eval = g_memdup2 (y, nb * sizeof (float));
  g_autofree float *dy = g_new (float, nb);
  g_autofree float *dx = g_new (float, nb);
  q->training = TRUE;
  q->ops->forward (q, x, y, nb);
  for (size_t i = 0; i < nb; i++)
    dy[i] = 1.0f + (float) (i % 7);
  q->ops->backward (q, x, dy, dx, nb);
  int n_pass = 0, n_stop = 0;
  for (size_t i = 0; i < nb; i++) {
    g_assert_cmpfloat (y[i], ==, y_eval[i]);
    gboolean inside = x[i] > 0.0f && x[i] < scale * QMAX;
    g_assert_cmpfloat (dx[i], ==, inside ? dy[i] : 0.0f);
    n_pass += inside;
    n_stop += !inside;
  }
  g_assert_cmpint (n_pass, >, 0);
  g_assert_cmpint (n_stop, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/quant/adaround/init-scale-and-h-equals-fraction", test_adaround_init_scale_and_h_equals_fraction);
  g_test_add_func ("/quant/adaround/soft-in-training-hard-outside", test_adaround_soft_in_training_hard_outside);
  g_test_add_func ("/quant/adaround/v-gradient-matches-finite-differences",
      test_adaround_v_gradient_matches_finite_differences);
  g_test_add_func ("/quant/adaround/regulariser-value-and-gradient", test_adaround_regulariser_value_and_gradient);
  g_test_add_func ("/quant/adaround/beta-anneals-after-warm-start", test_adaround_beta_anneals_after_warm_start);
  g_test_add_func ("/quant/adaround/roundings-fixed-in-final-phase", test_adaround_roundings_fixed_in_final_phase);
  g_test_add_func ("/quant/adaround/export-reproduces-eval-forward", test_adaround_export_reproduces_eval_forward);
  g_test_add_func ("/quant/adaround/rejects-bad-setup", test_adaround_rejects_bad_setup);
  g_test_add_func ("/quant/adaround/activations-calibrate-then-quantize-in-training",
      test_adaround_activations_calibrate_then_quantize_in_training);
  return g_test_run ();
}
