#include "eval/eval-set.h"

#include <gio/gio.h>
#include <string.h>

#include "data/image-set.h"
#include "image/image-io.h"
#include "image/imresize.h"

struct _EspcnEvalSet {
  GPtrArray *paths;
  GPtrArray *names;
};

EspcnEvalSet *
espcn_eval_set_open (const char *root, guint num, GError **error)
{
  if (!g_file_test (root, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "data folder %s does not exist or is not a folder", root);
    return NULL;
  }
  g_autoptr (EspcnEvalSet) set = g_new0 (EspcnEvalSet, 1);
  set->names = g_ptr_array_new_with_free_func (g_free);
  const gboolean food = espcn_image_set_is_food101 (root);
  g_autoptr (GPtrArray) paths = food ? espcn_image_set_read_list (root, "test.txt", error) : espcn_image_set_scan (root, error);
  if (paths == NULL) {
    if (food)
      g_prefix_error (error, "Food-101 tree %s without a readable validation list: ", root);
    return NULL;
  }
  /* Names relative to the folder the files are in: ROOT/images or ROOT. */
  g_autofree char *base = food ? g_build_filename (root, "images", NULL) : g_strdup (root);
  set->paths = g_steal_pointer (&paths);
  for (guint i = 0; i < set->paths->len; i++)
    g_ptr_array_add (set->names, espcn_image_set_name (base, g_ptr_array_index (set->paths, i)));
  if (set->paths->len == 0) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "no images (*.png, *.jpg, *.jpeg) found in %s", root);
    return NULL;
  }
  if (num > 0 && num < set->paths->len) {
    g_ptr_array_set_size (set->paths, num);
    g_ptr_array_set_size (set->names, num);
  }
  return g_steal_pointer (&set);
}

void
espcn_eval_set_free (EspcnEvalSet *set)
{
  if (set == NULL)
    return;
  if (set->paths != NULL)
    g_ptr_array_unref (set->paths);
  if (set->names != NULL)
    g_ptr_array_unref (set->names);
  g_free (set);
}

guint
espcn_eval_set_size (const EspcnEvalSet *set)
{
  return set->paths->len;
}

const char *
espcn_eval_set_path (const EspcnEvalSet *set, guint i)
{
  g_return_val_if_fail (i < set->paths->len, NULL);
  return g_ptr_array_index (set->paths, i);
}

const char *
espcn_eval_set_name (const EspcnEvalSet *set, guint i)
{
  g_return_val_if_fail (i < set->names->len, NULL);
  return g_ptr_array_index (set->names, i);
}

gboolean
espcn_eval_set_pair (const EspcnEvalSet *set, guint i, int scale, EspcnImage **hr, EspcnImage **lr, GError **error)
{
  const char *path = espcn_eval_set_path (set, i);
  g_autoptr (EspcnImage) img = espcn_image_load (path, error);
  if (img == NULL)
    return FALSE;
  if (img->width < 2 * scale || img->height < 2 * scale) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %dx%d is too small for scale %d", path, img->width,
        img->height, scale);
    return FALSE;
  }
  g_autoptr (EspcnImage) h = espcn_image_modcrop (img, scale);
  EspcnImage *l = espcn_imresize_scale (h, 1.0 / scale);
  if (l == NULL || l->width * scale != h->width || l->height * scale != h->height) {
    espcn_image_free (l);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: downscaling by %d failed", path, scale);
    return FALSE;
  }
  *hr = g_steal_pointer (&h);
  *lr = l;
  return TRUE;
}
