/* espcn-gst: the benchmark images of an evaluation and their HR / LR pairs
 * (HR modcropped to the scale, LR its MATLAB-bicubic downscale rounded to 8 bits). */
#pragma once

#include <glib.h>

#include "image/image.h"

G_BEGIN_DECLS

/* The images: a Food-101 tree (ROOT/meta/test.txt, the validation split, in list
 * order) or any folder (its images sorted by path; every image is an HR image),
 * found by the rules of data/image-set.h.  `num` > 0 keeps the first `num`.
 * Images are decoded when asked for. */
typedef struct _EspcnEvalSet EspcnEvalSet;

EspcnEvalSet *espcn_eval_set_open (const char *root, guint num, GError **error);
void espcn_eval_set_free (EspcnEvalSet *set);
guint espcn_eval_set_size (const EspcnEvalSet *set);
const char *espcn_eval_set_path (const EspcnEvalSet *set, guint i);
/* A file-name-safe name for image i (relative path, '/' -> '_', no extension). */
const char *espcn_eval_set_name (const EspcnEvalSet *set, guint i);
/* HR (modcropped) and LR of image i; an error names the file. */
gboolean espcn_eval_set_pair (const EspcnEvalSet *set, guint i, int scale, EspcnImage **hr, EspcnImage **lr,
                              GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnEvalSet, espcn_eval_set_free)

G_END_DECLS
