/* espcn-gst: the float ESPCN used for training, with quantizer hooks.
 *
 *   conv1 C->F 5x5, ReLU, [aq[0]], conv2 F->F/2 3x3, ReLU, [aq[1]],
 *   conv3 F/2->C s^2 3x3, [pixel-grid rounding], pixel shuffle by s,
 *
 * with C = 3 (RGB planes) or C = 1 (BT.601 luma Y/255, image/color.h).
 *
 * Each conv's weights pass through wq[i] (when set) before the conv.  Quantizers are
 * borrowed: the model never frees them; set a pointer to NULL to run that tensor in
 * float.  train/qat-model.h owns, attaches and checkpoints them.  Their `training` flag is theirs: the model only calls forward/backward.
 *
 * Threads: a batch is split into ESPCN_NN_CHUNKS fixed contiguous chunks of images,
 * each with its own workspace and gradient accumulators, summed in chunk order; so
 * results are bit-identical for 1 or 2 threads.  OpenBLAS runs single-threaded inside
 * our threads.  Activation quantizers are called once on the whole batch tensor
 * (they may keep running statistics and accumulate q->grads), weight quantizers once
 * per pass on the whole weight tensor.
 */
#pragma once

#include <glib.h>

#include "nn/adam.h"
#include "nn/ops.h"
#include "quant/quantizer.h"

G_BEGIN_DECLS

#define ESPCN_NN_CHUNKS 2
#define ESPCN_FLOAT_MODEL_N_PARAMS 6 /* conv{1,2,3}.{weight,bias} */
#define ESPCN_FLOAT_MODEL_MAX_QUANT 5 /* wq[0..2], aq[0..1] */

typedef struct {
  int scale;    /* 2, 3 or 4 */
  int features; /* F, even, >= 2; default 64 */
  int channels; /* C: 3 (RGB) or 1 (luma); 0 means 3 */
} EspcnFloatModelConfig;

typedef struct _EspcnFloatModelPrivate EspcnFloatModelPrivate;

typedef struct {
  EspcnFloatModelConfig config;
  int cin[3], cout[3], k[3];   /* conv shapes */
  float *weight[3];            /* [cout][cin][k][k] */
  float *bias[3];              /* [cout] */
  float *weight_grad[3];       /* same shapes, filled by train_step_grads */
  float *bias_grad[3];

  EspcnQuantizer *wq[3];       /* weight quantizers, NULL = float */
  EspcnQuantizer *aq[2];       /* activation quantizers after ReLU of conv1, conv2 */
  gboolean quant_output;       /* round conv3's output onto the 8-bit pixel grid */

  EspcnFloatModelPrivate *priv;
} EspcnFloatModel;

/* Config {scale, 64, 3}. */
EspcnFloatModelConfig espcn_float_model_config_default (int scale);

/* Allocates the model and initialises it as PyTorch's Conv2d default (weights
 * U(-b, b), b = gain sqrt(3 / fan_in), gain = sqrt(2 / (1 + 5)); biases U(-1/sqrt(fan_in), ...))
 * drawing from a fresh EspcnRng seeded with `seed`, in the order conv1.weight,
 * conv1.bias, conv2.weight, ... .  NULL with `error` set for a bad config. */
EspcnFloatModel *espcn_float_model_new (const EspcnFloatModelConfig *config, guint64 seed, GError **error);
void espcn_float_model_free (EspcnFloatModel *model);

/* Worker threads, 1 .. ESPCN_NN_CHUNKS (default: min(2, processors)).  Results do not depend on it. */
void espcn_float_model_set_threads (EspcnFloatModel *model, int n_threads);

/* The 6 parameter tensors (names "conv1.weight", "conv1.bias", ..., "conv3.bias"),
 * with their gradients.  Returns ESPCN_FLOAT_MODEL_N_PARAMS. */
guint espcn_float_model_params (EspcnFloatModel *model, EspcnParamRef refs[ESPCN_FLOAT_MODEL_N_PARAMS]);

/* One training pass: zeroes all gradients (model and quantizers), runs forward on
 * lr[n][C][lr_h][lr_w], the loss against hr[n][C][lr_h*s][lr_w*s] (mean over all
 * elements) and backward.  Invalid sizes are a programming error: g_critical and NaN. */
float espcn_float_model_train_step_grads (EspcnFloatModel *model, const float *lr, const float *hr, int n, int lr_h,
                                          int lr_w, EspcnLoss loss);

/* Inference: sr_out[n][C][h*s][w*s] from lr[n][C][h][w], any h, w >= 1.  Images are
 * processed a few at a time, so memory grows with the image size, not with n. */
void espcn_float_model_forward (EspcnFloatModel *model, const float *lr, int n, int h, int w, float *sr_out);

/* Quantization turns on: wq[i]->adopt (which may rewrite the weights) and
 * wq[i]->init on the weights, then a forward pass over the
 * batch in which aq[0]->init sees conv1's post-ReLU activations (then aq[0] quantizes
 * conv2's input) and aq[1]->init conv2's.  Quantizers left NULL are skipped. */
void espcn_float_model_init_quantizers (EspcnFloatModel *model, const float *lr_batch, int n, int h, int w);

/* Post-training calibration: a forward pass over the batch in which each
 * activation quantizer with an observe() op sees its input first (conv1's
 * post-ReLU activations, then conv2's, computed from the already-quantized
 * conv1 output). */
void espcn_float_model_observe_activations (EspcnFloatModel *model, const float *lr_batch, int n, int h, int w);

/* Sum of the quantizers' regularisers; their gradients are ADDED (to q->grads and,
 * for weight quantizers, to weight_grad).  Activation quantizers get x = NULL, n = 0.
 * Call after train_step_grads. */
float espcn_float_model_regularizer (EspcnFloatModel *model);

/* Calls each set quantizer's step(progress) when it has one. */
void espcn_float_model_quant_step (EspcnFloatModel *model, float progress);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnFloatModel, espcn_float_model_free)

G_END_DECLS
