/* Tests for core/util/atomic-file: a complete new file or the old one, never a
 * partial file, and no temporary file left behind. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/atomic-file.h"
#include "test-util.h"

typedef struct {
  char *dir;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  (void) data;
  GError *error = NULL;
  f->dir = espcn_test_make_tmp_dir ("espcn-atomic-XXXXXX");
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autoptr (GDir) d = g_dir_open (f->dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)) != NULL) {
    g_autofree char *p = g_build_filename (f->dir, name, NULL);
    g_unlink (p);
  }
  g_rmdir (f->dir);
  g_free (f->dir);
  espcn_atomic_file_set_fail_after (-1);
}

static int
str_ptr_cmp (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Names of the entries of dir, sorted, joined by ','. */
static char *
list_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, str_ptr_cmp);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (",", (char **) names->pdata);
}

static void
assert_file_content (const char *path, const char *expected, gsize len)
{
  g_autofree char *got = NULL;
  gsize got_len = 0;
  GError *error = NULL;
  g_assert_true (g_file_get_contents (path, &got, &got_len, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (got, got_len, expected, len);
}

static void
test_write_creates_then_replaces (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autofree char *path = g_build_filename (f->dir, "out.bin", NULL);
  GError *error = NULL;
  g_assert_true (espcn_write_file_atomic (path, "first", 5, &error));
  g_assert_no_error (error);
  assert_file_content (path, "first", 5);
  g_assert_true (espcn_write_file_atomic (path, "second!", 7, &error));
  g_assert_no_error (error);
  assert_file_content (path, "second!", 7);
  g_assert_true (espcn_write_file_atomic (path, "", 0, &error));
  g_assert_no_error (error);
  assert_file_content (path, "", 0);
  g_autofree char *listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "out.bin");
}

static void
test_missing_directory_fails_naming_path (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autofree char *path = g_build_filename (f->dir, "no-such-dir", "out.bin", NULL);
  GError *error = NULL;
  g_assert_false (espcn_write_file_atomic (path, "x", 1, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, g_strerror (ENOENT)));
  g_clear_error (&error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

/* Root ignores permission bits, so use a parent that is a regular file. */
static void
test_parent_is_a_file_fails (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autofree char *parent = g_build_filename (f->dir, "plain", NULL);
  g_assert_true (g_file_set_contents (parent, "p", 1, NULL));
  g_autofree char *path = g_build_filename (parent, "out.bin", NULL);
  GError *error = NULL;
  g_assert_false (espcn_write_file_atomic (path, "x", 1, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);
  assert_file_content (parent, "p", 1);
}

/* A disk that fills up at byte 0, in the middle, or one byte short. */
static void
test_failed_write_keeps_old_file_and_no_temp (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autofree char *path = g_build_filename (f->dir, "model.safetensors", NULL);
  const char *old = "old content";
  g_assert_true (g_file_set_contents (path, old, (gssize) strlen (old), NULL));
  const char *new_content = "a much longer new content that does not fit";
  gsize n = strlen (new_content);
  gssize limits[] = { 0, 1, 10, (gssize) n - 1 };
  for (guint i = 0; i < G_N_ELEMENTS (limits); i++) {
    espcn_atomic_file_set_fail_after (limits[i]);
    GError *error = NULL;
    g_assert_false (espcn_write_file_atomic (path, new_content, n, &error));
    g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOSPC);
    g_assert_nonnull (strstr (error->message, path));
    g_clear_error (&error);
    assert_file_content (path, old, strlen (old));
    g_autofree char *listing = list_dir (f->dir);
    g_assert_cmpstr (listing, ==, "model.safetensors");
  }
  /* Exactly enough room: the write succeeds. */
  espcn_atomic_file_set_fail_after ((gssize) n);
  GError *error = NULL;
  g_assert_true (espcn_write_file_atomic (path, new_content, n, &error));
  g_assert_no_error (error);
  assert_file_content (path, new_content, n);
}

static void
test_stream_uncommitted_leaves_target_untouched (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autofree char *path = g_build_filename (f->dir, "s.bin", NULL);
  g_assert_true (g_file_set_contents (path, "keep", 4, NULL));
  GError *error = NULL;
  {
    g_autoptr (EspcnAtomicFile) af = espcn_atomic_file_open (path, &error);
    g_assert_no_error (error);
    g_assert_true (espcn_atomic_file_write (af, "abc", 3, &error));
    g_assert_no_error (error);
    /* dropped without commit */
  }
  assert_file_content (path, "keep", 4);
  g_autofree char *listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "s.bin");

  g_autoptr (EspcnAtomicFile) af = espcn_atomic_file_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (espcn_atomic_file_write (af, "ab", 2, &error));
  g_assert_true (espcn_atomic_file_write (af, "cd", 2, &error));
  g_assert_true (espcn_atomic_file_commit (af, &error));
  g_assert_no_error (error);
  assert_file_content (path, "abcd", 4);
  /* A second commit is refused. */
  g_assert_false (espcn_atomic_file_commit (af, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
  g_clear_error (&error);
}

static void
test_stream_refuses_commit_after_failed_write (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autofree char *path = g_build_filename (f->dir, "s.bin", NULL);
  g_assert_true (g_file_set_contents (path, "keep", 4, NULL));
  GError *error = NULL;
  g_autoptr (EspcnAtomicFile) af = espcn_atomic_file_open (path, &error);
  g_assert_no_error (error);
  espcn_atomic_file_set_fail_after (2);
  g_assert_false (espcn_atomic_file_write (af, "abc", 3, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOSPC);
  g_clear_error (&error);
  espcn_atomic_file_set_fail_after (-1);
  g_assert_false (espcn_atomic_file_commit (af, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
  g_clear_error (&error);
  g_clear_pointer (&af, espcn_atomic_file_free);
  assert_file_content (path, "keep", 4);
  g_autofree char *listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "s.bin");
}

static void
test_replacement_keeps_permission_bits (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autofree char *path = g_build_filename (f->dir, "perm.bin", NULL);
  g_assert_true (g_file_set_contents (path, "x", 1, NULL));
  g_assert_cmpint (g_chmod (path, 0640), ==, 0);
  GError *error = NULL;
  g_assert_true (espcn_write_file_atomic (path, "yy", 2, &error));
  g_assert_no_error (error);
  struct stat st;
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0640);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add ("/io/atomic-file/" name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("write-creates-then-replaces", test_write_creates_then_replaces);
  ADD ("missing-directory-fails-naming-path", test_missing_directory_fails_naming_path);
  ADD ("parent-is-a-file-fails", test_parent_is_a_file_fails);
  ADD ("failed-write-keeps-old-file-and-no-temp", test_failed_write_keeps_old_file_and_no_temp);
  ADD ("stream-uncommitted-leaves-target-untouched", test_stream_uncommitted_leaves_target_untouched);
  ADD ("stream-refuses-commit-after-failed-write", test_stream_refuses_commit_after_failed_write);
  ADD ("replacement-keeps-permission-bits", test_replacement_keeps_permission_bits);
  return g_test_run ();
}
