/* Private (core/quant only): the symmetric max-based per-channel weight quantizer
 * that PACT and STE share.
 *
 * s_c = max |w_c| / 127 recomputed every forward (espcn_fq_absmax_scales), levels
 * round_half_up (w / s_c) in [-127, 127]; dw = dy (nothing is clipped with a
 * max-based scale; the scale's own dependence on max |w| is not differentiated).
 * Export gives the same levels and scales, w_int_max = 127.  No learned
 * parameters, no state to checkpoint. */
#pragma once

#include "quant/quantizer.h"

G_BEGIN_DECLS

void espcn_absmax_weight_init (EspcnQuantizer *q, const float *x, size_t n);
void espcn_absmax_weight_forward (EspcnQuantizer *q, const float *x, float *y, size_t n);
void espcn_absmax_weight_backward (EspcnQuantizer *q, const float *x, const float *dy, float *dx, size_t n);
gboolean espcn_absmax_weight_export (EspcnQuantizer *q, const float *w, size_t n, EspcnWeightExport *out,
                                     GError **error);
void espcn_absmax_weight_free_state (EspcnQuantizer *q);

/* The ops table of a method using this quantizer for its weights; only the name
 * (which errors and tests see) differs between methods. */
#define ESPCN_ABSMAX_WEIGHT_OPS(name)                                                                                  \
  {                                                                                                                    \
    .method = (name), .init = espcn_absmax_weight_init, .forward = espcn_absmax_weight_forward,                        \
    .backward = espcn_absmax_weight_backward, .export_weights = espcn_absmax_weight_export,                            \
    .free_state = espcn_absmax_weight_free_state,                                                                      \
  }

/* Sets q->ops = ops (an ESPCN_ABSMAX_WEIGHT_OPS table) and the private scales. */
void espcn_absmax_weight_setup (EspcnQuantizer *q, const EspcnQuantizerOps *ops);

G_END_DECLS
