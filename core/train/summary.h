/* espcn-gst: the whole reference experiment (`espcn-train --method all`): float and
 * the six quantization-aware methods on one dataset, one table, summary files. */
#pragma once

#include "train/trainer.h"

G_BEGIN_DECLS

/* Runs cfg with method "none" then each quantization method (cfg->method is
 * ignored), prints the table and writes OUT/summary.csv, OUT/summary.json and a
 * bar chart OUT/summary.svg. */
gboolean espcn_train_all (const EspcnTrainConfig *cfg, GError **error);

G_END_DECLS
