/* Model name lookup (see espcn-model-path.h). */
#include "espcn-model-path.h"

#include <string.h>

/* Tries `name` (and name.bin when it has no extension) inside `dir`. */
static gchar *
try_dir (const char *dir, const char *name, GString *tried)
{
  g_autofree gchar *bin = strchr (name, '.') ? NULL : g_strconcat (name, ".bin", NULL);
  const char *candidates[] = { name, bin };
  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++) {
    if (candidates[i] == NULL)
      continue;
    g_autofree gchar *path = g_build_filename (dir, candidates[i], NULL);
    if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
      return g_steal_pointer (&path);
  }
  g_string_append_printf (tried, "%s%s", tried->len ? ", " : "", dir);
  return NULL;
}

gchar *
espcn_model_path_resolve (const char *name, const char *presets_dir, GError **error)
{
  if (name == NULL || *name == '\0') {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "no model given");
    return NULL;
  }
  if (strchr (name, G_DIR_SEPARATOR) != NULL)
    return g_strdup (name);

  g_autoptr (GString) tried = g_string_new (NULL);
  const char *env = g_getenv ("ESPCN_MODEL_PATH");
  if (env != NULL) {
    g_auto (GStrv) dirs = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
    for (int i = 0; dirs[i] != NULL; i++) {
      if (*dirs[i] == '\0')
        continue;
      gchar *p = try_dir (dirs[i], name, tried);
      if (p != NULL)
        return p;
    }
  }
  if (presets_dir != NULL) {
    gchar *p = try_dir (presets_dir, name, tried);
    if (p != NULL)
      return p;
  }
  /* Never the current folder: a service would then depend on where it was started. */
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
      "model '%s' not found (looked in $ESPCN_MODEL_PATH and the installed presets folder: %s; "
      "a path with a '/' is used as it is, e.g. ./%s)", name, tried->len ? tried->str : "none", name);
  return NULL;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

GStrv
espcn_model_path_list (const char *dir)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) d = dir ? g_dir_open (dir, 0, NULL) : NULL;
  const char *entry;
  while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (entry, ".bin"))
      g_ptr_array_add (names, g_strdup (entry));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}
