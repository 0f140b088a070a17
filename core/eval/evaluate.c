#include "eval/evaluate.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval-report.h"
#include "image/image-io.h"
#include "metrics/metrics.h"

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
      if (espcn_eval_model_get_kind (models[a]) == ESPCN_EVAL_FAKE_QUANT &&
          espcn_eval_model_get_kind (models[b]) == ESPCN_EVAL_INT8 &&
          g_strcmp0 (espcn_eval_model_get_method (models[a]), espcn_eval_model_get_method (models[b])) == 0) {
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
    if (opts->progress != NULL)
      opts->progress (i + 1, n_images, opts->progress_data);
  }
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
