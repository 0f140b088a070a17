/* A checker in the spirit of dav1d's checkasm: every kernel variant this CPU
 * supports against the `_c` reference kernel, and the whole runner (every
 * instruction set, several thread counts) against
 * espcn_engine_process_reference(), on random and extreme models and inputs.
 * Outputs must be identical to the byte. */
#include "checkasm-cases.h"
#include "test-models.h"
#include "test-util.h"
#include "engine/kernels.h"
#include "engine/requant.h"
#include "cpu/cpu.h"

#include <gio/gio.h>
#include <string.h>

/* The checker is only worth running where it checks something: every SIMD
 * variant built in and run by this CPU is named, and on AArch64 (the cross
 * build under qemu, tools/cross-test-aarch64.sh) NEON must be one of them. */
static void
test_simd_variants_checked_here (void)
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
#endif
  if (n == 0)
    g_test_skip ("no SIMD variant built in that this CPU runs");
}

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

/* A luma model's conv1 (one-byte pixels) and output stage. */
static void
test_kernels_match_c_on_one_channel_rows (void)
{
  int n = 0;
  for (int isa = ESPCN_KERNELS_C + 1; isa < ESPCN_KERNELS_N; isa++)
    if (espcn_kernels_isa_supported (isa))
      g_assert_true (checkasm_one_channel (isa, 0x1c4a, &n));
  g_test_message ("%d one-channel cases", n);
}

static void
test_shuffle_y_matches_c (void)
{
  int n = 0;
  for (int isa = ESPCN_KERNELS_C + 1; isa < ESPCN_KERNELS_N; isa++)
    if (espcn_kernels_isa_supported (isa))
      g_assert_true (checkasm_shuffle_y (isa, 0x5f1, &n));
  g_test_message ("%d shuffle_y cases", n);
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
static const EspcnPixelLayout y8_layout[] = { ESPCN_PIXEL_LAYOUT_Y8 };

/* Runner (every ISA, 1..3 threads) against the reference on one model; sizes
 * (w, h) pairs. */
static void
check_runner (EspcnRng *rng, EspcnInt8Model *m, const int (*sizes)[2], gsize n_sizes, const char *what)
{
  int s = espcn_int8_model_get_scale (m);
  gboolean luma = espcn_int8_model_get_channels (m) == 1;
  const EspcnPixelLayout *lays = luma ? y8_layout : layouts;
  gsize n_lays = luma ? G_N_ELEMENTS (y8_layout) : G_N_ELEMENTS (layouts);
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
        const EspcnPixelLayout *il = &lays[espcn_rng_below (rng, n_lays)];
        const EspcnPixelLayout *ol = &lays[espcn_rng_below (rng, n_lays)];
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

/* Luma models (conv1 5x5x1, conv3 s^2 outputs into a Y plane) on Y8 frames:
 * every width 1..40 and odd heights up to 9, each scale, int8 and int16. */
static void
test_runner_matches_reference_on_luma_models (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 0x1a4a);
  const int feats[] = { 64, 8, 16 };
  for (gsize fi = 0; fi < G_N_ELEMENTS (feats); fi++)
    for (int s = 2; s <= 4; s++)
      for (int wide = 0; wide < 2; wide++) {
        g_autoptr (TestLayers) t = test_layers_random_channels (&rng, feats[fi], s, wide, 1);
        g_autoptr (EspcnInt8Model) m = test_layers_build (t);
        g_assert_cmpint (espcn_int8_model_get_channels (m), ==, 1);
        /* F = 64 is slow on the C runner: a sample of widths; small F: all of them. */
        int sizes[40][2], n = 0;
        for (int w = 1; w <= 40; w++)
          if (feats[fi] != 64 || w % 7 == 1 || w == 40) {
            sizes[n][0] = w;
            sizes[n][1] = 1 + 2 * (int) espcn_rng_below (&rng, 5);
            n++;
          }
        g_autofree char *what = g_strdup_printf ("luma F=%d x%d %s", feats[fi], s, wide ? "int16" : "int8");
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

/* The selection rule itself, in this process: the fastest supported set the
 * allowed features cover, plain C when none is. */
static void
test_best_isa_for_allowed_features (void)
{
  const struct { EspcnKernelIsa kisa; guint flag; } sets[] = {
    { ESPCN_KERNELS_SSE41, ESPCN_CPU_SSE41 }, { ESPCN_KERNELS_AVX2, ESPCN_CPU_AVX2 },
    { ESPCN_KERNELS_NEON, ESPCN_CPU_NEON } };
  g_assert_cmpint (espcn_kernels_isa_best_for (0), ==, ESPCN_KERNELS_C);
  g_assert_cmpint (espcn_kernels_isa_best_for (ESPCN_CPU_ORC), ==, ESPCN_KERNELS_C);
  EspcnKernelIsa best = ESPCN_KERNELS_C;
  guint all = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (sets); i++) {
    all |= sets[i].flag;
    g_assert_cmpint (espcn_kernels_isa_best_for (sets[i].flag), ==,
        espcn_kernels_isa_supported (sets[i].kisa) ? sets[i].kisa : ESPCN_KERNELS_C);
    if (espcn_kernels_isa_supported (sets[i].kisa))
      best = sets[i].kisa;
  }
  g_assert_cmpint (espcn_kernels_isa_best_for (all), ==, best);
  g_assert_cmpint (espcn_kernels_isa_best_for (espcn_cpu_detected_flags ()), ==, best);
}

/* Child of test_isa_selection_follows_cpu_policy: the instruction set an
 * automatic runner picks under this process's ESPCN_CPU, or the error code. */
static int
report_isa (void)
{
  g_autoptr (TestLayers) t = test_layers_hand ();
  g_autoptr (EspcnInt8Model) m = test_layers_build (t);
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnRunner) r = espcn_runner_new (m, 1, &error);
  if (r == NULL)
    g_print ("error %d\n", error->code);
  else
    g_print ("%s\n", espcn_runner_get_isa_name (r));
  return 0;
}

static char *
isa_under (const char *cpu)
{
  return espcn_test_run_self_with_cpu (cpu, "--report-isa");
}

/* ESPCN_CPU (cpu/cpu.h) masks the instruction sets an automatic runner may
 * pick: each one alone where the CPU has it (plain C where not), none, all but
 * one, and a clear error for a malformed value.  The policy is read once per
 * process, so each case runs this binary again. */
static void
test_isa_selection_follows_cpu_policy (void)
{
  const struct { const char *name; EspcnKernelIsa kisa; } named[] = {
    { "sse41", ESPCN_KERNELS_SSE41 }, { "avx2", ESPCN_KERNELS_AVX2 }, { "neon", ESPCN_KERNELS_NEON } };
  const char *best = "c", *second = "c";
  for (gsize i = 0; i < G_N_ELEMENTS (named); i++)
    if (espcn_kernels_isa_supported (named[i].kisa)) {
      second = best;
      best = named[i].name;
    }
  char *got;
  g_assert_cmpstr ((got = isa_under (NULL)), ==, best);
  g_free (got);
  g_assert_cmpstr ((got = isa_under ("")), ==, best);
  g_free (got);
  g_assert_cmpstr ((got = isa_under ("none")), ==, "c");
  g_free (got);
  g_assert_cmpstr ((got = isa_under ("orc")), ==, "c");
  g_free (got);
  for (gsize i = 0; i < G_N_ELEMENTS (named); i++) {
    g_assert_cmpstr ((got = isa_under (named[i].name)), ==,
        espcn_kernels_isa_supported (named[i].kisa) ? named[i].name : "c");
    g_free (got);
  }
  /* All but the best: the next one down. */
  if (g_strcmp0 (best, "c") != 0) {
    g_autofree char *minus = g_strconcat ("-", best, NULL);
    g_assert_cmpstr ((got = isa_under (minus)), ==, second);
    g_free (got);
  }
  g_autofree char *bad = g_strdup_printf ("error %d", G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr ((got = isa_under ("mmx")), ==, bad);
  g_free (got);
  g_assert_cmpstr ((got = isa_under ("avx2,-orc")), ==, bad);
  g_free (got);
}

int
main (int argc, char **argv)
{
  if (argc == 2 && strcmp (argv[1], "--report-isa") == 0)
    return report_isa ();
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/checkasm/simd-variants-checked-here", test_simd_variants_checked_here);
  g_test_add_func ("/engine/checkasm/best-isa-for-allowed-features", test_best_isa_for_allowed_features);
  g_test_add_func ("/engine/checkasm/isa-selection-follows-cpu-policy", test_isa_selection_follows_cpu_policy);
  g_test_add_func ("/engine/checkasm/kernels-match-c-on-random-layers", test_kernels_match_c_on_random_layers);
  g_test_add_func ("/engine/checkasm/kernels-match-c-at-every-width", test_kernels_match_c_at_every_width);
  g_test_add_func ("/engine/checkasm/kernels-match-c-at-extremes", test_kernels_match_c_at_extremes);
  g_test_add_func ("/engine/checkasm/kernels-match-c-on-one-channel-rows", test_kernels_match_c_on_one_channel_rows);
  g_test_add_func ("/engine/checkasm/shuffle-y-matches-c", test_shuffle_y_matches_c);
  g_test_add_func ("/engine/checkasm/extreme-sums-are-exact", test_extreme_sums_are_exact);
  g_test_add_func ("/engine/checkasm/requant-clamps-results-beyond-32-bits",
      test_requant_clamps_results_beyond_32_bits);
  g_test_add_func ("/engine/checkasm/runner-matches-reference-on-random-models",
      test_runner_matches_reference_on_random_models);
  g_test_add_func ("/engine/checkasm/runner-matches-reference-on-luma-models",
      test_runner_matches_reference_on_luma_models);
  g_test_add_func ("/engine/checkasm/runner-matches-reference-at-extremes", test_runner_matches_reference_at_extremes);
  return g_test_run ();
}
