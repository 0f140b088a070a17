/* PACT quantizers: the clipped activation grid, the paper's gradients for x and
 * alpha, the L2 regulariser on alpha, initial alpha, symmetric max-based int8
 * weights, export. */
#include "quant-test-common.h"

#include <stdlib.h>

#define WQ ESPCN_WEIGHT_QMAX_INT8
#define AQ ESPCN_ACT_QMAX_FAST

static int
cmp_float (const void *a, const void *b)
{
  const float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

static void
test_pact_init_alpha_is_the_999_permille_of_relu (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 21);
  const size_t n = 30001;
  g_autofree float *x = g_new (float, n);
  g_autofree float *sorted = g_new (float, n);
  for (size_t i = 0; i < n; i++) {
    x[i] = qt_gauss (&rng);
    sorted[i] = MAX (x[i], 0.0f);
  }
  qsort (sorted, n, sizeof (float), cmp_float);
  g_autoptr (EspcnQuantizer) q = qt_new ("pact", ESPCN_QUANT_ACT, 1, 0, AQ);
  g_assert_cmpuint (q->n_params, ==, 1);
  q->ops->init (q, x, n);
  g_assert_cmpfloat (q->params[0], ==, sorted[(size_t) floor (0.999 * (double) (n - 1))]);
  g_assert_cmpfloat (q->params[0], <, sorted[n - 1]);

  /* all non-positive: falls back to 1 instead of a zero clip */
  for (size_t i = 0; i < n; i++)
    x[i] = -fabsf (x[i]);
  q->ops->init (q, x, n);
  g_assert_cmpfloat (q->params[0], ==, 1.0f);
}

static void
test_pact_act_forward_is_the_papers_clipped_grid (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 22);
  const size_t n = 20000;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    x[i] = 1.5f * qt_gauss (&rng);
  g_autoptr (EspcnQuantizer) q = qt_new ("pact", ESPCN_QUANT_ACT, 1, 0, AQ);
  q->ops->init (q, x, n);
  q->params[0] = 2.0f;
  q->ops->forward (q, x, y, n);
  const float step = 2.0f / AQ;
  g_assert_cmpint (qt_assert_on_grid (y, n, 1, &step, 0, AQ), ==, AQ + 1);
  int above = 0;
  for (size_t i = 0; i < n; i++) {
    /* y = clip (x, 0, alpha); y_q = round (y qmax / alpha) alpha / qmax, in double */
    const double yc = CLAMP ((double) x[i], 0.0, 2.0);
    const double u = yc * AQ / 2.0;
    if (fabs (u - floor (u) - 0.5) < 1e-4)
      continue;
    g_assert_cmpfloat_with_epsilon (y[i], qt_round (u) * 2.0 / AQ, 1e-6);
    if (x[i] <= 0.0f)
      g_assert_cmpfloat (y[i], ==, 0.0f);   /* the clamp is the ReLU */
    if (x[i] >= 2.0f) {
      above++;
      g_assert_cmpfloat_with_epsilon (y[i], 2.0, 1e-6);
    }
  }
  g_assert_cmpint (above, >, 0);
}

static void
test_pact_act_backward_follows_the_papers_ste (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 23);
  const size_t n = 50000;
  g_autofree float *x = g_new (float, n);
  g_autofree float *dy = g_new (float, n);
  g_autofree float *dx = g_new (float, n);
  for (size_t i = 0; i < n; i++) {
    x[i] = qt_gauss (&rng);
    dy[i] = qt_gauss (&rng);
  }
  x[0] = 0.0f;   /* the closed end of [0, alpha) */
  x[1] = 1.25f;  /* x == alpha: clipped */
  g_autoptr (EspcnQuantizer) q = qt_new ("pact", ESPCN_QUANT_ACT, 1, 0, AQ);
  q->ops->init (q, x, n);
  q->params[0] = 1.25f;
  q->grads[0] = 0.25f;   /* added to, not overwritten */
  q->ops->backward (q, x, dy, dx, n);
  double dalpha = 0.25;
  for (size_t i = 0; i < n; i++) {
    const gboolean pass = x[i] >= 0.0f && x[i] < 1.25f;
    g_assert_cmpfloat (dx[i], ==, pass ? dy[i] : 0.0f);
    if (x[i] >= 1.25f)
      dalpha += dy[i];
  }
  g_assert_cmpfloat (dx[0], ==, dy[0]);
  g_assert_cmpfloat (dx[1], ==, 0.0f);
  g_assert_cmpfloat_with_epsilon (q->grads[0], dalpha, 1e-5 * (1.0 + fabs (dalpha)));
}

/* dalpha against finite differences: (a) where x >= alpha the quantizer's output
 * is alpha itself (level qmax), so its central difference in alpha is exact;
 * (b) the clip part y = clip (x, 0, alpha) of random data. */
static void
test_pact_dalpha_matches_finite_differences_of_the_clip (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 24);
  const size_t n = 4000;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  g_autofree float *dy = g_new (float, n);
  g_autofree float *dx = g_new (float, n);
  for (size_t i = 0; i < n; i++) {
    x[i] = 3.0f + espcn_rng_uniform (&rng);
    dy[i] = qt_gauss (&rng);
  }
  g_autoptr (EspcnQuantizer) q = qt_new ("pact", ESPCN_QUANT_ACT, 1, 0, AQ);
  q->ops->init (q, x, n);
  const double a = 2.0, h = 1e-3;
  double l[2];
  float used[2];
  for (int k = 0; k < 2; k++) {
    used[k] = (float) (a + (k ? h : -h));
    q->params[0] = used[k];
    q->ops->forward (q, x, y, n);
    l[k] = 0.0;
    for (size_t i = 0; i < n; i++)
      l[k] += (double) dy[i] * y[i];
  }
  const double fd = (l[1] - l[0]) / ((double) used[1] - (double) used[0]);
  q->params[0] = (float) a;
  q->ops->backward (q, x, dy, dx, n);
  g_assert_cmpfloat_with_epsilon (q->grads[0], fd, 1e-4 * fabs (fd) + 1e-4);

  /* (b): mixed data, L(alpha) = sum dy clip (x, 0, alpha), away from kinks */
  for (size_t i = 0; i < n; i++) {
    do
      x[i] = 2.0f * qt_gauss (&rng);
    while (fabs (x[i] - a) < 2.0 * h);
  }
  for (int k = 0; k < 2; k++) {
    l[k] = 0.0;
    for (size_t i = 0; i < n; i++)
      l[k] += (double) dy[i] * CLAMP ((double) x[i], 0.0, (double) used[k]);
  }
  const double fd_clip = (l[1] - l[0]) / ((double) used[1] - (double) used[0]);
  q->grads[0] = 0.0f;
  q->ops->backward (q, x, dy, dx, n);
  g_assert_cmpfloat_with_epsilon (q->grads[0], fd_clip, 1e-6 * (1.0 + fabs (fd_clip)));
}

static void
test_pact_regularizer_is_l2_on_alpha (void)
{
  g_autoptr (EspcnQuantizer) q = qt_new ("pact", ESPCN_QUANT_ACT, 1, 0, AQ);
  g_assert_nonnull (q->ops->regularizer);
  const float x[2] = { 0.5f, 3.0f };
  q->ops->init (q, x, 2);
  const double a = 2.5, h = 1e-2;
  double v[2];
  for (int k = 0; k < 2; k++) {
    q->params[0] = (float) (a + (k ? h : -h));
    v[k] = q->ops->regularizer (q, x, NULL, 2);
  }
  q->params[0] = (float) a;
  q->grads[0] = 0.0f;
  const double value = q->ops->regularizer (q, x, NULL, 2);
  const double lambda = value / (a * a);
  g_test_message ("PACT lambda = %g", lambda);
  g_assert_cmpfloat_with_epsilon (lambda, 1e-6, 1e-12);
  g_assert_cmpfloat_with_epsilon (q->grads[0], 2.0 * lambda * a, 1e-12);
  g_assert_cmpfloat_with_epsilon (q->grads[0], (v[1] - v[0]) / (2.0 * h), 1e-3 * q->grads[0]);
}

static void
test_pact_act_export_reproduces_forward (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 25);
  const size_t n = 4096;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    x[i] = qt_gauss (&rng);
  g_autoptr (EspcnQuantizer) q = qt_new ("pact", ESPCN_QUANT_ACT, 1, 0, AQ);
  q->ops->forward (q, x, y, n);   /* initialises from this batch */
  g_assert_cmpfloat (q->state[0], ==, 1.0f);
  float scale;
  qt_assert_act_export_matches (q, y, n, &scale);
  g_assert_cmpfloat (scale, ==, q->params[0] / AQ);
}

static void
test_pact_weights_are_symmetric_max_based_int8 (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 26);
  const int C = 5;
  const size_t m = 3 * 3 * 32, n = C * m;
  g_autofree float *w = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  g_autofree float *dy = g_new (float, n);
  g_autofree float *dx = g_new (float, n);
  g_autofree float *scale = g_new (float, C);
  g_autofree float *expect = g_new (float, C);
  for (size_t i = 0; i < n; i++) {
    w[i] = 0.05f * (float) (1 + i / m) * qt_gauss (&rng);
    dy[i] = qt_gauss (&rng);
  }
  g_autoptr (EspcnQuantizer) q = qt_new ("pact", ESPCN_QUANT_WEIGHT, C, n, WQ);
  g_assert_cmpuint (q->n_params, ==, 0);
  g_assert_null (q->ops->regularizer);
  q->ops->init (q, w, n);
  q->ops->forward (q, w, y, n);
  for (int c = 0; c < C; c++) {
    float mx = 0.0f;
    for (size_t i = 0; i < m; i++)
      mx = MAX (mx, fabsf (w[c * m + i]));
    expect[c] = mx / WQ;
  }
  qt_assert_on_grid (y, n, C, expect, -WQ, WQ);
  for (int c = 0; c < C; c++)
    for (size_t i = 0; i < m; i++) {
      const double t = (double) w[c * m + i] / expect[c];
      if (fabs (t - floor (t) - 0.5) > 1e-4)
        g_assert_cmpfloat_with_epsilon (y[c * m + i], qt_round (t) * expect[c], 1e-6 * fabs (t) * expect[c] + 1e-12);
    }
  qt_assert_weight_export_matches (q, w, y, n, scale);
  for (int c = 0; c < C; c++)
    g_assert_cmpfloat (scale[c], ==, expect[c]);
  q->ops->backward (q, w, dy, dx, n);
  g_assert_cmpmem (dx, n * sizeof (float), dy, n * sizeof (float));
}

static void
test_pact_all_zero_weight_channel_exports_zeros (void)
{
  float w[6] = { 0, 0, 0, 0.5f, -0.25f, 0.125f };
  float y[6];
  g_autoptr (EspcnQuantizer) q = qt_new ("pact", ESPCN_QUANT_WEIGHT, 2, 6, WQ);
  q->ops->forward (q, w, y, 6);
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat (y[i], ==, 0.0f);
  g_assert_cmpfloat (y[3], ==, 0.5f);
  float scale[2];
  qt_assert_weight_export_matches (q, w, y, 6, scale);
  g_assert_true (isfinite (scale[0]));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/quant/pact/init-alpha-is-the-999-permille-of-relu", test_pact_init_alpha_is_the_999_permille_of_relu);
  g_test_add_func ("/quant/pact/act-forward-is-the-papers-clipped-grid", test_pact_act_forward_is_the_papers_clipped_grid);
  g_test_add_func ("/quant/pact/act-backward-follows-the-papers-ste", test_pact_act_backward_follows_the_papers_ste);
  g_test_add_func ("/quant/pact/dalpha-matches-finite-differences-of-the-clip",
      test_pact_dalpha_matches_finite_differences_of_the_clip);
  g_test_add_func ("/quant/pact/regularizer-is-l2-on-alpha", test_pact_regularizer_is_l2_on_alpha);
  g_test_add_func ("/quant/pact/act-export-reproduces-forward", test_pact_act_export_reproduces_forward);
  g_test_add_func ("/quant/pact/weights-are-symmetric-max-based-int8", test_pact_weights_are_symmetric_max_based_int8);
  g_test_add_func ("/quant/pact/all-zero-weight-channel-exports-zeros", test_pact_all_zero_weight_channel_exports_zeros);
  return g_test_run ();
}
