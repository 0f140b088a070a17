/* Standalone kernel checker for cross builds (tools/cross-test-aarch64.sh):
 * every SIMD kernel variant compiled in and supported here against the `_c`
 * reference kernel, with the cases of tests/engine/checkasm-cases.c (random
 * layers, every width, extremes, hand-checked sums).  It links only the
 * kernels, the packing, the RNG and GLib, so it needs no other arm64 library.
 *
 * tests/engine/test-checkasm.c runs the same cases (and checks the whole
 * runner) in the native build; this driver exists because the full library
 * cannot be cross-built without the arm64 builds of all its dependencies. */
#include "checkasm-cases.h"

static int n_variant_cases;

/* The checker is only worth running if it checks something: the build must
 * have put a SIMD variant in, and this machine must run it. */
static void
test_a_simd_variant_is_checked (void)
{
  int n = 0;
  for (int isa = ESPCN_KERNELS_C + 1; isa < ESPCN_KERNELS_N; isa++)
    if (espcn_kernels_isa_supported (isa)) {
      EspcnKernels k;
      espcn_kernels_init (&k, isa);
      g_test_message ("checking variant \"%s\"", k.name);
      n++;
    }
#ifdef ESPCN_HAVE_NEON
  g_assert_true (espcn_kernels_isa_supported (ESPCN_KERNELS_NEON));
  EspcnKernels k;
  espcn_kernels_init (&k, ESPCN_KERNELS_NEON);
  g_assert_cmpstr (k.name, ==, "neon");
#endif
  g_assert_cmpint (n, >, 0);
}

static void
test_kernels_match_c_on_random_layers (void)
{
  for (int isa = ESPCN_KERNELS_C + 1; isa < ESPCN_KERNELS_N; isa++)
    if (espcn_kernels_isa_supported (isa))
      g_assert_true (checkasm_random_layers (isa, 0xa64, 400, &n_variant_cases));
}

static void
test_kernels_match_c_at_every_width (void)
{
  for (int isa = ESPCN_KERNELS_C + 1; isa < ESPCN_KERNELS_N; isa++)
    if (espcn_kernels_isa_supported (isa))
      g_assert_true (checkasm_every_width (isa, 0x1d7, &n_variant_cases));
}

static void
test_kernels_match_c_at_extremes (void)
{
  for (int isa = ESPCN_KERNELS_C + 1; isa < ESPCN_KERNELS_N; isa++)
    if (espcn_kernels_isa_supported (isa))
      g_assert_true (checkasm_extremes (isa, 0xe77, &n_variant_cases));
}

/* Every kernel, the C reference included. */
static void
test_extreme_sums_are_exact (void)
{
  for (int isa = 0; isa < ESPCN_KERNELS_N; isa++)
    if (espcn_kernels_isa_supported (isa))
      checkasm_assert_extreme_sums_exact (isa);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cross/kernels/a-simd-variant-is-checked", test_a_simd_variant_is_checked);
  g_test_add_func ("/cross/kernels/match-c-on-random-layers", test_kernels_match_c_on_random_layers);
  g_test_add_func ("/cross/kernels/match-c-at-every-width", test_kernels_match_c_at_every_width);
  g_test_add_func ("/cross/kernels/match-c-at-extremes", test_kernels_match_c_at_extremes);
  g_test_add_func ("/cross/kernels/extreme-sums-are-exact", test_extreme_sums_are_exact);
  int ret = g_test_run ();
  g_print ("# %d variant cases compared byte for byte\n", n_variant_cases);
  return ret;
}
