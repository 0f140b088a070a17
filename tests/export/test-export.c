/* INT8 export: faults are refused with the tensor named; an exported model loads
 * and the integer engine reproduces the float model's fake-quantized forward. */
#include "engine/engine.h"
#include "export/export.h"
#include "engine/model.h"
#include "nn/model.h"
#include "quant/quantizer.h"
#include "util/rng.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include "test-util.h"

/* ------------------------------------------------ a minimal quantizer of the test's own
 * Weights: per channel, step max|w| / wmax, levels round_half_up (w / step) in
 * [-wmax, wmax].  Activations: one step fixed at init from the data's maximum,
 * levels in [0, qmax].  Forward is exactly level * step, the grid export reports. */

typedef struct {
  float *step;   /* channels steps */
  gint32 wmax;   /* weight level bound */
} TestQ;

static void
tq_init (EspcnQuantizer *q, const float *x, size_t n)
{
  TestQ *t = q->priv;
  size_t per = n / q->channels;
  for (int c = 0; c < q->channels; c++) {
    float mx = 0.0f;
    for (size_t j = 0; j < per; j++)
      mx = MAX (mx, fabsf (x[c * per + j]));
    t->step[c] = mx > 0.0f ? mx / (float) (q->role == ESPCN_QUANT_WEIGHT ? t->wmax : q->qmax) : 1.0f;
    if (q->role == ESPCN_QUANT_ACT)
      t->step[c] *= 0.8f;  /* clip the top a little, as trained grids do */
  }
}

static float
tq_level (const EspcnQuantizer *q, float v, float step)
{
  const TestQ *t = q->priv;
  float lo = q->role == ESPCN_QUANT_WEIGHT ? (float) -t->wmax : 0.0f;
  float hi = q->role == ESPCN_QUANT_WEIGHT ? (float) t->wmax : (float) q->qmax;
  return CLAMP (espcn_round_half_up (v / step), lo, hi);
}

static void
tq_forward (EspcnQuantizer *q, const float *x, float *y, size_t n)
{
  TestQ *t = q->priv;
  size_t per = n / q->channels;
  for (size_t i = 0; i < n; i++) {
    float step = t->step[i / per];
    y[i] = tq_level (q, x[i], step) * step;
  }
}

static gboolean
tq_export_weights (EspcnQuantizer *q, const float *w, size_t n, EspcnWeightExport *out, GError **error)
{
  (void) error;
  TestQ *t = q->priv;
  size_t per = n / q->channels;
  for (size_t i = 0; i < n; i++)
    out->w_int[i] = (gint32) tq_level (q, w[i], t->step[i / per]);
  for (int c = 0; c < q->channels; c++)
    out->scale[c] = t->step[c];
  out->w_int_max = t->wmax;
  return TRUE;
}

static gboolean
tq_export_act (EspcnQuantizer *q, float *scale, gint32 *qmax, GError **error)
{
  (void) error;
  *scale = ((TestQ *) q->priv)->step[0];
  *qmax = q->qmax;
  return TRUE;
}

static void
tq_free_state (EspcnQuantizer *q)
{
  TestQ *t = q->priv;
  g_free (t->step);
  g_free (t);
}

static const EspcnQuantizerOps test_ops = {
  .method = "testq",
  .init = tq_init,
  .forward = tq_forward,
  .export_weights = tq_export_weights,
  .export_act = tq_export_act,
  .free_state = tq_free_state,
};

static EspcnQuantizer *
testq_new (EspcnQuantRole role, int channels, gint32 qmax, gint32 wmax)
{
  EspcnQuantizer *q = g_new0 (EspcnQuantizer, 1);
  q->ops = &test_ops;
  q->role = role;
  q->channels = channels;
  q->qmax = qmax;
  TestQ *t = g_new0 (TestQ, 1);
  t->step = g_new0 (float, channels);
  t->wmax = wmax;
  q->priv = t;
  return q;
}

/* ------------------------------------------------ fixture: float model + quantizers */

/* The test quantizer's method (not in core/quant's table). */
static const EspcnQuantMethod testq_method = { "testq", TRUE, ESPCN_ACT_QMAX_FAST, FALSE, NULL };

typedef struct {
  EspcnFloatModel *model;
  EspcnQuantizer *q[5];  /* wq0..2, aq0..1 */
  EspcnQatModel qat;     /* model and q[] in slot order, not owned: what the exporter reads */
  int w, h;
  float *lr;             /* [1][3][h][w], values k / 255 */
  guint8 *rgb;           /* the same image, packed RGB */
} Fixture;

static void
fixture_free (Fixture *f)
{
  espcn_float_model_free (f->model);
  for (int i = 0; i < 5; i++)
    espcn_quantizer_free (f->q[i]);
  g_free (f->lr);
  g_free (f->rgb);
  g_free (f);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fixture, fixture_free)

/* method "testq" uses the quantizer above (wmax levels for weights, act_qmax for
 * activations); any other name asks core/quant for that method. Returns NULL
 * (test skipped) when the method is not available yet. */
static Fixture *
fixture_new (const char *method, int scale, int features, gint32 wmax, gint32 act_qmax, int w, int h, guint64 seed)
{
  g_autoptr (Fixture) f = g_new0 (Fixture, 1);
  EspcnFloatModelConfig cfg = { scale, features, 3 };
  g_autoptr (GError) error = NULL;
  f->model = espcn_float_model_new (&cfg, seed, &error);
  g_assert_no_error (error);
  EspcnFloatModel *m = f->model;
  /* Centre conv3's output in the pixel range so few outputs clamp. */
  for (int c = 0; c < m->cout[2]; c++)
    m->bias[2][c] += 0.5f;

  for (int i = 0; i < 3; i++) {
    size_t n = (size_t) m->cout[i] * m->cin[i] * m->k[i] * m->k[i];
    if (g_strcmp0 (method, "testq") == 0) {
      f->q[i] = testq_new (ESPCN_QUANT_WEIGHT, m->cout[i], ESPCN_WEIGHT_QMAX_INT8, wmax);
    } else {
      gint32 wq_max = espcn_quant_method_act_qmax (method) == ESPCN_ACT_QMAX_FAST ? ESPCN_WEIGHT_QMAX_INT8 : 4095;
      f->q[i] = espcn_quantizer_new (method, ESPCN_QUANT_WEIGHT, m->cout[i], n, wq_max, &error);
      if (f->q[i] == NULL) {
        g_test_skip_printf ("method '%s' not available: %s", method, error->message);
        return NULL;
      }
    }
  }
  for (int i = 0; i < 2; i++) {
    if (g_strcmp0 (method, "testq") == 0) {
      f->q[3 + i] = testq_new (ESPCN_QUANT_ACT, 1, act_qmax, 0);
    } else {
      f->q[3 + i] = espcn_quantizer_new (method, ESPCN_QUANT_ACT, 1, 0, espcn_quant_method_act_qmax (method), &error);
      if (f->q[3 + i] == NULL) {
        g_test_skip_printf ("method '%s' not available: %s", method, error->message);
        return NULL;
      }
    }
  }
  for (int i = 0; i < 3; i++)
    m->wq[i] = f->q[i];
  m->aq[0] = f->q[3];
  m->aq[1] = f->q[4];
  m->quant_output = TRUE;
  f->qat = (EspcnQatModel) { m, g_strcmp0 (method, "testq") == 0 ? &testq_method : espcn_quant_method_lookup (method),
                             { f->q[0], f->q[3], f->q[1], f->q[4], f->q[2] }, TRUE };

  f->w = w;
  f->h = h;
  EspcnRng rng;
  espcn_rng_seed (&rng, seed + 1);
  f->rgb = g_malloc ((gsize) w * h * 3);
  f->lr = g_malloc ((gsize) w * h * 3 * sizeof (float));
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) {
        /* A smooth image plus noise, so activations look like a photograph's. */
        int v = (int) (128 + 90 * sinf (0.21f * x + 1.7f * c) * cosf (0.17f * y)) + (int) espcn_rng_below (&rng, 31) - 15;
        guint8 u = (guint8) CLAMP (v, 0, 255);
        f->rgb[((gsize) y * w + x) * 3 + c] = u;
        f->lr[(gsize) c * w * h + (gsize) y * w + x] = u / 255.0f;
      }
  espcn_float_model_init_quantizers (m, f->lr, 1, h, w);
  for (int i = 0; i < 5; i++)
    f->q[i]->training = FALSE;
  return g_steal_pointer (&f);
}

/* Engine output vs the float model's fake-quant forward, both as 8-bit pixels. */
static void
compare_engine_to_float (Fixture *f, const EspcnInt8Model *m, int *n_diff, int *max_diff, gsize *n_total)
{
  int s = f->model->config.scale, W = f->w * s, H = f->h * s;
  gsize n = (gsize) W * H * 3;
  g_autofree float *sr = g_malloc (n * sizeof (float));
  espcn_float_model_forward (f->model, f->lr, 1, f->h, f->w, sr);
  g_autofree guint8 *out = g_malloc (n);
  g_autoptr (GError) error = NULL;
  g_assert_true (espcn_engine_process_reference (m, f->rgb, (gsize) f->w * 3, &ESPCN_PIXEL_LAYOUT_RGB, f->w, f->h,
      out, (gsize) W * 3, &ESPCN_PIXEL_LAYOUT_RGB, &error));
  g_assert_no_error (error);
  *n_diff = 0;
  *max_diff = 0;
  int n_mid = 0;
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        float v = sr[(gsize) c * W * H + (gsize) y * W + x];
        int fq = (int) lrintf (v * 255.0f);
        int e = out[((gsize) y * W + x) * 3 + c];
        int d = abs (fq - e);
        if (d > 0)
          (*n_diff)++;
        *max_diff = MAX (*max_diff, d);
        if (e > 0 && e < 255)
          n_mid++;
      }
  *n_total = n;
  /* Meaningful only if most outputs are not clamped. */
  g_assert_cmpint (n_mid, >, (int) (n / 2));
}

/* Set each float bias to its export value b_int * s_w[c] * s_in, as a trainer that
 * keeps biases on their integer grid would (docs/integer-grid.md keeps them float). */
static void
snap_biases_to_grid (Fixture *f, const EspcnInt8Model *m)
{
  double s_in = 1.0 / 255.0;
  for (int i = 0; i < 3; i++) {
    const EspcnInt8Layer *l = espcn_int8_model_get_layer (m, i);
    for (int c = 0; c < l->out_c; c++)
      f->model->bias[i][c] = (float) (l->bias[c] * (double) l->weight_scale[c] * s_in);
    s_in = l->act_scale;
  }
}

typedef struct {
  int n_diff, max_diff;
  gsize n;
} RoundTrip;

static RoundTrip
round_trip (const char *method, int scale, int features, gint32 wmax, gint32 act_qmax, EspcnWeightDtype want_dtype,
            gboolean grid_bias)
{
  RoundTrip rt = { -1, -1, 0 };
  g_autoptr (Fixture) f = fixture_new (method, scale, features, wmax, act_qmax, 48, 40, 2024 + scale);
  if (f == NULL)
    return rt;
  g_autoptr (GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (meta, "train_data", "synthetic");
  g_hash_table_insert (meta, "recipe", "test-export round trip");
  g_autoptr (GError) error = NULL;
  if (grid_bias) {
    g_autoptr (EspcnInt8Model) first = espcn_export_int8_model (&f->qat, NULL, &error);
    g_assert_no_error (error);
    snap_biases_to_grid (f, first);
  }
  g_autofree char *dir = espcn_test_make_tmp_dir ("espcn-export-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_assert_true (espcn_export_int8 (&f->qat, meta, path, &error));
  g_assert_no_error (error);
  g_autoptr (EspcnInt8Model) m = espcn_int8_model_load (path, &error);
  g_assert_no_error (error);
  g_unlink (path);
  g_rmdir (dir);

  g_assert_cmpstr (espcn_int8_model_get_method (m), ==, method);
  g_assert_cmpstr (espcn_int8_model_get_metadata (m, "train_data"), ==, "synthetic");
  g_assert_true (g_str_has_prefix (espcn_int8_model_get_metadata (m, "creator"), "espcn-gst "));
  g_assert_nonnull (espcn_int8_model_get_metadata (m, "created"));
  g_assert_cmpint (espcn_int8_model_get_scale (m), ==, scale);
  g_assert_cmpint (espcn_int8_model_get_features (m), ==, features);
  g_assert_cmpint (espcn_int8_model_get_layer (m, 1)->weight_dtype, ==, want_dtype);
  g_assert_cmpint (espcn_int8_model_get_layer (m, 0)->out_max, ==, act_qmax);

  compare_engine_to_float (f, m, &rt.n_diff, &rt.max_diff, &rt.n);
  g_test_message ("%s x%d F=%d, %s biases: %d of %" G_GSIZE_FORMAT " output values differ from the float "
      "fake-quant forward, max difference %d", method, scale, features, grid_bias ? "grid" : "float", rt.n_diff,
      rt.n, rt.max_diff);
  if (g_getenv ("ESPCN_TEST_REPORT"))
    g_printerr ("export round trip %s x%d F=%d %s bias: %d of %" G_GSIZE_FORMAT " differ, max %d\n", method,
        scale, features, grid_bias ? "grid" : "float", rt.n_diff, rt.n, rt.max_diff);
  return rt;
}

/* At most a tiny fraction of values off by one (summation order at exact ties). */
static void
assert_near_exact (RoundTrip rt)
{
  if (rt.n == 0)
    return;  /* skipped */
  g_assert_cmpint (rt.max_diff, <=, 1);
  g_assert_cmpfloat ((double) rt.n_diff / rt.n, <, 0.005);
}

static void
test_round_trip_int8_weights (void)
{
  assert_near_exact (round_trip ("testq", 2, 16, 127, ESPCN_ACT_QMAX_FAST, ESPCN_WEIGHT_I8, FALSE));
  assert_near_exact (round_trip ("testq", 3, 8, 127, ESPCN_ACT_QMAX_FAST, ESPCN_WEIGHT_I8, FALSE));
}

static void
test_round_trip_int16_weights (void)
{
  assert_near_exact (round_trip ("testq", 4, 8, 4095, ESPCN_ACT_QMAX_WIDE, ESPCN_WEIGHT_I16, FALSE));
  /* 127-level weights after a 255-level activation are stored as int16. */
  assert_near_exact (round_trip ("testq", 2, 8, 127, ESPCN_ACT_QMAX_WIDE, ESPCN_WEIGHT_I16, FALSE));
}

/* LSQ with biases on their integer grid: the engine computes the fake-quant forward. */
static void
test_round_trip_lsq_grid_bias (void)
{
  assert_near_exact (round_trip ("lsq", 2, 16, 0, ESPCN_ACT_QMAX_FAST, ESPCN_WEIGHT_I8, TRUE));
  assert_near_exact (round_trip ("lsq", 4, 32, 0, ESPCN_ACT_QMAX_FAST, ESPCN_WEIGHT_I8, TRUE));
}

/* LSQ with float biases, as docs/integer-grid.md has training keep them.  At LSQ's
 * initial step sizes conv3's real multiplier s_w * s_in / s_out is about 0.04 (not
 * the < 0.01 the grid document expects), so bias rounding at export moves outputs by
 * up to 0.02 steps and about 5% of values differ by 1 (some by 2 through a hidden
 * level).  This test pins that measured gap so that it cannot grow unnoticed; the
 * remedy (biases on their grid in training) belongs to the trainer. */
static void
test_round_trip_lsq_float_bias_gap (void)
{
  RoundTrip a = round_trip ("lsq", 2, 16, 0, ESPCN_ACT_QMAX_FAST, ESPCN_WEIGHT_I8, FALSE);
  RoundTrip b = round_trip ("lsq", 4, 32, 0, ESPCN_ACT_QMAX_FAST, ESPCN_WEIGHT_I8, FALSE);
  RoundTrip all[2] = { a, b };
  for (int i = 0; i < 2; i++) {
    if (all[i].n == 0)
      continue;
    g_assert_cmpint (all[i].max_diff, <=, 2);
    g_assert_cmpfloat ((double) all[i].n_diff / all[i].n, <, 0.08);
  }
}

static void
expect_export_error (Fixture *f, const char *n1, const char *n2)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnInt8Model) m = espcn_export_int8_model (&f->qat, NULL, &error);
  g_assert_null (m);
  g_assert_nonnull (error);
  if (strstr (error->message, n1) == NULL || (n2 && strstr (error->message, n2) == NULL))
    g_error ("message '%s' lacks '%s' / '%s'", error->message, n1, n2 ? n2 : "");
  g_test_message ("refused as expected: %s", error->message);
}

static void
test_non_finite_tensors_are_refused (void)
{
  g_autoptr (Fixture) f = fixture_new ("testq", 2, 8, 127, 127, 6, 5, 1);
  float keep = f->model->weight[1][3];
  f->model->weight[1][3] = NAN;
  expect_export_error (f, "conv2.weight", "NaN");
  f->model->weight[1][3] = keep;
  f->model->bias[2][0] = INFINITY;
  expect_export_error (f, "conv3.bias", "infinity");
  f->model->bias[2][0] = 0.0f;
  f->model->weight[0][74] = -INFINITY;
  expect_export_error (f, "conv1.weight", "index 74");
}

static void
test_model_without_quantizers_is_refused (void)
{
  g_autoptr (Fixture) f = fixture_new ("testq", 2, 8, 127, 127, 6, 5, 2);
  f->qat.method = espcn_quant_method_lookup ("none");
  expect_export_error (f, "no quantization method", NULL);
  f->qat.method = &testq_method;
  f->qat.slot[2] = NULL;
  expect_export_error (f, "conv2 has no weight quantizer", NULL);
  f->qat.slot[2] = f->q[1];
  f->qat.slot[1] = NULL;
  expect_export_error (f, "conv1 has no activation quantizer", NULL);
}

static void
test_unrepresentable_values_are_refused (void)
{
  g_autoptr (Fixture) f = fixture_new ("testq", 2, 8, 127, 127, 6, 5, 3);
  /* A bias far beyond 2^30 accumulator steps (a channel whose step collapsed): the
   * channel is re-gridded until its bias fits, so its weights round to zero beside it. */
  f->model->bias[0][1] = 1e9f;
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (EspcnInt8Model) m = espcn_export_int8_model (&f->qat, NULL, &error);
    g_assert_no_error (error);
    const EspcnInt8Layer *l = espcn_int8_model_get_layer (m, 0);
    int per = l->in_c * l->k * l->k;
    for (int j = 0; j < per; j++)
      g_assert_cmpint (l->weight[per + j], ==, 0);
    g_assert_cmpint (ABS (l->bias[1]), <=, ESPCN_INT8_BIAS_MAX);
    g_assert_cmpfloat (l->weight_scale[1], >, l->weight_scale[0]);
  }
  f->model->bias[0][1] = 0.0f;
  /* A dead channel (all weights ~0, max-based step ~1e-30): its requantization
   * multiplier would be far below 2^-32, so it is re-gridded too. */
  {
    float saved = ((TestQ *) f->q[0]->priv)->step[2];
    ((TestQ *) f->q[0]->priv)->step[2] = 1e-30f;
    g_autoptr (GError) error = NULL;
    g_autoptr (EspcnInt8Model) m = espcn_export_int8_model (&f->qat, NULL, &error);
    g_assert_no_error (error);
    const EspcnInt8Layer *l = espcn_int8_model_get_layer (m, 0);
    g_assert_cmpfloat (l->weight_scale[2], >, 1e-20);
    ((TestQ *) f->q[0]->priv)->step[2] = saved;
  }
  /* Weight levels beyond int16. */
  ((TestQ *) f->q[2]->priv)->wmax = 5000;
  expect_export_error (f, "conv3 weight quantizer", "int16");
  ((TestQ *) f->q[2]->priv)->wmax = 127;
  /* A zero activation step. */
  ((TestQ *) f->q[4]->priv)->step[0] = 0.0f;
  expect_export_error (f, "conv2 activation quantizer", NULL);
}

static void
test_failed_export_writes_no_file (void)
{
  g_autoptr (Fixture) f = fixture_new ("testq", 2, 8, 127, 127, 6, 5, 4);
  f->model->weight[2][0] = NAN;
  g_autofree char *dir = espcn_test_make_tmp_dir ("espcn-export-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_false (espcn_export_int8 (&f->qat, NULL, path, &error));
  g_assert_nonnull (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_rmdir (dir);
  /* And an unwritable destination is an error, not a crash. */
  f->model->weight[2][0] = 0.0f;
  g_clear_error (&error);
  g_assert_false (espcn_export_int8 (&f->qat, NULL, "/nonexistent/dir/m.safetensors", &error));
  g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/export/round-trip-int8-weights", test_round_trip_int8_weights);
  g_test_add_func ("/engine/export/round-trip-int16-weights", test_round_trip_int16_weights);
  g_test_add_func ("/engine/export/round-trip-lsq-grid-bias", test_round_trip_lsq_grid_bias);
  g_test_add_func ("/engine/export/round-trip-lsq-float-bias-gap", test_round_trip_lsq_float_bias_gap);
  g_test_add_func ("/engine/export/non-finite-tensors-are-refused", test_non_finite_tensors_are_refused);
  g_test_add_func ("/engine/export/model-without-quantizers-is-refused", test_model_without_quantizers_is_refused);
  g_test_add_func ("/engine/export/unrepresentable-values-are-refused", test_unrepresentable_values_are_refused);
  g_test_add_func ("/engine/export/failed-export-writes-no-file", test_failed_export_writes_no_file);
  return g_test_run ();
}
