/* Metrics: exact values on small images, and the published bicubic baselines
 * of Set5 / Set14, which pin down imresize, the luma and the shave together. */
#include <math.h>

#include "image/image-io.h"
#include "image/imresize.h"
#include "metrics/metrics.h"

static EspcnImage *
solid (int w, int h, guint8 r, guint8 g, guint8 b)
{
  EspcnImage *img = espcn_image_new (w, h);
  for (int i = 0; i < w * h; i++) {
    img->data[3 * i] = r;
    img->data[3 * i + 1] = g;
    img->data[3 * i + 2] = b;
  }
  return img;
}

static void
test_psnr_y_weights_bt601_luma (void)
{
  /* Colour reference, every pixel's G differs by 2: Y differs by
   * 2 * 128.553 / 255 everywhere, so PSNR = 20 log10(255 / that). */
  g_autoptr (EspcnImage) a = solid (8, 6, 100, 50, 20);
  g_autoptr (EspcnImage) b = solid (8, 6, 100, 52, 20);
  double expect = 20.0 * log10 (255.0 / (2.0 * 128.553 / 255.0));
  g_assert_cmpfloat_with_epsilon (espcn_psnr_y (a, b, 0), expect, 1e-9);
  /* RGB: one sample in three differs by 2: MSE = 4 / 3. */
  g_assert_cmpfloat_with_epsilon (espcn_psnr_rgb (a, b, 2),
      10.0 * log10 (255.0 * 255.0 / (4.0 / 3.0)), 1e-9);
}

static void
test_psnr_y_of_grey_reference_uses_grey_level (void)
{
  /* Grayscale reference (a one-channel file): compared on the grey level,
   * so one level everywhere gives 20 log10(255), not the luma's 219/255 step. */
  g_autoptr (EspcnImage) a = solid (12, 12, 100, 100, 100);
  g_autoptr (EspcnImage) b = solid (12, 12, 101, 101, 101);
  a->gray = TRUE;
  g_assert_cmpfloat_with_epsilon (espcn_psnr_y (a, b, 0), 20.0 * log10 (255.0), 1e-9);
  /* Either argument order (the flag on the reference is enough). */
  g_assert_cmpfloat_with_epsilon (espcn_psnr_y (b, a, 0), 20.0 * log10 (255.0), 1e-9);
  g_assert_cmpfloat_with_epsilon (espcn_ssim_y (a, b, 0),
      (2.0 * 100 * 101 + 2.55 * 2.55) / (100.0 * 100 + 101 * 101 + 2.55 * 2.55), 1e-9);
  /* Grey pixels in an RGB reference (not flagged) stay on luma: one level is
   * a 219/255 luma step. */
  a->gray = FALSE;
  g_assert_true (espcn_image_is_gray (a));
  g_assert_cmpfloat_with_epsilon (espcn_psnr_y (a, b, 1),
      20.0 * log10 (255.0 / (219.0 / 255.0)), 1e-9);
}

static void
test_psnr_shave_ignores_border (void)
{
  g_autoptr (EspcnImage) a = solid (10, 10, 50, 60, 70);
  g_autoptr (EspcnImage) b = espcn_image_copy (a);
  /* Differences only in the 2-pixel frame. */
  for (int y = 0; y < 10; y++)
    for (int x = 0; x < 10; x++)
      if (x < 2 || y < 2 || x >= 8 || y >= 8)
        b->data[(y * 10 + x) * 3] = 255;
  g_assert_true (isinf (espcn_psnr_y (a, b, 2)));
  g_assert_true (isfinite (espcn_psnr_y (a, b, 1)));
  /* A quarter of the shaved-by-1 pixels... just check it got worse with less shave. */
  g_assert_cmpfloat (espcn_psnr_y (a, b, 0), <, espcn_psnr_y (a, b, 1));
  /* Size mismatch and over-shaving: NAN. */
  g_autoptr (EspcnImage) c = solid (9, 10, 0, 0, 0);
  g_assert_true (isnan (espcn_psnr_y (a, c, 0)));
  g_assert_true (isnan (espcn_psnr_y (a, b, 5)));
}

static void
test_ssim_identical_is_one_and_noise_lowers_it (void)
{
  g_autoptr (EspcnImage) a = espcn_image_new (32, 24);
  for (int i = 0; i < 32 * 24 * 3; i++)
    a->data[i] = (guint8) ((i * 37) % 251);
  g_autoptr (EspcnImage) b = espcn_image_copy (a);
  g_assert_cmpfloat_with_epsilon (espcn_ssim_y (a, b, 0), 1.0, 1e-12);
  for (int i = 0; i < 32 * 24 * 3; i += 7)
    b->data[i] = (guint8) (255 - b->data[i]);
  double s = espcn_ssim_y (a, b, 0);
  g_assert_cmpfloat (s, <, 0.99);
  g_assert_cmpfloat (s, >, -1.0);
  g_autoptr (EspcnImage) small = espcn_image_new (12, 12);
  g_assert_true (isnan (espcn_ssim_y (small, small, 1)));
}

static void
test_ssim_constant_images_match_formula (void)
{
  /* Constant images: sigma terms vanish, SSIM = (2 m1 m2 + C1) / (m1^2 + m2^2 + C1). */
  g_autoptr (EspcnImage) a = solid (16, 16, 0, 0, 10);
  g_autoptr (EspcnImage) b = solid (16, 16, 255, 255, 255);
  double m1 = 16.0 + 24.966 * 10 / 255.0, m2 = 235.0, c1 = 2.55 * 2.55;
  double expect = (2 * m1 * m2 + c1) / (m1 * m1 + m2 * m2 + c1);
  g_assert_cmpfloat_with_epsilon (espcn_ssim_y (a, b, 0), expect, 1e-9);
}

typedef struct {
  const char *set;
  const char *const *names;
  int scale;
  double published;
} Baseline;

static const char *const set5[] = { "baby", "bird", "butterfly", "head", "woman", NULL };
static const char *const set14[] = { "baboon", "barbara", "bridge", "coastguard", "comic",
  "face", "flowers", "foreman", "lenna", "man", "monarch", "pepper", "ppt3", "zebra",
  NULL };

static void
check_bicubic_baseline (gconstpointer data)
{
  const Baseline *b = data;
  const char *root = g_getenv ("ESPCN_SHARED_DATASETS");
  if (root == NULL || !g_file_test (root, G_FILE_TEST_IS_DIR)) {
    g_test_skip ("ESPCN_SHARED_DATASETS is not set or missing");
    return;
  }
  double sum = 0.0, ssim = 0.0;
  int n = 0;
  for (const char *const *name = b->names; *name; name++, n++) {
    g_autofree gchar *file = g_strdup_printf ("%s.png", *name);
    g_autofree gchar *path = g_build_filename (root, b->set, file, NULL);
    if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
      g_test_skip ("dataset image missing");
      return;
    }
    GError *error = NULL;
    g_autoptr (EspcnImage) img = espcn_image_load (path, &error);
    g_assert_no_error (error);
    g_autoptr (EspcnImage) hr = espcn_image_modcrop (img, b->scale);
    g_autoptr (EspcnImage) lr = espcn_imresize_scale (hr, 1.0 / b->scale);
    g_assert_cmpint (lr->width * b->scale, ==, hr->width);
    g_assert_cmpint (lr->height * b->scale, ==, hr->height);
    g_autoptr (EspcnImage) up = espcn_imresize_scale (lr, b->scale);
    g_assert_cmpint (up->width, ==, hr->width);
    g_assert_cmpint (up->height, ==, hr->height);
    sum += espcn_psnr_y (hr, up, b->scale);
    ssim += espcn_ssim_y (hr, up, b->scale);
  }
  double mean = sum / n;
  g_test_message ("%s x%d bicubic: Y-PSNR %.4f dB (published %.2f), SSIM %.4f",
      b->set, b->scale, mean, b->published, ssim / n);
  g_assert_cmpfloat (fabs (mean - b->published), <=, 0.05);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/psnr-y-weights-bt601-luma", test_psnr_y_weights_bt601_luma);
  g_test_add_func ("/metrics/psnr-y-of-grey-reference-uses-grey-level",
      test_psnr_y_of_grey_reference_uses_grey_level);
  g_test_add_func ("/metrics/psnr-shave-ignores-border", test_psnr_shave_ignores_border);
  g_test_add_func ("/metrics/ssim-identical-is-one-and-noise-lowers-it",
      test_ssim_identical_is_one_and_noise_lowers_it);
  g_test_add_func ("/metrics/ssim-constant-images-match-formula",
      test_ssim_constant_images_match_formula);
  static const Baseline baselines[] = {
    { "Set5", set5, 2, 33.66 },
    { "Set5", set5, 3, 30.39 },
    { "Set5", set5, 4, 28.42 },
    { "Set14", set14, 2, 30.24 },
    { "Set14", set14, 3, 27.55 },
    { "Set14", set14, 4, 26.00 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (baselines); i++) {
    g_autofree gchar *p = g_strdup_printf ("/metrics/bicubic-baseline-%s-x%d-matches-published",
        baselines[i].set, baselines[i].scale);
    g_test_add_data_func (p, &baselines[i], check_bicubic_baseline);
  }
  return g_test_run ();
}
