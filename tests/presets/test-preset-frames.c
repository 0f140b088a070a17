/* The frames every shipped preset computes stay the same, byte for byte: each
 * preset upscales two fixed pseudo-random frames (odd sizes, packed RGB and
 * BGRx for an RGB preset, Y planes for a luma one; 1 and 3 threads), the
 * runner must agree with the reference engine, and the SHA-256 of its output
 * must be the one recorded below.
 *
 * The table is printed by this program:
 *   test-preset-frames --print PRESETS_DIR
 * (first against the library of 341b945, before the runtime/training split,
 * whose frames tools/compare-outputs.sh also compared with the split build's on
 * photos; then for the presets retrained in issues 19 and 20).
 * A change to the table is a change of every user's output: it needs a
 * reason (a new preset, a new grid) in its commit. */
#include <string.h>

#include "engine/engine.h"
#include "engine/model.h"
#include "util/rng.h"

typedef struct {
  int w, h, threads;
  EspcnPixelLayout lay;
  guint64 seed;
} Frame;

static const Frame frames[] = {
  { 37, 23, 1, ESPCN_PIXEL_LAYOUT_RGB, 1 },
  { 50, 9, 3, ESPCN_PIXEL_LAYOUT_BGRX, 2 },
};

static const struct {
  const char *preset;
  const char *sha256[G_N_ELEMENTS (frames)];
} expected[] = {
#include "preset-frames.inc"
};

/* The output of `file` for frame f; also checks the runner against the reference. */
static char *
frame_sha256 (const char *dir, const char *file, const Frame *f)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnInt8Model) m = espcn_int8_model_load (path, &error);
  g_assert_no_error (error);
  int s = espcn_int8_model_get_scale (m);
  const EspcnPixelLayout lay = espcn_int8_model_get_channels (m) == 1 ? ESPCN_PIXEL_LAYOUT_Y8 : f->lay;
  gsize in_stride = (gsize) f->w * lay.bpp, out_stride = (gsize) f->w * s * lay.bpp;
  gsize out_size = out_stride * f->h * s;
  g_autofree guint8 *in = g_new (guint8, in_stride * f->h);
  g_autofree guint8 *out = g_new0 (guint8, out_size);
  g_autofree guint8 *ref = g_new0 (guint8, out_size);
  EspcnRng rng;
  espcn_rng_seed (&rng, f->seed);
  for (gsize i = 0; i < in_stride * f->h; i++)
    in[i] = (guint8) espcn_rng_below (&rng, 256);
  g_assert_true (espcn_engine_process_reference (m, in, in_stride, &lay, f->w, f->h, ref, out_stride, &lay, &error));
  g_assert_no_error (error);
  EspcnRunner *r = espcn_runner_new (m, f->threads, &error);
  g_assert_no_error (error);
  g_assert_true (espcn_runner_process (r, in, in_stride, &lay, f->w, f->h, out, out_stride, &lay, &error));
  g_assert_no_error (error);
  espcn_runner_free (r);
  g_assert_cmpmem (out, out_size, ref, out_size);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, out, out_size);
}

static const char *presets_dir;

static void
test_every_preset_gives_the_recorded_frames (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (presets_dir, 0, &error);
  g_assert_no_error (error);
  guint n = 0;
  const char *file;
  while ((file = g_dir_read_name (dir)) != NULL) {
    if (!g_str_has_suffix (file, ".bin"))
      continue;
    gsize e = 0;
    while (e < G_N_ELEMENTS (expected) && strcmp (expected[e].preset, file) != 0)
      e++;
    if (e == G_N_ELEMENTS (expected))
      g_error ("presets/%s: no recorded frames (add them with --print)", file);
    for (gsize k = 0; k < G_N_ELEMENTS (frames); k++) {
      g_autofree char *sum = frame_sha256 (presets_dir, file, &frames[k]);
      if (strcmp (sum, expected[e].sha256[k]) != 0)
        g_error ("presets/%s, frame %" G_GSIZE_FORMAT " (%dx%d): output SHA-256 %s, recorded %s", file, k,
            frames[k].w, frames[k].h, sum, expected[e].sha256[k]);
    }
    n++;
  }
  /* Every recorded preset is still shipped. */
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (expected));
}

static int
cmp_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static int
print_table (const char *dir_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *file;
  while ((file = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (file, ".bin"))
      g_ptr_array_add (names, g_strdup (file));
  g_ptr_array_sort (names, cmp_names);
  for (guint i = 0; i < names->len; i++) {
    g_print ("  { \"%s\", {", (char *) names->pdata[i]);
    for (gsize k = 0; k < G_N_ELEMENTS (frames); k++) {
      g_autofree char *sum = frame_sha256 (dir_path, names->pdata[i], &frames[k]);
      g_print (" \"%s\"%s", sum, k + 1 < G_N_ELEMENTS (frames) ? "," : " } },\n");
    }
  }
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "--print") == 0)
    return print_table (argv[2]);
  g_test_init (&argc, &argv, NULL);
  presets_dir = g_getenv ("ESPCN_PRESETS_DIR");
  g_assert_nonnull (presets_dir);
  g_test_add_func ("/presets/every-preset-gives-the-recorded-frames", test_every_preset_gives_the_recorded_frames);
  return g_test_run ();
}
