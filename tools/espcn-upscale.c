/* espcn-upscale: upscale an image or a video file with an INT8 ESPCN model,
 * through a GStreamer pipeline built around the espcnupscale element:
 *
 *   filesrc ! decodebin ! videoconvert ! espcnupscale ! videoconvert ! <encoder> ! filesink
 *
 * The encoder follows OUT's extension.  The element is compiled into this tool
 * and registered statically, so it runs from the build tree without
 * GST_PLUGIN_PATH. */
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>

#include "engine/model.h"
#include "espcn-model-path.h"
#include "gstespcnupscale.h"

typedef struct {
  const char *ext;
  const char *chain;   /* encoder (and muxer) between videoconvert and filesink */
  gboolean image;      /* one frame only */
} OutFormat;

/* All from gst-plugins-base and gst-plugins-good (Debian 12).  No .mp4: those
 * packages have no H.264 encoder, and mp4mux refuses vp9enc's caps without
 * vp9parse (gst-plugins-bad). */
static const OutFormat out_formats[] = {
  { "png", "pngenc", TRUE },
  { "jpg", "jpegenc quality=95", TRUE },
  { "jpeg", "jpegenc quality=95", TRUE },
  { "mkv", "jpegenc quality=95 ! matroskamux", FALSE },
  { "avi", "jpegenc quality=95 ! avimux", FALSE },
  { "webm", "vp8enc deadline=1 target-bitrate=8000000 ! webmmux", FALSE },
  { "ogv", "theoraenc bitrate=8000 ! oggmux", FALSE },
  { "y4m", "y4menc", FALSE },
};

typedef struct {
  GMainLoop *loop;
  GstElement *pipeline;
  gint frames;             /* frames out of espcnupscale */
  gboolean image;
  gboolean eos_sent;
  gint64 t_start, t_first;
  int exit_code;
} App;

static const OutFormat *
find_out_format (const char *path)
{
  const char *dot = strrchr (path, '.');
  if (dot == NULL || strchr (dot, G_DIR_SEPARATOR) != NULL)
    return NULL;
  g_autofree gchar *ext = g_ascii_strdown (dot + 1, -1);
  for (guint i = 0; i < G_N_ELEMENTS (out_formats); i++)
    if (strcmp (out_formats[i].ext, ext) == 0)
      return &out_formats[i];
  return NULL;
}

static gboolean
send_eos (gpointer data)
{
  App *app = data;
  gst_element_send_event (app->pipeline, gst_event_new_eos ());
  return G_SOURCE_REMOVE;
}

/* Counts upscaled frames; for an image output, keeps only the first. */
static GstPadProbeReturn
on_frame (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  (void) pad;
  (void) info;
  App *app = data;
  if (app->image && g_atomic_int_get (&app->frames) >= 1) {
    if (!app->eos_sent) {
      app->eos_sent = TRUE;
      g_idle_add (send_eos, app);
    }
    return GST_PAD_PROBE_DROP;
  }
  if (g_atomic_int_add (&app->frames, 1) == 0)
    app->t_first = g_get_monotonic_time ();
  return GST_PAD_PROBE_OK;
}

static gboolean
print_progress (gpointer data)
{
  App *app = data;
  gint64 pos = -1, dur = -1;
  gst_element_query_position (app->pipeline, GST_FORMAT_TIME, &pos);
  gst_element_query_duration (app->pipeline, GST_FORMAT_TIME, &dur);
  double secs = (g_get_monotonic_time () - app->t_start) / 1e6;
  int n = g_atomic_int_get (&app->frames);
  if (dur > 0 && pos >= 0)
    fprintf (stderr, "\r%d frames, %.1f%% of %.1f s, %.1f fps   ", n, 100.0 * pos / dur, dur / 1e9,
        secs > 0 ? n / secs : 0.0);
  else
    fprintf (stderr, "\r%d frames, %.1f fps   ", n, secs > 0 ? n / secs : 0.0);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_message (GstBus *bus, GstMessage *msg, gpointer data)
{
  (void) bus;
  App *app = data;
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR: {
      g_autoptr (GError) err = NULL;
      g_autofree gchar *debug = NULL;
      gst_message_parse_error (msg, &err, &debug);
      fprintf (stderr, "\nespcn-upscale: error from %s: %s\n  %s\n", GST_OBJECT_NAME (msg->src), err->message,
          debug ? debug : "");
      app->exit_code = 1;
      g_main_loop_quit (app->loop);
      break;
    }
    case GST_MESSAGE_WARNING: {
      g_autoptr (GError) err = NULL;
      g_autofree gchar *debug = NULL;
      gst_message_parse_warning (msg, &err, &debug);
      fprintf (stderr, "\nespcn-upscale: warning: %s (%s)\n", err->message, debug ? debug : "");
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (app->loop);
      break;
    default:
      break;
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *model_name = NULL;
  guint n_threads = 0;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model_name, "INT8 model: a path or a preset name (e.g. lsq.bin)",
      "M" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &n_threads, "Engine threads (0 = one per core)", "N" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("IN OUT - upscale an image or a video with ESPCN");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  g_autoptr (GString) exts = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (out_formats); i++)
    g_string_append_printf (exts, "%s.%s", i ? ", " : "", out_formats[i].ext);
  g_autofree gchar *summary = g_strdup_printf ("OUT's extension picks the encoder: %s.", exts->str);
  g_option_context_set_summary (ctx, summary);
  g_autoptr (GError) err = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    fprintf (stderr, "espcn-upscale: %s\n", err->message);
    return 2;
  }
  if (argc != 3 || model_name == NULL) {
    fprintf (stderr, "usage: espcn-upscale IN OUT --model M [--threads N]\n");
    return 2;
  }
  const char *in = argv[1], *out = argv[2];
  if (!g_file_test (in, G_FILE_TEST_IS_REGULAR)) {
    fprintf (stderr, "espcn-upscale: input '%s' does not exist or is not a file\n", in);
    return 1;
  }
  const OutFormat *fmt = find_out_format (out);
  if (fmt == NULL) {
    fprintf (stderr, "espcn-upscale: unknown output extension in '%s' (supported: %s)\n", out, exts->str);
    return 1;
  }
  /* Load the model once here, for a clear message before any pipeline exists. */
  g_autofree gchar *model_path = espcn_model_path_resolve (model_name, ESPCN_PRESETS_DIR, &err);
  g_autoptr (EspcnInt8Model) model = model_path ? espcn_int8_model_load (model_path, &err) : NULL;
  if (model == NULL) {
    fprintf (stderr, "espcn-upscale: model: %s\n", err->message);
    return 1;
  }
  int scale = espcn_int8_model_get_scale (model);

  if (!GST_ELEMENT_REGISTER (espcnupscale, NULL)) {
    fprintf (stderr, "espcn-upscale: could not register the espcnupscale element\n");
    return 1;
  }
  g_autofree gchar *in_q = g_strescape (in, NULL), *out_q = g_strescape (out, NULL);
  g_autofree gchar *model_q = g_strescape (model_path, NULL);
  g_autofree gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! videoconvert ! "
      "espcnupscale name=up model=\"%s\" n-threads=%u ! videoconvert ! %s ! filesink location=\"%s\"", in_q,
      model_q, n_threads, fmt->chain, out_q);
  GstElement *pipeline = gst_parse_launch (desc, &err);
  if (pipeline == NULL || err != NULL) {
    fprintf (stderr, "espcn-upscale: could not build the pipeline: %s\n  (%s)\n", err ? err->message : "?", desc);
    g_clear_object (&pipeline);
    return 1;
  }

  App app = { 0 };
  app.loop = g_main_loop_new (NULL, FALSE);
  app.pipeline = pipeline;
  app.image = fmt->image;
  GstElement *up = gst_bin_get_by_name (GST_BIN (pipeline), "up");
  GstPad *src = gst_element_get_static_pad (up, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, on_frame, &app, NULL);
  gst_object_unref (src);
  gst_object_unref (up);
  GstBus *bus = gst_element_get_bus (pipeline);
  guint bus_watch = gst_bus_add_watch (bus, on_message, &app);
  gst_object_unref (bus);

  fprintf (stderr, "espcn-upscale: %s -> %s, x%d model %s (%s)\n", in, out, scale, model_path,
      espcn_int8_model_get_method (model));
  app.t_start = g_get_monotonic_time ();
  guint progress = g_timeout_add (500, print_progress, &app);
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    /* The reason is on the bus, if an element posted one. */
    GstBus *b = gst_element_get_bus (pipeline);
    GstMessage *m = gst_bus_pop_filtered (b, GST_MESSAGE_ERROR);
    if (m != NULL) {
      on_message (b, m, &app);
      gst_message_unref (m);
    } else {
      fprintf (stderr, "espcn-upscale: the pipeline did not start\n");
    }
    gst_object_unref (b);
    app.exit_code = 1;
  } else {
    g_main_loop_run (app.loop);
  }
  g_source_remove (progress);
  gint64 t_end = g_get_monotonic_time ();
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_source_remove (bus_watch);
  gst_object_unref (pipeline);
  g_main_loop_unref (app.loop);

  if (app.exit_code == 0) {
    int n = app.frames;
    double secs = (t_end - app.t_start) / 1e6;
    double steady = n > 1 && app.t_first ? (t_end - app.t_first) / 1e6 : 0.0;
    fprintf (stderr, "\r%d frame%s in %.2f s: %.2f frames per second", n, n == 1 ? "" : "s", secs,
        secs > 0 ? n / secs : 0.0);
    if (steady > 0)
      fprintf (stderr, " (%.2f after the first frame)", (n - 1) / steady);
    fprintf (stderr, "\nwrote %s\n", out);
    if (n == 0) {
      fprintf (stderr, "espcn-upscale: no video frame was decoded from %s\n", in);
      return 1;
    }
  }
  return app.exit_code;
}
