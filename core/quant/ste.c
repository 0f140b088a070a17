/* STE: plain fake quantization with max-based scales and the straight-through
 * estimator (the baseline QAT of Bengio et al. 2013 / Jacob et al. 2018).
 *
 * Weights: the absmax quantizer shared with PACT (absmax-weight.h): symmetric per
 * output channel, s_c = max |w_c| / 127 recomputed every forward, levels
 * round_half_up (w / s_c) in [-127, 127]; dw = dy.
 *
 * Activations: per tensor, s = r / qmax with r an exponential moving average of
 * the batch maximum of max (x, 0):
 *     r <- 0.99 r + 0.01 max (batch)          (only while q->training)
 * updated in forward before quantizing that batch (momentum 0.99, the usual
 * moving-average observer constant: about 100 steps of memory, smooth enough
 * that one outlier batch does not move the grid).  r starts at the max of the
 * first batch (init(), or the first forward if init() was not called).
 * y = level * s with level = round_half_up (clamp (x / s, 0, qmax)); the lower
 * clamp is the ReLU.  dx = dy where 0 < x / s < qmax, else 0 (clipped).
 * Export uses r (a static scale).  A zero r (a first batch with no positive
 * value) quantizes with s = 1 / qmax until the average becomes positive.
 *
 * state = { r, initialised } so that a checkpoint resumes exactly.
 */
#include "quant/methods.h"
#include "quant/absmax-weight.h"
#include "quant/fakequant.h"

#include <gio/gio.h>

#define STE_MOMENTUM 0.99f

enum { STE_STATE_RUNNING_MAX, STE_STATE_INITIALISED, STE_N_STATE };

/* ---- activations ---- */

static float
ste_act_scale (const EspcnQuantizer *q)
{
  const float r = q->state[STE_STATE_RUNNING_MAX];
  return (r > 0.0f ? r : 1.0f) / (float) q->qmax;
}

static void
ste_act_init (EspcnQuantizer *q, const float *x, size_t n)
{
  q->state[STE_STATE_RUNNING_MAX] = espcn_fq_relu_max (x, n);
  q->state[STE_STATE_INITIALISED] = 1.0f;
}

static void
ste_act_forward (EspcnQuantizer *q, const float *x, float *y, size_t n)
{
  if (q->state[STE_STATE_INITIALISED] == 0.0f) {
    ste_act_init (q, x, n);
  } else if (q->training) {
    float *r = &q->state[STE_STATE_RUNNING_MAX];
    *r = STE_MOMENTUM * *r + (1.0f - STE_MOMENTUM) * espcn_fq_relu_max (x, n);
  }
  espcn_fq_uniform (x, y, n, ste_act_scale (q), 0.0f, (float) q->qmax);
}

static void
ste_act_backward (EspcnQuantizer *q, const float *x, const float *dy, float *dx, size_t n)
{
  const float inv = 1.0f / ste_act_scale (q);
  const float hi = (float) q->qmax;
  for (size_t i = 0; i < n; i++) {
    const float t = x[i] * inv;
    dx[i] = (float) ((t > 0.0f) & (t < hi)) * dy[i];
  }
}

static gboolean
ste_export_act (EspcnQuantizer *q, float *scale, gint32 *qmax, GError **error)
{
  if (q->state[STE_STATE_INITIALISED] == 0.0f) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "ste: activation quantizer exported before its running maximum saw any batch");
    return FALSE;
  }
  *scale = ste_act_scale (q);
  *qmax = q->qmax;
  return TRUE;
}

static const EspcnQuantizerOps ste_weight_ops = ESPCN_ABSMAX_WEIGHT_OPS ("ste");

static const EspcnQuantizerOps ste_act_ops = {
  .method = "ste",
  .init = ste_act_init,
  .forward = ste_act_forward,
  .backward = ste_act_backward,
  .export_act = ste_export_act,
};

gboolean
espcn_quant_ste_setup (EspcnQuantizer *q, size_t n, GError **error)
{
  if (!espcn_fq_check_setup ("ste", q, n, error))
    return FALSE;
  if (q->role == ESPCN_QUANT_WEIGHT) {
    espcn_absmax_weight_setup (q, &ste_weight_ops);
    return TRUE;
  }
  q->ops = &ste_act_ops;
  q->n_state = STE_N_STATE;
  q->state = g_new0 (float, STE_N_STATE);
  return TRUE;
}
