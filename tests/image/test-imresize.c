/* imresize: outputs pinned against weights computed by hand from the Keys
 * kernel k(x) (a = -0.5):
 *   |x| <= 1:      1.5|x|^3 - 2.5|x|^2 + 1
 *   1 < |x| <= 2:  -0.5|x|^3 + 2.5|x|^2 - 4|x| + 2
 * Values used below:
 *   k(0.125) = 0.0029296875 - 0.0390625 + 1           = 0.9638671875
 *   k(0.25)  = 0.0234375 - 0.15625 + 1                 = 0.8671875
 *   k(0.375) = 0.0791015625 - 0.3515625 + 1            = 0.7275390625
 *   k(0.625) = 0.3662109375 - 0.9765625 + 1            = 0.3896484375
 *   k(0.75)  = 0.6328125 - 1.40625 + 1                 = 0.2265625
 *   k(0.875) = 1.0048828125 - 1.9140625 + 1            = 0.0908203125
 *   k(1.125) = -0.7119140625 + 3.1640625 - 4.5 + 2     = -0.0478515625
 *   k(1.25)  = -0.9765625 + 3.90625 - 5 + 2            = -0.0703125
 *   k(1.375) = -1.2998046875 + 4.7265625 - 5.5 + 2     = -0.0732421875
 *   k(1.625) = -2.1455078125 + 6.6015625 - 6.5 + 2     = -0.0439453125
 *   k(1.75)  = -2.6796875 + 7.65625 - 7 + 2            = -0.0234375
 *   k(1.875) = -3.2958984375 + 8.7890625 - 7.5 + 2     = -0.0068359375
 * Indices are 1-based as in MATLAB; a tap j outside 1..n is mirrored:
 * j <= 0 -> 1 - j, j > n -> 2n + 1 - j. */
#include <math.h>
#include <string.h>

#include "image/imresize.h"

static const double X8[8] = { 10, 200, 30, 250, 0, 90, 180, 60 };

static EspcnImage *
row_image (const double *v, int n)
{
  EspcnImage *img = espcn_image_new (n, 1);
  for (int i = 0; i < n; i++)
    for (int c = 0; c < 3; c++)
      img->data[3 * i + c] = (guint8) v[i];
  return img;
}

static guint8
matlab_round (double v)
{
  double r = floor (v + 0.5);
  return r < 0 ? 0 : r > 255 ? 255 : (guint8) r;
}

/* sum_k w[k] * x[j[k]] with 1-based j. */
static double
apply (const double *w, const int *j, int taps)
{
  double acc = 0.0;
  for (int k = 0; k < taps; k++)
    acc += w[k] * X8[j[k] - 1];
  return acc;
}

static void
test_kernel_values (void)
{
  g_assert_cmpfloat (espcn_cubic_kernel (0.0), ==, 1.0);
  g_assert_cmpfloat (espcn_cubic_kernel (1.0), ==, 0.0);
  g_assert_cmpfloat (espcn_cubic_kernel (2.0), ==, 0.0);
  g_assert_cmpfloat (espcn_cubic_kernel (-0.25), ==, 0.8671875);
  g_assert_cmpfloat (espcn_cubic_kernel (1.25), ==, -0.0703125);
  g_assert_cmpfloat (espcn_cubic_kernel (2.5), ==, 0.0);
}

static void
test_downscale_by_2_matches_hand_weights (void)
{
  /* Scale 1/2: h(x) = k(x/2)/2, support 8, 10 taps from floor(u - 4).
   * Output i maps to u = 2i - 0.5. For u = 1.5, taps j = -3..6 at distances
   * 4.5 .. -4.5: h = k(1.75)/2, k(1.25)/2, k(0.75)/2, k(0.25)/2 and mirror,
   * the end taps 0; the weights add up to 1 already (2 * (0.8671875 +
   * 0.2265625 - 0.0703125 - 0.0234375) / 2 = 1), so normalising keeps them:
   *   w = [-0.01171875, -0.03515625, 0.11328125, 0.43359375,
   *         0.43359375, 0.11328125, -0.03515625, -0.01171875] on j = -2..5. */
  static const double w[8] = { -0.01171875, -0.03515625, 0.11328125, 0.43359375,
    0.43359375, 0.11328125, -0.03515625, -0.01171875 };
  /* Mirrored taps for each of the 4 outputs (u = 1.5, 3.5, 5.5, 7.5: the
   * non-zero taps are j = u - 3.5 .. u + 3.5). */
  static const int j[4][8] = {
    { 3, 2, 1, 1, 2, 3, 4, 5 },   /* j = -2..5 */
    { 1, 1, 2, 3, 4, 5, 6, 7 },   /* j = 0..7 */
    { 2, 3, 4, 5, 6, 7, 8, 8 },   /* j = 2..9 */
    { 4, 5, 6, 7, 8, 8, 7, 6 },   /* j = 4..11 */
  };
  g_autoptr (EspcnImage) src = row_image (X8, 8);
  g_autoptr (EspcnImage) dst = espcn_imresize (src, 4, 1);
  g_assert_cmpint (dst->width, ==, 4);
  g_assert_cmpint (dst->height, ==, 1);
  for (int i = 0; i < 4; i++) {
    guint8 expect = matlab_round (apply (w, j[i], 8));
    g_assert_cmpuint (dst->data[3 * i], ==, expect);
    g_assert_cmpuint (dst->data[3 * i + 1], ==, expect);
  }
  /* Worked through by hand for the first two outputs:
   * out1 = 0.546875*10 + 0.3984375*200 + 0.1015625*30 - 0.03515625*250
   *        - 0.01171875*0 = 79.4140625 -> 79
   * out2 = -0.01171875*10 - 0.03515625*10 + 0.11328125*200 + 0.43359375*30
   *        + 0.43359375*250 + 0.11328125*0 - 0.03515625*90 - 0.01171875*180
   *      = -0.1171875 - 0.3515625 + 22.65625 + 13.0078125 + 108.3984375
   *        - 3.1640625 - 2.109375 = 138.3203125 -> 138 */
  g_assert_cmpuint (dst->data[0], ==, 79);
  g_assert_cmpuint (dst->data[3], ==, 138);

  /* The same through the scale-factor entry point. */
  g_autoptr (EspcnImage) dst2 = espcn_imresize_scale (src, 0.5);
  g_assert_cmpint (dst2->width, ==, 4);
  g_assert_cmpint (dst2->height, ==, 1);
  g_assert_cmpmem (dst2->data, 12, dst->data, 12);
}

static void
test_downscale_by_4_matches_hand_weights (void)
{
  /* Scale 1/4: h(x) = k(x/4)/4, support 16, 18 taps. u = 4i - 1.5: 2.5, 6.5.
   * For u = 2.5 taps j = -6..11, distances 8.5 .. -8.5; the two end taps are
   * 0 (k(2.125)); the 16 others are k(1.875)/4 ... k(0.125)/4 and mirror,
   * summing to 2 * 2.0 / 4 = 1 (one side: 0.9638671875 + 0.7275390625 +
   * 0.3896484375 + 0.0908203125 - 0.0478515625 - 0.0732421875 -
   * 0.0439453125 - 0.0068359375 = 2.0). */
  static const double kv[8] = { -0.0068359375, -0.0439453125, -0.0732421875,
    -0.0478515625, 0.0908203125, 0.3896484375, 0.7275390625, 0.9638671875 };
  double w[16];
  for (int k = 0; k < 8; k++)
    w[k] = w[15 - k] = kv[k] / 4.0;
  static const int j[2][16] = {
    /* j = -5..10 -> mirrored */
    { 6, 5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 7 },
    /* j = -1..14 -> mirrored */
    { 2, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3 },
  };
  g_autoptr (EspcnImage) src = row_image (X8, 8);
  g_autoptr (EspcnImage) dst = espcn_imresize_scale (src, 0.25);
  g_assert_cmpint (dst->width, ==, 2);
  g_assert_cmpint (dst->height, ==, 1);
  for (int i = 0; i < 2; i++)
    g_assert_cmpuint (dst->data[3 * i + 2], ==, matlab_round (apply (w, j[i], 16)));
}

static void
test_upscale_ramp_by_2 (void)
{
  /* Scale 2: plain k, support 4, 6 taps; u = i/2 + 0.25. For u = 0.75:
   * taps j = -2..3, distances 2.75, 1.75, 0.75, -0.25, -1.25, -2.25 ->
   * 0, -0.0234375 (j=-1 -> 2), 0.2265625 (j=0 -> 1), 0.8671875 (1),
   * -0.0703125 (2), 0: out1 = 1.09375 x1 - 0.09375 x2 = 109.375 - 11.25
   * = 98.125 -> 98. u = 1.25: 0.796875 x1 + 0.2265625 x2 - 0.0234375 x3 =
   * 103.59375 -> 104. u = 1.75: 0.203125 x1 + 0.8671875 x2 - 0.0703125 x3
   * = 114.53125 -> 115. u = 2.25, 2.75: no mirrored tap and a cubic
   * reproduces a line: 125, 135. The right half mirrors the left: 260 - v. */
  static const double ramp[4] = { 100, 120, 140, 160 };
  static const guint8 expect[8] = { 98, 104, 115, 125, 135, 145, 156, 162 };
  g_autoptr (EspcnImage) src = row_image (ramp, 4);
  g_autoptr (EspcnImage) dst = espcn_imresize_scale (src, 2.0);
  g_assert_cmpint (dst->width, ==, 8);
  g_assert_cmpint (dst->height, ==, 2);
  for (int y = 0; y < 2; y++)
    for (int i = 0; i < 8; i++)
      g_assert_cmpuint (dst->data[(y * 8 + i) * 3], ==, expect[i]);
}

static void
test_upscale_overshoot_is_clamped (void)
{
  /* out1 = 1.09375 x1 - 0.09375 x2: [0, 64] -> -6 -> 0; [255, 191] -> 261 -> 255. */
  static const double lo[2] = { 0, 64 }, hi[2] = { 255, 191 };
  g_autoptr (EspcnImage) a = row_image (lo, 2);
  g_autoptr (EspcnImage) b = row_image (hi, 2);
  g_autoptr (EspcnImage) ua = espcn_imresize_scale (a, 2.0);
  g_autoptr (EspcnImage) ub = espcn_imresize_scale (b, 2.0);
  g_assert_cmpuint (ua->data[0], ==, 0);
  g_assert_cmpuint (ub->data[0], ==, 255);
}

static void
test_resize_along_height_equals_width (void)
{
  /* The transposed image gives the transposed result (same weights per axis). */
  g_autoptr (EspcnImage) row = row_image (X8, 8);
  g_autoptr (EspcnImage) col = espcn_image_new (1, 8);
  memcpy (col->data, row->data, 24);
  g_autoptr (EspcnImage) r = espcn_imresize_scale (row, 0.5);
  g_autoptr (EspcnImage) c = espcn_imresize_scale (col, 0.5);
  g_assert_cmpint (c->width, ==, 1);
  g_assert_cmpint (c->height, ==, 4);
  g_assert_cmpmem (r->data, 12, c->data, 12);
}

static void
test_output_size_and_flags (void)
{
  g_autoptr (EspcnImage) src = espcn_image_new (7, 5);
  src->gray = TRUE;
  g_autoptr (EspcnImage) half = espcn_imresize_scale (src, 0.5);
  g_assert_cmpint (half->width, ==, 4);
  g_assert_cmpint (half->height, ==, 3);
  g_assert_true (half->gray);
  g_assert_null (espcn_imresize_scale (src, 0.0));
  /* Modcropped sizes divide exactly despite 1/3 not being a double. */
  for (int n = 3; n <= 3000; n += 3) {
    g_autoptr (EspcnImage) line = espcn_image_new (n, 1);
    g_autoptr (EspcnImage) third = espcn_imresize_scale (line, 1.0 / 3.0);
    g_assert_cmpint (third->width, ==, n / 3);
  }
  g_autoptr (EspcnImage) seven = espcn_imresize_scale (src, 1.0 / 3.0);
  g_assert_cmpint (seven->width, ==, 3);
  g_assert_null (espcn_imresize_scale (src, 1e9));
  /* Constant image stays constant whatever the scale. */
  memset (src->data, 77, 7 * 5 * 3);
  g_autoptr (EspcnImage) up = espcn_imresize (src, 19, 3);
  for (int i = 0; i < 19 * 3 * 3; i++)
    g_assert_cmpuint (up->data[i], ==, 77);
}

static void
test_planar_f32_matches_u8_before_rounding (void)
{
  /* The float variant gives the unrounded values the u8 path rounds. */
  float in[3 * 8];
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 8; i++)
      in[c * 8 + i] = (float) (X8[i] / 255.0);
  float out[3 * 4];
  espcn_imresize_planar_f32 (in, 3, 8, 1, out, 4, 1, 0.5, 1.0);
  g_autoptr (EspcnImage) src = row_image (X8, 8);
  g_autoptr (EspcnImage) dst = espcn_imresize (src, 4, 1);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 4; i++) {
      g_assert_cmpfloat (fabs (out[c * 4 + i] * 255.0 - dst->data[3 * i + c]), <=, 0.5001);
    }
  g_assert_cmpfloat_with_epsilon (out[0] * 255.0, 79.4140625, 1e-3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/imresize/kernel-values", test_kernel_values);
  g_test_add_func ("/imresize/downscale-by-2-matches-hand-weights",
      test_downscale_by_2_matches_hand_weights);
  g_test_add_func ("/imresize/downscale-by-4-matches-hand-weights",
      test_downscale_by_4_matches_hand_weights);
  g_test_add_func ("/imresize/upscale-ramp-by-2", test_upscale_ramp_by_2);
  g_test_add_func ("/imresize/upscale-overshoot-is-clamped", test_upscale_overshoot_is_clamped);
  g_test_add_func ("/imresize/resize-along-height-equals-width",
      test_resize_along_height_equals_width);
  g_test_add_func ("/imresize/output-size-and-flags", test_output_size_and_flags);
  g_test_add_func ("/imresize/planar-f32-matches-u8-before-rounding",
      test_planar_f32_matches_u8_before_rounding);
  return g_test_run ();
}
