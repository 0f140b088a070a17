#include "data/image-set.h"

#include <gio/gio.h>
#include <string.h>

gboolean
espcn_image_set_is_food101 (const char *root)
{
  g_autofree char *meta = g_build_filename (root, "meta", "train.txt", NULL);
  return g_file_test (meta, G_FILE_TEST_EXISTS);
}

GPtrArray *
espcn_image_set_read_list (const char *root, const char *list, GError **error)
{
  g_autofree char *path = g_build_filename (root, "meta", list, NULL);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i] != NULL; i++) {
    char *entry = g_strstrip (lines[i]);
    if (entry[0] == '\0')
      continue;
    if (entry[0] == '/' || strstr (entry, "..") != NULL) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s line %d: '%s' is not a <class>/<id> entry inside the images folder", path, i + 1, entry);
      return NULL;
    }
    g_autofree char *file = g_strconcat (entry, ".jpg", NULL);
    g_ptr_array_add (out, g_build_filename (root, "images", file, NULL));
  }
  return g_steal_pointer (&out);
}

static gboolean
has_image_suffix (const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);
  return g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".jpg") || g_str_has_suffix (lower, ".jpeg");
}

static gboolean
scan_dir (const char *dir, GPtrArray *out, int depth, GError **error)
{
  if (depth > ESPCN_IMAGE_SET_MAX_DEPTH) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s is nested more than %d folders deep: move the images up or give a deeper folder as the root", dir,
        ESPCN_IMAGE_SET_MAX_DEPTH);
    return FALSE;
  }
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  if (d == NULL)
    return FALSE;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL) {
    if (name[0] == '.')
      continue;
    g_autofree char *path = g_build_filename (dir, name, NULL);
    if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
      if (!g_file_test (path, G_FILE_TEST_IS_SYMLINK) && !scan_dir (path, out, depth + 1, error))
        return FALSE;
    } else if (has_image_suffix (name) && g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
      g_ptr_array_add (out, g_steal_pointer (&path));
    }
  }
  return TRUE;
}

static gint
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
espcn_image_set_scan (const char *root, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  if (!scan_dir (root, out, 0, error))
    return NULL;
  g_ptr_array_sort (out, cmp_str);
  return g_steal_pointer (&out);
}

char *
espcn_image_set_name (const char *base, const char *path)
{
  const char *rel = path;
  gsize len = strlen (base);
  if (strncmp (path, base, len) == 0)
    rel = path + len;
  while (*rel == G_DIR_SEPARATOR)
    rel++;
  char *name = g_strdelimit (g_strdup (rel), "/", '_');
  char *dot = strrchr (name, '.');
  if (dot != NULL && dot != name)
    *dot = '\0';
  return name;
}
