/* The shared fake-quantization helpers: the vectorisable rounding is the grid's
 * round-half-up, block loops agree with the scalar level, the quantile is exact. */
#include "quant/fakequant.h"
#include "util/rng.h"

#include <math.h>
#include <stdlib.h>

static void
check_round (float v)
{
  const float a = espcn_fq_round (v), b = espcn_round_half_up (v);
  if (a != b)
    g_error ("espcn_fq_round (%.9g) = %.9g, espcn_round_half_up = %.9g", (double) v, (double) a, (double) b);
}

static void
test_fq_round_is_round_half_up_bit_for_bit (void)
{
  for (int k = -300; k <= 300; k++) {
    const float tie = (float) k + 0.5f;
    check_round (tie);                              /* ties go up, negatives too */
    check_round (nextafterf (tie, -INFINITY));
    check_round (nextafterf (tie, INFINITY));
    check_round ((float) k);
    check_round (nextafterf ((float) k, -INFINITY));
    check_round (nextafterf ((float) k, INFINITY));
  }
  g_assert_cmpfloat (espcn_fq_round (-0.5f), ==, 0.0f);
  g_assert_cmpfloat (espcn_fq_round (-1.5f), ==, -1.0f);
  g_assert_cmpfloat (espcn_fq_round (2.5f), ==, 3.0f);
  EspcnRng rng;
  espcn_rng_seed (&rng, 41);
  for (int i = 0; i < 200000; i++)
    check_round (espcn_rng_uniform_range (&rng, -5000.0f, 5000.0f));
  check_round (1e9f);
  check_round (-1e9f);
  check_round (16777217.0f);
}

static void
test_fq_level_clamps_and_maps_nan_to_the_low_bound (void)
{
  g_assert_cmpfloat (espcn_fq_level (1000.0f, 1.0f, -127.0f, 127.0f), ==, 127.0f);
  g_assert_cmpfloat (espcn_fq_level (-1000.0f, 1.0f, -127.0f, 127.0f), ==, -127.0f);
  g_assert_cmpfloat (espcn_fq_level (-3.0f, 1.0f, 0.0f, 127.0f), ==, 0.0f);
  g_assert_cmpfloat (espcn_fq_level (NAN, 1.0f, 0.0f, 127.0f), ==, 0.0f);
  g_assert_cmpfloat (espcn_fq_level (INFINITY, 1.0f, 0.0f, 127.0f), ==, 127.0f);
}

static void
test_fq_uniform_blocks_match_the_scalar_level (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 42);
  const size_t n = 3 * ESPCN_FQ_BLOCK + 17;   /* a partial last block */
  g_autofree float *x = g_new (float, n);
  g_autofree float *y = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    x[i] = espcn_rng_uniform_range (&rng, -2.0f, 2.0f);
  const float s = 0.013f;
  espcn_fq_uniform (x, y, n, s, -127.0f, 127.0f);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (y[i], ==, espcn_fq_level (x[i], 1.0f / s, -127.0f, 127.0f) * s);
  espcn_fq_uniform (x, x, n, s, -127.0f, 127.0f);   /* in place */
  g_assert_cmpmem (x, n * sizeof (float), y, n * sizeof (float));
}

static void
test_fq_reductions (void)
{
  const float x[11] = { -3.0f, 1.0f, NAN, 2.0f, -0.5f, 0.25f, 0.0f, 1.5f, -7.0f, 0.75f, 2.5f };
  g_assert_cmpfloat (espcn_fq_absmax (x, 11), ==, 7.0f);
  g_assert_cmpfloat (espcn_fq_relu_max (x, 11), ==, 2.5f);
  g_assert_cmpfloat (espcn_fq_relu_max (x, 2), ==, 1.0f);
  g_assert_cmpfloat (espcn_fq_relu_max (x, 0), ==, 0.0f);
  g_assert_cmpfloat (espcn_fq_abs_mean (x, 11, FALSE), ==, 18.5 / 10.0);
  g_assert_cmpfloat (espcn_fq_abs_mean (x, 11, TRUE), ==, 8.0 / 10.0);
  const float y[5] = { 1.0f, 2.0f, 3.0f, 4.0f, 5.5f };
  g_assert_cmpfloat (espcn_fq_sum (y, 5), ==, 15.5);
}

static int
cmp_float (const void *a, const void *b)
{
  const float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

static void
test_fq_relu_quantile_is_the_order_statistic (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 43);
  const size_t sizes[] = { 1, 2, 7, 1000, 65537 };
  for (gsize t = 0; t < G_N_ELEMENTS (sizes); t++) {
    const size_t n = sizes[t];
    g_autofree float *x = g_new (float, n);
    g_autofree float *sorted = g_new (float, n);
    for (size_t i = 0; i < n; i++) {
      /* many exact zeros and repeated values, like ReLU outputs */
      x[i] = (float) ((int) espcn_rng_below (&rng, 40) - 20) / 4.0f;
      sorted[i] = MAX (x[i], 0.0f);
    }
    qsort (sorted, n, sizeof (float), cmp_float);
    const double ps[] = { 0.0, 0.3, 0.5, 0.9, 0.999, 1.0 };
    for (gsize k = 0; k < G_N_ELEMENTS (ps); k++)
      g_assert_cmpfloat (espcn_fq_relu_quantile (x, n, ps[k]), ==, sorted[(size_t) floor (ps[k] * (double) (n - 1))]);
  }
  g_assert_cmpfloat (espcn_fq_relu_quantile (NULL, 0, 0.5), ==, 0.0f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/quant/fakequant/round-is-round-half-up-bit-for-bit", test_fq_round_is_round_half_up_bit_for_bit);
  g_test_add_func ("/quant/fakequant/level-clamps-and-maps-nan-to-the-low-bound",
      test_fq_level_clamps_and_maps_nan_to_the_low_bound);
  g_test_add_func ("/quant/fakequant/uniform-blocks-match-the-scalar-level", test_fq_uniform_blocks_match_the_scalar_level);
  g_test_add_func ("/quant/fakequant/reductions", test_fq_reductions);
  g_test_add_func ("/quant/fakequant/relu-quantile-is-the-order-statistic", test_fq_relu_quantile_is_the_order_statistic);
  return g_test_run ();
}
