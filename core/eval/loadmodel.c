#include "eval/loadmodel.h"

#include <gio/gio.h>
#include <string.h>

#include "io/safetensors.h"

static gboolean
read_f32 (const EspcnSafetensors *st, const char *path, const char *name, float *dst, size_t n, GError **error)
{
  gint64 shape[1] = { (gint64) n };
  g_autoptr (GError) local = NULL;
  const EspcnTensor *t = espcn_safetensors_get_typed (st, name, ESPCN_DTYPE_F32, 1, shape, &local);
  if (t == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", path, local->message);
    return FALSE;
  }
  memcpy (dst, t->data, n * sizeof (float));
  return TRUE;
}

static gboolean
meta_int (const EspcnSafetensors *st, const char *path, const char *key, gint64 min, gint64 max, gint64 *out,
          GError **error)
{
  const char *s = espcn_safetensors_get_metadata (st, key);
  if (s == NULL || !g_ascii_string_to_signed (s, 10, min, max, out, NULL)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: metadata '%s' is %s (expected %" G_GINT64_FORMAT
        "..%" G_GINT64_FORMAT ")", path, key, s == NULL ? "missing" : "invalid", min, max);
    return FALSE;
  }
  return TRUE;
}

EspcnEvalCheckpoint *
espcn_eval_checkpoint_load (const char *path, GError **error)
{
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_file (path, error);
  if (st == NULL)
    return NULL;
  const char *format = espcn_safetensors_get_metadata (st, "format");
  if (g_strcmp0 (format, ESPCN_CHECKPOINT_FORMAT) != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not an espcn float training checkpoint (format %s)",
        path, format ? format : "missing");
    return NULL;
  }
  gint64 scale, features, quant_on = 0;
  if (!meta_int (st, path, "scale", 2, 4, &scale, error) ||
      !meta_int (st, path, "features", 2, 4096, &features, error))
    return NULL;
  if (espcn_safetensors_get_metadata (st, "quant_on") != NULL &&
      !meta_int (st, path, "quant_on", 0, 1, &quant_on, error))
    return NULL;
  const char *method = espcn_safetensors_get_metadata (st, "method");
  if (method == NULL)
    method = "none";
  if (g_strcmp0 (method, "none") != 0 && espcn_quant_method_act_qmax (method) < 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: unknown quantization method '%s'", path, method);
    return NULL;
  }

  g_autoptr (EspcnEvalCheckpoint) ck = g_new0 (EspcnEvalCheckpoint, 1);
  ck->method = g_strdup (method);
  ck->quant_on = quant_on != 0;
  ck->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *const *keys = espcn_safetensors_get_metadata_keys (st);
  for (int i = 0; keys[i] != NULL; i++)
    g_hash_table_insert (ck->metadata, g_strdup (keys[i]), g_strdup (espcn_safetensors_get_metadata (st, keys[i])));

  EspcnFloatModelConfig mc = { (int) scale, (int) features };
  ck->model = espcn_float_model_new (&mc, 1, error);
  if (ck->model == NULL) {
    g_prefix_error (error, "%s: ", path);
    return NULL;
  }
  EspcnParamRef refs[ESPCN_FLOAT_MODEL_N_PARAMS];
  guint n_refs = espcn_float_model_params (ck->model, refs);
  for (guint i = 0; i < n_refs; i++)
    if (!read_f32 (st, path, refs[i].name, refs[i].param, refs[i].n, error))
      return NULL;

  if (g_strcmp0 (method, "none") != 0) {
    EspcnFloatModel *m = ck->model;
    gint32 act_qmax = espcn_quant_method_act_qmax (method);
    for (int l = 0; l < 3; l++) {
      ck->quant[2 * l] = espcn_quantizer_new (method, ESPCN_QUANT_WEIGHT, m->cout[l],
          (size_t) m->cout[l] * m->cin[l] * m->k[l] * m->k[l], ESPCN_WEIGHT_QMAX_INT8, error);
      if (ck->quant[2 * l] == NULL)
        return NULL;
      if (l < 2 && (ck->quant[2 * l + 1] = espcn_quantizer_new (method, ESPCN_QUANT_ACT, 1, 0, act_qmax, error)) == NULL)
        return NULL;
    }
    for (guint i = 0; i < ESPCN_N_QUANT_SLOTS; i++) {
      EspcnQuantizer *q = ck->quant[i];
      q->training = FALSE;
      g_autofree char *pname = g_strdup_printf ("%s.params", espcn_quant_slot_name (i));
      g_autofree char *sname = g_strdup_printf ("%s.state", espcn_quant_slot_name (i));
      if (q->n_params > 0 && !read_f32 (st, path, pname, q->params, q->n_params, error))
        return NULL;
      if (q->n_state > 0 && !read_f32 (st, path, sname, q->state, q->n_state, error))
        return NULL;
    }
  }
  return g_steal_pointer (&ck);
}

void
espcn_eval_checkpoint_free (EspcnEvalCheckpoint *ck)
{
  if (ck == NULL)
    return;
  if (ck->model != NULL) {
    espcn_eval_checkpoint_set_fake_quant (ck, FALSE);
    espcn_float_model_free (ck->model);
  }
  for (guint i = 0; i < ESPCN_N_QUANT_SLOTS; i++)
    espcn_quantizer_free (ck->quant[i]);
  g_free (ck->method);
  if (ck->metadata != NULL)
    g_hash_table_unref (ck->metadata);
  g_free (ck);
}

gboolean
espcn_eval_checkpoint_has_quant (const EspcnEvalCheckpoint *ck)
{
  return ck->quant[0] != NULL && ck->quant_on;
}

void
espcn_eval_checkpoint_set_fake_quant (EspcnEvalCheckpoint *ck, gboolean on)
{
  EspcnFloatModel *m = ck->model;
  g_return_if_fail (!on || espcn_eval_checkpoint_has_quant (ck));
  m->wq[0] = on ? ck->quant[0] : NULL;
  m->aq[0] = on ? ck->quant[1] : NULL;
  m->wq[1] = on ? ck->quant[2] : NULL;
  m->aq[1] = on ? ck->quant[3] : NULL;
  m->wq[2] = on ? ck->quant[4] : NULL;
  m->quant_output = on;
}
