/* espcn-eval: PSNR / SSIM of bicubic and of float, fake-quant and INT8 models on a
 * folder of HR images or a Food-101 validation split. */
#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "eval/evaluate.h"

static gboolean
parse_crop (const char *s, int crop[4], GError **error)
{
  g_auto (GStrv) parts = g_strsplit (s, ",", -1);
  if (g_strv_length (parts) != 4)
    goto bad;
  for (int i = 0; i < 4; i++) {
    gint64 v;
    if (!g_ascii_string_to_signed (g_strstrip (parts[i]), 10, i < 2 ? 0 : 1, 1 << 15, &v, NULL))
      goto bad;
    crop[i] = (int) v;
  }
  return TRUE;
bad:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--crop wants X,Y,W,H (HR pixels, W and H >= 1), got '%s'", s);
  return FALSE;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_auto (GStrv) model_paths = NULL;
  g_autofree char *data = NULL, *save = NULL, *crop_s = NULL;
  int scale = 0, num = 0, threads = 2;
  gboolean json = FALSE, compare = FALSE, quiet = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME_ARRAY, &model_paths, "Model: float checkpoint or INT8 model (repeatable)", "FILE" },
    { "data", 'd', 0, G_OPTION_ARG_FILENAME, &data, "Folder of HR images, or a Food-101 tree (its test.txt split)", "DIR" },
    { "scale", 's', 0, G_OPTION_ARG_INT, &scale, "Upscale factor 2, 3 or 4 (default: the models')", "S" },
    { "num", 'n', 0, G_OPTION_ARG_INT, &num, "Use only the first N images (default all)", "N" },
    { "save", 0, 0, G_OPTION_ARG_FILENAME, &save, "Write SR images and comparison.png to DIR", "DIR" },
    { "crop", 0, 0, G_OPTION_ARG_STRING, &crop_s, "Comparison crop of the first image (default centred 96x96)", "X,Y,W,H" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object instead of a table", NULL },
    { "compare", 0, 0, G_OPTION_ARG_NONE, &compare, "Compare each fake-quant checkpoint with the INT8 model of its method", NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads for the models (default 2)", "N" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress on stderr", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- evaluate super-resolution models");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) models = g_ptr_array_new_with_free_func ((GDestroyNotify) espcn_eval_model_free);
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func ((GDestroyNotify) espcn_eval_model_free);
  g_autoptr (EspcnEvalSet) set = NULL;
  EspcnEvalOptions opts = { 0 };
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    goto fail;
  if (argc > 1) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "unexpected argument '%s'", argv[1]);
    goto fail;
  }
  if (data == NULL) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "no images given: use --data DIR");
    goto fail;
  }
  if (num < 0 || threads < 1 || threads > 64) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--num must be >= 0 and --threads in 1..64");
    goto fail;
  }
  opts.save_dir = save;
  opts.quiet = quiet || json;
  if (crop_s != NULL && !parse_crop (crop_s, opts.crop, &error))
    goto fail;
  opts.has_crop = crop_s != NULL;

  for (int i = 0; model_paths != NULL && model_paths[i] != NULL; i++)
    if (!espcn_eval_models_open (model_paths[i], threads, loaded, &error))
      goto fail;
  if (scale == 0)
    scale = loaded->len > 0 ? espcn_eval_model_get_scale (g_ptr_array_index (loaded, 0)) : 0;
  if (scale < 2 || scale > 4) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        scale == 0 ? "no --scale and no model to take it from: use --scale 2, 3 or 4" : "--scale must be 2, 3 or 4");
    goto fail;
  }
  g_ptr_array_add (models, espcn_eval_model_new_bicubic (scale));
  for (guint i = 0; i < loaded->len; i++)
    g_ptr_array_add (models, g_steal_pointer (&g_ptr_array_index (loaded, i)));
  g_ptr_array_set_size (loaded, 0);

  set = espcn_eval_set_open (data, (guint) num, &error);
  if (set == NULL)
    goto fail;
  EspcnEvalResult res;
  if (!espcn_eval_run (set, scale, (EspcnEvalModel *const *) models->pdata, models->len, &opts, &res, &error)) {
    espcn_eval_result_clear (&res);
    goto fail;
  }

  if (json) {
    g_autofree char *text = espcn_eval_result_to_json (&res, (EspcnEvalModel *const *) models->pdata);
    printf ("%s\n", text);
  } else {
    printf ("%s, x%d, %u images (Y-PSNR shaves %d pixels)\n", data, scale, res.n_images, scale);
    printf ("%-56s %9s %9s %7s\n", "model", "Y-PSNR", "RGB-PSNR", "SSIM");
    for (guint k = 0; k < models->len; k++)
      printf ("%-56s %9.3f %9.3f %7.4f\n", espcn_eval_model_get_name (g_ptr_array_index (models, k)),
          res.scores[k].psnr_y, res.scores[k].psnr_rgb, res.scores[k].ssim);
  }
  if (compare) {
    FILE *o = json ? stderr : stdout;
    if (res.pairs->len == 0)
      fprintf (o, "--compare: no (fake-quant checkpoint, INT8 model) pair of the same method was given\n");
    for (guint p = 0; p < res.pairs->len; p++) {
      const EspcnEvalPair *pr = &g_array_index (res.pairs, EspcnEvalPair, p);
      fprintf (o, "compare %s vs %s: Y-PSNR %+.4f dB, max pixel difference %d, %.4f%% of pixel values differ (%"
          G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT ")\n",
          espcn_eval_model_get_name (g_ptr_array_index (models, pr->b)),
          espcn_eval_model_get_name (g_ptr_array_index (models, pr->a)), pr->psnr_y_diff, pr->max_abs_diff,
          100.0 * pr->n_diff / MAX (pr->n_total, 1), pr->n_diff, pr->n_total);
    }
  }
  if (save != NULL && !json)
    printf ("SR images and comparison.png written to %s\n", save);
  espcn_eval_result_clear (&res);
  return 0;

fail:
  fprintf (stderr, "espcn-eval: %s\n", error->message);
  return 1;
}
