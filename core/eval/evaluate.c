#include "eval/evaluate.h"

#include <errno.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data/dataset.h"
#include "engine/engine.h"
#include "eval/loadmodel.h"
#include "image/image-io.h"
#include "image/imresize.h"
#include "io/safetensors.h"
#include "metrics/metrics.h"

/* ---------------- models ---------------- */

struct _EspcnEvalModel {
  EspcnEvalKind kind;
  char *name;
  char *dir_name;
  int scale;
  char *method;
  EspcnEvalCheckpoint *ck;   /* float / fake-quant: shared by both entries of one file */
  gint *ck_refs;             /* how many entries share ck */
  EspcnInt8Model *int8;
  EspcnRunner *runner;
};

EspcnEvalModel *
espcn_eval_model_new_bicubic (int scale)
{
  EspcnEvalModel *m = g_new0 (EspcnEvalModel, 1);
  m->kind = ESPCN_EVAL_BICUBIC;
  m->name = g_strdup ("bicubic");
  m->dir_name = g_strdup ("bicubic");
  m->scale = scale;
  return m;
}

void
espcn_eval_model_free (EspcnEvalModel *m)
{
  if (m == NULL)
    return;
  if (m->ck_refs != NULL && --*m->ck_refs == 0) {
    espcn_eval_checkpoint_free (m->ck);
    g_free (m->ck_refs);
  }
  espcn_runner_free (m->runner);
  if (m->int8 != NULL)
    espcn_int8_model_unref (m->int8);
  g_free (m->name);
  g_free (m->dir_name);
  g_free (m->method);
  g_free (m);
}

static char *
file_stem (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  char *dot = strrchr (base, '.');
  if (dot != NULL && dot != base)
    *dot = '\0';
  return g_strdup (base);
}

gboolean
espcn_eval_models_open (const char *path, int threads, GPtrArray *out, GError **error)
{
  /* The container is read once to see what the file is; the typed loaders then
   * validate everything. */
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_file (path, error);
  if (st == NULL)
    return FALSE;
  const char *format = espcn_safetensors_get_metadata (st, "format");
  g_autofree char *stem = file_stem (path);

  if (g_strcmp0 (format, ESPCN_INT8_FORMAT) == 0) {
    EspcnInt8Model *im = espcn_int8_model_load (path, error);
    if (im == NULL)
      return FALSE;
    EspcnEvalModel *m = g_new0 (EspcnEvalModel, 1);
    m->kind = ESPCN_EVAL_INT8;
    m->int8 = im;
    m->name = g_strdup (path);
    m->dir_name = g_strdup (stem);
    m->scale = espcn_int8_model_get_scale (im);
    m->method = g_strdup (espcn_int8_model_get_method (im));
    m->runner = espcn_runner_new (im, MAX (threads, 1), error);
    if (m->runner == NULL) {
      espcn_eval_model_free (m);
      return FALSE;
    }
    g_ptr_array_add (out, m);
    return TRUE;
  }
  if (g_strcmp0 (format, "espcn-float-checkpoint") != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s is neither an INT8 model nor a float training checkpoint (metadata format is %s)", path,
        format ? format : "missing");
    return FALSE;
  }

  EspcnEvalCheckpoint *ck = espcn_eval_checkpoint_load (path, error);
  if (ck == NULL)
    return FALSE;
  espcn_float_model_set_threads (ck->model, MAX (threads, 1));
  gint *refs = g_new0 (gint, 1);
  gboolean fq = espcn_eval_checkpoint_has_quant (ck);
  for (int k = 0; k < (fq ? 2 : 1); k++) {
    EspcnEvalModel *m = g_new0 (EspcnEvalModel, 1);
    m->kind = k == 0 ? ESPCN_EVAL_FLOAT : ESPCN_EVAL_FAKE_QUANT;
    m->ck = ck;
    m->ck_refs = refs;
    (*refs)++;
    m->name = g_strdup_printf ("%s (%s)", path, k == 0 ? "float" : "fake-quant");
    m->dir_name = g_strdup_printf ("%s-%s", stem, k == 0 ? "float" : "fakequant");
    m->scale = ck->model->config.scale;
    m->method = g_strdup (ck->method);
    g_ptr_array_add (out, m);
  }
  return TRUE;
}

const char *
espcn_eval_model_get_name (const EspcnEvalModel *m)
{
  return m->name;
}

const char *
espcn_eval_model_get_dir_name (const EspcnEvalModel *m)
{
  return m->dir_name;
}

EspcnEvalKind
espcn_eval_model_get_kind (const EspcnEvalModel *m)
{
  return m->kind;
}

int
espcn_eval_model_get_scale (const EspcnEvalModel *m)
{
  return m->scale;
}

const char *
espcn_eval_model_get_method (const EspcnEvalModel *m)
{
  return m->method;
}

EspcnImage *
espcn_eval_model_upscale (EspcnEvalModel *m, const EspcnImage *lr, GError **error)
{
  const int W = lr->width * m->scale, H = lr->height * m->scale;
  EspcnImage *sr = NULL;
  switch (m->kind) {
  case ESPCN_EVAL_BICUBIC:
    sr = espcn_bicubic_upscale (lr, m->scale);
    if (sr == NULL)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "bicubic upscaling of a %dx%d image failed", lr->width,
          lr->height);
    return sr;
  case ESPCN_EVAL_FLOAT:
  case ESPCN_EVAL_FAKE_QUANT: {
    espcn_eval_checkpoint_set_fake_quant (m->ck, m->kind == ESPCN_EVAL_FAKE_QUANT);
    g_autofree float *in = g_new (float, 3 * (gsize) lr->width * lr->height);
    g_autofree float *out = g_new (float, 3 * (gsize) W * H);
    espcn_image_to_planar_f32 (lr, in);
    espcn_float_model_forward (m->ck->model, in, 1, lr->height, lr->width, out);
    espcn_eval_checkpoint_set_fake_quant (m->ck, FALSE);
    sr = espcn_image_new (W, H);
    espcn_image_from_planar_f32 (sr, out);
    break;
  }
  case ESPCN_EVAL_INT8:
    sr = espcn_image_new (W, H);
    if (!espcn_runner_process (m->runner, lr->data, 3 * (gsize) lr->width, &ESPCN_PIXEL_LAYOUT_RGB, lr->width,
            lr->height, sr->data, 3 * (gsize) W, &ESPCN_PIXEL_LAYOUT_RGB, error)) {
      espcn_image_free (sr);
      return NULL;
    }
    break;
  }
  sr->gray = lr->gray;
  return sr;
}

/* ---------------- images ---------------- */

struct _EspcnEvalSet {
  GPtrArray *paths;
  GPtrArray *names;
};

static gboolean
is_image_name (const char *name)
{
  return g_str_has_suffix (name, ".png") || g_str_has_suffix (name, ".jpg") || g_str_has_suffix (name, ".jpeg");
}

static gboolean
collect (const char *dir, GPtrArray *out, int depth, GError **error)
{
  if (depth > 16)
    return TRUE;
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  if (d == NULL)
    return FALSE;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL) {
    if (name[0] == '.')
      continue;
    g_autofree char *path = g_build_filename (dir, name, NULL);
    g_autofree char *lower = g_ascii_strdown (name, -1);
    if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
      if (!collect (path, out, depth + 1, error))
        return FALSE;
    } else if (is_image_name (lower)) {
      g_ptr_array_add (out, g_steal_pointer (&path));
    }
  }
  return TRUE;
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

EspcnEvalSet *
espcn_eval_set_open (const char *root, guint num, GError **error)
{
  if (!g_file_test (root, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "data folder %s does not exist or is not a folder", root);
    return NULL;
  }
  g_autoptr (EspcnEvalSet) set = g_new0 (EspcnEvalSet, 1);
  set->paths = g_ptr_array_new_with_free_func (g_free);
  set->names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *list = g_build_filename (root, "meta", "test.txt", NULL);
  g_autofree char *train_list = g_build_filename (root, "meta", "train.txt", NULL);
  if (g_file_test (train_list, G_FILE_TEST_EXISTS)) {
    g_autofree char *text = NULL;
    if (!g_file_get_contents (list, &text, NULL, error)) {
      g_prefix_error (error, "Food-101 tree %s without a readable validation list: ", root);
      return NULL;
    }
    g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
    for (int i = 0; lines[i] != NULL; i++) {
      char *l = g_strstrip (lines[i]);
      if (*l == '\0')
        continue;
      if (strstr (l, "..") != NULL || l[0] == '/') {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s line %d: '%s' is not a <class>/<id> entry", list,
            i + 1, l);
        return NULL;
      }
      g_autofree char *file = g_strconcat (l, ".jpg", NULL);
      g_ptr_array_add (set->paths, g_build_filename (root, "images", file, NULL));
      g_ptr_array_add (set->names, g_strdelimit (g_strdup (l), "/", '_'));
    }
  } else {
    if (!collect (root, set->paths, 0, error))
      return NULL;
    g_ptr_array_sort (set->paths, cmp_str);
    const gsize root_len = strlen (root);
    for (guint i = 0; i < set->paths->len; i++) {
      const char *p = g_ptr_array_index (set->paths, i);
      const char *rel = p + root_len;
      while (*rel == G_DIR_SEPARATOR)
        rel++;
      char *name = g_strdelimit (g_strdup (rel), "/", '_');
      char *dot = strrchr (name, '.');
      if (dot != NULL && dot != name)
        *dot = '\0';
      g_ptr_array_add (set->names, name);
    }
  }
  if (set->paths->len == 0) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "no images (*.png, *.jpg, *.jpeg) found in %s", root);
    return NULL;
  }
  if (num > 0 && num < set->paths->len) {
    g_ptr_array_set_size (set->paths, num);
    g_ptr_array_set_size (set->names, num);
  }
  return g_steal_pointer (&set);
}

void
espcn_eval_set_free (EspcnEvalSet *set)
{
  if (set == NULL)
    return;
  if (set->paths != NULL)
    g_ptr_array_unref (set->paths);
  if (set->names != NULL)
    g_ptr_array_unref (set->names);
  g_free (set);
}

guint
espcn_eval_set_size (const EspcnEvalSet *set)
{
  return set->paths->len;
}

const char *
espcn_eval_set_path (const EspcnEvalSet *set, guint i)
{
  g_return_val_if_fail (i < set->paths->len, NULL);
  return g_ptr_array_index (set->paths, i);
}

const char *
espcn_eval_set_name (const EspcnEvalSet *set, guint i)
{
  g_return_val_if_fail (i < set->names->len, NULL);
  return g_ptr_array_index (set->names, i);
}

gboolean
espcn_eval_set_pair (const EspcnEvalSet *set, guint i, int scale, EspcnImage **hr, EspcnImage **lr, GError **error)
{
  const char *path = espcn_eval_set_path (set, i);
  g_autoptr (EspcnImage) img = espcn_image_load (path, error);
  if (img == NULL)
    return FALSE;
  if (img->width < 2 * scale || img->height < 2 * scale) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %dx%d is too small for scale %d", path, img->width,
        img->height, scale);
    return FALSE;
  }
  g_autoptr (EspcnImage) h = espcn_image_modcrop (img, scale);
  EspcnImage *l = espcn_imresize_scale (h, 1.0 / scale);
  if (l == NULL || l->width * scale != h->width || l->height * scale != h->height) {
    espcn_image_free (l);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: downscaling by %d failed", path, scale);
    return FALSE;
  }
  *hr = g_steal_pointer (&h);
  *lr = l;
  return TRUE;
}

/* ---------------- the run ---------------- */

static gboolean
make_dir (const char *dir, GError **error)
{
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "cannot create folder %s: %s", dir, g_strerror (e));
    return FALSE;
  }
  return TRUE;
}

void
espcn_eval_result_clear (EspcnEvalResult *res)
{
  g_clear_pointer (&res->scores, g_free);
  if (res->pairs != NULL)
    g_array_unref (res->pairs);
  res->pairs = NULL;
}

gboolean
espcn_eval_run (const EspcnEvalSet *set, int scale, EspcnEvalModel *const *models, guint n_models,
                const EspcnEvalOptions *opts, EspcnEvalResult *res, GError **error)
{
  memset (res, 0, sizeof *res);
  res->n_models = n_models;
  res->scores = g_new0 (EspcnEvalScores, n_models);
  res->pairs = g_array_new (FALSE, TRUE, sizeof (EspcnEvalPair));
  for (guint k = 0; k < n_models; k++)
    if (espcn_eval_model_get_scale (models[k]) != scale) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s is a x%d model, the evaluation is x%d",
          espcn_eval_model_get_name (models[k]), espcn_eval_model_get_scale (models[k]), scale);
      return FALSE;
    }
  /* Every (fake-quant, INT8) pair of one method. */
  for (guint a = 0; a < n_models; a++)
    for (guint b = 0; b < n_models; b++)
      if (models[a]->kind == ESPCN_EVAL_FAKE_QUANT && models[b]->kind == ESPCN_EVAL_INT8 &&
          g_strcmp0 (models[a]->method, models[b]->method) == 0) {
        EspcnEvalPair p = { .a = a, .b = b };
        g_array_append_val (res->pairs, p);
      }

  /* Distinct output folders even for models with the same file stem. */
  g_auto (GStrv) dirs = g_new0 (char *, n_models + 1);
  for (guint k = 0; k < n_models; k++) {
    dirs[k] = g_strdup (espcn_eval_model_get_dir_name (models[k]));
    for (guint j = 0, n = 2; j < k; j++)
      if (strcmp (dirs[j], dirs[k]) == 0) {
        g_free (dirs[k]);
        dirs[k] = g_strdup_printf ("%s-%u", espcn_eval_model_get_dir_name (models[k]), n++);
        j = (guint) -1;
      }
  }
  if (opts->save_dir != NULL)
    for (guint k = 0; k < n_models; k++) {
      g_autofree char *d = g_build_filename (opts->save_dir, dirs[k], NULL);
      if (!make_dir (d, error))
        return FALSE;
    }

  const guint n_images = espcn_eval_set_size (set);
  g_autofree double *psnr_a = g_new0 (double, n_models);
  for (guint i = 0; i < n_images; i++) {
    g_autoptr (EspcnImage) hr = NULL;
    g_autoptr (EspcnImage) lr = NULL;
    if (!espcn_eval_set_pair (set, i, scale, &hr, &lr, error))
      return FALSE;
    g_autoptr (GPtrArray) srs = g_ptr_array_new_with_free_func ((GDestroyNotify) espcn_image_free);
    for (guint k = 0; k < n_models; k++) {
      EspcnImage *sr = espcn_eval_model_upscale (models[k], lr, error);
      if (sr == NULL) {
        g_prefix_error (error, "%s on %s: ", espcn_eval_model_get_name (models[k]), espcn_eval_set_path (set, i));
        return FALSE;
      }
      g_ptr_array_add (srs, sr);
      psnr_a[k] = espcn_psnr_y (sr, hr, scale);
      res->scores[k].psnr_y += psnr_a[k];
      res->scores[k].psnr_rgb += espcn_psnr_rgb (sr, hr, scale);
      res->scores[k].ssim += espcn_ssim_y (sr, hr, scale);
      if (opts->save_dir != NULL) {
        g_autofree char *file = g_strconcat (espcn_eval_set_name (set, i), ".png", NULL);
        g_autofree char *out = g_build_filename (opts->save_dir, dirs[k], file, NULL);
        if (!espcn_image_save_png (sr, out, error))
          return FALSE;
      }
    }
    for (guint p = 0; p < res->pairs->len; p++) {
      EspcnEvalPair *pr = &g_array_index (res->pairs, EspcnEvalPair, p);
      const EspcnImage *x = g_ptr_array_index (srs, pr->a), *y = g_ptr_array_index (srs, pr->b);
      const gsize n = 3 * (gsize) x->width * x->height;
      for (gsize j = 0; j < n; j++) {
        int d = abs ((int) x->data[j] - (int) y->data[j]);
        pr->n_diff += d != 0;
        pr->max_abs_diff = MAX (pr->max_abs_diff, d);
      }
      pr->n_total += n;
      pr->psnr_y_diff += psnr_a[pr->b] - psnr_a[pr->a];
    }
    if (i == 0 && opts->save_dir != NULL &&
        !espcn_eval_save_comparison (hr, lr, scale, (EspcnImage *const *) srs->pdata, srs->len, opts,
            espcn_eval_set_path (set, i), error))
      return FALSE;
    if (!opts->quiet)
      fprintf (stderr, "\r%u/%u images", i + 1, n_images);
  }
  if (!opts->quiet)
    fprintf (stderr, "\n");
  res->n_images = n_images;
  for (guint k = 0; k < n_models; k++) {
    res->scores[k].psnr_y /= n_images;
    res->scores[k].psnr_rgb /= n_images;
    res->scores[k].ssim /= n_images;
  }
  for (guint p = 0; p < res->pairs->len; p++)
    g_array_index (res->pairs, EspcnEvalPair, p).psnr_y_diff /= n_images;
  return TRUE;
}

/* ---------------- comparison strip ---------------- */

#define GAP 8

EspcnImage *
espcn_eval_comparison (const EspcnImage *hr, const EspcnImage *lr, int scale, EspcnImage *const *srs, guint n_srs,
                       const int crop[4], int zoom, GError **error)
{
  const int x0 = crop[0], y0 = crop[1], w = crop[2], h = crop[3];
  if (x0 < 0 || y0 < 0 || w < 1 || h < 1 || x0 > hr->width - w || y0 > hr->height - h || zoom < 1 || zoom > 16 ||
      (gint64) w * zoom * (n_srs + 2) > ESPCN_IMAGE_MAX_SIDE - (gint64) GAP * (n_srs + 3)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "crop %d,%d,%d,%d does not fit the %dx%d image",
        x0, y0, w, h, hr->width, hr->height);
    return NULL;
  }
  const guint panels = n_srs + 2;
  const int pw = w * zoom, ph = h * zoom;
  EspcnImage *out = espcn_image_new ((int) panels * pw + (int) (panels + 1) * GAP, ph + 2 * GAP);
  memset (out->data, 255, 3 * (gsize) out->width * out->height);
  for (guint p = 0; p < panels; p++) {
    const int ox = GAP + (int) p * (pw + GAP);
    for (int y = 0; y < ph; y++)
      for (int x = 0; x < pw; x++) {
        const int hx = x0 + x / zoom, hy = y0 + y / zoom;
        const guint8 *src;
        if (p == 0)
          src = lr->data + 3 * ((gsize) MIN (hy / scale, lr->height - 1) * lr->width + MIN (hx / scale, lr->width - 1));
        else if (p == panels - 1)
          src = hr->data + 3 * ((gsize) hy * hr->width + hx);
        else
          src = srs[p - 1]->data + 3 * ((gsize) hy * srs[p - 1]->width + hx);
        memcpy (out->data + 3 * ((gsize) (GAP + y) * out->width + ox + x), src, 3);
      }
  }
  return out;
}

gboolean
espcn_eval_save_comparison (const EspcnImage *hr, const EspcnImage *lr, int scale, EspcnImage *const *srs,
                            guint n_srs, const EspcnEvalOptions *opts, const char *path, GError **error)
{
  int crop[4];
  if (opts->has_crop) {
    memcpy (crop, opts->crop, sizeof crop);
  } else {
    crop[2] = MIN (96, hr->width);
    crop[3] = MIN (96, hr->height);
    crop[0] = (hr->width - crop[2]) / 2;
    crop[1] = (hr->height - crop[3]) / 2;
  }
  g_autoptr (EspcnImage) cmp = espcn_eval_comparison (hr, lr, scale, srs, n_srs, crop, 2, error);
  if (cmp == NULL) {
    g_prefix_error (error, "comparison image of %s: ", path);
    return FALSE;
  }
  g_autofree char *out = g_build_filename (opts->save_dir, "comparison.png", NULL);
  return espcn_image_save_png (cmp, out, error);
}

/* ---------------- JSON ---------------- */

static void
add_number (JsonBuilder *b, const char *key, double v)
{
  json_builder_set_member_name (b, key);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);  /* identical images: infinite PSNR has no JSON number */
}

char *
espcn_eval_scores_to_json (const char *const *names, const EspcnEvalScores *const *scores, guint n)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  for (guint k = 0; k < n; k++) {
    json_builder_set_member_name (b, names[k]);
    json_builder_begin_object (b);
    add_number (b, "psnr_y", scores[k]->psnr_y);
    add_number (b, "psnr_rgb", scores[k]->psnr_rgb);
    add_number (b, "ssim", scores[k]->ssim);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}

char *
espcn_eval_result_to_json (const EspcnEvalResult *res, EspcnEvalModel *const *models)
{
  g_autofree const char **names = g_new (const char *, res->n_models);
  g_autofree const EspcnEvalScores **scores = g_new (const EspcnEvalScores *, res->n_models);
  for (guint k = 0; k < res->n_models; k++) {
    names[k] = espcn_eval_model_get_name (models[k]);
    scores[k] = &res->scores[k];
  }
  return espcn_eval_scores_to_json (names, scores, res->n_models);
}
