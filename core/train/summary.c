#include "train/summary.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "quant/quantizer.h"
#include "util/atomic-file.h"

typedef struct {
  const char *method;
  double psnr_y, psnr_rgb, ssim, seconds;
} Row;

/* A bar chart a person can open: one bar per method, bicubic and float marked. */
static GString *
bar_chart_svg (const Row *rows, guint n, double bicubic)
{
  double lo = bicubic, hi = bicubic;
  for (guint i = 0; i < n; i++) {
    lo = MIN (lo, rows[i].psnr_y);
    hi = MAX (hi, rows[i].psnr_y);
  }
  lo = (double) (int) (lo - 1.0);
  hi = hi + 0.5;
  const int W = 640, H = 360, left = 60, bottom = 300, top = 40, bw = 60;
  double ppd = (bottom - top) / (hi - lo);
  GString *s = g_string_new (NULL);
  g_string_append_printf (s,
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%d\" y=\"24\" font-size=\"15\">Validation Y-PSNR (dB) by method</text>\n",
      W, H, left);
  for (double t = (int) lo; t <= hi; t += 1.0) {
    double y = bottom - (t - lo) * ppd;
    g_string_append_printf (s,
        "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n",
        left, W - 20, y, y, left - 6, y + 4, t);
  }
  for (guint i = 0; i < n; i++) {
    double x = left + 20 + i * (bw + 20);
    double y = bottom - (rows[i].psnr_y - lo) * ppd;
    const char *fill = g_strcmp0 (rows[i].method, "none") == 0 ? "#555" : "#3a7bd5";
    g_string_append_printf (s,
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"/>"
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.2f</text>"
        "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
        x, y, bw, bottom - y, fill, x + bw / 2.0, y - 4, rows[i].psnr_y, x + bw / 2.0, bottom + 16,
        g_strcmp0 (rows[i].method, "none") == 0 ? "float" : rows[i].method);
  }
  double yb = bottom - (bicubic - lo) * ppd;
  g_string_append_printf (s,
      "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#c33\" stroke-dasharray=\"6 4\"/>"
      "<text x=\"%d\" y=\"%.1f\" fill=\"#c33\" text-anchor=\"end\">bicubic %.2f</text>\n</svg>\n",
      left, W - 20, yb, yb, W - 20, yb - 4, bicubic);
  return s;
}

gboolean
espcn_train_all (const EspcnTrainConfig *base, char **table, GError **error)
{
  EspcnTrainConfig cfg = *base;
  cfg.method = (char *) "none";
  if (!espcn_train_config_validate (&cfg, error))
    return FALSE;

  EspcnDatasetOptions opts;
  espcn_dataset_options_init (&opts);
  opts.num_train = base->num_train;
  opts.num_val = base->num_val;
  opts.seed = base->seed;
  opts.notice = espcn_train_dataset_notice;
  opts.notice_data = (gpointer) base;
  g_autoptr (EspcnDataset) ds = espcn_dataset_open (base->data_dir, &opts, error);
  if (ds == NULL)
    return FALSE;

  const char *const *qm = espcn_quant_methods ();
  Row rows[8];
  guint n = 0;
  double bicubic[3] = { 0 };
  gint64 t0 = g_get_monotonic_time ();
  for (int i = -1; i < 0 || qm[i] != NULL; i++) {
    cfg.method = (char *) (i < 0 ? "none" : qm[i]);
    EspcnTrainResult res;
    gboolean ok = espcn_train_run (&cfg, ds, &res, error);
    if (ok && res.interrupted) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "interrupted during %s: resume it with --method %s --resume %s",
          cfg.method, cfg.method, res.checkpoint_path);
      ok = FALSE;
    }
    if (!ok) {
      espcn_train_result_clear (&res);
      g_prefix_error (error, "%s: ", cfg.method);
      return FALSE;
    }
    rows[n++] = (Row) { cfg.method, res.final_psnr_y, res.final_psnr_rgb, res.final_ssim, res.train_seconds };
    bicubic[0] = res.bicubic_psnr_y;
    bicubic[1] = res.bicubic_psnr_rgb;
    bicubic[2] = res.bicubic_ssim;
    espcn_train_result_clear (&res);
  }
  double total = (g_get_monotonic_time () - t0) / 1e6;

  const double ref = rows[0].psnr_y;
  GString *csv = g_string_new ("method,val_psnr_y,val_psnr_rgb,val_ssim,delta_to_float_db,train_seconds\n");
  g_string_append_printf (csv, "bicubic,%.4f,%.4f,%.5f,%.4f,0\n", bicubic[0], bicubic[1], bicubic[2], bicubic[0] - ref);
  g_autoptr (GString) out = g_string_new (NULL);
  g_string_append_printf (out, "\nx%d, %d epochs, %d train / %d val images, patch %d, batch %d, seed %" G_GUINT64_FORMAT "\n", base->scale,
      base->epochs, (int) espcn_dataset_num_train (ds), (int) espcn_dataset_num_val (ds), base->patch, base->batch,
      base->seed);
  g_string_append_printf (out, "%-9s %10s %10s %8s %10s %10s\n", "method", "Y-PSNR", "RGB PSNR", "SSIM", "vs float", "train s");
  g_string_append_printf (out, "%-9s %10.3f %10.3f %8.4f %+10.3f %10s\n", "bicubic", bicubic[0], bicubic[1], bicubic[2], bicubic[0] - ref, "-");
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "scale");
  json_builder_add_int_value (b, base->scale);
  json_builder_set_member_name (b, "epochs");
  json_builder_add_int_value (b, base->epochs);
  json_builder_set_member_name (b, "bicubic");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "psnr_y");
  json_builder_add_double_value (b, bicubic[0]);
  json_builder_set_member_name (b, "psnr_rgb");
  json_builder_add_double_value (b, bicubic[1]);
  json_builder_set_member_name (b, "ssim");
  json_builder_add_double_value (b, bicubic[2]);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "methods");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++) {
    const Row *r = &rows[i];
    g_string_append_printf (out, "%-9s %10.3f %10.3f %8.4f %+10.3f %10.1f\n", g_strcmp0 (r->method, "none") == 0 ? "float" : r->method,
        r->psnr_y, r->psnr_rgb, r->ssim, r->psnr_y - ref, r->seconds);
    g_string_append_printf (csv, "%s,%.4f,%.4f,%.5f,%.4f,%.1f\n", r->method, r->psnr_y, r->psnr_rgb, r->ssim,
        r->psnr_y - ref, r->seconds);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "method");
    json_builder_add_string_value (b, r->method);
    json_builder_set_member_name (b, "psnr_y");
    json_builder_add_double_value (b, r->psnr_y);
    json_builder_set_member_name (b, "psnr_rgb");
    json_builder_add_double_value (b, r->psnr_rgb);
    json_builder_set_member_name (b, "ssim");
    json_builder_add_double_value (b, r->ssim);
    json_builder_set_member_name (b, "delta_to_float_db");
    json_builder_add_double_value (b, r->psnr_y - ref);
    json_builder_set_member_name (b, "train_seconds");
    json_builder_add_double_value (b, r->seconds);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "total_seconds");
  json_builder_add_double_value (b, total);
  json_builder_end_object (b);
  g_string_append_printf (out, "whole experiment: %.1f s\n", total);

  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  gsize jlen;
  g_autofree char *json = json_generator_to_data (gen, &jlen);
  g_autoptr (GString) svg = bar_chart_svg (rows, n, bicubic[0]);
  g_autofree char *p_csv = g_build_filename (base->out_dir, "summary.csv", NULL);
  g_autofree char *p_json = g_build_filename (base->out_dir, "summary.json", NULL);
  g_autofree char *p_svg = g_build_filename (base->out_dir, "summary.svg", NULL);
  gboolean ok = espcn_write_file_atomic (p_csv, csv->str, csv->len, error) &&
                espcn_write_file_atomic (p_json, json, jlen, error) &&
                espcn_write_file_atomic (p_svg, svg->str, svg->len, error);
  g_string_free (csv, TRUE);
  if (!ok)
    return FALSE;
  g_string_append_printf (out, "wrote %s, %s, %s\n", p_csv, p_json, p_svg);
  *table = g_string_free (g_steal_pointer (&out), FALSE);
  return TRUE;
}
