/* espcn-gst: the whole reference experiment (`espcn-train --method all`): float and
 * the six quantization-aware methods on one dataset, one table, summary files. */
#pragma once

#include "train/trainer.h"

G_BEGIN_DECLS

/* Runs cfg with method "none" then each quantization method (cfg->method is
 * ignored), each `repeats` times with seeds cfg->seed, cfg->seed + 1, ... (on the
 * images cfg->seed selects, the same for every run; with repeats > 1 each run
 * writes into OUT/seed-<seed>/), writes OUT/summary.csv, OUT/summary.json and a
 * bar chart OUT/summary.svg, and returns the table as text in *table for the
 * caller to show (per method the mean Y-PSNR, its sample standard deviation and
 * range, the difference to float's mean and two standard errors of that
 * difference: the noise).  Each run reports through cfg->report. */
gboolean espcn_train_all (const EspcnTrainConfig *cfg, int repeats, char **table, GError **error);

G_END_DECLS
