/* espcn-gst: the quantization-aware model -- the float model, the method and its
 * quantizers, owned together.
 *
 * The only code that creates, attaches, saves and restores the quantizers.  A
 * quantized method has five quantizer slots in a fixed order
 *   0 conv1.weight_quant   1 conv1.act_quant   2 conv2.weight_quant
 *   3 conv2.act_quant      4 conv3.weight_quant
 * (weights per output channel on the int8 grid; activations per tensor on the
 * method's act_qmax grid); "none" has none.  Quantizers are created detached:
 * the model computes in float until espcn_qat_model_attach() points its hooks
 * (wq[], aq[], the pixel-grid output) at them.
 *
 * The INT8 export (export/export.h) reads the slots directly.
 *
 * Checkpoint tensors: the float model's "conv1.weight" ... "conv3.bias" and, per
 * slot, "<slot name>.params" / "<slot name>.state" when the quantizer has any. */
#pragma once

#include <glib.h>

#include "io/safetensors.h"
#include "nn/model.h"
#include "quant/quantizer.h"

G_BEGIN_DECLS

#define ESPCN_QAT_N_SLOTS 5

typedef struct {
  EspcnFloatModel *model;                    /* owned */
  const EspcnQuantMethod *method;            /* descriptor from the method table */
  EspcnQuantizer *slot[ESPCN_QAT_N_SLOTS];   /* owned; all NULL for "none" */
  gboolean attached;                         /* the model's hooks point at the slots */
} EspcnQatModel;

/* The weight quantizer of conv `layer` (0 .. 2) and the activation quantizer after
 * conv `layer` (0 .. 1); NULL for "none". */
static inline EspcnQuantizer *
espcn_qat_model_weight_quant (const EspcnQatModel *qm, int layer)
{
  return qm->slot[2 * layer];
}

static inline EspcnQuantizer *
espcn_qat_model_act_quant (const EspcnQatModel *qm, int layer)
{
  return qm->slot[2 * layer + 1];
}

/* A float model drawn from `seed` (espcn_float_model_new) and, for a quantized
 * method, its five quantizers (detached, training mode).  `act_bits` is the
 * grid of the hidden activations (conv1's and conv2's outputs): 0 for the
 * method's own (espcn_quant_method_act_bits), 7 ([0, 127]) or 8 ([0, 255]); the
 * int8-weight methods take either, APoT and DoReFa 8 only (docs/integer-grid.md).
 * NULL with `error` for an unknown method, a grid the method does not take or a
 * bad config. */
EspcnQatModel *espcn_qat_model_new (const EspcnFloatModelConfig *config, const char *method, int act_bits,
                                    guint64 seed, GError **error);
void espcn_qat_model_free (EspcnQatModel *qm);

/* "conv1.weight_quant", ... for slot 0 .. ESPCN_QAT_N_SLOTS - 1. */
const char *espcn_qat_model_slot_name (guint slot);

/* Attach (TRUE: quantizers in the forward pass, output on the pixel grid) or
 * detach (FALSE: plain float).  Attaching needs a quantized method. */
void espcn_qat_model_attach (EspcnQatModel *qm, gboolean on);

/* Sets every quantizer's `training` flag (running statistics update only in training). */
void espcn_qat_model_set_training (EspcnQatModel *qm, gboolean training);

/* The quantizers' learned parameters, in slot order, those with n_params > 0,
 * named by their slot.  Returns the count (0 for "none"). */
guint espcn_qat_model_quant_params (EspcnQatModel *qm, EspcnParamRef refs[ESPCN_QAT_N_SLOTS]);

/* Quantization turns on: attach, then initialise every quantizer from the
 * weights and from the activations of this batch (espcn_float_model_init_quantizers). */
void espcn_qat_model_start_quantization (EspcnQatModel *qm, const float *lr_batch, int n, int h, int w);

/* TRUE when the method fixes its activation scales by calibration (AdaRound:
 * observe(), then calibrate_finish()) and they are not fixed yet. */
gboolean espcn_qat_model_needs_calibration (EspcnQatModel *qm);
/* After espcn_float_model_observe_activations() on the calibration batches. */
gboolean espcn_qat_model_finish_calibration (EspcnQatModel *qm, GError **error);

/* Adds the model's and the quantizers' tensors to a checkpoint being written. */
gboolean espcn_qat_model_save_tensors (EspcnQatModel *qm, EspcnSafetensorsWriter *w, GError **error);

/* Restores the model's tensors and, with `quantizers`, the quantizers' parameters
 * and state from `st`.  Every tensor must be present with the expected shape;
 * the error is the container's (callers prefix the file). */
gboolean espcn_qat_model_restore_tensors (EspcnQatModel *qm, const EspcnSafetensors *st, gboolean quantizers,
                                          GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnQatModel, espcn_qat_model_free)

G_END_DECLS
