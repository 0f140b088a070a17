/* The one set of rules by which training data and evaluation find image files. */
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/image-set.h"
#include "test-util.h"

static void
touch (const char *root, const char *rel)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, "x", 1, NULL));
}

/* The relative paths of a scan, joined with spaces. */
static char *
scan_rel (const char *root)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) files = espcn_image_set_scan (root, &error);
  g_assert_no_error (error);
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < files->len; i++)
    g_string_append_printf (s, "%s%s", i ? " " : "", (const char *) g_ptr_array_index (files, i) + strlen (root) + 1);
  return g_string_free (s, FALSE);
}

static void
test_scan_suffixes_hidden_and_order (void)
{
  g_autofree char *root = espcn_test_make_tmp_dir ("espcn-imgset-XXXXXX");
  touch (root, "b/2.JPG");
  touch (root, "a.png");
  touch (root, "b/1.jpeg");
  touch (root, "notes.txt");
  touch (root, ".hidden.png");
  touch (root, ".cache/x.png");
  g_autofree char *got = scan_rel (root);
  g_assert_cmpstr (got, ==, "a.png b/1.jpeg b/2.JPG");
}

static void
test_scan_symlinks_and_special_files (void)
{
  g_autofree char *root = espcn_test_make_tmp_dir ("espcn-imgset-XXXXXX");
  g_autofree char *outside = espcn_test_make_tmp_dir ("espcn-imgset-out-XXXXXX");
  touch (outside, "far.png");
  touch (root, "real/r.png");
  g_autofree char *link_dir = g_build_filename (root, "linked", NULL);
  g_autofree char *loop = g_build_filename (root, "real", "loop", NULL);
  g_autofree char *link_file = g_build_filename (root, "alias.png", NULL);
  g_autofree char *far = g_build_filename (outside, "far.png", NULL);
  g_autofree char *fifo = g_build_filename (root, "pipe.png", NULL);
  g_assert_cmpint (symlink (outside, link_dir), ==, 0);  /* a folder elsewhere: not followed */
  g_assert_cmpint (symlink (root, loop), ==, 0);         /* a cycle: not followed */
  g_assert_cmpint (symlink (far, link_file), ==, 0);     /* a file: followed */
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);          /* never opened (would block) */
  g_autofree char *got = scan_rel (root);
  g_assert_cmpstr (got, ==, "alias.png real/r.png");
}

static void
test_scan_depth_limit (void)
{
  g_autofree char *root = espcn_test_make_tmp_dir ("espcn-imgset-XXXXXX");
  GString *rel = g_string_new (NULL);
  for (int i = 0; i < ESPCN_IMAGE_SET_MAX_DEPTH; i++)
    g_string_append (rel, "d/");
  g_string_append (rel, "ok.png");
  touch (root, rel->str);
  g_autofree char *got = scan_rel (root);
  g_assert_cmpstr (got, ==, rel->str);
  /* One folder deeper is an error naming it, not a silent skip. */
  g_string_insert (rel, 0, "d/");
  g_autofree char *deeper = espcn_test_make_tmp_dir ("espcn-imgset-XXXXXX");
  touch (deeper, rel->str);
  g_autoptr (GError) error = NULL;
  g_assert_null (espcn_image_set_scan (deeper, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "nested more than 16"));
  g_string_free (rel, TRUE);
}

static void
test_list_entries (void)
{
  g_autofree char *root = espcn_test_make_tmp_dir ("espcn-imgset-XXXXXX");
  touch (root, "meta/train.txt");
  g_assert_true (espcn_image_set_is_food101 (root));
  g_autofree char *list = g_build_filename (root, "meta", "test.txt", NULL);
  g_assert_true (g_file_set_contents (list, "pho/1\n\n  ramen/22  \n", -1, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) files = espcn_image_set_read_list (root, "test.txt", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (files->len, ==, 2);
  g_autofree char *images = g_build_filename (root, "images", NULL);
  g_autofree char *n0 = espcn_image_set_name (images, g_ptr_array_index (files, 0));
  g_autofree char *n1 = espcn_image_set_name (images, g_ptr_array_index (files, 1));
  g_assert_cmpstr (n0, ==, "pho_1");
  g_assert_cmpstr (n1, ==, "ramen_22");

  const char *bad[] = { "pho/1\n../../etc/passwd\n", "pho/1\n/abs/x\n" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) e = NULL;
    g_assert_true (g_file_set_contents (list, bad[i], -1, NULL));
    g_assert_null (espcn_image_set_read_list (root, "test.txt", &e));
    g_assert_error (e, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_assert_nonnull (strstr (e->message, "line 2"));
  }
  g_autoptr (GError) missing = NULL;
  g_assert_null (espcn_image_set_read_list (root, "nope.txt", &missing));
  g_assert_nonnull (missing);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image-set/scan-suffixes-hidden-and-order", test_scan_suffixes_hidden_and_order);
  g_test_add_func ("/image-set/scan-symlinks-and-special-files", test_scan_symlinks_and_special_files);
  g_test_add_func ("/image-set/scan-depth-limit", test_scan_depth_limit);
  g_test_add_func ("/image-set/list-entries", test_list_entries);
  return g_test_run ();
}
