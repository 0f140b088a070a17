/* core/nn's SIMD paths against their plain C references: the Winograd data
 * transforms and the small GEMM must give bit-identical floats (memcmp) at edge
 * sizes, and a whole training step must give identical gradients with the SIMD
 * switch on and off.  The AVX2 halves are skipped on a CPU without AVX2+FMA.
 *
 * Not under valgrind: its emulation of vfnmadd gives -0 for -(4 * 0) + 0 where the
 * CPU (and IEEE 754) give +0, so the Winograd comparisons fail on signed zeros there. */
#include "nn/gemm-private.h"
#include "nn/model.h"
#include "nn/winograd-private.h"
#include "nn-test-util.h"
#include "test-util.h"

#include <string.h>

#define GUARD 64 /* floats after every output buffer, which no path may touch */

static const guint32 SENTINEL = 0x7fc0dead; /* a NaN pattern no transform produces */

/* Random values over a wide range of magnitudes and signs, a few exact zeros of both
 * signs, so the rounding of every operation is exercised. */
static void
fill_wide (EspcnRng *rng, float *v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    guint32 r = espcn_rng_below (rng, 64);
    if (r == 0)
      v[i] = 0.0f;
    else if (r == 1)
      v[i] = -0.0f;
    else
      v[i] = ldexpf (espcn_rng_uniform_range (rng, -1.0f, 1.0f), (int) espcn_rng_below (rng, 25) - 12);
  }
}

static float *
new_sentinel (size_t n)
{
  float *p = g_new (float, n + GUARD);
  for (size_t i = 0; i < n + GUARD; i++)
    memcpy (p + i, &SENTINEL, sizeof (float));
  return p;
}

static gboolean
guard_intact (const float *p, size_t n)
{
  for (size_t i = n; i < n + GUARD; i++)
    if (memcmp (p + i, &SENTINEL, sizeof (float)) != 0)
      return FALSE;
  return TRUE;
}

static guint32
bits (float f)
{
  guint32 u;
  memcpy (&u, &f, sizeof (u));
  return u;
}

/* Index of the first differing float, or -1. */
static gssize
first_diff (const float *a, const float *b, size_t n)
{
  if (memcmp (a, b, n * sizeof (float)) == 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (memcmp (a + i, b + i, sizeof (float)) != 0)
      return (gssize) i;
  return -1;
}

static gboolean
need_avx2 (void)
{
  if (espcn_nn_cpu_has_avx2_fma ())
    return TRUE;
  g_test_skip ("CPU lacks AVX2+FMA: no SIMD path to compare");
  return FALSE;
}

/* Sizes: every h, w in 1..13 (tile counts 1..4, all four remainders) plus widths that
 * give 8+ tiles per row (full vectors, tails, the spill-over stores). */
static const int wide_w[] = { 29, 31, 32, 33, 37, 61, 64, 65, 97, 131 };
static const int wide_h[] = { 1, 3, 6, 13 };
static const int chans[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 64 };

typedef enum { T_INPUT, T_OUTPUT, T_OUTPUT_BIAS, T_ADJOINT } Transform;

static const char *
transform_name (Transform t)
{
  switch (t) {
  case T_INPUT:
    return "input";
  case T_OUTPUT:
    return "output";
  case T_OUTPUT_BIAS:
    return "output+bias";
  case T_ADJOINT:
    return "output_adjoint";
  }
  return "?";
}

/* Runs transform t with the C reference and with AVX2 on the same random input;
 * returns FALSE (with a message) at the first difference. */
static gboolean
compare_transform (EspcnRng *rng, Transform t, int c, int h, int w)
{
  size_t tiles = (size_t) ESPCN_WINO_XI * c * espcn_wino_tiles (h, w), plane = (size_t) c * h * w;
  size_t nin = t == T_INPUT || t == T_ADJOINT ? plane : tiles;
  size_t nout = t == T_INPUT || t == T_ADJOINT ? tiles : plane;
  g_autofree float *in = g_new (float, nin);
  g_autofree float *bias = g_new (float, c);
  g_autofree float *ref = new_sentinel (nout);
  g_autofree float *simd = new_sentinel (nout);
  fill_wide (rng, in, nin);
  fill_wide (rng, bias, c);
  switch (t) {
  case T_INPUT:
    espcn_wino_input_c (in, c, h, w, ref);
    espcn_wino_input_avx2 (in, c, h, w, simd);
    break;
  case T_OUTPUT:
  case T_OUTPUT_BIAS:
    espcn_wino_output_c (in, c, h, w, t == T_OUTPUT_BIAS ? bias : NULL, ref);
    espcn_wino_output_avx2 (in, c, h, w, t == T_OUTPUT_BIAS ? bias : NULL, simd);
    break;
  case T_ADJOINT:
    espcn_wino_output_adjoint_c (in, c, h, w, ref);
    espcn_wino_output_adjoint_avx2 (in, c, h, w, simd);
    break;
  }
  gssize d = first_diff (ref, simd, nout);
  if (d >= 0) {
    g_test_message ("%s c=%d h=%d w=%d: element %" G_GSSIZE_FORMAT " C %.9g (0x%08x) AVX2 %.9g (0x%08x)",
                    transform_name (t), c, h, w, d, ref[d], bits (ref[d]), simd[d], bits (simd[d]));
    return FALSE;
  }
  for (size_t i = 0; i < nout; i++)
    if (memcmp (ref + i, &SENTINEL, sizeof (float)) == 0) {
      g_test_message ("%s c=%d h=%d w=%d: element %zu never written", transform_name (t), c, h, w, i);
      return FALSE;
    }
  if (!guard_intact (ref, nout) || !guard_intact (simd, nout)) {
    g_test_message ("%s c=%d h=%d w=%d: wrote past the end", transform_name (t), c, h, w);
    return FALSE;
  }
  return TRUE;
}

static void
check_transform (Transform t, guint64 seed)
{
  if (!need_avx2 ())
    return;
  EspcnRng rng;
  espcn_rng_seed (&rng, seed);
  int cases = 0;
  for (size_t ci = 0; ci < G_N_ELEMENTS (chans); ci++) {
    for (int h = 1; h <= 13; h++)
      for (int w = 1; w <= 13; w++, cases++)
        g_assert_true (compare_transform (&rng, t, chans[ci], h, w));
    for (size_t hi = 0; hi < G_N_ELEMENTS (wide_h); hi++)
      for (size_t wi = 0; wi < G_N_ELEMENTS (wide_w); wi++, cases++)
        g_assert_true (compare_transform (&rng, t, chans[ci], wide_h[hi], wide_w[wi]));
  }
  g_test_message ("%s: %d shapes bit-identical", transform_name (t), cases);
}

static void
test_wino_input_c_equals_avx2 (void)
{
  check_transform (T_INPUT, 11);
}

static void
test_wino_output_c_equals_avx2 (void)
{
  check_transform (T_OUTPUT, 12);
}

static void
test_wino_output_bias_c_equals_avx2 (void)
{
  check_transform (T_OUTPUT_BIAS, 13);
}

static void
test_wino_output_adjoint_c_equals_avx2 (void)
{
  check_transform (T_ADJOINT, 14);
}

/* C = A B at (m, n, k) with leading dimensions padded by `pad`; the padding of C
 * between rows must survive too. */
static gboolean
compare_gemm (EspcnRng *rng, int m, int n, int k, int pad)
{
  int lda = k + pad, ldb = n + pad, ldc = n + pad;
  size_t na = (size_t) m * lda, nb = (size_t) k * ldb, nc = (size_t) m * ldc;
  g_autofree float *a = g_new (float, na);
  g_autofree float *b = g_new (float, nb);
  g_autofree float *ref = new_sentinel (nc);
  g_autofree float *simd = new_sentinel (nc);
  fill_wide (rng, a, na);
  fill_wide (rng, b, nb);
  espcn_gemm_small_nn_c (m, n, k, a, lda, b, ldb, ref, ldc);
  espcn_gemm_small_nn_avx2 (m, n, k, a, lda, b, ldb, simd, ldc);
  gssize d = first_diff (ref, simd, nc);
  if (d >= 0) {
    g_test_message ("gemm m=%d n=%d k=%d pad=%d: element %" G_GSSIZE_FORMAT " C %.9g AVX2 %.9g", m, n, k, pad, d,
                    ref[d], simd[d]);
    return FALSE;
  }
  for (int i = 0; i < m; i++)
    for (int j = 0; j < ldc; j++) {
      gboolean sentinel = memcmp (ref + (size_t) i * ldc + j, &SENTINEL, sizeof (float)) == 0;
      if (sentinel != (j >= n)) {
        g_test_message ("gemm m=%d n=%d k=%d pad=%d: C[%d][%d] %s", m, n, k, pad, i, j,
                        sentinel ? "never written" : "written outside the matrix");
        return FALSE;
      }
    }
  if (!guard_intact (ref, nc) || !guard_intact (simd, nc)) {
    g_test_message ("gemm m=%d n=%d k=%d pad=%d: wrote past the end", m, n, k, pad);
    return FALSE;
  }
  return TRUE;
}

static void
test_gemm_c_equals_avx2 (void)
{
  if (!need_avx2 ())
    return;
  /* 4-row and 24/8-column blocks of the AVX2 kernel, one below, at and above each. */
  static const int ms[] = { 1, 3, 4, 5, 7, 8, 9, 17, 33 };
  static const int ns[] = { 1, 7, 8, 9, 17, 23, 24, 25, 33, 48, 49, 71 };
  static const int ks[] = { 1, 7, 8, 9, 17, 33, 64 };
  static const int pads[] = { 0, 3, 16 };
  EspcnRng rng;
  espcn_rng_seed (&rng, 21);
  int cases = 0;
  for (size_t mi = 0; mi < G_N_ELEMENTS (ms); mi++)
    for (size_t ni = 0; ni < G_N_ELEMENTS (ns); ni++)
      for (size_t ki = 0; ki < G_N_ELEMENTS (ks); ki++)
        for (size_t pi = 0; pi < G_N_ELEMENTS (pads); pi++, cases++)
          g_assert_true (compare_gemm (&rng, ms[mi], ns[ni], ks[ki], pads[pi]));
  /* The shapes training uses: 32 x 576 x 64 (a Winograd product of conv2). */
  g_assert_true (compare_gemm (&rng, 32, 576, 64, 0));
  g_assert_true (compare_gemm (&rng, 64, 576, 32, 0));
  g_test_message ("gemm: %d shapes bit-identical", cases + 2);
}

/* The switch itself: off routes the public entry points to the C references, on (with
 * AVX2+FMA) to the SIMD code; the answer of set_enabled matches the CPU. */
static void
test_switch_routes_calls (void)
{
  gboolean had = espcn_nn_simd_enabled ();
  g_assert_false (espcn_nn_simd_set_enabled (FALSE));
  g_assert_false (espcn_nn_simd_enabled ());
  g_assert_cmpint (espcn_nn_simd_set_enabled (TRUE), ==, espcn_nn_cpu_has_avx2_fma ());
  g_assert_cmpint (espcn_nn_simd_enabled (), ==, espcn_nn_cpu_has_avx2_fma ());

  /* Routing is visible only through results, and those are identical by design; so
   * check that off gives exactly the C reference and on exactly the AVX2 code. */
  EspcnRng rng;
  espcn_rng_seed (&rng, 31);
  int c = 3, h = 9, w = 10;
  size_t plane = (size_t) c * h * w, tiles = (size_t) ESPCN_WINO_XI * c * espcn_wino_tiles (h, w);
  g_autofree float *x = g_new (float, plane);
  g_autofree float *want = g_new (float, tiles);
  g_autofree float *got = g_new (float, tiles);
  fill_wide (&rng, x, plane);
  espcn_nn_simd_set_enabled (FALSE);
  espcn_wino_input_c (x, c, h, w, want);
  espcn_wino_input (x, c, h, w, got);
  g_assert_cmpmem (want, tiles * sizeof (float), got, tiles * sizeof (float));
  if (espcn_nn_simd_set_enabled (TRUE)) {
    espcn_wino_input_avx2 (x, c, h, w, want);
    espcn_wino_input (x, c, h, w, got);
    g_assert_cmpmem (want, tiles * sizeof (float), got, tiles * sizeof (float));
  }
  espcn_nn_simd_set_enabled (had);
}

/* The CPU policy (cpu/cpu.h) decides at the first call: ESPCN_CPU masking avx2 or
 * fma selects the C paths; empty, unset or a mask keeping both leave SIMD on; a
 * malformed value masks everything.  Each case runs this binary again (see main) with
 * that environment, so the switch is still undecided there; no setenv() in this
 * process, which OpenBLAS has already made multi-threaded. */
static void
test_env_var_decides_first_use (void)
{
  static const struct {
    const char *value; /* NULL: unset */
    gboolean simd;
  } cases[] = { { "none", FALSE }, { "-avx2", FALSE }, { "-fma", FALSE }, { "avx2", FALSE }, { "avx2,fma", TRUE },
                 { "-orc", TRUE }, { "", TRUE }, { NULL, TRUE }, { "avx9", FALSE } };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *out = espcn_test_run_self_with_cpu (cases[i].value, "--report-simd-switch");
    g_assert_cmpstr (out, ==, cases[i].simd && espcn_nn_cpu_has_avx2_fma () ? "simd" : "c");
  }
}

typedef struct {
  float loss;
  float *grad[ESPCN_FLOAT_MODEL_N_PARAMS];
  size_t n[ESPCN_FLOAT_MODEL_N_PARAMS];
} StepResult;

static void
step_result_clear (StepResult *r)
{
  for (int i = 0; i < ESPCN_FLOAT_MODEL_N_PARAMS; i++)
    g_free (r->grad[i]);
}

/* One forward + backward pass of a fresh model (same seed, same batch every call). */
static void
train_step (gboolean simd, int scale, int features, int n, int lr_h, int lr_w, StepResult *out)
{
  espcn_nn_simd_set_enabled (simd);
  EspcnFloatModelConfig cfg = { scale, features, 3 };
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnFloatModel) model = espcn_float_model_new (&cfg, 7, &error);
  g_assert_no_error (error);
  EspcnRng rng;
  espcn_rng_seed (&rng, 77);
  size_t nlr = (size_t) n * 3 * lr_h * lr_w, nhr = nlr * scale * scale;
  g_autofree float *lr = g_new (float, nlr);
  g_autofree float *hr = g_new (float, nhr);
  fill_uniform (&rng, lr, nlr, 0.0f, 1.0f);
  fill_uniform (&rng, hr, nhr, 0.0f, 1.0f);
  out->loss = espcn_float_model_train_step_grads (model, lr, hr, n, lr_h, lr_w, ESPCN_LOSS_L1);
  EspcnParamRef refs[ESPCN_FLOAT_MODEL_N_PARAMS];
  guint np = espcn_float_model_params (model, refs);
  g_assert_cmpuint (np, ==, ESPCN_FLOAT_MODEL_N_PARAMS);
  for (guint i = 0; i < np; i++) {
    out->n[i] = refs[i].n;
    out->grad[i] = g_memdup2 (refs[i].grad, refs[i].n * sizeof (float));
  }
}

/* Training step with SIMD on and off: identical loss and gradients, bit for bit
 * (OpenBLAS computes dW in both runs and is deterministic single-threaded). */
static void
test_train_step_simd_on_equals_off (void)
{
  if (!need_avx2 ())
    return;
  gboolean had = espcn_nn_simd_enabled ();
  /* 13 x 10: neither a multiple of 4; F = 12 gives conv2 6 channels. */
  StepResult on = { 0 }, off = { 0 };
  train_step (TRUE, 3, 12, 2, 13, 10, &on);
  train_step (FALSE, 3, 12, 2, 13, 10, &off);
  espcn_nn_simd_set_enabled (had);
  g_assert_true (isfinite (on.loss) && on.loss > 0.0f);
  g_assert_cmpmem (&on.loss, sizeof (float), &off.loss, sizeof (float));
  for (int i = 0; i < ESPCN_FLOAT_MODEL_N_PARAMS; i++) {
    g_assert_cmpuint (on.n[i], ==, off.n[i]);
    double norm = dot_d (on.grad[i], on.grad[i], on.n[i]);
    g_assert_cmpfloat (norm, >, 0.0); /* a zero gradient would compare equal trivially */
    g_assert_cmpmem (on.grad[i], on.n[i] * sizeof (float), off.grad[i], off.n[i] * sizeof (float));
  }
  step_result_clear (&on);
  step_result_clear (&off);
}

int
main (int argc, char **argv)
{
  /* The child of test_env_var_decides_first_use: which paths the first call picks. */
  if (argc == 2 && strcmp (argv[1], "--report-simd-switch") == 0) {
    g_print ("%s\n", espcn_nn_simd_enabled () ? "simd" : "c");
    return 0;
  }
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/simd-ref/env-var-decides-first-use", test_env_var_decides_first_use);
  g_test_add_func ("/nn/simd-ref/wino-input-c-equals-avx2", test_wino_input_c_equals_avx2);
  g_test_add_func ("/nn/simd-ref/wino-output-c-equals-avx2", test_wino_output_c_equals_avx2);
  g_test_add_func ("/nn/simd-ref/wino-output-bias-c-equals-avx2", test_wino_output_bias_c_equals_avx2);
  g_test_add_func ("/nn/simd-ref/wino-output-adjoint-c-equals-avx2", test_wino_output_adjoint_c_equals_avx2);
  g_test_add_func ("/nn/simd-ref/gemm-c-equals-avx2", test_gemm_c_equals_avx2);
  g_test_add_func ("/nn/simd-ref/switch-routes-calls", test_switch_routes_calls);
  g_test_add_func ("/nn/simd-ref/train-step-simd-on-equals-off", test_train_step_simd_on_equals_off);
  return g_test_run ();
}
