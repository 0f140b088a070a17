/* espcn-gst: safetensors reader and writer. */
#include "io/safetensors.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "io/json-strict.h"
#include "util/atomic-file.h"

#define METADATA_KEY "__metadata__"
/* Our header needs depth 3 ({ "t": { "shape": [ ); anything much deeper is hostile. */
#define MAX_JSON_DEPTH 16

G_DEFINE_QUARK (espcn-safetensors-error-quark, espcn_safetensors_error)

/* ---------------------------------------------------------------- dtypes */

static const struct {
  const char *name;
  gsize size;
} dtype_info[ESPCN_DTYPE_N_TYPES] = {
  [ESPCN_DTYPE_INVALID] = { NULL, 0 },
  [ESPCN_DTYPE_BOOL] = { "BOOL", 1 },
  [ESPCN_DTYPE_U8] = { "U8", 1 },
  [ESPCN_DTYPE_I8] = { "I8", 1 },
  [ESPCN_DTYPE_F8_E5M2] = { "F8_E5M2", 1 },
  [ESPCN_DTYPE_F8_E4M3] = { "F8_E4M3", 1 },
  [ESPCN_DTYPE_I16] = { "I16", 2 },
  [ESPCN_DTYPE_U16] = { "U16", 2 },
  [ESPCN_DTYPE_F16] = { "F16", 2 },
  [ESPCN_DTYPE_BF16] = { "BF16", 2 },
  [ESPCN_DTYPE_I32] = { "I32", 4 },
  [ESPCN_DTYPE_U32] = { "U32", 4 },
  [ESPCN_DTYPE_F32] = { "F32", 4 },
  [ESPCN_DTYPE_I64] = { "I64", 8 },
  [ESPCN_DTYPE_U64] = { "U64", 8 },
  [ESPCN_DTYPE_F64] = { "F64", 8 },
};

gsize
espcn_dtype_size (EspcnDType dtype)
{
  if ((int) dtype <= ESPCN_DTYPE_INVALID || dtype >= ESPCN_DTYPE_N_TYPES)
    return 0;
  return dtype_info[dtype].size;
}

const char *
espcn_dtype_name (EspcnDType dtype)
{
  if ((int) dtype <= ESPCN_DTYPE_INVALID || dtype >= ESPCN_DTYPE_N_TYPES)
    return NULL;
  return dtype_info[dtype].name;
}

EspcnDType
espcn_dtype_from_name (const char *name)
{
  if (name == NULL)
    return ESPCN_DTYPE_INVALID;
  for (int d = ESPCN_DTYPE_INVALID + 1; d < ESPCN_DTYPE_N_TYPES; d++)
    if (strcmp (dtype_info[d].name, name) == 0)
      return (EspcnDType) d;
  return ESPCN_DTYPE_INVALID;
}

/* The file is little-endian; copy with a byte swap on big-endian hosts. */
static void
copy_le (void *dst, const void *src, gsize nbytes, gsize elem_size)
{
  if (nbytes > 0)
    memcpy (dst, src, nbytes);
#if G_BYTE_ORDER == G_BIG_ENDIAN
  guint8 *p = dst;
  for (gsize i = 0; elem_size > 1 && i + elem_size <= nbytes; i += elem_size)
    for (gsize a = 0, b = elem_size - 1; a < b; a++, b--) {
      guint8 t = p[i + a];
      p[i + a] = p[i + b];
      p[i + b] = t;
    }
#else
  (void) elem_size;
#endif
}

static void
format_shape (GString *s, int ndim, const gint64 *shape)
{
  g_string_append_c (s, '[');
  for (int i = 0; i < ndim; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (s, ']');
}

/* prod(shape) * elem_size, FALSE on overflow. */
static gboolean
shape_nbytes (int ndim, const gint64 *shape, gsize elem_size, guint64 *out)
{
  guint64 n = elem_size;
  for (int i = 0; i < ndim; i++)
    if (!g_uint64_checked_mul (&n, n, (guint64) shape[i]))
      return FALSE;
  *out = n;
  return TRUE;
}

/* ---------------------------------------------------------------- reader */

struct _EspcnSafetensors {
  guint n;
  EspcnTensor *tensors;       /* file order */
  char **names;               /* owned names, n entries */
  GHashTable *by_name;        /* name -> EspcnTensor* */
  GHashTable *metadata;       /* owned key -> owned value */
  const char **metadata_keys; /* sorted, NULL-terminated; strings owned by metadata */
  guint8 *storage;            /* 8-aligned copy of all tensor data */
};

/* One tensor entry while the header is validated. */
typedef struct {
  const char *name;  /* owned by the JSON tree */
  EspcnDType dtype;
  int ndim;
  gint64 shape[ESPCN_SAFETENSORS_MAX_DIMS];
  guint64 begin, end;
} Entry;

static const guint64 empty_tensor_storage[1];

void
espcn_safetensors_free (EspcnSafetensors *st)
{
  if (st == NULL)
    return;
  if (st->names)
    for (guint i = 0; i < st->n; i++)
      g_free (st->names[i]);
  g_free (st->names);
  g_free (st->tensors);
  g_clear_pointer (&st->by_name, g_hash_table_unref);
  g_clear_pointer (&st->metadata, g_hash_table_unref);
  g_free (st->metadata_keys);
  g_aligned_free (st->storage);
  g_free (st);
}

static gboolean
is_json_int (JsonNode *node, gint64 *out)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

static gboolean
is_json_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

static gboolean
parse_metadata (EspcnSafetensors *st, JsonNode *node, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_METADATA,
                 "'" METADATA_KEY "' is not a JSON object");
    return FALSE;
  }
  JsonObject *obj = json_node_get_object (node);
  g_autoptr (GList) members = json_object_get_members (obj);
  for (GList *l = members; l; l = l->next) {
    const char *key = l->data;
    JsonNode *v = json_object_get_member (obj, key);
    if (!is_json_string (v)) {
      g_set_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_METADATA,
                   "metadata '%s': value is a %s, only strings are allowed", key,
                   json_node_type_name (v));
      return FALSE;
    }
    g_hash_table_insert (st->metadata, g_strdup (key), g_strdup (json_node_get_string (v)));
  }
  return TRUE;
}

static gboolean
tensor_error (GError **error, const char *name, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
tensor_error (GError **error, const char *name, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_TENSOR,
               "tensor '%s': %s", name, what);
  return FALSE;
}

static gboolean
parse_entry (const char *name, JsonNode *node, guint64 data_size, Entry *e, GError **error)
{
  e->name = name;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return tensor_error (error, name, "entry is a %s, not a JSON object", json_node_type_name (node));
  JsonObject *obj = json_node_get_object (node);

  g_autoptr (GList) members = json_object_get_members (obj);
  for (GList *l = members; l; l = l->next) {
    const char *k = l->data;
    if (strcmp (k, "dtype") != 0 && strcmp (k, "shape") != 0 && strcmp (k, "data_offsets") != 0)
      return tensor_error (error, name, "unknown key '%s'", k);
  }
  static const char *const required[] = { "dtype", "shape", "data_offsets" };
  for (guint i = 0; i < G_N_ELEMENTS (required); i++)
    if (!json_object_has_member (obj, required[i]))
      return tensor_error (error, name, "missing key '%s'", required[i]);

  JsonNode *dt = json_object_get_member (obj, "dtype");
  if (!is_json_string (dt))
    return tensor_error (error, name, "'dtype' is a %s, not a string", json_node_type_name (dt));
  e->dtype = espcn_dtype_from_name (json_node_get_string (dt));
  if (e->dtype == ESPCN_DTYPE_INVALID)
    return tensor_error (error, name, "unknown dtype '%s'", json_node_get_string (dt));

  JsonNode *sh = json_object_get_member (obj, "shape");
  if (!JSON_NODE_HOLDS_ARRAY (sh))
    return tensor_error (error, name, "'shape' is a %s, not an array", json_node_type_name (sh));
  JsonArray *sa = json_node_get_array (sh);
  guint nd = json_array_get_length (sa);
  if (nd > ESPCN_SAFETENSORS_MAX_DIMS)
    return tensor_error (error, name, "shape has %u dimensions, at most %d are supported",
                         nd, ESPCN_SAFETENSORS_MAX_DIMS);
  e->ndim = (int) nd;
  for (guint i = 0; i < nd; i++) {
    gint64 v;
    if (!is_json_int (json_array_get_element (sa, i), &v))
      return tensor_error (error, name, "shape[%u] is not an integer", i);
    if (v < 0)
      return tensor_error (error, name, "shape[%u] = %" G_GINT64_FORMAT " is negative", i, v);
    e->shape[i] = v;
  }

  JsonNode *of = json_object_get_member (obj, "data_offsets");
  if (!JSON_NODE_HOLDS_ARRAY (of))
    return tensor_error (error, name, "'data_offsets' is a %s, not an array", json_node_type_name (of));
  JsonArray *oa = json_node_get_array (of);
  if (json_array_get_length (oa) != 2)
    return tensor_error (error, name, "'data_offsets' has %u elements, expected 2 [begin, end]",
                         json_array_get_length (oa));
  gint64 off[2];
  for (guint i = 0; i < 2; i++) {
    if (!is_json_int (json_array_get_element (oa, i), &off[i]))
      return tensor_error (error, name, "data_offsets[%u] is not an integer", i);
    if (off[i] < 0)
      return tensor_error (error, name, "data_offsets[%u] = %" G_GINT64_FORMAT " is negative", i, off[i]);
  }
  e->begin = (guint64) off[0];
  e->end = (guint64) off[1];
  if (e->begin > e->end)
    return tensor_error (error, name, "data_offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                         "]: begin is after end", e->begin, e->end);
  if (e->end > data_size)
    return tensor_error (error, name, "data_offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                         "] extend past the end of the %" G_GUINT64_FORMAT "-byte data buffer",
                         e->begin, e->end, data_size);

  guint64 nbytes;
  g_autoptr (GString) shape_str = g_string_new (NULL);
  format_shape (shape_str, e->ndim, e->shape);
  if (!shape_nbytes (e->ndim, e->shape, espcn_dtype_size (e->dtype), &nbytes))
    return tensor_error (error, name, "shape %s of %s overflows 64-bit byte count",
                         shape_str->str, espcn_dtype_name (e->dtype));
  if (nbytes != e->end - e->begin)
    return tensor_error (error, name, "shape %s of %s needs %" G_GUINT64_FORMAT " bytes but data_offsets [%"
                         G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] hold %" G_GUINT64_FORMAT,
                         shape_str->str, espcn_dtype_name (e->dtype), nbytes, e->begin, e->end,
                         e->end - e->begin);
  return TRUE;
}

static int
entry_cmp (gconstpointer a, gconstpointer b)
{
  const Entry *x = a, *y = b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return strcmp (x->name, y->name);
}

/* Sorted by offset, the tensors must tile the data buffer exactly: no overlap, no
 * gap, nothing after the last one (the reference implementation's rule). */
static gboolean
check_layout (const Entry *e, guint n, guint64 data_size, GError **error)
{
  guint64 pos = 0;
  for (guint i = 0; i < n; i++) {
    if (e[i].begin < pos) {
      g_set_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_LAYOUT,
                   "tensors '%s' [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT ") and '%s' [%"
                   G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT ") overlap",
                   e[i - 1].name, e[i - 1].begin, e[i - 1].end, e[i].name, e[i].begin, e[i].end);
      return FALSE;
    }
    if (e[i].begin > pos) {
      g_set_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_LAYOUT,
                   "data bytes [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT ") before tensor '%s'"
                   " belong to no tensor", pos, e[i].begin, e[i].name);
      return FALSE;
    }
    pos = e[i].end;
  }
  if (pos != data_size) {
    g_set_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_LAYOUT,
                 "data bytes [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT ") after the last tensor"
                 " belong to no tensor", pos, data_size);
    return FALSE;
  }
  return TRUE;
}

static int
str_ptr_cmp (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

EspcnSafetensors *
espcn_safetensors_load_data (const guint8 *data, gsize len, GError **error)
{
  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len < 8) {
    g_set_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_TRUNCATED,
                 "safetensors data is %" G_GSIZE_FORMAT " bytes, too short for the 8-byte header length", len);
    return NULL;
  }
  guint64 n_le;
  memcpy (&n_le, data, 8);
  guint64 hlen = GUINT64_FROM_LE (n_le);
  if (hlen < 2 || hlen > ESPCN_SAFETENSORS_MAX_HEADER) {
    g_set_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_HEADER,
                 "header length %" G_GUINT64_FORMAT " (bytes 0-7) is outside [2, %u]",
                 hlen, ESPCN_SAFETENSORS_MAX_HEADER);
    return NULL;
  }
  if (hlen > len - 8) {
    g_set_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_TRUNCATED,
                 "header length %" G_GUINT64_FORMAT " exceeds the %" G_GSIZE_FORMAT
                 " bytes that follow it (truncated file?)", hlen, len - 8);
    return NULL;
  }
  const char *header = (const char *) data + 8;
  gsize bad_pos;
  const char *bad_what;
  if (!espcn_json_check_strict (header, hlen, MAX_JSON_DEPTH, &bad_pos, &bad_what)) {
    g_set_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_HEADER,
                 "header is not valid JSON: %s at header byte %" G_GSIZE_FORMAT
                 " (file offset %" G_GSIZE_FORMAT ")", bad_what, bad_pos, bad_pos + 8);
    return NULL;
  }
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) json_error = NULL;
  if (!json_parser_load_from_data (parser, header, (gssize) hlen, &json_error)) {
    g_set_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_HEADER,
                 "header is not valid JSON: %s", json_error->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_HEADER,
                 "header JSON is a %s, not an object", root ? json_node_type_name (root) : "empty document");
    return NULL;
  }

  g_autoptr (EspcnSafetensors) st = g_new0 (EspcnSafetensors, 1);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  st->by_name = g_hash_table_new (g_str_hash, g_str_equal);

  guint64 data_size = len - 8 - hlen;
  JsonObject *obj = json_node_get_object (root);
  g_autoptr (GList) members = json_object_get_members (obj);
  g_autofree Entry *entries = g_new0 (Entry, json_object_get_size (obj));
  guint n = 0;
  for (GList *l = members; l; l = l->next) {
    const char *name = l->data;
    JsonNode *node = json_object_get_member (obj, name);
    if (strcmp (name, METADATA_KEY) == 0) {
      if (!parse_metadata (st, node, error))
        return NULL;
      continue;
    }
    if (!parse_entry (name, node, data_size, &entries[n], error))
      return NULL;
    n++;
  }
  if (n > 1)  /* qsort wants a non-NULL base even for 0 elements */
    qsort (entries, n, sizeof (Entry), entry_cmp);
  if (!check_layout (entries, n, data_size, error))
    return NULL;

  /* One 8-aligned copy, each tensor rounded up to 8 bytes, so users may cast. */
  gsize total = 0;
  for (guint i = 0; i < n; i++)
    total += ((gsize) (entries[i].end - entries[i].begin) + 7) & ~(gsize) 7;
  st->storage = g_aligned_alloc (MAX (total, 8), 1, 8);
  st->n = n;
  st->tensors = g_new0 (EspcnTensor, n);
  st->names = g_new0 (char *, n);
  const guint8 *base = data + 8 + hlen;
  gsize at = 0;
  for (guint i = 0; i < n; i++) {
    const Entry *e = &entries[i];
    EspcnTensor *t = &st->tensors[i];
    st->names[i] = g_strdup (e->name);
    t->name = st->names[i];
    t->dtype = e->dtype;
    t->ndim = e->ndim;
    memcpy (t->shape, e->shape, sizeof (t->shape));
    t->nbytes = (gsize) (e->end - e->begin);
    if (t->nbytes == 0) {
      t->data = empty_tensor_storage;
    } else {
      copy_le (st->storage + at, base + e->begin, t->nbytes, espcn_dtype_size (e->dtype));
      t->data = st->storage + at;
      at += (t->nbytes + 7) & ~(gsize) 7;
    }
    g_hash_table_insert (st->by_name, st->names[i], t);
  }

  guint nk = g_hash_table_size (st->metadata);
  st->metadata_keys = g_new0 (const char *, nk + 1);
  GHashTableIter it;
  gpointer key;
  guint k = 0;
  g_hash_table_iter_init (&it, st->metadata);
  while (g_hash_table_iter_next (&it, &key, NULL))
    st->metadata_keys[k++] = key;
  if (nk > 1)
    qsort (st->metadata_keys, nk, sizeof (char *), str_ptr_cmp);
  return g_steal_pointer (&st);
}

EspcnSafetensors *
espcn_safetensors_load_file (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  g_autofree char *contents = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  g_autoptr (GError) local = NULL;
  EspcnSafetensors *st = espcn_safetensors_load_data ((const guint8 *) contents, len, &local);
  if (st == NULL) {
    g_set_error (error, local->domain, local->code, "%s: %s", path, local->message);
    return NULL;
  }
  return st;
}

guint
espcn_safetensors_n_tensors (const EspcnSafetensors *st)
{
  g_return_val_if_fail (st != NULL, 0);
  return st->n;
}

const EspcnTensor *
espcn_safetensors_get_nth (const EspcnSafetensors *st, guint i)
{
  g_return_val_if_fail (st != NULL, NULL);
  return i < st->n ? &st->tensors[i] : NULL;
}

const EspcnTensor *
espcn_safetensors_get (const EspcnSafetensors *st, const char *name)
{
  g_return_val_if_fail (st != NULL && name != NULL, NULL);
  return g_hash_table_lookup (st->by_name, name);
}

const EspcnTensor *
espcn_safetensors_get_typed (const EspcnSafetensors *st, const char *name, EspcnDType dtype,
                             int ndim, const gint64 *expected_shape, GError **error)
{
  g_return_val_if_fail (st != NULL && name != NULL, NULL);

  const EspcnTensor *t = espcn_safetensors_get (st, name);
  if (t == NULL) {
    g_set_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_NOT_FOUND,
                 "tensor '%s': not found", name);
    return NULL;
  }
  if (t->dtype != dtype) {
    g_set_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_MISMATCH,
                 "tensor '%s': expected dtype %s, found %s", name,
                 espcn_dtype_name (dtype) ? espcn_dtype_name (dtype) : "(invalid)",
                 espcn_dtype_name (t->dtype));
    return NULL;
  }
  if (ndim < 0)
    return t;
  gboolean ok = t->ndim == ndim;
  for (int i = 0; ok && expected_shape != NULL && i < ndim; i++)
    if (expected_shape[i] >= 0 && expected_shape[i] != t->shape[i])
      ok = FALSE;
  if (!ok) {
    g_autoptr (GString) want = g_string_new ("[");
    for (int i = 0; i < ndim; i++) {
      if (i)
        g_string_append (want, ", ");
      if (expected_shape == NULL || expected_shape[i] < 0)
        g_string_append_c (want, '*');
      else
        g_string_append_printf (want, "%" G_GINT64_FORMAT, expected_shape[i]);
    }
    g_string_append_c (want, ']');
    g_autoptr (GString) found = g_string_new (NULL);
    format_shape (found, t->ndim, t->shape);
    g_set_error (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_MISMATCH,
                 "tensor '%s': expected shape %s, found %s", name, want->str, found->str);
    return NULL;
  }
  return t;
}

const char *
espcn_safetensors_get_metadata (const EspcnSafetensors *st, const char *key)
{
  g_return_val_if_fail (st != NULL && key != NULL, NULL);
  return g_hash_table_lookup (st->metadata, key);
}

const char *const *
espcn_safetensors_get_metadata_keys (const EspcnSafetensors *st)
{
  g_return_val_if_fail (st != NULL, NULL);
  return st->metadata_keys;
}

/* ---------------------------------------------------------------- writer */

typedef struct {
  char *name;
  EspcnDType dtype;
  int ndim;
  gint64 shape[ESPCN_SAFETENSORS_MAX_DIMS];
  GBytes *data;  /* little-endian */
} WriterTensor;

struct _EspcnSafetensorsWriter {
  GPtrArray *tensors;    /* WriterTensor*, insertion order */
  GHashTable *names;     /* set of tensor names (borrowed from tensors) */
  GPtrArray *meta_keys;  /* owned, insertion order */
  GHashTable *meta;      /* key (borrowed from meta_keys) -> owned value */
};

static void
writer_tensor_free (gpointer p)
{
  WriterTensor *t = p;
  g_free (t->name);
  g_bytes_unref (t->data);
  g_free (t);
}

EspcnSafetensorsWriter *
espcn_safetensors_writer_new (void)
{
  EspcnSafetensorsWriter *w = g_new0 (EspcnSafetensorsWriter, 1);
  w->tensors = g_ptr_array_new_with_free_func (writer_tensor_free);
  w->names = g_hash_table_new (g_str_hash, g_str_equal);
  w->meta_keys = g_ptr_array_new_with_free_func (g_free);
  w->meta = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  return w;
}

void
espcn_safetensors_writer_free (EspcnSafetensorsWriter *w)
{
  if (w == NULL)
    return;
  g_hash_table_unref (w->names);
  g_ptr_array_unref (w->tensors);
  g_hash_table_unref (w->meta);
  g_ptr_array_unref (w->meta_keys);
  g_free (w);
}

static gboolean
invalid (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, ESPCN_SAFETENSORS_ERROR, ESPCN_SAFETENSORS_ERROR_INVALID, msg);
  return FALSE;
}

gboolean
espcn_safetensors_writer_add (EspcnSafetensorsWriter *w, const char *name, EspcnDType dtype,
                              int ndim, const gint64 *shape, const void *data, GError **error)
{
  g_return_val_if_fail (w != NULL && name != NULL, FALSE);

  if (!g_utf8_validate (name, -1, NULL))
    return invalid (error, "tensor name is not valid UTF-8");
  if (strcmp (name, METADATA_KEY) == 0)
    return invalid (error, "'%s' is reserved and cannot name a tensor", METADATA_KEY);
  if (g_hash_table_contains (w->names, name))
    return invalid (error, "tensor '%s': added twice", name);
  gsize esize = espcn_dtype_size (dtype);
  if (esize == 0)
    return invalid (error, "tensor '%s': invalid dtype %d", name, (int) dtype);
  if (ndim < 0 || ndim > ESPCN_SAFETENSORS_MAX_DIMS)
    return invalid (error, "tensor '%s': ndim %d outside [0, %d]", name, ndim, ESPCN_SAFETENSORS_MAX_DIMS);
  if (ndim > 0 && shape == NULL)
    return invalid (error, "tensor '%s': shape is NULL", name);
  for (int i = 0; i < ndim; i++)
    if (shape[i] < 0)
      return invalid (error, "tensor '%s': shape[%d] = %" G_GINT64_FORMAT " is negative", name, i, shape[i]);
  guint64 nbytes;
  if (!shape_nbytes (ndim, shape, esize, &nbytes) || nbytes > G_MAXSIZE / 2)
    return invalid (error, "tensor '%s': byte size overflows", name);
  if (nbytes > 0 && data == NULL)
    return invalid (error, "tensor '%s': data is NULL for %" G_GUINT64_FORMAT " bytes", name, nbytes);

  WriterTensor *t = g_new0 (WriterTensor, 1);
  t->name = g_strdup (name);
  t->dtype = dtype;
  t->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    t->shape[i] = shape[i];
  guint8 *copy = g_malloc (MAX (nbytes, 1));
  copy_le (copy, data, (gsize) nbytes, esize);
  t->data = g_bytes_new_take (copy, (gsize) nbytes);
  g_ptr_array_add (w->tensors, t);
  g_hash_table_add (w->names, t->name);
  return TRUE;
}

gboolean
espcn_safetensors_writer_set_metadata (EspcnSafetensorsWriter *w, const char *key,
                                       const char *value, GError **error)
{
  g_return_val_if_fail (w != NULL && key != NULL && value != NULL, FALSE);

  if (!g_utf8_validate (key, -1, NULL))
    return invalid (error, "metadata key is not valid UTF-8");
  if (!g_utf8_validate (value, -1, NULL))
    return invalid (error, "metadata '%s': value is not valid UTF-8", key);
  if (!g_hash_table_contains (w->meta, key)) {
    char *k = g_strdup (key);
    g_ptr_array_add (w->meta_keys, k);
    g_hash_table_insert (w->meta, k, g_strdup (value));
  } else {
    gpointer k = NULL;
    g_hash_table_lookup_extended (w->meta, key, &k, NULL);
    g_hash_table_insert (w->meta, k, g_strdup (value));
  }
  return TRUE;
}

/* A JSON string in the compact form serde_json writes: short escapes where JSON
 * has them, \u00XX for other control characters, everything else raw UTF-8. */
static void
append_json_string (GString *s, const char *str)
{
  g_string_append_c (s, '"');
  for (const guchar *p = (const guchar *) str; *p; p++) {
    switch (*p) {
      case '"': g_string_append (s, "\\\""); break;
      case '\\': g_string_append (s, "\\\\"); break;
      case '\b': g_string_append (s, "\\b"); break;
      case '\f': g_string_append (s, "\\f"); break;
      case '\n': g_string_append (s, "\\n"); break;
      case '\r': g_string_append (s, "\\r"); break;
      case '\t': g_string_append (s, "\\t"); break;
      default:
        if (*p < 0x20)
          g_string_append_printf (s, "\\u%04x", *p);
        else
          g_string_append_c (s, (char) *p);
    }
  }
  g_string_append_c (s, '"');
}

/* The 8-byte length and the space-padded header, ready to write. */
static GString *
build_header (const EspcnSafetensorsWriter *w)
{
  GString *s = g_string_new (NULL);
  g_string_set_size (s, 8);
  g_string_append_c (s, '{');
  gboolean first = TRUE;
  if (w->meta_keys->len > 0) {
    g_string_append (s, "\"" METADATA_KEY "\":{");
    for (guint i = 0; i < w->meta_keys->len; i++) {
      const char *k = g_ptr_array_index (w->meta_keys, i);
      if (i)
        g_string_append_c (s, ',');
      append_json_string (s, k);
      g_string_append_c (s, ':');
      append_json_string (s, g_hash_table_lookup (w->meta, k));
    }
    g_string_append_c (s, '}');
    first = FALSE;
  }
  guint64 offset = 0;
  for (guint i = 0; i < w->tensors->len; i++) {
    const WriterTensor *t = g_ptr_array_index (w->tensors, i);
    if (!first)
      g_string_append_c (s, ',');
    first = FALSE;
    append_json_string (s, t->name);
    g_string_append_printf (s, ":{\"dtype\":\"%s\",\"shape\":[", espcn_dtype_name (t->dtype));
    for (int d = 0; d < t->ndim; d++)
      g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? "," : "", t->shape[d]);
    guint64 end = offset + g_bytes_get_size (t->data);
    g_string_append_printf (s, "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}",
                            offset, end);
    offset = end;
  }
  g_string_append_c (s, '}');
  /* Pad with spaces so the data buffer starts 8-aligned in the file. */
  while (s->len % 8 != 0)
    g_string_append_c (s, ' ');
  guint64 hlen = GUINT64_TO_LE ((guint64) (s->len - 8));
  memcpy (s->str, &hlen, 8);
  return s;
}

GBytes *
espcn_safetensors_writer_to_bytes (const EspcnSafetensorsWriter *w)
{
  g_return_val_if_fail (w != NULL, NULL);

  GString *s = build_header (w);
  for (guint i = 0; i < w->tensors->len; i++) {
    const WriterTensor *t = g_ptr_array_index (w->tensors, i);
    gsize n;
    const char *d = g_bytes_get_data (t->data, &n);
    g_string_append_len (s, d, (gssize) n);
  }
  return g_string_free_to_bytes (s);
}

gboolean
espcn_safetensors_writer_write_file (const EspcnSafetensorsWriter *w, const char *path,
                                     GError **error)
{
  g_return_val_if_fail (w != NULL && path != NULL, FALSE);

  g_autoptr (GString) header = build_header (w);
  g_autoptr (EspcnAtomicFile) f = espcn_atomic_file_open (path, error);
  if (f == NULL)
    return FALSE;
  if (!espcn_atomic_file_write (f, header->str, header->len, error))
    return FALSE;
  for (guint i = 0; i < w->tensors->len; i++) {
    const WriterTensor *t = g_ptr_array_index (w->tensors, i);
    gsize n;
    const void *d = g_bytes_get_data (t->data, &n);
    if (!espcn_atomic_file_write (f, d, n, error))
      return FALSE;
  }
  return espcn_atomic_file_commit (f, error);
}

gboolean
espcn_safetensors_read_f32 (const EspcnSafetensors *st, const char *name, float *dst, gsize n, GError **error)
{
  gint64 shape[1] = { (gint64) n };
  const EspcnTensor *t = espcn_safetensors_get_typed (st, name, ESPCN_DTYPE_F32, 1, shape, error);
  if (t == NULL)
    return FALSE;
  memcpy (dst, t->data, n * sizeof (float));
  return TRUE;
}

gboolean
espcn_safetensors_writer_add_f32 (EspcnSafetensorsWriter *w, const char *name, const float *data, gsize n,
                                  GError **error)
{
  gint64 shape[1] = { (gint64) n };
  return espcn_safetensors_writer_add (w, name, ESPCN_DTYPE_F32, 1, shape, data, error);
}
