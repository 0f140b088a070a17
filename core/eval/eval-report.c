#include "eval/eval-report.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "image/image-io.h"

/* ---- comparison strip ---- */

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

/* ---- JSON ---- */

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
