/* espcn-gst: the float training checkpoint.
 *
 * One safetensors file holds everything a run needs to continue bit-exactly: the
 * model's weights and biases, Adam's moments, every quantizer's learned parameters
 * and running state, and, as metadata, the position in the run (epoch, step within
 * the epoch, Adam's step count) and the options that must not change on resume.
 * The data order and crops are drawn from streams derived from (seed, epoch, index),
 * so that position is the whole random state.  A luma model's checkpoint has the
 * metadata "channels" = "1" (an RGB one has no such key); loading either into a
 * model of the other channel count is refused with a message naming both. */
#pragma once

#include <glib.h>

#include "nn/adam.h"
#include "train/qat-model.h"

G_BEGIN_DECLS

#define ESPCN_CHECKPOINT_FORMAT "espcn-float-checkpoint"
#define ESPCN_CHECKPOINT_VERSION "1"

typedef struct {
  int epoch;              /* epochs completed before this position */
  int step_in_epoch;      /* optimizer steps done inside `epoch` */
  gboolean quant_on;      /* quantizers attached and initialised */
} EspcnTrainPosition;

/* Writes the checkpoint atomically (temporary file + rename): an existing file at
 * `path` is replaced only by a complete new one: the QAT model's tensors
 * (espcn_qat_model_save_tensors: quantizers attached or not yet), Adam's moments
 * and the position.  `options` are string
 * key/values stored as metadata (e.g. "method", "seed", "lr"). */
gboolean espcn_checkpoint_save (const char *path, EspcnQatModel *qm, EspcnAdam *adam, const EspcnTrainPosition *pos, GHashTable *options, GError **error);

/* Restores weights, Adam state, quantizer parameters and state into objects built
 * with the same configuration, and returns the position.  Every tensor must be
 * present with the expected shape; `options` entries must equal the file's (so a
 * resume cannot silently change the scale, method or seed). */
gboolean espcn_checkpoint_load (const char *path, EspcnQatModel *qm, EspcnAdam *adam, GHashTable *options, EspcnTrainPosition *pos, GError **error);

/* Copies only the weights and biases of a checkpoint (float or quantized run) into
 * a model of the same scale and features: the start of a fine-tuning run. */
gboolean espcn_checkpoint_load_weights (const char *path, EspcnQatModel *qm, GError **error);

/* Reads just the metadata value `key` of a checkpoint (NULL with error if absent). */
char *espcn_checkpoint_get_metadata (const char *path, const char *key, GError **error);

/* The training options a checkpoint's metadata holds, as an espcn-train command
 * line ("espcn-train --method lsq --scale 4 ..."). */
char *espcn_checkpoint_recipe_from_metadata (GHashTable *meta);

/* The recipe of the checkpoint at `path` (for an INT8 model fine-tuned from it:
 * where its starting point came from), or NULL when it cannot be read. */
char *espcn_checkpoint_recipe (const char *path);

G_END_DECLS
