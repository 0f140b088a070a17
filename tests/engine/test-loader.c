/* The INT8 model loader against valid and hostile files: every fault is an error
 * naming what is wrong, never a crash. */
#include "engine/engine.h"
#include "engine/model.h"
#include "io/safetensors.h"
#include "test-models.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include "test-util.h"

/* ------------------------------------------------------------ raw file builder */

typedef struct {
  char name[40];
  EspcnDType dtype;
  int ndim;
  gint64 shape[4];
  guint8 *data;
  gsize nbytes;
} Spec;

typedef struct {
  GPtrArray *specs;     /* Spec*, in file order */
  GHashTable *meta;     /* char* -> char* */
  TestLayers *layers;   /* owned, when the raw model was made from them by a helper below */
} RawModel;

static void
spec_free (gpointer p)
{
  Spec *s = p;
  g_free (s->data);
  g_free (s);
}

static Spec *
add_spec (RawModel *r, const char *name, EspcnDType dtype, int ndim, const gint64 *shape, const void *data)
{
  Spec *s = g_new0 (Spec, 1);
  g_strlcpy (s->name, name, sizeof s->name);
  s->dtype = dtype;
  s->ndim = ndim;
  gsize n = 1;
  for (int d = 0; d < ndim; d++) {
    s->shape[d] = shape[d];
    n *= (gsize) shape[d];
  }
  s->nbytes = n * espcn_dtype_size (dtype);
  s->data = g_malloc0 (s->nbytes + 1);
  if (data != NULL)
    memcpy (s->data, data, s->nbytes);
  g_ptr_array_add (r->specs, s);
  return s;
}

static Spec *
find_spec (RawModel *r, const char *name)
{
  for (guint i = 0; i < r->specs->len; i++) {
    Spec *s = r->specs->pdata[i];
    if (strcmp (s->name, name) == 0)
      return s;
  }
  g_error ("no spec %s", name);
  return NULL;
}

static void
remove_spec (RawModel *r, const char *name)
{
  g_ptr_array_remove (r->specs, find_spec (r, name));
}

static void
raw_model_free (RawModel *r)
{
  g_ptr_array_unref (r->specs);
  g_hash_table_unref (r->meta);
  test_layers_free (r->layers);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RawModel, raw_model_free)

/* All tensors of the layers, written as they are, without validation. */
static RawModel *
raw_from_layers (const TestLayers *t, int scale)
{
  RawModel *r = g_new0 (RawModel, 1);
  r->specs = g_ptr_array_new_with_free_func (spec_free);
  r->meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (int i = 0; i < 3; i++) {
    const EspcnInt8Layer *l = &t->l[i];
    char name[40];
    gint64 ws[4] = { l->out_c, l->in_c, l->k, l->k }, oc = l->out_c, one = 1;
    gsize nw = (gsize) l->out_c * l->in_c * l->k * l->k;
    g_snprintf (name, sizeof name, "conv%d.weight", i + 1);
    if (l->weight_dtype == ESPCN_WEIGHT_I8) {
      g_autofree gint8 *w8 = g_new (gint8, nw);
      for (gsize j = 0; j < nw; j++)
        w8[j] = (gint8) l->weight[j];
      add_spec (r, name, ESPCN_DTYPE_I8, 4, ws, w8);
    } else {
      add_spec (r, name, ESPCN_DTYPE_I16, 4, ws, l->weight);
    }
    g_snprintf (name, sizeof name, "conv%d.bias", i + 1);
    add_spec (r, name, ESPCN_DTYPE_I32, 1, &oc, l->bias);
    g_snprintf (name, sizeof name, "conv%d.multiplier", i + 1);
    add_spec (r, name, ESPCN_DTYPE_I32, 1, &oc, l->multiplier);
    g_snprintf (name, sizeof name, "conv%d.shift", i + 1);
    add_spec (r, name, ESPCN_DTYPE_I32, 1, &oc, l->shift);
    g_snprintf (name, sizeof name, "conv%d.out_max", i + 1);
    add_spec (r, name, ESPCN_DTYPE_I32, 1, &one, &l->out_max);
  }
  g_hash_table_insert (r->meta, g_strdup ("format"), g_strdup ("espcn-int8"));
  g_hash_table_insert (r->meta, g_strdup ("format_version"), g_strdup ("1"));
  g_hash_table_insert (r->meta, g_strdup ("scale"), g_strdup_printf ("%d", scale));
  g_hash_table_insert (r->meta, g_strdup ("features"), g_strdup_printf ("%d", t->l[0].out_c));
  g_hash_table_insert (r->meta, g_strdup ("method"), g_strdup ("lsq"));
  return r;
}

static GBytes *
raw_to_bytes (RawModel *r)
{
  g_autoptr (EspcnSafetensorsWriter) w = espcn_safetensors_writer_new ();
  for (guint i = 0; i < r->specs->len; i++) {
    Spec *s = r->specs->pdata[i];
    g_assert_true (espcn_safetensors_writer_add (w, s->name, s->dtype, s->ndim, s->shape, s->data, NULL));
  }
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, r->meta);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_assert_true (espcn_safetensors_writer_set_metadata (w, k, v, NULL));
  return espcn_safetensors_writer_to_bytes (w);
}

static EspcnInt8Model *
load_bytes (GBytes *b, GError **error)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (b, &len);
  return espcn_int8_model_load_from_data (d, len, error);
}

/* Loading must fail and the message must contain every needle. */
static void
expect_failure (RawModel *r, const char *needle1, const char *needle2)
{
  g_autoptr (GBytes) b = raw_to_bytes (r);
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnInt8Model) m = load_bytes (b, &error);
  if (m != NULL)
    g_error ("a model with a fault ('%s') was accepted", needle1);
  g_assert_nonnull (error);
  if (strstr (error->message, needle1) == NULL || (needle2 && strstr (error->message, needle2) == NULL))
    g_error ("message '%s' lacks '%s' / '%s'", error->message, needle1, needle2 ? needle2 : "");
  g_test_message ("refused as expected: %s", error->message);
}

static RawModel *
small_raw (gboolean wide)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 3);
  TestLayers *t = test_layers_random (&rng, 4, 2, wide);
  RawModel *r = raw_from_layers (t, 2);
  r->layers = t;
  return r;
}

/* ------------------------------------------------------------ valid files */

static void
assert_same_model (const EspcnInt8Model *a, const EspcnInt8Model *b)
{
  g_assert_cmpint (espcn_int8_model_get_scale (a), ==, espcn_int8_model_get_scale (b));
  g_assert_cmpint (espcn_int8_model_get_features (a), ==, espcn_int8_model_get_features (b));
  g_assert_cmpstr (espcn_int8_model_get_method (a), ==, espcn_int8_model_get_method (b));
  for (int i = 0; i < 3; i++) {
    const EspcnInt8Layer *x = espcn_int8_model_get_layer (a, i), *y = espcn_int8_model_get_layer (b, i);
    g_assert_cmpint (x->out_c, ==, y->out_c);
    g_assert_cmpint (x->in_c, ==, y->in_c);
    g_assert_cmpint (x->k, ==, y->k);
    g_assert_cmpint (x->weight_dtype, ==, y->weight_dtype);
    g_assert_cmpint (x->out_max, ==, y->out_max);
    g_assert_cmpint (x->in_max, ==, y->in_max);
    gsize nw = (gsize) x->out_c * x->in_c * x->k * x->k;
    g_assert_cmpmem (x->weight, nw * 2, y->weight, nw * 2);
    g_assert_cmpmem (x->bias, x->out_c * 4, y->bias, y->out_c * 4);
    g_assert_cmpmem (x->multiplier, x->out_c * 4, y->multiplier, y->out_c * 4);
    g_assert_cmpmem (x->shift, x->out_c * 4, y->shift, y->out_c * 4);
  }
}

/* The model saved to bytes and loaded again, asserted to be the same model. */
static EspcnInt8Model *
save_and_reload (const EspcnInt8Model *m)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) b = espcn_int8_model_save_to_bytes (m, &error);
  g_assert_no_error (error);
  EspcnInt8Model *m2 = load_bytes (b, &error);
  g_assert_no_error (error);
  assert_same_model (m, m2);
  return m2;
}

static void
test_valid_model_round_trips (void)
{
  for (int wide = 0; wide < 2; wide++) {
    EspcnRng rng;
    espcn_rng_seed (&rng, 40 + wide);
    g_autoptr (TestLayers) t = test_layers_random (&rng, 8, 3, wide);
    g_hash_table_insert (t->metadata, g_strdup ("recipe"), g_strdup ("unit test, \"quoted\" ünïcode"));
    g_hash_table_insert (t->metadata, g_strdup ("x-unknown-key"), g_strdup ("kept"));
    t->l[0].act_scale = 0.01f;
    for (int c = 0; c < t->l[1].out_c; c++)
      t->wscale[1][c] = 0.001f * (c + 1);
    t->l[1].weight_scale = t->wscale[1];
    g_autoptr (EspcnInt8Model) m = test_layers_build (t);
    g_assert_cmpint (espcn_int8_model_get_layer (m, 1)->in_max, ==, wide ? 255 : 127);
    g_assert_cmpint (espcn_int8_model_get_layer (m, 0)->in_max, ==, 255);

    g_autoptr (GError) error = NULL;
    g_autoptr (EspcnInt8Model) m2 = save_and_reload (m);
    g_assert_cmpstr (espcn_int8_model_get_metadata (m2, "recipe"), ==, "unit test, \"quoted\" ünïcode");
    g_assert_cmpstr (espcn_int8_model_get_metadata (m2, "x-unknown-key"), ==, "kept");
    g_assert_cmpstr (espcn_int8_model_get_metadata (m2, "format"), ==, "espcn-int8");
    g_assert_cmpstr (espcn_int8_model_get_metadata (m2, "scale"), ==, "3");
    g_assert_cmpstr (espcn_int8_model_get_metadata (m2, "features"), ==, "8");
    g_assert_null (espcn_int8_model_get_metadata (m2, "absent"));
    g_assert_cmpfloat (espcn_int8_model_get_layer (m2, 0)->act_scale, ==, 0.01f);
    g_assert_nonnull (espcn_int8_model_get_layer (m2, 1)->weight_scale);
    g_assert_cmpfloat (espcn_int8_model_get_layer (m2, 1)->weight_scale[2], ==, 0.003f);
    g_assert_null (espcn_int8_model_get_layer (m2, 2)->weight_scale);
    g_assert_cmpstr (espcn_int8_model_get_metadata (m2, "format_version"), ==, "2");
    g_assert_cmpstr (espcn_int8_model_get_metadata (m2, "channels"), ==, "3");
    g_assert_cmpint (espcn_int8_model_get_channels (m2), ==, 3);
    g_autofree const char **keys = espcn_int8_model_get_metadata_keys (m2);
    g_assert_cmpstr (keys[0], ==, "channels");
    g_assert_cmpuint (g_strv_length ((char **) keys), ==, 8);

    /* Through a file, too. */
    g_autofree char *dir = espcn_test_make_tmp_dir ("espcn-engine-XXXXXX");
    g_autofree char *path = g_build_filename (dir, "m.safetensors", NULL);
    g_assert_true (espcn_int8_model_save (m, path, &error));
    g_assert_no_error (error);
    g_autoptr (EspcnInt8Model) m3 = espcn_int8_model_load (path, &error);
    g_assert_no_error (error);
    assert_same_model (m, m3);
    g_unlink (path);
    g_rmdir (dir);
  }
}

static void
test_shift_may_be_int8 (void)
{
  g_autoptr (RawModel) r = small_raw (FALSE);
  TestLayers *t = r->layers;
  Spec *s = find_spec (r, "conv2.shift");
  gint8 sh8[2] = { (gint8) t->shift[1][0], (gint8) t->shift[1][1] };
  s->dtype = ESPCN_DTYPE_I8;
  s->nbytes = 2;
  memcpy (s->data, sh8, 2);
  g_autoptr (GBytes) b = raw_to_bytes (r);
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnInt8Model) m = load_bytes (b, &error);
  g_assert_no_error (error);
  g_assert_cmpint (espcn_int8_model_get_layer (m, 1)->shift[1], ==, t->shift[1][1]);
}

static void
test_missing_file_is_an_error (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_null (espcn_int8_model_load ("/nonexistent/dir/model.safetensors", &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/nonexistent/dir/model.safetensors"));
}

static void
test_file_errors_name_the_path (void)
{
  g_autoptr (RawModel) r = small_raw (FALSE);
  g_hash_table_insert (r->meta, g_strdup ("format_version"), g_strdup ("3"));
  g_autoptr (GBytes) b = raw_to_bytes (r);
  g_autofree char *dir = espcn_test_make_tmp_dir ("espcn-engine-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "v3.safetensors", NULL);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (b, NULL), g_bytes_get_size (b), NULL));
  g_autoptr (GError) error = NULL;
  g_assert_null (espcn_int8_model_load (path, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "format_version"));
  g_unlink (path);
  g_rmdir (dir);
}

/* ------------------------------------------------------------ channels (format version 2) */

static RawModel *raw_with_channels (int f, int c2_out, int c3_out, int k1);

/* A raw file of random layers with `channels` image channels, written as
 * format_version `version` with metadata `channels` (NULL: no key). */
static RawModel *
raw_channels (int channels, int version, const char *channels_key)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 21);
  TestLayers *t = test_layers_random_channels (&rng, 4, 2, FALSE, channels);
  RawModel *r = raw_from_layers (t, 2);
  r->layers = t;
  g_hash_table_insert (r->meta, g_strdup ("format_version"), g_strdup_printf ("%d", version));
  if (channels_key != NULL)
    g_hash_table_insert (r->meta, g_strdup ("channels"), g_strdup (channels_key));
  return r;
}

static EspcnInt8Model *
load_raw_ok (RawModel *r)
{
  g_autoptr (GBytes) b = raw_to_bytes (r);
  g_autoptr (GError) error = NULL;
  EspcnInt8Model *m = load_bytes (b, &error);
  g_assert_no_error (error);
  g_assert_nonnull (m);
  return m;
}

/* Version 1 files (the shipped presets) have no `channels` key and are RGB. */
static void
test_version_1_loads_as_rgb (void)
{
  g_autoptr (RawModel) r = small_raw (FALSE);
  g_assert_cmpstr (g_hash_table_lookup (r->meta, "format_version"), ==, "1");
  g_assert_null (g_hash_table_lookup (r->meta, "channels"));
  g_autoptr (EspcnInt8Model) m = load_raw_ok (r);
  g_assert_cmpint (espcn_int8_model_get_channels (m), ==, 3);
  g_assert_cmpint (espcn_int8_model_get_layer (m, 0)->in_c, ==, 3);
  /* An explicit "3" is allowed in version 1 too. */
  g_hash_table_insert (r->meta, g_strdup ("channels"), g_strdup ("3"));
  g_autoptr (EspcnInt8Model) m2 = load_raw_ok (r);
  g_assert_cmpint (espcn_int8_model_get_channels (m2), ==, 3);
}

/* A luma model: conv1 5x5x1, conv3 s^2 outputs, version 2 with channels "1";
 * it round-trips through the writer with its channels. */
static void
test_version_2_luma_loads_and_round_trips (void)
{
  for (int s = 2; s <= 4; s++)
    for (int wide = 0; wide < 2; wide++) {
      EspcnRng rng;
      espcn_rng_seed (&rng, 60 + s);
      TestLayers *t = test_layers_random_channels (&rng, 8, s, wide, 1);
      g_autoptr (RawModel) r = raw_from_layers (t, s);
      r->layers = t;
      g_hash_table_insert (r->meta, g_strdup ("format_version"), g_strdup ("2"));
      g_hash_table_insert (r->meta, g_strdup ("channels"), g_strdup ("1"));
      g_autoptr (EspcnInt8Model) m = load_raw_ok (r);
      g_assert_cmpint (espcn_int8_model_get_channels (m), ==, 1);
      g_assert_cmpint (espcn_int8_model_get_scale (m), ==, s);
      g_assert_cmpint (espcn_int8_model_get_layer (m, 0)->in_c, ==, 1);
      g_assert_cmpint (espcn_int8_model_get_layer (m, 2)->out_c, ==, s * s);
      g_autoptr (EspcnInt8Model) m2 = save_and_reload (m);
      g_assert_cmpint (espcn_int8_model_get_channels (m2), ==, 1);
      g_assert_cmpstr (espcn_int8_model_get_metadata (m2, "channels"), ==, "1");
      g_assert_cmpstr (espcn_int8_model_get_metadata (m2, "format_version"), ==, "2");
      /* Built in memory (as the exporter does), it is the same model. */
      g_hash_table_insert (t->metadata, g_strdup ("method"), g_strdup ("lsq"));
      g_autoptr (EspcnInt8Model) m3 = test_layers_build (t);
      g_assert_cmpint (espcn_int8_model_get_channels (m3), ==, 1);
      assert_same_model (m, m3);
    }
}

/* A version 1 file saved again becomes version 2 with channels "3". */
static void
test_writer_emits_version_2_with_channels (void)
{
  g_autoptr (RawModel) r = small_raw (TRUE);
  g_autoptr (EspcnInt8Model) m = load_raw_ok (r);
  g_autoptr (GBytes) b = espcn_int8_model_save_to_bytes (m, NULL);
  gsize len;
  const guint8 *d = g_bytes_get_data (b, &len);
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_data (d, len, NULL);
  g_assert_nonnull (st);
  g_assert_cmpstr (espcn_safetensors_get_metadata (st, "format_version"), ==, "2");
  g_assert_cmpstr (espcn_safetensors_get_metadata (st, "channels"), ==, "3");
}

static void
test_channel_mismatches_are_refused (void)
{
  const struct { int channels, version; const char *key, *n1, *n2; } cases[] = {
    { 3, 2, NULL, "'channels' is missing", NULL },
    { 1, 2, NULL, "'channels' is missing", NULL },
    { 3, 2, "1", "'channels' is 1 (luma)", "conv1.weight has 3 input channels" },
    { 1, 2, "3", "'channels' is 3 (RGB)", "conv1.weight has 1 input channel" },
    { 3, 2, "2", "'channels' is \"2\"", "\"1\" (luma) or \"3\" (RGB)" },
    { 3, 2, "y", "'channels' is \"y\"", NULL },
    { 3, 2, "03", "'channels' is \"03\"", NULL },
    { 1, 1, NULL, "format_version 1", "conv1.weight has 1 input channel" },
    { 1, 1, "1", "format_version 1", "'channels' is \"1\"" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (RawModel) r = raw_channels (cases[i].channels, cases[i].version, cases[i].key);
    expect_failure (r, cases[i].n1, cases[i].n2);
  }
  /* conv1 says luma but conv3 has RGB's 3*s^2 outputs (and the other way round). */
  {
    g_autoptr (RawModel) r = raw_with_channels (4, 2, 12, 5);
    Spec *w = find_spec (r, "conv1.weight");
    w->shape[1] = 1;
    w->nbytes /= 3;
    g_hash_table_insert (r->meta, g_strdup ("format_version"), g_strdup ("2"));
    g_hash_table_insert (r->meta, g_strdup ("channels"), g_strdup ("1"));
    expect_failure (r, "conv3.weight has 12 output channels", "1*s^2 (4, 9 or 16)");
  }
  {
    g_autoptr (RawModel) r = raw_with_channels (4, 2, 16, 5);
    g_hash_table_insert (r->meta, g_strdup ("format_version"), g_strdup ("2"));
    g_hash_table_insert (r->meta, g_strdup ("channels"), g_strdup ("3"));
    expect_failure (r, "conv3.weight has 16 output channels", "3*s^2 (12, 27 or 48)");
  }
  /* In memory: conv1 with 2 inputs, and metadata disagreeing with the layers. */
  {
    EspcnRng rng;
    espcn_rng_seed (&rng, 5);
    g_autoptr (TestLayers) t = test_layers_random_channels (&rng, 4, 2, FALSE, 1);
    g_hash_table_insert (t->metadata, g_strdup ("channels"), g_strdup ("3"));
    g_autoptr (GError) error = NULL;
    g_assert_null (espcn_int8_model_new (t->l, t->metadata, &error));
    g_assert_nonnull (strstr (error->message, "'channels' = 3"));
    g_assert_nonnull (strstr (error->message, "conv1.weight's input channels"));
    g_clear_error (&error);
    g_hash_table_insert (t->metadata, g_strdup ("channels"), g_strdup ("1"));
    t->l[0].in_c = 2;
    g_assert_null (espcn_int8_model_new (t->l, t->metadata, &error));
    g_assert_nonnull (strstr (error->message, "conv1.weight: 2 input channels"));
  }
}

/* ------------------------------------------------------------ container faults */

static void
test_every_truncation_is_refused (void)
{
  g_autoptr (RawModel) r = small_raw (FALSE);
  g_autoptr (GBytes) b = raw_to_bytes (r);
  gsize len;
  const guint8 *d = g_bytes_get_data (b, &len);
  g_autoptr (EspcnInt8Model) full = espcn_int8_model_load_from_data (d, len, NULL);
  g_assert_nonnull (full);
  for (gsize n = 0; n < len; n++) {
    /* A fresh copy of exactly n bytes, so a read past it is caught by ASan/valgrind. */
    g_autofree guint8 *copy = g_memdup2 (d, n ? n : 1);
    g_autoptr (GError) error = NULL;
    g_autoptr (EspcnInt8Model) m = espcn_int8_model_load_from_data (copy, n, &error);
    if (m != NULL)
      g_error ("a file truncated to %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes loaded", n, len);
    g_assert_nonnull (error);
  }
}

static void
test_bit_flips_never_crash (void)
{
  g_autoptr (RawModel) r = small_raw (FALSE);
  g_autoptr (GBytes) b = raw_to_bytes (r);
  gsize len;
  const guint8 *d = g_bytes_get_data (b, &len);
  g_autofree guint8 *copy = g_malloc (len);
  EspcnRng rng;
  espcn_rng_seed (&rng, 1234);
  int refused = 0, loaded = 0;
  guint8 in[3 * 3 * 3] = { 0 }, out[6 * 6 * 3];
  for (int i = 0; i < 4000; i++) {
    memcpy (copy, d, len);
    int flips = 1 + (int) espcn_rng_below (&rng, 3);
    for (int f = 0; f < flips; f++)
      copy[espcn_rng_below (&rng, (guint32) len)] ^= (guint8) (1u << espcn_rng_below (&rng, 8));
    g_autoptr (GError) error = NULL;
    g_autoptr (EspcnInt8Model) m = espcn_int8_model_load_from_data (copy, len, &error);
    if (m == NULL) {
      g_assert_nonnull (error);
      refused++;
    } else {
      /* A flip inside a weight can leave a valid model: it must then run. */
      g_assert_no_error (error);
      g_assert_true (espcn_engine_process_reference (m, in, 9, &ESPCN_PIXEL_LAYOUT_RGB, 3, 3, out, 18,
          &ESPCN_PIXEL_LAYOUT_RGB, NULL));
      loaded++;
    }
  }
  g_test_message ("bit flips: %d refused, %d still valid", refused, loaded);
  g_assert_cmpint (refused, >, 0);
}

static GBytes *
hand_file (guint64 header_len_field, const char *json, gsize data_len)
{
  gsize jl = strlen (json);
  GByteArray *a = g_byte_array_new ();
  guint8 h[8];
  for (int i = 0; i < 8; i++)
    h[i] = (guint8) (header_len_field >> (8 * i));
  g_byte_array_append (a, h, 8);
  g_byte_array_append (a, (const guint8 *) json, (guint) jl);
  for (gsize i = 0; i < data_len; i++) {
    guint8 z = 0;
    g_byte_array_append (a, &z, 1);
  }
  return g_byte_array_free_to_bytes (a);
}

static void
expect_bytes_failure (GBytes *b, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnInt8Model) m = load_bytes (b, &error);
  g_assert_null (m);
  g_assert_nonnull (error);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("message '%s' lacks '%s'", error->message, needle);
  g_test_message ("refused as expected: %s", error->message);
}

static void
test_container_faults_are_refused (void)
{
  const char *json = "{\"conv1.weight\":{\"dtype\":\"I8\",\"shape\":[4,3,5,5],\"data_offsets\":[0,300]}}";
  gsize jl = strlen (json);
  /* Huge header length fields. */
  g_autoptr (GBytes) b1 = hand_file (G_MAXUINT64, json, 300);
  expect_bytes_failure (b1, NULL);
  g_autoptr (GBytes) b2 = hand_file ((guint64) 1 << 40, json, 300);
  expect_bytes_failure (b2, NULL);
  g_autoptr (GBytes) b3 = hand_file (jl + 301, json, 300);
  expect_bytes_failure (b3, NULL);
  /* Offsets past the end of the data. */
  g_autoptr (GBytes) b4 = hand_file (jl, json, 200);
  expect_bytes_failure (b4, "conv1.weight");
  /* Overlapping tensors. */
  const char *ov = "{\"conv1.bias\":{\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                   "\"conv1.multiplier\":{\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[8,24]}}";
  g_autoptr (GBytes) b5 = hand_file (strlen (ov), ov, 24);
  expect_bytes_failure (b5, "overlap");
  /* Not JSON, empty, a bare 8 bytes. */
  g_autoptr (GBytes) b6 = hand_file (5, "hello", 0);
  expect_bytes_failure (b6, NULL);
  g_autoptr (GBytes) b7 = hand_file (0, "", 0);
  expect_bytes_failure (b7, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_null (espcn_int8_model_load_from_data (NULL, 0, &error));
  g_assert_nonnull (error);
}

/* ------------------------------------------------------------ model faults */

static void
test_metadata_faults_are_refused (void)
{
  const struct { const char *key, *value, *needle; } cases[] = {
    { "format", NULL, "format" },
    { "format", "espcn-float", "format" },
    { "format_version", NULL, "format_version" },
    { "format_version", "3", "format_version" },
    { "format_version", "0", "format_version" },
    { "format_version", "1.0", "format_version" },
    { "scale", NULL, "scale" },
    { "scale", "3", "scale" },
    { "scale", "two", "scale" },
    { "scale", "-2", "scale" },
    { "features", "8", "features" },
    { "features", NULL, "features" },
    { "method", NULL, "method" },
    { "method", "", "method" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (RawModel) r = small_raw (FALSE);
    if (cases[i].value == NULL)
      g_hash_table_remove (r->meta, cases[i].key);
    else
      g_hash_table_insert (r->meta, g_strdup (cases[i].key), g_strdup (cases[i].value));
    expect_failure (r, cases[i].needle, NULL);
  }
}

static void
test_tensor_structure_faults_are_refused (void)
{
  /* Unknown tensor. */
  {
    g_autoptr (RawModel) r = small_raw (FALSE);
    gint64 one = 1;
    add_spec (r, "conv4.weight", ESPCN_DTYPE_I8, 1, &one, NULL);
    expect_failure (r, "unknown tensor 'conv4.weight'", NULL);
  }
  /* Missing tensors. */
  const char *required[] = { "conv1.weight", "conv2.bias", "conv3.multiplier", "conv1.shift", "conv3.out_max" };
  for (gsize i = 0; i < G_N_ELEMENTS (required); i++) {
    g_autoptr (RawModel) r = small_raw (FALSE);
    remove_spec (r, required[i]);
    expect_failure (r, required[i], NULL);
  }
  /* Wrong dtypes. */
  const struct { const char *name; EspcnDType dtype; } dt[] = {
    { "conv1.weight", ESPCN_DTYPE_U8 }, { "conv2.weight", ESPCN_DTYPE_F32 }, { "conv1.bias", ESPCN_DTYPE_F32 },
    { "conv2.multiplier", ESPCN_DTYPE_U32 }, { "conv3.shift", ESPCN_DTYPE_U8 }, { "conv1.out_max", ESPCN_DTYPE_I64 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (dt); i++) {
    g_autoptr (RawModel) r = small_raw (FALSE);
    Spec *s = find_spec (r, dt[i].name);
    gsize n = s->nbytes / espcn_dtype_size (s->dtype);
    s->dtype = dt[i].dtype;
    s->data = g_realloc (s->data, n * 8);
    memset (s->data, 0, n * 8);
    s->nbytes = n * espcn_dtype_size (s->dtype);
    expect_failure (r, dt[i].name, NULL);
  }
  /* Wrong shapes. */
  {
    g_autoptr (RawModel) r = small_raw (FALSE);
    Spec *s = find_spec (r, "conv2.bias");
    s->shape[0] = 3;  /* conv2 has 2 outputs */
    s->data = g_realloc (s->data, 12);
    s->nbytes = 12;
    expect_failure (r, "conv2.bias", NULL);
  }
  {
    g_autoptr (RawModel) r = small_raw (FALSE);
    Spec *s = find_spec (r, "conv3.out_max");
    s->shape[0] = 2;
    s->data = g_realloc (s->data, 8);
    s->nbytes = 8;
    expect_failure (r, "conv3.out_max", NULL);
  }
  {
    g_autoptr (RawModel) r = small_raw (FALSE);
    Spec *s = find_spec (r, "conv1.weight");
    s->ndim = 3;
    s->shape[1] = 75;
    s->shape[2] = 1;
    expect_failure (r, "conv1.weight", "dimensions");
  }
  {
    g_autoptr (RawModel) r = small_raw (FALSE);
    Spec *s = find_spec (r, "conv1.weight");  /* [4,3,5,5] as [4,3,25,1] */
    s->shape[2] = 25;
    s->shape[3] = 1;
    expect_failure (r, "conv1.weight", "square");
  }
  /* Informational tensors: right types pass, wrong ones and bad values fail. */
  {
    g_autoptr (RawModel) r = small_raw (FALSE);
    gint64 one = 1;
    float nan = NAN;
    add_spec (r, "conv2.act_scale", ESPCN_DTYPE_F32, 1, &one, &nan);
    expect_failure (r, "conv2.act_scale", NULL);
  }
  {
    g_autoptr (RawModel) r = small_raw (FALSE);
    gint64 n = 4;
    float ws[4] = { 0.1f, -0.1f, 0.1f, 0.1f };
    add_spec (r, "conv1.weight_scale", ESPCN_DTYPE_F32, 1, &n, ws);
    expect_failure (r, "conv1.weight_scale", "channel 1");
  }
}

/* Layers with new channel counts and valid-looking arrays. */
static RawModel *
raw_with_channels (int f, int c2_out, int c3_out, int k1)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 8);
  TestLayers *t = test_layers_random (&rng, 4, 2, FALSE);
  int outs[3] = { f, c2_out, c3_out }, ins[3] = { 3, f, c2_out }, ks[3] = { k1, 3, 3 };
  for (int i = 0; i < 3; i++) {
    EspcnInt8Layer *l = &t->l[i];
    l->out_c = outs[i];
    l->in_c = ins[i];
    l->k = ks[i];
    g_free (t->w[i]);
    g_free (t->bias[i]);
    g_free (t->mult[i]);
    g_free (t->shift[i]);
    t->w[i] = g_new0 (gint16, (gsize) outs[i] * ins[i] * ks[i] * ks[i]);
    t->bias[i] = g_new0 (gint32, outs[i]);
    t->mult[i] = g_new (gint32, outs[i]);
    t->shift[i] = g_new (gint32, outs[i]);
    for (int c = 0; c < outs[i]; c++) {
      t->mult[i][c] = 1 << 30;
      t->shift[i][c] = 30;
    }
    l->weight = t->w[i];
    l->bias = t->bias[i];
    l->multiplier = t->mult[i];
    l->shift = t->shift[i];
  }
  RawModel *r = raw_from_layers (t, 2);
  r->layers = t;
  return r;
}

static void
test_layer_chain_faults_are_refused (void)
{
  const struct { int f, c2, c3, k1; const char *needle; } cases[] = {
    { 4, 3, 12, 5, "conv2.weight" },     /* F -> F/2 broken */
    { 4, 2, 13, 5, "conv3.weight" },     /* not 3*s^2 */
    { 4, 2, 75, 5, "conv3.weight" },     /* s = 5 */
    { 4, 2, 3, 5, "conv3.weight" },      /* s = 1 */
    { 3, 1, 12, 5, "conv1.weight" },     /* odd F */
    { 258, 129, 12, 5, "conv1.weight" }, /* F too large */
    { 4, 2, 12, 3, "conv1.weight" },     /* kernel 3 for conv1 */
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (RawModel) r = raw_with_channels (cases[i].f, cases[i].c2, cases[i].c3, cases[i].k1);
    expect_failure (r, cases[i].needle, NULL);
  }
  /* The valid counterparts load (so the faults above are what is refused). */
  for (int s = 2; s <= 4; s++) {
    g_autoptr (RawModel) r = raw_with_channels (4, 2, 3 * s * s, 5);
    g_hash_table_insert (r->meta, g_strdup ("scale"), g_strdup_printf ("%d", s));
    g_autoptr (GBytes) b = raw_to_bytes (r);
    g_autoptr (GError) error = NULL;
    g_autoptr (EspcnInt8Model) m = load_bytes (b, &error);
    g_assert_no_error (error);
    g_assert_cmpint (espcn_int8_model_get_scale (m), ==, s);
  }
  /* Conv3 input channels disagreeing with conv2's output. */
  {
    g_autoptr (RawModel) r = raw_with_channels (4, 2, 12, 5);
    Spec *s = find_spec (r, "conv3.weight");
    s->shape[1] = 1;
    s->nbytes /= 2;
    expect_failure (r, "conv3.weight", "input channels");
  }
}

typedef void (*Mutate) (TestLayers *t);

static void m_mult_low (TestLayers *t) { t->mult[1][1] = (1 << 30) - 1; }
static void m_mult_neg (TestLayers *t) { t->mult[2][0] = -5; }
static void m_shift_zero (TestLayers *t) { t->shift[0][2] = 0; }
static void m_shift_63 (TestLayers *t) { t->shift[2][11] = 63; }
static void m_w8_min (TestLayers *t) { t->w[1][5] = -128; }
static void m_bias_big (TestLayers *t) { t->bias[0][0] = (1 << 30) + 1; }
static void m_out_max_conv3 (TestLayers *t) { t->l[2].out_max = 127; }
static void m_out_max_conv1 (TestLayers *t) { t->l[0].out_max = 100; }
static void m_w8_after_wide (TestLayers *t) { t->l[0].out_max = 255; }  /* conv2 keeps I8 weights */

static void
test_value_faults_are_refused (void)
{
  const struct { Mutate f; const char *n1, *n2; } cases[] = {
    { m_mult_low, "conv2.multiplier", "channel 1" },
    { m_mult_neg, "conv3.multiplier", "channel 0" },
    { m_shift_zero, "conv1.shift", "channel 2" },
    { m_shift_63, "conv3.shift", "channel 11" },
    { m_w8_min, "conv2.weight", "-128" },
    { m_bias_big, "conv1.bias", "channel 0" },
    { m_out_max_conv3, "conv3.out_max", NULL },
    { m_out_max_conv1, "conv1.out_max", NULL },
    { m_w8_after_wide, "conv2.weight", "7-bit" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (RawModel) r0 = small_raw (FALSE);
    TestLayers *t = r0->layers;
    cases[i].f (t);
    g_autoptr (RawModel) r = raw_from_layers (t, 2);
    expect_failure (r, cases[i].n1, cases[i].n2);
  }
  /* int16 weights: 4095 passes, 4096 does not. */
  {
    g_autoptr (RawModel) r0 = small_raw (TRUE);
    TestLayers *t = r0->layers;
    t->w[2][7] = 4095;
    g_autoptr (RawModel) ok = raw_from_layers (t, 2);
    g_autoptr (GBytes) b = raw_to_bytes (ok);
    g_autoptr (EspcnInt8Model) m = load_bytes (b, NULL);
    g_assert_nonnull (m);
    t->w[2][7] = -4096;
    g_autoptr (RawModel) bad = raw_from_layers (t, 2);
    expect_failure (bad, "conv3.weight", "-4096");
  }
}

static void
test_accumulator_bound_is_enforced (void)
{
  /* F = 128 with int16 weights: conv2 has 1152 taps of 255 * 4095 = 1.2e9, and a bias
   * of 2^30 on channel 5 pushes the bound past 2^31 - 1; one step lower it fits. */
  EspcnRng rng;
  espcn_rng_seed (&rng, 77);
  g_autoptr (TestLayers) t = test_layers_random (&rng, 128, 2, TRUE);
  gsize per = 128 * 9;
  for (gsize j = 0; j < per; j++)
    t->w[1][5 * per + j] = (gint16) (j % 2 ? 4095 : -4095);
  t->bias[1][5] = -(1 << 30);
  g_autoptr (RawModel) r = raw_from_layers (t, 2);
  expect_failure (r, "accumulator bound", "channel 5");
  g_autoptr (GError) error = NULL;
  g_assert_null (espcn_int8_model_new (t->l, t->metadata, &error));
  g_assert_nonnull (strstr (error->message, "conv2"));

  /* Just inside: |b| + 255 * sum|w| = 2^31 - 1 exactly. */
  gint64 sum = 255 * (gint64) per * 4095;
  t->bias[1][5] = (gint32) (G_MAXINT32 - sum);
  g_autoptr (RawModel) r2 = raw_from_layers (t, 2);
  g_autoptr (GBytes) b = raw_to_bytes (r2);
  g_clear_error (&error);
  g_autoptr (EspcnInt8Model) m = load_bytes (b, &error);
  g_assert_no_error (error);
  g_assert_nonnull (m);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/loader/valid-model-round-trips", test_valid_model_round_trips);
  g_test_add_func ("/engine/loader/shift-may-be-int8", test_shift_may_be_int8);
  g_test_add_func ("/engine/loader/missing-file-is-an-error", test_missing_file_is_an_error);
  g_test_add_func ("/engine/loader/file-errors-name-the-path", test_file_errors_name_the_path);
  g_test_add_func ("/engine/loader/version-1-loads-as-rgb", test_version_1_loads_as_rgb);
  g_test_add_func ("/engine/loader/version-2-luma-loads-and-round-trips", test_version_2_luma_loads_and_round_trips);
  g_test_add_func ("/engine/loader/writer-emits-version-2-with-channels", test_writer_emits_version_2_with_channels);
  g_test_add_func ("/engine/loader/channel-mismatches-are-refused", test_channel_mismatches_are_refused);
  g_test_add_func ("/engine/loader/every-truncation-is-refused", test_every_truncation_is_refused);
  g_test_add_func ("/engine/loader/bit-flips-never-crash", test_bit_flips_never_crash);
  g_test_add_func ("/engine/loader/container-faults-are-refused", test_container_faults_are_refused);
  g_test_add_func ("/engine/loader/metadata-faults-are-refused", test_metadata_faults_are_refused);
  g_test_add_func ("/engine/loader/tensor-structure-faults-are-refused", test_tensor_structure_faults_are_refused);
  g_test_add_func ("/engine/loader/layer-chain-faults-are-refused", test_layer_chain_faults_are_refused);
  g_test_add_func ("/engine/loader/value-faults-are-refused", test_value_faults_are_refused);
  g_test_add_func ("/engine/loader/accumulator-bound-is-enforced", test_accumulator_bound_is_enforced);
  return g_test_run ();
}
