/* The method table: one setup function per method, each in its own file. */
#include "quant/quantizer.h"
#include "quant/methods.h"

#include <string.h>

/* Reference-table order; "none" first. */
static const EspcnQuantMethod methods[] = {
  { "none", FALSE, 0, FALSE, NULL },
  { "lsq", TRUE, ESPCN_ACT_QMAX_FAST, TRUE, espcn_quant_lsq_setup },
  { "pact", TRUE, ESPCN_ACT_QMAX_FAST, FALSE, espcn_quant_pact_setup },
  { "adaround", TRUE, ESPCN_ACT_QMAX_FAST, FALSE, espcn_quant_adaround_setup },
  { "apot", TRUE, ESPCN_ACT_QMAX_WIDE, FALSE, espcn_quant_apot_setup },
  { "dorefa", TRUE, ESPCN_ACT_QMAX_WIDE, FALSE, espcn_quant_dorefa_setup },
  { "ste", TRUE, ESPCN_ACT_QMAX_FAST, FALSE, espcn_quant_ste_setup },
};

static const char *const method_names[] = { "lsq", "pact", "adaround", "apot", "dorefa", "ste", NULL };

const char *const *
espcn_quant_methods (void)
{
  return method_names;
}

const EspcnQuantMethod *
espcn_quant_method_lookup (const char *name)
{
  for (gsize i = 0; name != NULL && i < G_N_ELEMENTS (methods); i++)
    if (strcmp (methods[i].name, name) == 0)
      return &methods[i];
  return NULL;
}

int
espcn_quant_method_act_bits (const EspcnQuantMethod *method)
{
  return method->act_qmax == ESPCN_ACT_QMAX_WIDE ? 8 : 7;
}

gboolean
espcn_quant_method_check_act_bits (const EspcnQuantMethod *method, int act_bits, GError **error)
{
  if (act_bits == 0)
    return TRUE;
  if (!method->quantized) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "'%s' trains in float: it has no activation grid",
        method->name);
    return FALSE;
  }
  if (act_bits != 7 && act_bits != 8) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "hidden activations have 7 or 8 bits, not %d",
        act_bits);
    return FALSE;
  }
  /* Only int8 weights have a second grid: 7-bit activations keep their u8 x s8
   * pair sums exact, 8-bit ones move conv2 and conv3 to int16. */
  if (act_bits == 7 && method->act_qmax != ESPCN_ACT_QMAX_FAST) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s quantizes hidden activations to 8 bits only (its weights are int16); "
        "7-bit activations are for lsq, pact, adaround and ste", method->name);
    return FALSE;
  }
  return TRUE;
}

gint32
espcn_quant_method_act_qmax (const char *method)
{
  const EspcnQuantMethod *m = espcn_quant_method_lookup (method);
  return m != NULL && m->quantized ? m->act_qmax : -1;
}

EspcnQuantizer *
espcn_quant_method_new_quantizer (const EspcnQuantMethod *method, EspcnQuantRole role, int channels, size_t n,
                                  gint32 qmax, GError **error)
{
  g_return_val_if_fail (method != NULL && method->setup != NULL, NULL);
  g_return_val_if_fail (channels >= 1, NULL);
  EspcnQuantizer *q = g_new0 (EspcnQuantizer, 1);
  q->role = role;
  q->channels = channels;
  q->qmax = qmax;
  q->training = TRUE;
  if (!method->setup (q, n, error)) {
    espcn_quantizer_free (q);
    return NULL;
  }
  return q;
}

EspcnQuantizer *
espcn_quantizer_new (const char *method, EspcnQuantRole role, int channels, size_t n, gint32 qmax, GError **error)
{
  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (channels >= 1, NULL);
  const EspcnQuantMethod *m = espcn_quant_method_lookup (method);
  if (m == NULL || !m->quantized) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "unknown quantization method '%s' (known: lsq, pact, adaround, apot, dorefa, ste)", method);
    return NULL;
  }
  return espcn_quant_method_new_quantizer (m, role, channels, n, qmax, error);
}

void
espcn_quantizer_free (EspcnQuantizer *q)
{
  if (q == NULL)
    return;
  if (q->ops != NULL && q->ops->free_state != NULL)
    q->ops->free_state (q);
  g_free (q->params);
  g_free (q->grads);
  g_free (q->state);
  g_free (q);
}
