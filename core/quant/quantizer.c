/* The method table: one setup function per method, each in its own file. */
#include "quant/quantizer.h"
#include "quant/methods.h"

#include <string.h>

typedef gboolean (*SetupFunc) (EspcnQuantizer *q, size_t n, GError **error);

static const struct {
  const char *name;
  SetupFunc setup;
} methods[] = {
  { "lsq", espcn_quant_lsq_setup },
  { "pact", espcn_quant_pact_setup },
  { "adaround", espcn_quant_adaround_setup },
  { "apot", espcn_quant_apot_setup },
  { "dorefa", espcn_quant_dorefa_setup },
  { "ste", espcn_quant_ste_setup },
};

static const char *const method_names[] = { "lsq", "pact", "adaround", "apot", "dorefa", "ste", NULL };

const char *const *
espcn_quant_methods (void)
{
  return method_names;
}

gint32
espcn_quant_method_act_qmax (const char *method)
{
  if (g_strcmp0 (method, "apot") == 0 || g_strcmp0 (method, "dorefa") == 0)
    return ESPCN_ACT_QMAX_WIDE;
  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_strcmp0 (methods[i].name, method) == 0)
      return ESPCN_ACT_QMAX_FAST;
  return -1;
}

EspcnQuantizer *
espcn_quantizer_new (const char *method, EspcnQuantRole role, int channels, size_t n, gint32 qmax, GError **error)
{
  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (channels >= 1, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++) {
    if (strcmp (methods[i].name, method) != 0)
      continue;
    EspcnQuantizer *q = g_new0 (EspcnQuantizer, 1);
    q->role = role;
    q->channels = channels;
    q->qmax = qmax;
    q->training = TRUE;
    if (!methods[i].setup (q, n, error)) {
      espcn_quantizer_free (q);
      return NULL;
    }
    return q;
  }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
      "unknown quantization method '%s' (known: lsq, pact, adaround, apot, dorefa, ste)", method);
  return NULL;
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
