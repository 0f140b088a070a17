/* Tests for core/io/safetensors: exact bytes we write, round trips, and a reader
 * that rejects every malformed file with a specific error and never reads out of
 * bounds (buffers handed to the reader are exact-size heap copies, so an ASan
 * build catches any overread). */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "io/json-strict.h"
#include "io/safetensors.h"
#include "util/atomic-file.h"
#include "util/rng.h"
#include "test-util.h"

/* ------------------------------------------------------------ helpers */

/* 8-byte little-endian length, header bytes, data bytes: an arbitrary file. */
static GBytes *
assemble (guint64 header_len, const char *header, gsize header_bytes, const void *data, gsize data_len)
{
  GByteArray *a = g_byte_array_new ();
  guint8 len_le[8];
  for (int i = 0; i < 8; i++)
    len_le[i] = (guint8) (header_len >> (8 * i));
  g_byte_array_append (a, len_le, 8);
  g_byte_array_append (a, (const guint8 *) header, (guint) header_bytes);
  if (data_len)
    g_byte_array_append (a, data, (guint) data_len);
  return g_byte_array_free_to_bytes (a);
}

/* A well-formed file around `header` and data_len zero bytes. */
static GBytes *
file_with_header (const char *header, gsize data_len)
{
  g_autofree guint8 *zeros = g_malloc0 (MAX (data_len, 1));
  return assemble (strlen (header), header, strlen (header), zeros, data_len);
}

/* Loads from an exact-size heap copy so that any overread is an ASan error. */
static EspcnSafetensors *
load_exact (const guint8 *data, gsize len, GError **error)
{
  guint8 *copy = g_malloc (MAX (len, 1));
  if (len)
    memcpy (copy, data, len);
  EspcnSafetensors *st = espcn_safetensors_load_data (copy, len, error);
  g_free (copy);
  return st;
}

static EspcnSafetensors *
load_bytes (GBytes *b, GError **error)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (b, &len);
  return load_exact (d, len, error);
}

/* The header must be rejected with `code` and a message containing `needle`. */
static void
assert_rejected (GBytes *file, int code, const char *needle)
{
  GError *error = NULL;
  EspcnSafetensors *st = load_bytes (file, &error);
  g_assert_null (st);
  g_assert_nonnull (error);
  if (!g_error_matches (error, ESPCN_SAFETENSORS_ERROR, code) || strstr (error->message, needle) == NULL)
    g_error ("expected code %d with '%s', got code %d: %s", code, needle, error->code, error->message);
  g_clear_error (&error);
}

static void
assert_header_rejected (const char *header, gsize data_len, int code, const char *needle)
{
  g_autoptr (GBytes) file = file_with_header (header, data_len);
  assert_rejected (file, code, needle);
}

/* A small valid file with several dtypes, used by the hostile-input tests. */
static GBytes *
small_valid_file (void)
{
  g_autoptr (EspcnSafetensorsWriter) w = espcn_safetensors_writer_new ();
  GError *error = NULL;
  const float wdata[6] = { 0.5f, -1.0f, 2.0f, 3.5f, -0.25f, 8.0f };
  const gint8 qdata[3] = { -127, 0, 127 };
  const gint32 bdata[2] = { -5, 1 << 30 };
  gint64 s23[2] = { 2, 3 }, s3[1] = { 3 }, s2[1] = { 2 };
  g_assert_true (espcn_safetensors_writer_set_metadata (w, "format", "espcn-int8", &error));
  g_assert_true (espcn_safetensors_writer_add (w, "conv1.weight", ESPCN_DTYPE_F32, 2, s23, wdata, &error));
  g_assert_true (espcn_safetensors_writer_add (w, "conv2.q", ESPCN_DTYPE_I8, 1, s3, qdata, &error));
  g_assert_true (espcn_safetensors_writer_add (w, "conv2.bias", ESPCN_DTYPE_I32, 1, s2, bdata, &error));
  g_assert_no_error (error);
  return espcn_safetensors_writer_to_bytes (w);
}

/* ------------------------------------------------------------ dtypes and writer */

static void
test_dtype_names_and_sizes (void)
{
  static const struct { const char *name; gsize size; } expect[] = {
    { "BOOL", 1 }, { "U8", 1 }, { "I8", 1 }, { "F8_E5M2", 1 }, { "F8_E4M3", 1 },
    { "I16", 2 }, { "U16", 2 }, { "F16", 2 }, { "BF16", 2 }, { "I32", 4 }, { "U32", 4 },
    { "F32", 4 }, { "I64", 8 }, { "U64", 8 }, { "F64", 8 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++) {
    EspcnDType d = espcn_dtype_from_name (expect[i].name);
    g_assert_cmpint (d, !=, ESPCN_DTYPE_INVALID);
    g_assert_cmpstr (espcn_dtype_name (d), ==, expect[i].name);
    g_assert_cmpuint (espcn_dtype_size (d), ==, expect[i].size);
  }
  g_assert_cmpint (espcn_dtype_from_name ("f32"), ==, ESPCN_DTYPE_INVALID);
  g_assert_cmpint (espcn_dtype_from_name ("Q4"), ==, ESPCN_DTYPE_INVALID);
  g_assert_cmpint (espcn_dtype_from_name (NULL), ==, ESPCN_DTYPE_INVALID);
  g_assert_null (espcn_dtype_name (ESPCN_DTYPE_INVALID));
  g_assert_null (espcn_dtype_name (ESPCN_DTYPE_N_TYPES));
  g_assert_cmpuint (espcn_dtype_size (ESPCN_DTYPE_INVALID), ==, 0);
}

/* The exact bytes, assembled by hand from the format description: compact JSON
 * with "__metadata__" first, keys dtype/shape/data_offsets, header padded with
 * spaces to a multiple of 8, little-endian length and data. */
static void
test_writer_bytes_match_hand_assembled_file (void)
{
  static const char expected_header[] =
    "{\"__metadata__\":{\"k\":\"v\"},"
    "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
    "\"q\":{\"dtype\":\"I16\",\"shape\":[1,1],\"data_offsets\":[8,10]}}"
    " ";  /* 135 bytes of JSON + 1 space = 136 */
  static const guint8 expected_len[8] = { 0x88, 0, 0, 0, 0, 0, 0, 0 };
  static const guint8 expected_data[10] = {
    0x00, 0x00, 0x80, 0x3f,  /* 1.0f */
    0x00, 0x00, 0x00, 0xc0,  /* -2.0f */
    0x02, 0x01,              /* 0x0102 */
  };
  g_assert_cmpuint (sizeof expected_header - 1, ==, 136);
  g_autoptr (GByteArray) expected = g_byte_array_new ();
  g_byte_array_append (expected, expected_len, 8);
  g_byte_array_append (expected, (const guint8 *) expected_header, 136);
  g_byte_array_append (expected, expected_data, 10);

  g_autoptr (EspcnSafetensorsWriter) w = espcn_safetensors_writer_new ();
  GError *error = NULL;
  const float wv[2] = { 1.0f, -2.0f };
  const gint16 qv[1] = { 0x0102 };
  gint64 s2[1] = { 2 }, s11[2] = { 1, 1 };
  g_assert_true (espcn_safetensors_writer_set_metadata (w, "k", "v", &error));
  g_assert_true (espcn_safetensors_writer_add (w, "w", ESPCN_DTYPE_F32, 1, s2, wv, &error));
  g_assert_true (espcn_safetensors_writer_add (w, "q", ESPCN_DTYPE_I16, 2, s11, qv, &error));
  g_assert_no_error (error);
  g_autoptr (GBytes) got = espcn_safetensors_writer_to_bytes (w);
  gsize got_len;
  const guint8 *got_data = g_bytes_get_data (got, &got_len);
  g_assert_cmpmem (got_data, got_len, expected->data, expected->len);
}

static void
test_writer_empty_file_is_padded_object (void)
{
  g_autoptr (EspcnSafetensorsWriter) w = espcn_safetensors_writer_new ();
  g_autoptr (GBytes) got = espcn_safetensors_writer_to_bytes (w);
  static const guint8 expected[16] = { 8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' ' };
  gsize n;
  const guint8 *d = g_bytes_get_data (got, &n);
  g_assert_cmpmem (d, n, expected, sizeof expected);
  GError *error = NULL;
  g_autoptr (EspcnSafetensors) st = load_bytes (got, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (espcn_safetensors_n_tensors (st), ==, 0);
  g_assert_null (espcn_safetensors_get_metadata_keys (st)[0]);
}

static void
test_writer_escapes_names_as_json (void)
{
  g_autoptr (EspcnSafetensorsWriter) w = espcn_safetensors_writer_new ();
  GError *error = NULL;
  const guint8 v = 7;
  const char *name = "a\"b\\c\n\x01\xc3\xa9";  /* quote, backslash, newline, U+0001, e-acute */
  g_assert_true (espcn_safetensors_writer_add (w, name, ESPCN_DTYPE_U8, 0, NULL, &v, &error));
  g_assert_true (espcn_safetensors_writer_set_metadata (w, "t\tab", "line\r\n", &error));
  g_assert_no_error (error);
  g_autoptr (GBytes) b = espcn_safetensors_writer_to_bytes (w);
  gsize n;
  const char *d = g_bytes_get_data (b, &n);
  g_autofree char *text = g_strndup (d + 8, n - 8);
  g_assert_nonnull (strstr (text, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\":"));
  g_assert_nonnull (strstr (text, "\"t\\tab\":\"line\\r\\n\""));
  g_autoptr (EspcnSafetensors) st = load_bytes (b, &error);
  g_assert_no_error (error);
  const EspcnTensor *t = espcn_safetensors_get (st, name);
  g_assert_nonnull (t);
  g_assert_cmpint (t->ndim, ==, 0);
  g_assert_cmpuint (*(const guint8 *) t->data, ==, 7);
  g_assert_cmpstr (espcn_safetensors_get_metadata (st, "t\tab"), ==, "line\r\n");
}

static void
test_writer_is_deterministic (void)
{
  g_autoptr (GBytes) a = small_valid_file ();
  g_autoptr (GBytes) b = small_valid_file ();
  g_assert_true (g_bytes_equal (a, b));
}

static void
test_writer_rejects_invalid_tensors (void)
{
  g_autoptr (EspcnSafetensorsWriter) w = espcn_safetensors_writer_new ();
  GError *error = NULL;
  const float v[4] = { 0 };
  gint64 s1[1] = { 1 }, neg[1] = { -1 }, nine[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
  gint64 huge[2] = { G_MAXINT64, 4 };
  g_assert_true (espcn_safetensors_writer_add (w, "a", ESPCN_DTYPE_F32, 1, s1, v, &error));
  g_assert_no_error (error);

  struct { const char *name; EspcnDType dt; int ndim; const gint64 *shape; const void *data; const char *needle; } bad[] = {
    { "a", ESPCN_DTYPE_F32, 1, s1, v, "added twice" },
    { "__metadata__", ESPCN_DTYPE_F32, 1, s1, v, "reserved" },
    { "b", ESPCN_DTYPE_F32, 1, neg, v, "negative" },
    { "c", ESPCN_DTYPE_F32, 9, nine, v, "ndim 9" },
    { "d", ESPCN_DTYPE_F32, -1, s1, v, "ndim -1" },
    { "e", ESPCN_DTYPE_INVALID, 1, s1, v, "invalid dtype" },
    { "f", (EspcnDType) 99, 1, s1, v, "invalid dtype" },
    { "g", ESPCN_DTYPE_F32, 2, huge, v, "overflows" },
    { "h", ESPCN_DTYPE_F32, 1, s1, NULL, "data is NULL" },
    { "\xff", ESPCN_DTYPE_F32, 1, s1, v, "UTF-8" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_assert_false (espcn_safetensors_writer_add (w, bad[i].name, bad[i].dt, bad[i].ndim, bad[i].shape,
                                                  bad[i].data, &error));
    g_assert_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_INVALID);
    if (strstr (error->message, bad[i].needle) == NULL)
      g_error ("case %u: expected '%s' in: %s", i, bad[i].needle, error->message);
    g_clear_error (&error);
  }
  g_assert_false (espcn_safetensors_writer_set_metadata (w, "k", "\xc3", &error));
  g_assert_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_INVALID);
  g_clear_error (&error);
  /* Nothing of the failed calls made it into the file. */
  g_autoptr (GBytes) b = espcn_safetensors_writer_to_bytes (w);
  g_autoptr (EspcnSafetensors) st = load_bytes (b, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (espcn_safetensors_n_tensors (st), ==, 1);
  g_assert_null (espcn_safetensors_get_metadata (st, "k"));
}

/* ------------------------------------------------------------ round trips */

static void
test_round_trip_all_dtypes_and_metadata (void)
{
  g_autoptr (EspcnSafetensorsWriter) w = espcn_safetensors_writer_new ();
  GError *error = NULL;
  guint8 pattern[8 * 7 * 3];
  for (guint i = 0; i < sizeof pattern; i++)
    pattern[i] = (guint8) (i * 37 + 11);
  /* Odd sizes first, so later tensors sit at unaligned file offsets. */
  gint64 shapes[][3] = { { 7, 1, 3 }, { 3, 7, 1 }, { 1, 3, 7 } };
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (int d = ESPCN_DTYPE_INVALID + 1; d < ESPCN_DTYPE_N_TYPES; d++) {
    char *name = g_strdup_printf ("t.%s", espcn_dtype_name (d));
    g_ptr_array_add (names, name);
    g_assert_true (espcn_safetensors_writer_add (w, name, d, 3, shapes[d % 3], pattern, &error));
    g_assert_no_error (error);
  }
  const gint64 zero_shape[2] = { 4, 0 };
  g_assert_true (espcn_safetensors_writer_add (w, "empty", ESPCN_DTYPE_F32, 2, zero_shape, NULL, &error));
  const double scalar = 3.25;
  g_assert_true (espcn_safetensors_writer_add (w, "scalar", ESPCN_DTYPE_F64, 0, NULL, &scalar, &error));
  g_assert_true (espcn_safetensors_writer_set_metadata (w, "method", "lsq", &error));
  g_assert_true (espcn_safetensors_writer_set_metadata (w, "scale", "3", &error));
  g_assert_true (espcn_safetensors_writer_set_metadata (w, "method", "pact", &error)); /* replaces */
  g_assert_true (espcn_safetensors_writer_set_metadata (w, "note", "\xc3\xa9t\xc3\xa9 \"quoted\"", &error));
  g_assert_true (espcn_safetensors_writer_set_metadata (w, "empty", "", &error));
  g_assert_no_error (error);

  g_autofree char *dir = espcn_test_make_tmp_dir ("espcn-st-XXXXXX");
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "rt.safetensors", NULL);
  g_assert_true (espcn_safetensors_writer_write_file (w, path, &error));
  g_assert_no_error (error);
  g_autoptr (GBytes) mem = espcn_safetensors_writer_to_bytes (w);
  g_autofree char *on_disk = NULL;
  gsize disk_len;
  g_assert_true (g_file_get_contents (path, &on_disk, &disk_len, NULL));
  g_assert_cmpmem (on_disk, disk_len, g_bytes_get_data (mem, NULL), g_bytes_get_size (mem));

  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_file (path, &error);
  g_assert_no_error (error);
  g_unlink (path);
  g_rmdir (dir);

  g_assert_cmpuint (espcn_safetensors_n_tensors (st), ==, names->len + 2);
  for (int d = ESPCN_DTYPE_INVALID + 1; d < ESPCN_DTYPE_N_TYPES; d++) {
    const EspcnTensor *t = espcn_safetensors_get (st, g_ptr_array_index (names, d - 1));
    g_assert_nonnull (t);
    g_assert_cmpint (t->dtype, ==, d);
    g_assert_cmpint (t->ndim, ==, 3);
    for (int i = 0; i < 3; i++)
      g_assert_cmpint (t->shape[i], ==, shapes[d % 3][i]);
    g_assert_cmpuint (t->nbytes, ==, 21 * espcn_dtype_size (d));
    g_assert_cmpmem (t->data, t->nbytes, pattern, t->nbytes);
    g_assert_cmpuint ((guintptr) t->data % 8, ==, 0);
  }
  const EspcnTensor *e = espcn_safetensors_get (st, "empty");
  g_assert_nonnull (e);
  g_assert_cmpuint (e->nbytes, ==, 0);
  g_assert_nonnull (e->data);
  g_assert_cmpint (e->shape[1], ==, 0);
  const EspcnTensor *s = espcn_safetensors_get (st, "scalar");
  g_assert_cmpint (s->ndim, ==, 0);
  g_assert_cmpfloat (*(const double *) s->data, ==, 3.25);
  g_assert_null (espcn_safetensors_get (st, "t.Q4"));

  /* File order: ascending offsets, which is insertion order for our writer. */
  for (guint i = 0; i < names->len; i++)
    g_assert_cmpstr (espcn_safetensors_get_nth (st, i)->name, ==, g_ptr_array_index (names, i));
  g_assert_null (espcn_safetensors_get_nth (st, names->len + 2));

  const char *const *keys = espcn_safetensors_get_metadata_keys (st);
  g_assert_cmpstr (keys[0], ==, "empty");
  g_assert_cmpstr (keys[1], ==, "method");
  g_assert_cmpstr (keys[2], ==, "note");
  g_assert_cmpstr (keys[3], ==, "scale");
  g_assert_null (keys[4]);
  g_assert_cmpstr (espcn_safetensors_get_metadata (st, "method"), ==, "pact");
  g_assert_cmpstr (espcn_safetensors_get_metadata (st, "note"), ==, "\xc3\xa9t\xc3\xa9 \"quoted\"");
  g_assert_cmpstr (espcn_safetensors_get_metadata (st, "empty"), ==, "");
  g_assert_null (espcn_safetensors_get_metadata (st, "missing"));
}

/* A file written by another tool may have tensors at odd offsets. */
static void
test_unaligned_offsets_are_copied_aligned (void)
{
  const char *header = "{\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]},"
                       "\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[3,11]}}";
  guint8 data[11] = { 1, 2, 3 };
  double v = -1.5;
  memcpy (data + 3, &v, 8);  /* this host is little-endian (x86) */
  g_autoptr (GBytes) file = assemble (strlen (header), header, strlen (header), data, sizeof data);
  GError *error = NULL;
  g_autoptr (EspcnSafetensors) st = load_bytes (file, &error);
  g_assert_no_error (error);
  const EspcnTensor *b = espcn_safetensors_get (st, "b");
  g_assert_cmpuint ((guintptr) b->data % 8, ==, 0);
  g_assert_cmpfloat (*(const double *) b->data, ==, -1.5);
}

static void
test_get_typed_reports_mismatches (void)
{
  g_autoptr (GBytes) file = small_valid_file ();
  GError *error = NULL;
  g_autoptr (EspcnSafetensors) st = load_bytes (file, &error);
  g_assert_no_error (error);

  const gint64 any_by_3[2] = { -1, 3 };
  const EspcnTensor *t = espcn_safetensors_get_typed (st, "conv1.weight", ESPCN_DTYPE_F32, 2, any_by_3, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  g_assert_cmpfloat (((const float *) t->data)[5], ==, 8.0f);
  g_assert_nonnull (espcn_safetensors_get_typed (st, "conv1.weight", ESPCN_DTYPE_F32, -1, NULL, &error));
  g_assert_nonnull (espcn_safetensors_get_typed (st, "conv1.weight", ESPCN_DTYPE_F32, 2, NULL, &error));
  g_assert_no_error (error);

  g_assert_null (espcn_safetensors_get_typed (st, "conv1.weight", ESPCN_DTYPE_I8, 2, NULL, &error));
  g_assert_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_MISMATCH);
  g_assert_cmpstr (error->message, ==, "tensor 'conv1.weight': expected dtype I8, found F32");
  g_clear_error (&error);

  const gint64 want[2] = { 3, -1 };
  g_assert_null (espcn_safetensors_get_typed (st, "conv1.weight", ESPCN_DTYPE_F32, 2, want, &error));
  g_assert_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_MISMATCH);
  g_assert_cmpstr (error->message, ==, "tensor 'conv1.weight': expected shape [3, *], found [2, 3]");
  g_clear_error (&error);

  g_assert_null (espcn_safetensors_get_typed (st, "conv2.q", ESPCN_DTYPE_I8, 2, NULL, &error));
  g_assert_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_MISMATCH);
  g_assert_cmpstr (error->message, ==, "tensor 'conv2.q': expected shape [*, *], found [3]");
  g_clear_error (&error);

  g_assert_null (espcn_safetensors_get_typed (st, "conv9.weight", ESPCN_DTYPE_I8, 1, NULL, &error));
  g_assert_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "conv9.weight"));
  g_clear_error (&error);
}

static void
test_write_file_failure_keeps_previous_file (void)
{
  GError *error = NULL;
  g_autofree char *dir = espcn_test_make_tmp_dir ("espcn-st-XXXXXX");
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "ckpt.safetensors", NULL);
  g_autoptr (EspcnSafetensorsWriter) w = espcn_safetensors_writer_new ();
  gint64 s[1] = { 1000 };
  g_autofree float *v = g_new0 (float, 1000);
  g_assert_true (espcn_safetensors_writer_add (w, "x", ESPCN_DTYPE_F32, 1, s, v, &error));
  g_assert_true (g_file_set_contents (path, "previous", 8, NULL));
  espcn_atomic_file_set_fail_after (2000);  /* inside the tensor data */
  g_assert_false (espcn_safetensors_writer_write_file (w, path, &error));
  espcn_atomic_file_set_fail_after (-1);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOSPC);
  g_clear_error (&error);
  g_autofree char *got = NULL;
  g_assert_true (g_file_get_contents (path, &got, NULL, NULL));
  g_assert_cmpstr (got, ==, "previous");
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_cmpstr (g_dir_read_name (d), ==, "ckpt.safetensors");
  g_assert_null (g_dir_read_name (d));
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_load_file_error_names_path (void)
{
  GError *error = NULL;
  g_autofree char *dir = espcn_test_make_tmp_dir ("espcn-st-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "bad.safetensors", NULL);
  g_assert_null (espcn_safetensors_load_file (path, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "\x02\0\0\0\0\0\0\0[]", 10, NULL));
  g_assert_null (espcn_safetensors_load_file (path, &error));
  g_assert_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_HEADER);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_clear_error (&error);
  g_unlink (path);
  g_rmdir (dir);
}

/* ------------------------------------------------------------ hostile input */

static void
test_every_truncation_is_an_error (void)
{
  g_autoptr (GBytes) file = small_valid_file ();
  gsize len;
  const guint8 *d = g_bytes_get_data (file, &len);
  GError *error = NULL;
  for (gsize n = 0; n < len; n++) {
    EspcnSafetensors *st = load_exact (d, n, &error);
    if (st != NULL)
      g_error ("prefix of %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes loaded", n, len);
    g_assert_nonnull (error);
    g_assert_true (error->domain == ESPCN_SAFETENSORS_ERROR);
    g_clear_error (&error);
  }
  g_autoptr (EspcnSafetensors) st = load_exact (d, len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (espcn_safetensors_n_tensors (st), ==, 3);
}

/* Flipped bits either load (a bit in the data, or a harmless one in the header)
 * or fail with an error; a loaded file must be self-consistent. */
static void
test_random_bit_flips_never_crash (void)
{
  g_autoptr (GBytes) file = small_valid_file ();
  gsize len;
  const guint8 *orig = g_bytes_get_data (file, &len);
  g_autofree guint8 *buf = g_malloc (len);
  EspcnRng rng;
  espcn_rng_seed (&rng, 20240611);
  guint loaded = 0, rejected = 0;
  for (int trial = 0; trial < 4000; trial++) {
    memcpy (buf, orig, len);
    guint flips = 1 + espcn_rng_below (&rng, 3);
    for (guint f = 0; f < flips; f++) {
      guint32 bit = espcn_rng_below (&rng, (guint32) (len * 8));
      buf[bit / 8] ^= (guint8) (1u << (bit % 8));
    }
    GError *error = NULL;
    EspcnSafetensors *st = load_exact (buf, len, &error);
    if (st == NULL) {
      g_assert_nonnull (error);
      g_clear_error (&error);
      rejected++;
      continue;
    }
    loaded++;
    gsize total = 0;
    for (guint i = 0; i < espcn_safetensors_n_tensors (st); i++) {
      const EspcnTensor *t = espcn_safetensors_get_nth (st, i);
      guint64 n = espcn_dtype_size (t->dtype);
      for (int k = 0; k < t->ndim; k++)
        n *= (guint64) t->shape[k];
      g_assert_cmpuint (n, ==, t->nbytes);
      total += t->nbytes;
    }
    g_assert_cmpuint (total, <=, len);
    espcn_safetensors_free (st);
  }
  g_test_message ("bit flips: %u loaded, %u rejected", loaded, rejected);
  g_assert_cmpuint (rejected, >, 0);
  g_assert_cmpuint (loaded, >, 0);
}

/* Replace header bytes with JSON punctuation, digits and letters, so that many
 * variants stay well-formed JSON and reach the semantic checks. */
static void
test_random_header_edits_never_crash (void)
{
  static const char alphabet[] = "{}[]\":,-.0123456789eE\\u aFIU";
  g_autoptr (GBytes) file = small_valid_file ();
  gsize len;
  const guint8 *orig = g_bytes_get_data (file, &len);
  guint64 hlen = orig[0] | (guint64) orig[1] << 8;
  g_autofree guint8 *buf = g_malloc (len);
  EspcnRng rng;
  espcn_rng_seed (&rng, 7);
  guint loaded = 0, rejected = 0;
  for (int trial = 0; trial < 4000; trial++) {
    memcpy (buf, orig, len);
    guint edits = 1 + espcn_rng_below (&rng, 2);
    for (guint e = 0; e < edits; e++)
      buf[8 + espcn_rng_below (&rng, (guint32) hlen)] = (guint8) alphabet[espcn_rng_below (&rng, sizeof alphabet - 1)];
    GError *error = NULL;
    EspcnSafetensors *st = load_exact (buf, len, &error);
    if (st == NULL) {
      g_assert_nonnull (error);
      g_clear_error (&error);
      rejected++;
    } else {
      loaded++;
      espcn_safetensors_free (st);
    }
  }
  g_test_message ("header edits: %u loaded, %u rejected", loaded, rejected);
  g_assert_cmpuint (rejected, >, 0);
}

static void
test_header_length_out_of_bounds (void)
{
  const char *h = "{}";
  g_autoptr (GBytes) huge = assemble (G_GUINT64_CONSTANT (1) << 63, h, 2, NULL, 0);
  assert_rejected (huge, ESPCN_SAFETENSORS_ERROR_HEADER, "9223372036854775808");
  g_autoptr (GBytes) max = assemble (G_MAXUINT64, h, 2, NULL, 0);
  assert_rejected (max, ESPCN_SAFETENSORS_ERROR_HEADER, "outside");
  g_autoptr (GBytes) over = assemble (100000001, h, 2, NULL, 0);
  assert_rejected (over, ESPCN_SAFETENSORS_ERROR_HEADER, "outside");
  g_autoptr (GBytes) past = assemble (3, h, 2, NULL, 0);
  assert_rejected (past, ESPCN_SAFETENSORS_ERROR_TRUNCATED, "exceeds the 2 bytes");
  g_autoptr (GBytes) zero = assemble (0, h, 2, NULL, 0);
  assert_rejected (zero, ESPCN_SAFETENSORS_ERROR_HEADER, "outside");
  g_autoptr (GBytes) one = assemble (1, h, 2, NULL, 0);
  assert_rejected (one, ESPCN_SAFETENSORS_ERROR_HEADER, "outside");
  /* Header shorter than the JSON: the JSON is cut. */
  g_autoptr (GBytes) cut = assemble (2, "{\"a\"}", 5, NULL, 0);
  assert_rejected (cut, ESPCN_SAFETENSORS_ERROR_HEADER, "not valid JSON");
}

#define T(name, dt, shape, offs) "\"" name "\":{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":" offs "}"

static void
test_bad_offsets_are_rejected (void)
{
  assert_header_rejected ("{" T ("a", "F32", "[2]", "[0,8]") "}", 4, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "tensor 'a': data_offsets [0, 8] extend past the end of the 4-byte data buffer");
  assert_header_rejected ("{" T ("a", "F32", "[1]", "[9223372036854775800,9223372036854775804]") "}", 4,
                          ESPCN_SAFETENSORS_ERROR_TENSOR, "extend past the end");
  assert_header_rejected ("{" T ("a", "F32", "[1]", "[-4,0]") "}", 4, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "tensor 'a': data_offsets[0] = -4 is negative");
  assert_header_rejected ("{" T ("a", "F32", "[1]", "[0.0,4]") "}", 4, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "tensor 'a': data_offsets[0] is not an integer");
  assert_header_rejected ("{" T ("a", "F32", "[1]", "[0,4e0]") "}", 4, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "data_offsets[1] is not an integer");
  assert_header_rejected ("{" T ("a", "F32", "[1]", "[0,\"4\"]") "}", 4, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "data_offsets[1] is not an integer");
  assert_header_rejected ("{" T ("a", "F32", "[1]", "[0,true]") "}", 4, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "data_offsets[1] is not an integer");
  assert_header_rejected ("{" T ("a", "F32", "[0]", "[4,0]") "}", 4, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "begin is after end");
  assert_header_rejected ("{" T ("a", "F32", "[1]", "[0,4,8]") "}", 8, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "'data_offsets' has 3 elements");
  assert_header_rejected ("{" T ("a", "F32", "[1]", "{}") "}", 4, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "'data_offsets' is a JsonObject, not an array");
  /* json-glib alone would wrap this to INT64_MIN. */
  assert_header_rejected ("{" T ("a", "F32", "[1]", "[0,9223372036854775808]") "}", 4,
                          ESPCN_SAFETENSORS_ERROR_HEADER, "integer outside the 64-bit signed range");
}

static void
test_overlaps_gaps_and_trailing_bytes_are_rejected (void)
{
  assert_header_rejected ("{" T ("a", "F32", "[2]", "[0,8]") "," T ("b", "F32", "[2]", "[4,12]") "}", 12,
                          ESPCN_SAFETENSORS_ERROR_LAYOUT, "tensors 'a' [0, 8) and 'b' [4, 12) overlap");
  assert_header_rejected ("{" T ("a", "F32", "[2]", "[0,8]") "," T ("b", "F32", "[2]", "[0,8]") "}", 8,
                          ESPCN_SAFETENSORS_ERROR_LAYOUT, "overlap");
  /* Listed out of order in the header: the check sorts by offset. */
  assert_header_rejected ("{" T ("b", "I8", "[4]", "[6,10]") "," T ("a", "F32", "[2]", "[0,8]") "}", 10,
                          ESPCN_SAFETENSORS_ERROR_LAYOUT, "tensors 'a' [0, 8) and 'b' [6, 10) overlap");
  assert_header_rejected ("{" T ("a", "F32", "[1]", "[4,8]") "}", 8, ESPCN_SAFETENSORS_ERROR_LAYOUT,
                          "data bytes [0, 4) before tensor 'a' belong to no tensor");
  assert_header_rejected ("{" T ("a", "F32", "[1]", "[0,4]") "}", 6, ESPCN_SAFETENSORS_ERROR_LAYOUT,
                          "data bytes [4, 6) after the last tensor belong to no tensor");
  assert_header_rejected ("{}", 1, ESPCN_SAFETENSORS_ERROR_LAYOUT, "data bytes [0, 1) after the last tensor");
}

static void
test_bad_shapes_and_dtypes_are_rejected (void)
{
  assert_header_rejected ("{" T ("conv", "F32", "[2,3]", "[0,20]") "}", 20, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "tensor 'conv': shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20");
  assert_header_rejected ("{" T ("a", "F32", "[-1]", "[0,0]") "}", 0, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "tensor 'a': shape[0] = -1 is negative");
  assert_header_rejected ("{" T ("a", "F32", "[1.5]", "[0,4]") "}", 4, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "tensor 'a': shape[0] is not an integer");
  assert_header_rejected ("{" T ("a", "F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]") "}", 4,
                          ESPCN_SAFETENSORS_ERROR_TENSOR, "shape has 9 dimensions");
  assert_header_rejected ("{" T ("a", "F32", "2", "[0,4]") "}", 4, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "'shape' is a Integer, not an array");
  /* 2^62 * 2^62 elements overflow 64 bits; 2^62 * 4 bytes do too. */
  assert_header_rejected ("{" T ("a", "F32", "[4611686018427387904,4611686018427387904]", "[0,0]") "}", 0,
                          ESPCN_SAFETENSORS_ERROR_TENSOR, "overflows");
  assert_header_rejected ("{" T ("a", "F32", "[4611686018427387904]", "[0,0]") "}", 0,
                          ESPCN_SAFETENSORS_ERROR_TENSOR, "overflows");
  /* A zero dimension makes any other dimension harmless. */
  g_autoptr (GBytes) ok = file_with_header ("{" T ("a", "F32", "[0,4611686018427387904,4611686018427387904]", "[0,0]") "}", 0);
  GError *error = NULL;
  g_autoptr (EspcnSafetensors) st = load_bytes (ok, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (espcn_safetensors_get (st, "a")->nbytes, ==, 0);

  assert_header_rejected ("{" T ("w", "Q4", "[1]", "[0,1]") "}", 1, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "tensor 'w': unknown dtype 'Q4'");
  assert_header_rejected ("{" T ("w", "f32", "[1]", "[0,4]") "}", 4, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "unknown dtype 'f32'");
  assert_header_rejected ("{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                          ESPCN_SAFETENSORS_ERROR_TENSOR, "'dtype' is a Integer, not a string");
  assert_header_rejected ("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "tensor 'w': missing key 'data_offsets'");
  assert_header_rejected ("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4,
                          ESPCN_SAFETENSORS_ERROR_TENSOR, "tensor 'w': unknown key 'x'");
  assert_header_rejected ("{\"w\":[1,2]}", 0, ESPCN_SAFETENSORS_ERROR_TENSOR,
                          "tensor 'w': entry is a JsonArray, not a JSON object");
}

static void
test_malformed_json_is_rejected (void)
{
  static const struct { const char *header; const char *needle; } cases[] = {
    { "[]      ", "not an object" },
    { "1", "outside" },  /* 1 byte: below the 2-byte minimum header */
    { "12", "not an object" },
    { "null", "not an object" },
    { "\"s\"", "not an object" },
    { "  ", "value expected" },
    { "{'a':1}", "object key" },
    { "/*c*/{}", "unexpected character" },
    { "{\"a\":0x10}", "',' or '}' expected" },
    { "{\"a\":[01]}", "leading zero" },
    { "{\"a\":[1,]}", "unexpected character" },
    { "{\"a\":1,}", "object key" },
    { "{\"a\":\"x\ty\"}", "control character" },
    { "{\"a\\u0000b\":1}", "NUL character" },
    { "{\"\\ud800\":1}", "surrogate" },
    { "{\"\\udc00\":1}", "surrogate" },
    { "{\"\\q\":1}", "invalid escape" },
    { "{} x", "trailing characters" },
    { "{\"a\":tru}", "unexpected character" },
    { "{\"a\":NaN}", "unexpected character" },
    { "{\"a\":-}", "invalid number" },
    { "{\"a\":1.}", "digit expected after decimal point" },
    { "{\"a\":1e}", "digit expected in exponent" },
    { "{\"unterminated", "unterminated string" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const char *h = cases[i].header;
    if (strlen (h) < 2) {
      assert_header_rejected (h, 0, ESPCN_SAFETENSORS_ERROR_HEADER, "outside");
      continue;
    }
    assert_header_rejected (h, 0, ESPCN_SAFETENSORS_ERROR_HEADER, cases[i].needle);
  }
  /* Byte-level faults: invalid UTF-8, a raw NUL. */
  assert_header_rejected ("{\"\xc3\x28\":1}", 0, ESPCN_SAFETENSORS_ERROR_HEADER, "invalid UTF-8 at header byte 2");
  g_autoptr (GBytes) nul = assemble (4, "{\0}", 4, NULL, 0);
  assert_rejected (nul, ESPCN_SAFETENSORS_ERROR_HEADER, "NUL byte");
  /* Deep nesting: rejected before json-glib's recursion sees it. */
  GString *deep = g_string_new ("{\"a\":");
  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  assert_header_rejected (deep->str, 0, ESPCN_SAFETENSORS_ERROR_HEADER, "nesting too deep");
  g_string_free (deep, TRUE);
}

static void
test_duplicate_keys_are_rejected (void)
{
  assert_header_rejected ("{" T ("a", "F32", "[1]", "[0,4]") "," T ("a", "F32", "[1]", "[4,8]") "}", 8,
                          ESPCN_SAFETENSORS_ERROR_HEADER, "duplicate key in object at header byte 54 (file offset 62)");
  /* The same name spelled with an escape. */
  assert_header_rejected ("{" T ("a", "F32", "[1]", "[0,4]") "," T ("\\u0061", "F32", "[1]", "[4,8]") "}", 8,
                          ESPCN_SAFETENSORS_ERROR_HEADER, "duplicate key");
  assert_header_rejected ("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                          ESPCN_SAFETENSORS_ERROR_HEADER, "duplicate key");
  assert_header_rejected ("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, ESPCN_SAFETENSORS_ERROR_HEADER,
                          "duplicate key");
  /* Surrogate pairs decode to the same key as the raw UTF-8 (U+1F600). */
  assert_header_rejected ("{\"__metadata__\":{\"\xf0\x9f\x98\x80\":\"1\",\"\\ud83d\\ude00\":\"2\"}}", 0,
                          ESPCN_SAFETENSORS_ERROR_HEADER, "duplicate key");
  /* Distinct keys that share a prefix are fine. */
  g_autoptr (GBytes) ok = file_with_header ("{\"__metadata__\":{\"k\":\"1\",\"kk\":\"2\",\"\\ud83d\\ude00\":\"3\"}}", 0);
  GError *error = NULL;
  g_autoptr (EspcnSafetensors) st = load_bytes (ok, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (espcn_safetensors_get_metadata (st, "\xf0\x9f\x98\x80"), ==, "3");
}

static void
test_bad_metadata_is_rejected (void)
{
  assert_header_rejected ("{\"__metadata__\":{\"scale\":3}}", 0, ESPCN_SAFETENSORS_ERROR_METADATA,
                          "metadata 'scale': value is a Integer, only strings are allowed");
  assert_header_rejected ("{\"__metadata__\":{\"a\":null}}", 0, ESPCN_SAFETENSORS_ERROR_METADATA, "'a'");
  assert_header_rejected ("{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}", 0, ESPCN_SAFETENSORS_ERROR_METADATA, "JsonObject");
  assert_header_rejected ("{\"__metadata__\":{\"a\":[\"b\"]}}", 0, ESPCN_SAFETENSORS_ERROR_METADATA, "JsonArray");
  assert_header_rejected ("{\"__metadata__\":\"x\"}", 0, ESPCN_SAFETENSORS_ERROR_METADATA, "not a JSON object");
}

static void
test_strict_json_checker_accepts_plain_json (void)
{
  static const char *good[] = {
    "{}", " { } ", "[]", "0", "-0", "-9223372036854775808", "9223372036854775807", "1.5e-3", "-0.0E+2",
    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"", "{\"a\":[true,false,null,{\"b\":[]}]}", "\t\r\n[1 , 2]\n",
  };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    gsize pos = 0;
    const char *what = NULL;
    if (!espcn_json_check_strict (good[i], strlen (good[i]), 16, &pos, &what))
      g_error ("rejected %s: %s at %" G_GSIZE_FORMAT, good[i], what, pos);
  }
  gsize pos = 0;
  const char *what = NULL;
  g_assert_false (espcn_json_check_strict ("-9223372036854775809", 20, 16, &pos, &what));
  g_assert_cmpstr (what, ==, "integer outside the 64-bit signed range");
  g_assert_false (espcn_json_check_strict ("[[[]]]", 6, 2, &pos, &what));
  g_assert_cmpstr (what, ==, "nesting too deep");
  g_assert_cmpuint (pos, ==, 2);
  g_assert_true (espcn_json_check_strict ("[[[]]]", 6, 3, &pos, &what));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/io/safetensors/dtype-names-and-sizes", test_dtype_names_and_sizes);
  g_test_add_func ("/io/safetensors/writer-bytes-match-hand-assembled-file", test_writer_bytes_match_hand_assembled_file);
  g_test_add_func ("/io/safetensors/writer-empty-file-is-padded-object", test_writer_empty_file_is_padded_object);
  g_test_add_func ("/io/safetensors/writer-escapes-names-as-json", test_writer_escapes_names_as_json);
  g_test_add_func ("/io/safetensors/writer-is-deterministic", test_writer_is_deterministic);
  g_test_add_func ("/io/safetensors/writer-rejects-invalid-tensors", test_writer_rejects_invalid_tensors);
  g_test_add_func ("/io/safetensors/round-trip-all-dtypes-and-metadata", test_round_trip_all_dtypes_and_metadata);
  g_test_add_func ("/io/safetensors/unaligned-offsets-are-copied-aligned", test_unaligned_offsets_are_copied_aligned);
  g_test_add_func ("/io/safetensors/get-typed-reports-mismatches", test_get_typed_reports_mismatches);
  g_test_add_func ("/io/safetensors/write-file-failure-keeps-previous-file", test_write_file_failure_keeps_previous_file);
  g_test_add_func ("/io/safetensors/load-file-error-names-path", test_load_file_error_names_path);
  g_test_add_func ("/io/safetensors/every-truncation-is-an-error", test_every_truncation_is_an_error);
  g_test_add_func ("/io/safetensors/random-bit-flips-never-crash", test_random_bit_flips_never_crash);
  g_test_add_func ("/io/safetensors/random-header-edits-never-crash", test_random_header_edits_never_crash);
  g_test_add_func ("/io/safetensors/header-length-out-of-bounds", test_header_length_out_of_bounds);
  g_test_add_func ("/io/safetensors/bad-offsets-are-rejected", test_bad_offsets_are_rejected);
  g_test_add_func ("/io/safetensors/overlaps-gaps-and-trailing-bytes-are-rejected", test_overlaps_gaps_and_trailing_bytes_are_rejected);
  g_test_add_func ("/io/safetensors/bad-shapes-and-dtypes-are-rejected", test_bad_shapes_and_dtypes_are_rejected);
  g_test_add_func ("/io/safetensors/malformed-json-is-rejected", test_malformed_json_is_rejected);
  g_test_add_func ("/io/safetensors/duplicate-keys-are-rejected", test_duplicate_keys_are_rejected);
  g_test_add_func ("/io/safetensors/bad-metadata-is-rejected", test_bad_metadata_is_rejected);
  g_test_add_func ("/io/safetensors/strict-json-checker-accepts-plain-json", test_strict_json_checker_accepts_plain_json);
  return g_test_run ();
}
