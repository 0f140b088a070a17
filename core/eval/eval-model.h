/* espcn-gst: what can be evaluated -- bicubic upscaling, a float training
 * checkpoint in float, the same checkpoint with its quantizers (fake
 * quantization), and an INT8 model through the integer engine's runner. */
#pragma once

#include <glib.h>

#include "image/image.h"

G_BEGIN_DECLS

typedef enum {
  ESPCN_EVAL_BICUBIC,
  ESPCN_EVAL_FLOAT,
  ESPCN_EVAL_FAKE_QUANT,
  ESPCN_EVAL_INT8,
} EspcnEvalKind;

typedef struct _EspcnEvalModel EspcnEvalModel;

EspcnEvalModel *espcn_eval_model_new_bicubic (int scale);
/* Open a model file: an INT8 model (format espcn-int8) appends one model
 * (named `path`) to `out`; a float checkpoint appends "PATH (float)" and, when
 * it has initialised quantizers, "PATH (fake-quant)".  `threads` is the INT8
 * runner's thread count. */
gboolean espcn_eval_models_open (const char *path, int threads, GPtrArray *out, GError **error);
void espcn_eval_model_free (EspcnEvalModel *m);
const char *espcn_eval_model_get_name (const EspcnEvalModel *m);
/* A short name usable as a folder name ("bicubic", "lsq-float", ...). */
const char *espcn_eval_model_get_dir_name (const EspcnEvalModel *m);
EspcnEvalKind espcn_eval_model_get_kind (const EspcnEvalModel *m);
int espcn_eval_model_get_scale (const EspcnEvalModel *m);
/* "none" for float models, the QAT method otherwise, NULL for bicubic. */
const char *espcn_eval_model_get_method (const EspcnEvalModel *m);
/* The SR image (lr size times the scale). */
EspcnImage *espcn_eval_model_upscale (EspcnEvalModel *m, const EspcnImage *lr, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnEvalModel, espcn_eval_model_free)

G_END_DECLS
