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

EspcnImage *
espcn_test_photo_like (EspcnRng *rng, int w, int h)
{
  EspcnImage *img = espcn_image_new (w, h);
  float base[3], grad[3][2], wave[3][5], fx[3], fy[3], ph[3];
  float disc[6][6]; /* x, y, r, r g b */
  for (int c = 0; c < 3; c++) {
    base[c] = espcn_rng_uniform_range (rng, 60, 190);
    grad[c][0] = espcn_rng_uniform_range (rng, -0.3f, 0.3f);
    grad[c][1] = espcn_rng_uniform_range (rng, -0.3f, 0.3f);
  }
  for (int k = 0; k < 3; k++) {
    float f = espcn_rng_uniform_range (rng, 0.02f, 0.35f), a = espcn_rng_uniform_range (rng, 0, (float) G_PI);
    fx[k] = f * cosf (a);
    fy[k] = f * sinf (a);
    ph[k] = espcn_rng_uniform_range (rng, 0, 6.28f);
    for (int c = 0; c < 3; c++)
      wave[c][k] = espcn_rng_uniform_range (rng, 5, 30);
  }
  for (int d = 0; d < 6; d++) {
    disc[d][0] = espcn_rng_uniform_range (rng, 0, (float) w);
    disc[d][1] = espcn_rng_uniform_range (rng, 0, (float) h);
    disc[d][2] = espcn_rng_uniform_range (rng, 4, w / 5.0f);
    for (int c = 0; c < 3; c++)
      disc[d][3 + c] = espcn_rng_uniform_range (rng, 0, 255);
  }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) {
        float v = base[c] + grad[c][0] * x + grad[c][1] * y;
        for (int k = 0; k < 3; k++)
          v += wave[c][k] * sinf (fx[k] * x + fy[k] * y + ph[k]);
        for (int d = 0; d < 6; d++) {
          /* coverage of the disc edge over one pixel, linear ramp */
          float dist = hypotf (x - disc[d][0], y - disc[d][1]) - disc[d][2];
          float cover = CLAMP (0.5f - dist, 0.0f, 1.0f);
          v = v * (1 - cover) + disc[d][3 + c] * cover;
        }
        img->data[((size_t) y * w + x) * 3 + c] = (guint8) CLAMP (lrintf (v), 0, 255);
      }
  return img;
}
