/* A checker in the spirit of dav1d's checkasm: every kernel variant this CPU
 * supports against the `_c` reference kernel, and the whole runner (every
 * instruction set, several thread counts) against
 * espcn_engine_process_reference(), on random and extreme models and inputs.
 * Outputs must be identical to the byte. */
#include "checkasm-cases.h"
#include "test-models.h"
#include "engine/kernels.h"
#include "engine/requant.h"

#include <gio/gio.h>
#include <string.h>

/* The shared kernel cases (checkasm-cases.h), every SIMD variant here. */
static void
test_kernels_match_c_on_random_layers (void)
{
  int n = 0;
  for (int isa = ESPCN_KERNELS_C + 1; isa < ESPCN_KERNELS_N; isa++)
    if (espcn_kernels_isa_supported (isa))
      g_assert_true (checkasm_random_layers (isa, 0xc4ec, 120, &n));
  g_test_message ("%d random layer cases", n);
}

static void
test_kernels_match_c_at_every_width (void)
{
  for (int isa = ESPCN_KERNELS_C + 1; isa < ESPCN_KERNELS_N; isa++)
    if (espcn_kernels_isa_supported (isa))
      g_assert_true (checkasm_every_width (isa, 0x1d7, NULL));
}

static void
test_kernels_match_c_at_extremes (void)
{
  for (int isa = ESPCN_KERNELS_C + 1; isa < ESPCN_KERNELS_N; isa++)
    if (espcn_kernels_isa_supported (isa))
      g_assert_true (checkasm_extremes (isa, 0xe77, NULL));
}

/* Every kernel, the C reference included. */
static void
test_extreme_sums_are_exact (void)
{
  for (int isa = 0; isa < ESPCN_KERNELS_N; isa++)
    if (espcn_kernels_isa_supported (isa))
      checkasm_assert_extreme_sums_exact (isa);
}

/* A requantized value of 2^32 or 2^33 (before the clamp) must clamp to qmax:
 * a kernel that narrows to 32 bits before clamping would see 0. */
static void
test_requant_clamps_results_beyond_32_bits (void)
{
  gint16 w[8 * 4] = { 0 };
  gint32 bias[8], mult[8], shift[8];
  for (int c = 0; c < 8; c++) {
    w[c * 4] = (gint16) (c % 3);  /* some channels also read the input */
    bias[c] = 1 << 20;
    mult[c] = 1 << 30;
    shift[c] = 18 - c % 2;        /* y = 2^32 or 2^33 (+ the input's share) */
  }
  EspcnInt8Layer l = { .out_c = 8, .in_c = 4, .k = 1, .weight_dtype = ESPCN_WEIGHT_I8, .weight = w,
    .bias = bias, .multiplier = mult, .shift = shift, .out_max = 127, .in_max = 127 };
  guint8 row[3 * 4] = { 0, 0, 0, 0, 64, 0, 0, 0, 127, 0, 0, 0 };
  const guint8 *rows[1] = { row };
  for (int wide = 0; wide < 2; wide++)
    for (int isa = 0; isa < ESPCN_KERNELS_N; isa++) {
      if (!espcn_kernels_isa_supported (isa))
        continue;
      EspcnConvPacked p;
      espcn_conv_pack (&p, &l, 4, NULL, wide);
      EspcnKernels kern;
      espcn_kernels_init (&kern, isa);
      guint8 out[3 * 8];
      kern.conv_row[p.kind](&p, rows, 3, out);
      for (int i = 0; i < 3 * 8; i++)
        g_assert_cmpint (out[i], ==, 127);
      espcn_conv_packed_clear (&p);
    }
}

static const EspcnPixelLayout layouts[] = {
  { 3, 0, 1, 2 }, { 3, 2, 1, 0 }, { 4, 0, 1, 2 }, { 4, 2, 1, 0 }, { 4, 1, 2, 3 }, { 4, 3, 2, 1 },
  { 5, 4, 0, 2 }, { 3, 1, 2, 0 },
};

/* Runner (every ISA, 1..3 threads) against the reference on one model; sizes
 * (w, h) pairs. */
static void
check_runner (EspcnRng *rng, EspcnInt8Model *m, const int (*sizes)[2], gsize n_sizes, const char *what)
{
  int s = espcn_int8_model_get_scale (m);
  const EspcnIsa isas[] = { ESPCN_ISA_C, ESPCN_ISA_SSE41, ESPCN_ISA_AVX2, ESPCN_ISA_NEON };
  const EspcnKernelIsa kisas[] = { ESPCN_KERNELS_C, ESPCN_KERNELS_SSE41, ESPCN_KERNELS_AVX2, ESPCN_KERNELS_NEON };
  for (gsize ii = 0; ii < G_N_ELEMENTS (isas); ii++) {
    if (!espcn_kernels_isa_supported (kisas[ii]))
      continue;
    for (int nt = 1; nt <= 3; nt += (isas[ii] == ESPCN_ISA_C ? 2 : 1)) {
      g_autoptr (GError) error = NULL;
      g_autoptr (EspcnRunner) r = espcn_runner_new_full (m, nt, isas[ii], &error);
      g_assert_no_error (error);
      for (gsize si = 0; si < n_sizes; si++) {
        int w = sizes[si][0], h = sizes[si][1];
        const EspcnPixelLayout *il = &layouts[espcn_rng_below (rng, G_N_ELEMENTS (layouts))];
        const EspcnPixelLayout *ol = &layouts[espcn_rng_below (rng, G_N_ELEMENTS (layouts))];
        gsize is = (gsize) w * il->bpp + espcn_rng_below (rng, 5), os = (gsize) w * s * ol->bpp + espcn_rng_below (rng, 7);
        g_autofree guint8 *in = g_malloc ((gsize) h * is);
        test_fill_random (rng, in, (gsize) h * is);
        gsize on = (gsize) h * s * os;
        g_autofree guint8 *ref = g_malloc (on);
        g_autofree guint8 *got = g_malloc (on);
        test_fill_random (rng, ref, on);
        memcpy (got, ref, on);  /* bytes the layout does not name must stay */
        g_assert_true (espcn_engine_process_reference (m, in, is, il, w, h, ref, os, ol, NULL));
        g_assert_true (espcn_runner_process (r, in, is, il, w, h, got, os, ol, &error));
        g_assert_no_error (error);
        if (memcmp (got, ref, on) != 0) {
          for (gsize i = 0; i < on; i++)
            if (got[i] != ref[i]) {
              g_test_message ("%s: isa %s, %d threads, %dx%d, layouts bpp %d -> %d: byte %" G_GSIZE_FORMAT
                  " (row %d) is %d, reference %d", what, espcn_runner_get_isa_name (r), nt, w, h, il->bpp,
                  ol->bpp, i, (int) (i / os), got[i], ref[i]);
              break;
            }
          g_test_fail ();
          return;
        }
      }
    }
  }
}

static void
test_runner_matches_reference_on_random_models (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 0x5eed);
  const int feats[] = { 64, 8, 16 };
  for (gsize fi = 0; fi < G_N_ELEMENTS (feats); fi++)
    for (int s = 2; s <= 4; s++)
      for (int wide = 0; wide < 2; wide++) {
        g_autoptr (TestLayers) t = test_layers_random (&rng, feats[fi], s, wide);
        g_autoptr (EspcnInt8Model) m = test_layers_build (t);
        /* Edge sizes: widths 1..70 (around the 4-pixel blocks), heights 1..9. */
        int sizes[6][2];
        int n = feats[fi] == 64 ? 3 : 6;
        for (int i = 0; i < n; i++) {
          sizes[i][0] = i == 0 ? 1 + (int) espcn_rng_below (&rng, 9) : 1 + (int) espcn_rng_below (&rng, 70);
          sizes[i][1] = 1 + (int) espcn_rng_below (&rng, 9);
        }
        g_autofree char *what = g_strdup_printf ("F=%d x%d %s", feats[fi], s, wide ? "int16" : "int8");
        check_runner (&rng, m, (const int (*)[2]) sizes, n, what);
      }
}

/* Whole-network extremes: all weights +127 / -127 (int8) or +-4095 (int16),
 * inputs all 255: conv1 saturates at the top, so conv2 and conv3 see all-127
 * (or all-255) activations, the worst case of every vpmaddubsw pair. */
static void
test_runner_matches_reference_at_extremes (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 0xbad);
  for (int wide = 0; wide < 2; wide++)
    for (int sign = -1; sign <= 1; sign += 2)
      for (int f = 8; f <= 64; f *= 8) {
        g_autoptr (TestLayers) t = test_layers_random (&rng, f, 4, wide);
        int wmax = wide ? ESPCN_INT8_WEIGHT_I16_MAX : 127;
        for (int i = 0; i < 3; i++) {
          EspcnInt8Layer *l = &t->l[i];
          gsize n = (gsize) l->out_c * l->in_c * l->k * l->k;
          /* conv1 always positive (its outputs pinned at the top); later layers `sign`. */
          for (gsize j = 0; j < n; j++)
            t->w[i][j] = (gint16) (i == 0 ? wmax : sign * wmax);
          for (int c = 0; c < l->out_c; c++) {
            /* Negative layers get a bias of half their largest sum, so zero padding
             * near the borders lifts outputs above 0 and the image is not flat. */
            gint32 in_max = i == 0 ? 255 : (wide ? 255 : 127);
            t->bias[i][c] = i > 0 && sign < 0 ? (gint32) ((gint64) in_max * wmax * l->in_c * l->k * l->k / 2) : 0;
            /* conv1 clamps at its top (so later layers see the largest activation);
             * later layers map the largest sum to 0.8 qmax, so outputs vary. */
            double full = (double) in_max * wmax * l->in_c * l->k * l->k;
            int sh;
            g_assert_true (espcn_requant_from_real (i == 0 ? 1.0 : 0.8 * l->out_max / full, &t->mult[i][c], &sh,
                NULL));
            t->shift[i][c] = sh;
          }
        }
        g_autoptr (EspcnInt8Model) m = test_layers_build (t);
        const int sizes[][2] = { { 9, 5 }, { 33, 4 } };
        /* Inputs: random and all-255 frames (check_runner draws random ones; an
         * all-255 frame is checked here). */
        check_runner (&rng, m, sizes, G_N_ELEMENTS (sizes), "extreme");
        int w = 17, h = 6, s = 4;
        g_autofree guint8 *in = g_malloc ((gsize) w * h * 3);
        memset (in, 255, (gsize) w * h * 3);
        g_autofree guint8 *ref = g_malloc ((gsize) w * h * s * s * 3);
        g_autofree guint8 *got = g_malloc ((gsize) w * h * s * s * 3);
        g_assert_true (espcn_engine_process_reference (m, in, w * 3, &ESPCN_PIXEL_LAYOUT_RGB, w, h, ref,
            (gsize) w * s * 3, &ESPCN_PIXEL_LAYOUT_RGB, NULL));
        g_autoptr (EspcnRunner) r = espcn_runner_new (m, 2, NULL);
        g_assert_true (espcn_runner_process (r, in, w * 3, &ESPCN_PIXEL_LAYOUT_RGB, w, h, got, (gsize) w * s * 3,
            &ESPCN_PIXEL_LAYOUT_RGB, NULL));
        g_assert_cmpmem (got, (gsize) w * h * s * s * 3, ref, (gsize) w * h * s * s * 3);
        /* The case is not trivial: the output is not one flat value. */
        gboolean varied = FALSE;
        for (gsize i = 1; i < (gsize) w * h * s * s * 3; i++)
          varied = varied || ref[i] != ref[0];
        g_assert_true (varied);
      }
}

static void
test_isa_selection_by_environment (void)
{
  g_autoptr (TestLayers) t = test_layers_hand ();
  g_autoptr (EspcnInt8Model) m = test_layers_build (t);
  g_autoptr (GError) error = NULL;

  g_setenv ("ESPCN_ISA", "c", TRUE);
  EspcnRunner *r = espcn_runner_new (m, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (espcn_runner_get_isa_name (r), ==, "c");
  espcn_runner_free (r);

  /* Each SIMD set by name where the CPU has it, a clear error where not. */
  const struct { const char *name; EspcnKernelIsa kisa; } named[] = {
    { "sse41", ESPCN_KERNELS_SSE41 }, { "avx2", ESPCN_KERNELS_AVX2 }, { "neon", ESPCN_KERNELS_NEON } };
  for (gsize i = 0; i < G_N_ELEMENTS (named); i++) {
    g_setenv ("ESPCN_ISA", named[i].name, TRUE);
    r = espcn_runner_new (m, 1, &error);
    if (espcn_kernels_isa_supported (named[i].kisa)) {
      g_assert_no_error (error);
      g_assert_cmpstr (espcn_runner_get_isa_name (r), ==, named[i].name);
      espcn_runner_free (r);
    } else {
      g_assert_null (r);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
      g_clear_error (&error);
    }
  }

  g_setenv ("ESPCN_ISA", "mmx", TRUE);
  g_assert_null (espcn_runner_new (m, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_unsetenv ("ESPCN_ISA");

  g_setenv ("ESPCN_FORCE_REFERENCE", "1", TRUE);
  r = espcn_runner_new (m, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (espcn_runner_get_isa_name (r), ==, "c");
  espcn_runner_free (r);
  g_unsetenv ("ESPCN_FORCE_REFERENCE");

  r = espcn_runner_new (m, 1, &error);
  g_assert_no_error (error);
  /* Automatic: the fastest set the CPU supports (the last supported one named above). */
  const char *best = "c";
  for (gsize i = 0; i < G_N_ELEMENTS (named); i++)
    if (espcn_kernels_isa_supported (named[i].kisa))
      best = named[i].name;
  g_assert_cmpstr (espcn_runner_get_isa_name (r), ==, best);
  espcn_runner_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_unsetenv ("ESPCN_ISA");
  g_unsetenv ("ESPCN_FORCE_REFERENCE");
  /* First, before any runner has started threads (setenv is not thread-safe). */
  g_test_add_func ("/engine/checkasm/isa-selection-by-environment", test_isa_selection_by_environment);
  g_test_add_func ("/engine/checkasm/kernels-match-c-on-random-layers", test_kernels_match_c_on_random_layers);
  g_test_add_func ("/engine/checkasm/kernels-match-c-at-every-width", test_kernels_match_c_at_every_width);
  g_test_add_func ("/engine/checkasm/kernels-match-c-at-extremes", test_kernels_match_c_at_extremes);
  g_test_add_func ("/engine/checkasm/extreme-sums-are-exact", test_extreme_sums_are_exact);
  g_test_add_func ("/engine/checkasm/requant-clamps-results-beyond-32-bits",
      test_requant_clamps_results_beyond_32_bits);
  g_test_add_func ("/engine/checkasm/runner-matches-reference-on-random-models",
      test_runner_matches_reference_on_random_models);
  g_test_add_func ("/engine/checkasm/runner-matches-reference-at-extremes", test_runner_matches_reference_at_extremes);
  return g_test_run ();
}
