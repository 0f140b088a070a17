/* Standalone kernel checker for cross builds (tools/cross-test-aarch64.sh):
 * every SIMD kernel variant compiled in and supported here against the `_c`
 * reference kernel, on random layers (widths 1..70, k 1/3/5, channel strides
 * 4..64, rows at odd addresses), extreme weights and inputs, accumulators at
 * the int32 bound and hand-checked sums.  Outputs must be identical to the
 * byte, and nothing may be written past the row.  It links only the kernels,
 * the packing and GLib, so it needs no other arm64 library.
 *
 * tests/engine/test-checkasm.c does the same (and the whole runner) in the
 * native build; this copy exists because the full library cannot be
 * cross-built without the arm64 builds of all its dependencies. */
#include "engine/kernels.h"
#include "util/rng.h"

#include <math.h>
#include <string.h>

#define GUARD 64
#define CANARY 0xa5

/* (M, shift) for a real multiplier as docs/integer-grid.md fixes them:
 * M in [2^30, 2^31), shift in [1, 62]. */
static void
mult_shift_for (double real, gint32 *m, gint32 *sh)
{
  int e;
  double f = frexp (real, &e);
  gint64 mm = (gint64) floor (ldexp (f, 31) + 0.5);
  int s = 31 - e;
  if (mm >= G_GINT64_CONSTANT (1) << 31) {
    mm = G_GINT64_CONSTANT (1) << 30;
    s -= 1;
  }
  g_assert_cmpint (s, >=, 1);
  g_assert_cmpint (s, <=, 62);
  *m = (gint32) mm;
  *sh = s;
}

typedef struct {
  EspcnInt8Layer l;
  gint16 *w;
  gint32 *bias, *mult, *shift;
} Layer;

static void
layer_free (Layer *r)
{
  g_free (r->w);
  g_free (r->bias);
  g_free (r->mult);
  g_free (r->shift);
}

typedef enum { VAL_RANDOM, VAL_MAX, VAL_MIN, VAL_ALTERNATE } ValMode;

/* Weights in [-wmax, wmax] (or at the extremes); requantization that spreads
 * outputs over [0, qmax], or (`wild`) any bias, multiplier and shift the model
 * loader accepts; `ties` makes M a power of two, so rounding ties are common. */
static void
layer_make (EspcnRng *rng, Layer *r, int out_c, int in_c, int k, int wmax, int in_max, gint32 qmax, ValMode mode,
            gboolean wild, gboolean ties)
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
      gint64 room = (G_GINT64_CONSTANT (1) << 31) - 1 - spread * in_max;
      gint64 b = (gint64) espcn_rng_below (rng, 1u << 31) - (1 << 30);
      r->bias[c] = (gint32) CLAMP (b, -room, room);
      r->mult[c] = (gint32) ((1u << 30) + espcn_rng_below (rng, 1u << 30));
      r->shift[c] = 1 + (gint32) espcn_rng_below (rng, 62);
    } else {
      r->bias[c] = (gint32) (-sum * in_max / 3 + (gint64) espcn_rng_below (rng, 1 + spread * in_max / 8));
      mult_shift_for (qmax / (spread * in_max / 6.0 + 1.0) * (0.5 + espcn_rng_uniform (rng)), &r->mult[c],
          &r->shift[c]);
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

/* k input rows of width + k - 1 pixels of cs bytes (channels >= in_c and the
 * padding pixels 0, as the runner stores them), each at its own, possibly odd,
 * address. */
static guint8 *
rows_make (EspcnRng *rng, int k, int width, int cs, int in_c, int in_max, ValMode mode, const guint8 **rows)
{
  gsize row = (gsize) (width + k - 1) * cs, pitch = row + 16;
  guint8 *buf = g_malloc0 (pitch * k);
  int p = k / 2;
  for (int ky = 0; ky < k; ky++) {
    guint8 *r = buf + ky * pitch + espcn_rng_below (rng, 16);
    rows[ky] = r;
    for (int x = p; x < width + p; x++)
      for (int c = 0; c < in_c; c++)
        r[(gsize) x * cs + c] = (guint8) (mode == VAL_MAX ? in_max : mode == VAL_MIN ? 0
            : (int) espcn_rng_below (rng, in_max + 1));
  }
  return buf;
}

static int n_variant_cases;

/* Every supported variant against the reference on one case. */
static void
check_case (const EspcnInt8Layer *l, int in_cs, const guint8 *const *rows, int width, gboolean force_wide,
            EspcnConvKind want_kind)
{
  EspcnConvPacked p;
  espcn_conv_pack (&p, l, in_cs, NULL, force_wide);
  g_assert_cmpint (p.kind, ==, want_kind);
  EspcnKernels ref;
  espcn_kernels_init (&ref, ESPCN_KERNELS_C);
  gsize n = (gsize) width * p.out_cs;
  g_autofree guint8 *a = g_malloc (n + GUARD);
  g_autofree guint8 *b = g_malloc (n + GUARD);
  memset (a, CANARY, n + GUARD);
  ref.conv_row[p.kind](&p, rows, width, a);
  for (int isa = ESPCN_KERNELS_C + 1; isa < ESPCN_KERNELS_N; isa++) {
    if (!espcn_kernels_isa_supported (isa))
      continue;
    EspcnKernels var;
    espcn_kernels_init (&var, isa);
    memset (b, CANARY, n + GUARD);
    var.conv_row[p.kind](&p, rows, width, b);
    for (gsize i = 0; i < n + GUARD; i++)
      if (a[i] != b[i]) {
        g_test_message ("%s kind %d k %d in_c %d (stride %d) out_c %d width %d: byte %" G_GSIZE_FORMAT
            " (x %d, oc %d) is %d, reference %d", var.name, p.kind, l->k, l->in_c, in_cs, l->out_c, width, i,
            (int) (i / p.out_cs), (int) (i % p.out_cs), b[i], a[i]);
        g_test_fail ();
        break;
      }
    n_variant_cases++;
  }
  espcn_conv_packed_clear (&p);
}

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
  EspcnRng rng;
  espcn_rng_seed (&rng, 0xa64);
  const int in_cs_of[][2] = { { 3, 4 }, { 4, 4 }, { 5, 8 }, { 8, 8 }, { 12, 12 }, { 16, 16 }, { 32, 32 },
    { 64, 64 }, { 6, 8 }, { 1, 4 } };
  const int out_cs[] = { 1, 3, 5, 8, 12, 16, 27, 32, 48, 64 };
  const int ks[] = { 1, 3, 3, 5 };
  for (int rep = 0; rep < 400; rep++) {
    int k = ks[rep % 4];
    const int *ic = in_cs_of[espcn_rng_below (&rng, G_N_ELEMENTS (in_cs_of))];
    int oc = out_cs[espcn_rng_below (&rng, G_N_ELEMENTS (out_cs))];
    int width = 1 + (int) espcn_rng_below (&rng, 70);
    gboolean wide = rep % 2;
    int in_max = wide ? 255 : 127;
    int wmax = wide ? (rep % 6 == 1 ? 4095 : 600) : 127;
    Layer r;
    layer_make (&rng, &r, oc, ic[0], k, wmax, in_max, rep % 5 ? 127 : 255, VAL_RANDOM, rep % 3 == 0, rep % 3 == 1);
    const guint8 *rows[5];
    g_autofree guint8 *buf = rows_make (&rng, k, width, ic[1], ic[0], in_max, VAL_RANDOM, rows);
    check_case (&r.l, ic[1], rows, width, FALSE, wide ? ESPCN_CONV_WIDE : ESPCN_CONV_U7S8);
    /* The widening kernel also serves int8 layers (conv1 reads 255-level pixels). */
    if (!wide)
      check_case (&r.l, ic[1], rows, width, TRUE, ESPCN_CONV_WIDE);
    layer_free (&r);
  }
}

/* Every width 1..70 (around the pixel tiles) and several block counts. */
static void
test_kernels_match_c_at_every_width (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 0x1d7);
  for (int wide = 0; wide < 2; wide++)
    for (int width = 1; width <= 70; width++) {
      int oc = 1 + (int) espcn_rng_below (&rng, 40);
      int in_max = wide ? 255 : 127;
      Layer r;
      layer_make (&rng, &r, oc, 8, 3, wide ? 4095 : 127, in_max, 255, VAL_RANDOM, width % 2, FALSE);
      const guint8 *rows[3];
      g_autofree guint8 *buf = rows_make (&rng, 3, width, 8, 8, in_max, VAL_RANDOM, rows);
      check_case (&r.l, 8, rows, width, FALSE, wide ? ESPCN_CONV_WIDE : ESPCN_CONV_U7S8);
      layer_free (&r);
    }
}

/* Extreme weights and inputs: every s8 product at +-127 * 127, the widening
 * path at +-4095 * 255, accumulators at the int32 bound, and unit resolution
 * (y = acc) so an accumulator off by one changes an output. */
static void
test_kernels_match_c_at_extremes (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 0xe77);
  const ValMode wmodes[] = { VAL_MAX, VAL_MIN, VAL_ALTERNATE };
  for (gsize wm = 0; wm < G_N_ELEMENTS (wmodes); wm++)
    for (int wide = 0; wide < 2; wide++)
      for (int wild = 0; wild < 2; wild++) {
        int in_c = 64, k = 3, width = 37;
        int in_max = wide ? 255 : 127, wmax = wide ? 4095 : 127;
        EspcnConvKind kind = wide ? ESPCN_CONV_WIDE : ESPCN_CONV_U7S8;
        Layer r;
        layer_make (&rng, &r, 32, in_c, k, wmax, in_max, 127, wmodes[wm], wild, FALSE);
        const guint8 *rows[3];
        g_autofree guint8 *buf = rows_make (&rng, k, width, in_c, in_c, in_max, VAL_MAX, rows);
        check_case (&r.l, in_c, rows, width, FALSE, kind);
        for (int c = 0; c < 32; c++)
          r.bias[c] = (gint32) (((G_GINT64_CONSTANT (1) << 31) - 1 - (gint64) in_max * wmax * in_c * k * k)
              * (wmodes[wm] == VAL_MIN ? -1 : 1));
        check_case (&r.l, in_c, rows, width, FALSE, kind);
        gsize per = (gsize) in_c * k * k;
        for (int c = 0; c < 32; c++) {
          gint64 sum = 0;
          for (gsize j = 0; j < per; j++)
            sum += (gint64) r.w[c * per + j] * in_max;
          r.bias[c] = (gint32) (-sum + 60 + c);
          r.mult[c] = 1 << 30;
          r.shift[c] = 30;
        }
        check_case (&r.l, in_c, rows, width, FALSE, kind);
        layer_free (&r);
      }
}

/* Plain arithmetic, not just agreement with the C kernel: 8 channels of one
 * pixel with every product at its largest, y = acc exactly. */
static void
test_extreme_sums_are_exact (void)
{
  for (int wide = 0; wide < 2; wide++) {
    int wmax = wide ? 4095 : 127, in_max = wide ? 255 : 127, in_c = 8;
    gint16 w[8 * 8];
    gint32 bias[8], mult[8], shift[8];
    for (int i = 0; i < 8 * in_c; i++)
      w[i] = (gint16) ((i / in_c) % 2 ? -wmax : wmax);
    gint64 full = (gint64) in_c * wmax * in_max;
    for (int c = 0; c < 8; c++) {
      bias[c] = (gint32) ((c % 2 ? full : -full) + 100 + c);
      mult[c] = 1 << 30;
      shift[c] = 30;
    }
    EspcnInt8Layer l = { .out_c = 8, .in_c = in_c, .k = 1, .weight_dtype = wide ? ESPCN_WEIGHT_I16 : ESPCN_WEIGHT_I8,
      .weight = w, .bias = bias, .multiplier = mult, .shift = shift, .out_max = 255, .in_max = in_max };
    guint8 row[8];
    memset (row, in_max, sizeof row);
    const guint8 *rows[1] = { row };
    EspcnConvPacked p;
    espcn_conv_pack (&p, &l, in_c, NULL, FALSE);
    g_assert_cmpint (p.kind, ==, wide ? ESPCN_CONV_WIDE : ESPCN_CONV_U7S8);
    for (int isa = 0; isa < ESPCN_KERNELS_N; isa++) {
      if (!espcn_kernels_isa_supported (isa))
        continue;
      EspcnKernels kern;
      espcn_kernels_init (&kern, isa);
      guint8 out[8];
      kern.conv_row[p.kind](&p, rows, 1, out);
      for (int c = 0; c < 8; c++)
        g_assert_cmpint (out[c], ==, 100 + c);
    }
    espcn_conv_packed_clear (&p);
  }
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
