/* Loading the plugin and creating an espcnupscale element start no thread: an
 * application embedding the element (or gst-plugin-scanner) gets none it did
 * not ask for.  The element's own worker threads start only for n-threads > 1
 * once it processes video.  Counted in /proc/self/task, from the start of the
 * process: gst_init() runs with a registry of its own and no system plugins
 * (tests/gst/meson.build), so this build's plugin is loaded in this process,
 * by the registry scan or by the element's creation, and any thread its
 * libraries start when loaded is counted. */
#include <gst/gst.h>

static int
count_threads (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  g_assert_nonnull (dir);
  int n = 0;
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

int
main (int argc, char **argv)
{
  int at_start = count_threads ();
  gst_init (&argc, &argv);
  g_assert_cmpint (count_threads (), ==, at_start);

  GstElement *e = gst_element_factory_make ("espcnupscale", NULL);
  if (e == NULL)
    g_error ("no espcnupscale element (GST_PLUGIN_PATH=%s)", g_getenv ("GST_PLUGIN_PATH"));
  g_assert_cmpint (count_threads (), ==, at_start);
  /* The default model loads with the element; reading a property must not start anything either. */
  g_autofree char *model = NULL;
  g_object_get (e, "model", &model, NULL);
  g_assert_cmpint (count_threads (), ==, at_start);
  gst_object_unref (e);
  g_print ("threads: %d at start, %d after creating the element\n", at_start, count_threads ());
  return 0;
}
