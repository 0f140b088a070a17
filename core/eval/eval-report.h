/* espcn-gst: what an evaluation shows -- the comparison strip (LR, the models'
 * SR images, HR side by side) and the scores as JSON. */
#pragma once

#include <glib.h>

#include "eval/evaluate.h"

G_BEGIN_DECLS

/* The comparison strip of a crop (x, y, w, h in HR pixels, inside hr): LR
 * nearest-upscaled, then each SR image, then the HR image, each panel enlarged
 * `zoom` times (nearest) and separated by white gaps. */
EspcnImage *espcn_eval_comparison (const EspcnImage *hr, const EspcnImage *lr, int scale,
                                   EspcnImage *const *srs, guint n_srs, const int crop[4], int zoom, GError **error);

/* Writes opts->save_dir/comparison.png: the strip above, zoom 2, of opts->crop or,
 * without one, of the centred 96x96 crop (all of a smaller image).  hr and lr are
 * the pair of image `path`, which an error names. */
gboolean espcn_eval_save_comparison (const EspcnImage *hr, const EspcnImage *lr, int scale,
                                     EspcnImage *const *srs, guint n_srs, const EspcnEvalOptions *opts,
                                     const char *path, GError **error);

/* One JSON object: for each model name {"psnr_y", "psnr_rgb", "ssim"}. */
char *espcn_eval_result_to_json (const EspcnEvalResult *res, EspcnEvalModel *const *models);
/* The same object for any n rows: names[i] with scores[i] (an infinite PSNR,
 * of identical images, is null). */
char *espcn_eval_scores_to_json (const char *const *names, const EspcnEvalScores *const *scores, guint n);

G_END_DECLS
