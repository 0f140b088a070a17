/* The float ESPCN: init, whole-model gradients (with quantizer hooks), thread
 * determinism, inference consistency, the pixel-grid output. */
#include "nn/model.h"
#include "nn-test-util.h"

#include <string.h>

/* A test quantizer y = a * x with one learned parameter a: smooth, so the hooks can
 * be checked by finite differences.  It records the order of the calls it gets. */
typedef struct {
  int init_calls, forward_calls;
  int init_stamp, first_forward_stamp;
  size_t init_n;
  gboolean init_saw_negative;
} ScaleQ;

static int call_clock;

static void
scaleq_init (EspcnQuantizer *q, const float *x, size_t n)
{
  ScaleQ *s = q->priv;
  s->init_calls++;
  s->init_stamp = ++call_clock;
  s->init_n = n;
  for (size_t i = 0; i < n; i++)
    if (x[i] < 0.0f)
      s->init_saw_negative = TRUE;
  q->params[0] = 0.9f;
}

static void
scaleq_forward (EspcnQuantizer *q, const float *x, float *y, size_t n)
{
  ScaleQ *s = q->priv;
  if (s->forward_calls++ == 0)
    s->first_forward_stamp = ++call_clock;
  for (size_t i = 0; i < n; i++)
    y[i] = q->params[0] * x[i];
}

static void
scaleq_backward (EspcnQuantizer *q, const float *x, const float *dy, float *dx, size_t n)
{
  double g = 0.0;
  for (size_t i = 0; i < n; i++) {
    dx[i] = q->params[0] * dy[i];
    g += (double) x[i] * dy[i];
  }
  q->grads[0] += (float) g;
}

/* Regulariser 0.5 a^2. */
static float
scaleq_reg (EspcnQuantizer *q, const float *x, float *dx_reg, size_t n)
{
  (void) x;
  (void) dx_reg;
  (void) n;
  q->grads[0] += q->params[0];
  return 0.5f * q->params[0] * q->params[0];
}

static const EspcnQuantizerOps scaleq_ops = {
  .method = "test-scale", .init = scaleq_init, .forward = scaleq_forward, .backward = scaleq_backward,
  .regularizer = scaleq_reg,
};

typedef struct {
  EspcnQuantizer q;
  float param, grad;
  ScaleQ s;
} TestQ;

static void
testq_setup (TestQ *t, EspcnQuantRole role, float a)
{
  memset (t, 0, sizeof (*t));
  t->q.ops = &scaleq_ops;
  t->q.role = role;
  t->q.channels = 1;
  t->q.params = &t->param;
  t->q.grads = &t->grad;
  t->q.n_params = 1;
  t->q.priv = &t->s;
  t->q.training = TRUE;
  t->param = a;
}

static void
test_model_init_matches_pytorch_bounds (void)
{
  EspcnFloatModelConfig cfg = espcn_float_model_config_default (4);
  g_autoptr (EspcnFloatModel) m = espcn_float_model_new (&cfg, 42, NULL);
  g_autoptr (EspcnFloatModel) same = espcn_float_model_new (&cfg, 42, NULL);
  g_autoptr (EspcnFloatModel) other = espcn_float_model_new (&cfg, 43, NULL);
  EspcnParamRef r[6], rs[6], ro[6];
  espcn_float_model_params (m, r);
  espcn_float_model_params (same, rs);
  espcn_float_model_params (other, ro);
  const char *names[6] = { "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "conv3.weight", "conv3.bias" };
  size_t sizes[6] = { 64 * 75, 64, 32 * 576, 32, 48 * 288, 48 };
  double fan_in[6] = { 75, 75, 576, 576, 288, 288 };
  for (int i = 0; i < 6; i++) {
    g_assert_cmpstr (r[i].name, ==, names[i]);
    g_assert_cmpuint (r[i].n, ==, sizes[i]);
    /* kaiming_uniform_(a = sqrt(5)) gives bound = sqrt(1/3) * sqrt(3 / fan_in) = 1 / sqrt(fan_in), as the bias. */
    double bound = 1.0 / sqrt (fan_in[i]);
    double mean = 0, var = 0, maxabs = 0;
    for (size_t j = 0; j < r[i].n; j++) {
      double v = r[i].param[j];
      g_assert_cmpfloat (fabs (v), <=, bound * (1 + 1e-6));
      mean += v;
      var += v * v;
      maxabs = MAX (maxabs, fabs (v));
    }
    mean /= (double) r[i].n;
    var /= (double) r[i].n;
    g_assert_cmpmem (r[i].param, r[i].n * 4, rs[i].param, rs[i].n * 4);
    g_assert_true (memcmp (r[i].param, ro[i].param, r[i].n * 4) != 0);
    if (r[i].n < 1000)
      continue; /* statistics only on the large tensors */
    g_assert_cmpfloat (maxabs, >, 0.99 * bound);
    g_assert_cmpfloat (fabs (mean), <, 0.05 * bound);
    g_assert_cmpfloat (fabs (var / (bound * bound / 3.0) - 1.0), <, 0.06);
  }
}

static void
test_model_rejects_bad_config (void)
{
  EspcnFloatModelConfig bad[] = { { 5, 64, 3 }, { 1, 64, 3 }, { 2, 7, 3 }, { 2, 0, 3 }, { 2, 64, 2 } };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) e = NULL;
    EspcnFloatModel *m = espcn_float_model_new (&bad[i], 1, &e);
    g_assert_null (m);
    g_assert_nonnull (e);
  }
}

/* All parameter gradients (and the test quantizers') against central differences of
 * the loss, on a tiny model. */
static void
check_model_gradients (gboolean with_quant)
{
  EspcnFloatModelConfig cfg = { 2, 8, 3 };
  g_autoptr (EspcnFloatModel) m = espcn_float_model_new (&cfg, 5, NULL);
  TestQ wq, aq0, aq1;
  if (with_quant) {
    testq_setup (&wq, ESPCN_QUANT_WEIGHT, 1.1f);
    testq_setup (&aq0, ESPCN_QUANT_ACT, 0.8f);
    testq_setup (&aq1, ESPCN_QUANT_ACT, 1.3f);
    m->wq[1] = &wq.q;
    m->aq[0] = &aq0.q;
    m->aq[1] = &aq1.q;
  }
  int n = 2, h = 5, w = 7, s = 2;
  size_t nx = (size_t) n * 3 * h * w, ny = nx * s * s;
  g_autofree float *x = g_new (float, nx), *t = g_new (float, ny);
  EspcnRng rng;
  espcn_rng_seed (&rng, 9);
  fill_uniform (&rng, x, nx, 0, 1);
  fill_uniform (&rng, t, ny, 0, 1);

  EspcnParamRef refs[ESPCN_FLOAT_MODEL_N_PARAMS + ESPCN_FLOAT_MODEL_MAX_QUANT];
  guint nr = espcn_float_model_params (m, refs);
  if (with_quant) {
    EspcnQuantizer *qs[] = { &aq0.q, &wq.q, &aq1.q };
    for (guint k = 0; k < G_N_ELEMENTS (qs); k++)
      refs[nr++] = (EspcnParamRef) { "quant", qs[k]->params, qs[k]->grads, qs[k]->n_params };
  }
  espcn_float_model_train_step_grads (m, x, t, n, h, w, ESPCN_LOSS_L2);
  for (guint i = 0; i < nr; i++) {
    g_autofree double *an = g_new (double, refs[i].n), *fd = g_new (double, refs[i].n);
    for (size_t j = 0; j < refs[i].n; j++)
      an[j] = refs[i].grad[j];
    for (size_t j = 0; j < refs[i].n; j++) {
      float keep = refs[i].param[j], eps = 5e-4f, up = keep + eps, down = keep - eps;
      refs[i].param[j] = up;
      double lp = espcn_float_model_train_step_grads (m, x, t, n, h, w, ESPCN_LOSS_L2);
      refs[i].param[j] = down;
      double lm = espcn_float_model_train_step_grads (m, x, t, n, h, w, ESPCN_LOSS_L2);
      refs[i].param[j] = keep;
      fd[j] = (lp - lm) / ((double) up - (double) down);
    }
    double err = grad_rel_err (an, fd, refs[i].n);
    if (g_test_verbose () || err > 2e-2)
      for (size_t j = 0; j < MIN (refs[i].n, 6); j++)
        g_test_message ("%s[%zu]: analytic %.8g fd %.8g", refs[i].name, j, an[j], fd[j]);
    if (err > 2e-2)
      g_error ("%s: relative gradient error %g", refs[i].name, err);
  }
}

static void
test_model_gradients_match_finite_differences (void)
{
  check_model_gradients (FALSE);
}

static void
test_model_quantizer_hooks_gradients_match_finite_differences (void)
{
  check_model_gradients (TRUE);
}

static void
test_model_regularizer_adds_quantizer_terms (void)
{
  EspcnFloatModelConfig cfg = { 2, 8, 3 };
  g_autoptr (EspcnFloatModel) m = espcn_float_model_new (&cfg, 5, NULL);
  TestQ wq, aq;
  testq_setup (&wq, ESPCN_QUANT_WEIGHT, 2.0f);
  testq_setup (&aq, ESPCN_QUANT_ACT, 3.0f);
  m->wq[2] = &wq.q;
  m->aq[1] = &aq.q;
  float r = espcn_float_model_regularizer (m);
  g_assert_cmpfloat_with_epsilon (r, 0.5 * 4 + 0.5 * 9, 1e-6);
  g_assert_cmpfloat (wq.grad, ==, 2.0f);
  g_assert_cmpfloat (aq.grad, ==, 3.0f);
}

static void
test_model_init_quantizers_in_order (void)
{
  EspcnFloatModelConfig cfg = { 3, 8, 3 };
  g_autoptr (EspcnFloatModel) m = espcn_float_model_new (&cfg, 5, NULL);
  TestQ wq0, wq2, aq0, aq1;
  testq_setup (&wq0, ESPCN_QUANT_WEIGHT, 1.0f);
  testq_setup (&wq2, ESPCN_QUANT_WEIGHT, 1.0f);
  testq_setup (&aq0, ESPCN_QUANT_ACT, 1.0f);
  testq_setup (&aq1, ESPCN_QUANT_ACT, 1.0f);
  m->wq[0] = &wq0.q;
  m->wq[2] = &wq2.q;
  m->aq[0] = &aq0.q;
  m->aq[1] = &aq1.q;
  int n = 3, h = 4, w = 6;
  g_autofree float *x = g_new (float, (size_t) n * 3 * h * w);
  EspcnRng rng;
  espcn_rng_seed (&rng, 1);
  fill_uniform (&rng, x, (size_t) n * 3 * h * w, 0, 1);
  call_clock = 0;
  espcn_float_model_init_quantizers (m, x, n, h, w);
  TestQ *all[] = { &wq0, &wq2, &aq0, &aq1 };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    g_assert_cmpint (all[i]->s.init_calls, ==, 1);
  g_assert_true (wq0.s.init_saw_negative); /* the raw weights */
  g_assert_false (aq0.s.init_saw_negative); /* post-ReLU activations */
  g_assert_false (aq1.s.init_saw_negative);
  g_assert_cmpuint (wq0.s.init_n, ==, 8 * 3 * 25);
  g_assert_cmpuint (aq0.s.init_n, ==, (size_t) n * 8 * h * w);
  g_assert_cmpuint (aq1.s.init_n, ==, (size_t) n * 4 * h * w);
  /* Weights first; aq[0] initialised and applied before aq[1] sees anything. */
  g_assert_cmpint (wq0.s.init_stamp, <, aq0.s.init_stamp);
  g_assert_cmpint (aq0.s.init_stamp, <, aq0.s.first_forward_stamp);
  g_assert_cmpint (aq0.s.first_forward_stamp, <, aq1.s.init_stamp);
}

/* Same seed and data: 1 and 2 threads give bit-identical loss and gradients. */
static void
test_model_train_step_bit_identical_across_threads (void)
{
  EspcnFloatModelConfig cfg = { 3, 16, 3 };
  int n = 5, h = 7, w = 9, s = 3;
  size_t nx = (size_t) n * 3 * h * w, ny = nx * s * s;
  g_autofree float *x = g_new (float, nx), *t = g_new (float, ny);
  EspcnRng rng;
  espcn_rng_seed (&rng, 2);
  fill_uniform (&rng, x, nx, 0, 1);
  fill_uniform (&rng, t, ny, 0, 1);
  float loss[2];
  EspcnFloatModel *ms[2];
  TestQ aq[2];
  for (int k = 0; k < 2; k++) {
    ms[k] = espcn_float_model_new (&cfg, 77, NULL);
    testq_setup (&aq[k], ESPCN_QUANT_ACT, 1.2f);
    ms[k]->aq[0] = &aq[k].q;
    espcn_float_model_set_threads (ms[k], k + 1);
    loss[k] = espcn_float_model_train_step_grads (ms[k], x, t, n, h, w, ESPCN_LOSS_L1);
  }
  g_assert_cmpmem (&loss[0], 4, &loss[1], 4);
  g_assert_cmpmem (&aq[0].grad, 4, &aq[1].grad, 4);
  EspcnParamRef r0[6], r1[6];
  espcn_float_model_params (ms[0], r0);
  espcn_float_model_params (ms[1], r1);
  for (int i = 0; i < 6; i++)
    g_assert_cmpmem (r0[i].grad, r0[i].n * 4, r1[i].grad, r1[i].n * 4);
  espcn_float_model_free (ms[0]);
  espcn_float_model_free (ms[1]);
}

/* Inference on odd sizes: batched equals one by one, and its L2 loss is the training loss. */
static void
test_model_forward_consistent_with_training (void)
{
  EspcnFloatModelConfig cfg = { 4, 8, 3 };
  g_autoptr (EspcnFloatModel) m = espcn_float_model_new (&cfg, 3, NULL);
  int n = 3, h = 11, w = 13, s = 4;
  size_t in_img = (size_t) 3 * h * w, out_img = in_img * s * s;
  g_autofree float *x = g_new (float, n * in_img), *t = g_new (float, n * out_img);
  g_autofree float *y = g_new (float, n * out_img), *y1 = g_new (float, out_img);
  EspcnRng rng;
  espcn_rng_seed (&rng, 4);
  fill_uniform (&rng, x, n * in_img, 0, 1);
  fill_uniform (&rng, t, n * out_img, 0, 1);
  espcn_float_model_forward (m, x, n, h, w, y);
  for (int i = 0; i < n; i++) {
    espcn_float_model_forward (m, x + i * in_img, 1, h, w, y1);
    g_assert_cmpmem (y1, out_img * 4, y + i * out_img, out_img * 4);
  }
  double l2 = 0;
  for (size_t i = 0; i < n * out_img; i++)
    l2 += ((double) y[i] - t[i]) * ((double) y[i] - t[i]);
  l2 /= (double) (n * out_img);
  float loss = espcn_float_model_train_step_grads (m, x, t, n, h, w, ESPCN_LOSS_L2);
  g_assert_cmpfloat_with_epsilon (loss, l2, 1e-6);
}

/* quant_output puts every output pixel on k/255 in [0, 1]; gradients pass only inside [0, 1]. */
static void
test_model_quant_output_rounds_onto_pixel_grid (void)
{
  EspcnFloatModelConfig cfg = { 2, 8, 3 };
  g_autoptr (EspcnFloatModel) m = espcn_float_model_new (&cfg, 8, NULL);
  int n = 2, h = 6, w = 5, s = 2;
  size_t nx = (size_t) n * 3 * h * w, ny = nx * s * s;
  g_autofree float *x = g_new (float, nx), *y = g_new (float, ny), *yf = g_new (float, ny);
  EspcnRng rng;
  espcn_rng_seed (&rng, 6);
  fill_uniform (&rng, x, nx, 0, 1);
  m->bias[2][0] += 0.6f; /* push some outputs above 1 and keep some below 0 */
  espcn_float_model_forward (m, x, n, h, w, yf);
  m->quant_output = TRUE;
  espcn_float_model_forward (m, x, n, h, w, y);
  int above = 0, below = 0;
  for (size_t i = 0; i < ny; i++) {
    float k = y[i] * 255.0f;
    g_assert_cmpfloat (fabsf (k - roundf (k)), <, 1e-3f);
    g_assert_cmpfloat (y[i], >=, 0.0f);
    g_assert_cmpfloat (y[i], <=, 1.0f);
    float expect = CLAMP (floorf (yf[i] * 255.0f + 0.5f), 0.0f, 255.0f) / 255.0f;
    g_assert_cmpfloat (fabsf (y[i] - expect), <=, 1.0f / 255.0f + 1e-6f); /* ties may differ by float rounding */
    above += yf[i] > 1.0f;
    below += yf[i] < 0.0f;
  }
  g_assert_cmpint (above + below, >, 0);
  /* Zero target, L2: with every output clamped the weights get no gradient. */
  g_autofree float *t = g_new0 (float, ny);
  m->bias[2][0] = m->bias[2][1] = m->bias[2][2] = m->bias[2][3] = -10.0f;
  espcn_float_model_train_step_grads (m, x, t, n, h, w, ESPCN_LOSS_L2);
  for (int o = 0; o < 12; o++)
    g_assert_cmpfloat (m->bias_grad[2][o], ==, o < 4 ? 0.0f : m->bias_grad[2][o]);
  g_assert_cmpfloat (m->bias_grad[2][0], ==, 0.0f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/model/init-matches-pytorch-bounds", test_model_init_matches_pytorch_bounds);
  g_test_add_func ("/nn/model/rejects-bad-config", test_model_rejects_bad_config);
  g_test_add_func ("/nn/model/gradients-match-finite-differences", test_model_gradients_match_finite_differences);
  g_test_add_func ("/nn/model/quantizer-hooks-gradients-match-finite-differences",
                   test_model_quantizer_hooks_gradients_match_finite_differences);
  g_test_add_func ("/nn/model/regularizer-adds-quantizer-terms", test_model_regularizer_adds_quantizer_terms);
  g_test_add_func ("/nn/model/init-quantizers-in-order", test_model_init_quantizers_in_order);
  g_test_add_func ("/nn/model/train-step-bit-identical-across-threads",
                   test_model_train_step_bit_identical_across_threads);
  g_test_add_func ("/nn/model/forward-consistent-with-training", test_model_forward_consistent_with_training);
  g_test_add_func ("/nn/model/quant-output-rounds-onto-pixel-grid", test_model_quant_output_rounds_onto_pixel_grid);
  return g_test_run ();
}
