#include "train/summary.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "quant/quantizer.h"
#include "util/atomic-file.h"

/* One method over its runs: mean, sample standard deviation and range of each metric. */
enum { M_PSNR_Y, M_PSNR_RGB, M_SSIM, M_SECONDS, N_METRICS };

typedef struct {
  const char *method;
  guint runs;
  double sum[N_METRICS], sum2[N_METRICS];
  double min_y, max_y;
  double mean[N_METRICS], sd[N_METRICS]; /* sd: NAN with one run */
} Row;

static void
row_add (Row *r, const EspcnTrainResult *res)
{
  const double v[N_METRICS] = { res->final_psnr_y, res->final_psnr_rgb, res->final_ssim, res->train_seconds };
  for (int k = 0; k < N_METRICS; k++) {
    r->sum[k] += v[k];
    r->sum2[k] += v[k] * v[k];
  }
  r->min_y = r->runs == 0 ? v[0] : MIN (r->min_y, v[0]);
  r->max_y = r->runs == 0 ? v[0] : MAX (r->max_y, v[0]);
  r->runs++;
}

static void
row_finish (Row *r)
{
  for (int k = 0; k < N_METRICS; k++) {
    r->mean[k] = r->sum[k] / r->runs;
    double var = r->runs > 1 ? (r->sum2[k] - r->sum[k] * r->mean[k]) / (r->runs - 1) : NAN;
    r->sd[k] = r->runs > 1 ? sqrt (MAX (var, 0.0)) : NAN;
  }
}

/* Two standard errors of the difference of two means: a difference larger than
 * this is larger than the seed-to-seed noise (about 95%, normal noise). */
static double
noise_2se (const Row *a, const Row *b)
{
  return 2.0 * sqrt (a->sd[M_PSNR_Y] * a->sd[M_PSNR_Y] / a->runs + b->sd[M_PSNR_Y] * b->sd[M_PSNR_Y] / b->runs);
}

/* A bar chart a person can open: one bar per method (the mean over the runs, with a
 * +-1 sd whisker when there are several), bicubic and float marked. */
static GString *
bar_chart_svg (const Row *rows, guint n, double bicubic)
{
  double lo = bicubic, hi = bicubic;
  for (guint i = 0; i < n; i++) {
    double sd = isfinite (rows[i].sd[M_PSNR_Y]) ? rows[i].sd[M_PSNR_Y] : 0;
    lo = MIN (lo, rows[i].mean[M_PSNR_Y] - sd);
    hi = MAX (hi, rows[i].mean[M_PSNR_Y] + sd);
  }
  lo = floor (lo - 1.0);
  hi = hi + 0.5;
  const int W = 640, H = 360, left = 60, bottom = 300, top = 40, bw = 60;
  double ppd = (bottom - top) / (hi - lo);
  GString *s = g_string_new (NULL);
  g_string_append_printf (s,
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%d\" y=\"24\" font-size=\"15\">Validation Y-PSNR (dB) by method%s</text>\n",
      W, H, left, n > 0 && rows[0].runs > 1 ? ", mean and sd over seeds" : "");
  for (double t = lo; t <= hi; t += 1.0) {
    double y = bottom - (t - lo) * ppd;
    g_string_append_printf (s,
        "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n",
        left, W - 20, y, y, left - 6, y + 4, t);
  }
  for (guint i = 0; i < n; i++) {
    const Row *r = &rows[i];
    double x = left + 20 + i * (bw + 20), m = r->mean[M_PSNR_Y];
    double y = bottom - (m - lo) * ppd;
    const char *fill = g_strcmp0 (r->method, "none") == 0 ? "#555" : "#3a7bd5";
    g_string_append_printf (s,
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"/>"
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.2f</text>"
        "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
        x, y, bw, bottom - y, fill, x + bw / 2.0, y - 8, m, x + bw / 2.0, bottom + 16,
        g_strcmp0 (r->method, "none") == 0 ? "float" : r->method);
    if (isfinite (r->sd[M_PSNR_Y])) {
      double y0 = bottom - (m - r->sd[M_PSNR_Y] - lo) * ppd, y1 = bottom - (m + r->sd[M_PSNR_Y] - lo) * ppd;
      g_string_append_printf (s, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
          x + bw / 2.0, x + bw / 2.0, y0, y1);
    }
  }
  double yb = bottom - (bicubic - lo) * ppd;
  g_string_append_printf (s,
      "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#c33\" stroke-dasharray=\"6 4\"/>"
      "<text x=\"%d\" y=\"%.1f\" fill=\"#c33\" text-anchor=\"end\">bicubic %.2f</text>\n</svg>\n",
      left, W - 20, yb, yb, W - 20, yb - 4, bicubic);
  return s;
}

static void
json_add_double_or_null (JsonBuilder *b, const char *name, double v)
{
  json_builder_set_member_name (b, name);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

gboolean
espcn_train_all (const EspcnTrainConfig *base, int repeats, char **table, GError **error)
{
  EspcnTrainConfig cfg = *base;
  /* Checked as a quantized run: the six methods need what it needs. */
  cfg.method = (char *) "lsq";
  if (!espcn_train_config_validate (&cfg, error))
    return FALSE;
  if (repeats < 1 || repeats > 1000) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "--repeats %d must be between 1 and 1000", repeats);
    return FALSE;
  }

  /* One dataset for every run: the seeds vary the initialisation, order and crops,
   * never the images, so all runs are scored on the same validation images. */
  EspcnDatasetOptions opts;
  espcn_dataset_options_init (&opts);
  opts.num_train = base->num_train;
  opts.num_val = base->num_val;
  opts.seed = base->seed;
  opts.notice = espcn_train_dataset_notice;
  opts.notice_data = (gpointer) base;
  opts.augment = base->augment;
  g_autoptr (EspcnDataset) ds = espcn_dataset_open (base->data_dir, &opts, error);
  if (ds == NULL)
    return FALSE;

  const char *const *qm = espcn_quant_methods ();
  Row rows[8];
  guint n = 0;
  double bicubic[3] = { 0 };
  gint64 t0 = g_get_monotonic_time ();
  for (int i = -1; i < 0 || qm[i] != NULL; i++) {
    Row *row = &rows[n++];
    memset (row, 0, sizeof *row);
    row->method = i < 0 ? "none" : qm[i];
    for (int r = 0; r < repeats; r++) {
      cfg.method = (char *) row->method;
      cfg.seed = base->seed + (guint64) r;
      /* --act-bits is for the int8-weight methods; float, APoT and DoReFa keep their grid. */
      const EspcnQuantMethod *m = espcn_quant_method_lookup (row->method);
      cfg.act_bits = m->quantized && espcn_quant_method_act_bits (m) == 7 ? base->act_bits : 0;
      /* Several seeds: each in OUT/seed-<seed>/, so no run overwrites another. */
      g_autofree char *out = repeats > 1 ? g_strdup_printf ("%s/seed-%" G_GUINT64_FORMAT, base->out_dir, cfg.seed)
                                         : g_strdup (base->out_dir);
      cfg.out_dir = out;
      EspcnTrainResult res;
      gboolean ok = espcn_train_run (&cfg, ds, &res, error);
      if (ok && res.interrupted) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
            "interrupted during %s: resume it with --method %s --seed %" G_GUINT64_FORMAT " --out %s --resume %s",
            cfg.method, cfg.method, cfg.seed, out, res.checkpoint_path);
        ok = FALSE;
      }
      if (!ok) {
        espcn_train_result_clear (&res);
        g_prefix_error (error, "%s: ", cfg.method);
        return FALSE;
      }
      row_add (row, &res);
      bicubic[0] = res.bicubic_psnr_y;
      bicubic[1] = res.bicubic_psnr_rgb;
      bicubic[2] = res.bicubic_ssim;
      espcn_train_result_clear (&res);
    }
    row_finish (row);
  }
  double total = (g_get_monotonic_time () - t0) / 1e6;

  const Row *fl = &rows[0];
  const double ref = fl->mean[M_PSNR_Y];
  GString *csv = g_string_new ("method,runs,val_psnr_y,val_psnr_y_sd,val_psnr_y_min,val_psnr_y_max,val_psnr_rgb,"
                               "val_psnr_rgb_sd,val_ssim,val_ssim_sd,delta_to_float_db,noise_2se_db,train_seconds\n");
  g_string_append_printf (csv, "bicubic,0,%.4f,,,,%.4f,,%.5f,,%.4f,,0\n", bicubic[0], bicubic[1], bicubic[2],
      bicubic[0] - ref);
  g_autoptr (GString) out = g_string_new (NULL);
  g_string_append_printf (out, "\nx%d%s, %d epochs, %d train / %d val images, patch %d, batch %d, seed %" G_GUINT64_FORMAT,
      base->scale, base->channels == 1 ? " luma (Y through the model, bicubic chroma)" : "", base->epochs, (int) espcn_dataset_num_train (ds), (int) espcn_dataset_num_val (ds), base->patch, base->batch,
      base->seed);
  if (repeats > 1)
    g_string_append_printf (out, " .. %" G_GUINT64_FORMAT " (%d runs per method: mean, sd, range)", base->seed + repeats - 1, repeats);
  g_string_append_printf (out, "\n%-9s %10s %7s %17s %10s %8s %10s %8s %10s\n", "method", "Y-PSNR", "sd", "range", "RGB PSNR", "SSIM",
      "vs float", "noise", "train s");
  g_string_append_printf (out, "%-9s %10.3f %7s %17s %10.3f %8.4f %+10.3f %8s %10s\n", "bicubic", bicubic[0], "", "", bicubic[1],
      bicubic[2], bicubic[0] - ref, "", "-");
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "scale");
  json_builder_add_int_value (b, base->scale);
  json_builder_set_member_name (b, "channels");
  json_builder_add_string_value (b, base->channels == 1 ? "y" : "rgb");
  json_builder_set_member_name (b, "epochs");
  json_builder_add_int_value (b, base->epochs);
  json_builder_set_member_name (b, "repeats");
  json_builder_add_int_value (b, repeats);
  json_builder_set_member_name (b, "first_seed");
  json_builder_add_int_value (b, (gint64) base->seed);
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
    /* float's own row compares nothing */
    double noise = i > 0 ? noise_2se (r, fl) : NAN;
    g_autofree char *range = r->runs > 1 ? g_strdup_printf ("%.3f..%.3f", r->min_y, r->max_y) : g_strdup ("");
    g_autofree char *sd = isfinite (r->sd[M_PSNR_Y]) ? g_strdup_printf ("%.3f", r->sd[M_PSNR_Y]) : g_strdup ("");
    g_autofree char *ns = isfinite (noise) ? g_strdup_printf ("%.3f", noise) : g_strdup ("");
    g_string_append_printf (out, "%-9s %10.3f %7s %17s %10.3f %8.4f %+10.3f %8s %10.1f\n", g_strcmp0 (r->method, "none") == 0 ? "float" : r->method,
        r->mean[M_PSNR_Y], sd, range, r->mean[M_PSNR_RGB], r->mean[M_SSIM], r->mean[M_PSNR_Y] - ref, ns,
        r->mean[M_SECONDS]);
    g_string_append_printf (csv, "%s,%u,%.4f,", r->method, r->runs, r->mean[M_PSNR_Y]);
    if (isfinite (r->sd[M_PSNR_Y]))
      g_string_append_printf (csv, "%.4f", r->sd[M_PSNR_Y]);
    g_string_append_printf (csv, ",%.4f,%.4f,%.4f,", r->min_y, r->max_y, r->mean[M_PSNR_RGB]);
    if (isfinite (r->sd[M_PSNR_RGB]))
      g_string_append_printf (csv, "%.4f", r->sd[M_PSNR_RGB]);
    g_string_append_printf (csv, ",%.5f,", r->mean[M_SSIM]);
    if (isfinite (r->sd[M_SSIM]))
      g_string_append_printf (csv, "%.5f", r->sd[M_SSIM]);
    g_string_append_printf (csv, ",%.4f,", r->mean[M_PSNR_Y] - ref);
    if (isfinite (noise))
      g_string_append_printf (csv, "%.4f", noise);
    g_string_append_printf (csv, ",%.1f\n", r->mean[M_SECONDS]);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "method");
    json_builder_add_string_value (b, r->method);
    json_builder_set_member_name (b, "runs");
    json_builder_add_int_value (b, r->runs);
    json_add_double_or_null (b, "psnr_y", r->mean[M_PSNR_Y]);
    json_add_double_or_null (b, "psnr_y_sd", r->sd[M_PSNR_Y]);
    json_add_double_or_null (b, "psnr_y_min", r->min_y);
    json_add_double_or_null (b, "psnr_y_max", r->max_y);
    json_add_double_or_null (b, "psnr_rgb", r->mean[M_PSNR_RGB]);
    json_add_double_or_null (b, "psnr_rgb_sd", r->sd[M_PSNR_RGB]);
    json_add_double_or_null (b, "ssim", r->mean[M_SSIM]);
    json_add_double_or_null (b, "ssim_sd", r->sd[M_SSIM]);
    json_add_double_or_null (b, "delta_to_float_db", r->mean[M_PSNR_Y] - ref);
    json_add_double_or_null (b, "noise_2se_db", noise);
    json_add_double_or_null (b, "train_seconds", r->mean[M_SECONDS]);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "total_seconds");
  json_builder_add_double_value (b, total);
  json_builder_end_object (b);
  if (repeats > 1)
    g_string_append_printf (out, "noise: two standard errors of the difference to float's mean; a larger |vs float| is beyond the "
            "seed-to-seed noise\n");
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
