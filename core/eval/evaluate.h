/* espcn-gst: evaluation of super-resolution models on benchmark images.
 *
 * The convention of the published tables (the Set5/Set14 data sets' README): the
 * HR image modcropped to the scale, LR = MATLAB-bicubic downscale rounded to 8
 * bits, Y-PSNR / RGB PSNR / SSIM with `scale` pixels shaved, averaged over the
 * images.  A model's output is rounded to 8-bit pixels, as a saved image is.
 *
 * What can be evaluated (an EspcnEvalModel): bicubic upscaling, a float training
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

/* The images: a Food-101 tree (ROOT/meta/test.txt, the validation split, in list
 * order) or any folder (every *.png, *.jpg, *.jpeg below it, sorted by path; every
 * image is an HR image).  `num` > 0 keeps the first `num`.  Images are decoded
 * when asked for. */
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
  gboolean quiet;          /* no per-image progress on stderr */
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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnEvalModel, espcn_eval_model_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnEvalSet, espcn_eval_set_free)

G_END_DECLS
