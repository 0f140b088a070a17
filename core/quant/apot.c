/* APoT: Additive Powers-of-Two quantization (Li, Dong, Wang, ICLR 2020).
 *
 * Weights (per layer; docs/integer-grid.md, "APoT and DoReFa level sets"):
 *   sigma = sqrt(var(w) + eps) of the whole layer (biased variance, about the mean)
 *   w_n   = w / sigma                                       (weight normalisation, no centring)
 *   w_hat = alpha Pi(clip(w_n / alpha, -1, 1))              (reparameterised clipping)
 *   y     = sigma w_hat
 * Pi projects onto the nearest of 255 signed levels +-L/1920, L in the 128-level
 * additive set below; ties go to the larger magnitude.
 * Deviations from the paper, both because ESPCN has no batch norm after its convs
 * (in the paper's ResNets one absorbs the weights' scale and offset):
 *  - the final factor sigma: the normalised weights are scaled back;
 *  - the paper's normalisation (w - mu) / sigma subtracts the layer mean, which its
 *    batch norm compensates; here nothing would, and conv3's mean carries the
 *    image brightness (subtracting it took a warmed-up model from 16.1 to 9.4 dB
 *    on a batch with conv3's weight quantizer alone), while adding mu back would
 *    leave the integer grid.  So the weights are divided by sigma, not centred.
 * Integers: w_int = +-L (|w_int| <= 1920), scale[c] = sigma alpha / 1920.
 * Gradients: the paper's, d w_hat / d alpha = sign(w_n) where |w_n| > alpha, else
 * Pi(w_n/alpha) - w_n/alpha; d w_hat / d w_n = 1 inside, 0 outside (straight
 * through Pi); then exactly through w / sigma with sigma = std(w), and through the
 * factor sigma:
 *   dL/dw_j = [inside_j] dy_j + (w_j - mu) / (n sigma) sum_i dy_i (w_hat_i - [inside_i] w_n_i).
 *
  * Activations: k = 1, i.e. uniform: y = alpha Pi(clip(x / alpha, 0, 1)) with Pi the
 * nearest of {0, 1/qmax, ..., 1} (round half up), computed as
 * clamp(round_half_up(x / s), 0, qmax) s with s = alpha / qmax.  Gradients: dx = dy
 * for 0 < x < alpha; d/d alpha = 1 where x >= alpha, Pi(x/alpha) - x/alpha inside.
 */
#include "quant/methods.h"
#include "quant/fakequant.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define APOT_N_LEVELS 128     /* magnitudes, 7 bits */
#define APOT_L_MAX 1920       /* largest level in units of 2^-11: 1/2 + 1/4 + 1/8 + 1/16 */
#define APOT_NORM_EPS 1e-12f  /* added to the variance: only guards an all-equal layer */
#define APOT_ALPHA_MIN 1e-6f  /* alpha is learned; the grid uses at least this */
#define APOT_ACT_PERCENTILE 0.9999
#define APOT_HIST_BINS 4096

/* Terms of the level set in units of 2^-11 (see docs/integer-grid.md): the paper's
 * k = 2, n = 4 construction p_i in {0, 2^-(i+1), 2^-(i+5), 2^-(i+9)} with the last
 * term restricted to {0, 2^-4}, which makes 4 * 4 * 4 * 2 = 128 levels. */
static const gint32 apot_terms[4][4] = {
  { 0, 1024, 64, 4 },
  { 0, 512, 32, 2 },
  { 0, 256, 16, 1 },
  { 0, 128, -1, -1 },  /* -1: not a choice */
};

typedef struct {
  gint32 level[APOT_N_LEVELS];           /* sorted magnitudes */
  guint8 index[2 * APOT_L_MAX + 1];      /* floor(2 u 1920) -> index of the nearest level */
} ApotTables;

static int
cmp_i32 (const void *a, const void *b)
{
  gint32 x = *(const gint32 *) a, y = *(const gint32 *) b;
  return (x > y) - (x < y);
}

static void
apot_build_tables (ApotTables *t)
{
  int k = 0;
  for (int a = 0; a < 4; a++)
    for (int b = 0; b < 4; b++)
      for (int c = 0; c < 4; c++)
        for (int d = 0; d < 2; d++)
          t->level[k++] = apot_terms[0][a] + apot_terms[1][b] + apot_terms[2][c] + apot_terms[3][d];
  qsort (t->level, APOT_N_LEVELS, sizeof (gint32), cmp_i32);
  /* Midpoints between neighbours are half-integers, so 2 * midpoint is an integer
   * and "u >= midpoint" is decided exactly by floor(2u) >= 2 * midpoint: ties
   * (u exactly on a midpoint) go to the larger level. */
  int j = 0;
  for (int v = 0; v <= 2 * APOT_L_MAX; v++) {
    while (j + 1 < APOT_N_LEVELS && v >= t->level[j] + t->level[j + 1])
      j++;
    t->index[v] = (guint8) j;
  }
}

/* The signed level of w_n given alpha: +-L, L in the level set. */
static inline gint32
apot_project (const ApotTables *t, float wn, float inv_alpha)
{
  float u = fminf (fabsf (wn) * inv_alpha, 1.0f) * (float) APOT_L_MAX;
  int v = (int) floorf (2.0f * u);
  v = CLAMP (v, 0, 2 * APOT_L_MAX);
  gint32 l = t->level[t->index[v]];
  return wn < 0.0f ? -l : l;
}

typedef struct {
  float mu;
  float sigma;
} ApotNorm;

static ApotNorm
apot_norm (const float *x, size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += x[i];
  double mu = n > 0 ? s / (double) n : 0.0;
  double v = 0.0;
  for (size_t i = 0; i < n; i++)
    v += ((double) x[i] - mu) * ((double) x[i] - mu);
  v = n > 0 ? v / (double) n : 0.0;
  return (ApotNorm) { (float) mu, sqrtf ((float) v + APOT_NORM_EPS) };
}

static float
apot_alpha (const EspcnQuantizer *q)
{
  return fmaxf (q->params[0], APOT_ALPHA_MIN);
}

/* ---------------- weights ---------------- */

/* Sum of squared projection errors of the normalised weights for a given alpha. */
static double
apot_weight_mse (const ApotTables *t, const float *x, size_t n, ApotNorm nm, float alpha)
{
  double e = 0.0;
  float inv_alpha = 1.0f / alpha;
  float step = alpha / (float) APOT_L_MAX;
  for (size_t i = 0; i < n; i++) {
    float wn = x[i] / nm.sigma;
    float d = wn - (float) apot_project (t, wn, inv_alpha) * step;
    e += (double) d * d;
  }
  return e;
}

/* alpha minimising the projection MSE of the normalised weights over
 * alpha = max|w_n| * r, r = 0.20, 0.21, ..., 1.00 (our choice: the paper's code
 * starts every layer at 3.0, which clips heavy-tailed layers too much). */
static void
apot_weight_init (EspcnQuantizer *q, const float *x, size_t n)
{
  const ApotTables *t = q->priv;
  ApotNorm nm = apot_norm (x, n);
  float m = 0.0f;
  for (size_t i = 0; i < n; i++)
    m = fmaxf (m, fabsf (x[i] / nm.sigma));
  float best_alpha = 3.0f;
  if (m > 0.0f) {
    double best = INFINITY;
    for (int r = 100; r >= 20; r--) {
      float alpha = m * (float) r / 100.0f;
      double e = apot_weight_mse (t, x, n, nm, alpha);
      if (e < best) {
        best = e;
        best_alpha = alpha;
      }
    }
  }
  q->params[0] = best_alpha;
  q->state[0] = 1.0f;
}

static void
apot_weight_forward (EspcnQuantizer *q, const float *x, float *y, size_t n)
{
  const ApotTables *t = q->priv;
  if (q->state[0] == 0.0f)
    apot_weight_init (q, x, n);
  ApotNorm nm = apot_norm (x, n);
  float alpha = apot_alpha (q);
  float inv_alpha = 1.0f / alpha;
  float scale = nm.sigma * alpha / (float) APOT_L_MAX;
  for (size_t i = 0; i < n; i++)
    y[i] = (float) apot_project (t, x[i] / nm.sigma, inv_alpha) * scale;
}

static void
apot_weight_backward (EspcnQuantizer *q, const float *x, const float *dy, float *dx, size_t n)
{
  const ApotTables *t = q->priv;
  if (n == 0)
    return;
  ApotNorm nm = apot_norm (x, n);
  float alpha = apot_alpha (q);
  float inv_alpha = 1.0f / alpha;
  float step = alpha / (float) APOT_L_MAX;
  /* With y_i = sigma w_hat_i, w_n_i = w_i / sigma, straight through Pi inside the
   * clip range and d sigma / d w_j = (w_j - mu) / (n sigma):
   * dL/dw_j = [inside_j] dy_j + (w_j - mu) / (n sigma) sum_i dy_i (w_hat_i - [inside_i] w_n_i). */
  double sum_r = 0.0, dalpha = 0.0;
  for (size_t i = 0; i < n; i++) {
    float wn = x[i] / nm.sigma;
    float what = (float) apot_project (t, wn, inv_alpha) * step;
    if (fabsf (wn) > alpha) {
      dx[i] = 0.0f;
      dalpha += (double) dy[i] * (wn < 0.0f ? -1.0f : 1.0f);
      sum_r += (double) dy[i] * what;
    } else {
      dx[i] = dy[i];
      dalpha += (double) dy[i] * (what * inv_alpha - wn * inv_alpha);
      sum_r += (double) dy[i] * ((double) what - wn);
    }
  }
  float k = (float) (sum_r / ((double) n * nm.sigma));
  for (size_t i = 0; i < n; i++)
    dx[i] += (x[i] - nm.mu) * k;
  q->grads[0] += (float) (dalpha * nm.sigma);
}

static gboolean
apot_export_weights (EspcnQuantizer *q, const float *w, size_t n, EspcnWeightExport *out, GError **error)
{
  const ApotTables *t = q->priv;
  if (n == 0 || n % (size_t) q->channels != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "apot export: %zu weights do not split into %d output channels", n, q->channels);
    return FALSE;
  }
  if (q->state[0] == 0.0f) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "apot export: weight quantizer was never initialised");
    return FALSE;
  }
  ApotNorm nm = apot_norm (w, n);
  float alpha = apot_alpha (q);
  float inv_alpha = 1.0f / alpha;
  float scale = nm.sigma * alpha / (float) APOT_L_MAX;
  for (size_t i = 0; i < n; i++)
    out->w_int[i] = apot_project (t, w[i] / nm.sigma, inv_alpha);
  for (int c = 0; c < q->channels; c++)
    out->scale[c] = scale;
  out->w_int_max = APOT_L_MAX;
  return TRUE;
}

/* ---------------- activations ---------------- */

/* alpha = the 99.99th percentile of max(x, 0) over the first batch (a histogram
 * of 4096 bins up to the max; the bin's upper edge), so a few outliers do not
 * stretch the grid. */
static void
apot_act_init (EspcnQuantizer *q, const float *x, size_t n)
{
  float m = 0.0f;
  for (size_t i = 0; i < n; i++)
    if (isfinite (x[i]))
      m = fmaxf (m, x[i]);
  float alpha = 1.0f;
  if (m > 0.0f) {
    g_autofree guint64 *hist = g_new0 (guint64, APOT_HIST_BINS);
    float f = (float) APOT_HIST_BINS / m;
    for (size_t i = 0; i < n; i++) {
      if (!(x[i] > 0.0f) || !isfinite (x[i]))
        continue;
      int b = (int) (x[i] * f);
      hist[MIN (b, APOT_HIST_BINS - 1)]++;
    }
    /* elements <= 0 count as zeros below every bin */
    guint64 target = (guint64) ceil (APOT_ACT_PERCENTILE * (double) n);
    guint64 below = 0;
    for (size_t i = 0; i < n; i++)
      if (!(x[i] > 0.0f))
        below++;
    int b = 0;
    while (b < APOT_HIST_BINS - 1 && below + hist[b] < target) {
      below += hist[b];
      b++;
    }
    /* a (nearly) dead layer: its max is as good as any */
    alpha = below >= target ? m : m * (float) (b + 1) / APOT_HIST_BINS;
  }
  q->params[0] = alpha;
  q->state[0] = 1.0f;
}

static void
apot_act_forward (EspcnQuantizer *q, const float *x, float *y, size_t n)
{
  if (q->state[0] == 0.0f)
    apot_act_init (q, x, n);
  const float qm = (float) q->qmax;
  float s = apot_alpha (q) / qm;
  float inv_s = 1.0f / s;
  for (size_t i = 0; i < n; i++)
    y[i] = espcn_fq_level (x[i], inv_s, 0.0f, qm) * s;
}

static void
apot_act_backward (EspcnQuantizer *q, const float *x, const float *dy, float *dx, size_t n)
{
  const float qm = (float) q->qmax;
  float alpha = apot_alpha (q);
  float s = alpha / qm;
  float inv_s = 1.0f / s;
  float inv_alpha = 1.0f / alpha;
  double dalpha = 0.0;
  for (size_t i = 0; i < n; i++) {
    float v = x[i];
    if (v >= alpha) {
      dx[i] = 0.0f;
      dalpha += dy[i];
    } else if (v > 0.0f) {
      dx[i] = dy[i];
      float l = espcn_fq_level (v, inv_s, 0.0f, qm);
      dalpha += (double) dy[i] * (l / qm - v * inv_alpha);
    } else {
      dx[i] = 0.0f;
    }
  }
  q->grads[0] += (float) dalpha;
}

static gboolean
apot_export_act (EspcnQuantizer *q, float *scale, gint32 *qmax, GError **error)
{
  if (q->state[0] == 0.0f) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "apot export: activation quantizer was never initialised");
    return FALSE;
  }
  *scale = apot_alpha (q) / (float) q->qmax;
  *qmax = q->qmax;
  return TRUE;
}

static void
apot_free_state (EspcnQuantizer *q)
{
  g_free (q->priv);
  q->priv = NULL;
}

static const EspcnQuantizerOps apot_weight_ops = {
  .method = "apot",
  .init = apot_weight_init,
  .forward = apot_weight_forward,
  .backward = apot_weight_backward,
  .export_weights = apot_export_weights,
  .free_state = apot_free_state,
};

static const EspcnQuantizerOps apot_act_ops = {
  .method = "apot",
  .init = apot_act_init,
  .forward = apot_act_forward,
  .backward = apot_act_backward,
  .export_act = apot_export_act,
  .free_state = apot_free_state,
};

gboolean
espcn_quant_apot_setup (EspcnQuantizer *q, size_t n, GError **error)
{
  (void) n;
  switch (q->role) {
  case ESPCN_QUANT_WEIGHT: {
    ApotTables *t = g_new (ApotTables, 1);
    apot_build_tables (t);
    q->priv = t;
    q->ops = &apot_weight_ops;
    q->qmax = APOT_L_MAX; /* the largest |w_int| */
    break;
  }
  case ESPCN_QUANT_ACT:
    if (q->qmax < 1) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "apot activations: qmax must be >= 1, got %d", (int) q->qmax);
      return FALSE;
    }
    q->ops = &apot_act_ops;
    break;
  default:
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "apot: unknown quantizer role %d", (int) q->role);
    return FALSE;
  }
  /* params: alpha; state: [initialised] (a resumed run must not re-initialise) */
  q->n_params = 1;
  q->params = g_new0 (float, 1);
  q->grads = g_new0 (float, 1);
  q->params[0] = 3.0f;
  q->n_state = 1;
  q->state = g_new0 (float, 1);
  return TRUE;
}
