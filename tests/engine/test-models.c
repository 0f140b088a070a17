#include "test-models.h"
#include "engine/requant.h"

#include <float.h>
#include <math.h>

static void
alloc_layer (TestLayers *t, int i, int out_c, int in_c, int k)
{
  EspcnInt8Layer *l = &t->l[i];
  l->out_c = out_c;
  l->in_c = in_c;
  l->k = k;
  t->w[i] = g_new0 (gint16, (gsize) out_c * in_c * k * k);
  t->bias[i] = g_new0 (gint32, out_c);
  t->mult[i] = g_new0 (gint32, out_c);
  t->shift[i] = g_new0 (gint32, out_c);
  t->wscale[i] = g_new0 (float, out_c);
  l->weight = t->w[i];
  l->bias = t->bias[i];
  l->multiplier = t->mult[i];
  l->shift = t->shift[i];
  l->weight_scale = NULL;
}

static TestLayers *
test_layers_alloc (int f, int s, int channels)
{
  TestLayers *t = g_new0 (TestLayers, 1);
  alloc_layer (t, 0, f, channels, 5);
  alloc_layer (t, 1, f / 2, f, 3);
  alloc_layer (t, 2, channels * s * s, f / 2, 3);
  t->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert (t->metadata, g_strdup ("method"), g_strdup ("test"));
  return t;
}

TestLayers *
test_layers_random (EspcnRng *rng, int f, int s, gboolean wide)
{
  return test_layers_random_channels (rng, f, s, wide, 3);
}

TestLayers *
test_layers_random_channels (EspcnRng *rng, int f, int s, gboolean wide, int channels)
{
  TestLayers *t = test_layers_alloc (f, s, channels);
  gint32 hid_max = wide ? 255 : 127;
  gint32 in_max = 255;
  for (int i = 0; i < 3; i++) {
    EspcnInt8Layer *l = &t->l[i];
    l->weight_dtype = wide ? ESPCN_WEIGHT_I16 : ESPCN_WEIGHT_I8;
    l->out_max = i < 2 ? hid_max : 255;
    int wr = wide ? 600 : 127;
    gsize per = (gsize) l->in_c * l->k * l->k;
    for (int c = 0; c < l->out_c; c++) {
      gint64 sum = 0;
      for (gsize j = 0; j < per; j++) {
        gint16 v = (gint16) ((int) espcn_rng_below (rng, 2 * wr + 1) - wr);
        t->w[i][c * per + j] = v;
        sum += v;
      }
      /* A mean input of about in_max/3 gives an accumulator near sum * in_max/3; the
       * bias centres it and the multiplier maps a typical spread onto [0, out_max]. */
      gint64 spread = 0;
      for (gsize j = 0; j < per; j++)
        spread += abs (t->w[i][c * per + j]);
      t->bias[i][c] = (gint32) (-sum * in_max / 3 + (gint64) espcn_rng_below (rng, 1 + spread * in_max / 8));
      double real = (double) l->out_max / (spread * in_max / 6.0 + 1.0) * (0.5 + espcn_rng_uniform (rng));
      int sh;
      g_assert_true (espcn_requant_from_real (real, &t->mult[i][c], &sh, NULL));
      t->shift[i][c] = sh;
    }
    in_max = l->out_max;
  }
  return t;
}

TestLayers *
test_layers_hand (void)
{
  TestLayers *t = test_layers_alloc (4, 2, 3);
  for (int i = 0; i < 3; i++) {
    t->l[i].weight_dtype = ESPCN_WEIGHT_I8;
    t->l[i].out_max = i < 2 ? 127 : 255;
  }
  /* conv1 (x 0.5): channel c < 3 copies input colour c, channel 3 = R - 10.
   * Only centre taps, so a 1x1 image sees exactly these. */
  for (int c = 0; c < 4; c++) {
    t->w[0][((c * 3 + (c < 3 ? c : 0)) * 5 + 2) * 5 + 2] = 1;
    t->mult[0][c] = 1 << 30;
    t->shift[0][c] = 31;
  }
  t->bias[0][3] = -10;
  /* conv2 (x 1): ch0 = c1[0] - c1[1], ch1 = c1[2] + c1[3]. */
  t->w[1][((0 * 4 + 0) * 3 + 1) * 3 + 1] = 1;
  t->w[1][((0 * 4 + 1) * 3 + 1) * 3 + 1] = -1;
  t->w[1][((1 * 4 + 2) * 3 + 1) * 3 + 1] = 1;
  t->w[1][((1 * 4 + 3) * 3 + 1) * 3 + 1] = 1;
  for (int c = 0; c < 2; c++) {
    t->mult[1][c] = 1 << 30;
    t->shift[1][c] = 30;
  }
  /* conv3 (x 1): channel k = (k even ? c2[0] : 0) + (k / 4) * c2[1] + k. */
  for (int k = 0; k < 12; k++) {
    t->w[2][((k * 2 + 0) * 3 + 1) * 3 + 1] = (k % 2 == 0) ? 1 : 0;
    t->w[2][((k * 2 + 1) * 3 + 1) * 3 + 1] = (gint16) (k / 4);
    t->bias[2][k] = k;
    t->mult[2][k] = 1 << 30;
    t->shift[2][k] = 30;
  }
  return t;
}

void
test_layers_free (TestLayers *t)
{
  if (t == NULL)
    return;
  for (int i = 0; i < 3; i++) {
    g_free (t->w[i]);
    g_free (t->bias[i]);
    g_free (t->mult[i]);
    g_free (t->shift[i]);
    g_free (t->wscale[i]);
  }
  g_hash_table_unref (t->metadata);
  g_free (t);
}

EspcnInt8Model *
test_layers_build (TestLayers *t)
{
  g_autoptr (GError) error = NULL;
  EspcnInt8Model *m = espcn_int8_model_new (t->l, t->metadata, &error);
  g_assert_no_error (error);
  g_assert_nonnull (m);
  return m;
}

/* One layer over an HWC image of long doubles holding integers. */
static long double *
naive_conv (const EspcnInt8Layer *l, const long double *in, int w, int h)
{
  long double *out = g_new0 (long double, (gsize) w * h * l->out_c);
  int p = l->k / 2;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int oc = 0; oc < l->out_c; oc++) {
        long double acc = l->bias[oc];
        for (int dy = -p; dy <= p; dy++)
          for (int dx = -p; dx <= p; dx++) {
            if (y + dy < 0 || y + dy >= h || x + dx < 0 || x + dx >= w)
              continue;  /* zero padding */
            for (int ic = 0; ic < l->in_c; ic++)
              acc += (long double) l->weight[(((gsize) oc * l->in_c + ic) * l->k + dy + p) * l->k + dx + p]
                  * in[((gsize) (y + dy) * w + x + dx) * l->in_c + ic];
          }
        g_assert_true (fabsl (acc) < 2147483648.0L);
        /* acc * M < 2^62 and the scaling is by a power of two: exact with a 64-bit mantissa. */
        long double v = ldexpl (acc * l->multiplier[oc], -l->shift[oc]);
        long double r = floorl (v + 0.5L);
        g_assert_true (r - 0.5L <= v && v < r + 0.5L);
        out[((gsize) y * w + x) * l->out_c + oc] = r < 0 ? 0 : (r > l->out_max ? l->out_max : r);
      }
  return out;
}

void
test_naive_forward (const EspcnInt8Model *m, const guint8 *rgb, int w, int h, guint8 *out_rgb)
{
  g_assert_cmpint (LDBL_MANT_DIG, >=, 64);
  int s = espcn_int8_model_get_scale (m);
  int nc = espcn_int8_model_get_channels (m);
  g_autofree long double *x = g_new (long double, (gsize) w * h * nc);
  for (gsize i = 0; i < (gsize) w * h * nc; i++)
    x[i] = rgb[i];
  g_autofree long double *a = naive_conv (espcn_int8_model_get_layer (m, 0), x, w, h);
  g_autofree long double *b = naive_conv (espcn_int8_model_get_layer (m, 1), a, w, h);
  g_autofree long double *c = naive_conv (espcn_int8_model_get_layer (m, 2), b, w, h);
  int oc = nc * s * s;
  /* Walk the output and find each value's source channel. */
  for (int Y = 0; Y < h * s; Y++)
    for (int X = 0; X < w * s; X++)
      for (int col = 0; col < nc; col++) {
        int ch = col * s * s + (Y % s) * s + (X % s);
        out_rgb[((gsize) Y * w * s + X) * nc + col] = (guint8) c[((gsize) (Y / s) * w + X / s) * oc + ch];
      }
}

void
test_fill_random (EspcnRng *rng, guint8 *p, gsize n)
{
  for (gsize i = 0; i < n; i++)
    p[i] = (guint8) espcn_rng_below (rng, 256);
}
