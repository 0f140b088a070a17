/* espcn-gst: training and validation images, and the pairs made from them.
 *
 * The images are found by data/image-set.h (a Food-101 tree or any folder
 * tree; its rules on lists, hidden files, symlinks and depth):
 *  - Food-101: train images from meta/train.txt, validation images from
 *    meta/test.txt.
 *  - Any folder tree: the files sorted by path, shuffled with the seed, the
 *    first ones to validation and the rest to training.
 * From each split `num_train` / `num_val` images are picked by a seeded
 * shuffle and decoded once into memory. A file that does not decode is skipped
 * (the next one in the shuffled order takes its place) with a message naming
 * it; a split with fewer images than asked is used whole, with a message.
 * Messages go to the `notice` callback as warnings (util/report.h); none
 * without one (never g_warning, which test runs make fatal).
 *
 * Pairs: HR is a random patch x patch crop, LR its MATLAB-bicubic downscale by
 * `scale` rounded to 8 bits (image/imresize.h), both as planar float RGB in
 * [0, 1]: HR 3 x patch x patch, LR 3 x (patch/scale) x (patch/scale). An image
 * smaller than the patch is first upscaled (bicubic) so its short side equals
 * the patch. `patch` must be a multiple of `scale`.
 *
 * An epoch is one crop from every train image, in a shuffled order:
 *   guint32 order[n]; espcn_dataset_epoch_order (ds, rng, order);
 *   for (first = 0; first < n; first += batch)
 *     espcn_dataset_fill_batch (ds, order + first, MIN (batch, n - first),
 *         rng, patch, scale, lr, hr, &error);
 * The result depends only on the dataset, the rng state and the arguments.
 * A dataset is read-only after open: pair functions may run concurrently
 * on different rngs and buffers. */
#pragma once

#include <glib.h>

#include "image/image.h"
#include "util/report.h"
#include "util/rng.h"

G_BEGIN_DECLS

#define ESPCN_DATASET_DEFAULT_NUM_TRAIN 200
#define ESPCN_DATASET_DEFAULT_NUM_VAL 50

/* How training pairs are drawn and augmented; all off by default, so pairs
 * are made as in the reference experiment.  They make the few sample
 * photographs go further: the dihedral group adds orientations, the zoom adds
 * finer detail per pixel (soft full-size wallpapers look like sharper
 * photographs once shrunk), and class balance stops the photos cut into many
 * tiles from outweighing the ones that give a single tile. */
typedef struct {
  gboolean dihedral;  /* each HR patch in one of its 8 flips / 90-degree rotations */
  double zoom_min;    /* each HR patch is a square of patch / z pixels shrunk to the
                       * patch (MATLAB bicubic), z uniform in [zoom_min, 1]; 1 = off */
  gboolean balance_classes; /* epochs draw a class (the folder an image is in: the
                             * Food-101 class, the sample data's source photo)
                             * uniformly, then one of its images: see
                             * espcn_dataset_epoch_order() */
} EspcnAugment;

typedef struct {
  guint num_train;            /* images for training (default 200) */
  guint num_val;              /* images for validation (default 50) */
  guint64 seed;               /* selects the images (default 1) */
  EspcnNoticeFunc notice;     /* skipped files, short splits; NULL: not reported */
  gpointer notice_data;
  EspcnAugment augment;       /* training pairs (default: none) */
} EspcnDatasetOptions;

typedef struct _EspcnDataset EspcnDataset;

/* Defaults as documented above. */
void espcn_dataset_options_init (EspcnDatasetOptions *opts);

/* Find, select and decode the images. Errors: ROOT missing or unreadable, a
 * list unreadable, no image found, or a split with no usable image. */
EspcnDataset *espcn_dataset_open (const char *root, const EspcnDatasetOptions *opts,
    GError **error);
void espcn_dataset_free (EspcnDataset *ds);

guint espcn_dataset_num_train (const EspcnDataset *ds);
guint espcn_dataset_num_val (const EspcnDataset *ds);
const EspcnImage *espcn_dataset_train_image (const EspcnDataset *ds, guint i);
const EspcnImage *espcn_dataset_val_image (const EspcnDataset *ds, guint i);
/* Path of an image (for logs). */
const char *espcn_dataset_train_path (const EspcnDataset *ds, guint i);
const char *espcn_dataset_val_path (const EspcnDataset *ds, guint i);
/* Number of classes (distinct folders) among the train images. */
guint espcn_dataset_num_train_classes (const EspcnDataset *ds);
/* Number of files that did not decode and were skipped. */
guint espcn_dataset_num_skipped (const EspcnDataset *ds);

/* FALSE with an error unless patch > 0, scale in 2..4 and patch % scale == 0. */
gboolean espcn_dataset_check_patch (int patch, int scale, GError **error);

/* The train images of one epoch, num_train indices into `order`: a random
 * permutation of 0 .. num_train - 1, or with `balance_classes` num_train draws
 * (with replacement) of a uniformly chosen class, then a uniformly chosen image
 * of it, so every class weighs the same however many images it has (also for
 * espcn_dataset_sample_batch(), which AdaRound's calibration uses). */
void espcn_dataset_epoch_order (const EspcnDataset *ds, EspcnRng *rng, guint32 *order);

/* One pair from train image `index` (random crop position, and the augmentation
 * the dataset was opened with, from rng): writes
 * 3 * patch^2 floats to hr and 3 * (patch/scale)^2 floats to lr. */
gboolean espcn_dataset_make_pair (const EspcnDataset *ds, guint index, EspcnRng *rng,
    int patch, int scale, float *lr, float *hr, GError **error);

/* `n` pairs for train images indices[0..n-1], NCHW: item k at lr + k * 3 *
 * (patch/scale)^2 and hr + k * 3 * patch^2. */
gboolean espcn_dataset_fill_batch (const EspcnDataset *ds, const guint32 *indices, guint n,
    EspcnRng *rng, int patch, int scale, float *lr, float *hr, GError **error);

/* `batch` pairs from train images drawn at random (with replacement), as
 * espcn_dataset_epoch_order() draws them. */
gboolean espcn_dataset_sample_batch (const EspcnDataset *ds, EspcnRng *rng, guint batch,
    int patch, int scale, float *lr, float *hr, GError **error);

/* Validation pair i: HR = the image modcropped to a multiple of scale, LR =
 * its imresize by 1/scale. Errors if the image is smaller than scale. */
gboolean espcn_dataset_val_pair (const EspcnDataset *ds, guint i, int scale,
    EspcnImage **hr, EspcnImage **lr, GError **error);

/* The bicubic baseline: LR upscaled by `scale` with imresize (HR size). */
EspcnImage *espcn_bicubic_upscale (const EspcnImage *lr, int scale);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnDataset, espcn_dataset_free)

G_END_DECLS
