/* DoReFa-Net quantizers (Zhou et al. 2016), k = 8 bits, no learned parameters.
 *
 * Weights (the whole layer shares one normalisation, as in the paper):
 *   t = tanh(w),  M = max_j |t_j|,  w_t = t / (2M) + 1/2  in [0, 1]
 *   i = round_half_up(255 w_t)  in [0, 255],  w_q = 2 i / 255 - 1 = (2i - 255) / 255
 * so the integer is w_int = 2i - 255 (odd, |w_int| <= 255, s16) and scale = 1/255
 * for every channel.  Gradient: straight through quantize_k (dw_q/dw_t = 2), then
 * exactly through tanh and through the max normalisation (the authors' code
 * differentiates through reduce_max; the max's gradient goes to the first element
 * reaching it).
 *
 * Activations: a_q = round_half_up(qmax clip(x, 0, 1)) / qmax (qmax = 255 for the
 * s16-weight grid); gradient dy inside [0, 1], 0 outside.
 */
#include "quant/methods.h"
#include "quant/fakequant.h"

#include <gio/gio.h>
#include <math.h>

#define DOREFA_W_LEVELS 255 /* 2^8 - 1 */

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

/* max_j |tanh(w_j)| and the first index reaching it. */
static float
dorefa_max_tanh (const float *x, size_t n, size_t *argmax)
{
  float m = 0.0f;
  size_t am = 0;
  for (size_t i = 0; i < n; i++) {
    float a = fabsf (tanhf (x[i]));
    if (a > m) {
      m = a;
      am = i;
    }
  }
  if (argmax != NULL)
    *argmax = am;
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

static void
dorefa_weight_forward (EspcnQuantizer *q, const float *x, float *y, size_t n)
{
  (void) q;
  const float scale = 1.0f / (float) DOREFA_W_LEVELS;
  float h = dorefa_half_inv_max (dorefa_max_tanh (x, n, NULL));
  for (size_t i = 0; i < n; i++)
    y[i] = (float) dorefa_weight_int (x[i], h) * scale;
}

static void
dorefa_weight_backward (EspcnQuantizer *q, const float *x, const float *dy, float *dx, size_t n)
{
  (void) q;
  size_t am;
  float m = dorefa_max_tanh (x, n, &am);
  if (m <= 0.0f) {
    /* All weights zero: the normalisation is undefined; pass the gradient
     * straight through so the layer can leave this point. */
    for (size_t i = 0; i < n; i++)
      dx[i] = dy[i];
    return;
  }
  /* w_q_i = 2 (t_i / (2M) + 1/2) - 1 = t_i / M (straight through quantize_k):
   * dL/dw_j = (1 - t_j^2) [dy_j / M - [j == am] sign(t_j) sum_i dy_i t_i / M^2] */
  double dot = 0.0;
  for (size_t i = 0; i < n; i++) {
    float t = tanhf (x[i]);
    dot += (double) dy[i] * t;
    dx[i] = dy[i] * (1.0f - t * t) / m;
  }
  float tam = tanhf (x[am]);
  float sign = tam < 0.0f ? -1.0f : 1.0f;
  dx[am] -= (float) ((double) sign * (1.0 - (double) tam * tam) * dot / ((double) m * m));
}

static gboolean
dorefa_export_weights (EspcnQuantizer *q, const float *w, size_t n, EspcnWeightExport *out, GError **error)
{
  if (n == 0 || n % (size_t) q->channels != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "dorefa export: %zu weights do not split into %d output channels", n, q->channels);
    return FALSE;
  }
  float h = dorefa_half_inv_max (dorefa_max_tanh (w, n, NULL));
  for (size_t i = 0; i < n; i++)
    out->w_int[i] = dorefa_weight_int (w[i], h);
  for (int c = 0; c < q->channels; c++)
    out->scale[c] = 1.0f / (float) DOREFA_W_LEVELS;
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
