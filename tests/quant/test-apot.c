/* APoT quantizers: the 128-level additive powers-of-two set, nearest-level
 * projection of w / sigma (no centring: the layer mean is kept), the paper's
 * alpha gradient, the normalisation Jacobian, alpha initialisation, the uniform
 * (k = 1) activations, export. */
#include "quant/quantizer.h"
#include "util/rng.h"

#include <math.h>
#include <string.h>

#define L_MAX 1920

static float
gauss (EspcnRng *rng)
{
  float u = espcn_rng_uniform_range (rng, 1e-7f, 1.0f);
  float v = espcn_rng_uniform (rng);
  return sqrtf (-2.0f * logf (u)) * cosf (6.2831853f * v);
}

static float
laplace (EspcnRng *rng)
{
  float u = espcn_rng_uniform_range (rng, 1e-7f, 1.0f);
  return (espcn_rng_uniform (rng) < 0.5f ? -1.0f : 1.0f) * -logf (u);
}

static EspcnQuantizer *
new_q (EspcnQuantRole role, int channels, size_t n, gint32 qmax)
{
  g_autoptr (GError) error = NULL;
  EspcnQuantizer *q = espcn_quantizer_new ("apot", role, channels, n, qmax, &error);
  g_assert_no_error (error);
  g_assert_nonnull (q);
  return q;
}

/* mean and sqrt(biased variance + 1e-12), in double */
static void
norm_stats (const float *w, size_t n, double *mu, double *sigma)
{
  double s = 0.0, v = 0.0;
  for (size_t i = 0; i < n; i++)
    s += w[i];
  *mu = s / n;
  for (size_t i = 0; i < n; i++)
    v += (w[i] - *mu) * (w[i] - *mu);
  *sigma = sqrt (v / n + 1e-12);
}

/* Is l a sum of one choice per documented term? */
static gboolean
is_documented_level (int l)
{
  static const int t0[] = { 0, 1024, 64, 4 }, t1[] = { 0, 512, 32, 2 }, t2[] = { 0, 256, 16, 1 }, t3[] = { 0, 128 };
  for (int a = 0; a < 4; a++)
    for (int b = 0; b < 4; b++)
      for (int c = 0; c < 4; c++)
        for (int d = 0; d < 2; d++)
          if (t0[a] + t1[b] + t2[c] + t3[d] == l)
            return TRUE;
  return FALSE;
}

/* Export the weights and return the sorted distinct magnitudes in `levels`. */
static int
collect_levels (EspcnQuantizer *q, const float *w, size_t n, int *levels)
{
  g_autofree gint32 *wi = g_new (gint32, n);
  g_autofree float *scale = g_new (float, q->channels);
  EspcnWeightExport ex = { wi, scale, 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (q->ops->export_weights (q, w, n, &ex, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ex.w_int_max, ==, L_MAX);
  g_autofree gboolean *seen = g_new0 (gboolean, L_MAX + 1);
  for (size_t i = 0; i < n; i++) {
    g_assert_cmpint (ABS (wi[i]), <=, L_MAX);
    seen[ABS (wi[i])] = TRUE;
  }
  int k = 0;
  for (int l = 0; l <= L_MAX; l++)
    if (seen[l])
      levels[k++] = l;
  return k;
}

static void
test_apot_level_set_has_128_additive_levels (void)
{
  /* a dense ramp with alpha = max|w_n| sweeps |w_n| / alpha over all of [0, 1] */
  const size_t n = 400001;
  g_autofree float *w = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    w[i] = -1.0f + 2.0f * (float) i / (float) (n - 1);
  double mu, sigma;
  norm_stats (w, n, &mu, &sigma);
  g_autoptr (EspcnQuantizer) q = new_q (ESPCN_QUANT_WEIGHT, 1, n, ESPCN_WEIGHT_QMAX_INT8);
  q->ops->init (q, w, n);
  q->params[0] = (float) (1.0 / sigma) * 0.999f;
  int levels[L_MAX + 1];
  int k = collect_levels (q, w, n, levels);
  g_assert_cmpint (k, ==, 128);
  g_assert_cmpint (levels[0], ==, 0);
  g_assert_cmpint (levels[127], ==, L_MAX);
  g_assert_cmpint (L_MAX, <=, 4095);
  for (int i = 0; i < k; i++) {
    g_assert_true (is_documented_level (levels[i]));
    /* additive powers of two: at most four set bits (one per term) */
    g_assert_cmpint (__builtin_popcount ((unsigned) levels[i]), <=, 4);
  }
}

static void
test_apot_weights_project_to_nearest_level (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 21);
  const int channels = 4;
  const size_t n = 4 * 300;
  g_autofree float *w = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    w[i] = 0.05f * laplace (&rng) + 0.01f;
  /* the full level set, from the ramp of the previous test's construction */
  const size_t nr = 400001;
  g_autofree float *ramp = g_new (float, nr);
  for (size_t i = 0; i < nr; i++)
    ramp[i] = -1.0f + 2.0f * (float) i / (float) (nr - 1);
  double mu, sigma;
  norm_stats (ramp, nr, &mu, &sigma);
  g_autoptr (EspcnQuantizer) qr = new_q (ESPCN_QUANT_WEIGHT, 1, nr, ESPCN_WEIGHT_QMAX_INT8);
  qr->ops->init (qr, ramp, nr);
  qr->params[0] = (float) (1.0 / sigma) * 0.999f;
  int levels[L_MAX + 1];
  g_assert_cmpint (collect_levels (qr, ramp, nr, levels), ==, 128);

  g_autoptr (EspcnQuantizer) q = new_q (ESPCN_QUANT_WEIGHT, channels, n, ESPCN_WEIGHT_QMAX_INT8);
  q->ops->init (q, w, n);
  q->params[0] = 2.5f; /* so that some weights clip */
  q->ops->forward (q, w, y, n);
  norm_stats (w, n, &mu, &sigma);
  const double alpha = 2.5;
  int n_clipped = 0;
  for (size_t i = 0; i < n; i++) {
    double wn = w[i] / sigma;
    double u = fmin (fabs (wn) / alpha, 1.0) * L_MAX;
    double got = (double) y[i] / (sigma * alpha) * L_MAX; /* signed level */
    double best = INFINITY;
    for (int j = 0; j < 128; j++)
      best = fmin (best, fabs (u - levels[j]));
    g_assert_cmpfloat (fabs (fabs (got) - u), <=, best + 1e-2);
    if (fabs (got) > 0.5)
      g_assert_true ((got < 0) == (wn < 0));
    if (fabs (wn) > alpha) {
      g_assert_cmpfloat (fabs (fabs (got) - L_MAX), <, 1e-2);
      n_clipped++;
    }
  }
  g_assert_cmpint (n_clipped, >, 0);
}

static void
test_apot_weight_export_reproduces_forward (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 22);
  const int channels = 8;
  const size_t n = 8 * 27;
  g_autofree float *w = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  g_autofree gint32 *wi = g_new (gint32, n);
  float scale[8];
  for (size_t i = 0; i < n; i++)
    w[i] = 0.03f * gauss (&rng);
  g_autoptr (EspcnQuantizer) q = new_q (ESPCN_QUANT_WEIGHT, channels, n, ESPCN_WEIGHT_QMAX_INT8);
  EspcnWeightExport ex = { wi, scale, 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (q->ops->export_weights (q, w, n, &ex, &error)); /* never initialised */
  g_clear_error (&error);
  q->ops->init (q, w, n);
  q->training = FALSE;
  q->ops->forward (q, w, y, n);
  g_assert_true (q->ops->export_weights (q, w, n, &ex, &error));
  g_assert_no_error (error);
  double mu, sigma;
  norm_stats (w, n, &mu, &sigma);
  for (int c = 0; c < channels; c++) {
    g_assert_cmpfloat (scale[c], ==, scale[0]);
    g_assert_cmpfloat_with_epsilon (scale[c], sigma * q->params[0] / L_MAX, 1e-6 * scale[c]);
  }
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat ((float) wi[i] * scale[i / 27], ==, y[i]);
  g_assert_false (q->ops->export_weights (q, w, n - 3, &ex, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* The straight-through surrogate of the forward pass around w0: every projection
 * is linearised with slope 1 at its value there (the clipped ones are constant),
 * sigma = std(w) and the normalisation w / sigma stay exact.  Its gradient is what backward must
 * return, so central differences of it check the normalisation Jacobian and the
 * sigma factor. */
static double
surrogate (const float *w0, const double *what0, const gboolean *inside, const double *dy, size_t n, size_t j,
           double wj)
{
  double mu0, s0, s = 0.0, v = 0.0;
  norm_stats (w0, n, &mu0, &s0);
  for (size_t i = 0; i < n; i++)
    s += i == j ? wj : w0[i];
  double mu = s / n;
  for (size_t i = 0; i < n; i++) {
    double wi = i == j ? wj : w0[i];
    v += (wi - mu) * (wi - mu);
  }
  double sigma = sqrt (v / n + 1e-12);
  double f = 0.0;
  for (size_t i = 0; i < n; i++) {
    double wi = i == j ? wj : w0[i];
    double wn = wi / sigma, wn0 = w0[i] / s0;
    double what = inside[i] ? what0[i] + (wn - wn0) : what0[i];
    f += dy[i] * sigma * what;
  }
  return f;
}

static void
test_apot_weight_gradient_matches_normalisation_jacobian (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 23);
  const size_t n = 60;
  float w[60], y[60], dyf[60], dx[60];
  double dy[60], what0[60];
  gboolean inside[60];
  for (size_t i = 0; i < n; i++) {
    w[i] = 0.05f * gauss (&rng) + 0.02f;
    dyf[i] = gauss (&rng);
    dy[i] = dyf[i];
  }
  g_autoptr (EspcnQuantizer) q = new_q (ESPCN_QUANT_WEIGHT, 3, n, ESPCN_WEIGHT_QMAX_INT8);
  q->ops->init (q, w, n);
  q->params[0] = 1.5f; /* some weights clip, so both branches are exercised */
  q->ops->forward (q, w, y, n);
  double mu, sigma;
  norm_stats (w, n, &mu, &sigma);
  int n_in = 0;
  for (size_t i = 0; i < n; i++) {
    what0[i] = y[i] / sigma;
    inside[i] = fabs (w[i] / sigma) <= 1.5;
    n_in += inside[i];
  }
  g_assert_cmpint (n_in, <, (int) n);
  g_assert_cmpint (n_in, >, 0);
  q->grads[0] = 0.0f;
  q->ops->backward (q, w, dyf, dx, n);
  for (size_t j = 0; j < n; j++) {
    const double h = 1e-5;
    double fd = (surrogate (w, what0, inside, dy, n, j, w[j] + h) - surrogate (w, what0, inside, dy, n, j, w[j] - h))
        / (2 * h);
    g_assert_cmpfloat_with_epsilon (dx[j], fd, 2e-3 * (1.0 + fabs (fd)));
  }
  /* the paper's alpha gradient, scaled by sigma: sign(w_n) outside, Pi - w_n/alpha inside */
  double da = 0.0;
  for (size_t i = 0; i < n; i++) {
    double wn = w[i] / sigma;
    if (fabs (wn) > 1.5)
      da += dy[i] * sigma * (wn < 0 ? -1.0 : 1.0);
    else
      da += dy[i] * sigma * (what0[i] / 1.5 - wn / 1.5);
  }
  g_assert_cmpfloat_with_epsilon (q->grads[0], da, 1e-4 * (1.0 + fabs (da)));
  /* backward adds to the gradient */
  float g1 = q->grads[0];
  q->ops->backward (q, w, dyf, dx, n);
  g_assert_cmpfloat_with_epsilon (q->grads[0], 2.0f * g1, 1e-5 * (1.0 + fabs (g1)));
}

/* ESPCN's conv3 has a clearly non-zero mean (it carries the image brightness):
 * the quantized layer keeps it, and every weight stays within half a step of
 * its float value (or is clipped at sigma alpha). */
static void
test_apot_weights_keep_layer_mean (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 26);
  const size_t n = 24 * 288;
  g_autofree float *w = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  double sw = 0.0;
  for (size_t i = 0; i < n; i++) {
    w[i] = 0.03f * gauss (&rng) + 0.015f;
    sw += w[i];
  }
  g_autoptr (EspcnQuantizer) q = new_q (ESPCN_QUANT_WEIGHT, 24, n, ESPCN_WEIGHT_QMAX_INT8);
  q->ops->init (q, w, n);
  q->ops->forward (q, w, y, n);
  double mu, sigma, sy = 0.0;
  norm_stats (w, n, &mu, &sigma);
  double clip = sigma * q->params[0];
  for (size_t i = 0; i < n; i++) {
    sy += y[i];
    if (fabs (w[i]) <= clip)
      /* the coarsest gap of the level set is 128/1920 of the range: half of it */
      g_assert_cmpfloat (fabs ((double) y[i] - w[i]), <=, 0.5 * 128.0 / L_MAX * clip * 1.001);
    else
      g_assert_cmpfloat_with_epsilon (fabs ((double) y[i]), clip, 1e-6 * clip);
  }
  /* the mean survives (centring would give a quantized mean near 0) */
  g_assert_cmpfloat (fabs (sy / n - sw / n), <, 0.02 * fabs (sw / n));
}

static double
weight_mse_at (EspcnQuantizer *q, const float *w, float *y, size_t n, float alpha)
{
  q->params[0] = alpha;
  q->ops->forward (q, w, y, n);
  double e = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = (double) y[i] - w[i];
    e += d * d;
  }
  return e;
}

static void
test_apot_weight_alpha_init_minimises_projection_error (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 24);
  const size_t n = 5000;
  g_autofree float *w = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    w[i] = 0.02f * laplace (&rng);
  double mu, sigma, m = 0.0;
  norm_stats (w, n, &mu, &sigma);
  for (size_t i = 0; i < n; i++)
    m = fmax (m, fabs (w[i] / sigma));
  g_autoptr (EspcnQuantizer) q = new_q (ESPCN_QUANT_WEIGHT, 1, n, ESPCN_WEIGHT_QMAX_INT8);
  q->ops->init (q, w, n);
  float alpha = q->params[0];
  g_assert_cmpfloat (alpha, <=, m * 1.0001);
  g_assert_cmpfloat (alpha, >=, m * 0.2 * 0.9999);
  double e_init = weight_mse_at (q, w, y, n, alpha);
  /* (1 + 1e-6): the candidate grid contains max|w_n| itself, up to float rounding */
  g_assert_cmpfloat (e_init, <=, weight_mse_at (q, w, y, n, 3.0f) * (1 + 1e-6));
  g_assert_cmpfloat (e_init, <=, weight_mse_at (q, w, y, n, (float) m) * (1 + 1e-6));
  g_assert_cmpfloat (e_init, <, weight_mse_at (q, w, y, n, 0.5f * alpha));
}

static void
test_apot_activations_uniform_with_alpha_gradient (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 25);
  const size_t n = 200000;
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  g_autofree float *dy = g_new (float, n);
  g_autofree float *dx = g_new (float, n);
  float mx = 0.0f;
  for (size_t i = 0; i < n; i++) {
    x[i] = 0.3f * laplace (&rng) + 0.1f;
    mx = fmaxf (mx, x[i]);
    dy[i] = gauss (&rng);
  }
  g_autoptr (EspcnQuantizer) q = new_q (ESPCN_QUANT_ACT, 1, 0, ESPCN_ACT_QMAX_WIDE);
  float scale;
  gint32 qmax;
  g_autoptr (GError) error = NULL;
  g_assert_false (q->ops->export_act (q, &scale, &qmax, &error)); /* never initialised */
  g_clear_error (&error);
  q->ops->init (q, x, n);
  float alpha = q->params[0];
  /* the 99.99th percentile (to one histogram bin): at most 0.01% above alpha,
   * and alpha below the max */
  size_t above = 0;
  for (size_t i = 0; i < n; i++)
    above += x[i] > alpha;
  g_assert_cmpuint (above, <=, n / 10000 + 1);
  g_assert_cmpfloat (alpha, <, mx);
  g_assert_cmpuint (above, >=, 1);

  q->ops->forward (q, x, y, n);
  g_assert_true (q->ops->export_act (q, &scale, &qmax, &error));
  g_assert_cmpint (qmax, ==, 255);
  g_assert_cmpfloat (scale, ==, alpha / 255.0f);
  q->grads[0] = 0.0f;
  q->ops->backward (q, x, dy, dx, n);
  double da = 0.0;
  for (size_t i = 0; i < n; i++) {
    double lvl = nearbyint ((double) y[i] / scale);
    g_assert_cmpfloat ((float) lvl * scale, ==, y[i]);
    g_assert_cmpfloat (lvl, >=, 0.0);
    g_assert_cmpfloat (lvl, <=, 255.0);
    /* nearest level of clip(x, 0, alpha) */
    double c = fmin (fmax (x[i], 0.0), alpha);
    g_assert_cmpfloat (fabs (c - y[i]), <=, 0.5 * scale * 1.001);
    if (x[i] >= alpha) {
      g_assert_cmpfloat (dx[i], ==, 0.0f);
      da += dy[i];
    } else if (x[i] > 0.0f) {
      g_assert_cmpfloat (dx[i], ==, dy[i]);
      da += dy[i] * (lvl / 255.0 - x[i] / alpha);
    } else {
      g_assert_cmpfloat (dx[i], ==, 0.0f);
    }
  }
  g_assert_cmpfloat_with_epsilon (q->grads[0], da, 1e-3 * (1.0 + fabs (da)));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/quant/apot/level-set-has-128-additive-levels", test_apot_level_set_has_128_additive_levels);
  g_test_add_func ("/quant/apot/weights-project-to-nearest-level", test_apot_weights_project_to_nearest_level);
  g_test_add_func ("/quant/apot/weight-export-reproduces-forward", test_apot_weight_export_reproduces_forward);
  g_test_add_func ("/quant/apot/weights-keep-layer-mean", test_apot_weights_keep_layer_mean);
  g_test_add_func ("/quant/apot/weight-gradient-matches-normalisation-jacobian",
      test_apot_weight_gradient_matches_normalisation_jacobian);
  g_test_add_func ("/quant/apot/weight-alpha-init-minimises-projection-error",
      test_apot_weight_alpha_init_minimises_projection_error);
  g_test_add_func ("/quant/apot/activations-uniform-with-alpha-gradient",
      test_apot_activations_uniform_with_alpha_gradient);
  return g_test_run ();
}
