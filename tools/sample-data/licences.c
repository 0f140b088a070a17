#include "licences.h"

#include <string.h>

static void
add_paragraph (GHashTable *table, GPtrArray *files, const char *licence)
{
  for (guint i = 0; licence != NULL && i < files->len; i++)
    if (!g_hash_table_contains (table, files->pdata[i]))
      g_hash_table_insert (table, g_strdup (files->pdata[i]), g_strdup (licence));
  g_ptr_array_set_size (files, 0);
}

static void
add_names (GPtrArray *files, const char *text)
{
  g_auto (GStrv) names = g_strsplit_set (text, " \t", -1);
  for (int i = 0; names[i] != NULL; i++)
    if (*names[i] != '\0')
      g_ptr_array_add (files, g_strdup (names[i]));
}

GHashTable *
espcn_licence_table_parse (const char *text)
{
  GHashTable *table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *licence = NULL;
  gboolean in_files = FALSE;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (int i = 0;; i++) {
    const char *raw = lines[i];
    g_autofree char *line = raw ? g_strstrip (g_strdup (raw)) : NULL;
    if (line == NULL || *line == '\0') {
      add_paragraph (table, files, licence);
      g_clear_pointer (&licence, g_free);
      in_files = FALSE;
      if (line == NULL)
        break;
      continue;
    }
    const char *colon = strchr (line, ':');
    gboolean field = colon != NULL && raw[0] != ' ' && raw[0] != '\t' && strchr (line, ' ') > colon;
    if (g_str_has_prefix (line, "Files:")) {
      in_files = TRUE;
      add_names (files, line + 6);
    } else if (g_str_has_prefix (line, "License:")) {
      in_files = FALSE;
      if (licence == NULL)
        licence = g_strstrip (g_strdup (line + 8));
    } else if (field || (colon != NULL && colon[1] == '\0')) {
      in_files = FALSE;
    } else if (in_files) {
      add_names (files, line);
    }
  }
  return table;
}

const char *
espcn_licence_lookup (GHashTable *table, const char *name)
{
  const char *l = g_hash_table_lookup (table, name);
  if (l != NULL)
    return l;
  /* the listed name may be relative to the README's folder: match path suffixes */
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, table);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    gsize kl = strlen (k), nl = strlen (name);
    if (kl < nl && name[nl - kl - 1] == '/' && strcmp (name + nl - kl, k) == 0)
      return v;
  }
  return NULL;
}
