#include "train/checkpoint.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "train/trainer.h"

static gboolean
set_meta_int (EspcnSafetensorsWriter *w, const char *key, gint64 v, GError **error)
{
  g_autofree char *s = g_strdup_printf ("%" G_GINT64_FORMAT, v);
  return espcn_safetensors_writer_set_metadata (w, key, s, error);
}

gboolean
espcn_checkpoint_save (const char *path, EspcnQatModel *qm, EspcnAdam *adam, const EspcnTrainPosition *pos,
                       GHashTable *options, GError **error)
{
  const EspcnFloatModel *model = qm->model;
  g_autoptr (EspcnSafetensorsWriter) w = espcn_safetensors_writer_new ();
  if (!espcn_qat_model_save_tensors (qm, w, error))
    return FALSE;

  guint n_adam = espcn_adam_n_tensors (adam);
  for (guint i = 0; i < n_adam; i++) {
    const char *name;
    float *m, *v;
    size_t n;
    espcn_adam_tensor_state (adam, i, &name, &m, &v, &n);
    g_autofree char *mname = g_strdup_printf ("adam.%u.m.%s", i, name);
    g_autofree char *vname = g_strdup_printf ("adam.%u.v.%s", i, name);
    if (!espcn_safetensors_writer_add_f32 (w, mname, m, n, error) || !espcn_safetensors_writer_add_f32 (w, vname, v, n, error))
      return FALSE;
  }

  if (!espcn_safetensors_writer_set_metadata (w, "format", ESPCN_CHECKPOINT_FORMAT, error) ||
      !espcn_safetensors_writer_set_metadata (w, "format_version", ESPCN_CHECKPOINT_VERSION, error) ||
      !set_meta_int (w, "epoch", pos->epoch, error) ||
      !set_meta_int (w, "step_in_epoch", pos->step_in_epoch, error) ||
      !set_meta_int (w, "quant_on", pos->quant_on ? 1 : 0, error) ||
      !set_meta_int (w, "adam_step", espcn_adam_get_step (adam), error) ||
      !set_meta_int (w, "scale", model->config.scale, error) ||
      !set_meta_int (w, "features", model->config.features, error))
    return FALSE;
  /* Written for luma only: an RGB checkpoint reads as before (absent = 3). */
  if (model->config.channels != 3 && !set_meta_int (w, "channels", model->config.channels, error))
    return FALSE;

  if (options != NULL) {
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init (&it, options);
    while (g_hash_table_iter_next (&it, &k, &v))
      if (!espcn_safetensors_writer_set_metadata (w, k, v, error))
        return FALSE;
  }

  return espcn_safetensors_writer_write_file (w, path, error);
}

static gboolean
restore_tensors (EspcnQatModel *qm, const EspcnSafetensors *st, const char *path, gboolean quantizers, GError **error)
{
  if (!espcn_qat_model_restore_tensors (qm, st, quantizers, error)) {
    g_prefix_error (error, "checkpoint %s does not match this run: ", path);
    return FALSE;
  }
  return TRUE;
}

static gboolean
meta_int (const EspcnSafetensors *st, const char *path, const char *key, gint64 min, gint64 max, gint64 *out,
          GError **error)
{
  const char *s = espcn_safetensors_get_metadata (st, key);
  g_autoptr (GError) local = NULL;
  if (s == NULL || !g_ascii_string_to_signed (s, 10, min, max, out, &local)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "checkpoint %s: metadata '%s' is %s", path, key,
        s == NULL ? "missing" : "not a valid integer");
    return FALSE;
  }
  return TRUE;
}

static const char *
channels_name (int channels)
{
  return channels == 1 ? "a luma (1-channel, --channels y)" : "an RGB (3-channel, --channels rgb)";
}

/* The file's channel count (absent: 3, RGB) must be the model's. */
static gboolean
check_channels (const EspcnSafetensors *st, const char *path, const EspcnFloatModel *model, GError **error)
{
  gint64 channels = 3;
  if (espcn_safetensors_get_metadata (st, "channels") != NULL && !meta_int (st, path, "channels", 1, 3, &channels, error))
    return FALSE;
  if (channels != 1 && channels != 3) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "checkpoint %s: metadata 'channels' is %d (1 or 3)", path,
        (int) channels);
    return FALSE;
  }
  if (channels != model->config.channels) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "checkpoint %s is %s model, this run trains %s model",
        path, channels_name ((int) channels), channels_name (model->config.channels));
    return FALSE;
  }
  return TRUE;
}

gboolean
espcn_checkpoint_load (const char *path, EspcnQatModel *qm, EspcnAdam *adam, GHashTable *options,
                       EspcnTrainPosition *pos, GError **error)
{
  const EspcnFloatModel *model = qm->model;
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_file (path, error);
  if (st == NULL)
    return FALSE;

  if (g_strcmp0 (espcn_safetensors_get_metadata (st, "format"), ESPCN_CHECKPOINT_FORMAT) != 0 ||
      g_strcmp0 (espcn_safetensors_get_metadata (st, "format_version"), ESPCN_CHECKPOINT_VERSION) != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s is not an espcn float training checkpoint of version %s", path, ESPCN_CHECKPOINT_VERSION);
    return FALSE;
  }

  gint64 scale, features, epoch, step_in_epoch, quant_on, adam_step;
  if (!meta_int (st, path, "scale", 2, 4, &scale, error) || !meta_int (st, path, "features", 2, 4096, &features, error) ||
      !meta_int (st, path, "epoch", 0, G_MAXINT, &epoch, error) ||
      !meta_int (st, path, "step_in_epoch", 0, G_MAXINT, &step_in_epoch, error) ||
      !meta_int (st, path, "quant_on", 0, 1, &quant_on, error) ||
      !meta_int (st, path, "adam_step", 0, G_MAXINT64, &adam_step, error))
    return FALSE;
  if (scale != model->config.scale || features != model->config.features) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "checkpoint %s is for scale %d with %d features, this run has scale %d with %d features", path, (int) scale,
        (int) features, model->config.scale, model->config.features);
    return FALSE;
  }
  if (!check_channels (st, path, model, error))
    return FALSE;
  if (options != NULL) {
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init (&it, options);
    while (g_hash_table_iter_next (&it, &k, &v)) {
      const char *have = espcn_safetensors_get_metadata (st, k);
      /* Checkpoints from before --weight-decay were all made with its default. */
      g_autofree char *fallback = NULL;
      if (have == NULL && strcmp (k, "weight_decay") == 0)
        have = fallback = g_strdup_printf ("%.9g", ESPCN_TRAIN_DEFAULT_WEIGHT_DECAY);
      /* ... and before --act-bits, on their method's own grid. */
      if (have == NULL && strcmp (k, "act_bits") == 0)
        have = fallback = g_strdup_printf ("%d", espcn_quant_method_act_bits (qm->method));
      if (g_strcmp0 (have, v) != 0) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
            "checkpoint %s was made with %s=%s, this run has %s=%s: resume with the same options", path,
            (const char *) k, have ? have : "(unset)", (const char *) k, (const char *) v);
        return FALSE;
      }
    }
  }

  if (!restore_tensors (qm, st, path, TRUE, error))
    return FALSE;

  guint n_adam = espcn_adam_n_tensors (adam);
  for (guint i = 0; i < n_adam; i++) {
    const char *name;
    float *m, *v;
    size_t n;
    espcn_adam_tensor_state (adam, i, &name, &m, &v, &n);
    g_autofree char *mname = g_strdup_printf ("adam.%u.m.%s", i, name);
    g_autofree char *vname = g_strdup_printf ("adam.%u.v.%s", i, name);
    if (!espcn_safetensors_read_f32 (st, mname, m, n, error) || !espcn_safetensors_read_f32 (st, vname, v, n, error)) {
      g_prefix_error (error, "checkpoint %s does not match this run: ", path);
      return FALSE;
    }
  }
  espcn_adam_set_step (adam, adam_step);

  pos->epoch = (int) epoch;
  pos->step_in_epoch = (int) step_in_epoch;
  pos->quant_on = quant_on != 0;
  return TRUE;
}

gboolean
espcn_checkpoint_load_weights (const char *path, EspcnQatModel *qm, GError **error)
{
  const EspcnFloatModel *model = qm->model;
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_file (path, error);
  if (st == NULL)
    return FALSE;
  if (g_strcmp0 (espcn_safetensors_get_metadata (st, "format"), ESPCN_CHECKPOINT_FORMAT) != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not an espcn float training checkpoint", path);
    return FALSE;
  }
  gint64 scale, features;
  if (!meta_int (st, path, "scale", 2, 4, &scale, error) || !meta_int (st, path, "features", 2, 4096, &features, error))
    return FALSE;
  if (scale != model->config.scale || features != model->config.features) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s is a x%d model with %d features, this run is x%d with %d features", path, (int) scale, (int) features,
        model->config.scale, model->config.features);
    return FALSE;
  }
  if (!check_channels (st, path, model, error))
    return FALSE;
  return restore_tensors (qm, st, path, FALSE, error);
}

char *
espcn_checkpoint_get_metadata (const char *path, const char *key, GError **error)
{
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_file (path, error);
  if (st == NULL)
    return NULL;
  const char *v = espcn_safetensors_get_metadata (st, key);
  if (v == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s has no metadata '%s'", path, key);
    return NULL;
  }
  return g_strdup (v);
}

char *
espcn_checkpoint_recipe_from_metadata (GHashTable *meta)
{
  static const char *const keys[][2] = {
    { "method", "--method" }, { "scale", "--scale" }, { "features", "--features" }, { "epochs", "--epochs" },
    { "warmup_epochs", "--warmup" }, { "batch", "--batch" }, { "patch", "--patch" }, { "lr", "--lr" },
    { "num_train", "--num-train" }, { "num_val", "--num-val" }, { "seed", "--seed" }, { "loss", "--loss" },
    { "init", "--init" },
  };
  GString *s = g_string_new ("espcn-train");
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++) {
    const char *v = g_hash_table_lookup (meta, keys[i][0]);
    if (v != NULL && *v != '\0')
      g_string_append_printf (s, " %s %s", keys[i][1], v);
  }
  /* Options written only when they differ from their defaults (older checkpoints
   * do not hold them). */
  const char *wd = g_hash_table_lookup (meta, "weight_decay");
  if (wd != NULL && g_ascii_strtod (wd, NULL) != ESPCN_TRAIN_DEFAULT_WEIGHT_DECAY)
    g_string_append_printf (s, " --weight-decay %s", wd);
  const char *bits = g_hash_table_lookup (meta, "act_bits");
  const EspcnQuantMethod *method = espcn_quant_method_lookup (g_hash_table_lookup (meta, "method"));
  if (bits != NULL && method != NULL && method->quantized && atoi (bits) != espcn_quant_method_act_bits (method))
    g_string_append_printf (s, " --act-bits %s", bits);
  const char *lr_warmup = g_hash_table_lookup (meta, "lr_warmup");
  if (lr_warmup != NULL && strcmp (lr_warmup, "0") != 0)
    g_string_append_printf (s, " --lr-warmup %s", lr_warmup);
  if (g_strcmp0 (g_hash_table_lookup (meta, "channels"), "1") == 0)
    g_string_append (s, " --channels y");
  /* Stored as the options themselves (" --dihedral --zoom-min 0.5"). */
  const char *aug = g_hash_table_lookup (meta, "augment");
  if (aug != NULL)
    g_string_append (s, aug);
  return g_string_free (s, FALSE);
}

char *
espcn_checkpoint_recipe (const char *path)
{
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_file (path, NULL);
  if (st == NULL)
    return NULL;
  g_autoptr (GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  const char *const *keys = espcn_safetensors_get_metadata_keys (st);
  for (gsize i = 0; keys != NULL && keys[i] != NULL; i++)
    g_hash_table_insert (meta, (gpointer) keys[i], (gpointer) espcn_safetensors_get_metadata (st, keys[i]));
  return espcn_checkpoint_recipe_from_metadata (meta);
}
