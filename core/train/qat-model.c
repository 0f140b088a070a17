#include "train/qat-model.h"

#include <gio/gio.h>
#include <string.h>

static const char *const slot_names[ESPCN_QAT_N_SLOTS] = {
  "conv1.weight_quant", "conv1.act_quant", "conv2.weight_quant", "conv2.act_quant", "conv3.weight_quant",
};

/* Slot 2 l is conv l's weights, slot 2 l + 1 its output activation (l < 2). */
static inline gboolean
slot_is_weight (guint slot)
{
  return slot % 2 == 0;
}

const char *
espcn_qat_model_slot_name (guint slot)
{
  g_return_val_if_fail (slot < ESPCN_QAT_N_SLOTS, NULL);
  return slot_names[slot];
}

EspcnQatModel *
espcn_qat_model_new (const EspcnFloatModelConfig *config, const char *method, int act_bits, guint64 seed,
                     GError **error)
{
  const EspcnQuantMethod *desc = espcn_quant_method_lookup (method);
  if (desc == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "unknown method '%s': choose none, lsq, pact, adaround, apot, dorefa or ste", method ? method : "");
    return NULL;
  }
  if (!espcn_quant_method_check_act_bits (desc, act_bits, error))
    return NULL;
  gint32 act_qmax = act_bits == 0 ? desc->act_qmax : act_bits == 8 ? ESPCN_ACT_QMAX_WIDE : ESPCN_ACT_QMAX_FAST;
  EspcnFloatModel *model = espcn_float_model_new (config, seed, error);
  if (model == NULL)
    return NULL;
  g_autoptr (EspcnQatModel) qm = g_new0 (EspcnQatModel, 1);
  qm->model = model;
  qm->method = desc;
  if (!desc->quantized)
    return g_steal_pointer (&qm);
  for (guint i = 0; i < ESPCN_QAT_N_SLOTS; i++) {
    int l = (int) i / 2;
    qm->slot[i] = slot_is_weight (i)
        ? espcn_quant_method_new_quantizer (desc, ESPCN_QUANT_WEIGHT, model->cout[l],
              (size_t) model->cout[l] * model->cin[l] * model->k[l] * model->k[l], ESPCN_WEIGHT_QMAX_INT8, error)
        : espcn_quant_method_new_quantizer (desc, ESPCN_QUANT_ACT, 1, 0, act_qmax, error);
    if (qm->slot[i] == NULL)
      return NULL;
  }
  return g_steal_pointer (&qm);
}

void
espcn_qat_model_free (EspcnQatModel *qm)
{
  if (qm == NULL)
    return;
  if (qm->model != NULL) {
    espcn_qat_model_attach (qm, FALSE);
    espcn_float_model_free (qm->model);
  }
  for (guint i = 0; i < ESPCN_QAT_N_SLOTS; i++)
    espcn_quantizer_free (qm->slot[i]);
  g_free (qm);
}

void
espcn_qat_model_attach (EspcnQatModel *qm, gboolean on)
{
  g_return_if_fail (!on || qm->method->quantized);
  EspcnFloatModel *m = qm->model;
  for (guint i = 0; i < ESPCN_QAT_N_SLOTS; i++) {
    EspcnQuantizer **hook = slot_is_weight (i) ? &m->wq[i / 2] : &m->aq[i / 2];
    *hook = on ? qm->slot[i] : NULL;
  }
  m->quant_output = on;
  qm->attached = on;
}

void
espcn_qat_model_set_training (EspcnQatModel *qm, gboolean training)
{
  for (guint i = 0; i < ESPCN_QAT_N_SLOTS; i++)
    if (qm->slot[i] != NULL)
      qm->slot[i]->training = training;
}

guint
espcn_qat_model_quant_params (EspcnQatModel *qm, EspcnParamRef refs[ESPCN_QAT_N_SLOTS])
{
  guint n = 0;
  for (guint i = 0; i < ESPCN_QAT_N_SLOTS; i++) {
    EspcnQuantizer *q = qm->slot[i];
    if (q != NULL && q->n_params > 0)
      refs[n++] = (EspcnParamRef) { slot_names[i], q->params, q->grads, q->n_params };
  }
  return n;
}

void
espcn_qat_model_start_quantization (EspcnQatModel *qm, const float *lr_batch, int n, int h, int w)
{
  espcn_qat_model_attach (qm, TRUE);
  espcn_float_model_init_quantizers (qm->model, lr_batch, n, h, w);
}

gboolean
espcn_qat_model_needs_calibration (EspcnQatModel *qm)
{
  EspcnQuantizer *a0 = espcn_qat_model_act_quant (qm, 0), *a1 = espcn_qat_model_act_quant (qm, 1);
  if (a0 == NULL || a0->ops->observe == NULL)
    return FALSE;
  float scale;
  gint32 qmax;
  /* Calibrated already (a resumed run): both scales export. */
  return !(a0->ops->export_act (a0, &scale, &qmax, NULL) && a1->ops->export_act (a1, &scale, &qmax, NULL));
}

gboolean
espcn_qat_model_finish_calibration (EspcnQatModel *qm, GError **error)
{
  EspcnQuantizer *a0 = espcn_qat_model_act_quant (qm, 0), *a1 = espcn_qat_model_act_quant (qm, 1);
  return a0->ops->calibrate_finish (a0, error) && a1->ops->calibrate_finish (a1, error);
}

/* The float tensors of the model and of each quantizer, with their checkpoint names. */
typedef gboolean (*TensorFunc) (gpointer io, const char *name, float *data, size_t n, GError **error);

static gboolean
for_each_tensor (EspcnQatModel *qm, gboolean quantizers, TensorFunc fn, gpointer io, GError **error)
{
  EspcnParamRef refs[ESPCN_FLOAT_MODEL_N_PARAMS];
  guint n_refs = espcn_float_model_params (qm->model, refs);
  for (guint i = 0; i < n_refs; i++)
    if (!fn (io, refs[i].name, refs[i].param, refs[i].n, error))
      return FALSE;
  for (guint i = 0; quantizers && i < ESPCN_QAT_N_SLOTS; i++) {
    EspcnQuantizer *q = qm->slot[i];
    if (q == NULL)
      continue;
    g_autofree char *pname = g_strdup_printf ("%s.params", slot_names[i]);
    g_autofree char *sname = g_strdup_printf ("%s.state", slot_names[i]);
    if (q->n_params > 0 && !fn (io, pname, q->params, q->n_params, error))
      return FALSE;
    if (q->n_state > 0 && !fn (io, sname, q->state, q->n_state, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
save_one (gpointer io, const char *name, float *data, size_t n, GError **error)
{
  return espcn_safetensors_writer_add_f32 (io, name, data, n, error);
}

static gboolean
restore_one (gpointer io, const char *name, float *data, size_t n, GError **error)
{
  return espcn_safetensors_read_f32 (io, name, data, n, error);
}

gboolean
espcn_qat_model_save_tensors (EspcnQatModel *qm, EspcnSafetensorsWriter *w, GError **error)
{
  return for_each_tensor (qm, TRUE, save_one, w, error);
}

gboolean
espcn_qat_model_restore_tensors (EspcnQatModel *qm, const EspcnSafetensors *st, gboolean quantizers, GError **error)
{
  return for_each_tensor (qm, quantizers, restore_one, (gpointer) st, error);
}
