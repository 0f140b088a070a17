/* espcn-gst: the float training checkpoint.
 *
 * One safetensors file holds everything a run needs to continue bit-exactly: the
 * model's weights and biases, Adam's moments, every quantizer's learned parameters
 * and running state, and, as metadata, the position in the run (epoch, step within
 * the epoch, Adam's step count) and the options that must not change on resume.
 * The data order and crops are drawn from streams derived from (seed, epoch, index),
 * so that position is the whole random state. */
#pragma once

#include <glib.h>

#include "nn/adam.h"
#include "nn/model.h"

G_BEGIN_DECLS

#define ESPCN_CHECKPOINT_FORMAT "espcn-float-checkpoint"
#define ESPCN_CHECKPOINT_VERSION "1"

typedef struct {
  int epoch;              /* epochs completed before this position */
  int step_in_epoch;      /* optimizer steps done inside `epoch` */
  gboolean quant_on;      /* quantizers attached and initialised */
} EspcnTrainPosition;

/* The quantizer slots of a model in a fixed order: wq[0], aq[0], wq[1], aq[1], wq[2]
 * (names "conv1.weight_quant", "conv1.act_quant", ...).  Entries may be NULL. */
#define ESPCN_N_QUANT_SLOTS 5
const char *espcn_quant_slot_name (guint slot);

/* Writes the checkpoint atomically (temporary file + rename): an existing file at
 * `path` is replaced only by a complete new one. `quant` holds the run's
 * quantizers (attached or not yet), NULL entries for none. `options` are string
 * key/values stored as metadata (e.g. "method", "seed", "lr"). */
gboolean espcn_checkpoint_save (const char *path, EspcnFloatModel *model, EspcnAdam *adam,
                                EspcnQuantizer *const quant[ESPCN_N_QUANT_SLOTS],
                                const EspcnTrainPosition *pos, GHashTable *options, GError **error);

/* Restores weights, Adam state, quantizer parameters and state into objects built
 * with the same configuration, and returns the position.  Every tensor must be
 * present with the expected shape; `options` entries must equal the file's (so a
 * resume cannot silently change the scale, method or seed). */
gboolean espcn_checkpoint_load (const char *path, EspcnFloatModel *model, EspcnAdam *adam,
                                EspcnQuantizer *const quant[ESPCN_N_QUANT_SLOTS],
                                GHashTable *options, EspcnTrainPosition *pos, GError **error);

/* Copies only the weights and biases of a checkpoint (float or quantized run) into
 * a model of the same scale and features: the start of a fine-tuning run. */
gboolean espcn_checkpoint_load_weights (const char *path, EspcnFloatModel *model, GError **error);

/* Reads just the metadata value `key` of a checkpoint (NULL with error if absent). */
char *espcn_checkpoint_get_metadata (const char *path, const char *key, GError **error);

/* The training options a checkpoint's metadata holds, as an espcn-train command
 * line ("espcn-train --method lsq --scale 4 ..."). */
char *espcn_checkpoint_recipe_from_metadata (GHashTable *meta);

/* The recipe of the checkpoint at `path` (for an INT8 model fine-tuned from it:
 * where its starting point came from), or NULL when it cannot be read. */
char *espcn_checkpoint_recipe (const char *path);

G_END_DECLS
