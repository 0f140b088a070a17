/* Requantization: (M, shift) selection and the integer requantize step. */
#include "engine/requant.h"
#include "util/rng.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

static void
check_real (double real, gint32 want_m, int want_sh)
{
  g_autoptr (GError) error = NULL;
  gint32 m = 0;
  int sh = 0;
  g_assert_true (espcn_requant_from_real (real, &m, &sh, &error));
  g_assert_no_error (error);
  g_assert_cmpint (m, ==, want_m);
  g_assert_cmpint (sh, ==, want_sh);
}

static void
test_from_real_hand_values (void)
{
  check_real (1.0, 1 << 30, 30);
  check_real (0.5, 1 << 30, 31);
  check_real (0.75, 1610612736, 31);               /* 0.75 * 2^31 */
  check_real (1.0 / 3.0, 1431655765, 32);          /* 2^32 / 3 = 1431655765.33 */
  check_real (ldexp (1.0, 29), 1 << 30, 1);        /* largest exponent allowed: shift 1 */
  check_real (ldexp (1.0, -32), 1 << 30, 62);      /* smallest: shift 62 */
  check_real (ldexp (3.0, -33), 1610612736, 62);
}

static void
test_from_real_rounds_mantissa_half_up (void)
{
  /* Mantissa exactly halfway between two 31-bit values: rounds up. */
  check_real (0.5 + ldexp (1.0, -32), (1 << 30) + 1, 31);
  /* Just below: rounds down. */
  check_real (0.5 + ldexp (1.0, -32) - ldexp (1.0, -45), 1 << 30, 31);
  /* A mantissa that rounds up to 1.0 renormalises to M = 2^30 with one shift less. */
  check_real (1.0 - ldexp (1.0, -40), 1 << 30, 30);
}

static void
test_from_real_rejects_out_of_range (void)
{
  const double bad[] = { 0.0, -1.0, -1e-9, NAN, INFINITY, -INFINITY, ldexp (1.0, 30), 1e12,
                         ldexp (1.0, -33), 1e-20, ldexp (1.0, 30) - ldexp (1.0, -30) };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    gint32 m = 7;
    int sh = 7;
    g_assert_false (espcn_requant_from_real (bad[i], &m, &sh, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_assert_nonnull (strstr (error->message, "multiplier"));
    g_assert_cmpint (m, ==, 7);  /* outputs untouched on failure */
    g_assert_cmpint (sh, ==, 7);
  }
}

static void
test_from_real_is_nearest (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 11);
  for (int i = 0; i < 20000; i++) {
    double real = ldexp (0.5 + 0.5 * (double) espcn_rng_next_u64 (&rng) / 18446744073709551616.0,
        (int) espcn_rng_below (&rng, 60) - 31);
    gint32 m;
    int sh;
    g_assert_true (espcn_requant_from_real (real, &m, &sh, NULL));
    g_assert_cmpint (m, >=, 1 << 30);
    g_assert_cmpint (sh, >=, 1);
    g_assert_cmpint (sh, <=, 62);
    /* Within half a unit of the 31-bit mantissa. */
    double approx = espcn_requant_to_real (m, sh);
    g_assert_cmpfloat (fabs (approx - real), <=, ldexp (1.0, -sh - 1) * (1.0 + 1e-9));
  }
}

static void
test_requantize_hand_values (void)
{
  gint32 half = 1 << 30;  /* with shift 31: x 0.5 */
  g_assert_cmpint (espcn_requantize (100, half, 31, 255), ==, 50);
  g_assert_cmpint (espcn_requantize (101, half, 31, 255), ==, 51);  /* 50.5: tie rounds up */
  g_assert_cmpint (espcn_requantize (103, half, 31, 255), ==, 52);  /* 51.5 -> 52 */
  g_assert_cmpint (espcn_requantize (0, half, 31, 255), ==, 0);
  g_assert_cmpint (espcn_requantize (1, half, 31, 255), ==, 1);     /* 0.5 -> 1 */
  g_assert_cmpint (espcn_requantize (-1, half, 31, 255), ==, 0);    /* -0.5 -> 0 (half up) */
  g_assert_cmpint (espcn_requantize (-2, half, 31, 255), ==, 0);    /* -1 clamps to 0 */
  g_assert_cmpint (espcn_requantize (-1000000, half, 31, 255), ==, 0);
  g_assert_cmpint (espcn_requantize (300, half, 31, 127), ==, 127); /* 150 clamps */
  g_assert_cmpint (espcn_requantize (254, half, 31, 127), ==, 127);
  g_assert_cmpint (espcn_requantize (252, half, 31, 127), ==, 126);
  /* x 0.75: 10 * 0.75 = 7.5 -> 8; 9 * 0.75 = 6.75 -> 7 */
  g_assert_cmpint (espcn_requantize (10, 1610612736, 31, 255), ==, 8);
  g_assert_cmpint (espcn_requantize (9, 1610612736, 31, 255), ==, 7);
  /* shift 1 with M = 2^30: x 2^29 */
  g_assert_cmpint (espcn_requantize (1, 1 << 30, 1, 255), ==, 255);
}

static void
test_requantize_extremes_do_not_overflow (void)
{
  gint32 mmax = G_MAXINT32;
  g_assert_cmpint (espcn_requantize (G_MAXINT32, mmax, 1, 255), ==, 255);
  g_assert_cmpint (espcn_requantize (G_MININT32, mmax, 1, 255), ==, 0);
  g_assert_cmpint (espcn_requantize (G_MININT32, mmax, 62, 255), ==, 0);
  /* (2^31-1)^2 / 2^62 = 0.99999999953: rounds to 1. */
  g_assert_cmpint (espcn_requantize (G_MAXINT32, mmax, 62, 255), ==, 1);
  /* 2^31 * 2^30 / 2^62 = 0.5 exactly, negative: -0.5 -> 0; positive side 0.49999 -> 0 */
  g_assert_cmpint (espcn_requantize (G_MININT32, 1 << 30, 62, 255), ==, 0);
  g_assert_cmpint (espcn_requantize (G_MAXINT32, 1 << 30, 62, 255), ==, 0);
  g_assert_cmpint (espcn_requantize (G_MAXINT32, 1 << 30, 61, 255), ==, 1);  /* 0.99999 -> 1 */
}

/* The same value computed another way: exact 128-bit floor((2*acc*M + 2^sh) / 2^(sh+1)). */
static gint32
slow_requantize (gint32 acc, gint32 m, int sh, gint32 qmax)
{
  __int128 num = (__int128) 2 * acc * m + ((__int128) 1 << sh);
  __int128 den = (__int128) 1 << (sh + 1);
  __int128 q = num / den;
  if (num % den != 0 && num < 0)
    q -= 1;  /* C division truncates toward zero; we want floor */
  if (q < 0)
    return 0;
  return q > qmax ? qmax : (gint32) q;
}

static void
test_requantize_matches_exact_rounding (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 5);
  for (int i = 0; i < 200000; i++) {
    gint32 acc = (gint32) (guint32) espcn_rng_next_u64 (&rng);
    if (i % 2)
      acc >>= espcn_rng_below (&rng, 31);
    gint32 m = (gint32) ((1u << 30) + espcn_rng_below (&rng, 1u << 30));
    int sh = 1 + (int) espcn_rng_below (&rng, 62);
    gint32 qmax = (i % 3) ? 255 : 127;
    g_assert_cmpint (espcn_requantize (acc, m, sh, qmax), ==, slow_requantize (acc, m, sh, qmax));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/requant/from-real/hand-values", test_from_real_hand_values);
  g_test_add_func ("/engine/requant/from-real/rounds-mantissa-half-up", test_from_real_rounds_mantissa_half_up);
  g_test_add_func ("/engine/requant/from-real/rejects-out-of-range", test_from_real_rejects_out_of_range);
  g_test_add_func ("/engine/requant/from-real/is-nearest", test_from_real_is_nearest);
  g_test_add_func ("/engine/requant/requantize/hand-values", test_requantize_hand_values);
  g_test_add_func ("/engine/requant/requantize/extremes-do-not-overflow", test_requantize_extremes_do_not_overflow);
  g_test_add_func ("/engine/requant/requantize/matches-exact-rounding", test_requantize_matches_exact_rounding);
  return g_test_run ();
}
