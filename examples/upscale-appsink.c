/* Embedding espcnupscale in a C program: a test pattern is upscaled and the
 * frames are taken from an appsink, as an application would hand them on.
 *
 *   upscale-appsink [MODEL] [FRAMES]
 *
 * MODEL is a model file or preset name (default: the element's own default,
 * the x4 LSQ preset).  Exit status 0 when every frame came out at the model's
 * scale, 1 on any error, which is printed from the bus message. */
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdlib.h>

#define IN_WIDTH 160
#define IN_HEIGHT 120

/* Prints the pipeline's error message, if any, and returns TRUE when there was one. */
static gboolean
report_bus_error (GstElement *pipeline)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr (GstMessage) msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (msg == NULL)
    return FALSE;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;
  gst_message_parse_error (msg, &err, &debug);
  g_printerr ("error from %s: %s\n%s\n", GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message,
      debug ? debug : "");
  return TRUE;
}

static GstElement *
make (const char *factory, const char *name)
{
  GstElement *e = gst_element_factory_make (factory, name);
  if (e == NULL)
    g_printerr ("no element %s: is GST_PLUGIN_PATH set (meson devenv, or the plugin installed)?\n", factory);
  return e;
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  const char *model = argc > 1 ? argv[1] : NULL;
  int frames = argc > 2 ? atoi (argv[2]) : 5;

  g_autoptr (GstElement) pipeline = gst_pipeline_new ("upscale");
  GstElement *src = make ("videotestsrc", "src");
  GstElement *filter = make ("capsfilter", "in-size");
  GstElement *upscale = make ("espcnupscale", "upscale");
  GstElement *sink = make ("appsink", "sink");
  if (src == NULL || filter == NULL || upscale == NULL || sink == NULL)
    return 1;

  g_object_set (src, "num-buffers", frames, NULL);
  gst_util_set_object_arg (G_OBJECT (src), "pattern", "ball");
  g_autoptr (GstCaps) in_caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "RGB",
      "width", G_TYPE_INT, IN_WIDTH, "height", G_TYPE_INT, IN_HEIGHT, NULL);
  g_object_set (filter, "caps", in_caps, NULL);
  if (model != NULL)
    g_object_set (upscale, "model", model, NULL);
  g_object_set (upscale, "n-threads", 0, NULL);  /* one per core */
  g_object_set (sink, "sync", FALSE, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, filter, upscale, sink, NULL);
  if (!gst_element_link_many (src, filter, upscale, sink, NULL)) {
    g_printerr ("could not link the pipeline\n");
    return 1;
  }

  /* A missing or invalid model fails here, with the reason on the bus. */
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    if (!report_bus_error (pipeline))
      g_printerr ("the pipeline did not start\n");
    gst_element_set_state (pipeline, GST_STATE_NULL);
    return 1;
  }
  int scale;
  g_autofree gchar *method = NULL, *resolved = NULL;
  g_object_get (upscale, "scale", &scale, "quantization-method", &method, "model", &resolved, NULL);
  g_print ("model %s: x%d, %s\n", resolved, scale, method);

  int got = 0, status = 0;
  GstSample *sample;
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink))) != NULL) {
    GstVideoInfo info;
    gst_video_info_from_caps (&info, gst_sample_get_caps (sample));
    GstBuffer *buf = gst_sample_get_buffer (sample);
    g_print ("frame %d: %dx%d, %" G_GSIZE_FORMAT " bytes, pts %" GST_TIME_FORMAT "\n", got,
        GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info), gst_buffer_get_size (buf),
        GST_TIME_ARGS (GST_BUFFER_PTS (buf)));
    if (GST_VIDEO_INFO_WIDTH (&info) != IN_WIDTH * scale || GST_VIDEO_INFO_HEIGHT (&info) != IN_HEIGHT * scale)
      status = 1;
    gst_sample_unref (sample);
    got++;
  }
  /* NULL from the appsink: end of stream, or an error posted on the bus. */
  if (report_bus_error (pipeline))
    status = 1;
  else if (got != frames)
    status = 1;
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_print ("%d frames\n", got);
  return status;
}
