/* LSQ: Learned Step Size Quantization (Esser et al., ICLR 2020).
 *
 *   v_bar = round (clip (v / s, -Qn, Qp)),   v_hat = v_bar * s
 *
 * with one learned step size s per output channel for weights (Qn = Qp = 127,
 * the int8 grid) and one per tensor for activations (Qn = 0, Qp = q->qmax; the
 * lower clip is the ReLU).  Gradients, straight through the rounding:
 *
 *   dv = dy                            if -Qn < v/s < Qp, else 0
 *   ds = g * sum dy * { round(v/s) - v/s   if -Qn < v/s < Qp
 *                       -Qn                if v/s <= -Qn
 *                       Qp                 if v/s >= Qp }
 *   g  = 1 / sqrt (N * Qp)
 *
 * N is the number of values the step size covers in one call: the weights of
 * one output channel, or the whole activation tensor passed to forward (the
 * batch, since the trainer quantizes a whole NCHW batch at once).  The paper's
 * N_F counts the features of one sample; the interface does not carry the batch
 * size, so ours is the batch count (g smaller by sqrt(batch), 4x at batch 16),
 * the convention of common LSQ implementations.
 *
 * Initialisation (paper): s = 2 mean |v| / sqrt (Qp), per channel for weights,
 * for activations from the first batch; ours is at least max |v| / Qp (nothing
 * clipped at the start, see lsq_init).  Activations: over max (v, 0) since the paper's
 * quantizer input is a ReLU output and our clip at 0 is that ReLU.  A channel or
 * batch that is all zero gets s = 1 / Qp.
 *
 * The step size used is max (s, 1e-8) (a parameter that Adam drives to zero or
 * below would otherwise divide by zero); its gradient still goes to the raw
 * parameter, so it can come back.  Rounding is half up (espcn_round_half_up);
 * v / s is computed as v * (1 / s).
 *
 * state[0] = 1 once initialised (kept in checkpoints).  forward() before init()
 * initialises from its own input.
 */
#include "quant/methods.h"
#include "quant/fakequant.h"

#include <gio/gio.h>
#include <math.h>

#define LSQ_S_MIN 1e-8f

static float
lsq_step (const EspcnQuantizer *q, int c)
{
  const float s = q->params[c];
  return s > LSQ_S_MIN ? s : LSQ_S_MIN;   /* NaN too */
}

/* Grid bounds [lo, hi] = [-Qn, Qp] and the number of blocks (one per step size). */
static void
lsq_grid (const EspcnQuantizer *q, float *lo, float *hi)
{
  if (q->role == ESPCN_QUANT_WEIGHT) {
    *lo = -(float) ESPCN_WEIGHT_QMAX_INT8;
    *hi = (float) ESPCN_WEIGHT_QMAX_INT8;
  } else {
    *lo = 0.0f;
    *hi = (float) q->qmax;
  }
}

static void
lsq_init (EspcnQuantizer *q, const float *x, size_t n)
{
  float lo, hi;
  lsq_grid (q, &lo, &hi);
  g_return_if_fail (n % (size_t) q->channels == 0);
  const size_t m = n / (size_t) q->channels;
  const gboolean relu = q->role == ESPCN_QUANT_ACT;
  for (int c = 0; c < q->channels; c++) {
    const float *v = x + (size_t) c * m;
    double s = 2.0 * espcn_fq_abs_mean (v, m, relu) / sqrt ((double) hi);
    /* No value clipped at the start: the paper's step can be far too small.  Weights:
     * a sparse channel (the interpolator start's identity rows: one tap of 1 among
     * zeros) has a tiny mean, and the paper's step would clip its one weight that
     * matters (dense channels are unaffected: for uniform weights the max-based step
     * is 11x smaller).  Activations: ESPCN's are sparse after the ReLU while an
     * identity channel carries whole pixels; in an x4 luma model trained without
     * weight decay the paper's step clipped conv1's output at 0.33 (pixels reach
     * 0.92) and the network scored 13.05 dB at the switch; with the floor, 24.54
     * (float 24.65).  The step sizes then learn where to clip. */
    float amax = 0.0f;
    for (size_t i = 0; i < m; i++)
      amax = fmaxf (amax, fabsf (v[i]));
    s = MAX (s, (double) amax / hi);
    q->params[c] = s > 0.0 ? (float) s : 1.0f / hi;
  }
  q->state[0] = 1.0f;
}

static void
lsq_forward (EspcnQuantizer *q, const float *x, float *y, size_t n)
{
  g_return_if_fail (n % (size_t) q->channels == 0);
  if (q->state[0] == 0.0f)
    lsq_init (q, x, n);
  float lo, hi;
  lsq_grid (q, &lo, &hi);
  const size_t m = n / (size_t) q->channels;
  for (int c = 0; c < q->channels; c++)
    espcn_fq_uniform (x + (size_t) c * m, y + (size_t) c * m, m, lsq_step (q, c), lo, hi);
}

/* One step size's block: writes dx, returns the paper's sum (before g). */
static double
lsq_backward_block (const float *x, const float *dy, float *dx, size_t m, float s, float lo, float hi)
{
  const float inv = 1.0f / s;
  float lv[ESPCN_FQ_BLOCK], term[ESPCN_FQ_BLOCK];
  double sum = 0.0;
  for (size_t b = 0; b < m; b += ESPCN_FQ_BLOCK) {
    const size_t k = MIN (ESPCN_FQ_BLOCK, m - b);
    espcn_fq_levels_block (x + b, lv, k, inv, lo, hi);
    for (size_t i = 0; i < k; i++) {
      const float t = x[b + i] * inv;
      const float d = dy[b + i];
      /* 1 inside the clip range, else 0: arithmetic masks keep the loop branch-free */
      const float inside = (float) ((t > lo) & (t < hi));
      /* outside, the level is the clip bound itself: -Qn or Qp */
      term[i] = d * (lv[i] - inside * t);
      dx[b + i] = inside * d;
    }
    sum += espcn_fq_sum (term, k);
  }
  return sum;
}

static void
lsq_backward (EspcnQuantizer *q, const float *x, const float *dy, float *dx, size_t n)
{
  g_return_if_fail (n % (size_t) q->channels == 0);
  float lo, hi;
  lsq_grid (q, &lo, &hi);
  const size_t m = n / (size_t) q->channels;
  if (m == 0)
    return;
  const double g = 1.0 / sqrt ((double) m * (double) hi);
  for (int c = 0; c < q->channels; c++) {
    const size_t off = (size_t) c * m;
    const double sum = lsq_backward_block (x + off, dy + off, dx + off, m, lsq_step (q, c), lo, hi);
    q->grads[c] += (float) (g * sum);
  }
}

static gboolean
lsq_require_init (EspcnQuantizer *q, GError **error)
{
  if (q->state[0] != 0.0f)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
      "lsq: %s quantizer exported before its step size was initialised",
      q->role == ESPCN_QUANT_WEIGHT ? "weight" : "activation");
  return FALSE;
}

static gboolean
lsq_export_weights (EspcnQuantizer *q, const float *w, size_t n, EspcnWeightExport *out, GError **error)
{
  if (!lsq_require_init (q, error))
    return FALSE;
  if (n == 0 || n % (size_t) q->channels != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "lsq: cannot export %zu weights as %d output channels", n, q->channels);
    return FALSE;
  }
  for (int c = 0; c < q->channels; c++)
    out->scale[c] = lsq_step (q, c);
  out->w_int_max = ESPCN_WEIGHT_QMAX_INT8;
  const float qm = ESPCN_WEIGHT_QMAX_INT8;
  return espcn_fq_levels_per_channel ("lsq weight export", w, out->w_int, n, q->channels, out->scale, -qm, qm,
      error);
}

static gboolean
lsq_export_act (EspcnQuantizer *q, float *scale, gint32 *qmax, GError **error)
{
  if (!lsq_require_init (q, error))
    return FALSE;
  *scale = lsq_step (q, 0);
  *qmax = q->qmax;
  return TRUE;
}

static const EspcnQuantizerOps lsq_weight_ops = {
  .method = "lsq",
  .init = lsq_init,
  .forward = lsq_forward,
  .backward = lsq_backward,
  .export_weights = lsq_export_weights,
};

static const EspcnQuantizerOps lsq_act_ops = {
  .method = "lsq",
  .init = lsq_init,
  .forward = lsq_forward,
  .backward = lsq_backward,
  .export_act = lsq_export_act,
};

gboolean
espcn_quant_lsq_setup (EspcnQuantizer *q, size_t n, GError **error)
{
  if (!espcn_fq_check_setup ("lsq", q, n, error))
    return FALSE;
  q->ops = q->role == ESPCN_QUANT_WEIGHT ? &lsq_weight_ops : &lsq_act_ops;
  q->n_params = (size_t) q->channels;
  q->params = g_new0 (float, q->n_params);
  q->grads = g_new0 (float, q->n_params);
  q->n_state = 1;
  q->state = g_new0 (float, q->n_state);
  return TRUE;
}
