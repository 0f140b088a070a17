#include "eval/loadmodel.h"

#include <gio/gio.h>
#include <string.h>

#include "io/safetensors.h"

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
  gint64 scale, features, quant_on = 0, channels = 3;
  if (!meta_int (st, path, "scale", 2, 4, &scale, error) ||
      !meta_int (st, path, "features", 2, 4096, &features, error))
    return NULL;
  if (espcn_safetensors_get_metadata (st, "quant_on") != NULL &&
      !meta_int (st, path, "quant_on", 0, 1, &quant_on, error))
    return NULL;
  /* Absent in RGB checkpoints. */
  if (espcn_safetensors_get_metadata (st, "channels") != NULL &&
      !meta_int (st, path, "channels", 1, 3, &channels, error))
    return NULL;
  const char *method = espcn_safetensors_get_metadata (st, "method");
  if (method == NULL)
    method = "none";
  if (espcn_quant_method_lookup (method) == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: unknown quantization method '%s'", path, method);
    return NULL;
  }

  g_autoptr (EspcnEvalCheckpoint) ck = g_new0 (EspcnEvalCheckpoint, 1);
  ck->quant_on = quant_on != 0;
  ck->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *const *keys = espcn_safetensors_get_metadata_keys (st);
  for (int i = 0; keys[i] != NULL; i++)
    g_hash_table_insert (ck->metadata, g_strdup (keys[i]), g_strdup (espcn_safetensors_get_metadata (st, keys[i])));

  EspcnFloatModelConfig mc = { (int) scale, (int) features, (int) channels };
  /* Absent before --act-bits: the method's own grid. */
  gint64 act_bits = 0;
  if (espcn_safetensors_get_metadata (st, "act_bits") != NULL &&
      !meta_int (st, path, "act_bits", 7, 8, &act_bits, error))
    return NULL;
  ck->qat = espcn_qat_model_new (&mc, method, (int) act_bits, 1, error);
  if (ck->qat == NULL) {
    g_prefix_error (error, "%s: ", path);
    return NULL;
  }
  ck->model = ck->qat->model;
  ck->method = ck->qat->method->name;
  espcn_qat_model_set_training (ck->qat, FALSE);
  if (!espcn_qat_model_restore_tensors (ck->qat, st, TRUE, error)) {
    g_prefix_error (error, "%s: ", path);
    return NULL;
  }
  return g_steal_pointer (&ck);
}

void
espcn_eval_checkpoint_free (EspcnEvalCheckpoint *ck)
{
  if (ck == NULL)
    return;
  espcn_qat_model_free (ck->qat);
  if (ck->metadata != NULL)
    g_hash_table_unref (ck->metadata);
  g_free (ck);
}

gboolean
espcn_eval_checkpoint_has_quant (const EspcnEvalCheckpoint *ck)
{
  return ck->qat->method->quantized && ck->quant_on;
}

void
espcn_eval_checkpoint_set_fake_quant (EspcnEvalCheckpoint *ck, gboolean on)
{
  g_return_if_fail (!on || espcn_eval_checkpoint_has_quant (ck));
  espcn_qat_model_attach (ck->qat, on);
}
