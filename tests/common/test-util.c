#include "test-util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "io/safetensors.h"

GBytes *
espcn_test_tensor_bytes (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_file (path, &error);
  g_assert_no_error (error);
  GByteArray *all = g_byte_array_new ();
  for (guint i = 0; i < espcn_safetensors_n_tensors (st); i++) {
    const EspcnTensor *t = espcn_safetensors_get_nth (st, i);
    g_byte_array_append (all, (const guint8 *) t->name, (guint) strlen (t->name) + 1);
    g_byte_array_append (all, t->data, (guint) t->nbytes);
  }
  return g_byte_array_free_to_bytes (all);
}

gboolean
espcn_test_rm_rf (const char *path)
{
  GStatBuf st;
  if (g_lstat (path, &st) != 0)
    return errno == ENOENT;
  if (!S_ISDIR (st.st_mode))
    return g_unlink (path) == 0;
  /* A test may have made the folder read-only; its entries must still go. */
  if ((st.st_mode & S_IRWXU) != S_IRWXU)
    g_chmod (path, st.st_mode | S_IRWXU);
  gboolean ok = TRUE;
  GDir *dir = g_dir_open (path, 0, NULL);
  if (dir != NULL) {
    const char *name;
    while ((name = g_dir_read_name (dir)) != NULL) {
      g_autofree char *child = g_build_filename (path, name, NULL);
      ok = espcn_test_rm_rf (child) && ok;
    }
    g_dir_close (dir);
  }
  return g_rmdir (path) == 0 && ok;
}

static GPtrArray *tmp_dirs;
static pid_t tmp_dirs_owner;
static GMutex tmp_dirs_lock;

static void
remove_tmp_dirs (void)
{
  g_mutex_lock (&tmp_dirs_lock);
  /* A forked child that exits must not delete its parent's folders. */
  if (getpid () == tmp_dirs_owner) {
    for (guint i = 0; i < tmp_dirs->len; i++)
      if (!espcn_test_rm_rf (g_ptr_array_index (tmp_dirs, i)))
        g_printerr ("could not remove all of %s\n", (const char *) g_ptr_array_index (tmp_dirs, i));
    g_clear_pointer (&tmp_dirs, g_ptr_array_unref);
  }
  g_mutex_unlock (&tmp_dirs_lock);
}

char *
espcn_test_make_tmp_dir (const char *tmpl)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp (tmpl, &error);
  g_assert_no_error (error);
  /* ESPCN_TEST_KEEP_TMP=1: keep every folder to inspect what a test wrote. */
  if (g_strcmp0 (g_getenv ("ESPCN_TEST_KEEP_TMP"), "1") == 0) {
    g_test_message ("keeping %s (ESPCN_TEST_KEEP_TMP=1)", dir);
    return dir;
  }
  g_mutex_lock (&tmp_dirs_lock);
  if (tmp_dirs == NULL) {
    tmp_dirs = g_ptr_array_new_with_free_func (g_free);
    tmp_dirs_owner = getpid ();
    static gboolean registered;
    if (!registered) {
      atexit (remove_tmp_dirs);
      registered = TRUE;
    }
  }
  g_ptr_array_add (tmp_dirs, g_strdup (dir));
  g_mutex_unlock (&tmp_dirs_lock);
  return dir;
}

char *
espcn_test_run_self_with_cpu (const char *cpu, const char *arg)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_assert_nonnull (self);
  g_auto (GStrv) env = g_get_environ ();
  env = cpu ? g_environ_setenv (env, "ESPCN_CPU", cpu, TRUE) : g_environ_unsetenv (env, "ESPCN_CPU");
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  const char *wrapper = g_getenv ("MESON_EXE_WRAPPER");
  if (wrapper != NULL && *wrapper != '\0') {
    g_auto (GStrv) wrap = NULL;
    g_assert_true (g_shell_parse_argv (wrapper, NULL, &wrap, NULL));
    for (int i = 0; wrap[i] != NULL; i++)
      g_ptr_array_add (argv, g_strdup (wrap[i]));
  }
  g_ptr_array_add (argv, g_strdup (self));
  g_ptr_array_add (argv, g_strdup (arg));
  g_ptr_array_add (argv, NULL);
  char *out = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;
  g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_strchomp (out);
  g_test_message ("ESPCN_CPU=%s: %s", cpu ? cpu : "(unset)", out);
  return out;
}
