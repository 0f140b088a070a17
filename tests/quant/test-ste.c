/* STE quantizers: max-based per-channel weights recomputed every forward, the
 * activation range as a moving average of batch maxima (training only, kept in
 * the state for exact resume), straight-through gradients, export. */
#include "quant-test-common.h"

#define WQ ESPCN_WEIGHT_QMAX_INT8
#define AQ ESPCN_ACT_QMAX_FAST

static void
test_ste_weight_scale_is_max_abs_over_127_every_forward (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 31);
  const int C = 4;
  const size_t m = 200, n = C * m;
  g_autofree float *w = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  g_autofree float *scale = g_new (float, C);
  g_autofree float *expect = g_new (float, C);
  for (size_t i = 0; i < n; i++)
    w[i] = 0.1f * qt_gauss (&rng);
  g_autoptr (EspcnQuantizer) q = qt_new ("ste", ESPCN_QUANT_WEIGHT, C, n, WQ);
  g_assert_cmpuint (q->n_params, ==, 0);
  q->ops->init (q, w, n);
  for (int round = 0; round < 2; round++) {
    if (round == 1)
      for (size_t i = 0; i < m; i++)
        w[i] *= 3.0f;   /* the weights moved: channel 0's scale follows */
    q->ops->forward (q, w, y, n);
    for (int c = 0; c < C; c++) {
      float mx = 0.0f;
      size_t arg = 0;
      for (size_t i = 0; i < m; i++)
        if (fabsf (w[c * m + i]) > mx) {
          mx = fabsf (w[c * m + i]);
          arg = c * m + i;
        }
      expect[c] = mx / WQ;
      g_assert_cmpfloat_with_epsilon (fabs (y[arg]), mx, 1e-6 * mx);   /* the largest weight is exact */
    }
    const int levels = qt_assert_on_grid (y, n, C, expect, -WQ, WQ);
    g_assert_cmpint (levels, >, 50);
    qt_assert_weight_export_matches (q, w, y, n, scale);
    for (int c = 0; c < C; c++)
      g_assert_cmpfloat (scale[c], ==, expect[c]);
  }
}

static void
test_ste_weight_gradient_passes_straight_through (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 32);
  const size_t n = 2 * 75;
  float w[150], dy[150], dx[150], y[150];
  for (size_t i = 0; i < n; i++) {
    w[i] = qt_gauss (&rng);
    dy[i] = qt_gauss (&rng);
  }
  g_autoptr (EspcnQuantizer) q = qt_new ("ste", ESPCN_QUANT_WEIGHT, 2, n, WQ);
  q->ops->forward (q, w, y, n);
  q->ops->backward (q, w, dy, dx, n);
  g_assert_cmpmem (dx, sizeof dx, dy, sizeof dy);
}

static float
batch_max (EspcnRng *rng, float *x, size_t n, float gain)
{
  float mx = 0.0f;
  for (size_t i = 0; i < n; i++) {
    x[i] = gain * qt_gauss (rng);
    mx = MAX (mx, x[i]);
  }
  return mx;
}

static void
test_ste_act_range_is_a_moving_average_of_batch_maxima (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 33);
  const size_t n = 3000;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  g_autoptr (EspcnQuantizer) q = qt_new ("ste", ESPCN_QUANT_ACT, 1, 0, AQ);
  g_assert_cmpuint (q->n_params, ==, 0);
  g_assert_cmpuint (q->n_state, ==, 2);

  double r = batch_max (&rng, x, n, 1.0f);
  q->ops->init (q, x, n);   /* init: the first batch's max */
  g_assert_cmpfloat (q->state[0], ==, (float) r);
  q->ops->forward (q, x, y, n);   /* same batch: the average does not move */
  g_assert_cmpfloat_with_epsilon (q->state[0], r, 1e-6 * r);

  const float gains[3] = { 2.0f, 0.5f, 3.0f };
  for (int b = 0; b < 3; b++) {
    const double m = batch_max (&rng, x, n, gains[b]);
    q->ops->forward (q, x, y, n);
    r = 0.99 * r + 0.01 * m;
    g_assert_cmpfloat_with_epsilon (q->state[0], r, 1e-5 * r);
  }

  /* not training: the range is frozen */
  q->training = FALSE;
  const float frozen = q->state[0];
  batch_max (&rng, x, n, 10.0f);
  q->ops->forward (q, x, y, n);
  g_assert_cmpfloat (q->state[0], ==, frozen);
}

static void
test_ste_act_forward_is_on_the_running_grid_with_relu (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 34);
  const size_t n = 10000;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  batch_max (&rng, x, n, 1.0f);
  g_autoptr (EspcnQuantizer) q = qt_new ("ste", ESPCN_QUANT_ACT, 1, 0, AQ);
  q->ops->init (q, x, n);
  q->state[0] = 1.5f;   /* smaller than the batch max: the top is clipped */
  q->training = FALSE;
  q->ops->forward (q, x, y, n);
  const float step = 1.5f / AQ;
  g_assert_cmpint (qt_assert_on_grid (y, n, 1, &step, 0, AQ), ==, AQ + 1);
  int clipped = 0;
  for (size_t i = 0; i < n; i++) {
    if (x[i] <= 0.0f)
      g_assert_cmpfloat (y[i], ==, 0.0f);
    if (x[i] >= 1.5f) {
      clipped++;
      g_assert_cmpfloat_with_epsilon (y[i], 1.5, 1e-6);
    }
    const double u = CLAMP ((double) x[i], 0.0, 1.5) / step;
    if (fabs (u - floor (u) - 0.5) > 1e-4)
      g_assert_cmpfloat_with_epsilon (y[i], qt_round (u) * step, 1e-6);
  }
  g_assert_cmpint (clipped, >, 0);
  float scale;
  qt_assert_act_export_matches (q, y, n, &scale);
  g_assert_cmpfloat (scale, ==, step);
}

static void
test_ste_act_gradient_is_zero_where_clipped (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 35);
  const size_t n = 5000;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  g_autofree float *dy = g_new (float, n);
  g_autofree float *dx = g_new (float, n);
  batch_max (&rng, x, n, 1.0f);
  for (size_t i = 0; i < n; i++)
    dy[i] = qt_gauss (&rng);
  g_autoptr (EspcnQuantizer) q = qt_new ("ste", ESPCN_QUANT_ACT, 1, 0, AQ);
  q->ops->init (q, x, n);
  q->state[0] = 1.0f;
  q->training = FALSE;
  q->ops->forward (q, x, y, n);
  q->ops->backward (q, x, dy, dx, n);
  for (size_t i = 0; i < n; i++) {
    if (fabsf (x[i] - 1.0f) < 1e-5f || fabsf (x[i]) < 1e-6f)
      continue;   /* at a clip bound within float error */
    g_assert_cmpfloat (dx[i], ==, (x[i] > 0.0f && x[i] < 1.0f) ? dy[i] : 0.0f);
  }
}

/* A checkpoint keeps q->state: a quantizer restored from it continues bit for
 * bit, running average included. */
static void
test_ste_act_state_resumes_exactly (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 36);
  const size_t n = 2000;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y1 = g_new (float, n);
  g_autofree float *y2 = g_new (float, n);
  g_autoptr (EspcnQuantizer) a = qt_new ("ste", ESPCN_QUANT_ACT, 1, 0, AQ);
  for (int b = 0; b < 5; b++) {
    batch_max (&rng, x, n, 1.0f + (float) b);
    a->ops->forward (a, x, y1, n);
  }
  g_autoptr (EspcnQuantizer) b = qt_new ("ste", ESPCN_QUANT_ACT, 1, 0, AQ);
  memcpy (b->state, a->state, a->n_state * sizeof (float));
  for (int k = 0; k < 3; k++) {
    batch_max (&rng, x, n, 2.0f);
    a->ops->forward (a, x, y1, n);
    b->ops->forward (b, x, y2, n);
    g_assert_cmpmem (y1, n * sizeof (float), y2, n * sizeof (float));
    g_assert_cmpmem (a->state, a->n_state * sizeof (float), b->state, b->n_state * sizeof (float));
  }
}

static void
test_ste_act_export_before_any_batch_fails (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnQuantizer) q = qt_new ("ste", ESPCN_QUANT_ACT, 1, 0, AQ);
  float s;
  gint32 qmax;
  g_assert_false (q->ops->export_act (q, &s, &qmax, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "ste"));
}

static void
test_ste_weight_export_refuses_non_finite_weights (void)
{
  g_autoptr (GError) error = NULL;
  float w[4] = { 0.5f, 0.25f, INFINITY, 0.0f };
  gint32 w_int[4];
  float scale[2];
  EspcnWeightExport ex = { .w_int = w_int, .scale = scale };
  g_autoptr (EspcnQuantizer) q = qt_new ("ste", ESPCN_QUANT_WEIGHT, 2, 4, WQ);
  g_assert_false (q->ops->export_weights (q, w, 4, &ex, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "value 2"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/quant/ste/weight-scale-is-max-abs-over-127-every-forward",
      test_ste_weight_scale_is_max_abs_over_127_every_forward);
  g_test_add_func ("/quant/ste/weight-gradient-passes-straight-through", test_ste_weight_gradient_passes_straight_through);
  g_test_add_func ("/quant/ste/act-range-is-a-moving-average-of-batch-maxima",
      test_ste_act_range_is_a_moving_average_of_batch_maxima);
  g_test_add_func ("/quant/ste/act-forward-is-on-the-running-grid-with-relu",
      test_ste_act_forward_is_on_the_running_grid_with_relu);
  g_test_add_func ("/quant/ste/act-gradient-is-zero-where-clipped", test_ste_act_gradient_is_zero_where_clipped);
  g_test_add_func ("/quant/ste/act-state-resumes-exactly", test_ste_act_state_resumes_exactly);
  g_test_add_func ("/quant/ste/act-export-before-any-batch-fails", test_ste_act_export_before_any_batch_fails);
  g_test_add_func ("/quant/ste/weight-export-refuses-non-finite-weights", test_ste_weight_export_refuses_non_finite_weights);
  return g_test_run ();
}
