/* Dataset: both layouts, selection, skipping of bad files, errors, and the
 * training / validation pairs. Every fixture is written here in a temp dir. */
#include <math.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "data/dataset.h"
#include "image/image-io.h"
#include "image/imresize.h"
#include "test-util.h"

static EspcnImage *
textured (int w, int h, int seed)
{
  EspcnImage *img = espcn_image_new (w, h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        img->data[(y * w + x) * 3 + c] =
            (guint8) (127 + 120 * sin (0.37 * x * (c + 1) + 0.23 * y + seed));
  return img;
}

static void
write_file (const char *path, const char *text)
{
  g_autofree gchar *dir = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static void
write_image (const char *root, const char *rel, int w, int h, int seed, gboolean png)
{
  g_autofree gchar *path = g_build_filename (root, rel, NULL);
  g_autofree gchar *dir = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autoptr (EspcnImage) img = textured (w, h, seed);
  GError *error = NULL;
  if (png)
    g_assert_true (espcn_image_save_png (img, path, &error));
  else
    g_assert_true (espcn_image_save_jpeg (img, path, 95, &error));
  g_assert_no_error (error);
}

static void
rm_rf (const char *path)
{
  g_autoptr (GFile) f = g_file_new_for_path (path);
  g_autoptr (GFileEnumerator) e = g_file_enumerate_children (f, G_FILE_ATTRIBUTE_STANDARD_NAME
      "," G_FILE_ATTRIBUTE_STANDARD_TYPE, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  if (e) {
    GFileInfo *info;
    while ((info = g_file_enumerator_next_file (e, NULL, NULL)) != NULL) {
      g_autofree gchar *child = g_build_filename (path, g_file_info_get_name (info), NULL);
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        rm_rf (child);
      else
        g_unlink (child);
      g_object_unref (info);
    }
  }
  g_rmdir (path);
}

/* Food-101 tree: train.txt lists 5 good images (JPEG and PNG content, all
 * named .jpg, one smaller than the test patch) and one corrupt file;
 * test.txt lists 3 good images. */
static gchar *
make_food_tree (void)
{
  gchar *root = espcn_test_make_tmp_dir ("espcn-food-XXXXXX");
  write_image (root, "images/apple_pie/1.jpg", 60, 45, 1, FALSE);
  write_image (root, "images/apple_pie/2.jpg", 52, 40, 2, TRUE);
  write_image (root, "images/bibimbap/1.jpg", 48, 64, 3, FALSE);
  write_image (root, "images/bibimbap/2.jpg", 20, 14, 4, FALSE);
  write_image (root, "images/churros/1.jpg", 50, 50, 5, TRUE);
  g_autofree gchar *bad = g_build_filename (root, "images/churros/2.jpg", NULL);
  write_file (bad, "\xff\xd8\xff\xe0 this is not really a JPEG");
  write_image (root, "images/apple_pie/3.jpg", 41, 33, 6, FALSE);
  write_image (root, "images/bibimbap/3.jpg", 30, 31, 7, FALSE);
  write_image (root, "images/churros/3.jpg", 36, 36, 8, TRUE);
  g_autofree gchar *tr = g_build_filename (root, "meta/train.txt", NULL);
  write_file (tr, "apple_pie/1\napple_pie/2\nbibimbap/1\nbibimbap/2\r\nchurros/1\n"
      "churros/2\n\n");
  g_autofree gchar *te = g_build_filename (root, "meta/test.txt", NULL);
  write_file (te, "apple_pie/3\nbibimbap/3\nchurros/3\n");
  return root;
}

static void
collect (EspcnNoticeLevel level, const char *msg, gpointer data)
{
  g_assert_cmpint (level, ==, ESPCN_NOTICE_WARNING);
  g_ptr_array_add (data, g_strdup (msg));
}

static gboolean
any_contains (GPtrArray *msgs, const char *needle)
{
  for (guint i = 0; i < msgs->len; i++)
    if (strstr (g_ptr_array_index (msgs, i), needle))
      return TRUE;
  return FALSE;
}

static EspcnDataset *
open_with (const char *root, guint nt, guint nv, guint64 seed, GPtrArray *msgs,
    GError **error)
{
  EspcnDatasetOptions o;
  espcn_dataset_options_init (&o);
  o.num_train = nt;
  o.num_val = nv;
  o.seed = seed;
  o.notice = collect;
  o.notice_data = msgs;
  return espcn_dataset_open (root, &o, error);
}

static void
test_food101_counts_and_corrupt_file_skipped (void)
{
  g_autofree gchar *root = make_food_tree ();
  g_autoptr (GPtrArray) msgs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;

  /* Asking for 3 + 2 out of 6 + 3 listed. */
  g_autoptr (EspcnDataset) a = open_with (root, 3, 2, 7, msgs, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (espcn_dataset_num_train (a), ==, 3);
  g_assert_cmpuint (espcn_dataset_num_val (a), ==, 2);
  for (guint i = 0; i < 2; i++)
    g_assert_true (g_str_has_suffix (espcn_dataset_val_path (a, i), "/3.jpg"));

  /* Asking for more than there is: all 5 good train images, the corrupt one
   * skipped with its name, and a notice about the short splits. */
  g_ptr_array_set_size (msgs, 0);
  g_autoptr (EspcnDataset) b = open_with (root, 10, 10, 7, msgs, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (espcn_dataset_num_train (b), ==, 5);
  g_assert_cmpuint (espcn_dataset_num_val (b), ==, 3);
  g_assert_cmpuint (espcn_dataset_num_skipped (b), ==, 1);
  g_assert_true (any_contains (msgs, "churros/2.jpg"));
  g_assert_true (any_contains (msgs, "fewer than the 10 asked"));
  for (guint i = 0; i < 5; i++)
    g_assert_null (strstr (espcn_dataset_train_path (b, i), "churros/2"));
  /* The PNG under a .jpg name was decoded by content. */
  gboolean saw_png = FALSE;
  for (guint i = 0; i < 5; i++)
    if (g_str_has_suffix (espcn_dataset_train_path (b, i), "apple_pie/2.jpg")) {
      saw_png = TRUE;
      g_assert_cmpint (espcn_dataset_train_image (b, i)->width, ==, 52);
    }
  g_assert_true (saw_png);
  rm_rf (root);
}

static void
test_selection_is_deterministic_for_a_seed (void)
{
  g_autofree gchar *root = make_food_tree ();
  g_autoptr (GPtrArray) msgs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (EspcnDataset) a = open_with (root, 3, 2, 11, msgs, NULL);
  g_autoptr (EspcnDataset) b = open_with (root, 3, 2, 11, msgs, NULL);
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpstr (espcn_dataset_train_path (a, i), ==, espcn_dataset_train_path (b, i));
  for (guint i = 0; i < 2; i++)
    g_assert_cmpstr (espcn_dataset_val_path (a, i), ==, espcn_dataset_val_path (b, i));
  /* Some other seed picks another order (over 20 seeds, surely one differs). */
  gboolean differs = FALSE;
  for (guint64 s = 100; s < 120 && !differs; s++) {
    g_autoptr (EspcnDataset) c = open_with (root, 3, 2, s, msgs, NULL);
    for (guint i = 0; i < 3; i++)
      if (strcmp (espcn_dataset_train_path (a, i), espcn_dataset_train_path (c, i)) != 0)
        differs = TRUE;
  }
  g_assert_true (differs);

  /* Same rng state -> same pairs. */
  float lr1[2 * 3 * 8 * 8], hr1[2 * 3 * 16 * 16], lr2[2 * 3 * 8 * 8], hr2[2 * 3 * 16 * 16];
  EspcnRng r1, r2;
  espcn_rng_seed (&r1, 5);
  espcn_rng_seed (&r2, 5);
  g_assert_true (espcn_dataset_sample_batch (a, &r1, 2, 16, 2, lr1, hr1, NULL));
  g_assert_true (espcn_dataset_sample_batch (b, &r2, 2, 16, 2, lr2, hr2, NULL));
  g_assert_cmpmem (lr1, sizeof lr1, lr2, sizeof lr2);
  g_assert_cmpmem (hr1, sizeof hr1, hr2, sizeof hr2);
  rm_rf (root);
}

/* HR must be a crop of the (possibly grown) source at a multiple of the scale, and
 * LR the same region of the whole image's MATLAB-bicubic downscale (within one
 * level: at x3 the kernel phases of the two computations differ in the last bits). */
static void
check_pair (const EspcnImage *src, const float *lr, const float *hr, int patch, int scale)
{
  int lp = patch / scale;
  for (int i = 0; i < 3 * patch * patch; i++) {
    g_assert_cmpfloat (hr[i], >=, 0.0f);
    g_assert_cmpfloat (hr[i], <=, 1.0f);
    g_assert_cmpfloat (fabsf (hr[i] * 255.0f - roundf (hr[i] * 255.0f)), <, 1e-3f);
  }
  g_autoptr (EspcnImage) h = espcn_image_new (patch, patch);
  espcn_image_from_planar_f32 (h, hr);
  g_autoptr (EspcnImage) l = espcn_image_new (lp, lp);
  espcn_image_from_planar_f32 (l, lr);
  if (src->width < patch + 4 * scale || src->height < patch + 4 * scale)
    return; /* grown first: no crop of the source to compare with */
  g_autoptr (EspcnImage) whole = espcn_image_modcrop (src, scale);
  g_autoptr (EspcnImage) down = espcn_imresize (whole, whole->width / scale, whole->height / scale);
  gboolean found = FALSE;
  for (int y = 0; y + patch <= src->height && !found; y += scale)
    for (int x = 0; x + patch <= src->width && !found; x += scale) {
      g_autoptr (EspcnImage) c = espcn_image_crop (src, x, y, patch, patch);
      if (memcmp (c->data, h->data, (gsize) patch * patch * 3) != 0)
        continue;
      found = TRUE;
      g_autoptr (EspcnImage) e = espcn_image_crop (down, x / scale, y / scale, lp, lp);
      for (int i = 0; i < lp * lp * 3; i++)
        g_assert_cmpint (ABS ((int) l->data[i] - (int) e->data[i]), <=, 1);
    }
  g_assert_true (found);
}

static void
test_pairs_are_crops_of_the_image_and_of_its_downscale (void)
{
  g_autofree gchar *root = make_food_tree ();
  g_autoptr (GPtrArray) msgs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (EspcnDataset) ds = open_with (root, 10, 10, 3, msgs, NULL);
  g_assert_nonnull (ds);
  guint n = espcn_dataset_num_train (ds);
  guint32 order[5];
  EspcnRng rng;
  espcn_rng_seed (&rng, 9);
  espcn_dataset_epoch_order (ds, &rng, order);
  guint seen = 0;
  for (guint i = 0; i < n; i++)
    seen |= 1u << order[i];
  g_assert_cmpuint (seen, ==, (1u << n) - 1);

  /* patch 24 at x3: LR 8x8; includes the 20x14 image, grown to 34x24. */
  enum { P = 24, S = 3, L = 8 };
  float *lr = g_new (float, 5 * 3 * L * L), *hr = g_new (float, 5 * 3 * P * P);
  GError *error = NULL;
  g_assert_true (espcn_dataset_fill_batch (ds, order, n, &rng, P, S, lr, hr, &error));
  g_assert_no_error (error);
  for (guint k = 0; k < n; k++)
    check_pair (espcn_dataset_train_image (ds, order[k]), lr + k * 3 * L * L,
        hr + k * 3 * P * P, P, S);

  /* Patch not a multiple of the scale; bad scale; bad index. */
  g_assert_false (espcn_dataset_make_pair (ds, 0, &rng, 25, 3, lr, hr, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "multiple"));
  g_clear_error (&error);
  g_assert_false (espcn_dataset_sample_batch (ds, &rng, 1, 24, 5, lr, hr, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (espcn_dataset_make_pair (ds, 99, &rng, 24, 3, lr, hr, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_free (lr);
  g_free (hr);
  rm_rf (root);
}

/* Whether some square of side `side` in src, shrunk to the window `win`, turned by a
 * dihedral op and cut `margin` pixels in, gives HR h and LR l (the window's own
 * downscale, cut likewise); the op in *op_out. */
static gboolean
find_turned_window (const EspcnImage *src, const EspcnImage *h, const EspcnImage *l, int side, int win,
    int margin, int scale, unsigned *op_out)
{
  int patch = h->width, lp = l->width;
  for (int y = 0; y + side <= src->height; y++)
    for (int x = 0; x + side <= src->width; x++) {
      g_autoptr (EspcnImage) c = espcn_image_crop (src, x, y, side, side);
      g_autoptr (EspcnImage) z = side == win ? espcn_image_copy (c) : espcn_imresize (c, win, win);
      for (unsigned op = 0; op < 8; op++) {
        g_autoptr (EspcnImage) t = espcn_image_dihedral (z, op);
        g_autoptr (EspcnImage) hc = espcn_image_crop (t, margin, margin, patch, patch);
        if (memcmp (hc->data, h->data, (gsize) patch * patch * 3) != 0)
          continue;
        g_autoptr (EspcnImage) d = espcn_imresize (t, win / scale, win / scale);
        g_autoptr (EspcnImage) lc = espcn_image_crop (d, margin / scale, margin / scale, lp, lp);
        g_assert_cmpmem (lc->data, (gsize) lp * lp * 3, l->data, (gsize) lp * lp * 3);
        *op_out = op;
        return TRUE;
      }
    }
  return FALSE;
}

/* With augmentation on, every pair is cut from a window that is a square of the
 * source between 1 and 1 / zoom_min times its width, shrunk and turned;
 * the draws cover several orientations and zooms; same seed, same pairs. */
static void
test_augmented_pairs_are_turned_and_zoomed_crops (void)
{
  g_autofree gchar *root = make_food_tree ();
  g_autoptr (GPtrArray) msgs = g_ptr_array_new_with_free_func (g_free);
  EspcnDatasetOptions o;
  espcn_dataset_options_init (&o);
  o.num_train = 1;
  o.num_val = 1;
  o.notice = collect;
  o.notice_data = msgs;
  o.augment.dihedral = TRUE;
  o.augment.zoom_min = 0.5;
  g_autoptr (EspcnDataset) ds = espcn_dataset_open (root, &o, NULL);
  g_assert_nonnull (ds);
  const EspcnImage *src = espcn_dataset_train_image (ds, 0);
  /* x2, patch 6: the window is 6 + 2 * 4 = 14 wide, its zoomed source up to 28. */
  enum { P = 6, S = 2, L = 3, M = 4, W = P + 2 * M, DRAWS = 12 };
  g_assert_cmpint (MIN (src->width, src->height), >=, 2 * W);
  float lr[3 * L * L], hr[3 * P * P], lr2[3 * L * L], hr2[3 * P * P];
  guint ops_seen = 0, zoomed = 0;
  EspcnRng rng, again;
  espcn_rng_seed (&rng, 5);
  espcn_rng_seed (&again, 5);
  for (int d = 0; d < DRAWS; d++) {
    g_assert_true (espcn_dataset_make_pair (ds, 0, &rng, P, S, lr, hr, NULL));
    g_assert_true (espcn_dataset_make_pair (ds, 0, &again, P, S, lr2, hr2, NULL));
    g_assert_cmpmem (hr, sizeof hr, hr2, sizeof hr2);
    g_assert_cmpmem (lr, sizeof lr, lr2, sizeof lr2);
    g_autoptr (EspcnImage) h = espcn_image_new (P, P);
    espcn_image_from_planar_f32 (h, hr);
    g_autoptr (EspcnImage) l = espcn_image_new (L, L);
    espcn_image_from_planar_f32 (l, lr);
    gboolean found = FALSE;
    unsigned op = 0;
    for (int side = W; side <= 2 * W && !found; side++) {
      found = find_turned_window (src, h, l, side, W, M, S, &op);
      if (found && side > W)
        zoomed++;
    }
    g_assert_true (found);
    ops_seen |= 1u << op;
  }
  g_assert_cmpint (g_bit_nth_lsf (ops_seen, -1), !=, g_bit_nth_msf (ops_seen, -1));
  g_assert_cmpuint (zoomed, >=, DRAWS / 2);

  /* A zoom outside [0.25, 1] is refused. */
  o.augment.zoom_min = 0.2;
  g_autoptr (GError) error = NULL;
  g_assert_null (espcn_dataset_open (root, &o, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "zoom 0.2"));
  rm_rf (root);
}

static void
test_val_pairs_are_modcropped_with_bicubic_baseline (void)
{
  g_autofree gchar *root = make_food_tree ();
  g_autoptr (GPtrArray) msgs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (EspcnDataset) ds = open_with (root, 2, 3, 3, msgs, NULL);
  g_assert_nonnull (ds);
  for (guint i = 0; i < espcn_dataset_num_val (ds); i++) {
    const EspcnImage *src = espcn_dataset_val_image (ds, i);
    EspcnImage *hr = NULL, *lr = NULL;
    g_assert_true (espcn_dataset_val_pair (ds, i, 4, &hr, &lr, NULL));
    g_assert_cmpint (hr->width, ==, src->width / 4 * 4);
    g_assert_cmpint (hr->height, ==, src->height / 4 * 4);
    g_assert_cmpint (lr->width * 4, ==, hr->width);
    g_assert_cmpint (lr->height * 4, ==, hr->height);
    g_autoptr (EspcnImage) expect = espcn_imresize_scale (hr, 0.25);
    g_assert_cmpmem (lr->data, lr->width * lr->height * 3, expect->data,
        expect->width * expect->height * 3);
    g_autoptr (EspcnImage) up = espcn_bicubic_upscale (lr, 4);
    g_assert_cmpint (up->width, ==, hr->width);
    g_assert_cmpint (up->height, ==, hr->height);
    espcn_image_free (hr);
    espcn_image_free (lr);
  }
  GError *error = NULL;
  EspcnImage *hr = NULL, *lr = NULL;
  g_assert_false (espcn_dataset_val_pair (ds, 3, 2, &hr, &lr, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  rm_rf (root);
}

static void
test_errors_for_missing_or_empty_inputs (void)
{
  g_autoptr (GPtrArray) msgs = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;
  g_assert_null (open_with ("/nonexistent/espcn-data", 2, 2, 1, msgs, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent/espcn-data"));
  g_clear_error (&error);

  /* Empty folder: no image. */
  g_autofree gchar *empty = espcn_test_make_tmp_dir ("espcn-empty-XXXXXX");
  g_assert_null (open_with (empty, 2, 2, 1, msgs, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  rm_rf (empty);

  /* Food-101 tree with an empty test list, and with only corrupt train files. */
  g_autofree gchar *root = make_food_tree ();
  g_autofree gchar *te = g_build_filename (root, "meta/test.txt", NULL);
  write_file (te, "\n");
  g_assert_null (open_with (root, 2, 2, 1, msgs, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "validation"));
  g_clear_error (&error);
  write_file (te, "apple_pie/3\n");
  g_autofree gchar *tr = g_build_filename (root, "meta/train.txt", NULL);
  write_file (tr, "churros/2\nmissing/9\n");
  g_ptr_array_set_size (msgs, 0);
  g_assert_null (open_with (root, 2, 2, 1, msgs, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "train"));
  g_assert_true (any_contains (msgs, "missing/9.jpg"));
  g_clear_error (&error);
  /* A list entry that would leave the images folder: an error naming its line
   * (data/image-set.h), not a silently shorter split. */
  write_file (te, "apple_pie/3\n../../secret\n");
  g_assert_null (open_with (root, 2, 2, 1, msgs, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "test.txt line 2"));
  g_clear_error (&error);
  /* test.txt missing altogether. */
  g_unlink (te);
  g_assert_null (open_with (root, 2, 2, 1, msgs, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);
  rm_rf (root);
}

static void
test_folder_tree_is_split_by_seed (void)
{
  g_autofree gchar *root = espcn_test_make_tmp_dir ("espcn-tree-XXXXXX");
  write_image (root, "a/x1.png", 30, 30, 1, TRUE);
  write_image (root, "a/b/x2.JPG", 30, 30, 2, FALSE);
  write_image (root, "a/b/x3.jpeg", 30, 30, 3, FALSE);
  write_image (root, "x4.jpg", 30, 30, 4, FALSE);
  write_image (root, "c/x5.png", 30, 30, 5, TRUE);
  write_image (root, ".hidden/x6.png", 30, 30, 6, TRUE);
  g_autofree gchar *txt = g_build_filename (root, "c/notes.txt", NULL);
  write_file (txt, "not an image");
  g_autoptr (GPtrArray) msgs = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;
  /* 5 images for 3 + 2: exact. */
  g_autoptr (EspcnDataset) a = open_with (root, 3, 2, 4, msgs, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (espcn_dataset_num_train (a), ==, 3);
  g_assert_cmpuint (espcn_dataset_num_val (a), ==, 2);
  g_autoptr (GHashTable) all = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < 3; i++)
    g_hash_table_add (all, (gpointer) espcn_dataset_train_path (a, i));
  for (guint i = 0; i < 2; i++)
    g_hash_table_add (all, (gpointer) espcn_dataset_val_path (a, i));
  g_assert_cmpuint (g_hash_table_size (all), ==, 5); /* disjoint, hidden one not used */
  /* 200 + 50 asked of 5: proportional split 4 + 1, with notices. */
  g_ptr_array_set_size (msgs, 0);
  g_autoptr (EspcnDataset) b = open_with (root, 200, 50, 4, msgs, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (espcn_dataset_num_train (b), ==, 4);
  g_assert_cmpuint (espcn_dataset_num_val (b), ==, 1);
  g_assert_true (any_contains (msgs, "fewer than the 200 asked"));
  /* A single image cannot fill both splits. */
  g_autofree gchar *one = espcn_test_make_tmp_dir ("espcn-one-XXXXXX");
  write_image (one, "only.png", 30, 30, 1, TRUE);
  g_assert_null (open_with (one, 2, 2, 1, msgs, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  rm_rf (one);
  rm_rf (root);
}

/* Class balance: a class of one image weighs as much as a class of nine, i.e.
 * is drawn about half the time, in epochs and in random batches; without it an
 * epoch is a permutation, so the single image is one draw in ten. */
static void
test_balanced_epochs_draw_every_class_equally (void)
{
  g_autofree gchar *root = espcn_test_make_tmp_dir ("espcn-balance-XXXXXX");
  GString *train = g_string_new (NULL);
  for (int i = 0; i < 9; i++) {
    g_autofree gchar *rel = g_strdup_printf ("images/many/%d.jpg", i);
    write_image (root, rel, 8, 8, i, FALSE);
    g_string_append_printf (train, "many/%d\n", i);
  }
  {
    /* White, so any patch of it is told apart from the textured ones. */
    g_autoptr (EspcnImage) white = espcn_image_new (8, 8);
    memset (white->data, 255, (gsize) 8 * 8 * 3);
    g_autofree gchar *dir = g_build_filename (root, "images/one", NULL);
    g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
    g_autofree gchar *path = g_build_filename (dir, "0.jpg", NULL);
    g_assert_true (espcn_image_save_png (white, path, NULL));
  }
  g_string_append (train, "one/0\n");
  g_autofree gchar *tr = g_build_filename (root, "meta/train.txt", NULL);
  write_file (tr, train->str);
  g_string_free (train, TRUE);
  g_autofree gchar *te = g_build_filename (root, "meta/test.txt", NULL);
  write_file (te, "one/0\n");

  for (int balance = 0; balance <= 1; balance++) {
    EspcnDatasetOptions o;
    espcn_dataset_options_init (&o);
    o.num_train = 10;
    o.num_val = 1;
    o.augment.balance_classes = balance;
    g_autoptr (EspcnDataset) ds = espcn_dataset_open (root, &o, NULL);
    g_assert_nonnull (ds);
    g_assert_cmpuint (espcn_dataset_num_train (ds), ==, 10);
    g_assert_cmpuint (espcn_dataset_num_train_classes (ds), ==, 2);
    guint single = G_MAXUINT;
    for (guint i = 0; i < 10; i++)
      if (strstr (espcn_dataset_train_path (ds, i), "/one/") != NULL)
        single = i;
    g_assert_cmpuint (single, <, 10);

    enum { EPOCHS = 400 };
    guint hits[10] = { 0 };
    guint32 order[10], again[10];
    EspcnRng rng, rng2;
    espcn_rng_seed (&rng, 9);
    espcn_rng_seed (&rng2, 9);
    for (int e = 0; e < EPOCHS; e++) {
      espcn_dataset_epoch_order (ds, &rng, order);
      espcn_dataset_epoch_order (ds, &rng2, again);
      g_assert_cmpmem (order, sizeof order, again, sizeof again);
      for (int k = 0; k < 10; k++) {
        g_assert_cmpuint (order[k], <, 10);
        hits[order[k]]++;
      }
    }
    for (int i = 0; i < 10; i++)
      g_assert_cmpuint (hits[i], >, 0);
    if (balance) {
      /* 4000 draws, p = 1/2: 5 standard deviations is about +-160. */
      g_assert_cmpuint (hits[single], >, 2000 - 160);
      g_assert_cmpuint (hits[single], <, 2000 + 160);
    } else {
      g_assert_cmpuint (hits[single], ==, EPOCHS);
    }

    /* Random batches (AdaRound's calibration) draw the same way; patches of
     * the white image are the only all-white ones. */
    enum { BATCH = 400, HR = 3 * 8 * 8 };
    g_autofree float *lr = g_new (float, BATCH * 3 * 4 * 4);
    g_autofree float *hr = g_new (float, BATCH * HR);
    g_assert_true (espcn_dataset_sample_batch (ds, &rng, BATCH, 8, 2, lr, hr, NULL));
    guint from_one = 0;
    for (int k = 0; k < BATCH; k++) {
      gboolean white = TRUE;
      for (int i = 0; i < HR; i++)
        white = white && hr[k * HR + i] == 1.0f;
      from_one += white;
    }
    /* p = 1/2 (sd 10) balanced, 1/10 (sd 6) image by image. */
    if (balance) {
      g_assert_cmpuint (from_one, >, 200 - 50);
      g_assert_cmpuint (from_one, <, 200 + 50);
    } else {
      g_assert_cmpuint (from_one, >, 40 - 30);
      g_assert_cmpuint (from_one, <, 40 + 30);
    }
  }
  rm_rf (root);
}

static void
test_epoch_of_200_crops_is_fast (void)
{
  /* An epoch at the default sizes: 200 crops of 192 from 512x384 images, x4. */
  g_autofree gchar *root = espcn_test_make_tmp_dir ("espcn-speed-XXXXXX");
  for (int i = 0; i < 3; i++) {
    g_autofree gchar *rel = g_strdup_printf ("p%d.png", i);
    write_image (root, rel, 512, 384, i, TRUE);
  }
  g_autoptr (EspcnDataset) ds = open_with (root, 2, 1, 1, NULL, NULL);
  g_assert_nonnull (ds);
  enum { P = 192, S = 4, L = 48 };
  float *lr = g_new (float, 3 * L * L), *hr = g_new (float, 3 * P * P);
  EspcnRng rng;
  espcn_rng_seed (&rng, 1);
  gint64 t0 = g_get_monotonic_time ();
  for (int k = 0; k < 200; k++)
    g_assert_true (espcn_dataset_sample_batch (ds, &rng, 1, P, S, lr, hr, NULL));
  double s = (g_get_monotonic_time () - t0) / 1e6;
  g_test_message ("200 pairs 192 -> 48: %.3f s", s);
  g_assert_cmpfloat (s, <, 5.0);
  g_free (lr);
  g_free (hr);
  rm_rf (root);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dataset/food101-counts-and-corrupt-file-skipped",
      test_food101_counts_and_corrupt_file_skipped);
  g_test_add_func ("/dataset/selection-is-deterministic-for-a-seed",
      test_selection_is_deterministic_for_a_seed);
  g_test_add_func ("/dataset/pairs-are-crops-of-the-image-and-of-its-downscale",
      test_pairs_are_crops_of_the_image_and_of_its_downscale);
  g_test_add_func ("/dataset/augmented-pairs-are-turned-and-zoomed-crops",
      test_augmented_pairs_are_turned_and_zoomed_crops);
  g_test_add_func ("/dataset/val-pairs-are-modcropped-with-bicubic-baseline",
      test_val_pairs_are_modcropped_with_bicubic_baseline);
  g_test_add_func ("/dataset/errors-for-missing-or-empty-inputs",
      test_errors_for_missing_or_empty_inputs);
  g_test_add_func ("/dataset/folder-tree-is-split-by-seed", test_folder_tree_is_split_by_seed);
  g_test_add_func ("/dataset/balanced-epochs-draw-every-class-equally",
      test_balanced_epochs_draw_every_class_equally);
  g_test_add_func ("/dataset/epoch-of-200-crops-is-fast", test_epoch_of_200_crops_is_fast);
  return g_test_run ();
}
