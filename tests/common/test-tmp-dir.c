/* The tests' temporary folders: espcn_test_rm_rf() and the removal at exit of what
 * espcn_test_make_tmp_dir() made. */
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-util.h"

static void
test_rm_rf_removes_a_tree_but_not_what_links_point_to (void)
{
  g_autofree char *outside = espcn_test_make_tmp_dir ("espcn-rmrf-out-XXXXXX");
  g_autofree char *kept = g_build_filename (outside, "kept", NULL);
  g_assert_true (g_file_set_contents (kept, "k", 1, NULL));

  g_autofree char *root = espcn_test_make_tmp_dir ("espcn-rmrf-XXXXXX");
  g_autofree char *sub = g_build_filename (root, "a", "b", NULL);
  g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
  g_autofree char *file = g_build_filename (sub, "f", NULL);
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  g_autofree char *link = g_build_filename (root, "link", NULL);
  g_assert_cmpint (symlink (outside, link), ==, 0);
  g_autofree char *a = g_build_filename (root, "a", NULL);
  g_assert_cmpint (g_chmod (a, 0500), ==, 0); /* read-only folder with content */

  g_assert_true (espcn_test_rm_rf (root));
  g_assert_false (g_file_test (root, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (kept, G_FILE_TEST_IS_REGULAR));
  g_assert_true (espcn_test_rm_rf (root)); /* already gone is fine */
}

/* Child: makes a folder with a file and writes its path where the parent says. */
static void
make_dir_and_exit (void)
{
  if (!g_test_subprocess ()) {
    g_test_skip ("only run by the tests above, in a child");
    return;
  }
  g_autofree char *dir = espcn_test_make_tmp_dir ("espcn-exit-XXXXXX");
  g_autofree char *file = g_build_filename (dir, "f", NULL);
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  g_assert_true (g_file_set_contents (g_getenv ("ESPCN_TMP_DIR_NOTE"), dir, -1, NULL));
}

static char *
child_dir (const char *keep)
{
  g_autofree char *note_dir = espcn_test_make_tmp_dir ("espcn-note-XXXXXX");
  g_autofree char *note = g_build_filename (note_dir, "note", NULL);
  g_setenv ("ESPCN_TMP_DIR_NOTE", note, TRUE);
  if (keep != NULL)
    g_setenv ("ESPCN_TEST_KEEP_TMP", keep, TRUE);
  else
    g_unsetenv ("ESPCN_TEST_KEEP_TMP");
  g_test_trap_subprocess ("/test-util/child", 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("ESPCN_TEST_KEEP_TMP");
  g_test_trap_assert_passed ();
  char *dir = NULL;
  g_assert_true (g_file_get_contents (note, &dir, NULL, NULL));
  return dir;
}

static void
test_tmp_dir_is_removed_at_exit (void)
{
  g_autofree char *dir = child_dir (NULL);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

static void
test_keep_tmp_keeps_the_dir (void)
{
  g_autofree char *dir = child_dir ("1");
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
  g_assert_true (espcn_test_rm_rf (dir));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/test-util/rm-rf-removes-a-tree-but-not-what-links-point-to",
      test_rm_rf_removes_a_tree_but_not_what_links_point_to);
  g_test_add_func ("/test-util/tmp-dir-is-removed-at-exit", test_tmp_dir_is_removed_at_exit);
  g_test_add_func ("/test-util/keep-tmp-keeps-the-dir", test_keep_tmp_keeps_the_dir);
  g_test_add_func ("/test-util/child", make_dir_and_exit);
  return g_test_run ();
}
