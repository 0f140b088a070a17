#include "data/dataset.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "data/image-set.h"
#include "image/image-io.h"
#include "image/imresize.h"

struct _EspcnDataset {
  GPtrArray *train_paths, *val_paths; /* gchar* */
  GPtrArray *train, *val;             /* EspcnImage* */
  guint skipped;
  EspcnAugment augment;
  /* Train images grouped by folder: class c holds class_members[class_start[c] ..
   * class_start[c + 1] - 1]. */
  guint n_classes;
  guint32 *class_start, *class_members;
};

void
espcn_dataset_options_init (EspcnDatasetOptions *opts)
{
  memset (opts, 0, sizeof *opts);
  opts->num_train = ESPCN_DATASET_DEFAULT_NUM_TRAIN;
  opts->num_val = ESPCN_DATASET_DEFAULT_NUM_VAL;
  opts->seed = 1;
  opts->augment.zoom_min = 1.0;
}

#define notice(opts, ...) espcn_notice ((opts)->notice, (opts)->notice_data, ESPCN_NOTICE_WARNING, __VA_ARGS__)

void
espcn_dataset_free (EspcnDataset *ds)
{
  if (ds == NULL)
    return;
  g_ptr_array_unref (ds->train_paths);
  g_ptr_array_unref (ds->val_paths);
  g_ptr_array_unref (ds->train);
  g_ptr_array_unref (ds->val);
  g_free (ds->class_start);
  g_free (ds->class_members);
  g_free (ds);
}

/* Decode candidates[order[*pos]], ... until `want` images decoded or the
 * candidates run out; undecodable files are skipped with a notice. */
static void
take_images (EspcnDataset *ds, GPtrArray *cand, const guint32 *order, guint *pos,
    guint want, GPtrArray *paths, GPtrArray *imgs, const EspcnDatasetOptions *opts)
{
  while (imgs->len < want && *pos < cand->len) {
    const char *path = g_ptr_array_index (cand, order[*pos]);
    (*pos)++;
    g_autoptr (GError) err = NULL;
    EspcnImage *img = espcn_image_load (path, &err);
    if (img == NULL) {
      notice (opts, "skipping unreadable image: %s", err->message);
      ds->skipped++;
      continue;
    }
    g_ptr_array_add (paths, g_strdup (path));
    g_ptr_array_add (imgs, img);
  }
}

static guint32 *
shuffled_order (EspcnRng *rng, guint n)
{
  guint32 *order = g_new (guint32, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    order[i] = i;
  espcn_rng_shuffle_u32 (rng, order, n);
  return order;
}

static gboolean
check_split (const char *root, const char *split, GPtrArray *imgs, guint want,
    const EspcnDatasetOptions *opts, GError **error)
{
  if (imgs->len == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: no usable image for the %s split", root, split);
    return FALSE;
  }
  if (imgs->len < want)
    notice (opts, "%s: the %s split has %u usable images, fewer than the %u asked: using all",
        root, split, imgs->len, want);
  return TRUE;
}

/* Classes in order of first appearance, members in image order. */
static void
group_classes (EspcnDataset *ds)
{
  const guint n = ds->train->len;
  g_autoptr (GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree guint32 *cls = g_new (guint32, MAX (n, 1));
  for (guint i = 0; i < n; i++) {
    g_autofree gchar *dir = g_path_get_dirname (g_ptr_array_index (ds->train_paths, i));
    gpointer id;
    if (!g_hash_table_lookup_extended (ids, dir, NULL, &id)) {
      id = GUINT_TO_POINTER (g_hash_table_size (ids));
      g_hash_table_insert (ids, g_steal_pointer (&dir), id);
    }
    cls[i] = GPOINTER_TO_UINT (id);
  }
  ds->n_classes = g_hash_table_size (ids);
  ds->class_start = g_new0 (guint32, ds->n_classes + 1);
  ds->class_members = g_new (guint32, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    ds->class_start[cls[i] + 1]++;
  for (guint c = 0; c < ds->n_classes; c++)
    ds->class_start[c + 1] += ds->class_start[c];
  g_autofree guint32 *fill = g_memdup2 (ds->class_start, sizeof (guint32) * ds->n_classes);
  for (guint i = 0; i < n; i++)
    ds->class_members[fill[cls[i]]++] = i;
}

EspcnDataset *
espcn_dataset_open (const char *root, const EspcnDatasetOptions *opts_in, GError **error)
{
  EspcnDatasetOptions opts;
  if (opts_in)
    opts = *opts_in;
  else
    espcn_dataset_options_init (&opts);
  if (opts.num_train == 0 || opts.num_val == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "dataset: num_train and num_val must be at least 1");
    return NULL;
  }
  if (!g_file_test (root, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "dataset folder %s does not exist or is not a folder", root);
    return NULL;
  }

  if (!(opts.augment.zoom_min >= 0.25 && opts.augment.zoom_min <= 1.0)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "zoom %g must be between 0.25 and 1 (1 = no zoom)", opts.augment.zoom_min);
    return NULL;
  }
  g_autoptr (EspcnDataset) ds = g_new0 (EspcnDataset, 1);
  ds->augment = opts.augment;
  ds->train_paths = g_ptr_array_new_with_free_func (g_free);
  ds->val_paths = g_ptr_array_new_with_free_func (g_free);
  ds->train = g_ptr_array_new_with_free_func ((GDestroyNotify) espcn_image_free);
  ds->val = g_ptr_array_new_with_free_func ((GDestroyNotify) espcn_image_free);
  EspcnRng rng;
  espcn_rng_seed (&rng, opts.seed);

  if (espcn_image_set_is_food101 (root)) {
    g_autoptr (GPtrArray) train = espcn_image_set_read_list (root, "train.txt", error);
    if (train == NULL)
      return NULL;
    g_autoptr (GPtrArray) test = espcn_image_set_read_list (root, "test.txt", error);
    if (test == NULL)
      return NULL;
    g_autofree guint32 *to = shuffled_order (&rng, train->len);
    g_autofree guint32 *vo = shuffled_order (&rng, test->len);
    guint tp = 0, vp = 0;
    take_images (ds, train, to, &tp, opts.num_train, ds->train_paths, ds->train, &opts);
    take_images (ds, test, vo, &vp, opts.num_val, ds->val_paths, ds->val, &opts);
    if (!check_split (root, "train (meta/train.txt)", ds->train, opts.num_train, &opts, error)
        || !check_split (root, "validation (meta/test.txt)", ds->val, opts.num_val, &opts,
            error))
      return NULL;
  } else {
    g_autoptr (GPtrArray) files = espcn_image_set_scan (root, error);
    if (files == NULL)
      return NULL;
    if (files->len == 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
          "dataset folder %s holds no *.png, *.jpg or *.jpeg image", root);
      return NULL;
    }
    g_autofree guint32 *order = shuffled_order (&rng, files->len);
    /* Too few files for both splits: keep the asked proportion, at least one
     * for validation. */
    guint want_val = opts.num_val;
    if ((guint64) files->len < (guint64) opts.num_train + opts.num_val)
      want_val = MAX (1, (guint) ((guint64) files->len * opts.num_val
              / ((guint64) opts.num_train + opts.num_val)));
    guint pos = 0;
    take_images (ds, files, order, &pos, want_val, ds->val_paths, ds->val, &opts);
    take_images (ds, files, order, &pos, opts.num_train, ds->train_paths, ds->train, &opts);
    if (!check_split (root, "train", ds->train, opts.num_train, &opts, error)
        || !check_split (root, "validation", ds->val, opts.num_val, &opts, error))
      return NULL;
  }
  group_classes (ds);
  return g_steal_pointer (&ds);
}

guint
espcn_dataset_num_train_classes (const EspcnDataset *ds)
{
  return ds->n_classes;
}

guint
espcn_dataset_num_train (const EspcnDataset *ds)
{
  return ds->train->len;
}

guint
espcn_dataset_num_val (const EspcnDataset *ds)
{
  return ds->val->len;
}

guint
espcn_dataset_num_skipped (const EspcnDataset *ds)
{
  return ds->skipped;
}

const EspcnImage *
espcn_dataset_train_image (const EspcnDataset *ds, guint i)
{
  g_return_val_if_fail (i < ds->train->len, NULL);
  return g_ptr_array_index (ds->train, i);
}

const EspcnImage *
espcn_dataset_val_image (const EspcnDataset *ds, guint i)
{
  g_return_val_if_fail (i < ds->val->len, NULL);
  return g_ptr_array_index (ds->val, i);
}

const char *
espcn_dataset_train_path (const EspcnDataset *ds, guint i)
{
  g_return_val_if_fail (i < ds->train_paths->len, NULL);
  return g_ptr_array_index (ds->train_paths, i);
}

const char *
espcn_dataset_val_path (const EspcnDataset *ds, guint i)
{
  g_return_val_if_fail (i < ds->val_paths->len, NULL);
  return g_ptr_array_index (ds->val_paths, i);
}

gboolean
espcn_dataset_check_patch (int patch, int scale, GError **error)
{
  if (scale < 2 || scale > 4) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "scale %d is not 2, 3 or 4", scale);
    return FALSE;
  }
  if (patch <= 0 || patch > 4096 || patch % scale != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "patch size %d must be a positive multiple of the scale %d (at most 4096)", patch,
        scale);
    return FALSE;
  }
  return TRUE;
}

/* One train image drawn at random: uniformly, or with balance_classes a uniform
 * class, then a uniform image of it. */
static guint32
draw_train_index (const EspcnDataset *ds, EspcnRng *rng)
{
  if (!ds->augment.balance_classes)
    return espcn_rng_below (rng, ds->train->len);
  guint32 c = espcn_rng_below (rng, ds->n_classes);
  guint32 size = ds->class_start[c + 1] - ds->class_start[c];
  return ds->class_members[ds->class_start[c] + espcn_rng_below (rng, size)];
}

void
espcn_dataset_epoch_order (const EspcnDataset *ds, EspcnRng *rng, guint32 *order)
{
  if (ds->augment.balance_classes) {
    for (guint i = 0; i < ds->train->len; i++)
      order[i] = draw_train_index (ds, rng);
    return;
  }
  for (guint i = 0; i < ds->train->len; i++)
    order[i] = i;
  espcn_rng_shuffle_u32 (rng, order, ds->train->len);
}

/* LR pixels this far (in LR pixels) from a window's edge are computed from HR
 * pixels inside it: the antialiased cubic reaches 2 * scale HR pixels each side. */
#define LR_MARGIN 2

gboolean
espcn_dataset_make_pair (const EspcnDataset *ds, guint index, EspcnRng *rng, int patch,
    int scale, float *lr, float *hr, GError **error)
{
  if (!espcn_dataset_check_patch (patch, scale, error))
    return FALSE;
  if (index >= ds->train->len) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "train image index %u out of range (%u images)", index, ds->train->len);
    return FALSE;
  }
  /* The pair is cut from a window `margin` HR pixels wider than the patch on each
   * side, downscaled whole: the LR patch is then exactly what downscaling the whole
   * image gives there (as for validation and real LR frames), not a downscale of the
   * patch alone, whose mirrored edges would teach the network a false mapping. */
  const int margin = LR_MARGIN * scale, win = patch + 2 * margin;
  const EspcnAugment *aug = &ds->augment;
  /* Zoom: the window comes from a larger square of the image, shrunk. */
  int side = win;
  if (aug->zoom_min < 1.0) {
    double z = aug->zoom_min + (1.0 - aug->zoom_min) * espcn_rng_uniform (rng);
    side = (int) lround (win / z);
  }
  const EspcnImage *img = g_ptr_array_index (ds->train, index);
  g_autoptr (EspcnImage) grown = NULL;
  if (img->width < side || img->height < side) {
    /* Short side up to the window, aspect kept (rounded up, so >= side). */
    int w, h;
    if (img->width <= img->height) {
      w = side;
      h = MAX (side, (int) (((gint64) img->height * side + img->width - 1) / img->width));
    } else {
      h = side;
      w = MAX (side, (int) (((gint64) img->width * side + img->height - 1) / img->height));
    }
    grown = espcn_imresize (img, w, h);
    img = grown;
  }
  /* Without zoom the window sits on the LR grid of the image (a multiple of the
   * scale), so the LR patch is a crop of the image's own LR. */
  int step = side == win ? scale : 1;
  int x = step * (int) espcn_rng_below (rng, (guint32) ((img->width - side) / step + 1));
  int y = step * (int) espcn_rng_below (rng, (guint32) ((img->height - side) / step + 1));
  g_autoptr (EspcnImage) window = espcn_image_crop (img, x, y, side, side);
  if (side != win) {
    EspcnImage *shrunk = espcn_imresize (window, win, win);
    espcn_image_free (window);
    window = shrunk;
  }
  if (aug->dihedral) {
    unsigned op = espcn_rng_below (rng, 8);
    if (op != 0) {
      EspcnImage *turned = espcn_image_dihedral (window, op);
      espcn_image_free (window);
      window = turned;
    }
  }
  g_autoptr (EspcnImage) small = espcn_imresize (window, win / scale, win / scale);
  g_autoptr (EspcnImage) hr_img = espcn_image_crop (window, margin, margin, patch, patch);
  g_autoptr (EspcnImage) lr_img = espcn_image_crop (small, LR_MARGIN, LR_MARGIN, patch / scale,
      patch / scale);
  espcn_image_to_planar_f32 (hr_img, hr);
  espcn_image_to_planar_f32 (lr_img, lr);
  return TRUE;
}

gboolean
espcn_dataset_fill_batch (const EspcnDataset *ds, const guint32 *indices, guint n,
    EspcnRng *rng, int patch, int scale, float *lr, float *hr, GError **error)
{
  if (!espcn_dataset_check_patch (patch, scale, error))
    return FALSE;
  gsize hr_item = 3 * (gsize) patch * patch;
  gsize lr_item = hr_item / ((gsize) scale * scale);
  for (guint k = 0; k < n; k++)
    if (!espcn_dataset_make_pair (ds, indices[k], rng, patch, scale, lr + k * lr_item,
            hr + k * hr_item, error))
      return FALSE;
  return TRUE;
}

gboolean
espcn_dataset_sample_batch (const EspcnDataset *ds, EspcnRng *rng, guint batch, int patch,
    int scale, float *lr, float *hr, GError **error)
{
  g_autofree guint32 *idx = g_new (guint32, MAX (batch, 1));
  for (guint k = 0; k < batch; k++)
    idx[k] = draw_train_index (ds, rng);
  return espcn_dataset_fill_batch (ds, idx, batch, rng, patch, scale, lr, hr, error);
}

gboolean
espcn_dataset_val_pair (const EspcnDataset *ds, guint i, int scale, EspcnImage **hr,
    EspcnImage **lr, GError **error)
{
  if (i >= ds->val->len || scale < 1) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "validation index %u (of %u) or scale %d invalid", i, ds->val->len, scale);
    return FALSE;
  }
  const EspcnImage *img = g_ptr_array_index (ds->val, i);
  if (img->width < scale || img->height < scale) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: %dx%d is smaller than the scale %d",
        (const char *) g_ptr_array_index (ds->val_paths, i), img->width, img->height, scale);
    return FALSE;
  }
  EspcnImage *h = espcn_image_modcrop (img, scale);
  /* Explicit output size: the kernel scale out / in is exactly 1 / scale. */
  *lr = espcn_imresize (h, h->width / scale, h->height / scale);
  *hr = h;
  return TRUE;
}

EspcnImage *
espcn_bicubic_upscale (const EspcnImage *lr, int scale)
{
  g_return_val_if_fail (lr != NULL && scale > 0, NULL);
  return espcn_imresize (lr, lr->width * scale, lr->height * scale);
}
