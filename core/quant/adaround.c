/* AdaRound (Nagel et al. 2020, "Up or Down? Adaptive Rounding for Post-Training
 * Quantization"), adapted to quantization-aware training.
 *
 * Weights, per output channel c with a scale s_c fixed at init:
 *   h(V)   = clip(sigmoid(V) (zeta - gamma) + gamma, 0, 1),  zeta = 1.1, gamma = -0.1
 *   train:   y = s_c clip(floor(w / s_c) + h(V), -qmax, qmax)
 *   eval:    y = s_c clip(floor(w / s_c) + [V >= 0], -qmax, qmax)   ([V >= 0] <=> h(V) >= 1/2)
 * V (one per weight) is learned.  The adaptation to QAT: the float weights keep
 * training too, their gradient passes straight through floor (dw = dy inside the
 * clip range), so floor(w / s_c) can move; the paper freezes w.
 * s_c = t max|w_c| / qmax with t in {0.30, 0.31, ..., 1.00} minimising the
 * channel's round-to-nearest MSE.  V starts where h(V) equals frac(w / s_c), the
 * fraction clamped into [0.001, 0.999] so that h starts strictly inside (0, 1) and
 * V gets a gradient.
 * Regulariser: f = lambda sum_i (1 - |2 h(V_i) - 1|^beta), lambda = 0.01 / n; off
 * for the first 20% of the quantized phase (warm start), then beta goes linearly
 * from 20 to 2 by 70% of it.
 * Fixed roundings for the last 30%: every V is set to +-10 by its sign, where h(V)
 * is exactly 1 or 0 and dh/dV = 0, so training runs the exported network.  The
 * paper's annealing ends with every h(V) at 0 or 1; in QAT the task loss holds a
 * third to half of them in between (measured at x2), and rounding those only at
 * export cost 0.08 dB on Set5.  The float weights and biases keep training on the
 * fixed roundings, as the paper's later layers learn on the earlier ones' final
 * quantized output.
 *
 * Activations: a fixed grid, set before the rounding is learned, as the paper's
 * asymmetric reconstruction optimises each layer's rounding on the input of the
 * already quantized network (its eq. 25).  When quantization turns on, observe()
 * builds a histogram of the positive activations of training batches and
 * calibrate_finish() picks the clip c minimising the expected squared error of
 * uniform quantization onto {0, c/qmax, ..., c}; from then on forward() quantizes
 * with s = c / qmax, in training too (gradient straight through inside (0, c), as
 * for the weights' floor).  Until then it is a plain ReLU.  Values <= 0 map to 0
 * exactly for every clip, so they do not enter the search.
 */
#include "quant/methods.h"
#include "quant/fakequant.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define ADAROUND_ZETA 1.1f
#define ADAROUND_GAMMA (-0.1f)
#define ADAROUND_LAMBDA 0.01f      /* per layer; divided by the number of weights */
#define ADAROUND_WARM 0.2f         /* fraction of the quantized phase without the regulariser */
#define ADAROUND_BETA_START 20.0f
#define ADAROUND_BETA_END 2.0f
#define ADAROUND_FIXED 0.3f        /* final fraction of the quantized phase with every rounding fixed */
#define ADAROUND_V_FIXED 10.0f     /* |V| where h(V) is clipped to exactly 0 or 1 */
#define ADAROUND_FRAC_EPS 1e-3f

#define HIST_BINS 2048
#define CLIP_CANDIDATES 512

/* ---------------- weights ---------------- */

/* state layout: [0] initialised, [1] progress, [2 ..] s_c */
#define W_STATE_INIT 0
#define W_STATE_PROGRESS 1
#define W_STATE_SCALES 2

static inline float
sigmoidf (float v)
{
  return 1.0f / (1.0f + expf (-v));
}

/* Unclipped rectified sigmoid. */
static inline float
h_raw (float v)
{
  return sigmoidf (v) * (ADAROUND_ZETA - ADAROUND_GAMMA) + ADAROUND_GAMMA;
}

static inline float
h_clip (float v)
{
  return fminf (fmaxf (h_raw (v), 0.0f), 1.0f);
}

/* dh/dV, zero where h is clipped. */
static inline float
h_deriv (float v)
{
  float sg = sigmoidf (v);
  float hr = sg * (ADAROUND_ZETA - ADAROUND_GAMMA) + ADAROUND_GAMMA;
  return (hr > 0.0f && hr < 1.0f) ? sg * (1.0f - sg) * (ADAROUND_ZETA - ADAROUND_GAMMA) : 0.0f;
}

static float
adaround_beta (float progress)
{
  if (progress < ADAROUND_WARM)
    return ADAROUND_BETA_START;
  float r = (progress - ADAROUND_WARM) / (1.0f - ADAROUND_FIXED - ADAROUND_WARM);
  return ADAROUND_BETA_START + (ADAROUND_BETA_END - ADAROUND_BETA_START) * fminf (r, 1.0f);
}

/* Round-to-nearest squared error of one channel at scale s. */
static double
channel_mse (const float *w, size_t k, float s, float qmax)
{
  double e = 0.0;
  for (size_t i = 0; i < k; i++) {
    float r = fminf (fmaxf (espcn_round_half_up (w[i] / s), -qmax), qmax);
    float d = w[i] - r * s;
    e += (double) d * d;
  }
  return e;
}

static void
adaround_weight_init (EspcnQuantizer *q, const float *x, size_t n)
{
  g_return_if_fail (n == q->n_params);
  const float qmax = (float) q->qmax;
  const size_t k = n / (size_t) q->channels;
  float layer_max = 0.0f;
  for (size_t i = 0; i < n; i++)
    layer_max = fmaxf (layer_max, fabsf (x[i]));
  /* a channel of zeros gets the layer's max-based scale (any scale keeps its zeros;
   * this one lets it grow later) */
  float fallback = layer_max > 0.0f ? layer_max / qmax : 1.0f / qmax;

  for (int c = 0; c < q->channels; c++) {
    const float *w = x + (size_t) c * k;
    float m = 0.0f;
    for (size_t i = 0; i < k; i++)
      m = fmaxf (m, fabsf (w[i]));
    float best_s = fallback;
    if (m > 0.0f) {
      double best = INFINITY;
      for (int t = 100; t >= 30; t--) {
        float s = m * (float) t / 100.0f / qmax;
        double e = channel_mse (w, k, s, qmax);
        if (e < best) {
          best = e;
          best_s = s;
        }
      }
    }
    q->state[W_STATE_SCALES + c] = best_s;

    /* h(V) = f  <=>  sigmoid(V) = (f - gamma) / (zeta - gamma)  <=>  V = log(p / (1 - p)) */
    for (size_t i = 0; i < k; i++) {
      float r = w[i] / best_s;
      float f = fminf (fmaxf (r - floorf (r), ADAROUND_FRAC_EPS), 1.0f - ADAROUND_FRAC_EPS);
      float p = (f - ADAROUND_GAMMA) / (ADAROUND_ZETA - ADAROUND_GAMMA);
      q->params[(size_t) c * k + i] = logf (p / (1.0f - p));
    }
  }
  q->state[W_STATE_INIT] = 1.0f;
}

/* The hard-rounded integer of weight i (eval mode and export). */
static inline gint32
hard_int (float w, float s, float v, float qmax)
{
  float r = floorf (w / s) + (v >= 0.0f ? 1.0f : 0.0f);
  return (gint32) fminf (fmaxf (r, -qmax), qmax);
}

static void
adaround_weight_forward (EspcnQuantizer *q, const float *x, float *y, size_t n)
{
  g_return_if_fail (n == q->n_params);
  if (q->state[W_STATE_INIT] == 0.0f)
    adaround_weight_init (q, x, n);
  const float qmax = (float) q->qmax;
  const size_t k = n / (size_t) q->channels;
  for (int c = 0; c < q->channels; c++) {
    const float s = q->state[W_STATE_SCALES + c];
    const size_t o = (size_t) c * k;
    if (q->training) {
      for (size_t i = o; i < o + k; i++) {
        float z = floorf (x[i] / s) + h_clip (q->params[i]);
        y[i] = s * fminf (fmaxf (z, -qmax), qmax);
      }
    } else {
      for (size_t i = o; i < o + k; i++)
        y[i] = (float) hard_int (x[i], s, q->params[i], qmax) * s;
    }
  }
}

static void
adaround_weight_backward (EspcnQuantizer *q, const float *x, const float *dy, float *dx, size_t n)
{
  g_return_if_fail (n == q->n_params);
  const float qmax = (float) q->qmax;
  const size_t k = n / (size_t) q->channels;
  for (int c = 0; c < q->channels; c++) {
    const float s = q->state[W_STATE_SCALES + c];
    const size_t o = (size_t) c * k;
    for (size_t i = o; i < o + k; i++) {
      float z = floorf (x[i] / s) + h_clip (q->params[i]);
      if (z >= -qmax && z <= qmax) {
        dx[i] = dy[i];
        q->grads[i] += dy[i] * s * h_deriv (q->params[i]);
      } else {
        dx[i] = 0.0f;
      }
    }
  }
}

static float
adaround_regularizer (EspcnQuantizer *q, const float *x, float *dx_reg, size_t n)
{
  (void) x;
  (void) dx_reg; /* the rounding term depends on V only */
  g_return_val_if_fail (n == q->n_params, 0.0f);
  float progress = q->state[W_STATE_PROGRESS];
  if (progress < ADAROUND_WARM)
    return 0.0f;
  const float beta = adaround_beta (progress);
  const float lambda = ADAROUND_LAMBDA / (float) n;
  double f = 0.0;
  for (size_t i = 0; i < n; i++) {
    float v = q->params[i];
    float e = 2.0f * h_clip (v) - 1.0f;
    float a = fabsf (e);
    f += 1.0 - pow (a, beta);
    /* d/dV (1 - |e|^beta) = -beta |e|^(beta-1) sign(e) 2 dh/dV */
    float hd = h_deriv (v);
    if (hd != 0.0f && a > 0.0f)
      q->grads[i] += -lambda * beta * powf (a, beta - 1.0f) * (e < 0.0f ? -1.0f : 1.0f) * 2.0f * hd;
  }
  return (float) (lambda * f);
}

static void
adaround_step (EspcnQuantizer *q, float progress)
{
  q->state[W_STATE_PROGRESS] = fminf (fmaxf (progress, 0.0f), 1.0f);
  if (q->state[W_STATE_PROGRESS] >= 1.0f - ADAROUND_FIXED)
    for (size_t i = 0; i < q->n_params; i++)
      q->params[i] = q->params[i] >= 0.0f ? ADAROUND_V_FIXED : -ADAROUND_V_FIXED; /* the sign is hard_int's bit */
}

static gboolean
adaround_export_weights (EspcnQuantizer *q, const float *w, size_t n, EspcnWeightExport *out, GError **error)
{
  if (n != q->n_params) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "adaround export: %zu weights given, the quantizer has %zu", n, q->n_params);
    return FALSE;
  }
  if (q->state[W_STATE_INIT] == 0.0f) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "adaround export: weight quantizer was never initialised");
    return FALSE;
  }
  const float qmax = (float) q->qmax;
  const size_t k = n / (size_t) q->channels;
  for (int c = 0; c < q->channels; c++) {
    const float s = q->state[W_STATE_SCALES + c];
    for (size_t i = (size_t) c * k; i < (size_t) (c + 1) * k; i++)
      out->w_int[i] = hard_int (w[i], s, q->params[i], qmax);
    out->scale[c] = s;
  }
  out->w_int_max = q->qmax;
  return TRUE;
}

/* ---------------- activations ---------------- */

/* state layout: [0] calibrated, [1] scale */
#define A_STATE_CALIBRATED 0
#define A_STATE_SCALE 1

typedef struct {
  guint64 hist[HIST_BINS];  /* positive values, bins of width hist_max / HIST_BINS */
  float hist_max;           /* 0 until a positive value was seen */
  float seen_max;
  guint64 n_seen;           /* all values observed, positive or not */
} AdaroundCalib;

static void
adaround_act_init (EspcnQuantizer *q, const float *x, size_t n)
{
  (void) q;
  (void) x;
  (void) n;
}

static gboolean
adaround_act_quantizing (const EspcnQuantizer *q)
{
  return q->state[A_STATE_CALIBRATED] != 0.0f;
}

static void
adaround_act_forward (EspcnQuantizer *q, const float *x, float *y, size_t n)
{
  if (!adaround_act_quantizing (q)) {
    for (size_t i = 0; i < n; i++)
      y[i] = fmaxf (x[i], 0.0f);
    return;
  }
  const float qm = (float) q->qmax;
  const float s = q->state[A_STATE_SCALE];
  const float inv_s = 1.0f / s;
  for (size_t i = 0; i < n; i++)
    y[i] = espcn_fq_level (x[i], inv_s, 0.0f, qm) * s;
}

static void
adaround_act_backward (EspcnQuantizer *q, const float *x, const float *dy, float *dx, size_t n)
{
  float hi = adaround_act_quantizing (q) ? q->state[A_STATE_SCALE] * (float) q->qmax : INFINITY;
  for (size_t i = 0; i < n; i++)
    dx[i] = (x[i] > 0.0f && x[i] < hi) ? dy[i] : 0.0f;
}

static void
adaround_act_observe (EspcnQuantizer *q, const float *x, size_t n)
{
  AdaroundCalib *cal = q->priv;
  float m = 0.0f;
  for (size_t i = 0; i < n; i++)
    if (isfinite (x[i]))
      m = fmaxf (m, x[i]);
  cal->n_seen += n;
  if (m <= 0.0f)
    return;
  if (cal->hist_max == 0.0f)
    cal->hist_max = m;
  /* widen the range by doubling, merging bin pairs, so earlier counts stay exact */
  while (m > cal->hist_max) {
    for (int b = 0; b < HIST_BINS / 2; b++)
      cal->hist[b] = cal->hist[2 * b] + cal->hist[2 * b + 1];
    memset (cal->hist + HIST_BINS / 2, 0, sizeof (guint64) * (HIST_BINS / 2));
    cal->hist_max *= 2.0f;
  }
  cal->seen_max = fmaxf (cal->seen_max, m);
  const float f = (float) HIST_BINS / cal->hist_max;
  for (size_t i = 0; i < n; i++) {
    if (!(x[i] > 0.0f) || !isfinite (x[i]))
      continue;
    int b = (int) (x[i] * f);
    cal->hist[MIN (b, HIST_BINS - 1)]++;
  }
}

/* Mean over x uniform in [a, b] of (x - Q(x))^2, Q(x) = s min(round(x / s), qmax). */
static double
bin_error (double a, double b, double s, int qmax)
{
  int k0 = MIN ((int) floor (a / s + 0.5), qmax);
  int k1 = MIN ((int) floor (b / s + 0.5), qmax);
  double e = 0.0;
  for (int k = k0; k <= k1; k++) {
    double lo = k == k0 ? a : (k - 0.5) * s;
    double hi = (k == k1) ? b : (k + 0.5) * s;
    double c = k * s;
    e += ((hi - c) * (hi - c) * (hi - c) - (lo - c) * (lo - c) * (lo - c)) / 3.0;
  }
  return e / (b - a);
}

static double
expected_error (const AdaroundCalib *cal, double clip, int qmax)
{
  const double w = (double) cal->hist_max / HIST_BINS;
  const double s = clip / qmax;
  double e = 0.0;
  for (int b = 0; b < HIST_BINS; b++)
    if (cal->hist[b] != 0)
      e += (double) cal->hist[b] * bin_error (b * w, (b + 1) * w, s, qmax);
  return e;
}

static gboolean
adaround_act_calibrate_finish (EspcnQuantizer *q, GError **error)
{
  AdaroundCalib *cal = q->priv;
  if (cal->n_seen == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "adaround calibration: no activations observed (call observe() on training batches first)");
    return FALSE;
  }
  float scale = 1.0f / (float) q->qmax; /* a dead layer: every value maps to 0 anyway */
  if (cal->hist_max > 0.0f) {
    /* candidates: CLIP_CANDIDATES evenly spaced clips up to the histogram's
     * range, plus the observed max (the max-based choice) */
    double best_clip = cal->seen_max;
    double best = expected_error (cal, best_clip, q->qmax);
    for (int j = 1; j <= CLIP_CANDIDATES; j++) {
      double clip = (double) cal->hist_max * j / CLIP_CANDIDATES;
      double e = expected_error (cal, clip, q->qmax);
      if (e < best) {
        best = e;
        best_clip = clip;
      }
    }
    scale = (float) (best_clip / q->qmax);
  }
  q->state[A_STATE_SCALE] = scale;
  q->state[A_STATE_CALIBRATED] = 1.0f;
  return TRUE;
}

static gboolean
adaround_export_act (EspcnQuantizer *q, float *scale, gint32 *qmax, GError **error)
{
  if (q->state[A_STATE_CALIBRATED] == 0.0f) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "adaround export: activation scale not calibrated (run observe() and calibrate_finish() first)");
    return FALSE;
  }
  *scale = q->state[A_STATE_SCALE];
  *qmax = q->qmax;
  return TRUE;
}

static void
adaround_free_priv (EspcnQuantizer *q)
{
  g_free (q->priv);
  q->priv = NULL;
}

static const EspcnQuantizerOps adaround_weight_ops = {
  .method = "adaround",
  .init = adaround_weight_init,
  .forward = adaround_weight_forward,
  .backward = adaround_weight_backward,
  .regularizer = adaround_regularizer,
  .step = adaround_step,
  .export_weights = adaround_export_weights,
};

static const EspcnQuantizerOps adaround_act_ops = {
  .method = "adaround",
  .init = adaround_act_init,
  .forward = adaround_act_forward,
  .backward = adaround_act_backward,
  .export_act = adaround_export_act,
  .observe = adaround_act_observe,
  .calibrate_finish = adaround_act_calibrate_finish,
  .free_state = adaround_free_priv,
};

gboolean
espcn_quant_adaround_setup (EspcnQuantizer *q, size_t n, GError **error)
{
  switch (q->role) {
  case ESPCN_QUANT_WEIGHT:
    if (n == 0 || n % (size_t) q->channels != 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "adaround weights: %zu weights do not split into %d output channels", n, q->channels);
      return FALSE;
    }
    if (q->qmax < 1 || q->qmax > ESPCN_WEIGHT_QMAX_INT8) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "adaround weights are int8: qmax must be in [1, %d], got %d", ESPCN_WEIGHT_QMAX_INT8, (int) q->qmax);
      return FALSE;
    }
    q->ops = &adaround_weight_ops;
    q->n_params = n;
    q->params = g_new0 (float, n);
    q->grads = g_new0 (float, n);
    q->n_state = W_STATE_SCALES + (size_t) q->channels;
    q->state = g_new0 (float, q->n_state);
    return TRUE;
  case ESPCN_QUANT_ACT:
    if (q->qmax < 1) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "adaround activations: qmax must be >= 1, got %d", (int) q->qmax);
      return FALSE;
    }
    q->ops = &adaround_act_ops;
    q->priv = g_new0 (AdaroundCalib, 1);
    q->n_state = 2;
    q->state = g_new0 (float, q->n_state);
    return TRUE;
  }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "adaround: unknown quantizer role %d", (int) q->role);
  return FALSE;
}
