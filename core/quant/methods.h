/* Private: the per-method setup functions behind espcn_quantizer_new().  Each
 * fills q->ops, allocates q->params/q->grads/q->state and q->priv. */
#pragma once

#include "quant/quantizer.h"

G_BEGIN_DECLS

gboolean espcn_quant_lsq_setup (EspcnQuantizer *q, size_t n, GError **error);
gboolean espcn_quant_pact_setup (EspcnQuantizer *q, size_t n, GError **error);
gboolean espcn_quant_adaround_setup (EspcnQuantizer *q, size_t n, GError **error);
gboolean espcn_quant_apot_setup (EspcnQuantizer *q, size_t n, GError **error);
gboolean espcn_quant_dorefa_setup (EspcnQuantizer *q, size_t n, GError **error);
gboolean espcn_quant_ste_setup (EspcnQuantizer *q, size_t n, GError **error);

G_END_DECLS
