/* The interpolator start: fitted on some images, the untrained network upscales
 * other images at least as well as bilinear interpolation, at every scale. */
#include "nn/init-interpolator.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "image/image.h"
#include "image/imresize.h"
#include "image/luma-merge.h"
#include "metrics/metrics.h"
#include "util/rng.h"
#include "test-photo.h"
#include "test-util.h"

/* Bilinear upscale by an integer factor, pixel centres aligned (as GStreamer's
 * videoscale and OpenCV's INTER_LINEAR), edges clamped. */
static EspcnImage *
bilinear_upscale (const EspcnImage *lr, int s)
{
  int W = lr->width * s, H = lr->height * s;
  EspcnImage *out = espcn_image_new (W, H);
  for (int y = 0; y < H; y++) {
    float sy = CLAMP ((y + 0.5f) / s - 0.5f, 0.0f, (float) (lr->height - 1));
    int y0 = (int) sy, y1 = MIN (y0 + 1, lr->height - 1);
    float ty = sy - y0;
    for (int x = 0; x < W; x++) {
      float sx = CLAMP ((x + 0.5f) / s - 0.5f, 0.0f, (float) (lr->width - 1));
      int x0 = (int) sx, x1 = MIN (x0 + 1, lr->width - 1);
      float tx = sx - x0;
      for (int c = 0; c < 3; c++) {
        const guint8 *d = lr->data;
        int w = lr->width;
        float a = d[(y0 * w + x0) * 3 + c] * (1 - tx) + d[(y0 * w + x1) * 3 + c] * tx;
        float b = d[(y1 * w + x0) * 3 + c] * (1 - tx) + d[(y1 * w + x1) * 3 + c] * tx;
        out->data[((size_t) y * W + x) * 3 + c] = (guint8) CLAMP (lrintf (a * (1 - ty) + b * ty), 0, 255);
      }
    }
  }
  return out;
}

/* Planar network pixels of an image: RGB, or Y / 255 for a luma model. */
static void
to_network (const EspcnImage *img, int channels, float *out)
{
  if (channels == 1)
    espcn_image_to_y01 (img, out);
  else
    espcn_image_to_planar_f32 (img, out);
}

/* data: the scale, plus 256 x the channels. */
static void
test_untrained_network_beats_bilinear (gconstpointer data)
{
  const int s = GPOINTER_TO_INT (data) & 255, C = GPOINTER_TO_INT (data) >> 8, side = 96;
  const int lside = side / s;
  EspcnRng rng;
  espcn_rng_seed (&rng, 2024 + s);

  /* Fit on 6 images ... */
  g_autoptr (EspcnInterpFit) fit = espcn_interp_fit_new (s, C);
  g_autofree float *lr = g_new (float, 3 * (gsize) lside * lside);
  g_autofree float *hr = g_new (float, 3 * (gsize) side * side);
  for (int i = 0; i < 6; i++) {
    g_autoptr (EspcnImage) h = espcn_test_photo_like (&rng, side, side);
    g_autoptr (EspcnImage) l = espcn_imresize (h, lside, lside);
    to_network (h, C, hr);
    to_network (l, C, lr);
    espcn_interp_fit_add (fit, lr, hr, 1, lside, lside);
  }
  float weights[16][9], bias[16];
  g_autoptr (GError) error = NULL;
  g_assert_true (espcn_interp_fit_solve (fit, weights, bias, &error));
  g_assert_no_error (error);

  EspcnFloatModelConfig mc = espcn_float_model_config_default (s);
  mc.channels = C;
  g_autoptr (EspcnFloatModel) model = espcn_float_model_new (&mc, 7, &error);
  g_assert_nonnull (model);
  g_assert_true (espcn_float_model_set_interpolator (model, weights, bias, &error));

  /* ... score on 6 others, of another size. */
  const int tw = 120, th = 84;
  double net = 0, bil = 0;
  for (int i = 0; i < 6; i++) {
    g_autoptr (EspcnImage) h = espcn_test_photo_like (&rng, tw, th);
    g_autoptr (EspcnImage) l = espcn_imresize (h, tw / s, th / s);
    g_autoptr (EspcnImage) hh = espcn_image_modcrop (h, s);
    g_autofree float *in = g_new (float, 3 * (gsize) l->width * l->height);
    g_autofree float *out = g_new (float, 3 * (gsize) hh->width * hh->height);
    to_network (l, C, in);
    espcn_float_model_forward (model, in, 1, l->height, l->width, out);
    g_autoptr (EspcnImage) sr = espcn_image_new (hh->width, hh->height);
    g_autoptr (EspcnImage) bl = bilinear_upscale (l, s);
    /* A luma model's Y with bilinear's chroma: the Y-PSNR compares the Y planes. */
    if (C == 1)
      espcn_image_merge_luma (sr, out, bl);
    else
      espcn_image_from_planar_f32 (sr, out);
    net += espcn_psnr_y (sr, hh, s) / 6;
    bil += espcn_psnr_y (bl, hh, s) / 6;
  }
  g_test_message ("x%d, %d channel(s): untrained interpolator start %.3f dB, bilinear %.3f dB (Y-PSNR)", s, C, net,
      bil);
  g_assert_cmpfloat (net, >=, bil);
}

/* The identity path carries the pixels: with an identity "fit" (the centre tap 1
 * in every phase) the untrained network repeats each LR pixel s x s times. */
static void
test_identity_filters_give_pixel_repetition (void)
{
  const int s = 3, h = 5, w = 7;
  float weights[9][9] = { { 0 } }, bias[9] = { 0 };
  for (int p = 0; p < 9; p++)
    weights[p][4] = 1.0f;
  g_autoptr (GError) error = NULL;
  EspcnFloatModelConfig mc = { s, 8, 3 };
  g_autoptr (EspcnFloatModel) model = espcn_float_model_new (&mc, 3, &error);
  g_assert_true (espcn_float_model_set_interpolator (model, weights, bias, &error));
  float in[3 * 5 * 7], out[3 * 15 * 21];
  EspcnRng rng;
  espcn_rng_seed (&rng, 5);
  for (gsize i = 0; i < G_N_ELEMENTS (in); i++)
    in[i] = espcn_rng_uniform (&rng);
  espcn_float_model_forward (model, in, 1, h, w, out);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < h * s; y++)
      for (int x = 0; x < w * s; x++) {
        float want = in[(c * h + y / s) * w + x / s], got = out[(c * h * s + y) * w * s + x];
        /* the other channels reach the output through conv3's weights scaled by
         * ESPCN_INTERP_RESIDUAL_GAIN only */
        g_assert_cmpfloat (fabsf (got - want), <, 0.02f);
      }
}

static void
test_refuses_what_it_cannot_fit (void)
{
  g_autoptr (GError) error = NULL;
  float weights[16][9], bias[16];
  /* nothing added */
  g_autoptr (EspcnInterpFit) fit = espcn_interp_fit_new (2, 3);
  g_assert_false (espcn_interp_fit_solve (fit, weights, bias, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  /* flat pairs: every window is the same; the fit still reproduces the flat colour */
  float lr[3 * 8 * 8], hr[3 * 16 * 16];
  for (gsize i = 0; i < G_N_ELEMENTS (lr); i++)
    lr[i] = 0.5f;
  for (gsize i = 0; i < G_N_ELEMENTS (hr); i++)
    hr[i] = 0.5f;
  espcn_interp_fit_add (fit, lr, hr, 1, 8, 8);
  g_assert_true (espcn_interp_fit_solve (fit, weights, bias, &error));
  for (int p = 0; p < 4; p++) {
    double v = bias[p];
    for (int k = 0; k < 9; k++)
      v += 0.5 * weights[p][k];
    g_assert_cmpfloat (fabs (v - 0.5), <, 1e-4);
  }
  /* a network too narrow for three identity channels */
  EspcnFloatModelConfig mc = { 2, 4, 3 };
  g_autoptr (EspcnFloatModel) model = espcn_float_model_new (&mc, 1, &error);
  memset (weights, 0, sizeof weights);
  g_assert_false (espcn_float_model_set_interpolator (model, weights, bias, &error));
  g_assert_nonnull (strstr (error->message, "--start plain"));
  /* names */
  EspcnStart st;
  g_clear_error (&error);
  g_assert_true (espcn_start_from_name ("plain", &st, NULL) && st == ESPCN_START_PLAIN);
  g_assert_true (espcn_start_from_name ("interp", &st, NULL) && st == ESPCN_START_INTERP);
  g_assert_false (espcn_start_from_name ("bicubic", &st, &error));
  g_assert_nonnull (strstr (error->message, "unknown start"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (int s = 2; s <= 4; s++) {
    g_autofree char *rgb = g_strdup_printf ("/nn/init-interpolator/untrained-beats-bilinear/x%d", s);
    g_autofree char *luma = g_strdup_printf ("/nn/init-interpolator/untrained-beats-bilinear/luma/x%d", s);
    g_test_add_data_func (rgb, GINT_TO_POINTER (s | 3 << 8), test_untrained_network_beats_bilinear);
    g_test_add_data_func (luma, GINT_TO_POINTER (s | 1 << 8), test_untrained_network_beats_bilinear);
  }
  g_test_add_func ("/nn/init-interpolator/identity-filters-give-pixel-repetition",
      test_identity_filters_give_pixel_repetition);
  g_test_add_func ("/nn/init-interpolator/refuses-what-it-cannot-fit", test_refuses_what_it_cannot_fit);
  return g_test_run ();
}
