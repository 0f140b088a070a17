/* espcn-gst: a float training checkpoint loaded for evaluation or export.
 *
 * Reads only the model tensors and, for a quantized run, the quantizers'
 * parameters and state (not Adam's moments), so any checkpoint espcn-train
 * writes can be evaluated in float and as fake quantization (what the trained
 * network computes on the integer grid), or exported to INT8. */
#pragma once

#include <glib.h>

#include "train/checkpoint.h"
#include "train/qat-model.h"

G_BEGIN_DECLS

typedef struct {
  EspcnQatModel *qat;                            /* quantizers' training = FALSE */
  EspcnFloatModel *model;                        /* qat->model */
  const char *method;                            /* qat->method->name: "none" or the QAT method */
  gboolean quant_on;                             /* the run had attached and initialised its quantizers */
  GHashTable *metadata;                          /* every metadata string of the file */
} EspcnEvalCheckpoint;

/* Load `path`.  The QAT model is created as the trainer creates it (quantizers
 * only for a quantization method); they are left detached: see
 * espcn_eval_checkpoint_set_fake_quant().  Errors name the file and what is wrong
 * (not a checkpoint, unknown method, missing or misshapen tensor). */
EspcnEvalCheckpoint *espcn_eval_checkpoint_load (const char *path, GError **error);
void espcn_eval_checkpoint_free (EspcnEvalCheckpoint *ck);

/* TRUE when fake quantization is possible: quantized method and quant_on. */
gboolean espcn_eval_checkpoint_has_quant (const EspcnEvalCheckpoint *ck);

/* Attach (TRUE: weight and activation quantizers, output on the pixel grid) or
 * detach (FALSE: plain float) the quantizers.  Attaching needs has_quant. */
void espcn_eval_checkpoint_set_fake_quant (EspcnEvalCheckpoint *ck, gboolean on);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnEvalCheckpoint, espcn_eval_checkpoint_free)

G_END_DECLS
