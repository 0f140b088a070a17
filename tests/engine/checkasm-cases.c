/* Random and extreme kernel cases, one variant against the C reference
 * (checkasm-cases.h). */
#include "checkasm-cases.h"

#include <math.h>
#include <string.h>

#define GUARD 64
#define CANARY 0xa5

/* (M, shift) for a real multiplier by the rule of docs/integer-grid.md (as
 * espcn_requant_from_real() does; that one lives in engine/requant.c, which
 * needs GIO, which the cross build does not have): M in [2^30, 2^31), shift in
 * [1, 62]. */
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

typedef enum { VAL_RANDOM, VAL_MAX, VAL_MIN, VAL_ALTERNATE } ValMode;

/* One case: a layer of out_c x in_c x k x k weights in [-wmax, wmax] (`mode`
 * VAL_RANDOM) or at the extremes (then every input is in_max too), and
 * requantization that spreads outputs over [0, qmax], or (`wild`) any bias,
 * multiplier and shift the model loader accepts; `ties` makes M a power of two,
 * so rounding ties (acc * M exactly half a step) are common and a kernel
 * rounding them wrongly is caught.  Inputs: k rows of width + k - 1 pixels of
 * in_cs bytes. */
typedef struct {
  int out_c, in_c, in_cs, k, width, wmax, in_max;
  gint32 qmax;
  ValMode mode;
  gboolean wild, ties;
} Spec;

typedef struct {
  EspcnInt8Layer l;
  gint16 *w;
  gint32 *bias, *mult, *shift; /* one allocation at bias */
  int in_cs, width;
  guint8 *buf;
  const guint8 *rows[5];
} Case;

static void
case_clear (Case *c)
{
  g_free (c->w);
  g_free (c->bias);
  g_free (c->buf);
}

static void
layer_make (EspcnRng *rng, const Spec *s, Case *r)
{
  const int out_c = s->out_c, wmax = s->wmax, in_max = s->in_max;
  gsize per = (gsize) s->in_c * s->k * s->k;
  r->w = g_new (gint16, per * out_c);
  r->bias = g_new (gint32, 3 * (gsize) out_c);
  r->mult = r->bias + out_c;
  r->shift = r->bias + 2 * out_c;
  for (int c = 0; c < out_c; c++) {
    gint64 sum = 0, spread = 0;
    for (gsize j = 0; j < per; j++) {
      int v;
      switch (s->mode) {
        case VAL_MAX: v = wmax; break;
        case VAL_MIN: v = -wmax; break;
        case VAL_ALTERNATE: v = (j % 2) ? -wmax : wmax; break;
        default: v = (int) espcn_rng_below (rng, 2 * wmax + 1) - wmax; break;
      }
      r->w[c * per + j] = (gint16) v;
      sum += v;
      spread += ABS (v);
    }
    if (s->wild) {
      gint64 room = (G_GINT64_CONSTANT (1) << 31) - 1 - spread * in_max;
      gint64 b = (gint64) espcn_rng_below (rng, 1u << 31) - (1 << 30);
      r->bias[c] = (gint32) CLAMP (b, -room, room);
      r->mult[c] = (gint32) ((1u << 30) + espcn_rng_below (rng, 1u << 30));
      r->shift[c] = 1 + (gint32) espcn_rng_below (rng, 62);
    } else {
      r->bias[c] = (gint32) (-sum * in_max / 3 + (gint64) espcn_rng_below (rng, 1 + spread * in_max / 8));
      mult_shift_for (s->qmax / (spread * in_max / 6.0 + 1.0) * (0.5 + espcn_rng_uniform (rng)), &r->mult[c],
          &r->shift[c]);
      if (s->ties)
        r->mult[c] = 1 << 30;
    }
  }
  EspcnInt8Layer *l = &r->l;
  l->out_c = out_c;
  l->in_c = s->in_c;
  l->k = s->k;
  l->weight_dtype = wmax <= 127 ? ESPCN_WEIGHT_I8 : ESPCN_WEIGHT_I16;
  l->weight = r->w;
  l->bias = r->bias;
  l->multiplier = r->mult;
  l->shift = r->shift;
  l->out_max = s->qmax;
  l->in_max = in_max;
}

/* The input rows: channels >= in_c and the padding pixels 0, as the runner
 * stores them; each row at its own, possibly odd, address.  The bytes a
 * one-channel kernel may read past the right padding (kernels.h) are random:
 * their weights are zero, so they must not change anything. */
static void
rows_make (EspcnRng *rng, const Spec *s, Case *c)
{
  const int k = s->k, cs = s->in_cs, over = espcn_conv_row_overread (k, cs);
  gsize row = (gsize) (s->width + k - 1) * cs, pitch = row + over + 16;
  c->buf = g_malloc0 (pitch * k);
  int p = k / 2;
  for (int ky = 0; ky < k; ky++) {
    guint8 *r = c->buf + ky * pitch + espcn_rng_below (rng, 16);
    c->rows[ky] = r;
    for (int i = 0; i < over; i++)
      r[row + i] = (guint8) espcn_rng_below (rng, 256);
    for (int x = p; x < s->width + p; x++)
      for (int ch = 0; ch < s->in_c; ch++)
        r[(gsize) x * cs + ch] = (guint8) (s->mode != VAL_RANDOM ? s->in_max
            : (int) espcn_rng_below (rng, s->in_max + 1));
  }
}

static void
case_make (EspcnRng *rng, const Spec *s, Case *c)
{
  memset (c, 0, sizeof *c);
  c->in_cs = s->in_cs;
  c->width = s->width;
  layer_make (rng, s, c);
  rows_make (rng, s, c);
}

/* `isa` and the reference on one case; FALSE on any difference or a write
 * past the row. */
static gboolean
kernel_case (EspcnKernelIsa isa, const Case *c, gboolean force_wide, int *n_cases)
{
  const EspcnInt8Layer *l = &c->l;
  const int width = c->width;
  EspcnConvPacked p;
  espcn_conv_pack (&p, l, c->in_cs, NULL, force_wide);
  g_assert_cmpint (p.kind, ==, force_wide || l->weight_dtype == ESPCN_WEIGHT_I16 ? ESPCN_CONV_WIDE : ESPCN_CONV_U7S8);
  EspcnKernels ref, var;
  espcn_kernels_init (&ref, ESPCN_KERNELS_C);
  espcn_kernels_init (&var, isa);
  gsize n = (gsize) width * p.out_cs;
  g_autofree guint8 *a = g_malloc (n + GUARD);
  g_autofree guint8 *b = g_malloc (n + GUARD);
  memset (a, CANARY, n + GUARD);
  memset (b, CANARY, n + GUARD);
  ref.conv_row[p.kind](&p, c->rows, width, a);
  var.conv_row[p.kind](&p, c->rows, width, b);
  gboolean same = TRUE;
  for (gsize i = 0; i < n + GUARD && same; i++)
    if (b[i] != (i < n ? a[i] : CANARY)) {
      g_test_message ("%s kind %d k %d in_c %d (stride %d) out_c %d width %d: byte %" G_GSIZE_FORMAT
          " (x %d, oc %d%s) is %d, reference %d", var.name, p.kind, l->k, l->in_c, c->in_cs, l->out_c, width, i,
          (int) (i / p.out_cs), (int) (i % p.out_cs), i < n ? "" : ", past the row", b[i], i < n ? a[i] : CANARY);
      same = FALSE;
    }
  espcn_conv_packed_clear (&p);
  if (n_cases != NULL)
    (*n_cases)++;
  return same;
}

/* A new case of `s`, and (`also_wide`) the same case through the widening
 * kernel, which conv1 uses for its 255-level pixels. */
static gboolean
check_spec (EspcnKernelIsa isa, EspcnRng *rng, const Spec *s, gboolean also_wide, int *n_cases)
{
  Case c;
  case_make (rng, s, &c);
  gboolean ok = kernel_case (isa, &c, FALSE, n_cases);
  if (ok && also_wide)
    ok = kernel_case (isa, &c, TRUE, n_cases);
  case_clear (&c);
  return ok;
}

gboolean
checkasm_random_layers (EspcnKernelIsa isa, guint64 seed, int n, int *n_cases)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, seed);
  const int in_cs_of[][2] = { { 3, 4 }, { 4, 4 }, { 5, 8 }, { 8, 8 }, { 12, 12 }, { 16, 16 }, { 32, 32 },
    { 64, 64 }, { 6, 8 }, { 1, 4 } };
  const int out_cs[] = { 1, 3, 5, 8, 12, 16, 27, 32, 48, 64 };
  const int ks[] = { 1, 3, 3, 5 };
  gboolean ok = TRUE;
  for (int rep = 0; rep < n && ok; rep++) {
    const int *ic = in_cs_of[espcn_rng_below (&rng, G_N_ELEMENTS (in_cs_of))];
    int oc = out_cs[espcn_rng_below (&rng, G_N_ELEMENTS (out_cs))];
    int width = 1 + (int) espcn_rng_below (&rng, 70);
    gboolean wide = rep % 2;
    Spec s = { .out_c = oc, .in_c = ic[0], .in_cs = ic[1], .k = ks[rep % 4], .width = width,
      .wmax = wide ? (rep % 6 == 1 ? 4095 : 600) : 127, .in_max = wide ? 255 : 127, .qmax = rep % 5 ? 127 : 255,
      .mode = VAL_RANDOM, .wild = rep % 3 == 0, .ties = rep % 3 == 1 };
    ok = check_spec (isa, &rng, &s, !wide, n_cases);
  }
  return ok;
}

gboolean
checkasm_every_width (EspcnKernelIsa isa, guint64 seed, int *n_cases)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, seed);
  gboolean ok = TRUE;
  for (int wide = 0; wide < 2; wide++)
    for (int width = 1; width <= 70 && ok; width++) {
      Spec s = { .out_c = 1 + (int) espcn_rng_below (&rng, 40), .in_c = 8, .in_cs = 8, .k = 3, .width = width,
        .wmax = wide ? 4095 : 127, .in_max = wide ? 255 : 127, .qmax = 255, .mode = VAL_RANDOM,
        .wild = width % 2 };
      ok = check_spec (isa, &rng, &s, FALSE, n_cases);
    }
  return ok;
}

gboolean
checkasm_extremes (EspcnKernelIsa isa, guint64 seed, int *n_cases)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, seed);
  const ValMode wmodes[] = { VAL_MAX, VAL_MIN, VAL_ALTERNATE };
  gboolean ok = TRUE;
  for (gsize wm = 0; wm < G_N_ELEMENTS (wmodes); wm++)
    for (int wide = 0; wide < 2; wide++)
      for (int wild = 0; wild < 2 && ok; wild++) {
        const int in_c = 64, k = 3, out_c = 32;
        const int in_max = wide ? 255 : 127, wmax = wide ? 4095 : 127;
        Spec s = { .out_c = out_c, .in_c = in_c, .in_cs = in_c, .k = k, .width = 37, .wmax = wmax,
          .in_max = in_max, .qmax = 127, .mode = wmodes[wm], .wild = wild };
        Case c;
        case_make (&rng, &s, &c);
        ok = kernel_case (isa, &c, FALSE, n_cases);
        /* The largest sum the loader allows: |bias| + in_max * sum|w| = 2^31 - 1. */
        for (int oc = 0; oc < out_c; oc++)
          c.bias[oc] = (gint32) (((G_GINT64_CONSTANT (1) << 31) - 1 - (gint64) in_max * wmax * in_c * k * k)
              * (wmodes[wm] == VAL_MIN ? -1 : 1));
        ok = ok && kernel_case (isa, &c, FALSE, n_cases);
        /* Unit resolution: y = acc (M = 2^30, shift 30) with the bias cancelling
         * the interior's huge sum. */
        gsize per = (gsize) in_c * k * k;
        for (int oc = 0; oc < out_c; oc++) {
          gint64 sum = 0;
          for (gsize j = 0; j < per; j++)
            sum += (gint64) c.w[oc * per + j] * in_max;
          c.bias[oc] = (gint32) (-sum + 60 + oc);
          c.mult[oc] = 1 << 30;
          c.shift[oc] = 30;
        }
        ok = ok && kernel_case (isa, &c, FALSE, n_cases);
        case_clear (&c);
      }
  return ok;
}
void
checkasm_assert_extreme_sums_exact (EspcnKernelIsa isa)
{
  EspcnKernels kern;
  espcn_kernels_init (&kern, isa);
  for (int wide = 0; wide < 2; wide++) {
    int wmax = wide ? 4095 : 127, in_max = wide ? 255 : 127, in_c = 8;
    gint16 w[8 * 8];
    gint32 bias[8], mult[8], shift[8];
    /* Output channels alternate +wmax and -wmax weights; a saturated pair sum
     * (2 * 127 * 127 = 32258 for int8) would change an output. */
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
    guint8 out[8];
    kern.conv_row[p.kind](&p, rows, 1, out);
    for (int c = 0; c < 8; c++)
      g_assert_cmpint (out[c], ==, 100 + c);
    espcn_conv_packed_clear (&p);
  }
}

gboolean
checkasm_one_channel (EspcnKernelIsa isa, guint64 seed, int *n_cases)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, seed);
  const int out_cs[] = { 2, 8, 16, 24, 64 };
  gboolean ok = TRUE;
  for (int width = 1; width <= 70 && ok; width++) {
    /* conv1 of a luma model: 5x5x1 over 255-level pixels, int8 or int16 weights
     * (both widen); every few widths also a 7-bit input through vpmaddubsw, and k 3. */
    int oc = out_cs[espcn_rng_below (&rng, G_N_ELEMENTS (out_cs))];
    gboolean i16 = width % 2, small = width % 5 == 0;
    Spec s = { .out_c = oc, .in_c = 1, .in_cs = 1, .k = width % 7 == 3 ? 3 : 5, .width = width,
      .wmax = i16 ? 4095 : 127, .in_max = small && !i16 ? 127 : 255, .qmax = width % 3 ? 127 : 255,
      .mode = VAL_RANDOM, .wild = width % 4 == 0, .ties = width % 4 == 1 };
    Case c;
    case_make (&rng, &s, &c);
    ok = kernel_case (isa, &c, s.in_max > 127 && !i16, n_cases);
    case_clear (&c);
  }
  /* Extremes: every weight +max / -max / alternating, every pixel 255. */
  const ValMode wmodes[] = { VAL_MAX, VAL_MIN, VAL_ALTERNATE };
  for (gsize wm = 0; wm < G_N_ELEMENTS (wmodes) && ok; wm++)
    for (int i16 = 0; i16 < 2 && ok; i16++) {
      Spec s = { .out_c = 64, .in_c = 1, .in_cs = 1, .k = 5, .width = 37, .wmax = i16 ? 4095 : 127, .in_max = 255,
        .qmax = 127, .mode = wmodes[wm] };
      Case c;
      case_make (&rng, &s, &c);
      ok = kernel_case (isa, &c, !i16, n_cases);
      case_clear (&c);
    }
  return ok;
}

gboolean
checkasm_shuffle_y (EspcnKernelIsa isa, guint64 seed, int *n_cases)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, seed);
  EspcnKernels ref, var;
  espcn_kernels_init (&ref, ESPCN_KERNELS_C);
  espcn_kernels_init (&var, isa);
  gboolean ok = TRUE;
  for (int s = 2; s <= 4 && ok; s++)
    for (int width = 1; width <= 70 && ok; width++) {
      int cs = (s * s + 7) / 8 * 8;  /* conv3's s^2 channels padded to whole blocks, as the runner packs them */
      gsize stride = (gsize) width * s + espcn_rng_below (&rng, 9), n = stride * s + GUARD;
      /* The conv3 row at an odd address; the output at one too, sometimes. */
      gsize off = espcn_rng_below (&rng, 4);
      g_autofree guint8 *c3buf = g_malloc ((gsize) width * cs + off);
      guint8 *c3 = c3buf + off;
      for (gsize i = 0; i < (gsize) width * cs; i++)
        c3[i] = (guint8) espcn_rng_below (&rng, 256);
      g_autofree guint8 *a = g_malloc (n), *b = g_malloc (n + 1);
      memset (a, CANARY, n);
      memset (b, CANARY, n + 1);
      guint8 *bo = b + (width % 2);
      ref.shuffle_y (c3, cs, width, s, a, stride);
      var.shuffle_y (c3, cs, width, s, bo, stride);
      for (gsize i = 0; i < n && ok; i++)
        if (bo[i] != a[i]) {
          g_test_message ("%s shuffle_y x%d width %d stride %" G_GSIZE_FORMAT ": byte %" G_GSIZE_FORMAT
              " (row %d) is %d, reference %d", var.name, s, width, stride, i, (int) (i / stride), bo[i], a[i]);
          ok = FALSE;
        }
      if (n_cases != NULL)
        (*n_cases)++;
    }
  return ok;
}
