/* The INT8 model: validation, ownership, accessors.  Loading and saving live in
 * model-io.c; both go through espcn_int8_model_new(), so no model can exist that
 * has not passed every check below. */
#include "engine/model.h"
#include "engine/model-private.h"
#include "engine/requant.h"
#include "grid/int8-grid.h"

#include <gio/gio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct _EspcnInt8Model {
  gatomicrefcount rc;
  EspcnInt8Layer layers[ESPCN_INT8_N_LAYERS];
  int scale;
  int features;
  int channels;
  GHashTable *metadata;  /* char* -> char*, owned */
  /* One block per layer holding weight, bias, multiplier, shift, weight_scale. */
  gpointer storage[ESPCN_INT8_N_LAYERS];
};

static const int kernel_sizes[ESPCN_INT8_N_LAYERS] = { 5, 3, 3 };

#define FAIL(...) \
  do { \
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, __VA_ARGS__); \
    return FALSE; \
  } while (0)

/* Parse a small positive decimal integer, the whole string, no sign or spaces. */
gboolean
espcn_int8_parse_int (const char *s, int max, int *out)
{
  if (s == NULL || *s == '\0' || strlen (s) > 9)
    return FALSE;
  int v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9')
      return FALSE;
    v = v * 10 + (*p - '0');
  }
  if (v > max)
    return FALSE;
  *out = v;
  return TRUE;
}

/* The chain and kernels: C -> F -> F/2 -> C*s^2 with kernels 5, 3, 3. */
gboolean
espcn_int8_check_chain (const int out_c[ESPCN_INT8_N_LAYERS], const int in_c[ESPCN_INT8_N_LAYERS],
                        const int k[ESPCN_INT8_N_LAYERS], int *scale_out, int *channels_out, GError **error)
{
  for (int i = 0; i < ESPCN_INT8_N_LAYERS; i++)
    if (k[i] != kernel_sizes[i])
      FAIL ("conv%d.weight: kernel size %d, expected %d", i + 1, k[i], kernel_sizes[i]);
  if (in_c[0] != 1 && in_c[0] != 3)
    FAIL ("conv1.weight: %d input channels, expected 3 (RGB) or 1 (luma)", in_c[0]);
  int ch = in_c[0];
  int f = out_c[0];
  if (f < ESPCN_INT8_FEATURES_MIN || f > ESPCN_INT8_FEATURES_MAX || f % 2 != 0)
    FAIL ("conv1.weight: %d output channels (features F); F must be even and in [%d, %d]",
        f, ESPCN_INT8_FEATURES_MIN, ESPCN_INT8_FEATURES_MAX);
  if (in_c[1] != f || out_c[1] != f / 2)
    FAIL ("conv2.weight: channels %d -> %d, expected %d -> %d (F -> F/2)", in_c[1], out_c[1], f, f / 2);
  if (in_c[2] != f / 2)
    FAIL ("conv3.weight: %d input channels, expected %d (F/2)", in_c[2], f / 2);
  int s = 0;
  for (int c = 2; c <= 4; c++)
    if (out_c[2] == ch * c * c)
      s = c;
  if (s == 0)
    FAIL ("conv3.weight: %d output channels; expected %d*s^2 with scale s in {2, 3, 4} (%d, %d or %d) for "
        "conv1's %d input channel%s", out_c[2], ch, ch * 4, ch * 9, ch * 16, ch, ch == 1 ? "" : "s");
  *scale_out = s;
  *channels_out = ch;
  return TRUE;
}

static gboolean
check_layer (const EspcnInt8Layer *l, int idx, gint32 in_max, GError **error)
{
  int n = idx + 1;
  if (l->weight == NULL || l->bias == NULL || l->multiplier == NULL || l->shift == NULL)
    FAIL ("conv%d: missing weight, bias, multiplier or shift array", n);
  if (l->weight_dtype != ESPCN_WEIGHT_I8 && l->weight_dtype != ESPCN_WEIGHT_I16)
    FAIL ("conv%d.weight: unknown weight dtype %d", n, (int) l->weight_dtype);

  if (idx < 2) {
    if (l->out_max != ESPCN_ACT_QMAX_FAST && l->out_max != ESPCN_ACT_QMAX_WIDE)
      FAIL ("conv%d.out_max: %d, expected %d or %d", n, l->out_max, ESPCN_ACT_QMAX_FAST, ESPCN_ACT_QMAX_WIDE);
  } else if (l->out_max != ESPCN_PIXEL_MAX) {
    FAIL ("conv3.out_max: %d, expected %d (8-bit pixels)", l->out_max, ESPCN_PIXEL_MAX);
  }
  /* int8 weights run on u8 x s8 pair sums (vpmaddubsw), exact only for 7-bit inputs;
   * conv1 reads pixels and always widens (docs/integer-grid.md). */
  if (idx > 0 && l->weight_dtype == ESPCN_WEIGHT_I8 && in_max != ESPCN_ACT_QMAX_FAST)
    FAIL ("conv%d.weight: int8 weights need a 7-bit input (conv%d.out_max = %d), got conv%d.out_max = %d; "
        "store them as int16", n, idx, ESPCN_ACT_QMAX_FAST, idx, in_max);

  gint32 wmax = l->weight_dtype == ESPCN_WEIGHT_I8 ? ESPCN_WEIGHT_QMAX_INT8 : ESPCN_INT8_WEIGHT_I16_MAX;
  gsize per_out = (gsize) l->in_c * l->k * l->k;
  for (int c = 0; c < l->out_c; c++) {
    const gint16 *w = l->weight + (gsize) c * per_out;
    gint64 sum_abs = 0;
    for (gsize j = 0; j < per_out; j++) {
      if (w[j] < -wmax || w[j] > wmax)
        FAIL ("conv%d.weight: value %d at output channel %d, index %" G_GSIZE_FORMAT
            " is outside [-%d, %d] for %s weights", n, w[j], c, j, wmax, wmax,
            l->weight_dtype == ESPCN_WEIGHT_I8 ? "int8" : "int16");
      sum_abs += abs (w[j]);
    }
    gint64 b = l->bias[c];
    if (b < -ESPCN_INT8_BIAS_MAX || b > ESPCN_INT8_BIAS_MAX)
      FAIL ("conv%d.bias: value %" G_GINT64_FORMAT " at channel %d is outside [-2^30, 2^30]", n, b, c);
    gint64 bound = (b < 0 ? -b : b) + (gint64) in_max * sum_abs;
    if (bound > G_MAXINT32)
      FAIL ("conv%d: accumulator bound violated at output channel %d: |bias| + %d * sum|w| = %"
          G_GINT64_FORMAT " > 2^31 - 1", n, c, in_max, bound);
    /* An int32 cannot exceed 2^31 - 1, so only the lower bound can fail. */
    if (l->multiplier[c] < ESPCN_REQUANT_M_MIN)
      FAIL ("conv%d.multiplier: value %d at channel %d is outside [2^30, 2^31)", n, l->multiplier[c], c);
    if (l->shift[c] < ESPCN_REQUANT_SHIFT_MIN || l->shift[c] > ESPCN_REQUANT_SHIFT_MAX)
      FAIL ("conv%d.shift: value %d at channel %d is outside [%d, %d]", n, l->shift[c], c,
          ESPCN_REQUANT_SHIFT_MIN, ESPCN_REQUANT_SHIFT_MAX);
    if (l->weight_scale != NULL && !(isfinite (l->weight_scale[c]) && l->weight_scale[c] > 0.0f))
      FAIL ("conv%d.weight_scale: value %g at channel %d is not a finite positive number", n,
          (double) l->weight_scale[c], c);
  }
  if (!(isfinite (l->act_scale) && l->act_scale >= 0.0f))
    FAIL ("conv%d.act_scale: %g is not a finite non-negative number", n, (double) l->act_scale);
  return TRUE;
}

static gboolean
check_metadata (GHashTable *metadata, int scale, int features, int channels, GError **error)
{
  const char *method = metadata ? g_hash_table_lookup (metadata, "method") : NULL;
  if (method == NULL || *method == '\0')
    FAIL ("metadata: key 'method' is missing or empty");
  if (metadata == NULL)
    return TRUE;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, metadata);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    if (k == NULL || v == NULL || !g_utf8_validate (k, -1, NULL) || !g_utf8_validate (v, -1, NULL))
      FAIL ("metadata: a key or value is NULL or not valid UTF-8");
  }
  const struct { const char *key; int expect; const char *from; } ints[] = {
    { "scale", scale, "conv3.weight's outputs" }, { "features", features, "conv1.weight's outputs" },
    { "channels", channels, "conv1.weight's input channels" } };
  for (gsize i = 0; i < G_N_ELEMENTS (ints); i++) {
    const char *s = g_hash_table_lookup (metadata, ints[i].key);
    if (s == NULL)
      continue;
    int expect = ints[i].expect;
    int v2;
    if (!espcn_int8_parse_int (s, 100000, &v2))
      FAIL ("metadata: '%s' = \"%s\" is not a decimal integer", ints[i].key, s);
    if (v2 != expect)
      FAIL ("metadata: '%s' = %d disagrees with the tensors (%d, from %s)", ints[i].key, v2, expect, ints[i].from);
  }
  return TRUE;
}

static GHashTable *
copy_metadata (GHashTable *src)
{
  GHashTable *dst = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (src != NULL) {
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init (&it, src);
    while (g_hash_table_iter_next (&it, &k, &v))
      g_hash_table_insert (dst, g_strdup (k), g_strdup (v));
  }
  return dst;
}

EspcnInt8Model *
espcn_int8_model_new (const EspcnInt8Layer layers[ESPCN_INT8_N_LAYERS], GHashTable *metadata, GError **error)
{
  g_return_val_if_fail (layers != NULL, NULL);

  int out_c[3], in_c[3], k[3], scale, channels;
  for (int i = 0; i < 3; i++) {
    out_c[i] = layers[i].out_c;
    in_c[i] = layers[i].in_c;
    k[i] = layers[i].k;
  }
  if (!espcn_int8_check_chain (out_c, in_c, k, &scale, &channels, error))
    return NULL;
  gint32 in_max = ESPCN_PIXEL_MAX;
  for (int i = 0; i < 3; i++) {
    if (!check_layer (&layers[i], i, in_max, error))
      return NULL;
    in_max = layers[i].out_max;
  }
  if (!check_metadata (metadata, scale, out_c[0], channels, error))
    return NULL;

  EspcnInt8Model *m = g_new0 (EspcnInt8Model, 1);
  g_atomic_ref_count_init (&m->rc);
  m->scale = scale;
  m->features = out_c[0];
  m->channels = channels;
  m->metadata = copy_metadata (metadata);
  in_max = ESPCN_PIXEL_MAX;
  for (int i = 0; i < 3; i++) {
    const EspcnInt8Layer *src = &layers[i];
    EspcnInt8Layer *dst = &m->layers[i];
    gsize nw = (gsize) src->out_c * src->in_c * src->k * src->k;
    gsize no = (gsize) src->out_c;
    /* int32 arrays first so every array stays aligned. */
    gsize bytes = 3 * no * sizeof (gint32) + no * sizeof (float) + nw * sizeof (gint16);
    guint8 *block = g_malloc (bytes);
    m->storage[i] = block;
    gint32 *bias = (gint32 *) block;
    gint32 *mult = bias + no;
    gint32 *shift = mult + no;
    float *wscale = (float *) (shift + no);
    gint16 *w = (gint16 *) (wscale + no);
    memcpy (bias, src->bias, no * sizeof (gint32));
    memcpy (mult, src->multiplier, no * sizeof (gint32));
    memcpy (shift, src->shift, no * sizeof (gint32));
    memcpy (w, src->weight, nw * sizeof (gint16));
    *dst = *src;
    dst->weight = w;
    dst->bias = bias;
    dst->multiplier = mult;
    dst->shift = shift;
    dst->in_max = in_max;
    if (src->weight_scale != NULL)
      memcpy (wscale, src->weight_scale, no * sizeof (float));
    dst->weight_scale = src->weight_scale != NULL ? wscale : NULL;
    in_max = src->out_max;
  }
  return m;
}

EspcnInt8Model *
espcn_int8_model_ref (EspcnInt8Model *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  g_atomic_ref_count_inc (&m->rc);
  return m;
}

void
espcn_int8_model_unref (EspcnInt8Model *m)
{
  if (m == NULL)
    return;
  if (!g_atomic_ref_count_dec (&m->rc))
    return;
  for (int i = 0; i < ESPCN_INT8_N_LAYERS; i++)
    g_free (m->storage[i]);
  g_hash_table_unref (m->metadata);
  g_free (m);
}

int
espcn_int8_model_get_scale (const EspcnInt8Model *m)
{
  g_return_val_if_fail (m != NULL, 0);
  return m->scale;
}

int
espcn_int8_model_get_features (const EspcnInt8Model *m)
{
  g_return_val_if_fail (m != NULL, 0);
  return m->features;
}

int
espcn_int8_model_get_channels (const EspcnInt8Model *m)
{
  g_return_val_if_fail (m != NULL, 0);
  return m->channels;
}

const char *
espcn_int8_model_get_method (const EspcnInt8Model *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  return g_hash_table_lookup (m->metadata, "method");
}

const char *
espcn_int8_model_get_metadata (const EspcnInt8Model *m, const char *key)
{
  g_return_val_if_fail (m != NULL && key != NULL, NULL);
  return g_hash_table_lookup (m->metadata, key);
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

const char **
espcn_int8_model_get_metadata_keys (const EspcnInt8Model *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  guint n = 0;
  const char **keys = (const char **) g_hash_table_get_keys_as_array (m->metadata, &n);
  qsort (keys, n, sizeof (char *), cmp_str);
  return keys;
}

const EspcnInt8Layer *
espcn_int8_model_get_layer (const EspcnInt8Model *m, int i)
{
  g_return_val_if_fail (m != NULL && i >= 0 && i < ESPCN_INT8_N_LAYERS, NULL);
  return &m->layers[i];
}
