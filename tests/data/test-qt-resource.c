/* The Qt resource bundle reader of espcn-sample-data on a bundle built here: a
 * plain and a zlib-compressed file are read back; every truncation and a few
 * corruptions of it are errors, never crashes. */
#include <gio/gio.h>
#include <string.h>

#include "sample-data/qt-resource.h"
#include "test-util.h"

static void
put32 (GByteArray *b, guint32 v)
{
  guint8 x[4] = { v >> 24, v >> 16, v >> 8, v };
  g_byte_array_append (b, x, 4);
}

static void
put16 (GByteArray *b, guint16 v)
{
  guint8 x[2] = { v >> 8, v };
  g_byte_array_append (b, x, 2);
}

static void
put_name (GByteArray *b, const char *s)
{
  put16 (b, (guint16) strlen (s));
  put32 (b, 0); /* hash: not read */
  for (const char *p = s; *p; p++)
    put16 (b, (guint8) *p);
}

/* version 3: root -> "d" -> { "a.txt" (plain), "b.txt" (zlib) } */
static GBytes *
make_bundle (const char *a, const char *b)
{
  g_autoptr (GByteArray) names = g_byte_array_new (), data = g_byte_array_new (), tree = g_byte_array_new ();
  guint32 n_d = names->len;
  put_name (names, "d");
  guint32 n_a = names->len;
  put_name (names, "a.txt");
  guint32 n_b = names->len;
  put_name (names, "b.txt");
  guint32 d_a = data->len;
  put32 (data, (guint32) strlen (a));
  g_byte_array_append (data, (const guint8 *) a, strlen (a));
  g_autoptr (GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 9);
  guint8 zbuf[512];
  gsize rd = 0, wr = 0;
  g_assert_cmpint (g_converter_convert (G_CONVERTER (z), b, strlen (b), zbuf, sizeof zbuf, G_CONVERTER_INPUT_AT_END,
      &rd, &wr, NULL), ==, G_CONVERTER_FINISHED);
  guint32 d_b = data->len;
  put32 (data, (guint32) wr + 4);
  put32 (data, (guint32) strlen (b));
  g_byte_array_append (data, zbuf, (guint) wr);
  /* entries: 0 root, 1 d, 2 a.txt, 3 b.txt; 22 bytes each */
  struct { guint32 name; guint16 flags; guint32 x, y; } e[4] = {
    { 0, 2, 1, 1 }, { n_d, 2, 2, 2 }, { n_a, 0, 0, d_a }, { n_b, 1, 0, d_b } };
  for (int i = 0; i < 4; i++) {
    put32 (tree, e[i].name);
    put16 (tree, e[i].flags);
    if (e[i].flags & 2) {
      put32 (tree, e[i].x);
      put32 (tree, e[i].y);
    } else {
      put32 (tree, 0); /* territory, language */
      put32 (tree, e[i].y);
    }
    put32 (tree, 0);
    put32 (tree, 0); /* mtime */
  }
  GByteArray *out = g_byte_array_new ();
  g_byte_array_append (out, (const guint8 *) "qres", 4);
  guint32 tree_off = 24, data_off = tree_off + tree->len, names_off = data_off + data->len;
  put32 (out, 3);
  put32 (out, tree_off);
  put32 (out, data_off);
  put32 (out, names_off);
  put32 (out, 0);
  g_byte_array_append (out, tree->data, tree->len);
  g_byte_array_append (out, data->data, data->len);
  g_byte_array_append (out, names->data, names->len);
  return g_byte_array_free_to_bytes (out);
}

static char *
write_bundle (const char *dir, const char *name, const guint8 *d, gsize len)
{
  char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, (const char *) d, (gssize) len, NULL));
  return path;
}

static void
test_reads_plain_and_compressed_files (void)
{
  g_autofree char *dir = espcn_test_make_tmp_dir ("espcn-rcc-XXXXXX");
  const char *a = "plain text", *b = "compressed text, compressed text, compressed text";
  g_autoptr (GBytes) bundle = make_bundle (a, b);
  gsize len;
  const guint8 *d = g_bytes_get_data (bundle, &len);
  g_autofree char *path = write_bundle (dir, "ok.rcc", d, len);
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnQtResource) res = espcn_qt_resource_open (path, &error);
  g_assert_no_error (error);
  const GPtrArray *files = espcn_qt_resource_files (res);
  g_assert_cmpuint (files->len, ==, 2);
  g_assert_cmpstr (files->pdata[0], ==, "/d/a.txt");
  g_assert_cmpstr (files->pdata[1], ==, "/d/b.txt");
  g_autoptr (GBytes) ra = espcn_qt_resource_read (res, "/d/a.txt", &error);
  g_autoptr (GBytes) rb = espcn_qt_resource_read (res, "/d/b.txt", &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (ra, NULL), g_bytes_get_size (ra), a, strlen (a));
  g_assert_cmpmem (g_bytes_get_data (rb, NULL), g_bytes_get_size (rb), b, strlen (b));
  g_assert_null (espcn_qt_resource_read (res, "/d/c.txt", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_damaged_bundles_are_errors (void)
{
  g_autofree char *dir = espcn_test_make_tmp_dir ("espcn-rcc-XXXXXX");
  g_autoptr (GBytes) bundle = make_bundle ("plain text", "compressed text");
  gsize len;
  const guint8 *d = g_bytes_get_data (bundle, &len);
  /* every truncation: an error at open or at read, never a crash */
  for (gsize cut = 0; cut < len; cut++) {
    g_autofree char *path = write_bundle (dir, "cut.rcc", d, cut);
    g_autoptr (GError) error = NULL;
    g_autoptr (EspcnQtResource) res = espcn_qt_resource_open (path, &error);
    if (res == NULL) {
      g_assert_nonnull (error);
      continue;
    }
    const GPtrArray *files = espcn_qt_resource_files (res);
    gboolean all = files->len == 2;
    for (guint i = 0; i < files->len; i++) {
      g_autoptr (GBytes) r = espcn_qt_resource_read (res, files->pdata[i], &error);
      if (r == NULL) {
        g_assert_nonnull (error);
        g_clear_error (&error);
        all = FALSE;
      }
    }
    g_assert_false (all); /* something is missing in a truncated bundle */
  }
  /* every single-byte corruption: errors or wrong content, never a crash */
  g_autofree guint8 *copy = g_memdup2 (d, len);
  for (gsize i = 0; i < len; i++) {
    copy[i] ^= 0xA5;
    g_autofree char *path = write_bundle (dir, "bad.rcc", copy, len);
    g_autoptr (GError) error = NULL;
    g_autoptr (EspcnQtResource) res = espcn_qt_resource_open (path, &error);
    for (guint k = 0; res != NULL && k < espcn_qt_resource_files (res)->len; k++) {
      g_autoptr (GBytes) r = espcn_qt_resource_read (res, espcn_qt_resource_files (res)->pdata[k], NULL);
    }
    copy[i] ^= 0xA5;
  }
  /* not a bundle at all */
  g_autofree char *path = write_bundle (dir, "text.rcc", (const guint8 *) "hello, world, not qres", 22);
  g_autoptr (GError) error = NULL;
  g_assert_null (espcn_qt_resource_open (path, &error));
  g_assert_nonnull (strstr (error->message, "not a Qt resource bundle"));
}

/* rcc stores a compressed file's inflated size first; an empty file is 0 bytes */
static void
test_reads_an_empty_compressed_file (void)
{
  g_autofree char *dir = espcn_test_make_tmp_dir ("espcn-rcc-XXXXXX");
  g_autoptr (GBytes) bundle = make_bundle ("plain text", "");
  gsize len;
  const guint8 *d = g_bytes_get_data (bundle, &len);
  g_autofree char *path = write_bundle (dir, "empty.rcc", d, len);
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnQtResource) res = espcn_qt_resource_open (path, &error);
  g_assert_no_error (error);
  g_autoptr (GBytes) rb = espcn_qt_resource_read (res, "/d/b.txt", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (rb), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/data/qt-resource/reads-plain-and-compressed-files", test_reads_plain_and_compressed_files);
  g_test_add_func ("/data/qt-resource/damaged-bundles-are-errors", test_damaged_bundles_are_errors);
  g_test_add_func ("/data/qt-resource/reads-an-empty-compressed-file", test_reads_an_empty_compressed_file);
  return g_test_run ();
}
