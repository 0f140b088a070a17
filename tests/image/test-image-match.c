/* The contamination guard (image/image-match.h) and the detail measure
 * (image/detail.h) on synthetic images: the same picture cropped, rescaled or
 * re-encoded matches, an unrelated one does not; flat and blurred images have
 * little detail, textured ones a lot. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "image/detail.h"
#include "image/image-match.h"
#include "image/image-io.h"
#include "image/imresize.h"
#include "test-photo.h"
#include "test-util.h"

static double
score (const EspcnImage *a, const EspcnImage *b)
{
  g_autoptr (EspcnMatchImage) ma = espcn_match_image_new (a);
  g_autoptr (EspcnMatchImage) mb = espcn_match_image_new (b);
  g_assert_nonnull (ma);
  g_assert_nonnull (mb);
  double s = espcn_match_score (ma, mb);
  /* symmetric by construction */
  g_assert_cmpfloat (fabs (s - espcn_match_score (mb, ma)), <, 1e-12);
  return s;
}

static void
test_crop_and_rescale_match (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 11);
  g_autoptr (EspcnImage) photo = espcn_test_photo_like (&rng, 320, 240);
  /* 80% of the width, a little off centre, shrunk to 60% */
  g_autoptr (EspcnImage) crop = espcn_image_crop (photo, 20, 14, 256, 200);
  g_autoptr (EspcnImage) small = espcn_imresize (crop, 154, 120);
  double s = score (photo, small);
  g_test_message ("photo vs a rescaled crop of it: %.3f", s);
  g_assert_cmpfloat (s, >=, ESPCN_MATCH_THRESHOLD);

  /* the photograph inside a larger picture (the other direction of the search):
   * pasted at 70% of the width of an unrelated one */
  g_autoptr (EspcnImage) big = espcn_test_photo_like (&rng, 460, 340);
  for (int y = 0; y < photo->height; y++)
    memcpy (big->data + ((gsize) (y + 50) * big->width + 70) * 3, photo->data + (gsize) y * photo->width * 3,
        (gsize) photo->width * 3);
  s = score (small, big);
  g_test_message ("rescaled crop vs a picture holding the photo: %.3f", s);
  g_assert_cmpfloat (s, >=, ESPCN_MATCH_THRESHOLD);
}

static void
test_reencoded_copy_matches (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 12);
  g_autoptr (EspcnImage) photo = espcn_test_photo_like (&rng, 300, 300);
  g_autofree char *dir = espcn_test_make_tmp_dir ("espcn-match-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "copy.jpg", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (espcn_image_save_jpeg (photo, path, 70, &error));
  g_autoptr (EspcnImage) copy = espcn_image_load (path, &error);
  g_assert_no_error (error);
  double s = score (photo, copy);
  g_test_message ("photo vs its JPEG at quality 70: %.3f", s);
  g_assert_cmpfloat (s, >=, ESPCN_MATCH_THRESHOLD);
}

static void
test_unrelated_images_do_not_match (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 13);
  double worst = -1;
  for (int i = 0; i < 6; i++) {
    g_autoptr (EspcnImage) a = espcn_test_photo_like (&rng, 320, 240);
    g_autoptr (EspcnImage) b = espcn_test_photo_like (&rng, 280 + 10 * i, 260);
    worst = MAX (worst, score (a, b));
  }
  /* two different smooth pictures: alike as a whole, unalike in their detail */
  g_autoptr (EspcnImage) ramp = espcn_image_new (256, 192), dome = espcn_image_new (256, 192);
  for (int y = 0; y < 192; y++)
    for (int x = 0; x < 256; x++)
      for (int c = 0; c < 3; c++) {
        ramp->data[((gsize) y * 256 + x) * 3 + c] = (guint8) (x * 200 / 256 + 20);
        double r = hypot (x - 300.0, y - 96.0);
        dome->data[((gsize) y * 256 + x) * 3 + c] = (guint8) CLAMP (255 - r * 0.7, 0, 255);
      }
  worst = MAX (worst, score (ramp, dome));
  g_test_message ("unrelated pairs: best score %.3f", worst);
  g_assert_cmpfloat (worst, <, ESPCN_MATCH_THRESHOLD);
}

static void
test_detail_ranks_sharp_soft_and_flat (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 14);
  g_autoptr (EspcnImage) sharp = espcn_test_photo_like (&rng, 256, 192);
  /* the same picture blurred: down 4x and back up */
  g_autoptr (EspcnImage) down = espcn_imresize (sharp, 64, 48);
  g_autoptr (EspcnImage) soft = espcn_imresize (down, 256, 192);
  g_autoptr (EspcnImage) flat = espcn_image_new (256, 192);
  memset (flat->data, 128, (gsize) 256 * 192 * 3);
  EspcnDetail ds = espcn_image_detail (sharp), dsoft = espcn_image_detail (soft), df = espcn_image_detail (flat);
  g_test_message ("detail rms / sharpest / textured fraction: sharp %.2f / %.2f / %.2f, blurred %.2f / %.2f / %.2f, "
      "flat %.2f / %.2f / %.2f", ds.rms, ds.sharpest, ds.textured_fraction, dsoft.rms, dsoft.sharpest,
      dsoft.textured_fraction, df.rms, df.sharpest, df.textured_fraction);
  g_assert_cmpint (ds.n_blocks, ==, 8 * 6);
  g_assert_cmpfloat (ds.rms, >, 2 * dsoft.rms);
  g_assert_cmpfloat (ds.sharpest, >, 2 * dsoft.sharpest);
  g_assert_cmpfloat (ds.sharpest, >=, ds.rms);
  g_assert_cmpfloat (ds.textured_fraction, >, dsoft.textured_fraction);
  g_assert_cmpfloat (df.rms, <, 1e-6);
  g_assert_cmpfloat (df.textured_fraction, ==, 0);
  /* downscaling a soft picture brings its detail back */
  g_autoptr (EspcnImage) half = espcn_imresize (soft, 128, 96);
  g_assert_cmpfloat (espcn_image_detail (half).sharpest, >, dsoft.sharpest);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image/match/crop-and-rescale-match", test_crop_and_rescale_match);
  g_test_add_func ("/image/match/reencoded-copy-matches", test_reencoded_copy_matches);
  g_test_add_func ("/image/match/unrelated-images-do-not-match", test_unrelated_images_do_not_match);
  g_test_add_func ("/image/detail/ranks-sharp-soft-and-flat", test_detail_ranks_sharp_soft_and_flat);
  return g_test_run ();
}
