/* espcn-gst (private to core/train): the validation set of a training run -- the
 * dataset's validation pairs decoded once (HR images, planar float LR) -- and the
 * scores of the model on it. */
#pragma once

#include <glib.h>

#include "data/dataset.h"
#include "train/qat-model.h"

G_BEGIN_DECLS

typedef struct {
  guint n;
  EspcnImage **hr;
  int channels;     /* the model's: 3 RGB, 1 luma */
  float **lr;       /* planar float LR (RGB, or Y/255 for luma) */
  EspcnImage **bic; /* luma only: the bicubic upscales whose chroma the output gets */
  int *lr_w, *lr_h;
} EspcnValSet;

/* Builds the pairs for a model of `channels` (3 or 1) and the bicubic baseline's
 * mean Y-PSNR, RGB PSNR and SSIM.  On failure v holds what was built (clear it
 * either way). */
gboolean espcn_val_set_build (const EspcnDataset *ds, int scale, int channels, EspcnValSet *v, double bicubic[3],
                              GError **error);
void espcn_val_set_clear (EspcnValSet *v);

/* Mean Y-PSNR, RGB PSNR and SSIM of the model's output, rounded to 8-bit pixels as
 * a saved image would be, over the whole validation images.  A luma model's Y
 * is merged with the bicubic upscale's chroma first (image/luma-merge.h), so
 * all three compare RGB images; the quantizers run in
 * evaluation mode (no running statistics move) and are back in training mode after. */
void espcn_val_set_score (const EspcnValSet *v, EspcnQatModel *qm, int scale, double out[3]);

G_END_DECLS
