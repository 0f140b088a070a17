/* A checker in the spirit of dav1d's checkasm: every kernel variant this CPU
 * supports against the `_c` reference kernel, and the whole runner (every
 * instruction set, several thread counts) against
 * espcn_engine_process_reference(), on random and extreme models and inputs.
 * Outputs must be identical to the byte. */
#include "test-models.h"
#include "engine/kernels.h"
#include "engine/requant.h"

#include <gio/gio.h>
#include <string.h>

#define GUARD 64
#define CANARY 0xa5

typedef struct {
  EspcnInt8Layer l;
  gint16 *w;
  gint32 *bias, *mult, *shift;
} RandLayer;

static void
rand_layer_free (RandLayer *r)
{
  g_free (r->w);
  g_free (r->bias);
  g_free (r->mult);
  g_free (r->shift);
}

typedef enum { VAL_RANDOM, VAL_MAX, VAL_MIN, VAL_ALTERNATE } ValMode;

/* A layer with weights in [-wmax, wmax] (or at the extremes) and requantization
 * that spreads outputs over [0, qmax]; `wild` picks any multiplier and shift. */
static void
rand_layer (EspcnRng *rng, RandLayer *r, int out_c, int in_c, int k, int wmax, int in_max, gint32 qmax,
            ValMode mode, gboolean wild, gboolean ties)
{
  memset (r, 0, sizeof *r);
  gsize per = (gsize) in_c * k * k;
  r->w = g_new (gint16, per * out_c);
  r->bias = g_new (gint32, out_c);
  r->mult = g_new (gint32, out_c);
  r->shift = g_new (gint32, out_c);
  for (int c = 0; c < out_c; c++) {
    gint64 sum = 0, spread = 0;
    for (gsize j = 0; j < per; j++) {
      int v;
      switch (mode) {
        case VAL_MAX: v = wmax; break;
        case VAL_MIN: v = -wmax; break;
        case VAL_ALTERNATE: v = (j % 2) ? -wmax : wmax; break;
        default: v = (int) espcn_rng_below (rng, 2 * wmax + 1) - wmax; break;
      }
      r->w[c * per + j] = (gint16) v;
      sum += v;
      spread += ABS (v);
    }
    if (wild) {
      /* Any bias the loader allows, any multiplier and shift. */
      r->bias[c] = (gint32) espcn_rng_below (rng, 1u << 31) - (1 << 30);
      gint64 room = (G_GINT64_CONSTANT (1) << 31) - 1 - spread * in_max;
      if (ABS ((gint64) r->bias[c]) > room)
        r->bias[c] = (gint32) (r->bias[c] < 0 ? -room : room);
      r->mult[c] = (gint32) ((1u << 30) + espcn_rng_below (rng, 1u << 30));
      r->shift[c] = 1 + (int) espcn_rng_below (rng, 62);
    } else {
      r->bias[c] = (gint32) (-sum * in_max / 3 + (gint64) espcn_rng_below (rng, 1 + spread * in_max / 8));
      double real = qmax / (spread * in_max / 6.0 + 1.0) * (0.5 + espcn_rng_uniform (rng));
      int sh;
      g_assert_true (espcn_requant_from_real (real, &r->mult[c], &sh, NULL));
      r->shift[c] = sh;
      /* A power-of-two multiplier makes rounding ties (acc * M exactly half a
       * step) common, so a kernel that rounds ties the wrong way is caught. */
      if (ties)
        r->mult[c] = 1 << 30;
    }
  }
  EspcnInt8Layer *l = &r->l;
  l->out_c = out_c;
  l->in_c = in_c;
  l->k = k;
  l->weight_dtype = wmax <= 127 ? ESPCN_WEIGHT_I8 : ESPCN_WEIGHT_I16;
  l->weight = r->w;
  l->bias = r->bias;
  l->multiplier = r->mult;
  l->shift = r->shift;
  l->out_max = qmax;
  l->in_max = in_max;
}

/* k input rows of (width + k - 1) pixels of cs bytes; channels >= in_c are 0
 * (as the runner stores them), padding pixels 0. */
static guint8 *
rand_rows (EspcnRng *rng, int k, int width, int cs, int in_c, int in_max, ValMode mode, const guint8 **rows)
{
  gsize row = (gsize) (width + k - 1) * cs;
  guint8 *buf = g_malloc0 (row * k);
  int p = k / 2;
  for (int ky = 0; ky < k; ky++) {
    rows[ky] = buf + ky * row;
    for (int x = p; x < width + p; x++)
      for (int c = 0; c < in_c; c++)
        buf[ky * row + (gsize) x * cs + c] =
            (guint8) (mode == VAL_MAX ? in_max : mode == VAL_MIN ? 0 : (int) espcn_rng_below (rng, in_max + 1));
  }
  return buf;
}

/* Runs `isa`'s kernel and the reference on one case; returns FALSE on any
 * difference (or a write outside the row). */
static gboolean
check_kernel_case (EspcnKernelIsa isa, const EspcnInt8Layer *l, int in_cs, const guint8 *const *rows, int width,
                   gboolean force_wide, EspcnConvKind want_kind)
{
  EspcnConvPacked p;
  espcn_conv_pack (&p, l, in_cs, NULL, force_wide);
  g_assert_cmpint (p.kind, ==, want_kind);
  EspcnKernels ref, var;
  espcn_kernels_init (&ref, ESPCN_KERNELS_C);
  espcn_kernels_init (&var, isa);
  gsize n = (gsize) width * p.out_cs;
  g_autofree guint8 *a = g_malloc (n + GUARD);
  g_autofree guint8 *b = g_malloc (n + GUARD);
  memset (a, CANARY, n + GUARD);
  memset (b, CANARY, n + GUARD);
  ref.conv_row[p.kind](&p, rows, width, a);
  var.conv_row[p.kind](&p, rows, width, b);
  gboolean same = memcmp (a, b, n + GUARD) == 0;
  for (gsize i = n; i < n + GUARD; i++)
    same = same && b[i] == CANARY;
  if (!same)
    for (gsize i = 0; i < n; i++)
      if (a[i] != b[i]) {
        g_test_message ("%s kind %d k %d in_c %d out_c %d width %d: byte %" G_GSIZE_FORMAT
            " (x %d, oc %d) is %d, reference %d", var.name, p.kind, l->k, l->in_c, l->out_c, width, i,
            (int) (i / p.out_cs), (int) (i % p.out_cs), b[i], a[i]);
        break;
      }
  espcn_conv_packed_clear (&p);
  return same;
}

static void
test_kernels_match_c_on_random_layers (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 0xc4ec);
  const int in_cs_of[][2] = { { 3, 4 }, { 4, 4 }, { 5, 8 }, { 8, 8 }, { 16, 16 }, { 32, 32 }, { 64, 64 }, { 6, 8 } };
  const int out_cs[] = { 1, 3, 8, 12, 16, 27, 32, 48, 64, 5 };
  int checked = 0;
  for (int isa = ESPCN_KERNELS_C + 1; isa < ESPCN_KERNELS_N; isa++) {
    if (!espcn_kernels_isa_supported (isa)) {
      g_test_message ("isa %d not supported here: skipped", isa);
      continue;
    }
    for (int rep = 0; rep < 120; rep++) {
      int k = rep % 4 == 0 ? 5 : 3;
      const int *ic = in_cs_of[espcn_rng_below (&rng, G_N_ELEMENTS (in_cs_of))];
      int oc = out_cs[espcn_rng_below (&rng, G_N_ELEMENTS (out_cs))];
      int width = 1 + (int) espcn_rng_below (&rng, 70);
      gboolean wide = rep % 2;
      gboolean wild = rep % 3 == 0;
      int in_max = wide ? 255 : 127;
      int wmax = wide ? (rep % 4 == 1 ? 4095 : 600) : 127;
      RandLayer r;
      rand_layer (&rng, &r, oc, ic[0], k, wmax, in_max, rep % 5 ? 127 : 255, VAL_RANDOM, wild,
          rep % 3 == 1);
      const guint8 *rows[5];
      g_autofree guint8 *buf = rand_rows (&rng, k, width, ic[1], ic[0], in_max, VAL_RANDOM, rows);
      g_assert_true (check_kernel_case (isa, &r.l, ic[1], rows, width, FALSE,
          wide ? ESPCN_CONV_WIDE : ESPCN_CONV_U7S8));
      /* The widening kernel also serves int8 layers (conv1 reads 255-level pixels). */
      if (!wide)
        g_assert_true (check_kernel_case (isa, &r.l, ic[1], rows, width, TRUE, ESPCN_CONV_WIDE));
      rand_layer_free (&r);
      checked++;
    }
    g_test_message ("isa %d checked", isa);
  }
  g_test_message ("%d random layer cases", checked);
}

/* Extreme weights and inputs: every vpmaddubsw pair at +-2*127*127, the widening
 * path at +-4095 x 255, accumulators near the int32 bound.  No intermediate may
 * saturate or overflow differently from the reference. */
static void
test_kernels_match_c_at_extremes (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 0xe77);
  const ValMode wmodes[] = { VAL_MAX, VAL_MIN, VAL_ALTERNATE };
  for (int isa = ESPCN_KERNELS_C + 1; isa < ESPCN_KERNELS_N; isa++) {
    if (!espcn_kernels_isa_supported (isa))
      continue;
    for (gsize wm = 0; wm < G_N_ELEMENTS (wmodes); wm++)
      for (int wide = 0; wide < 2; wide++)
        for (int wild = 0; wild < 2; wild++) {
          int in_c = 64, k = 3, width = 37;
          int in_max = wide ? 255 : 127, wmax = wide ? 4095 : 127;
          RandLayer r;
          rand_layer (&rng, &r, 32, in_c, k, wmax, in_max, 127, wmodes[wm], wild, FALSE);
          const guint8 *rows[3];
          g_autofree guint8 *buf = rand_rows (&rng, k, width, in_c, in_c, in_max, VAL_MAX, rows);
          g_assert_true (check_kernel_case (isa, &r.l, in_c, rows, width, FALSE,
              wide ? ESPCN_CONV_WIDE : ESPCN_CONV_U7S8));
          /* The largest sum the loader allows: |bias| + in_max * sum|w| = 2^31 - 1. */
          for (int c = 0; c < 32; c++)
            r.bias[c] = (gint32) (((G_GINT64_CONSTANT (1) << 31) - 1 - (gint64) in_max * wmax * in_c * k * k)
                * (wmodes[wm] == VAL_MIN ? -1 : 1));
          g_assert_true (check_kernel_case (isa, &r.l, in_c, rows, width, FALSE,
              wide ? ESPCN_CONV_WIDE : ESPCN_CONV_U7S8));
          /* Unit resolution: y = acc (M = 2^30, shift 30) with the bias cancelling the
           * interior's huge sum, so an accumulator off by one changes an output. */
          gsize per = (gsize) in_c * k * k;
          for (int c = 0; c < 32; c++) {
            gint64 sum = 0;
            for (gsize j = 0; j < per; j++)
              sum += (gint64) r.w[c * per + j] * in_max;
            r.bias[c] = (gint32) (-sum + 60 + c);
            r.mult[c] = 1 << 30;
            r.shift[c] = 30;
          }
          g_assert_true (check_kernel_case (isa, &r.l, in_c, rows, width, FALSE,
              wide ? ESPCN_CONV_WIDE : ESPCN_CONV_U7S8));
          rand_layer_free (&r);
        }
  }
}

/* The kernels compute what plain arithmetic says, not just what the C kernel
 * says: one hand-checked extreme case of the u7 x s8 path. */
static void
test_u7s8_extreme_pair_is_exact (void)
{
  gint16 w[8 * 4];
  gint32 bias[8], mult[8], shift[8];
  for (int i = 0; i < 32; i++)
    w[i] = 127;           /* 8 outputs x 4 inputs, k = 1 */
  for (int c = 0; c < 8; c++) {
    bias[c] = -64516 + 100 + c;  /* 4 * 127 * 127 = 64516: y = 100 + c exactly */
    mult[c] = 1 << 30;
    shift[c] = 30;               /* y = acc */
  }
  EspcnInt8Layer l = { .out_c = 8, .in_c = 4, .k = 1, .weight_dtype = ESPCN_WEIGHT_I8, .weight = w,
    .bias = bias, .multiplier = mult, .shift = shift, .out_max = 255, .in_max = 127 };
  guint8 row[4] = { 127, 127, 127, 127 };
  const guint8 *rows[1] = { row };
  for (int isa = 0; isa < ESPCN_KERNELS_N; isa++) {
    if (!espcn_kernels_isa_supported (isa))
      continue;
    EspcnConvPacked p;
    espcn_conv_pack (&p, &l, 4, NULL, FALSE);
    g_assert_cmpint (p.kind, ==, ESPCN_CONV_U7S8);
    EspcnKernels kern;
    espcn_kernels_init (&kern, isa);
    guint8 out[8];
    kern.conv_row[p.kind](&p, rows, 1, out);
    /* Any saturation of a pair sum (32258) would lower an output. */
    for (int c = 0; c < 8; c++)
      g_assert_cmpint (out[c], ==, 100 + c);
    espcn_conv_packed_clear (&p);
  }
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
  g_test_add_func ("/engine/checkasm/kernels-match-c-at-extremes", test_kernels_match_c_at_extremes);
  g_test_add_func ("/engine/checkasm/u7s8-extreme-pair-is-exact", test_u7s8_extreme_pair_is_exact);
  g_test_add_func ("/engine/checkasm/requant-clamps-results-beyond-32-bits",
      test_requant_clamps_results_beyond_32_bits);
  g_test_add_func ("/engine/checkasm/runner-matches-reference-on-random-models",
      test_runner_matches_reference_on_random_models);
  g_test_add_func ("/engine/checkasm/runner-matches-reference-at-extremes", test_runner_matches_reference_at_extremes);
  return g_test_run ();
}
