/* The licence listings espcn-sample-data reads: a Debian machine-readable
 * copyright file and a GCompris resource README, in the shapes the packages use. */
#include <glib.h>

#include "sample-data/licences.h"

static const char dep5[] =
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
    "Source: https://example.org/wallpapers\n"
    "\n"
    "Files: 16.04/a_by_X.jpg\n"
    "Copyright: X, 2018\n"
    "           and others\n"
    "License: CC-BY-4.0\n"
    "\n"
    "Files: 16.04/b_by_Y.jpg 16.04/c_by_Y.jpg\n"
    "Copyright: Y\n"
    "License: CC0-1.0\n"
    "\n"
    "Files: debian/*\n"
    " AUTHORS\n"
    "License: GPL-3\n"
    "\n"
    "License: CC0-1.0\n"
    " To the extent possible under law ...\n";

static const char readme[] =
    "Copyright: Someone, 2022\n"
    "License: CC-BY-SA 4.0\n"
    "Files:\n"
    "key.svg\n"
    "egypt/egypt.svg\n"
    "\n"
    "Copyright: Photographer\n"
    "Source: https://commons.wikimedia.org/wiki/File:X.jpg\n"
    "License: Public Domain\n"
    "Comments: cropping, sharpening\n"
    "Files: animals/cat.webp\n"
    "\n"
    "Files: dog.webp\n"
    "Source: https://commons.wikimedia.org/wiki/File:Y.jpg\n"
    "License: CC0-1.0\n"
    "Copyright: Z\n";

static void
test_debian_copyright (void)
{
  g_autoptr (GHashTable) t = espcn_licence_table_parse (dep5);
  g_assert_cmpstr (espcn_licence_lookup (t, "16.04/a_by_X.jpg"), ==, "CC-BY-4.0");
  g_assert_cmpstr (espcn_licence_lookup (t, "16.04/b_by_Y.jpg"), ==, "CC0-1.0");
  g_assert_cmpstr (espcn_licence_lookup (t, "16.04/c_by_Y.jpg"), ==, "CC0-1.0");
  /* copyright continuation lines are not file names */
  g_assert_null (espcn_licence_lookup (t, "and"));
  g_assert_null (espcn_licence_lookup (t, "16.04/d_by_Z.jpg"));
}

static void
test_gcompris_readme (void)
{
  g_autoptr (GHashTable) t = espcn_licence_table_parse (readme);
  g_assert_cmpstr (espcn_licence_lookup (t, "egypt/egypt.svg"), ==, "CC-BY-SA 4.0");
  g_assert_cmpstr (espcn_licence_lookup (t, "animals/cat.webp"), ==, "Public Domain");
  /* Files: before License: in the paragraph */
  g_assert_cmpstr (espcn_licence_lookup (t, "dog.webp"), ==, "CC0-1.0");
  /* a name relative to the README's folder matches a longer path */
  g_assert_cmpstr (espcn_licence_lookup (t, "resource/animals/cat.webp"), ==, "Public Domain");
  /* but not a different file that merely ends the same way */
  g_assert_null (espcn_licence_lookup (t, "resource/hotdog.webp"));
  g_assert_null (espcn_licence_lookup (t, "animals/cow.webp"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/data/licences/debian-copyright", test_debian_copyright);
  g_test_add_func ("/data/licences/gcompris-readme", test_gcompris_readme);
  return g_test_run ();
}
