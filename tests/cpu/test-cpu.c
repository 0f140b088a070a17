/* The CPU policy's mask (cpu/cpu.h): what ESPCN_CPU's values allow out of the
 * features a CPU has, and the errors for malformed values. */
#include "cpu/cpu.h"

#include <gio/gio.h>
#include <string.h>

#define ALL (ESPCN_CPU_SSE41 | ESPCN_CPU_AVX2 | ESPCN_CPU_FMA | ESPCN_CPU_ORC)

static guint
parse_ok (const char *spec, guint detected)
{
  g_autoptr (GError) error = NULL;
  guint flags = 0xdead;
  g_assert_true (espcn_cpu_parse_mask (spec, detected, &flags, &error));
  g_assert_no_error (error);
  return flags;
}

static void
test_unset_or_empty_allows_everything_detected (void)
{
  g_assert_cmphex (parse_ok (NULL, ALL), ==, ALL);
  g_assert_cmphex (parse_ok ("", ALL), ==, ALL);
  g_assert_cmphex (parse_ok ("", ESPCN_CPU_NEON), ==, ESPCN_CPU_NEON);
}

static void
test_none_allows_nothing (void)
{
  g_assert_cmphex (parse_ok ("none", ALL), ==, 0);
  g_assert_cmphex (parse_ok ("NONE", ALL), ==, 0);
}

static void
test_list_allows_only_named_features_the_cpu_has (void)
{
  g_assert_cmphex (parse_ok ("avx2,fma", ALL), ==, ESPCN_CPU_AVX2 | ESPCN_CPU_FMA);
  g_assert_cmphex (parse_ok ("sse41", ALL), ==, ESPCN_CPU_SSE41);
  g_assert_cmphex (parse_ok (" orc , AVX2 ", ALL), ==, ESPCN_CPU_ORC | ESPCN_CPU_AVX2);
  /* Naming a feature never adds it. */
  g_assert_cmphex (parse_ok ("neon,orc", ALL), ==, ESPCN_CPU_ORC);
  g_assert_cmphex (parse_ok ("avx2", ESPCN_CPU_SSE41 | ESPCN_CPU_ORC), ==, 0);
}

static void
test_minus_list_removes_named_features (void)
{
  g_assert_cmphex (parse_ok ("-orc", ALL), ==, ALL & ~ESPCN_CPU_ORC);
  g_assert_cmphex (parse_ok ("-avx2,-fma", ALL), ==, ESPCN_CPU_SSE41 | ESPCN_CPU_ORC);
  g_assert_cmphex (parse_ok ("-neon", ALL), ==, ALL);
}

static void
test_malformed_values_are_errors (void)
{
  const char *bad[] = { "mmx", "avx2,", ",", "avx2,-orc", "-", "avx512", "all" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    guint flags = 0;
    g_assert_false (espcn_cpu_parse_mask (bad[i], ALL, &flags, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    /* The message names the variable, so a user sees where it comes from. */
    g_assert_nonnull (strstr (error->message, "ESPCN_CPU"));
  }
}

static void
test_flags_are_a_subset_of_detected (void)
{
  g_assert_cmphex (espcn_cpu_flags () & ~espcn_cpu_detected_flags (), ==, 0);
  /* ORC is a software feature, always detected. */
  g_assert_true (espcn_cpu_detected_flags () & ESPCN_CPU_ORC);
  g_assert_cmpstr (espcn_cpu_flag_name (ESPCN_CPU_AVX2), ==, "avx2");
  g_assert_null (espcn_cpu_flag_name (0));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cpu/unset-or-empty-allows-everything-detected", test_unset_or_empty_allows_everything_detected);
  g_test_add_func ("/cpu/none-allows-nothing", test_none_allows_nothing);
  g_test_add_func ("/cpu/list-allows-only-named-features-the-cpu-has", test_list_allows_only_named_features_the_cpu_has);
  g_test_add_func ("/cpu/minus-list-removes-named-features", test_minus_list_removes_named_features);
  g_test_add_func ("/cpu/malformed-values-are-errors", test_malformed_values_are_errors);
  g_test_add_func ("/cpu/flags-are-a-subset-of-detected", test_flags_are_a_subset_of_detected);
  return g_test_run ();
}
