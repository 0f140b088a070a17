/* espcn-gst: evaluation of super-resolution models on benchmark images.
 *
 * The convention of the published tables (the Set5/Set14 data sets' README): the
 * HR image modcropped to the scale, LR = MATLAB-bicubic downscale rounded to 8
 * bits, Y-PSNR / RGB PSNR / SSIM with `scale` pixels shaved, averaged over the
 * images.  A model's output is rounded to 8-bit pixels, as a saved image is.
 *
 * The job is split by concern: what can be evaluated (eval-model.h), the images
 * (eval-set.h), the run loop (here) and what is shown (eval-report.h: the
 * comparison strip and JSON). */
#pragma once

#include <glib.h>

#include "eval/eval-model.h"
#include "eval/eval-set.h"
#include "image/image.h"

G_BEGIN_DECLS

typedef struct {
  double psnr_y, psnr_rgb, ssim;   /* means over the images */
} EspcnEvalScores;

/* A (fake-quant, INT8) pair of the same method, compared image by image. */
typedef struct {
  guint a, b;              /* model indices: the fake-quant checkpoint, the INT8 model */
  double psnr_y_diff;      /* mean Y-PSNR of b minus a, dB */
  int max_abs_diff;        /* largest |pixel value difference| of any channel */
  guint64 n_diff, n_total; /* differing pixel values (channels counted apart) / all */
} EspcnEvalPair;

typedef struct {
  const char *save_dir;    /* NULL, or write SR PNGs and comparison.png there */
  gboolean has_crop;
  int crop[4];             /* x, y, w, h in HR pixels of the first image */
  /* Called after each image (done of total); NULL for none. */
  void (*progress) (guint done, guint total, gpointer user_data);
  gpointer progress_data;
} EspcnEvalOptions;

typedef struct {
  guint n_images;
  guint n_models;
  EspcnEvalScores *scores; /* n_models */
  GArray *pairs;           /* EspcnEvalPair: every (fake-quant, INT8) pair of the same method */
} EspcnEvalResult;

/* Evaluate every model on every image.  All models must have `scale`. */
gboolean espcn_eval_run (const EspcnEvalSet *set, int scale, EspcnEvalModel *const *models, guint n_models,
                         const EspcnEvalOptions *opts, EspcnEvalResult *res, GError **error);
void espcn_eval_result_clear (EspcnEvalResult *res);

G_END_DECLS
