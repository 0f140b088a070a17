/* Runs a fuzz target over files and folders of inputs (the committed corpus), the
 * way libFuzzer would run each one, without libFuzzer: a plain test executable. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "fuzz-common.h"

static int
run_file (const char *path)
{
  g_autofree gchar *data = NULL;
  gsize len = 0;
  g_autoptr (GError) error = NULL;
  if (!g_file_get_contents (path, &data, &len, &error)) {
    fprintf (stderr, "replay: %s\n", error->message);
    return 1;
  }
  /* A private copy of exactly `len` bytes, so a read past the end is an ASan report
   * (g_file_get_contents adds a NUL). */
  g_autofree guint8 *copy = g_memdup2 (data, len ? len : 1);
  LLVMFuzzerTestOneInput (copy, len);
  return 0;
}

static gint
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

int
main (int argc, char **argv)
{
  if (argc < 2) {
    fprintf (stderr, "usage: %s FILE-OR-DIR...\n", argv[0]);
    return 2;
  }
  guint n = 0;
  for (int i = 1; i < argc; i++) {
    if (!g_file_test (argv[i], G_FILE_TEST_IS_DIR)) {
      if (run_file (argv[i]) != 0)
        return 1;
      n++;
      continue;
    }
    g_autoptr (GError) error = NULL;
    g_autoptr (GDir) dir = g_dir_open (argv[i], 0, &error);
    if (dir == NULL) {
      fprintf (stderr, "replay: %s\n", error->message);
      return 1;
    }
    g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
    const char *name;
    while ((name = g_dir_read_name (dir)) != NULL)
      g_ptr_array_add (names, g_build_filename (argv[i], name, NULL));
    g_ptr_array_sort (names, cmp_str);
    for (guint k = 0; k < names->len; k++) {
      const char *path = g_ptr_array_index (names, k);
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;
      if (run_file (path) != 0)
        return 1;
      n++;
    }
  }
  if (n == 0) {
    fprintf (stderr, "replay: no inputs found\n");
    return 1;
  }
  printf ("replayed %u inputs without a failure\n", n);
  return 0;
}
