/* The shipped presets: each loads as what its name says, and the x4 LSQ preset,
 * run through the integer engine, beats bicubic on Set5 (a broken preset or engine
 * cannot land). */
#include <gio/gio.h>
#include <string.h>

#include "data/dataset.h"
#include "engine/engine.h"
#include "engine/model.h"
#include "image/image_io.h"
#include "image/imresize.h"
#include "metrics/metrics.h"

static const char *presets_dir;

static void
test_each_preset_loads (void)
{
  const char *methods[] = { "lsq", "pact", "adaround", "apot", "dorefa", "ste" };
  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++) {
    g_autofree char *name = g_strdup_printf ("%s.bin", methods[i]);
    g_autofree char *path = g_build_filename (presets_dir, name, NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (EspcnInt8Model) m = espcn_int8_model_load (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (espcn_int8_model_get_scale (m), ==, 4);
    g_assert_cmpstr (espcn_int8_model_get_method (m), ==, methods[i]);
    g_assert_nonnull (espcn_int8_model_get_metadata (m, "recipe"));
  }
}

static void
test_lsq_preset_beats_bicubic_on_set5 (void)
{
  const char *sets = g_getenv ("ESPCN_SHARED_DATASETS");
  g_autofree char *set5 = sets ? g_build_filename (sets, "Set5", NULL) : NULL;
  if (set5 == NULL || !g_file_test (set5, G_FILE_TEST_IS_DIR)) {
    g_test_skip ("../shared/datasets/Set5 not found");
    return;
  }
  g_autofree char *path = g_build_filename (presets_dir, "lsq.bin", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnInt8Model) m = espcn_int8_model_load (path, &error);
  g_assert_no_error (error);
  g_autoptr (EspcnRunner) r = espcn_runner_new (m, 2, &error);
  g_assert_no_error (error);
  const char *images[] = { "baby", "bird", "butterfly", "head", "woman" };
  const int s = 4;
  double sr_sum = 0, bic_sum = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (images); i++) {
    g_autofree char *file = g_strdup_printf ("%s/%s.png", set5, images[i]);
    g_autoptr (EspcnImage) img = espcn_image_load (file, &error);
    g_assert_no_error (error);
    g_autoptr (EspcnImage) hr = espcn_image_modcrop (img, s);
    g_autoptr (EspcnImage) lr = espcn_imresize (hr, hr->width / s, hr->height / s);
    g_autoptr (EspcnImage) sr = espcn_image_new (hr->width, hr->height);
    g_assert_true (espcn_runner_process (r, lr->data, 3 * (gsize) lr->width, &ESPCN_PIXEL_LAYOUT_RGB, lr->width,
        lr->height, sr->data, 3 * (gsize) sr->width, &ESPCN_PIXEL_LAYOUT_RGB, &error));
    g_autoptr (EspcnImage) bic = espcn_bicubic_upscale (lr, s);
    sr_sum += espcn_psnr_y (sr, hr, s);
    bic_sum += espcn_psnr_y (bic, hr, s);
  }
  double sr = sr_sum / G_N_ELEMENTS (images), bic = bic_sum / G_N_ELEMENTS (images);
  g_test_message ("Set5 x4 Y-PSNR: lsq.bin %.3f dB, bicubic %.3f dB", sr, bic);
  g_assert_cmpfloat (sr, >, bic + 0.3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  presets_dir = g_getenv ("ESPCN_PRESETS_DIR");
  g_assert_nonnull (presets_dir);
  g_test_add_func ("/presets/each-preset-loads", test_each_preset_loads);
  g_test_add_func ("/presets/lsq-preset-beats-bicubic-on-set5", test_lsq_preset_beats_bicubic_on_set5);
  return g_test_run ();
}
