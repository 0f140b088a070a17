#include "nn/model.h"
#include "nn/conv2d.h"
#include "nn/pool-private.h"
#include "util/rng.h"

#include <cblas.h>
#include <gio/gio.h>
#include <math.h>
#include <string.h>

typedef struct {
  float *ws;
  size_t ws_cap;
  float *gacc[3];
  float *o3, *o3q, *sr, *dsr; /* one image of conv3 output / SR output */
  float *xt3;                 /* conv3's input transform of one image, forward to backward */
  size_t img_cap, xt3_cap;
  double loss_sum;
} Chunk;

struct _EspcnFloatModelPrivate {
  EspcnPool *pool;
  EspcnConv2d conv[3];
  float *wfq[3];  /* fake-quantized weights, when wq[i] is set */
  float *dwfq[3]; /* gradient w.r.t. them, before wq[i]->backward */
  size_t nw[3];
  /* Whole-batch activations; sized for cap_px = n * h * w LR pixels. */
  size_t cap_px;
  float *r1, *q1, *dq1, *dr; /* F channels */
  float *r2, *q2, *dq2;      /* F/2 channels */
  /* conv1 / conv2 input transforms of every image, kept from forward for backward. */
  size_t cap_xt[2];
  float *xt[2];
  Chunk chunk[ESPCN_NN_CHUNKS];
};

typedef enum { PASS_INFER, PASS_INIT, PASS_OBSERVE, PASS_TRAIN } PassMode;

typedef struct {
  EspcnFloatModel *m;
  PassMode mode;
  const float *x;   /* [n][3][h][w] */
  const float *hr;  /* [n][3][h*s][w*s], training */
  float *sr_out;    /* [n][3][h*s][w*s], inference */
  int n, h, w;
  EspcnLoss loss;
  float inv_count;
} Pass;

EspcnFloatModelConfig
espcn_float_model_config_default (int scale)
{
  EspcnFloatModelConfig c = { scale, 64, 3 };
  return c;
}

static void
init_uniform (EspcnRng *rng, float *v, size_t n, float bound)
{
  for (size_t i = 0; i < n; i++)
    v[i] = espcn_rng_uniform_range (rng, -bound, bound);
}

EspcnFloatModel *
espcn_float_model_new (const EspcnFloatModelConfig *config, guint64 seed, GError **error)
{
  int s = config->scale, F = config->features, C = config->channels ? config->channels : 3;
  if (C != 1 && C != 3) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "float model: %d channels unsupported (1 or 3)", C);
    return NULL;
  }
  if (s < 2 || s > 4) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "float model: scale %d unsupported (2, 3 or 4)", s);
    return NULL;
  }
  if (F < 2 || F % 2 != 0 || F > 4096) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "float model: features %d invalid (even, 2 .. 4096)", F);
    return NULL;
  }
  EspcnFloatModel *m = g_new0 (EspcnFloatModel, 1);
  EspcnFloatModelPrivate *p = m->priv = g_new0 (EspcnFloatModelPrivate, 1);
  m->config = *config;
  m->config.channels = C;
  int cin[3] = { C, F, F / 2 }, cout[3] = { F, F / 2, C * s * s }, k[3] = { 5, 3, 3 };
  EspcnRng rng;
  espcn_rng_seed (&rng, seed);
  for (int i = 0; i < 3; i++) {
    m->cin[i] = cin[i];
    m->cout[i] = cout[i];
    m->k[i] = k[i];
    size_t fan_in = (size_t) cin[i] * k[i] * k[i];
    p->nw[i] = fan_in * cout[i];
    m->weight[i] = g_new (float, p->nw[i]);
    m->bias[i] = g_new (float, cout[i]);
    m->weight_grad[i] = g_new0 (float, p->nw[i]);
    m->bias_grad[i] = g_new0 (float, cout[i]);
    p->wfq[i] = g_new0 (float, p->nw[i]);
    p->dwfq[i] = g_new0 (float, p->nw[i]);
    /* kaiming_uniform_(a = sqrt(5)): gain = sqrt(2 / (1 + a^2)), bound = gain * sqrt(3 / fan_in). */
    double gain = sqrt (2.0 / (1.0 + 5.0));
    init_uniform (&rng, m->weight[i], p->nw[i], (float) (gain * sqrt (3.0 / (double) fan_in)));
    init_uniform (&rng, m->bias[i], cout[i], (float) (1.0 / sqrt ((double) fan_in)));
    gboolean ok = espcn_conv2d_init (&p->conv[i], cin[i], cout[i], k[i], ESPCN_CONV_ALGO_AUTO, NULL);
    g_assert (ok);
    for (int c = 0; c < ESPCN_NN_CHUNKS; c++)
      p->chunk[c].gacc[i] = g_new0 (float, espcn_conv2d_grad_acc_size (&p->conv[i]));
  }
  /* Parallelism comes from our own threads, one image per GEMM call each. */
  openblas_set_num_threads (1);
  p->pool = espcn_pool_new (MIN (ESPCN_NN_CHUNKS, (int) g_get_num_processors ()));
  return m;
}

void
espcn_float_model_free (EspcnFloatModel *m)
{
  if (!m)
    return;
  EspcnFloatModelPrivate *p = m->priv;
  espcn_pool_free (p->pool);
  for (int i = 0; i < 3; i++) {
    g_free (m->weight[i]);
    g_free (m->bias[i]);
    g_free (m->weight_grad[i]);
    g_free (m->bias_grad[i]);
    g_free (p->wfq[i]);
    g_free (p->dwfq[i]);
    espcn_conv2d_clear (&p->conv[i]);
    for (int c = 0; c < ESPCN_NN_CHUNKS; c++)
      g_free (p->chunk[c].gacc[i]);
  }
  for (int c = 0; c < ESPCN_NN_CHUNKS; c++) {
    Chunk *ch = &p->chunk[c];
    g_free (ch->ws);
    g_free (ch->o3);
    g_free (ch->o3q);
    g_free (ch->sr);
    g_free (ch->dsr);
    g_free (ch->xt3);
  }
  g_free (p->xt[0]);
  g_free (p->xt[1]);
  g_free (p->r1);
  g_free (p->q1);
  g_free (p->dq1);
  g_free (p->dr);
  g_free (p->r2);
  g_free (p->q2);
  g_free (p->dq2);
  g_free (p);
  g_free (m);
}

void
espcn_float_model_set_threads (EspcnFloatModel *m, int n_threads)
{
  n_threads = CLAMP (n_threads, 1, ESPCN_NN_CHUNKS);
  if (espcn_pool_n_threads (m->priv->pool) == n_threads)
    return;
  espcn_pool_free (m->priv->pool);
  m->priv->pool = espcn_pool_new (n_threads);
}

guint
espcn_float_model_params (EspcnFloatModel *m, EspcnParamRef refs[ESPCN_FLOAT_MODEL_N_PARAMS])
{
  static const char *const names[] = { "conv1.weight", "conv1.bias", "conv2.weight",
                                       "conv2.bias",   "conv3.weight", "conv3.bias" };
  for (int i = 0; i < 3; i++) {
    refs[2 * i] = (EspcnParamRef) { names[2 * i], m->weight[i], m->weight_grad[i], m->priv->nw[i] };
    refs[2 * i + 1] = (EspcnParamRef) { names[2 * i + 1], m->bias[i], m->bias_grad[i], (size_t) m->cout[i] };
  }
  return ESPCN_FLOAT_MODEL_N_PARAMS;
}

/* The quantizers set now, in the order wq[0], aq[0], wq[1], aq[1], wq[2]. */
static int
list_quantizers (EspcnFloatModel *m, EspcnQuantizer *qs[ESPCN_FLOAT_MODEL_MAX_QUANT])
{
  EspcnQuantizer *all[] = { m->wq[0], m->aq[0], m->wq[1], m->aq[1], m->wq[2] };
  int n = 0;
  for (int i = 0; i < ESPCN_FLOAT_MODEL_MAX_QUANT; i++)
    if (all[i])
      qs[n++] = all[i];
  return n;
}

static void
ensure_buffers (EspcnFloatModel *m, int n, int h, int w)
{
  EspcnFloatModelPrivate *p = m->priv;
  int F = m->config.features, s = m->config.scale;
  size_t px = (size_t) n * h * w;
  if (px > p->cap_px) {
    float **big[] = { &p->r1, &p->q1, &p->dq1, &p->dr }, **half[] = { &p->r2, &p->q2, &p->dq2 };
    for (guint i = 0; i < G_N_ELEMENTS (big); i++) {
      g_free (*big[i]);
      *big[i] = g_new (float, px * F);
    }
    for (guint i = 0; i < G_N_ELEMENTS (half); i++) {
      g_free (*half[i]);
      *half[i] = g_new (float, px * (F / 2));
    }
    p->cap_px = px;
  }
  size_t ws = 0;
  for (int i = 0; i < 3; i++)
    ws = MAX (ws, espcn_conv2d_workspace_size (&p->conv[i], h, w));
  for (int i = 0; i < 2; i++) {
    size_t need = (size_t) n * espcn_conv2d_xt_size (&p->conv[i], h, w);
    if (need > p->cap_xt[i]) {
      g_free (p->xt[i]);
      p->xt[i] = g_new (float, need);
      p->cap_xt[i] = need;
    }
  }
  size_t img = (size_t) m->config.channels * s * s * h * w;
  for (int c = 0; c < ESPCN_NN_CHUNKS; c++) {
    Chunk *ch = &p->chunk[c];
    if (ws > ch->ws_cap) {
      g_free (ch->ws);
      ch->ws = g_new (float, ws);
      ch->ws_cap = ws;
    }
    if (img > ch->img_cap) {
      float **b[] = { &ch->o3, &ch->o3q, &ch->sr, &ch->dsr };
      for (guint i = 0; i < G_N_ELEMENTS (b); i++) {
        g_free (*b[i]);
        *b[i] = g_new (float, img);
      }
      ch->img_cap = img;
    }
    size_t xt3 = espcn_conv2d_xt_size (&p->conv[2], h, w);
    if (xt3 > ch->xt3_cap) {
      g_free (ch->xt3);
      ch->xt3 = g_new (float, xt3);
      ch->xt3_cap = xt3;
    }
  }
}

static inline void
chunk_range (const Pass *ps, int c, int *first, int *last)
{
  *first = (int) ((gint64) c * ps->n / ESPCN_NN_CHUNKS);
  *last = (int) ((gint64) (c + 1) * ps->n / ESPCN_NN_CHUNKS);
}

/* The tensors conv2 and conv3 read: the quantized activations when a quantizer is set. */
static inline float *
conv2_input (EspcnFloatModel *m)
{
  return m->aq[0] ? m->priv->q1 : m->priv->r1;
}

static inline float *
conv3_input (EspcnFloatModel *m)
{
  return m->aq[1] ? m->priv->q2 : m->priv->r2;
}

/* Where image i keeps conv `layer`'s input transform in training, NULL otherwise. */
static inline float *
kept_xt (const Pass *ps, int layer, int i)
{
  EspcnFloatModelPrivate *p = ps->m->priv;
  if (ps->mode != PASS_TRAIN)
    return NULL;
  return p->xt[layer] + (size_t) i * espcn_conv2d_xt_size (&p->conv[layer], ps->h, ps->w);
}

static void
phase_conv1 (void *data, int c)
{
  Pass *ps = data;
  EspcnFloatModel *m = ps->m;
  EspcnFloatModelPrivate *p = m->priv;
  size_t hw = (size_t) ps->h * ps->w;
  int first, last;
  chunk_range (ps, c, &first, &last);
  for (int i = first; i < last; i++) {
    float *y = p->r1 + (size_t) i * m->cout[0] * hw;
    espcn_conv2d_forward (&p->conv[0], ps->x + (size_t) i * m->cin[0] * hw, ps->h, ps->w, y, p->chunk[c].ws,
                          kept_xt (ps, 0, i));
    espcn_relu_forward (y, y, m->cout[0] * hw);
  }
}

static void
phase_conv2 (void *data, int c)
{
  Pass *ps = data;
  EspcnFloatModel *m = ps->m;
  EspcnFloatModelPrivate *p = m->priv;
  size_t hw = (size_t) ps->h * ps->w;
  const float *in = conv2_input (m);
  int first, last;
  chunk_range (ps, c, &first, &last);
  for (int i = first; i < last; i++) {
    float *y = p->r2 + (size_t) i * m->cout[1] * hw;
    espcn_conv2d_forward (&p->conv[1], in + (size_t) i * m->cin[1] * hw, ps->h, ps->w, y, p->chunk[c].ws,
                          kept_xt (ps, 1, i));
    espcn_relu_forward (y, y, m->cout[1] * hw);
  }
}

/* conv3, output rounding, pixel shuffle; in training also the loss and conv3's backward. */
static void
phase_conv3 (void *data, int c)
{
  Pass *ps = data;
  EspcnFloatModel *m = ps->m;
  EspcnFloatModelPrivate *p = m->priv;
  Chunk *ch = &p->chunk[c];
  int s = m->config.scale, h = ps->h, w = ps->w;
  size_t hw = (size_t) h * w, n3 = (size_t) m->cout[2] * hw;
  const float *in = conv3_input (m);
  int first, last;
  chunk_range (ps, c, &first, &last);
  ch->loss_sum = 0.0;
  for (int i = first; i < last; i++) {
    const float *xi = in + (size_t) i * m->cin[2] * hw;
    espcn_conv2d_forward (&p->conv[2], xi, h, w, ch->o3, ch->ws, ps->mode == PASS_TRAIN ? ch->xt3 : NULL);
    float *o = ch->o3;
    if (m->quant_output) {
      for (size_t j = 0; j < n3; j++)
        ch->o3q[j] = CLAMP (espcn_round_half_up (ch->o3[j] * (float) ESPCN_PIXEL_MAX), 0.0f, (float) ESPCN_PIXEL_MAX)
                     / (float) ESPCN_PIXEL_MAX;
      o = ch->o3q;
    }
    float *sr = ps->mode == PASS_TRAIN ? ch->sr : ps->sr_out + (size_t) i * n3;
    espcn_pixel_shuffle_forward (o, m->config.channels, h, w, s, sr);
    if (ps->mode != PASS_TRAIN)
      continue;
    ch->loss_sum += espcn_loss_partial (ps->loss, sr, ps->hr + (size_t) i * n3, n3, ps->inv_count, ch->dsr);
    float *d = ch->o3q; /* reused: d(conv3 output) */
    espcn_pixel_shuffle_backward (ch->dsr, m->config.channels, h, w, s, d);
    if (m->quant_output) /* straight-through inside the pixel range, zero where clamped */
      for (size_t j = 0; j < n3; j++)
        if (!(ch->o3[j] >= 0.0f && ch->o3[j] <= 1.0f))
          d[j] = 0.0f;
    espcn_conv2d_backward (&p->conv[2], xi, ch->xt3, d, h, w, p->dq2 + (size_t) i * m->cin[2] * hw, ch->gacc[2], ch->ws);
  }
}

static void
phase_back2 (void *data, int c)
{
  Pass *ps = data;
  EspcnFloatModel *m = ps->m;
  EspcnFloatModelPrivate *p = m->priv;
  size_t hw = (size_t) ps->h * ps->w, n2 = (size_t) m->cout[1] * hw;
  float *dbase = m->aq[1] ? p->dr : p->dq2;
  int first, last;
  chunk_range (ps, c, &first, &last);
  for (int i = first; i < last; i++) {
    float *d = dbase + (size_t) i * n2;
    espcn_relu_backward (p->r2 + (size_t) i * n2, d, d, n2);
    espcn_conv2d_backward (&p->conv[1], conv2_input (m) + (size_t) i * m->cin[1] * hw, kept_xt (ps, 1, i), d, ps->h, ps->w,
                           p->dq1 + (size_t) i * m->cin[1] * hw, p->chunk[c].gacc[1], p->chunk[c].ws);
  }
}

static void
phase_back1 (void *data, int c)
{
  Pass *ps = data;
  EspcnFloatModel *m = ps->m;
  EspcnFloatModelPrivate *p = m->priv;
  size_t hw = (size_t) ps->h * ps->w, n1 = (size_t) m->cout[0] * hw;
  float *dbase = m->aq[0] ? p->dr : p->dq1;
  int first, last;
  chunk_range (ps, c, &first, &last);
  for (int i = first; i < last; i++) {
    float *d = dbase + (size_t) i * n1;
    espcn_relu_backward (p->r1 + (size_t) i * n1, d, d, n1);
    espcn_conv2d_backward (&p->conv[0], ps->x + (size_t) i * m->cin[0] * hw, kept_xt (ps, 0, i), d, ps->h, ps->w, NULL, p->chunk[c].gacc[0],
                           p->chunk[c].ws);
  }
}

/* Point the convs at the (fake-quantized) weights: once per pass, on the whole tensor. */
static void
prepare_weights (EspcnFloatModel *m, gboolean init)
{
  EspcnFloatModelPrivate *p = m->priv;
  for (int i = 0; i < 3; i++) {
    EspcnQuantizer *q = m->wq[i];
    if (q) {
      if (init && q->ops->adopt)
        q->ops->adopt (q, m->weight[i], p->nw[i]);
      if (init)
        q->ops->init (q, m->weight[i], p->nw[i]);
      q->ops->forward (q, m->weight[i], p->wfq[i], p->nw[i]);
      espcn_conv2d_set_weights (&p->conv[i], p->wfq[i], m->bias[i]);
    } else {
      espcn_conv2d_set_weights (&p->conv[i], m->weight[i], m->bias[i]);
    }
  }
}

/* Activation quantizer over the whole batch tensor (it may keep statistics). */
static void
act_quant (EspcnQuantizer *q, PassMode mode, const float *x, float *y, size_t n)
{
  if (!q)
    return;
  if (mode == PASS_INIT)
    q->ops->init (q, x, n);
  if (mode == PASS_OBSERVE && q->ops->observe)
    q->ops->observe (q, x, n);
  q->ops->forward (q, x, y, n);
}

static void
run_forward (Pass *ps)
{
  EspcnFloatModel *m = ps->m;
  EspcnFloatModelPrivate *p = m->priv;
  size_t px = (size_t) ps->n * ps->h * ps->w;
  espcn_pool_run (p->pool, ESPCN_NN_CHUNKS, phase_conv1, ps);
  act_quant (m->aq[0], ps->mode, p->r1, p->q1, px * m->cout[0]);
  espcn_pool_run (p->pool, ESPCN_NN_CHUNKS, phase_conv2, ps);
  act_quant (m->aq[1], ps->mode, p->r2, p->q2, px * m->cout[1]);
}

static gboolean
sizes_ok (int n, int h, int w)
{
  return n >= 1 && h >= 1 && w >= 1 && (gint64) n * h * w <= G_MAXINT32;
}

float
espcn_float_model_train_step_grads (EspcnFloatModel *m, const float *lr, const float *hr, int n, int lr_h, int lr_w,
                                    EspcnLoss loss)
{
  g_return_val_if_fail (m && lr && hr && sizes_ok (n, lr_h, lr_w), NAN);
  EspcnFloatModelPrivate *p = m->priv;
  int s = m->config.scale;
  ensure_buffers (m, n, lr_h, lr_w);

  for (int i = 0; i < 3; i++) {
    memset (m->weight_grad[i], 0, sizeof (float) * p->nw[i]);
    memset (m->bias_grad[i], 0, sizeof (float) * m->cout[i]);
    memset (p->dwfq[i], 0, sizeof (float) * p->nw[i]);
    for (int c = 0; c < ESPCN_NN_CHUNKS; c++)
      memset (p->chunk[c].gacc[i], 0, sizeof (float) * espcn_conv2d_grad_acc_size (&p->conv[i]));
  }
  EspcnQuantizer *qs[ESPCN_FLOAT_MODEL_MAX_QUANT];
  int nq = list_quantizers (m, qs);
  for (int i = 0; i < nq; i++)
    if (qs[i]->n_params)
      memset (qs[i]->grads, 0, sizeof (float) * qs[i]->n_params);

  size_t hw = (size_t) lr_h * lr_w, px = (size_t) n * hw;
  size_t count = px * m->config.channels * s * s;
  Pass ps = { .m = m, .mode = PASS_TRAIN, .x = lr, .hr = hr, .n = n, .h = lr_h, .w = lr_w, .loss = loss,
              .inv_count = (float) (1.0 / (double) count) };
  prepare_weights (m, FALSE);
  run_forward (&ps);
  espcn_pool_run (p->pool, ESPCN_NN_CHUNKS, phase_conv3, &ps);
  if (m->aq[1])
    m->aq[1]->ops->backward (m->aq[1], p->r2, p->dq2, p->dr, px * m->cout[1]);
  espcn_pool_run (p->pool, ESPCN_NN_CHUNKS, phase_back2, &ps);
  if (m->aq[0])
    m->aq[0]->ops->backward (m->aq[0], p->r1, p->dq1, p->dr, px * m->cout[0]);
  espcn_pool_run (p->pool, ESPCN_NN_CHUNKS, phase_back1, &ps);

  /* Chunk accumulators summed in chunk order: the result does not depend on threads. */
  for (int i = 0; i < 3; i++) {
    size_t na = espcn_conv2d_grad_acc_size (&p->conv[i]);
    float *acc = p->chunk[0].gacc[i];
    for (int c = 1; c < ESPCN_NN_CHUNKS; c++)
      for (size_t j = 0; j < na; j++)
        acc[j] += p->chunk[c].gacc[i][j];
    EspcnQuantizer *q = m->wq[i];
    espcn_conv2d_grad_finish (&p->conv[i], acc, q ? p->dwfq[i] : m->weight_grad[i], m->bias_grad[i]);
    if (q)
      q->ops->backward (q, m->weight[i], p->dwfq[i], m->weight_grad[i], p->nw[i]);
  }
  double total = 0.0;
  for (int c = 0; c < ESPCN_NN_CHUNKS; c++)
    total += p->chunk[c].loss_sum;
  return (float) (total / (double) count);
}

void
espcn_float_model_forward (EspcnFloatModel *m, const float *lr, int n, int h, int w, float *sr_out)
{
  g_return_if_fail (m && lr && sr_out && sizes_ok (n, h, w));
  EspcnFloatModelPrivate *p = m->priv;
  int s = m->config.scale;
  size_t in_img = (size_t) m->config.channels * h * w, out_img = in_img * s * s;
  ensure_buffers (m, MIN (n, ESPCN_NN_CHUNKS), h, w);
  prepare_weights (m, FALSE);
  /* A few images at a time (one per chunk), so memory follows the image size. */
  for (int first = 0; first < n; first += ESPCN_NN_CHUNKS) {
    int cnt = MIN (ESPCN_NN_CHUNKS, n - first);
    Pass ps = { .m = m, .mode = PASS_INFER, .x = lr + (size_t) first * in_img,
                .sr_out = sr_out + (size_t) first * out_img, .n = cnt, .h = h, .w = w };
    run_forward (&ps);
    espcn_pool_run (p->pool, ESPCN_NN_CHUNKS, phase_conv3, &ps);
  }
}

void
espcn_float_model_init_quantizers (EspcnFloatModel *m, const float *lr_batch, int n, int h, int w)
{
  g_return_if_fail (m && lr_batch && sizes_ok (n, h, w));
  ensure_buffers (m, n, h, w);
  prepare_weights (m, TRUE);
  Pass ps = { .m = m, .mode = PASS_INIT, .x = lr_batch, .n = n, .h = h, .w = w };
  run_forward (&ps);
}

void
espcn_float_model_observe_activations (EspcnFloatModel *m, const float *lr_batch, int n, int h, int w)
{
  g_return_if_fail (m && lr_batch && sizes_ok (n, h, w));
  ensure_buffers (m, n, h, w);
  prepare_weights (m, FALSE);
  Pass ps = { .m = m, .mode = PASS_OBSERVE, .x = lr_batch, .n = n, .h = h, .w = w };
  run_forward (&ps);
}

float
espcn_float_model_regularizer (EspcnFloatModel *m)
{
  float total = 0.0f;
  for (int i = 0; i < 3; i++) {
    EspcnQuantizer *q = m->wq[i];
    if (q && q->ops->regularizer)
      total += q->ops->regularizer (q, m->weight[i], m->weight_grad[i], m->priv->nw[i]);
  }
  for (int i = 0; i < 2; i++) {
    EspcnQuantizer *q = m->aq[i];
    if (q && q->ops->regularizer)
      total += q->ops->regularizer (q, NULL, NULL, 0);
  }
  return total;
}

void
espcn_float_model_quant_step (EspcnFloatModel *m, float progress)
{
  EspcnQuantizer *qs[ESPCN_FLOAT_MODEL_MAX_QUANT];
  int nq = list_quantizers (m, qs);
  for (int i = 0; i < nq; i++)
    if (qs[i]->ops->step)
      qs[i]->ops->step (qs[i], progress);
}
