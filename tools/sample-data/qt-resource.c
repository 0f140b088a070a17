#include "qt-resource.h"

#include <gio/gio.h>
#include <string.h>

#define FLAG_ZLIB 0x1
#define FLAG_DIR 0x2
#define FLAG_ZSTD 0x4
#define MAX_DEPTH 64

typedef struct {
  guint16 flags;
  guint32 data_offset;
} Entry;

struct _EspcnQtResource {
  char *path;
  GBytes *bytes;
  const guint8 *d;
  gsize len;
  guint32 version, tree, data, names;
  GPtrArray *files;        /* char * */
  GHashTable *by_path;     /* path -> Entry * */
};

static gboolean
get_u32 (const EspcnQtResource *r, guint64 off, guint32 *v)
{
  if (off + 4 > r->len)
    return FALSE;
  const guint8 *p = r->d + off;
  *v = (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
  return TRUE;
}

static gboolean
get_u16 (const EspcnQtResource *r, guint64 off, guint16 *v)
{
  if (off + 2 > r->len)
    return FALSE;
  *v = (guint16) (r->d[off] << 8 | r->d[off + 1]);
  return TRUE;
}

static gboolean
damaged (const EspcnQtResource *r, GError **error, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: damaged Qt resource bundle (%s)", r->path, what);
  return FALSE;
}

static char *
read_name (const EspcnQtResource *r, guint32 name_off)
{
  guint16 n;
  guint64 at = (guint64) r->names + name_off;
  if (!get_u16 (r, at, &n) || at + 6 + 2 * (guint64) n > r->len)
    return NULL;
  g_autofree gunichar2 *u = g_new (gunichar2, n + 1);
  for (guint i = 0; i < n; i++)
    u[i] = (gunichar2) (r->d[at + 6 + 2 * i] << 8 | r->d[at + 7 + 2 * i]);
  u[n] = 0;
  return g_utf16_to_utf8 (u, n, NULL, NULL, NULL);
}

static gboolean
walk (EspcnQtResource *r, guint32 index, const char *prefix, int depth, guint *visited, GError **error)
{
  const guint64 esz = r->version >= 2 ? 22 : 14;
  const guint64 at = (guint64) r->tree + index * esz;
  guint32 name_off, a, b;
  guint16 flags;
  if (depth > MAX_DEPTH || ++*visited > 1000000)
    return damaged (r, error, "the tree loops or is too deep");
  if (at + esz > r->len || !get_u32 (r, at, &name_off) || !get_u16 (r, at + 4, &flags) || !get_u32 (r, at + 6, &a) ||
      !get_u32 (r, at + 10, &b))
    return damaged (r, error, "a tree entry lies outside the file");
  g_autofree char *name = index == 0 ? g_strdup ("") : read_name (r, name_off);
  if (name == NULL)
    return damaged (r, error, "a name lies outside the file or is not UTF-16");
  g_autofree char *path = index == 0 ? g_strdup ("") : g_strconcat (prefix, "/", name, NULL);
  if (flags & FLAG_DIR) {
    /* children a, first child index b */
    if ((guint64) b + a > (r->len - r->tree) / esz + 1)
      return damaged (r, error, "a directory's children lie outside the file");
    for (guint32 k = 0; k < a; k++)
      if (!walk (r, b + k, path, depth + 1, visited, error))
        return FALSE;
    return TRUE;
  }
  if (index == 0)
    return damaged (r, error, "the root is not a directory");
  Entry *e = g_new (Entry, 1);
  e->flags = flags;
  e->data_offset = b;
  if (!g_hash_table_contains (r->by_path, path)) {
    g_ptr_array_add (r->files, g_strdup (path));
    g_hash_table_insert (r->by_path, g_steal_pointer (&path), e);
  } else {
    g_free (e);
  }
  return TRUE;
}

EspcnQtResource *
espcn_qt_resource_open (const char *path, GError **error)
{
  g_autoptr (EspcnQtResource) r = g_new0 (EspcnQtResource, 1);
  r->path = g_strdup (path);
  r->files = g_ptr_array_new_with_free_func (g_free);
  r->by_path = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *contents = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  r->bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
  r->d = g_bytes_get_data (r->bytes, &r->len);
  if (r->len < 20 || memcmp (r->d, "qres", 4) != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not a Qt resource bundle (no 'qres' header)", path);
    return NULL;
  }
  get_u32 (r, 4, &r->version);
  get_u32 (r, 8, &r->tree);
  get_u32 (r, 12, &r->data);
  get_u32 (r, 16, &r->names);
  if (r->version < 1 || r->version > 3) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "%s: Qt resource format version %u is not supported (1 to 3)",
        path, r->version);
    return NULL;
  }
  if (r->tree >= r->len || r->data >= r->len || r->names >= r->len) {
    damaged (r, error, "an offset in the header lies outside the file");
    return NULL;
  }
  guint visited = 0;
  if (!walk (r, 0, "", 0, &visited, error))
    return NULL;
  return g_steal_pointer (&r);
}

void
espcn_qt_resource_free (EspcnQtResource *res)
{
  if (res == NULL)
    return;
  g_free (res->path);
  g_clear_pointer (&res->bytes, g_bytes_unref);
  g_clear_pointer (&res->files, g_ptr_array_unref);
  g_clear_pointer (&res->by_path, g_hash_table_unref);
  g_free (res);
}

const GPtrArray *
espcn_qt_resource_files (const EspcnQtResource *res)
{
  return res->files;
}

GBytes *
espcn_qt_resource_read (const EspcnQtResource *res, const char *path, GError **error)
{
  const Entry *e = g_hash_table_lookup (res->by_path, path);
  if (e == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: no file %s in the bundle", res->path, path);
    return NULL;
  }
  guint32 size;
  guint64 at = (guint64) res->data + e->data_offset;
  if (!get_u32 (res, at, &size) || at + 4 + size > res->len) {
    damaged (res, error, "a file's data lies outside the file");
    return NULL;
  }
  const guint8 *p = res->d + at + 4;
  if (e->flags & FLAG_ZSTD) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "%s: %s is zstd-compressed, which is not supported",
        res->path, path);
    return NULL;
  }
  if (!(e->flags & FLAG_ZLIB))
    return g_bytes_new (p, size);
  guint32 want;
  if (size < 4 || !get_u32 (res, at + 4, &want) || want > 512u * 1024 * 1024) {
    damaged (res, error, "a compressed file has no valid size");
    return NULL;
  }
  g_autoptr (GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB);
  /* GConverter refuses a 0-byte output buffer: an empty file gets one byte. */
  guint8 *out = g_malloc (want ? want : 1);
  gsize read = 0, written = 0;
  GConverterResult cr = g_converter_convert (G_CONVERTER (z), p + 4, size - 4, out, want ? want : 1,
      G_CONVERTER_INPUT_AT_END, &read, &written, error);
  if (cr != G_CONVERTER_FINISHED || written != want) {
    g_free (out);
    if (error != NULL && *error != NULL)
      g_prefix_error (error, "%s: %s: ", res->path, path);
    else
      damaged (res, error, "a compressed file does not inflate to its size");
    return NULL;
  }
  return g_bytes_new_take (out, want);
}
