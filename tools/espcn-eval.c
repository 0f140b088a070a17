/* espcn-eval: PSNR / SSIM of bicubic, of GStreamer's own scalers and of float,
 * fake-quant and INT8 models on a folder of HR images or a Food-101 validation
 * split. */
#include <errno.h>
#include <gio/gio.h>
#include <glib.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval-report.h"
#include "eval/evaluate.h"
#include "image/image-io.h"
#include "metrics/metrics.h"

/* "i/n images" redrawn on stderr, a newline after the last. */
static void
show_progress (guint done, guint total, gpointer user_data)
{
  (void) user_data;
  fprintf (stderr, "\r%u/%u images%s", done, total, done == total ? "\n" : "");
}

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

/* ---------------- GStreamer scalers (--lanczos, --catrom) ---------------- */

/* What a GStreamer user gets without a model: the LR image pushed through
 * `videoscale method=M` to the HR size.  RGB caps on both sides, so no colour
 * conversion touches the pixel values; pixel-aspect-ratio 1/1 on both sides, so
 * videoscale adds no borders. */
typedef struct {
  const char *method;   /* videoscale's method nick */
  char *name;           /* row name */
  char *dir_name;       /* --save folder */
  EspcnEvalScores sum;
} GstScaler;

static gboolean
gst_ready (GError **error)
{
  GError *e = NULL;
  if (!gst_init_check (NULL, NULL, &e)) {
    g_propagate_prefixed_error (error, e, "GStreamer failed to initialise: ");
    return FALSE;
  }
  g_autoptr (GstElementFactory) f = gst_element_factory_find ("videoscale");
  if (f == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "--lanczos/--catrom need GStreamer's videoscale element, which is missing (Debian: apt-get install "
        "gstreamer1.0-plugins-base; check with gst-inspect-1.0 videoscale)");
    return FALSE;
  }
  return TRUE;
}

static char *
bus_error (GstElement *pipe)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipe);
  g_autoptr (GstMessage) msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (msg == NULL)
    return g_strdup ("no frame came out (timeout or end of stream)");
  g_autoptr (GError) e = NULL;
  g_autofree char *dbg = NULL;
  gst_message_parse_error (msg, &e, &dbg);
  return g_strdup_printf ("%s (%s)", e->message, dbg ? dbg : "no details");
}

static EspcnImage *
gst_scale (const char *method, const EspcnImage *lr, int W, int H, GError **error)
{
  g_autoptr (GstElement) pipe = gst_pipeline_new ("scale");
  GstElement *src = gst_element_factory_make ("appsrc", NULL);
  GstElement *scale = gst_element_factory_make ("videoscale", NULL);
  GstElement *sink = gst_element_factory_make ("appsink", NULL);
  if (src == NULL || scale == NULL || sink == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "cannot create %s (GStreamer plugins base/app missing)",
        src == NULL ? "appsrc" : scale == NULL ? "videoscale" : "appsink");
    if (src) gst_object_unref (src);
    if (scale) gst_object_unref (scale);
    if (sink) gst_object_unref (sink);
    return NULL;
  }
  gst_bin_add_many (GST_BIN (pipe), src, scale, sink, NULL);
  gst_util_set_object_arg (G_OBJECT (scale), "method", method);

  GstVideoInfo in, out;
  gst_video_info_set_format (&in, GST_VIDEO_FORMAT_RGB, (guint) lr->width, (guint) lr->height);
  gst_video_info_set_format (&out, GST_VIDEO_FORMAT_RGB, (guint) W, (guint) H);
  GST_VIDEO_INFO_FPS_N (&in) = GST_VIDEO_INFO_FPS_N (&out) = 0;
  GST_VIDEO_INFO_FPS_D (&in) = GST_VIDEO_INFO_FPS_D (&out) = 1;
  g_autoptr (GstCaps) in_caps = gst_video_info_to_caps (&in);
  g_autoptr (GstCaps) out_caps = gst_video_info_to_caps (&out);
  g_object_set (src, "caps", in_caps, "format", GST_FORMAT_TIME, NULL);
  g_object_set (sink, "caps", out_caps, "sync", FALSE, NULL);
  if (!gst_element_link_many (src, scale, sink, NULL)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot link appsrc ! videoscale ! appsink");
    return NULL;
  }
  if (gst_element_set_state (pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_autofree char *why = bus_error (pipe);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "videoscale pipeline does not start: %s", why);
    return NULL;
  }

  /* GStreamer's RGB rows are padded to 4 bytes; ours are not. */
  GstBuffer *buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&in), NULL);
  GstVideoFrame f;
  gst_video_frame_map (&f, &in, buf, GST_MAP_WRITE);
  for (int y = 0; y < lr->height; y++)
    memcpy ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0) + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0),
        lr->data + 3 * (gsize) y * lr->width, 3 * (gsize) lr->width);
  gst_video_frame_unmap (&f);
  GST_BUFFER_PTS (buf) = 0;
  gst_app_src_push_buffer (GST_APP_SRC (src), buf);
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  g_autoptr (GstSample) sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 60 * GST_SECOND);
  EspcnImage *sr = NULL;
  if (sample == NULL) {
    g_autofree char *why = bus_error (pipe);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "videoscale method=%s %dx%d -> %dx%d: %s", method, lr->width,
        lr->height, W, H, why);
  } else {
    GstVideoInfo got;
    if (!gst_video_info_from_caps (&got, gst_sample_get_caps (sample)) || GST_VIDEO_INFO_WIDTH (&got) != W ||
        GST_VIDEO_INFO_HEIGHT (&got) != H || GST_VIDEO_INFO_FORMAT (&got) != GST_VIDEO_FORMAT_RGB ||
        !gst_video_frame_map (&f, &got, gst_sample_get_buffer (sample), GST_MAP_READ)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "videoscale gave a frame other than RGB %dx%d", W, H);
    } else {
      sr = espcn_image_new (W, H);
      for (int y = 0; y < H; y++)
        memcpy (sr->data + 3 * (gsize) y * W,
            (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0) + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0),
            3 * (gsize) W);
      gst_video_frame_unmap (&f);
      sr->gray = lr->gray;
    }
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  return sr;
}

/* Scores of every scaler over the set; SR PNGs under save_dir/<dir_name>/. */
static gboolean
score_scalers (const EspcnEvalSet *set, int scale, GstScaler *sc, guint n_sc, const char *save_dir, gboolean quiet,
               GError **error)
{
  const guint n = espcn_eval_set_size (set);
  for (guint k = 0; k < n_sc && save_dir != NULL; k++) {
    g_autofree char *d = g_build_filename (save_dir, sc[k].dir_name, NULL);
    if (g_mkdir_with_parents (d, 0755) != 0) {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "cannot create folder %s: %s", d, g_strerror (e));
      return FALSE;
    }
  }
  for (guint i = 0; i < n; i++) {
    g_autoptr (EspcnImage) hr = NULL;
    g_autoptr (EspcnImage) lr = NULL;
    if (!espcn_eval_set_pair (set, i, scale, &hr, &lr, error))
      return FALSE;
    for (guint k = 0; k < n_sc; k++) {
      g_autoptr (EspcnImage) sr = gst_scale (sc[k].method, lr, hr->width, hr->height, error);
      if (sr == NULL) {
        g_prefix_error (error, "%s: ", espcn_eval_set_path (set, i));
        return FALSE;
      }
      sc[k].sum.psnr_y += espcn_psnr_y (sr, hr, scale);
      sc[k].sum.psnr_rgb += espcn_psnr_rgb (sr, hr, scale);
      sc[k].sum.ssim += espcn_ssim_y (sr, hr, scale);
      if (save_dir != NULL) {
        g_autofree char *file = g_strconcat (espcn_eval_set_name (set, i), ".png", NULL);
        g_autofree char *out = g_build_filename (save_dir, sc[k].dir_name, file, NULL);
        if (!espcn_image_save_png (sr, out, error))
          return FALSE;
      }
    }
    if (!quiet)
      fprintf (stderr, "\r%u/%u images (videoscale)", i + 1, n);
  }
  if (!quiet)
    fprintf (stderr, "\n");
  for (guint k = 0; k < n_sc; k++) {
    sc[k].sum.psnr_y /= n;
    sc[k].sum.psnr_rgb /= n;
    sc[k].sum.ssim /= n;
  }
  return TRUE;
}

/* comparison.png of the first image: LR (nearest), bicubic or, when given, the
 * GStreamer scalers in its place, each model given, ground truth; 2x zoom. */
static gboolean
write_comparison (const EspcnEvalSet *set, int scale, const GstScaler *sc, guint n_sc, GPtrArray *models,
                  const EspcnEvalOptions *opts, GError **error)
{
  g_autoptr (EspcnImage) hr = NULL;
  g_autoptr (EspcnImage) lr = NULL;
  if (!espcn_eval_set_pair (set, 0, scale, &hr, &lr, error))
    return FALSE;
  g_autoptr (GPtrArray) srs = g_ptr_array_new_with_free_func ((GDestroyNotify) espcn_image_free);
  for (guint k = 0; k < n_sc; k++) {
    EspcnImage *sr = gst_scale (sc[k].method, lr, hr->width, hr->height, error);
    if (sr == NULL)
      return FALSE;
    g_ptr_array_add (srs, sr);
  }
  for (guint k = 0; k < models->len; k++) {
    EspcnEvalModel *m = g_ptr_array_index (models, k);
    if (espcn_eval_model_get_kind (m) == ESPCN_EVAL_BICUBIC && n_sc > 0)
      continue;
    EspcnImage *sr = espcn_eval_model_upscale (m, lr, error);
    if (sr == NULL)
      return FALSE;
    g_ptr_array_add (srs, sr);
  }
  return espcn_eval_save_comparison (hr, lr, scale, (EspcnImage *const *) srs->pdata, srs->len, opts,
      espcn_eval_set_path (set, 0), error);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_auto (GStrv) model_paths = NULL;
  g_autofree char *data = NULL, *save = NULL, *crop_s = NULL;
  int scale = 0, num = 0, threads = 2;
  gboolean json = FALSE, tsv = FALSE, compare = FALSE, quiet = FALSE, lanczos = FALSE, catrom = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME_ARRAY, &model_paths, "Model: float checkpoint or INT8 model (repeatable)", "FILE" },
    { "data", 'd', 0, G_OPTION_ARG_FILENAME, &data, "Folder of HR images, or a Food-101 tree (its test.txt split)", "DIR" },
    { "scale", 's', 0, G_OPTION_ARG_INT, &scale, "Upscale factor 2, 3 or 4 (default: the models')", "S" },
    { "num", 'n', 0, G_OPTION_ARG_INT, &num, "Use only the first N images (default all)", "N" },
    { "lanczos", 0, 0, G_OPTION_ARG_NONE, &lanczos, "Also score GStreamer's videoscale method=lanczos", NULL },
    { "catrom", 0, 0, G_OPTION_ARG_NONE, &catrom, "Also score GStreamer's videoscale method=catrom", NULL },
    { "save", 0, 0, G_OPTION_ARG_FILENAME, &save, "Write SR images and comparison.png (LR, bicubic or the videoscale rows, the models, HR) to DIR", "DIR" },
    { "crop", 0, 0, G_OPTION_ARG_STRING, &crop_s, "Comparison crop of the first image (default centred 96x96)", "X,Y,W,H" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object instead of a table", NULL },
    { "tsv", 0, 0, G_OPTION_ARG_NONE, &tsv, "Print name<TAB>Y-PSNR<TAB>RGB-PSNR<TAB>SSIM lines instead of a table", NULL },
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
  GstScaler sc[2];
  guint n_sc = 0;
  EspcnEvalResult res = { 0 };
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GPtrArray) scores = NULL;
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
  if (json && tsv) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--json and --tsv exclude each other");
    goto fail;
  }
  opts.save_dir = save;
  const gboolean no_progress = quiet || json || tsv;
  if (!no_progress)
    opts.progress = show_progress;
  if (crop_s != NULL && !parse_crop (crop_s, opts.crop, &error))
    goto fail;
  opts.has_crop = crop_s != NULL;
  if (lanczos)
    sc[n_sc++] = (GstScaler) { .method = "lanczos", .name = g_strdup ("lanczos (videoscale)"), .dir_name = g_strdup ("lanczos-videoscale") };
  if (catrom)
    sc[n_sc++] = (GstScaler) { .method = "catrom", .name = g_strdup ("catrom (videoscale)"), .dir_name = g_strdup ("catrom-videoscale") };
  if (n_sc > 0 && !gst_ready (&error))
    goto fail;

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
  if (!espcn_eval_run (set, scale, (EspcnEvalModel *const *) models->pdata, models->len, &opts, &res, &error))
    goto fail;
  if (n_sc > 0 && !score_scalers (set, scale, sc, n_sc, save, no_progress, &error))
    goto fail;
  /* Replaces the evaluator's strip: the columns the README caption names. */
  if (save != NULL && !write_comparison (set, scale, sc, n_sc, models, &opts, &error))
    goto fail;

  /* Rows: bicubic, the GStreamer scalers, then the models in the order given. */
  names = g_ptr_array_new ();
  scores = g_ptr_array_new ();
  for (guint k = 0; k < models->len; k++) {
    g_ptr_array_add (names, (gpointer) espcn_eval_model_get_name (g_ptr_array_index (models, k)));
    g_ptr_array_add (scores, &res.scores[k]);
    if (k == 0)
      for (guint j = 0; j < n_sc; j++) {
        g_ptr_array_add (names, sc[j].name);
        g_ptr_array_add (scores, &sc[j].sum);
      }
  }
  const EspcnEvalScores *const *rs = (const EspcnEvalScores *const *) scores->pdata;
  if (json) {
    g_autofree char *text = espcn_eval_scores_to_json ((const char *const *) names->pdata, rs, names->len);
    printf ("%s\n", text);
  } else if (tsv) {
    for (guint k = 0; k < names->len; k++)
      printf ("%s\t%.4f\t%.4f\t%.5f\n", (const char *) names->pdata[k], rs[k]->psnr_y, rs[k]->psnr_rgb, rs[k]->ssim);
  } else {
    printf ("%s, x%d, %u images (Y-PSNR shaves %d pixels)\n", data, scale, res.n_images, scale);
    printf ("%-56s %9s %9s %7s\n", "model", "Y-PSNR", "RGB-PSNR", "SSIM");
    for (guint k = 0; k < names->len; k++)
      printf ("%-56s %9.3f %9.3f %7.4f\n", (const char *) names->pdata[k], rs[k]->psnr_y, rs[k]->psnr_rgb,
          rs[k]->ssim);
  }
  if (compare) {
    FILE *o = json || tsv ? stderr : stdout;
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
  if (save != NULL && !json && !tsv)
    printf ("SR images and comparison.png written to %s\n", save);
  espcn_eval_result_clear (&res);
  for (guint k = 0; k < n_sc; k++) {
    g_free (sc[k].name);
    g_free (sc[k].dir_name);
  }
  return 0;

fail:
  fprintf (stderr, "espcn-eval: %s\n", error->message);
  espcn_eval_result_clear (&res);
  for (guint k = 0; k < n_sc; k++) {
    g_free (sc[k].name);
    g_free (sc[k].dir_name);
  }
  return 1;
}
