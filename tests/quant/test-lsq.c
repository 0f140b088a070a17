/* LSQ quantizers: the paper's initialisation, grid, gradients (step size with the
 * gradient scale g), positivity of the step, export, setup errors. */
#include "quant-test-common.h"

#define WQ ESPCN_WEIGHT_QMAX_INT8
#define AQ ESPCN_ACT_QMAX_FAST

/* Random values whose v / s is at least `margin` away from a rounding tie and
 * from the clip bounds, in double, so the float and double paths agree. */
static void
fill_away_from_ties (EspcnRng *rng, float *x, size_t n, float sigma, const float *s, int channels, double margin)
{
  const size_t m = n / (size_t) channels;
  for (int c = 0; c < channels; c++)
    for (size_t i = 0; i < m; i++) {
      for (;;) {
        const float v = sigma * qt_gauss (rng);
        const double t = (double) v / (double) s[c];
        const double frac = t - floor (t);
        if (fabs (frac - 0.5) < margin || frac < margin || frac > 1.0 - margin)
          continue;
        x[(size_t) c * m + i] = v;
        break;
      }
    }
}

static void
test_lsq_unknown_method_is_a_clear_error (void)
{
  g_autoptr (GError) error = NULL;
  EspcnQuantizer *q = espcn_quantizer_new ("foo", ESPCN_QUANT_WEIGHT, 4, 16, WQ, &error);
  g_assert_null (q);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "'foo'"));
  g_assert_nonnull (strstr (error->message, "lsq"));
}

static void
test_lsq_bad_setup_is_refused (void)
{
  g_autoptr (GError) error = NULL;
  /* 10 weights cannot split into 4 output channels */
  g_assert_null (espcn_quantizer_new ("lsq", ESPCN_QUANT_WEIGHT, 4, 10, WQ, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (espcn_quantizer_new ("lsq", ESPCN_QUANT_ACT, 3, 0, AQ, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (espcn_quantizer_new ("lsq", ESPCN_QUANT_ACT, 1, 0, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_lsq_weight_init_is_two_mean_abs_over_sqrt_qp (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 1);
  const int C = 6;
  const size_t m = 75, n = C * m;
  g_autofree float *w = g_new (float, n);
  for (int c = 0; c < C; c++)
    for (size_t i = 0; i < m; i++)
      w[c * m + i] = 0.05f * (float) (c + 1) * qt_gauss (&rng);
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_WEIGHT, C, n, WQ);
  g_assert_cmpuint (q->n_params, ==, (guint) C);
  g_assert_cmpint (q->qmax, ==, WQ);
  q->ops->init (q, w, n);
  for (int c = 0; c < C; c++) {
    double sum = 0.0;
    for (size_t i = 0; i < m; i++)
      sum += fabs ((double) w[c * m + i]);
    const double expect = 2.0 * (sum / (double) m) / sqrt ((double) WQ);
    g_assert_cmpfloat_with_epsilon (q->params[c], expect, 1e-6 * expect);
  }
  g_assert_cmpfloat (q->state[0], ==, 1.0f);
}

static void
test_lsq_act_init_uses_the_relu_part_of_the_first_batch (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 2);
  const size_t n = 5000;
  g_autofree float *x = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    x[i] = qt_gauss (&rng) + 0.3f;
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_ACT, 1, 0, AQ);
  q->ops->init (q, x, n);
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += MAX ((double) x[i], 0.0);
  const double expect = 2.0 * (sum / (double) n) / sqrt ((double) AQ);
  g_assert_cmpfloat_with_epsilon (q->params[0], expect, 1e-6 * expect);

  /* a second batch does not re-initialise through forward */
  g_autofree float *y = g_new (float, n);
  const float s = q->params[0];
  for (size_t i = 0; i < n; i++)
    x[i] *= 10.0f;
  q->ops->forward (q, x, y, n);
  g_assert_cmpfloat (q->params[0], ==, s);
}

/* A sparse batch (most values 0 after the ReLU, a few whole pixels, as an
 * interpolator's identity channel carries): the paper's 2 mean / sqrt(Qp) would
 * clip the pixels; the step starts at max / Qp instead, so nothing is clipped. */
static void
test_lsq_act_init_clips_nothing_of_a_sparse_batch (void)
{
  const size_t n = 4000;
  g_autofree float *x = g_new0 (float, n);
  g_autofree float *y = g_new (float, n);
  for (size_t i = 0; i < n; i += 40)
    x[i] = 0.2f + 0.7f * (float) i / (float) n;   /* 100 values in 0.2 .. 0.9 */
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_ACT, 1, 0, AQ);
  q->ops->init (q, x, n);
  double sum = 0.0, amax = 0.0;
  for (size_t i = 0; i < n; i++) {
    sum += x[i];
    amax = MAX (amax, (double) x[i]);
  }
  const double paper = 2.0 * (sum / (double) n) / sqrt ((double) AQ);
  g_assert_cmpfloat (paper * AQ, <, 0.5 * amax);
  g_assert_cmpfloat_with_epsilon (q->params[0], amax / AQ, 1e-6);
  q->ops->forward (q, x, y, n);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (fabs ((double) y[i] - x[i]), <=, 0.5 * q->params[0] + 1e-6);
}

static void
test_lsq_forward_before_init_initialises_from_its_input (void)
{
  const size_t n = 8;
  const float w[8] = { 0.1f, -0.2f, 0.3f, -0.4f, 1.0f, 2.0f, -3.0f, 4.0f };
  float y[8];
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_WEIGHT, 2, n, WQ);
  q->ops->forward (q, w, y, n);
  g_assert_cmpfloat_with_epsilon (q->params[0], 2.0 * 0.25 / sqrt (127.0), 1e-7);
  g_assert_cmpfloat_with_epsilon (q->params[1], 2.0 * 2.5 / sqrt (127.0), 1e-6);
  g_assert_cmpfloat (q->state[0], ==, 1.0f);
}

static void
test_lsq_weight_forward_is_on_the_per_channel_grid (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 3);
  const int C = 4;
  const size_t m = 600, n = C * m;
  g_autofree float *w = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    w[i] = 0.1f * qt_gauss (&rng);
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_WEIGHT, C, n, WQ);
  q->ops->init (q, w, n);
  q->params[1] *= 0.05f;   /* channel 1 clips beyond about one sigma, both sides */
  q->ops->forward (q, w, y, n);
  qt_assert_on_grid (y, n, C, q->params, -WQ, WQ);

  /* the values are round_half_up (clip (w / s)) * s, computed here in double */
  int clipped = 0;
  for (int c = 0; c < C; c++) {
    const double s = q->params[c];
    for (size_t i = 0; i < m; i++) {
      const double t = (double) w[c * m + i] / s;
      if (fabs (t - floor (t) - 0.5) < 1e-4)
        continue;   /* a tie within float error: either side is fine */
      const double k = qt_round (CLAMP (t, -(double) WQ, (double) WQ));
      clipped += fabs (t) > WQ;
      g_assert_cmpfloat_with_epsilon (y[c * m + i], k * s, 1e-6 * fabs (k * s) + 1e-12);
    }
  }
  g_assert_cmpint (clipped, >, 0);
}

static void
test_lsq_act_forward_clamps_like_relu_onto_0_qmax (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 4);
  const size_t n = 20000;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    x[i] = qt_gauss (&rng);
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_ACT, 1, 0, AQ);
  q->ops->init (q, x, n);
  q->ops->forward (q, x, y, n);
  const int levels = qt_assert_on_grid (y, n, 1, q->params, 0, AQ);
  g_assert_cmpint (levels, >, 32);   /* the grid is actually used (the paper init spans ~9 sigma) */
  for (size_t i = 0; i < n; i++) {
    if (x[i] <= 0.0f)
      g_assert_cmpfloat (y[i], ==, 0.0f);
    if ((double) x[i] / q->params[0] >= AQ)
      g_assert_cmpfloat (y[i], ==, AQ * q->params[0]);
  }
}

/* The paper's step-size gradient, in double, independent of the library. */
static double
paper_ds (const float *x, const float *dy, size_t m, double s, double qn, double qp)
{
  double sum = 0.0;
  for (size_t i = 0; i < m; i++) {
    const double t = (double) x[i] / s;
    double term;
    if (t <= -qn)
      term = -qn;
    else if (t >= qp)
      term = qp;
    else
      term = -t + qt_round (t);
    sum += dy[i] * term;
  }
  return sum / sqrt ((double) m * qp);
}

static void
test_lsq_weight_backward_matches_the_paper_with_gradient_scale (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 5);
  const int C = 3;
  const size_t m = 3000, n = C * m;
  const float s[3] = { 0.004f, 0.0008f, 0.002f };   /* channel 1 clips about 30% */
  g_autofree float *w = g_new (float, n);
  g_autofree float *dy = g_new (float, n);
  g_autofree float *dx = g_new (float, n);
  fill_away_from_ties (&rng, w, n, 0.1f, s, C, 1e-3);
  for (size_t i = 0; i < n; i++)
    dy[i] = qt_gauss (&rng);
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_WEIGHT, C, n, WQ);
  q->ops->init (q, w, n);
  memcpy (q->params, s, sizeof s);
  q->grads[0] = 0.5f;   /* gradients are added, not stored */
  q->ops->backward (q, w, dy, dx, n);
  for (int c = 0; c < C; c++) {
    const double expect = paper_ds (w + c * m, dy + c * m, m, s[c], WQ, WQ) + (c == 0 ? 0.5 : 0.0);
    g_assert_cmpfloat_with_epsilon (q->grads[c], expect, 1e-4 * fabs (expect) + 1e-5);
    for (size_t i = 0; i < m; i++) {
      const double t = (double) w[c * m + i] / s[c];
      g_assert_cmpfloat (dx[c * m + i], ==, (t > -WQ && t < WQ) ? dy[c * m + i] : 0.0f);
    }
  }
  /* the gradient scale is really 1 / sqrt (m * Qp): without it the sum is ~sqrt(m Qp) larger */
  const double raw = paper_ds (w, dy, m, s[0], WQ, WQ) * sqrt ((double) m * WQ);
  g_assert_cmpfloat (fabs ((double) q->grads[0] - 0.5 - raw), >, 10.0 * fabs ((double) q->grads[0] - 0.5));
}

static void
test_lsq_act_backward_matches_the_paper_with_gradient_scale (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 6);
  const size_t n = 40000;
  const float s = 0.01f;   /* clips above 1.27 */
  g_autofree float *x = g_new (float, n);
  g_autofree float *dy = g_new (float, n);
  g_autofree float *dx = g_new (float, n);
  fill_away_from_ties (&rng, x, n, 1.0f, &s, 1, 1e-3);
  for (size_t i = 0; i < n; i++)
    dy[i] = qt_gauss (&rng);
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_ACT, 1, 0, AQ);
  q->ops->init (q, x, n);
  q->params[0] = s;
  q->ops->backward (q, x, dy, dx, n);
  const double expect = paper_ds (x, dy, n, s, 0.0, AQ);
  g_assert_cmpfloat_with_epsilon (q->grads[0], expect, 1e-4 * fabs (expect) + 1e-6);
  for (size_t i = 0; i < n; i++) {
    const double t = (double) x[i] / s;
    g_assert_cmpfloat (dx[i], ==, (t > 0.0 && t < AQ) ? dy[i] : 0.0f);
  }
}

/* Where the output is clipped, v_hat = Qp s (or -Qn s) is differentiable in s and
 * the paper's gradient is the true one: a central difference of L = sum dy y
 * must match grads / g. */
static void
test_lsq_step_gradient_of_clipped_values_matches_finite_difference (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 7);
  const size_t n = 512;
  g_autofree float *w = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  g_autofree float *dy = g_new (float, n);
  g_autofree float *dx = g_new (float, n);
  for (size_t i = 0; i < n; i++) {
    const float mag = 1.0f + espcn_rng_uniform (&rng);
    w[i] = (i & 1) ? mag : -mag;   /* |w| / s >= 200 > 127 at s = 0.005 */
    dy[i] = qt_gauss (&rng);
  }
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_WEIGHT, 1, n, WQ);
  q->ops->init (q, w, n);
  const double s = 0.005, h = 1e-5;
  double l[2];
  for (int k = 0; k < 2; k++) {
    q->params[0] = (float) (s + (k ? h : -h));
    q->ops->forward (q, w, y, n);
    l[k] = 0.0;
    for (size_t i = 0; i < n; i++)
      l[k] += (double) dy[i] * y[i];
  }
  const double fd = (l[1] - l[0]) / ((double) (float) (s + h) - (double) (float) (s - h));
  q->params[0] = (float) s;
  q->ops->backward (q, w, dy, dx, n);
  const double g = 1.0 / sqrt ((double) n * WQ);
  g_assert_cmpfloat_with_epsilon (q->grads[0] / g, fd, 1e-3 * fabs (fd) + 1e-3);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (dx[i], ==, 0.0f);
}

/* Inside the range, with the levels fixed (a perturbation far from any tie), the
 * true derivative of L = sum dy y is sum dy round(v/s); the paper's STE gradient
 * differs from it by exactly -sum dy v/s (the straight-through d round / d s). */
static void
test_lsq_step_gradient_inside_is_finite_difference_minus_v_over_s (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 8);
  const size_t n = 2000;
  const float s = 0.01f;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  g_autofree float *dy = g_new (float, n);
  g_autofree float *dx = g_new (float, n);
  fill_away_from_ties (&rng, x, n, 0.3f, &s, 1, 0.05);
  for (size_t i = 0; i < n; i++) {
    x[i] = fabsf (x[i]);   /* inside [0, 1.27): nothing clipped */
    dy[i] = qt_gauss (&rng);
  }
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_ACT, 1, 0, AQ);
  q->ops->init (q, x, n);
  const double h = 1e-6;
  double l[2];
  for (int k = 0; k < 2; k++) {
    q->params[0] = (float) (s + (k ? h : -h));
    q->ops->forward (q, x, y, n);
    l[k] = 0.0;
    for (size_t i = 0; i < n; i++)
      l[k] += (double) dy[i] * y[i];
  }
  /* divide by the parameter step actually taken (float) */
  const double fd = (l[1] - l[0]) / ((double) (float) (s + h) - (double) (float) (s - h));
  double v_over_s = 0.0;
  for (size_t i = 0; i < n; i++)
    v_over_s += (double) dy[i] * x[i] / s;
  q->params[0] = s;
  q->ops->backward (q, x, dy, dx, n);
  const double g = 1.0 / sqrt ((double) n * AQ);
  g_assert_cmpfloat_with_epsilon (q->grads[0] / g, fd - v_over_s, 1e-3 * fabs (v_over_s));
}

static void
test_lsq_weight_export_reproduces_forward (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 9);
  const int C = 8;
  const size_t n = C * 3 * 3 * 16;
  g_autofree float *w = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  g_autofree float *scale = g_new (float, C);
  for (size_t i = 0; i < n; i++)
    w[i] = 0.2f * qt_gauss (&rng);
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_WEIGHT, C, n, WQ);
  q->ops->init (q, w, n);
  q->params[2] *= 0.1f;   /* clipping too */
  q->ops->forward (q, w, y, n);
  qt_assert_weight_export_matches (q, w, y, n, scale);
  for (int c = 0; c < C; c++)
    g_assert_cmpfloat (scale[c], ==, q->params[c]);
}

static void
test_lsq_act_export_reproduces_forward (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 10);
  const size_t n = 4096;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    x[i] = 2.0f * qt_gauss (&rng);
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_ACT, 1, 0, AQ);
  q->ops->init (q, x, n);
  q->ops->forward (q, x, y, n);
  float scale;
  qt_assert_act_export_matches (q, y, n, &scale);
  g_assert_cmpfloat (scale, ==, q->params[0]);
}

static void
test_lsq_export_before_init_or_of_nan_fails (void)
{
  g_autoptr (GError) error = NULL;
  float w[4] = { 0.1f, NAN, 0.2f, 0.3f };
  gint32 w_int[4];
  float scale[2], s;
  gint32 qmax;
  EspcnWeightExport ex = { .w_int = w_int, .scale = scale };
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_WEIGHT, 2, 4, WQ);
  g_assert_false (q->ops->export_weights (q, w, 4, &ex, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);
  q->ops->init (q, w, 4);
  g_assert_false (q->ops->export_weights (q, w, 4, &ex, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "value 1"));
  g_clear_error (&error);

  g_autoptr (EspcnQuantizer) a = qt_new ("lsq", ESPCN_QUANT_ACT, 1, 0, AQ);
  g_assert_false (a->ops->export_act (a, &s, &qmax, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
}

static void
test_lsq_step_is_kept_positive (void)
{
  const float w[4] = { 0.5f, -0.5f, 0.25f, 0.0f };
  float y[4];
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_WEIGHT, 1, 4, WQ);
  q->ops->init (q, w, 4);
  q->params[0] = -1.0f;   /* where an optimizer might push it */
  q->ops->forward (q, w, y, 4);
  for (int i = 0; i < 4; i++) {
    g_assert_true (isfinite (y[i]));
    g_assert_cmpfloat (fabsf (y[i]), <=, 127.0f * 1e-8f * 1.0001f);
  }
  g_assert_cmpfloat (y[0], >, 0.0f);   /* the sign survives: s is tiny, not negative */
  g_autoptr (GError) error = NULL;
  gint32 w_int[4];
  float scale;
  EspcnWeightExport ex = { .w_int = w_int, .scale = &scale };
  g_assert_true (q->ops->export_weights (q, w, 4, &ex, &error));
  g_assert_cmpfloat (scale, >, 0.0f);
  g_assert_cmpint (w_int[0], ==, 127);
  g_assert_cmpint (w_int[1], ==, -127);
}

static void
test_lsq_forward_and_backward_work_in_place (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 11);
  const size_t n = 3000;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  g_autofree float *buf = g_new (float, n);
  g_autofree float *dy = g_new (float, n);
  g_autofree float *dx = g_new (float, n);
  for (size_t i = 0; i < n; i++) {
    x[i] = qt_gauss (&rng);
    dy[i] = qt_gauss (&rng);
  }
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_ACT, 1, 0, AQ);
  q->ops->init (q, x, n);
  q->ops->forward (q, x, y, n);
  memcpy (buf, x, n * sizeof (float));
  q->ops->forward (q, buf, buf, n);
  g_assert_cmpmem (buf, n * sizeof (float), y, n * sizeof (float));
  q->ops->backward (q, x, dy, dx, n);
  const float g1 = q->grads[0];
  q->grads[0] = 0.0f;
  memcpy (buf, dy, n * sizeof (float));
  q->ops->backward (q, x, buf, buf, n);
  g_assert_cmpmem (buf, n * sizeof (float), dx, n * sizeof (float));
  g_assert_cmpfloat (q->grads[0], ==, g1);
}

/* One forward + backward over a batch the size the trainer uses
 * (16 x 64 x 48 x 48); reported, and bounded loosely so a pathological slowdown
 * fails. */
static void
test_lsq_act_pass_over_a_training_batch_is_fast (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 12);
  const size_t n = 16 * 64 * 48 * 48;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  g_autofree float *dx = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    x[i] = espcn_rng_uniform_range (&rng, -1.0f, 2.0f);
  g_autoptr (EspcnQuantizer) q = qt_new ("lsq", ESPCN_QUANT_ACT, 1, 0, AQ);
  q->ops->init (q, x, n);
  g_test_timer_start ();
  q->ops->forward (q, x, y, n);
  const double t_fwd = g_test_timer_elapsed ();
  g_test_timer_start ();
  q->ops->backward (q, x, y, dx, n);
  const double t_bwd = g_test_timer_elapsed ();
  g_test_message ("lsq activation, %zu values: forward %.2f ms, backward %.2f ms", n, t_fwd * 1e3, t_bwd * 1e3);
  g_assert_cmpfloat (t_fwd + t_bwd, <, 5.0);   /* ~25 ms here; generous for sanitizers */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/quant/lsq/unknown-method-is-a-clear-error", test_lsq_unknown_method_is_a_clear_error);
  g_test_add_func ("/quant/lsq/bad-setup-is-refused", test_lsq_bad_setup_is_refused);
  g_test_add_func ("/quant/lsq/weight-init-is-two-mean-abs-over-sqrt-qp", test_lsq_weight_init_is_two_mean_abs_over_sqrt_qp);
  g_test_add_func ("/quant/lsq/act-init-uses-the-relu-part-of-the-first-batch",
      test_lsq_act_init_uses_the_relu_part_of_the_first_batch);
  g_test_add_func ("/quant/lsq/act-init-clips-nothing-of-a-sparse-batch", test_lsq_act_init_clips_nothing_of_a_sparse_batch);
  g_test_add_func ("/quant/lsq/forward-before-init-initialises-from-its-input",
      test_lsq_forward_before_init_initialises_from_its_input);
  g_test_add_func ("/quant/lsq/weight-forward-is-on-the-per-channel-grid", test_lsq_weight_forward_is_on_the_per_channel_grid);
  g_test_add_func ("/quant/lsq/act-forward-clamps-like-relu-onto-0-qmax", test_lsq_act_forward_clamps_like_relu_onto_0_qmax);
  g_test_add_func ("/quant/lsq/weight-backward-matches-the-paper-with-gradient-scale",
      test_lsq_weight_backward_matches_the_paper_with_gradient_scale);
  g_test_add_func ("/quant/lsq/act-backward-matches-the-paper-with-gradient-scale",
      test_lsq_act_backward_matches_the_paper_with_gradient_scale);
  g_test_add_func ("/quant/lsq/step-gradient-of-clipped-values-matches-finite-difference",
      test_lsq_step_gradient_of_clipped_values_matches_finite_difference);
  g_test_add_func ("/quant/lsq/step-gradient-inside-is-finite-difference-minus-v-over-s",
      test_lsq_step_gradient_inside_is_finite_difference_minus_v_over_s);
  g_test_add_func ("/quant/lsq/weight-export-reproduces-forward", test_lsq_weight_export_reproduces_forward);
  g_test_add_func ("/quant/lsq/act-export-reproduces-forward", test_lsq_act_export_reproduces_forward);
  g_test_add_func ("/quant/lsq/export-before-init-or-of-nan-fails", test_lsq_export_before_init_or_of_nan_fails);
  g_test_add_func ("/quant/lsq/step-is-kept-positive", test_lsq_step_is_kept_positive);
  g_test_add_func ("/quant/lsq/forward-and-backward-work-in-place", test_lsq_forward_and_backward_work_in_place);
  g_test_add_func ("/quant/lsq/act-pass-over-a-training-batch-is-fast", test_lsq_act_pass_over_a_training_batch_is_fast);
  return g_test_run ();
}
