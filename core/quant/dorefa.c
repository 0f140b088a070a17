/* DoReFa-Net quantizers (Zhou et al. 2016), k = 8 bits, no learned parameters.
 *
 * Weights (the whole layer shares one normalisation, as in the paper):
 *   t = tanh(w),  M = max_j |t_j|,  w_t = t / (2M) + 1/2  in [0, 1]
 *   i = round_half_up(255 w_t)  in [0, 255],  w_q = 2 i / 255 - 1 = (2i - 255) / 255
 *   y = M w_q                                                  (our deviation, below)
 * so the integer is w_int = 2i - 255 (odd, |w_int| <= 255, s16) and scale = M / 255
 * for every channel.
 *
 * Deviation from the paper: the factor M.  The paper's w_q lies in [-1, 1] whatever
 * the layer's magnitude, and the batch norm after each of its convs absorbs the
 * scale; ESPCN has no batch norm and its trained weights are about +-0.02 to 0.1,
 * so w_q alone makes each layer's output tens of times too large (measured on a
 * warmed-up model: conv1's weight quantizer alone takes a batch from 16.1 to 4.4 dB,
 * docs/integer-grid.md).  y = M w_q is the paper's level set (odd multiples of
 * 1/255) times one per-layer scale that gives the quantized weights the float
 * layer's magnitude: with tanh(w) ~ w for small w, y ~ tanh(w).  The scale is
 * recomputed from the current weights at every step, as DoReFa's own E(|w|)
 * scaling of binary weights is, so it follows the weights and keeps no state.
 *
 * Gradient: straight through quantize_k, the surrogate of y is M (t / M) = t, so
 * the max normalisation cancels exactly and dL/dw = dy (1 - tanh(w)^2).
 *
 * Second deviation, for starting from float weights (a warm-up or --init; the
 * paper trains from scratch): y ~ tanh(w) is bounded by 1 and bends weights above
 * about 0.3, and ESPCN's identity channels (nn/init-interpolator.h) carry weights
 * of 1.1 to 1.2 after float training: switching DoReFa on took conv1 and conv2's
 * identity paths to tanh(1.2) and tanh(1.1), two thirds of the interpolation.  So when
 * quantization turns on the layer adopts the float weights v: a fixed gain
 * g = max(1, max|v| / DOREFA_ADOPT_TANH) and latent weights w = atanh(v / g), with
 *   y = g M w_q,  scale = g M / 255,  dL/dw = g dy (1 - tanh(w)^2),
 * so y ~ g tanh(w) = v: the quantized network starts as the float one, the level
 * set is still the paper's (odd multiples of 1/255 times one per-layer scale),
 * and g, kept in the checkpoint, never changes afterwards.  Before adoption g = 1.
 * The level set has no zero: every weight within one step of 0 becomes +-1 step
 * by its sign.  ESPCN's float models hold many such weights with one sign per
 * row (the interpolator's identity rows, channels whose ReLU never fires, shrunk
 * by weight decay: 72% of conv1's weights in an x4 model), and their +-1 steps
 * summed over a 576-weight conv2 row shift that channel by the size of a pixel.
 * Adoption therefore sets the weights under half a step to +-1/4 of a step,
 * alternating, so their errors cancel on average.  Measured at the switch of a
 * 3-epoch x4 luma run with the learning rate near 0 (float 24.08 dB): the paper's
 * quantizer with M alone 16.00 dB, with the gain and atanh 12.12 (the identity
 * weights whole, the one-signed steps still there), with both 23.99.
 *
 * Activations: a_q = round_half_up(qmax clip(x, 0, 1)) / qmax (qmax = 255 for the
 * s16-weight grid); gradient dy inside [0, 1], 0 outside.  This is the paper's
 * method unchanged: ESPCN's hidden activations exceed 1 a little (measured after a
 * float warm-up: conv1 max 1.73 with 0.8% of values above 1, conv2 max 1.17 with
 * 0.1%) and are clipped, which costs 0.3 dB on that batch, not a collapse.
 */
#include "quant/methods.h"
#include "quant/fakequant.h"

#include <gio/gio.h>
#include <math.h>

#define DOREFA_W_LEVELS 255 /* 2^8 - 1 */
/* The largest |v / g| at adoption: atanh stays finite and the largest weight keeps
 * a gradient (1 - 0.95^2 ~ 0.1 of the surrogate's slope at 0). */
#define DOREFA_ADOPT_TANH 0.95f
#define DOREFA_STATE_GAIN 0

/* The integer of weight w given the layer's max |tanh|: one function, shared by
 * forward and export, so both give the same integers. */
static inline gint32
dorefa_weight_int (float w, float half_inv_max)
{
  float wt = tanhf (w) * half_inv_max + 0.5f;
  float i = espcn_round_half_up (wt * (float) DOREFA_W_LEVELS);
  i = fminf (fmaxf (i, 0.0f), (float) DOREFA_W_LEVELS);
  return 2 * (gint32) i - DOREFA_W_LEVELS;
}

/* max_j |tanh(w_j)| over the layer. */
static float
dorefa_max_tanh (const float *x, size_t n)
{
  float m = 0.0f;
  for (size_t i = 0; i < n; i++)
    m = fmaxf (m, fabsf (tanhf (x[i])));
  return m;
}

/* 1 / (2M); an all-zero layer has M = 0 and maps every weight to w_t = 1/2. */
static float
dorefa_half_inv_max (float m)
{
  return m > 0.0f ? 0.5f / m : 0.0f;
}

static void
dorefa_noop_init (EspcnQuantizer *q, const float *x, size_t n)
{
  (void) q;
  (void) x;
  (void) n;
}

/* The real value of one integer step: g M / 255 (M = max|tanh(w)| of the layer,
 * g the adoption gain).  An all-zero layer has M = 0: every integer is +1 and the
 * scale g / 255 keeps it an ordinary positive scale for the exporter (its bias
 * grid); that layer's quantized weights are then +g/255, as the paper's would be. */
static float
dorefa_weight_scale (const EspcnQuantizer *q, float m)
{
  return q->state[DOREFA_STATE_GAIN] * (m > 0.0f ? m : 1.0f) / (float) DOREFA_W_LEVELS;
}

/* Adoption of float weights v (the second deviation above): g and w = atanh(v / g). */
static void
dorefa_weight_adopt (EspcnQuantizer *q, float *w, size_t n)
{
  float vmax = 0.0f;
  for (size_t i = 0; i < n; i++)
    vmax = fmaxf (vmax, fabsf (w[i]));
  const float g = fmaxf (1.0f, vmax / DOREFA_ADOPT_TANH);
  q->state[DOREFA_STATE_GAIN] = g;
  for (size_t i = 0; i < n; i++)
    w[i] = atanhf (fminf (fmaxf (w[i] / g, -DOREFA_ADOPT_TANH), DOREFA_ADOPT_TANH));
  /* One step in latent terms near 0, where tanh(w) ~ w: M / 255. */
  const float step = dorefa_max_tanh (w, n) / (float) DOREFA_W_LEVELS;
  gboolean up = TRUE;
  for (size_t i = 0; i < n; i++)
    if (fabsf (w[i]) < 0.5f * step) {
      w[i] = up ? 0.25f * step : -0.25f * step;
      up = !up;
    }
}

static void
dorefa_weight_forward (EspcnQuantizer *q, const float *x, float *y, size_t n)
{
  float m = dorefa_max_tanh (x, n);
  const float scale = dorefa_weight_scale (q, m);
  float h = dorefa_half_inv_max (m);
  for (size_t i = 0; i < n; i++)
    y[i] = (float) dorefa_weight_int (x[i], h) * scale;
}

static void
dorefa_weight_backward (EspcnQuantizer *q, const float *x, const float *dy, float *dx, size_t n)
{
  /* y = g M w_q with w_q = t / M straight through quantize_k: y = g t, the max cancels. */
  const float g = q->state[DOREFA_STATE_GAIN];
  for (size_t i = 0; i < n; i++) {
    float t = tanhf (x[i]);
    dx[i] = g * dy[i] * (1.0f - t * t);
  }
}

static gboolean
dorefa_export_weights (EspcnQuantizer *q, const float *w, size_t n, EspcnWeightExport *out, GError **error)
{
  if (n == 0 || n % (size_t) q->channels != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "dorefa export: %zu weights do not split into %d output channels", n, q->channels);
    return FALSE;
  }
  float m = dorefa_max_tanh (w, n);
  float h = dorefa_half_inv_max (m);
  for (size_t i = 0; i < n; i++)
    out->w_int[i] = dorefa_weight_int (w[i], h);
  for (int c = 0; c < q->channels; c++)
    out->scale[c] = dorefa_weight_scale (q, m);
  out->w_int_max = DOREFA_W_LEVELS;
  return TRUE;
}

static void
dorefa_act_forward (EspcnQuantizer *q, const float *x, float *y, size_t n)
{
  const float qm = (float) q->qmax;
  const float scale = 1.0f / qm;
  /* clamp(x qmax, 0, qmax) is qmax clip(x, 0, 1) */
  for (size_t i = 0; i < n; i++)
    y[i] = espcn_fq_level (x[i], qm, 0.0f, qm) * scale;
}

static void
dorefa_act_backward (EspcnQuantizer *q, const float *x, const float *dy, float *dx, size_t n)
{
  (void) q;
  for (size_t i = 0; i < n; i++)
    dx[i] = (x[i] >= 0.0f && x[i] <= 1.0f) ? dy[i] : 0.0f;
}

static gboolean
dorefa_export_act (EspcnQuantizer *q, float *scale, gint32 *qmax, GError **error)
{
  (void) error;
  *scale = 1.0f / (float) q->qmax;
  *qmax = q->qmax;
  return TRUE;
}

static const EspcnQuantizerOps dorefa_weight_ops = {
  .method = "dorefa",
  .init = dorefa_noop_init,
  .adopt = dorefa_weight_adopt,
  .forward = dorefa_weight_forward,
  .backward = dorefa_weight_backward,
  .export_weights = dorefa_export_weights,
};

static const EspcnQuantizerOps dorefa_act_ops = {
  .method = "dorefa",
  .init = dorefa_noop_init,
  .forward = dorefa_act_forward,
  .backward = dorefa_act_backward,
  .export_act = dorefa_export_act,
};

gboolean
espcn_quant_dorefa_setup (EspcnQuantizer *q, size_t n, GError **error)
{
  (void) n;
  switch (q->role) {
  case ESPCN_QUANT_WEIGHT:
    q->ops = &dorefa_weight_ops;
    q->qmax = DOREFA_W_LEVELS; /* the largest |w_int| */
    q->n_state = 1;
    q->state = g_new (float, 1);
    q->state[DOREFA_STATE_GAIN] = 1.0f;
    return TRUE;
  case ESPCN_QUANT_ACT:
    if (q->qmax < 1) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "dorefa activations: qmax must be >= 1, got %d", (int) q->qmax);
      return FALSE;
    }
    q->ops = &dorefa_act_ops;
    return TRUE;
  }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "dorefa: unknown quantizer role %d", (int) q->role);
  return FALSE;
}
