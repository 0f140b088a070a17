/* espcn-gst: the quantizer interface shared by the six QAT methods.
 *
 * A quantizer fake-quantizes one tensor of the float model: the weights of one
 * conv (per output channel, `channels` contiguous blocks) or the output
 * activation of one conv (per tensor, `channels` == 1).  The float trainer in
 * core/nn calls it; core/quant/<method>.c implements it; the INT8 exporter asks
 * it for the integer grid.  The integer grid itself is fixed in
 * docs/integer-grid.md and mirrored by grid/int8-grid.h: training simulates
 * exactly what the integer engine computes.
 */
#pragma once

#include <glib.h>
#include <gio/gio.h>
#include <stddef.h>

#include "grid/int8-grid.h"  /* the integer grid (docs/integer-grid.md) */

G_BEGIN_DECLS

typedef enum {
  ESPCN_QUANT_WEIGHT,   /* a conv's weights, [out][in * kh * kw], per output channel */
  ESPCN_QUANT_ACT,      /* a hidden conv's output after ReLU, per tensor, unsigned */
} EspcnQuantRole;

typedef struct _EspcnQuantizer EspcnQuantizer;

/* What the exporter needs from a weight quantizer: integer levels and, per output
 * channel, the real value of one integer step, so that w_real = w_int * scale[c]. */
typedef struct {
  gint32 *w_int;      /* n values, caller-allocated */
  float *scale;       /* channels values, caller-allocated */
  gint32 w_int_max;   /* largest |w_int| the method can produce (decides int8 vs int16) */
} EspcnWeightExport;

typedef struct {
  const char *method;  /* "lsq", "pact", ... */

  /* Initialise the parameters from data seen (the weights themselves, or one
   * batch of activations), when quantization turns on after the float warm-up. */
  void (*init) (EspcnQuantizer *q, const float *x, size_t n);

  /* Weights only, may be NULL: called on the float weights just before init when
   * quantization turns on.  A method whose fake quantization is far from the
   * identity on ordinary weights (DoReFa's tanh) rewrites them into its own
   * parametrisation, so the quantized network starts where the float one was. */
  void (*adopt) (EspcnQuantizer *q, float *w, size_t n);

  /* Fake quantization y = Q(x).  In training mode (q->training) a method may
   * update running statistics (STE's moving averages). */
  void (*forward) (EspcnQuantizer *q, const float *x, float *y, size_t n);

  /* dx = dL/dx given dy = dL/dy and the same x as forward; gradients of the
   * quantizer's own parameters are *added* to q->grads. */
  void (*backward) (EspcnQuantizer *q, const float *x, const float *dy, float *dx, size_t n);

  /* The method's regulariser (AdaRound's rounding term, PACT's L2 on alpha, ...):
   * returns its value and adds its gradient to q->grads (and, where it depends on
   * the weights, to dx_reg when non-NULL).  NULL when the method has none. */
  float (*regularizer) (EspcnQuantizer *q, const float *x, float *dx_reg, size_t n);

  /* Called once per optimizer step with training progress in [0, 1] over the
   * quantized phase (AdaRound anneals beta with it).  May be NULL. */
  void (*step) (EspcnQuantizer *q, float progress);

  /* Integer export.  Weight quantizers fill EspcnWeightExport; activation
   * quantizers return the real value of one step and the largest level. */
  gboolean (*export_weights) (EspcnQuantizer *q, const float *w, size_t n, EspcnWeightExport *out, GError **error);
  gboolean (*export_act) (EspcnQuantizer *q, float *scale, gint32 *qmax, GError **error);

  /* Calibration (AdaRound's activations, when quantization turns on): observe()
   * is called on the activations of several training batches, then
   * calibrate_finish() fixes the scale.  NULL for methods whose activation scale
   * is learned or tracked. */
  void (*observe) (EspcnQuantizer *q, const float *x, size_t n);
  gboolean (*calibrate_finish) (EspcnQuantizer *q, GError **error);

  void (*free_state) (EspcnQuantizer *q);
} EspcnQuantizerOps;

struct _EspcnQuantizer {
  const EspcnQuantizerOps *ops;
  EspcnQuantRole role;
  int channels;      /* output channels for weights, 1 for activations */
  gint32 qmax;       /* largest level magnitude on this tensor's grid (127 or 255) */
  gboolean training; /* set by the trainer: TRUE while training, FALSE for validation/export */

  /* Learned parameters, trained by Adam in the quantizer group (10x learning rate,
   * no weight decay).  params and grads have n_params entries each. */
  float *params;
  float *grads;
  size_t n_params;

  /* Non-learned state that a checkpoint must keep to resume exactly (running
   * ranges, beta schedule position, ...).  n_state floats. */
  float *state;
  size_t n_state;

  void *priv;        /* method-private data */
};

/* One quantization method as the rest of the project sees it: the table of
 * these (espcn_quant_method_lookup) is the only place that knows a method by its
 * name.  "none" (float training, no quantizers) is in the table too. */
typedef struct {
  const char *name;         /* "none", "lsq", "pact", "adaround", "apot", "dorefa", "ste" */
  gboolean quantized;       /* FALSE only for "none" */
  /* The grid's largest hidden-activation level: ESPCN_ACT_QMAX_FAST (127) for the
   * int8-weight methods, ESPCN_ACT_QMAX_WIDE (255) for APoT and DoReFa, whose
   * weights need s16 (docs/integer-grid.md); 0 for "none". */
  gint32 act_qmax;
  /* The learned parameters are step sizes that may train in log space (LSQ). */
  gboolean log_space_params;
  /* Fills q->ops and allocates q->params/grads/state/priv; NULL for "none". */
  gboolean (*setup) (EspcnQuantizer *q, size_t n, GError **error);
} EspcnQuantMethod;

/* The method called `name`, or NULL when there is none. */
const EspcnQuantMethod *espcn_quant_method_lookup (const char *name);

/* A quantizer of a quantized `method` for `role`.  Returns NULL with `error` set
 * for a method that does not quantize that role.  `n` is the tensor size for
 * weights (needed by AdaRound's V), ignored for activations; `qmax` the grid's
 * largest level (see the constants above). */
EspcnQuantizer *espcn_quant_method_new_quantizer (const EspcnQuantMethod *method, EspcnQuantRole role, int channels,
                                                  size_t n, gint32 qmax, GError **error);

/* The same by name: NULL with `error` set for an unknown or unquantized method
 * ("lsq", "pact", "adaround", "apot", "dorefa", "ste" are known). */
EspcnQuantizer *espcn_quantizer_new (const char *method, EspcnQuantRole role, int channels, size_t n,
                                     gint32 qmax, GError **error);
void espcn_quantizer_free (EspcnQuantizer *q);

/* The quantized methods' names, NULL-terminated, in the order of the reference table. */
const char *const *espcn_quant_methods (void);

/* The bits of a quantized method's own hidden-activation grid: 7 for act_qmax
 * 127, 8 for 255. */
int espcn_quant_method_act_bits (const EspcnQuantMethod *method);
/* Whether `method` trains on `act_bits`-bit hidden activations: 0 (its own grid)
 * always; 7 or 8 for the int8-weight methods; 8 for APoT and DoReFa (int16
 * weights, docs/integer-grid.md); no other value, and nothing but 0 for "none".
 * The grid that 7 or 8 selects is act_qmax 127 or 255. */
gboolean espcn_quant_method_check_act_bits (const EspcnQuantMethod *method, int act_bits, GError **error);
/* The act_qmax of a quantized method by name; -1 if unknown or "none". */
gint32 espcn_quant_method_act_qmax (const char *method);

/* Round half up, the one rounding rule of the grid (the engine's requantization
 * rounds the same way). */
static inline float
espcn_round_half_up (float v)
{
  return __builtin_floorf (v + 0.5f);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnQuantizer, espcn_quantizer_free)

G_END_DECLS
