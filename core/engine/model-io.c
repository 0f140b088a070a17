/* INT8 checkpoints on disk: the tensors and metadata of docs/model-format.md
 * ("INT8 model tensors") in the safetensors container.  The reader checks the
 * file's structure here (format, names, dtypes, shapes) and leaves the values to
 * espcn_int8_model_new(), which validates every model however it is built. */
#include "engine/model.h"
#include "engine/model-private.h"
#include "io/safetensors.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...) \
  do { \
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, __VA_ARGS__); \
    return FALSE; \
  } while (0)

static const char *const tensor_kinds[] = {
  "weight", "bias", "multiplier", "shift", "out_max", "weight_scale", "act_scale",
};

static gboolean
is_known_tensor (const char *name)
{
  for (int i = 1; i <= ESPCN_INT8_N_LAYERS; i++)
    for (gsize k = 0; k < G_N_ELEMENTS (tensor_kinds); k++) {
      char want[32];
      g_snprintf (want, sizeof want, "conv%d.%s", i, tensor_kinds[k]);
      if (strcmp (name, want) == 0)
        return TRUE;
    }
  return FALSE;
}

/* The format version (1 or 2) and, for version 2, the declared channels. */
static gboolean
check_metadata (const EspcnSafetensors *st, int *version_out, int *channels_out, GError **error)
{
  const char *format = espcn_safetensors_get_metadata (st, "format");
  if (format == NULL)
    FAIL ("metadata key 'format' is missing (expected \"%s\"): not an INT8 ESPCN model", ESPCN_INT8_FORMAT);
  if (strcmp (format, ESPCN_INT8_FORMAT) != 0)
    FAIL ("metadata 'format' is \"%s\", expected \"%s\"", format, ESPCN_INT8_FORMAT);
  const char *version = espcn_safetensors_get_metadata (st, "format_version");
  if (version == NULL)
    FAIL ("metadata key 'format_version' is missing");
  if (strcmp (version, "1") == 0)
    *version_out = 1;
  else if (strcmp (version, "2") == 0)
    *version_out = 2;
  else
    FAIL ("metadata 'format_version' is \"%s\"; this build reads versions 1 and 2", version);
  static const char *const required[] = { "scale", "features", "method" };
  for (gsize i = 0; i < G_N_ELEMENTS (required); i++)
    if (espcn_safetensors_get_metadata (st, required[i]) == NULL)
      FAIL ("metadata key '%s' is missing", required[i]);
  /* Version 1 files are RGB; version 2 says which. */
  const char *channels = espcn_safetensors_get_metadata (st, "channels");
  *channels_out = 3;
  if (*version_out == 2) {
    if (channels == NULL)
      FAIL ("metadata key 'channels' is missing (format_version 2 requires \"1\" for luma or \"3\" for RGB)");
    if (strcmp (channels, "1") == 0)
      *channels_out = 1;
    else if (strcmp (channels, "3") != 0)
      FAIL ("metadata 'channels' is \"%s\", expected \"1\" (luma) or \"3\" (RGB)", channels);
  } else if (channels != NULL && strcmp (channels, "3") != 0) {
    FAIL ("metadata 'channels' is \"%s\" in a format_version 1 file, which is RGB (3 channels); "
        "a luma model needs format_version 2", channels);
  }
  return TRUE;
}

/* The declared channels against conv1's inputs and conv3's outputs, before the
 * chain check, so a mismatch names the metadata key. */
static gboolean
check_channels (int version, int channels, const int out_c[3], const int in_c[3], GError **error)
{
  const char *source = version == 1 ? "a format_version 1 file is RGB (3 channels)"
      : channels == 1 ? "metadata 'channels' is 1 (luma)" : "metadata 'channels' is 3 (RGB)";
  if (in_c[0] != channels)
    FAIL ("%s but conv1.weight has %d input channel%s%s", source, in_c[0], in_c[0] == 1 ? "" : "s",
        version == 1 ? "; a luma model needs format_version 2 with 'channels' \"1\"" : "");
  if (out_c[2] != channels * 4 && out_c[2] != channels * 9 && out_c[2] != channels * 16)
    FAIL ("%s but conv3.weight has %d output channels, expected %d*s^2 (%d, %d or %d)", source, out_c[2],
        channels, channels * 4, channels * 9, channels * 16);
  return TRUE;
}

/* A per-channel tensor [out_c] of `dtype`, or NULL with an error. */
static const EspcnTensor *
get_vector (const EspcnSafetensors *st, int layer, const char *kind, EspcnDType dtype, gint64 n, GError **error)
{
  char name[32];
  g_snprintf (name, sizeof name, "conv%d.%s", layer, kind);
  return espcn_safetensors_get_typed (st, name, dtype, 1, &n, error);
}

/* conv<layer>.weight: I8 or I16, [out, in, k, k] with sane sizes. */
static const EspcnTensor *
get_weight (const EspcnSafetensors *st, int layer, int *out_c, int *in_c, int *k, GError **error)
{
  char name[32];
  g_snprintf (name, sizeof name, "conv%d.weight", layer);
  const EspcnTensor *t = espcn_safetensors_get (st, name);
  if (t == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "tensor '%s' is missing", name);
    return NULL;
  }
  if (t->dtype != ESPCN_DTYPE_I8 && t->dtype != ESPCN_DTYPE_I16) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "tensor '%s': dtype %s, expected I8 or I16", name,
        espcn_dtype_name (t->dtype));
    return NULL;
  }
  if (t->ndim != 4) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "tensor '%s': %d dimensions, expected 4 [out, in, k, k]", name, t->ndim);
    return NULL;
  }
  for (int d = 0; d < 4; d++)
    if (t->shape[d] < 1 || t->shape[d] > 4096) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "tensor '%s': dimension %d is %" G_GINT64_FORMAT ", outside [1, 4096]", name, d, t->shape[d]);
      return NULL;
    }
  if (t->shape[2] != t->shape[3]) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "tensor '%s': kernel %" G_GINT64_FORMAT " x %"
        G_GINT64_FORMAT " is not square", name, t->shape[2], t->shape[3]);
    return NULL;
  }
  *out_c = (int) t->shape[0];
  *in_c = (int) t->shape[1];
  *k = (int) t->shape[2];
  return t;
}

static EspcnInt8Model *
model_from_safetensors (const EspcnSafetensors *st, GError **error)
{
  int version, channels;
  if (!check_metadata (st, &version, &channels, error))
    return NULL;
  for (guint i = 0; i < espcn_safetensors_n_tensors (st); i++) {
    const char *name = espcn_safetensors_get_nth (st, i)->name;
    if (!is_known_tensor (name)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "unknown tensor '%s' (format version %s knows conv{1,2,3}.{weight, bias, multiplier, shift, out_max, "
          "weight_scale, act_scale})", name, version == 1 ? "1" : "2");
      return NULL;
    }
  }

  const EspcnTensor *wt[3];
  int out_c[3], in_c[3], k[3], scale, chain_channels;
  for (int i = 0; i < 3; i++)
    if ((wt[i] = get_weight (st, i + 1, &out_c[i], &in_c[i], &k[i], error)) == NULL)
      return NULL;
  if (!check_channels (version, channels, out_c, in_c, error)
      || !espcn_int8_check_chain (out_c, in_c, k, &scale, &chain_channels, error))
    return NULL;

  EspcnInt8Layer layers[3];
  g_autoptr (GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);  /* converted arrays */
  memset (layers, 0, sizeof layers);
  for (int i = 0; i < 3; i++) {
    int n = i + 1;
    EspcnInt8Layer *l = &layers[i];
    gint64 oc = out_c[i];
    l->out_c = out_c[i];
    l->in_c = in_c[i];
    l->k = k[i];

    gsize nw = (gsize) out_c[i] * in_c[i] * k[i] * k[i];
    gint16 *w16 = g_new (gint16, nw);
    g_ptr_array_add (owned, w16);
    if (wt[i]->dtype == ESPCN_DTYPE_I8) {
      l->weight_dtype = ESPCN_WEIGHT_I8;
      const gint8 *src = wt[i]->data;
      for (gsize j = 0; j < nw; j++)
        w16[j] = src[j];
    } else {
      l->weight_dtype = ESPCN_WEIGHT_I16;
      memcpy (w16, wt[i]->data, nw * sizeof (gint16));
    }
    l->weight = w16;

    const EspcnTensor *t;
    if ((t = get_vector (st, n, "bias", ESPCN_DTYPE_I32, oc, error)) == NULL)
      return NULL;
    l->bias = t->data;
    if ((t = get_vector (st, n, "multiplier", ESPCN_DTYPE_I32, oc, error)) == NULL)
      return NULL;
    l->multiplier = t->data;

    char name[32];
    g_snprintf (name, sizeof name, "conv%d.shift", n);
    t = espcn_safetensors_get (st, name);
    if (t != NULL && t->dtype == ESPCN_DTYPE_I8) {
      if ((t = get_vector (st, n, "shift", ESPCN_DTYPE_I8, oc, error)) == NULL)
        return NULL;
      gint32 *shift32 = g_new (gint32, out_c[i]);
      g_ptr_array_add (owned, shift32);
      const gint8 *src = t->data;
      for (int c = 0; c < out_c[i]; c++)
        shift32[c] = src[c];
      l->shift = shift32;
    } else {
      if ((t = get_vector (st, n, "shift", ESPCN_DTYPE_I32, oc, error)) == NULL)
        return NULL;
      l->shift = t->data;
    }

    if ((t = get_vector (st, n, "out_max", ESPCN_DTYPE_I32, 1, error)) == NULL)
      return NULL;
    l->out_max = *(const gint32 *) t->data;

    g_snprintf (name, sizeof name, "conv%d.weight_scale", n);
    if (espcn_safetensors_get (st, name) != NULL) {
      if ((t = get_vector (st, n, "weight_scale", ESPCN_DTYPE_F32, oc, error)) == NULL)
        return NULL;
      l->weight_scale = t->data;
    }
    g_snprintf (name, sizeof name, "conv%d.act_scale", n);
    if (espcn_safetensors_get (st, name) != NULL) {
      if ((t = get_vector (st, n, "act_scale", ESPCN_DTYPE_F32, 1, error)) == NULL)
        return NULL;
      l->act_scale = *(const float *) t->data;
    }
  }

  g_autoptr (GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  for (const char *const *key = espcn_safetensors_get_metadata_keys (st); *key != NULL; key++)
    g_hash_table_insert (meta, (gpointer) *key, (gpointer) espcn_safetensors_get_metadata (st, *key));
  return espcn_int8_model_new (layers, meta, error);
}

EspcnInt8Model *
espcn_int8_model_load_from_data (const guint8 *data, gsize len, GError **error)
{
  g_return_val_if_fail (data != NULL || len == 0, NULL);
  static const guint8 empty[1] = { 0 };
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_data (data ? data : empty, len, error);
  if (st == NULL)
    return NULL;
  return model_from_safetensors (st, error);
}

EspcnInt8Model *
espcn_int8_model_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_file (path, error);
  if (st == NULL)
    return NULL;  /* the reader names the path */
  EspcnInt8Model *m = model_from_safetensors (st, error);
  if (m == NULL)
    g_prefix_error (error, "%s: ", path);
  return m;
}

static int
cmp_key (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static EspcnSafetensorsWriter *
build_writer (const EspcnInt8Model *m, GError **error)
{
  g_autoptr (EspcnSafetensorsWriter) w = espcn_safetensors_writer_new ();
  for (int i = 0; i < ESPCN_INT8_N_LAYERS; i++) {
    const EspcnInt8Layer *l = espcn_int8_model_get_layer (m, i);
    char name[32];
    gint64 oc = l->out_c, one = 1;
    gint64 wshape[4] = { l->out_c, l->in_c, l->k, l->k };
    gsize nw = (gsize) l->out_c * l->in_c * l->k * l->k;
    gboolean ok;
    g_snprintf (name, sizeof name, "conv%d.weight", i + 1);
    if (l->weight_dtype == ESPCN_WEIGHT_I8) {
      g_autofree gint8 *w8 = g_new (gint8, nw);
      for (gsize j = 0; j < nw; j++)
        w8[j] = (gint8) l->weight[j];
      ok = espcn_safetensors_writer_add (w, name, ESPCN_DTYPE_I8, 4, wshape, w8, error);
    } else {
      ok = espcn_safetensors_writer_add (w, name, ESPCN_DTYPE_I16, 4, wshape, l->weight, error);
    }
    if (!ok)
      return NULL;
#define ADD(kind, dtype, shape, data) \
    do { \
      g_snprintf (name, sizeof name, "conv%d." kind, i + 1); \
      if (!espcn_safetensors_writer_add (w, name, dtype, 1, shape, data, error)) \
        return NULL; \
    } while (0)
    ADD ("bias", ESPCN_DTYPE_I32, &oc, l->bias);
    ADD ("multiplier", ESPCN_DTYPE_I32, &oc, l->multiplier);
    ADD ("shift", ESPCN_DTYPE_I32, &oc, l->shift);
    ADD ("out_max", ESPCN_DTYPE_I32, &one, &l->out_max);
    if (l->weight_scale != NULL)
      ADD ("weight_scale", ESPCN_DTYPE_F32, &oc, l->weight_scale);
    if (l->act_scale > 0.0f)
      ADD ("act_scale", ESPCN_DTYPE_F32, &one, &l->act_scale);
#undef ADD
  }
  /* The structural keys always describe this model, whatever metadata it came
   * with; every key is written in sorted order, so save -> load -> save keeps
   * the bytes. */
  char scale[16], features[16], channels[16];
  g_snprintf (scale, sizeof scale, "%d", espcn_int8_model_get_scale (m));
  g_snprintf (features, sizeof features, "%d", espcn_int8_model_get_features (m));
  g_snprintf (channels, sizeof channels, "%d", espcn_int8_model_get_channels (m));
  g_autoptr (GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree const char **keys = espcn_int8_model_get_metadata_keys (m);
  for (const char **k = keys; *k != NULL; k++)
    g_hash_table_insert (meta, (gpointer) *k, (gpointer) espcn_int8_model_get_metadata (m, *k));
  g_hash_table_insert (meta, (gpointer) "format", (gpointer) ESPCN_INT8_FORMAT);
  g_hash_table_insert (meta, (gpointer) "format_version", (gpointer) ESPCN_INT8_FORMAT_VERSION);
  g_hash_table_insert (meta, (gpointer) "scale", scale);
  g_hash_table_insert (meta, (gpointer) "features", features);
  g_hash_table_insert (meta, (gpointer) "channels", channels);
  guint n = 0;
  g_autofree const char **all = (const char **) g_hash_table_get_keys_as_array (meta, &n);
  qsort (all, n, sizeof (char *), cmp_key);
  for (guint i = 0; i < n; i++)
    if (!espcn_safetensors_writer_set_metadata (w, all[i], g_hash_table_lookup (meta, all[i]), error))
      return NULL;
  return g_steal_pointer (&w);
}

GBytes *
espcn_int8_model_save_to_bytes (const EspcnInt8Model *m, GError **error)
{
  g_return_val_if_fail (m != NULL, NULL);
  g_autoptr (EspcnSafetensorsWriter) w = build_writer (m, error);
  return w ? espcn_safetensors_writer_to_bytes (w) : NULL;
}

gboolean
espcn_int8_model_save (const EspcnInt8Model *m, const char *path, GError **error)
{
  g_return_val_if_fail (m != NULL && path != NULL, FALSE);
  g_autoptr (EspcnSafetensorsWriter) w = build_writer (m, error);
  return w != NULL && espcn_safetensors_writer_write_file (w, path, error);
}
