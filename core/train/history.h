/* espcn-gst (private to core/train): OUT/<method>.json, the history of a training
 * run -- the options, one entry per epoch (loss, validation scores or null, wall
 * time) and the final scores. */
#pragma once

#include <glib.h>

#include "train/trainer.h"

G_BEGIN_DECLS

/* Writes the file atomically. */
gboolean espcn_train_history_write (const EspcnTrainConfig *cfg, const EspcnTrainResult *res, const char *path,
                                    GError **error);

/* Appends to `history` the entries of the file at `path` for epochs 1 ..
 * up_to_epoch (a resumed run's past); nothing when the file is missing or unreadable. */
void espcn_train_history_load (const char *path, int up_to_epoch, GArray *history);

G_END_DECLS
