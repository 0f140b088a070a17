/* espcn-gst: the whole reference experiment (`espcn-train --method all`): float and
 * the six quantization-aware methods on one dataset, one table, summary files. */
#pragma once

#include "train/trainer.h"

G_BEGIN_DECLS

/* Runs cfg with method "none" then each quantization method (cfg->method is
 * ignored), writes OUT/summary.csv, OUT/summary.json and a bar chart
 * OUT/summary.svg, and returns the table as text in *table (for the caller to
 * show).  Each run reports through cfg->report. */
gboolean espcn_train_all (const EspcnTrainConfig *cfg, char **table, GError **error);

G_END_DECLS
