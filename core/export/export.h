/* espcn-gst: export a quantization-aware trained float model as an INT8 model.
 *
 * Per conv, the weight quantizer gives the integer weights and per-channel steps
 * s_w[c]; the activation quantizers of conv1/conv2 give the hidden grids (s_a,
 * qmax); the input and conv3's output are 8-bit pixels (step 1/255, max 255).
 * Then, with s_in / s_out the steps of a conv's input / output:
 *   bias_int[c] = round_half_up (b[c] / (s_w[c] * s_in))
 *   (M[c], shift[c]) nearest to s_w[c] * s_in / s_out
 * (docs/integer-grid.md).  Weights are stored as int8 when the method's levels fit
 * in [-127, 127] and the layer's input is 7-bit (or it is conv1), else as int16. */
#pragma once

#include <glib.h>

#include "engine/model.h"
#include "train/qat-model.h"

G_BEGIN_DECLS

/* Build the INT8 model in memory from a QAT model: its method names the model,
 * its quantizer slots give the integer grids (attached or not); `metadata` (may be NULL) adds or overrides keys such as "train_data",
 * "val_psnr_y", "recipe", "creator" and "created" (the last two default to this
 * library's name and version and the current UTC time).  Fails, naming the
 * tensor, for NaN/Inf in a weight or bias, for a model without quantizers
 * (method "none"), and for anything the INT8 format cannot hold. */
EspcnInt8Model *espcn_export_int8_model (const EspcnQatModel *qm, GHashTable *metadata, GError **error);

/* The same, written to `out_path` atomically (a complete file or none). */
gboolean espcn_export_int8 (const EspcnQatModel *qm, GHashTable *metadata, const char *out_path, GError **error);

G_END_DECLS
