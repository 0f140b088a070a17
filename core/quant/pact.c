/* PACT: Parameterized Clipping Activation (Choi et al., 2018).
 *
 * Activations (per tensor, learned clip alpha, q->qmax levels):
 *   y   = clip (x, 0, alpha),   y_q = round (y * qmax / alpha) * alpha / qmax
 *   dx     = dy                  for 0 <= x < alpha, else 0
 *   dalpha = sum of dy over x >= alpha     (the paper's STE: d y_q / d alpha = 1
 *                                           where x >= alpha, 0 elsewhere)
 * The grid is computed as level * (alpha / qmax) with the level rounded half up
 * from clamp (x * (1 / (alpha / qmax)), 0, qmax) (espcn_fq_uniform), which is
 * the paper's expression up to one ulp before rounding, and is exactly what
 * export_act's scale reproduces.  alpha is used as max (alpha, 1e-6) so that a
 * collapsed parameter cannot divide by zero; its gradient goes to the raw value.
 *
 * Regulariser: the paper's L2 penalty lambda * alpha^2 (gradient 2 lambda alpha).
 * The paper sets lambda to the weight decay, on a cross-entropy loss of order 1;
 * our loss is a per-pixel MSE of order 1e-3, so lambda is scaled down with it:
 * lambda = 1e-6.  At that value the pull on alpha (about 2e-6 * alpha) balances a
 * clipping gradient of the order of 1% of the loss per unit alpha.
 *
 * Initial alpha: the 99.9th percentile of max (x, 0) over the first batch (the
 * paper's fixed alpha = 10 is meaningless for activations in [0, ~3]; the top
 * 0.1% are left for the gradient to argue about).  Falls back to the batch max,
 * then to 1, if the batch is (nearly) all non-positive.
 *
 * Weights: the absmax quantizer shared with STE (absmax-weight.h): symmetric per
 * output channel, scale max |w_c| / 127, levels in [-127, 127], gradient straight
 * through.  The PACT
 * paper quantized weights with DoReFa; this project exports PACT models to the
 * int8 engine, so its weights use the int8 grid like the other int8 methods.
 *
 * state[0] = 1 once alpha is initialised (kept in checkpoints); forward() before
 * init() initialises from its own input.
 */
#include "quant/methods.h"
#include "quant/absmax-weight.h"
#include "quant/fakequant.h"

#include <gio/gio.h>

#define PACT_ALPHA_MIN 1e-6f
#define PACT_LAMBDA 1e-6f
#define PACT_INIT_QUANTILE 0.999

static float
pact_alpha (const EspcnQuantizer *q)
{
  const float a = q->params[0];
  return a > PACT_ALPHA_MIN ? a : PACT_ALPHA_MIN;   /* NaN too */
}

static float
pact_act_scale (const EspcnQuantizer *q)
{
  return pact_alpha (q) / (float) q->qmax;
}

/* ---- activations ---- */

static void
pact_act_init (EspcnQuantizer *q, const float *x, size_t n)
{
  float a = espcn_fq_relu_quantile (x, n, PACT_INIT_QUANTILE);
  if (!(a > 0.0f))
    a = espcn_fq_relu_max (x, n);
  if (!(a > 0.0f))
    a = 1.0f;
  q->params[0] = a;
  q->state[0] = 1.0f;
}

static void
pact_act_forward (EspcnQuantizer *q, const float *x, float *y, size_t n)
{
  if (q->state[0] == 0.0f)
    pact_act_init (q, x, n);
  espcn_fq_uniform (x, y, n, pact_act_scale (q), 0.0f, (float) q->qmax);
}

static void
pact_act_backward (EspcnQuantizer *q, const float *x, const float *dy, float *dx, size_t n)
{
  const float alpha = pact_alpha (q);
  float clipped[ESPCN_FQ_BLOCK];
  double dalpha = 0.0;
  for (size_t b = 0; b < n; b += ESPCN_FQ_BLOCK) {
    const size_t k = MIN (ESPCN_FQ_BLOCK, n - b);
    for (size_t i = 0; i < k; i++) {
      const float v = x[b + i], d = dy[b + i];
      const int above = v >= alpha;
      const float inside = (float) ((v >= 0.0f) & (above ^ 1));
      clipped[i] = (float) above * d;
      dx[b + i] = inside * d;
    }
    dalpha += espcn_fq_sum (clipped, k);
  }
  q->grads[0] += (float) dalpha;
}

static float
pact_act_regularizer (EspcnQuantizer *q, const float *x, float *dx_reg, size_t n)
{
  (void) x;
  (void) dx_reg;   /* the penalty does not depend on the activations */
  (void) n;
  const float a = q->params[0];
  q->grads[0] += 2.0f * PACT_LAMBDA * a;
  return PACT_LAMBDA * a * a;
}

static gboolean
pact_export_act (EspcnQuantizer *q, float *scale, gint32 *qmax, GError **error)
{
  if (q->state[0] == 0.0f) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "pact: activation quantizer exported before alpha was initialised");
    return FALSE;
  }
  *scale = pact_act_scale (q);
  *qmax = q->qmax;
  return TRUE;
}

static const EspcnQuantizerOps pact_weight_ops = ESPCN_ABSMAX_WEIGHT_OPS ("pact");

static const EspcnQuantizerOps pact_act_ops = {
  .method = "pact",
  .init = pact_act_init,
  .forward = pact_act_forward,
  .backward = pact_act_backward,
  .regularizer = pact_act_regularizer,
  .export_act = pact_export_act,
};

gboolean
espcn_quant_pact_setup (EspcnQuantizer *q, size_t n, GError **error)
{
  if (!espcn_fq_check_setup ("pact", q, n, error))
    return FALSE;
  if (q->role == ESPCN_QUANT_WEIGHT) {
    espcn_absmax_weight_setup (q, &pact_weight_ops);
    return TRUE;
  }
  q->ops = &pact_act_ops;
  q->n_params = 1;
  q->params = g_new0 (float, 1);
  q->grads = g_new0 (float, 1);
  q->n_state = 1;
  q->state = g_new0 (float, 1);
  return TRUE;
}
