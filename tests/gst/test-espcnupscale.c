/* Tests of the espcnupscale element: negotiation, output bytes against the core
 * engine's reference (for luma models: Y against the engine on the Y plane,
 * chroma against GstVideoScaler), strides, threads, errors, state cycles,
 * renegotiation, seeking, model swaps.  Models are random INT8 models (RGB and
 * luma) written by the test. */
#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/video/navigation.h>
#include <gst/base/gstbasetransform.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/model.h"
#include "espcn-yuv.h"
#include "test-models.h"
#include "test-util.h"

static gchar *tmp_dir;
/* model_path[s][k]: two different random models (k = 0, 1) for each scale s. */
static gchar *model_path[5][2];
static EspcnInt8Model *model[5][2];
/* luma_path[s], luma[s]: a random luma (1-channel) model for each scale s. */
static gchar *luma_path[5];
static EspcnInt8Model *luma[5];

/* What a luma model takes, in the element's order. */
static const char *luma_formats[] = { "GRAY8", "I420", "YV12", "NV12", "NV21", "Y42B", "Y444" };

static const char *all_formats[] = { "RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR", "RGBA", "BGRA", "ARGB",
                                     "ABGR", "I420", "NV12" };

typedef struct {
  const char *name;
  EspcnPixelLayout layout;
  int extra;        /* offset of the alpha or x byte, -1 for none */
  gboolean alpha;
} PackedFormat;

/* Written from the format names, independently of the element's derivation. */
static const PackedFormat packed_formats[] = {
  { "RGB", { 3, 0, 1, 2 }, -1, FALSE },
  { "BGR", { 3, 2, 1, 0 }, -1, FALSE },
  { "RGBx", { 4, 0, 1, 2 }, 3, FALSE },
  { "BGRx", { 4, 2, 1, 0 }, 3, FALSE },
  { "xRGB", { 4, 1, 2, 3 }, 0, FALSE },
  { "xBGR", { 4, 3, 2, 1 }, 0, FALSE },
  { "RGBA", { 4, 0, 1, 2 }, 3, TRUE },
  { "BGRA", { 4, 2, 1, 0 }, 3, TRUE },
  { "ARGB", { 4, 1, 2, 3 }, 0, TRUE },
  { "ABGR", { 4, 3, 2, 1 }, 0, TRUE },
};

/* ---- helpers ---- */

static GstElement *
make_element (const char *model_file, guint n_threads)
{
  GstElement *e = gst_element_factory_make ("espcnupscale", NULL);
  g_assert_nonnull (e);
  g_object_set (e, "model", model_file, "n-threads", n_threads, NULL);
  return e;
}

static GstHarness *
make_harness (const char *model_file, guint n_threads)
{
  GstElement *e = make_element (model_file, n_threads);
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);  /* the harness holds its own reference */
  return h;
}

static GstCaps *
caps_for (const char *format, int w, int h)
{
  return gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, format, "width", G_TYPE_INT, w, "height",
      G_TYPE_INT, h, "framerate", GST_TYPE_FRACTION, 30, 1, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
}

/* A buffer of random bytes (padding included) laid out by GstVideoInfo. */
static GstBuffer *
random_frame (GstVideoInfo *info, const char *format, int w, int h, guint64 seed)
{
  gst_video_info_set_format (info, gst_video_format_from_string (format), w, h);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (info), NULL);
  GstMapInfo map;
  g_assert_true (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  EspcnRng rng;
  espcn_rng_seed (&rng, seed);
  test_fill_random (&rng, map.data, map.size);
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

static const PackedFormat *
find_packed (const char *format)
{
  for (guint i = 0; i < G_N_ELEMENTS (packed_formats); i++)
    if (strcmp (packed_formats[i].name, format) == 0)
      return &packed_formats[i];
  return NULL;
}

/* Checks the output frame against espcn_engine_process_reference() on the input
 * (packed formats), or against the YUV conversion + reference + conversion back. */
static void
check_output (const EspcnInt8Model *m, const char *format, GstVideoInfo *in_info, GstBuffer *in_buf,
              GstCaps *out_caps, GstBuffer *out_buf)
{
  int s = espcn_int8_model_get_scale (m);
  int w = GST_VIDEO_INFO_WIDTH (in_info), h = GST_VIDEO_INFO_HEIGHT (in_info);
  GstVideoInfo out_info;
  g_assert_true (gst_video_info_from_caps (&out_info, out_caps));
  g_assert_cmpstr (gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&out_info)), ==, format);
  g_assert_cmpint (GST_VIDEO_INFO_WIDTH (&out_info), ==, w * s);
  g_assert_cmpint (GST_VIDEO_INFO_HEIGHT (&out_info), ==, h * s);

  GstVideoFrame in, out;
  g_assert_true (gst_video_frame_map (&in, in_info, in_buf, GST_MAP_READ));
  g_assert_true (gst_video_frame_map (&out, &out_info, out_buf, GST_MAP_READ));
  int W = w * s, H = h * s;
  g_autofree guint8 *ref = g_malloc ((gsize) W * H * 3);
  g_autoptr (GError) err = NULL;
  const EspcnPixelLayout rgb = ESPCN_PIXEL_LAYOUT_RGB;
  const PackedFormat *pf = find_packed (format);

  if (pf != NULL) {
    g_assert_true (espcn_engine_process_reference (m, GST_VIDEO_FRAME_PLANE_DATA (&in, 0),
        GST_VIDEO_FRAME_PLANE_STRIDE (&in, 0), &pf->layout, w, h, ref, (gsize) W * 3, &rgb, &err));
    g_assert_no_error (err);
    const guint8 *ip = GST_VIDEO_FRAME_PLANE_DATA (&in, 0);
    const guint8 *op = GST_VIDEO_FRAME_PLANE_DATA (&out, 0);
    gsize is = GST_VIDEO_FRAME_PLANE_STRIDE (&in, 0), os = GST_VIDEO_FRAME_PLANE_STRIDE (&out, 0);
    int bpp = pf->layout.bpp;
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        const guint8 *o = op + (gsize) y * os + (gsize) x * bpp;
        const guint8 *r = ref + ((gsize) y * W + x) * 3;
        if (o[pf->layout.r] != r[0] || o[pf->layout.g] != r[1] || o[pf->layout.b] != r[2])
          g_error ("%s x%d %dx%d: pixel (%d, %d) is %u,%u,%u, reference %u,%u,%u", format, s, w, h, x, y,
              o[pf->layout.r], o[pf->layout.g], o[pf->layout.b], r[0], r[1], r[2]);
        if (pf->extra >= 0) {
          guint8 want = pf->alpha ? ip[(gsize) (y / s) * is + (gsize) (x / s) * bpp + pf->extra] : 0xff;
          if (o[pf->extra] != want)
            g_error ("%s: %s byte of (%d, %d) is %u, expected %u", format, pf->alpha ? "alpha" : "x", x, y,
                o[pf->extra], want);
        }
      }
  } else {
    /* YUV: the same conversions the element uses, around the reference engine. */
    EspcnYuvCoeffs c;
    espcn_yuv_coeffs_init (&c, &GST_VIDEO_INFO_COLORIMETRY (in_info));
    g_autofree guint8 *in_rgb = g_malloc ((gsize) w * h * 3);
    EspcnYuvFrame yin, yexp;
    espcn_yuv_frame_from_video_frame (&yin, &in);
    espcn_yuv_to_rgb (&c, &yin, in_rgb, (gsize) w * 3);
    g_assert_true (espcn_engine_process_reference (m, in_rgb, (gsize) w * 3, &rgb, w, h, ref, (gsize) W * 3,
        &rgb, &err));
    GstBuffer *exp_buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&out_info), NULL);
    GstVideoFrame exp;
    g_assert_true (gst_video_frame_map (&exp, &out_info, exp_buf, GST_MAP_WRITE));
    espcn_yuv_frame_from_video_frame (&yexp, &exp);
    espcn_rgb_to_yuv (&c, ref, (gsize) W * 3, &yexp);
    for (int comp = 0; comp < 3; comp++) {
      int cw = GST_VIDEO_FRAME_COMP_WIDTH (&out, comp), ch = GST_VIDEO_FRAME_COMP_HEIGHT (&out, comp);
      int ps = GST_VIDEO_FRAME_COMP_PSTRIDE (&out, comp);
      for (int y = 0; y < ch; y++)
        for (int x = 0; x < cw; x++) {
          guint8 got = GST_VIDEO_FRAME_COMP_DATA (&out, comp)[(gsize) y * GST_VIDEO_FRAME_COMP_STRIDE (&out, comp)
              + (gsize) x * ps];
          guint8 want = GST_VIDEO_FRAME_COMP_DATA (&exp, comp)[(gsize) y * GST_VIDEO_FRAME_COMP_STRIDE (&exp, comp)
              + (gsize) x * ps];
          if (got != want)
            g_error ("%s x%d %dx%d: component %d at (%d, %d) is %u, expected %u", format, s, w, h, comp, x, y,
                got, want);
        }
    }
    gst_video_frame_unmap (&exp);
    gst_buffer_unref (exp_buf);
  }
  gst_video_frame_unmap (&in);
  gst_video_frame_unmap (&out);
}

static void check_luma_output (const EspcnInt8Model *m, const char *format, GstVideoInfo *in_info,
                               GstBuffer *in_buf, GstCaps *out_caps, GstBuffer *out_buf);

/* Pushes one random frame through a harness and checks it (against the
 * engine's luma output and GstVideoScaler's chroma for a luma model); returns
 * the output. */
static GstBuffer *
push_and_check (GstHarness *h, const EspcnInt8Model *m, const char *format, int w, int h_, guint64 seed)
{
  GstVideoInfo info;
  GstBuffer *in = random_frame (&info, format, w, h_, seed);
  GstBuffer *keep = gst_buffer_ref (in);
  g_assert_cmpint (gst_harness_push (h, in), ==, GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull (h);
  g_assert_nonnull (out);
  GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);
  if (espcn_int8_model_get_channels (m) == 1)
    check_luma_output (m, format, &info, keep, caps, out);
  else
    check_output (m, format, &info, keep, caps, out);
  gst_caps_unref (caps);
  gst_buffer_unref (keep);
  return out;
}

/* ---- tests ---- */

static void
test_every_format_and_scale_negotiates_and_matches_reference (void)
{
  for (int s = 2; s <= 4; s++)
    for (guint f = 0; f < G_N_ELEMENTS (all_formats); f++) {
      GstHarness *h = make_harness (model_path[s][0], 1);
      g_autoptr (GstCaps) caps = caps_for (all_formats[f], 7, 5);
      gst_harness_set_src_caps (h, gst_caps_ref (caps));
      GstBuffer *out = push_and_check (h, model[s][0], all_formats[f], 7, 5, 100 + f);
      GstCaps *oc = gst_pad_get_current_caps (h->sinkpad);
      GstStructure *st = gst_caps_get_structure (oc, 0);
      int num, den;
      g_assert_true (gst_structure_get_fraction (st, "framerate", &num, &den));
      g_assert_cmpint (num, ==, 30);
      g_assert_cmpint (den, ==, 1);
      g_assert_true (gst_structure_get_fraction (st, "pixel-aspect-ratio", &num, &den));
      g_assert_cmpint (num, ==, den);
      gst_caps_unref (oc);
      gst_buffer_unref (out);
      gst_harness_teardown (h);
    }
}

static void
test_sizes_and_padded_strides_match_reference (void)
{
  /* 641 wide RGB has a padded stride (1923 bytes rounded up to 1924). */
  static const int sizes[][2] = { { 1, 1 }, { 3, 5 }, { 641, 359 } };
  static const char *formats[] = { "RGB", "BGRA", "I420", "NV12" };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    for (guint f = 0; f < G_N_ELEMENTS (formats); f++) {
      int s = 2 + (int) ((i + f) % 3);
      if (sizes[i][0] > 100 && f > 0)
        s = 2;  /* the reference is slow: big frames at x2 only */
      GstHarness *h = make_harness (model_path[s][0], 2);
      gst_harness_set_src_caps (h, caps_for (formats[f], sizes[i][0], sizes[i][1]));
      gst_buffer_unref (push_and_check (h, model[s][0], formats[f], sizes[i][0], sizes[i][1], 7 * i + f));
      gst_harness_teardown (h);
    }
  GstVideoInfo info;
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 641, 359);
  g_assert_cmpint (GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), >, 641 * 3);
}

static void
test_thread_count_does_not_change_output (void)
{
  GstBuffer *outs[3];
  guint threads[3] = { 1, 2, 3 };
  for (int k = 0; k < 3; k++) {
    GstHarness *h = make_harness (model_path[3][1], threads[k]);
    gst_harness_set_src_caps (h, caps_for ("RGBx", 211, 97));
    GstVideoInfo info;
    gst_harness_push (h, random_frame (&info, "RGBx", 211, 97, 42));
    outs[k] = gst_harness_pull (h);
    gst_harness_teardown (h);
  }
  for (int k = 1; k < 3; k++) {
    GstMapInfo a, b;
    gst_buffer_map (outs[0], &a, GST_MAP_READ);
    gst_buffer_map (outs[k], &b, GST_MAP_READ);
    g_assert_cmpuint (a.size, ==, b.size);
    g_assert_true (memcmp (a.data, b.data, a.size) == 0);
    gst_buffer_unmap (outs[0], &a);
    gst_buffer_unmap (outs[k], &b);
  }
  for (int k = 0; k < 3; k++)
    gst_buffer_unref (outs[k]);
}

/* Runs a pipeline to PLAYING and returns the error message it stops with (or NULL). */
static GstStateChangeReturn
run_expecting_error (const char *desc, GError **error, gchar **debug)
{
  g_autoptr (GError) perr = NULL;
  GstElement *p = gst_parse_launch (desc, &perr);
  g_assert_no_error (perr);
  GstStateChangeReturn ret = gst_element_set_state (p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  gst_message_parse_error (msg, error, debug);
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  return ret;
}

static void
test_bad_models_fail_the_state_change_with_an_error (void)
{
  g_autofree gchar *garbage = g_build_filename (tmp_dir, "garbage.bin", NULL);
  g_assert_true (g_file_set_contents (garbage, "this is not a model", -1, NULL));
  g_autofree gchar *missing = g_build_filename (tmp_dir, "missing.bin", NULL);

  struct {
    const char *model;
    GQuark domain;
    int code;
    const char *in_debug;
  } cases[] = {
    { missing, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "missing.bin" },
    /* A model file is a resource, not media data: never a STREAM error. */
    { garbage, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED, "garbage.bin" },
    { "no-such-preset", GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "no-such-preset" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *desc =
        g_strdup_printf ("videotestsrc num-buffers=2 ! espcnupscale model=\"%s\" ! fakesink", cases[i].model);
    g_autoptr (GError) err = NULL;
    g_autofree gchar *debug = NULL;
    GstStateChangeReturn ret = run_expecting_error (desc, &err, &debug);
    g_assert_cmpint (ret, ==, GST_STATE_CHANGE_FAILURE);
    g_assert_error (err, cases[i].domain, cases[i].code);
    g_assert_nonnull (strstr (debug, cases[i].in_debug));
  }
}

static void
test_hundred_state_cycles (void)
{
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc ! video/x-raw,format=RGB,width=16,height=8 ! "
      "espcnupscale model=\"%s\" n-threads=2 ! fakesink", model_path[2][0]);
  GstElement *p = gst_parse_launch (desc, NULL);
  g_assert_nonnull (p);
  for (int i = 0; i < 100; i++) {
    g_assert_cmpint (gst_element_set_state (p, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
    g_assert_cmpint (gst_element_get_state (p, NULL, NULL, 5 * GST_SECOND), ==, GST_STATE_CHANGE_SUCCESS);
    g_assert_cmpint (gst_element_set_state (p, GST_STATE_NULL), ==, GST_STATE_CHANGE_SUCCESS);
  }
  gst_object_unref (p);
}

static void
test_renegotiation_to_another_size (void)
{
  GstHarness *h = make_harness (model_path[2][0], 2);
  gst_harness_set_src_caps (h, caps_for ("BGR", 8, 6));
  gst_buffer_unref (push_and_check (h, model[2][0], "BGR", 8, 6, 1));
  gst_harness_set_src_caps (h, caps_for ("BGR", 13, 4));
  gst_buffer_unref (push_and_check (h, model[2][0], "BGR", 13, 4, 2));
  gst_harness_set_src_caps (h, caps_for ("NV12", 10, 6));
  gst_buffer_unref (push_and_check (h, model[2][0], "NV12", 10, 6, 3));
  gst_harness_teardown (h);
}

/* A buffer shorter than its caps, or a video meta whose plane does not fit the
 * buffer, is dropped with a warning message, as GstVideoFilter elements do with
 * a bad frame; nothing is pushed (GstVideoFilter alone read past such buffers or
 * pushed an unwritten output; found by fuzz-element-transform) and the stream
 * goes on. */
static void
test_bad_buffer_is_dropped_with_a_warning (void)
{
  GstHarness *h = make_harness (model_path[2][0], 1);
  GstBus *bus = gst_bus_new ();  /* a harness gives its element none */
  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps (h, caps_for ("BGRA", 8, 6));
  GstVideoInfo info;
  GstBuffer *good = random_frame (&info, "BGRA", 8, 6, 7);

  GstBuffer *cut = gst_buffer_copy_region (good, GST_BUFFER_COPY_ALL, 0, GST_VIDEO_INFO_SIZE (&info) - 1);
  g_assert_cmpint (gst_harness_push (h, cut), ==, GST_FLOW_OK);

  GstBuffer *meta_buf = gst_buffer_copy (good);
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0 };
  gint stride[GST_VIDEO_MAX_PLANES] = { 8 * 4 * 2 };  /* rows twice as far apart as the buffer holds */
  gst_buffer_add_video_meta_full (meta_buf, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_BGRA, 8, 6, 1, offset, stride);
  g_assert_cmpint (gst_harness_push (h, meta_buf), ==, GST_FLOW_OK);

  g_assert_cmpuint (gst_harness_buffers_received (h), ==, 0);
  int warnings = 0;
  GstMessage *m;
  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING)) != NULL) {
    g_assert_cmpint (GST_MESSAGE_TYPE (m), ==, GST_MESSAGE_WARNING);
    warnings++;
    gst_message_unref (m);
  }
  g_assert_cmpint (warnings, ==, 2);

  /* The element still works on the next well-formed buffer. */
  g_assert_cmpint (gst_harness_push (h, good), ==, GST_FLOW_OK);
  g_assert_cmpuint (gst_harness_buffers_received (h), ==, 1);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

static GstMessage *
wait_eos_or_error (GstElement *p)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gst_object_unref (bus);
  g_assert_nonnull (m);
  return m;
}

static void
count_buffer (GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer data)
{
  (void) sink;
  (void) buf;
  (void) pad;
  g_atomic_int_inc ((gint *) data);
}

static void
test_eos_and_flushing_seek (void)
{
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc num-buffers=20 ! video/x-raw,format=I420,width=24,"
      "height=16,framerate=30/1 ! espcnupscale model=\"%s\" ! fakesink name=sink signal-handoffs=true",
      model_path[4][0]);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  gint count = 0;
  g_signal_connect (sink, "handoff", G_CALLBACK (count_buffer), &count);
  g_assert_cmpint (gst_element_set_state (p, GST_STATE_PAUSED), !=, GST_STATE_CHANGE_FAILURE);
  g_assert_cmpint (gst_element_get_state (p, NULL, NULL, 5 * GST_SECOND), ==, GST_STATE_CHANGE_SUCCESS);
  g_assert_true (gst_element_seek_simple (p, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
      GST_SECOND / 3));
  g_assert_cmpint (gst_element_get_state (p, NULL, NULL, 5 * GST_SECOND), ==, GST_STATE_CHANGE_SUCCESS);
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstMessage *m = wait_eos_or_error (p);
  g_assert_cmpint (GST_MESSAGE_TYPE (m), ==, GST_MESSAGE_EOS);
  gst_message_unref (m);
  g_assert_cmpint (g_atomic_int_get (&count), >, 0);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
}

static void
test_live_source_with_sync_sink (void)
{
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc is-live=true num-buffers=10 ! video/x-raw,format=RGBx,"
      "width=32,height=24,framerate=30/1 ! espcnupscale model=\"%s\" ! fakesink sync=true", model_path[2][0]);
  GstElement *p = gst_parse_launch (desc, NULL);
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstMessage *m = wait_eos_or_error (p);
  g_assert_cmpint (GST_MESSAGE_TYPE (m), ==, GST_MESSAGE_EOS);
  gst_message_unref (m);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
}

/* The width and height of a pad's current caps. */
static void
pad_size (GstPad *pad, int *w, int *h)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  g_assert_nonnull (caps);
  g_assert_true (gst_structure_get_int (gst_caps_get_structure (caps, 0), "width", w));
  g_assert_true (gst_structure_get_int (gst_caps_get_structure (caps, 0), "height", h));
  gst_caps_unref (caps);
}

/* Runs `desc` to EOS and returns the size the element named "up" got. */
static void
run_and_get_input_size (const char *desc, int *w, int *h)
{
  g_autoptr (GError) err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstMessage *m = wait_eos_or_error (p);
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) perr = NULL;
    g_autofree gchar *debug = NULL;
    gst_message_parse_error (m, &perr, &debug);
    g_error ("%s: %s (%s)", desc, perr->message, debug);
  }
  gst_message_unref (m);
  GstElement *e = gst_bin_get_by_name (GST_BIN (p), "up");
  GstPad *sinkpad = gst_element_get_static_pad (e, "sink");
  pad_size (sinkpad, w, h);
  gst_object_unref (sinkpad);
  gst_object_unref (e);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
}

static void
test_videoconvert_and_capsfilters_negotiate (void)
{
  /* Downstream asks for 96x64 with a x4 model: upstream must produce 24x16. */
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! videoconvert ! espcnupscale name=up "
      "model=\"%s\" ! videoconvert ! video/x-raw,format=I420,width=96,height=64 ! fakesink name=sink",
      model_path[4][0]);
  int w, h;
  run_and_get_input_size (desc, &w, &h);
  g_assert_cmpint (w, ==, 24);
  g_assert_cmpint (h, ==, 16);

  /* 97 is not a multiple of 4: nothing upstream can feed it, so the link fails. */
  g_autofree gchar *bad = g_strdup_printf ("videotestsrc num-buffers=2 ! espcnupscale model=\"%s\" ! "
      "video/x-raw,width=97,height=64 ! fakesink", model_path[4][0]);
  g_autoptr (GError) err = NULL;
  GstElement *bp = gst_parse_launch (bad, &err);
  g_assert_error (err, GST_PARSE_ERROR, GST_PARSE_ERROR_LINK);
  g_clear_object (&bp);
}

static GstCaps *
transform (GstElement *e, GstPadDirection dir, const char *caps_str)
{
  GstCaps *caps = gst_caps_from_string (caps_str);
  g_assert_nonnull (caps);
  GstCaps *out = GST_BASE_TRANSFORM_GET_CLASS (e)->transform_caps (GST_BASE_TRANSFORM (e), dir, caps, NULL);
  gst_caps_unref (caps);
  return out;
}

static void
assert_caps_equal (GstCaps *got, const char *want)
{
  GstCaps *w = gst_caps_from_string (want);
  if (!gst_caps_is_equal (got, w)) {
    g_autofree gchar *g = gst_caps_to_string (got);
    g_error ("caps %s, expected %s", g, want);
  }
  gst_caps_unref (w);
  gst_caps_unref (got);
}

static void
test_transform_caps_maps_sizes (void)
{
  GstElement *e = make_element (model_path[3][0], 1);
  assert_caps_equal (transform (e, GST_PAD_SINK, "video/x-raw,format=RGB,width=5,height=7,framerate=25/1"),
      "video/x-raw,format=RGB,width=15,height=21,framerate=25/1");
  assert_caps_equal (transform (e, GST_PAD_SRC, "video/x-raw,format=RGB,width=15,height=21"),
      "video/x-raw,format=RGB,width=5,height=7");
  /* Not divisible by 3: no sink caps. */
  assert_caps_equal (transform (e, GST_PAD_SRC, "video/x-raw,width=16,height=21"), "EMPTY");
  /* Ranges: up keeps the multiples (step 3); down maps to the sizes that divide. */
  assert_caps_equal (transform (e, GST_PAD_SINK, "video/x-raw,format=BGR,width=[2,10],height=4"),
      "video/x-raw,format=BGR,width=[6,30,3],height=12");
  assert_caps_equal (transform (e, GST_PAD_SRC, "video/x-raw,format=BGR,width=[4,31],height=[1,3]"),
      "video/x-raw,format=BGR,width=[2,10],height=1");
  assert_caps_equal (transform (e, GST_PAD_SRC, "video/x-raw,format=BGR,width={6,7,9},height=[3,5]"),
      "video/x-raw,format=BGR,width={2,3},height=1");
  /* Outputs that would overflow an int are refused. */
  assert_caps_equal (transform (e, GST_PAD_SINK, "video/x-raw,width=715827883,height=4"), "EMPTY");
  assert_caps_equal (transform (e, GST_PAD_SINK, "video/x-raw,format=BGR,width=[1,2147483647],height=4"),
      "video/x-raw,format=BGR,width=[3,2147483646,3],height=12");
  gst_object_unref (e);

  /* Without a model every supported scale is possible. */
  GstElement *none = make_element ("/nonexistent/model.bin", 1);
  assert_caps_equal (transform (none, GST_PAD_SINK, "video/x-raw,width=2,height=1"),
      "video/x-raw,width=4,height=2; video/x-raw,width=6,height=3; video/x-raw,width=8,height=4");
  gint scale;
  g_object_get (none, "scale", &scale, NULL);
  g_assert_cmpint (scale, ==, 0);
  gst_object_unref (none);
}

static void
test_properties_report_the_model (void)
{
  GstElement *e = make_element (model_path[4][1], 0);
  gint scale;
  gchar *method = NULL;
  g_object_get (e, "scale", &scale, "quantization-method", &method, NULL);
  g_assert_cmpint (scale, ==, 4);
  g_assert_cmpstr (method, ==, "test");
  g_free (method);
  gst_object_unref (e);

  /* A bare name is looked up in $ESPCN_MODEL_PATH, with or without ".bin". */
  g_autofree gchar *path = g_strconcat ("/nonexistent:", tmp_dir, NULL);
  g_setenv ("ESPCN_MODEL_PATH", path, TRUE);
  e = make_element ("m3-0", 1);
  g_object_get (e, "scale", &scale, NULL);
  g_assert_cmpint (scale, ==, 3);
  g_object_set (e, "model", "m2-1.bin", NULL);
  g_object_get (e, "scale", &scale, NULL);
  g_assert_cmpint (scale, ==, 2);
  g_unsetenv ("ESPCN_MODEL_PATH");
  gst_object_unref (e);
}

static GstMessage *
pop_warning (GstBus *bus)
{
  return gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
}

static void
test_model_of_another_scale_renegotiates_while_playing (void)
{
  GstElement *e = make_element (model_path[2][0], 2);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (e, bus);
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps (h, caps_for ("RGBA", 20, 10));
  gst_buffer_unref (push_and_check (h, model[2][0], "RGBA", 20, 10, 1));

  /* Same scale: the next frame uses the new model. */
  g_object_set (e, "model", model_path[2][1], NULL);
  gst_buffer_unref (push_and_check (h, model[2][1], "RGBA", 20, 10, 2));
  g_assert_null (pop_warning (bus));

  /* Different scale: the output size is renegotiated and the next frame is
   * upscaled x3 by the new model, without a warning. */
  g_object_set (e, "model", model_path[3][0], NULL);
  g_assert_null (pop_warning (bus));
  gst_buffer_unref (push_and_check (h, model[3][0], "RGBA", 20, 10, 3));
  gchar *name = NULL;
  gint scale;
  g_object_get (e, "model", &name, "scale", &scale, NULL);
  g_assert_cmpstr (name, ==, model_path[3][0]);
  g_assert_cmpint (scale, ==, 3);
  g_free (name);

  /* A model that does not load is refused with a warning; the running one stays. */
  g_object_set (e, "model", "/nonexistent/model.bin", NULL);
  GstMessage *m = pop_warning (bus);
  g_assert_nonnull (m);
  gst_message_unref (m);
  /* n-threads may change while playing, output unchanged in kind. */
  g_object_set (e, "n-threads", 1, NULL);
  gst_buffer_unref (push_and_check (h, model[3][0], "RGBA", 20, 10, 4));
  /* And back to x2. */
  g_object_set (e, "model", model_path[2][0], NULL);
  gst_buffer_unref (push_and_check (h, model[2][0], "RGBA", 20, 10, 5));

  /* The queued messages hold the element and the element holds the bus. */
  gst_element_set_bus (e, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

/* ---- in pipelines, as videoscale and videoflip behave ---- */

static void
test_scalers_on_both_sides_give_the_model_the_small_frame (void)
{
  /* 320x240 in, 1280x720 out, a x2 model between two scalers: the model must
   * run on 640x360, not on a blown-up 1280x720. */
  static const char *chains[] = {
    "videotestsrc num-buffers=2 ! video/x-raw,width=320,height=240 ! videoscale ! espcnupscale name=up "
    "model=\"%s\" ! videoscale ! video/x-raw,width=1280,height=720 ! fakesink",
    "videotestsrc num-buffers=2 ! video/x-raw,width=320,height=240 ! videoconvertscale ! espcnupscale name=up "
    "model=\"%s\" ! videoconvertscale ! video/x-raw,width=1280,height=720 ! fakesink",
    "videotestsrc num-buffers=2 ! video/x-raw,width=320,height=240 ! videoscale ! espcnupscale name=up "
    "model=\"%s\" ! video/x-raw,width=1280,height=720 ! fakesink",
    "videotestsrc num-buffers=2 ! video/x-raw,width=320,height=240 ! theoraenc ! decodebin ! videoconvert ! "
    "videoscale ! espcnupscale name=up model=\"%s\" ! videoscale ! video/x-raw,width=1280,height=720 ! fakesink",
  };
  for (guint i = 0; i < G_N_ELEMENTS (chains); i++) {
    g_autofree gchar *desc = g_strdup_printf (chains[i], model_path[2][0]);
    int w, h;
    run_and_get_input_size (desc, &w, &h);
    if (w != 640 || h != 360)
      g_error ("%s: the model ran on %dx%d, expected 640x360", desc, w, h);
  }
  /* Without a size downstream, the scaler before it passes the frame through. */
  g_autofree gchar *free_desc = g_strdup_printf ("videotestsrc num-buffers=2 ! video/x-raw,width=320,height=240 ! "
      "theoraenc ! decodebin ! videoconvert ! videoscale ! espcnupscale name=up model=\"%s\" ! videoscale ! fakesink",
      model_path[2][0]);
  int w, h;
  run_and_get_input_size (free_desc, &w, &h);
  g_assert_cmpint (w, ==, 320);
  g_assert_cmpint (h, ==, 240);
}

/* A test meta with chosen tags, copied by its transform function. */
typedef struct {
  GstMeta meta;
  int value;
} TestMeta;

static gboolean
test_meta_init (GstMeta *meta, gpointer params, GstBuffer *buffer)
{
  (void) params;
  (void) buffer;
  ((TestMeta *) meta)->value = 0;
  return TRUE;
}

static gboolean
test_meta_transform (GstBuffer *dest, GstMeta *meta, GstBuffer *buffer, GQuark type, gpointer data)
{
  (void) buffer;
  (void) data;
  if (!GST_META_TRANSFORM_IS_COPY (type))
    return FALSE;
  TestMeta *copy = (TestMeta *) gst_buffer_add_meta (dest, meta->info, NULL);
  copy->value = ((TestMeta *) meta)->value;
  return TRUE;
}

static const GstMetaInfo *
test_meta_info (const char *name, const gchar **tags)
{
  g_autofree gchar *api_name = g_strconcat (name, "API", NULL);
  GType api = g_type_from_name (api_name);
  if (api == 0)
    api = gst_meta_api_type_register (api_name, tags);
  const GstMetaInfo *info = gst_meta_get_info (name);
  if (info == NULL)
    info = gst_meta_register (api, name, sizeof (TestMeta), test_meta_init, NULL, test_meta_transform);
  return info;
}

static void
test_metas_are_scaled_copied_or_dropped_like_videoscale (void)
{
  const gchar *colorspace_tags[] = { GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_COLORSPACE_STR, NULL };
  const gchar *foreign_tags[] = { "espcn-test-foreign", NULL };
  const gchar *no_tags[] = { NULL };
  const GstMetaInfo *colorspace_meta = test_meta_info ("EspcnTestColorspaceMeta", colorspace_tags);
  const GstMetaInfo *foreign_meta = test_meta_info ("EspcnTestForeignMeta", foreign_tags);
  const GstMetaInfo *untagged_meta = test_meta_info ("EspcnTestUntaggedMeta", no_tags);

  GstHarness *h = make_harness (model_path[2][0], 1);
  gst_harness_set_src_caps (h, caps_for ("RGBx", 20, 12));
  GstVideoInfo info;
  GstBuffer *in = random_frame (&info, "RGBx", 20, 12, 5);
  gst_buffer_add_video_region_of_interest_meta (in, "face", 4, 4, 10, 8);
  ((TestMeta *) gst_buffer_add_meta (in, colorspace_meta, NULL))->value = 11;
  ((TestMeta *) gst_buffer_add_meta (in, foreign_meta, NULL))->value = 12;
  ((TestMeta *) gst_buffer_add_meta (in, untagged_meta, NULL))->value = 13;
  g_assert_cmpint (gst_harness_push (h, in), ==, GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull (h);

  /* videoscale at x2 turns (4,4,10,8) into (8,8,20,16). */
  GstVideoRegionOfInterestMeta *roi = gst_buffer_get_video_region_of_interest_meta (out);
  g_assert_nonnull (roi);
  g_assert_cmpuint (roi->x, ==, 8);
  g_assert_cmpuint (roi->y, ==, 8);
  g_assert_cmpuint (roi->w, ==, 20);
  g_assert_cmpuint (roi->h, ==, 16);
  g_assert_cmpstr (g_quark_to_string (roi->roi_type), ==, "face");
  /* One ROI only: scaled, not also copied. */
  gpointer state = NULL;
  int n_roi = 0;
  while (gst_buffer_iterate_meta_filtered (out, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE) != NULL)
    n_roi++;
  g_assert_cmpint (n_roi, ==, 1);

  TestMeta *m = (TestMeta *) gst_buffer_get_meta (out, colorspace_meta->api);
  g_assert_nonnull (m);
  g_assert_cmpint (m->value, ==, 11);
  g_assert_null (gst_buffer_get_meta (out, foreign_meta->api));
  m = (TestMeta *) gst_buffer_get_meta (out, untagged_meta->api);
  g_assert_nonnull (m);
  g_assert_cmpint (m->value, ==, 13);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

static GstBus *
harness_bus (GstHarness *h)
{
  GstBus *bus = gst_bus_new ();  /* a harness gives its element none */
  gst_element_set_bus (h->element, bus);
  return bus;
}

static void
harness_bus_release (GstHarness *h, GstBus *bus)
{
  gst_element_set_bus (h->element, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

/* Plane p's rows and the bytes of a row that hold pixels. */
static void
plane_extent (GstVideoFrame *f, guint p, int *rows, gsize *row_bytes)
{
  gint comp[GST_VIDEO_MAX_COMPONENTS];
  gst_video_format_info_component (f->info.finfo, p, comp);
  *rows = GST_VIDEO_FRAME_COMP_HEIGHT (f, comp[0]);
  *row_bytes = (gsize) GST_VIDEO_FRAME_COMP_WIDTH (f, comp[0]) * GST_VIDEO_FRAME_COMP_PSTRIDE (f, comp[0]);
}

/* Row r of every plane of `field` is row 2r + f of `frame` (copied one way or
 * compared, by `copy`). */
static void
field_rows (GstVideoFrame *frame, GstVideoFrame *field, int f, gboolean copy)
{
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES (field); p++) {
    int rows;
    gsize bytes;
    plane_extent (field, p, &rows, &bytes);
    for (int r = 0; r < rows; r++) {
      guint8 *in_frame = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (frame, p)
          + (gsize) (2 * r + f) * GST_VIDEO_FRAME_PLANE_STRIDE (frame, p);
      guint8 *in_field = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (field, p)
          + (gsize) r * GST_VIDEO_FRAME_PLANE_STRIDE (field, p);
      if (copy)
        memcpy (in_field, in_frame, bytes);
      else if (memcmp (in_field, in_frame, bytes) != 0)
        g_error ("%s: field %d, plane %u, row %d differs from the field upscaled alone",
            GST_VIDEO_FRAME_FORMAT (frame) ? gst_video_format_to_string (GST_VIDEO_FRAME_FORMAT (frame)) : "?", f, p,
            r);
    }
  }
}

/* Upscales interleaved frames of each format with `model_file` and checks each
 * field against the same rows upscaled alone. */
static void
check_fields_upscaled_one_by_one (const char *model_file, const char *const *formats, guint n_formats, int h)
{
  const int w = 16;
  for (guint i = 0; i < n_formats; i++) {
    GstHarness *hi = make_harness (model_file, 1);
    GstCaps *caps = caps_for (formats[i], w, h);
    gst_caps_set_simple (caps, "interlace-mode", G_TYPE_STRING, "interleaved", "field-order", G_TYPE_STRING,
        "top-field-first", NULL);
    gst_harness_set_src_caps (hi, caps);
    GstVideoInfo in_info;
    GstBuffer *in = random_frame (&in_info, formats[i], w, h, 40 + i);
    gst_video_info_set_interlaced_format (&in_info, GST_VIDEO_INFO_FORMAT (&in_info),
        GST_VIDEO_INTERLACE_MODE_INTERLEAVED, w, h);
    GstBuffer *keep = gst_buffer_ref (in);
    g_assert_cmpint (gst_harness_push (hi, in), ==, GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull (hi);
    GstCaps *out_caps = gst_pad_get_current_caps (hi->sinkpad);
    GstVideoInfo out_info;
    g_assert_true (gst_video_info_from_caps (&out_info, out_caps));
    gst_caps_unref (out_caps);
    /* The output is still interleaved, in the same field order. */
    g_assert_cmpint (GST_VIDEO_INFO_INTERLACE_MODE (&out_info), ==, GST_VIDEO_INTERLACE_MODE_INTERLEAVED);
    g_assert_cmpint (GST_VIDEO_INFO_FIELD_ORDER (&out_info), ==, GST_VIDEO_FIELD_ORDER_TOP_FIELD_FIRST);
    GstVideoFrame in_frame, out_frame;
    g_assert_true (gst_video_frame_map (&in_frame, &in_info, keep, GST_MAP_READ));
    g_assert_true (gst_video_frame_map (&out_frame, &out_info, out, GST_MAP_READ));

    /* Each field upscaled alone, as a progressive picture of half the height,
     * must be exactly the output's rows of that field: nothing of the other
     * field gets in. */
    GstHarness *hp = make_harness (model_file, 1);
    gst_harness_set_src_caps (hp, caps_for (formats[i], w, h / 2));
    for (int f = 0; f < 2; f++) {
      GstVideoInfo field_info;
      GstBuffer *field = random_frame (&field_info, formats[i], w, h / 2, 0);
      GstVideoFrame field_frame;
      g_assert_true (gst_video_frame_map (&field_frame, &field_info, field, GST_MAP_WRITE));
      field_rows (&in_frame, &field_frame, f, TRUE);
      gst_video_frame_unmap (&field_frame);
      g_assert_cmpint (gst_harness_push (hp, field), ==, GST_FLOW_OK);
      GstBuffer *up = gst_harness_pull (hp);
      GstVideoInfo up_info;
      gst_video_info_set_format (&up_info, GST_VIDEO_INFO_FORMAT (&field_info), 2 * w, h);
      GstVideoFrame up_frame;
      g_assert_true (gst_video_frame_map (&up_frame, &up_info, up, GST_MAP_READ));
      field_rows (&out_frame, &up_frame, f, FALSE);
      gst_video_frame_unmap (&up_frame);
      gst_buffer_unref (up);
    }
    gst_harness_teardown (hp);
    gst_video_frame_unmap (&in_frame);
    gst_video_frame_unmap (&out_frame);
    gst_buffer_unref (keep);
    gst_buffer_unref (out);
    gst_harness_teardown (hi);
  }
}

static void
test_interlaced_fields_are_upscaled_one_by_one (void)
{
  static const char *formats[] = { "RGB", "BGRA", "xRGB", "I420", "NV12" };
  check_fields_upscaled_one_by_one (model_path[2][0], formats, G_N_ELEMENTS (formats), 8);
}

static void
test_interlacing_that_cannot_be_split_is_refused_with_a_message (void)
{
  /* Odd rows per field (and for 4:2:0 an odd number of chroma rows): the
   * fields cannot be upscaled apart, and together they would blend. */
  static const struct {
    const char *format;
    int h;
  } cases[] = { { "RGB", 5 }, { "I420", 6 } };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstHarness *h = make_harness (model_path[2][0], 1);
    GstBus *bus = harness_bus (h);
    GstCaps *caps = caps_for (cases[i].format, 16, cases[i].h);
    gst_caps_set_simple (caps, "interlace-mode", G_TYPE_STRING, "interleaved", NULL);
    gst_harness_set_src_caps (h, caps);
    GstVideoInfo info;
    GstBuffer *in = random_frame (&info, cases[i].format, 16, cases[i].h, 3);
    g_assert_cmpint (gst_harness_push (h, in), ==, GST_FLOW_NOT_NEGOTIATED);
    g_assert_cmpuint (gst_harness_buffers_received (h), ==, 0);
    GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    g_assert_nonnull (m);
    g_autoptr (GError) err = NULL;
    g_autofree gchar *debug = NULL;
    gst_message_parse_error (m, &err, &debug);
    g_assert_nonnull (strstr (err->message, "interlaced"));
    g_assert_nonnull (strstr (err->message, "deinterlace"));
    gst_message_unref (m);
    harness_bus_release (h, bus);
    gst_harness_teardown (h);
  }
}

static void
test_navigation_events_reach_upstream_in_input_coordinates (void)
{
  GstHarness *h = make_harness (model_path[3][0], 1);
  gst_harness_set_src_caps (h, caps_for ("RGB", 20, 10));
  GstVideoInfo info;
  g_assert_cmpint (gst_harness_push (h, random_frame (&info, "RGB", 20, 10, 9)), ==, GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));

  /* A click at (45, 27) on the 60x30 output is at (15, 9) in the input. */
  g_assert_true (gst_harness_push_upstream_event (h, gst_navigation_event_new_mouse_button_press (1, 45, 27,
      GST_NAVIGATION_MODIFIER_NONE)));
  GstEvent *ev;
  while ((ev = gst_harness_pull_upstream_event (h)) != NULL && GST_EVENT_TYPE (ev) != GST_EVENT_NAVIGATION)
    gst_event_unref (ev);
  g_assert_nonnull (ev);
  gdouble x, y;
  g_assert_true (gst_navigation_event_get_coordinates (ev, &x, &y));
  g_assert_cmpfloat (x, ==, 15.0);
  g_assert_cmpfloat (y, ==, 9.0);
  gst_event_unref (ev);
  gst_harness_teardown (h);
}

static void
test_latency_includes_processing_time_and_is_announced (void)
{
  GstHarness *h = make_harness (model_path[4][0], 1);
  GstBus *bus = harness_bus (h);
  gst_harness_set_src_caps (h, caps_for ("RGBx", 64, 48));
  GstVideoInfo info;
  GstClockTime t0 = gst_util_get_timestamp ();
  g_assert_cmpint (gst_harness_push (h, random_frame (&info, "RGBx", 64, 48, 1)), ==, GST_FLOW_OK);
  GstClockTime elapsed = gst_util_get_timestamp () - t0;
  gst_buffer_unref (gst_harness_pull (h));

  /* The harness's source is live with no latency of its own: what the query
   * reports is the element's, measured, so more than 0 and at most the time the
   * whole push took. */
  GstClockTime latency = gst_harness_query_latency (h);
  g_assert_cmpuint (latency, >, 0);
  g_assert_cmpuint (latency, <=, elapsed);

  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_LATENCY);
  g_assert_nonnull (m);
  g_assert_true (GST_MESSAGE_SRC (m) == GST_OBJECT (h->element));
  gst_message_unref (m);
  harness_bus_release (h, bus);
  gst_harness_teardown (h);
}

typedef struct {
  GstElement *element;
  const char *new_model;
  int frames;
  int last_w, last_h;
} SwapAtFrame;

static GstPadProbeReturn
swap_model_at_frame_five (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  (void) info;
  SwapAtFrame *swap = data;
  pad_size (pad, &swap->last_w, &swap->last_h);
  if (++swap->frames == 5)
    g_object_set (swap->element, "model", swap->new_model, NULL);
  return GST_PAD_PROBE_OK;
}

static void
test_model_of_another_scale_renegotiates_upstream_for_a_fixed_output (void)
{
  /* 640x480 out: x2 takes 320x240, and after the change to x4 the scaler before
   * the element must hand it 160x120, with no warning and no error. */
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc num-buffers=20 ! video/x-raw,width=320,height=240 ! "
      "videoscale ! espcnupscale name=up model=\"%s\" ! video/x-raw,width=640,height=480 ! fakesink",
      model_path[2][0]);
  GstElement *p = gst_parse_launch (desc, NULL);
  SwapAtFrame swap = { gst_bin_get_by_name (GST_BIN (p), "up"), model_path[4][0], 0, 0, 0 };
  GstPad *sinkpad = gst_element_get_static_pad (swap.element, "sink");
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER, swap_model_at_frame_five, &swap, NULL);
  gst_object_unref (sinkpad);
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m;
  while ((m = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR
      | GST_MESSAGE_WARNING)) != NULL && GST_MESSAGE_TYPE (m) != GST_MESSAGE_EOS) {
    g_autoptr (GError) err = NULL;
    g_autofree gchar *debug = NULL;
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
      gst_message_parse_error (m, &err, &debug);
    else
      gst_message_parse_warning (m, &err, &debug);
    g_error ("%s from %s: %s (%s)", GST_MESSAGE_TYPE_NAME (m), GST_OBJECT_NAME (GST_MESSAGE_SRC (m)), err->message,
        debug);
  }
  g_assert_nonnull (m);
  gst_message_unref (m);
  g_assert_cmpint (swap.frames, ==, 20);
  g_assert_cmpint (swap.last_w, ==, 160);
  g_assert_cmpint (swap.last_h, ==, 120);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (swap.element);
  gst_object_unref (p);
}

static void
count_notify (GObject *obj, GParamSpec *pspec, gpointer data)
{
  (void) obj;
  (void) pspec;
  (*(int *) data)++;
}

static void
test_scale_and_quantization_method_notify_on_model_change (void)
{
  GstElement *e = make_element (model_path[2][0], 1);
  int n_scale = 0, n_method = 0;
  g_signal_connect (e, "notify::scale", G_CALLBACK (count_notify), &n_scale);
  g_signal_connect (e, "notify::quantization-method", G_CALLBACK (count_notify), &n_method);
  g_object_set (e, "model", model_path[3][0], NULL);
  g_assert_cmpint (n_scale, ==, 1);
  g_assert_cmpint (n_method, ==, 1);
  g_object_set (e, "model", model_path[3][1], NULL);
  g_assert_cmpint (n_scale, ==, 2);
  g_assert_cmpint (n_method, ==, 2);
  gst_object_unref (e);
}

static void
test_default_model_is_the_x4_lsq_preset (void)
{
  g_setenv ("ESPCN_MODEL_PATH", ESPCN_SOURCE_PRESETS_DIR, TRUE);
  GstElement *e = gst_element_factory_make ("espcnupscale", NULL);
  gint scale;
  gchar *method = NULL, *name = NULL;
  g_object_get (e, "scale", &scale, "quantization-method", &method, "model", &name, NULL);
  g_assert_cmpint (scale, ==, 4);
  g_assert_cmpstr (method, ==, "lsq");
  g_assert_cmpstr (name, ==, "lsq.bin");
  g_free (method);
  g_free (name);
  gst_object_unref (e);
  g_unsetenv ("ESPCN_MODEL_PATH");
}

static void
test_bare_names_are_not_looked_up_in_the_current_folder (void)
{
  g_autofree gchar *cwd = g_get_current_dir ();
  g_assert_cmpint (g_chdir (tmp_dir), ==, 0);
  g_unsetenv ("ESPCN_MODEL_PATH");
  GstElement *e = make_element ("m2-0.bin", 1);  /* present in the current folder */
  gint scale;
  g_object_get (e, "scale", &scale, NULL);
  g_assert_cmpint (scale, ==, 0);
  g_object_set (e, "model", "./m2-0.bin", NULL);  /* a path still works */
  g_object_get (e, "scale", &scale, NULL);
  g_assert_cmpint (scale, ==, 2);
  gst_object_unref (e);
  g_assert_cmpint (g_chdir (cwd), ==, 0);
}

/* Runs a command with ESPCN_MODEL_PATH set to the test's folder (and `debug`
 * as GST_DEBUG when not NULL); returns what it printed on `which` (1 stdout,
 * 2 stderr) and checks that it succeeded; NULL when the test is skipped (in
 * AddressSanitizer builds). */
static gchar *
run_with_test_models (const gchar *const *argv, const char *debug, int which)
{
#ifdef ESPCN_TEST_UNDER_ASAN
  /* The uninstrumented GStreamer tools cannot load an AddressSanitizer plugin. */
  g_test_skip ("GStreamer's tools cannot load the plugin of an AddressSanitizer build");
  return NULL;
#endif
  g_auto (GStrv) env = g_get_environ ();
  env = g_environ_setenv (env, "ESPCN_MODEL_PATH", tmp_dir, TRUE);
  if (debug != NULL) {
    env = g_environ_setenv (env, "GST_DEBUG", debug, TRUE);
    env = g_environ_setenv (env, "GST_DEBUG_NO_COLOR", "1", TRUE);
  }
  gchar *out = NULL, *err_out = NULL;
  g_autoptr (GError) err = NULL;
  int status;
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err_out,
      &status, &err));
  g_assert_no_error (err);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", argv[0], err_out);
  if (which == 1) {
    g_free (err_out);
    return out;
  }
  g_free (out);
  return err_out;
}

static void
test_resolved_model_file_is_logged (void)
{
  const gchar *argv[] = { "gst-launch-1.0", "-q", "videotestsrc", "num-buffers=1", "!", "espcnupscale",
                          "model=m3-1", "!", "fakesink", NULL };
  g_autofree gchar *log = run_with_test_models (argv, "espcnupscale:4", 2);
  if (log == NULL)
    return;
  g_autofree gchar *line = g_strdup_printf ("\"m3-1\" resolved to %s", model_path[3][1]);
  if (strstr (log, line) == NULL)
    g_error ("no \"%s\" in the log:\n%s", line, log);
}

static void
test_gst_inspect_shows_the_models_folder_and_names (void)
{
  const gchar *argv[] = { "gst-inspect-1.0", "espcnupscale", NULL };
  g_autofree gchar *out = run_with_test_models (argv, NULL, 1);
  if (out == NULL)
    return;
  /* The installed folder and the models found along $ESPCN_MODEL_PATH. */
  g_assert_nonnull (strstr (out, ESPCN_PRESETS_DIR));
  g_assert_nonnull (strstr (out, "m2-0.bin, m2-1.bin, m3-0.bin"));
  g_assert_nonnull (strstr (out, "Default: \"lsq.bin\""));
}

static void
test_metadata_and_properties_follow_videoscale_conventions (void)
{
  GstElementFactory *f = gst_element_factory_find ("espcnupscale");
  g_assert_nonnull (f);
  g_assert_cmpstr (gst_element_factory_get_metadata (f, GST_ELEMENT_METADATA_KLASS), ==,
      "Filter/Converter/Video/Scaler");
  GstPlugin *plugin = GST_PLUGIN (gst_plugin_feature_get_plugin (GST_PLUGIN_FEATURE (f)));
  g_assert_cmpstr (gst_plugin_get_origin (plugin), ==, ESPCN_PACKAGE_ORIGIN);
  gst_object_unref (plugin);
  gst_object_unref (f);

  GstElement *e = make_element (model_path[2][0], 1);
  GObjectClass *klass = G_OBJECT_GET_CLASS (e);
  /* videoscale's `method` is an interpolation: ours must not look like it. */
  g_assert_null (g_object_class_find_property (klass, "method"));
  GParamSpec *qm = g_object_class_find_property (klass, "quantization-method");
  g_assert_nonnull (qm);
  g_assert_false (qm->flags & G_PARAM_WRITABLE);
  /* `scale` is 2, 3 or 4, or none (0): never 1. */
  GParamSpec *sp = g_object_class_find_property (klass, "scale");
  g_assert_true (G_IS_PARAM_SPEC_ENUM (sp));
  GEnumClass *ec = G_PARAM_SPEC_ENUM (sp)->enum_class;
  g_assert_null (g_enum_get_value (ec, 1));
  for (int s = 2; s <= 4; s++)
    g_assert_nonnull (g_enum_get_value (ec, s));
  g_assert_cmpint (G_PARAM_SPEC_ENUM (sp)->default_value, ==, 0);
  gst_object_unref (e);
}

/* Address space now in use, from /proc/self/statm (pages). */
static guint64
address_space_in_use (void)
{
  g_autofree gchar *statm = NULL;
  g_assert_true (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL));
  return g_ascii_strtoull (statm, NULL, 10) * (guint64) sysconf (_SC_PAGESIZE);
}

static void
test_out_of_memory_is_not_reported_as_a_full_disk (void)
{
  /* AddressSanitizer's allocator aborts on a failed allocation instead of
   * returning NULL, so the out-of-memory path cannot be reached under it. */
#ifdef ESPCN_TEST_UNDER_ASAN
  g_test_skip ("AddressSanitizer aborts on a failed allocation");
  return;
#endif
  if (!g_test_subprocess ()) {
    g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed ();
    return;
  }
  /* 1 GiB more address space than in use: the 4 GiB RGB buffer of a 8000x8000
   * I420 frame at x4 cannot be allocated. */
  GstHarness *h = make_harness (model_path[4][0], 1);
  GstBus *bus = harness_bus (h);
  struct rlimit rl;
  rl.rlim_cur = rl.rlim_max = address_space_in_use () + ((rlim_t) 1 << 30);
  g_assert_cmpint (setrlimit (RLIMIT_AS, &rl), ==, 0);
  gst_harness_set_src_caps (h, caps_for ("I420", 8000, 8000));
  GstBuffer *tiny = gst_buffer_new_allocate (NULL, 16, NULL);
  g_assert_cmpint (gst_harness_push (h, tiny), ==, GST_FLOW_NOT_NEGOTIATED);
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_assert_nonnull (m);
  g_autoptr (GError) err = NULL;
  gst_message_parse_error (m, &err, NULL);
  g_assert_false (g_error_matches (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT));
  g_assert_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED);
  g_assert_nonnull (strstr (err->message, "memory"));
  gst_message_unref (m);
  harness_bus_release (h, bus);
  gst_harness_teardown (h);
}

/* Looks for a warning or error from the element whose text names all of `words`. */
static gboolean
bus_has_message_naming (GstBus *bus, const char *element_name, const char *const *words)
{
  GstMessage *m;
  gboolean found = FALSE;
  while (!found && (m = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))
      != NULL) {
    g_autoptr (GError) err = NULL;
    g_autofree gchar *debug = NULL;
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
      gst_message_parse_error (m, &err, &debug);
    else
      gst_message_parse_warning (m, &err, &debug);
    g_autofree gchar *text = g_strconcat (err->message, " ", debug ? debug : "", NULL);
    found = g_str_has_prefix (GST_OBJECT_NAME (GST_MESSAGE_SRC (m)), element_name);
    for (int i = 0; found && words[i] != NULL; i++)
      found = strstr (text, words[i]) != NULL;
    gst_message_unref (m);
  }
  return found;
}

static void
test_size_not_a_multiple_of_the_scale_is_named_in_the_failure (void)
{
  /* Downstream wants 97 wide from a x4 model (linked first, so the link works). */
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! espcnupscale model=\"%s\" ! "
      "capsfilter name=cf ! fakesink", model_path[4][0]);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *cf = gst_bin_get_by_name (GST_BIN (p), "cf");
  GstCaps *want = gst_caps_from_string ("video/x-raw,width=97,height=64");
  g_object_set (cf, "caps", want, NULL);
  gst_caps_unref (want);
  gst_object_unref (cf);
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (p);
  const char *const words[] = { "x4", "97", NULL };
  g_assert_true (bus_has_message_naming (bus, "espcnupscale", words));
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);

  /* Fixed caps on both sides: 25x16 in, only 97x64 accepted out. */
  GstHarness *h = make_harness (model_path[4][0], 1);
  GstBus *hbus = harness_bus (h);
  gst_harness_set_sink_caps_str (h, "video/x-raw,format=RGB,width=97,height=64");
  gst_harness_set_src_caps (h, caps_for ("RGB", 25, 16));
  GstVideoInfo info;
  g_assert_cmpint (gst_harness_push (h, random_frame (&info, "RGB", 25, 16, 4)), ==, GST_FLOW_NOT_NEGOTIATED);
  const char *const hwords[] = { "x4", "25x16", "100x64", "97", NULL };
  g_assert_true (bus_has_message_naming (hbus, "espcnupscale", hwords));
  harness_bus_release (h, hbus);
  gst_harness_teardown (h);
}

/* ---- conversions ---- */

static void
test_yuv_conversion_of_known_colours (void)
{
  GstVideoColorimetry limited, full;
  gst_video_colorimetry_from_string (&limited, "bt601");
  gst_video_colorimetry_from_string (&full, "1:4:0:0");  /* full range, BT.601 matrix */
  g_assert_cmpint (full.range, ==, GST_VIDEO_COLOR_RANGE_0_255);
  EspcnYuvCoeffs cl, cf;
  espcn_yuv_coeffs_init (&cl, &limited);
  espcn_yuv_coeffs_init (&cf, &full);

  /* A 2x2 frame in I420-like planes. */
  guint8 y[4], u[1], v[1];
  EspcnYuvFrame f = { { y, u, v }, { 2, 1, 1 }, { 1, 1, 1 }, 2, 2 };
  struct {
    guint8 r, g, b, yl, yf;
  } colours[] = { { 0, 0, 0, 16, 0 }, { 255, 255, 255, 235, 255 }, { 255, 0, 0, 81, 76 },
                  { 0, 255, 0, 145, 150 }, { 0, 0, 255, 41, 29 } };
  for (guint i = 0; i < G_N_ELEMENTS (colours); i++) {
    guint8 rgb[12], back[12];
    for (int p = 0; p < 4; p++) {
      rgb[3 * p] = colours[i].r;
      rgb[3 * p + 1] = colours[i].g;
      rgb[3 * p + 2] = colours[i].b;
    }
    for (int k = 0; k < 2; k++) {
      EspcnYuvCoeffs *c = k ? &cf : &cl;
      espcn_rgb_to_yuv (c, rgb, 6, &f);
      g_assert_cmpint (y[0], ==, k ? colours[i].yf : colours[i].yl);
      g_assert_cmpint (y[3], ==, y[0]);
      espcn_yuv_to_rgb (c, &f, back, 6);
      for (int j = 0; j < 12; j++)
        g_assert_cmpint (abs (back[j] - rgb[j]), <=, 3);
    }
  }
  /* Grey has neutral chroma. */
  guint8 grey[12];
  memset (grey, 128, sizeof grey);
  espcn_rgb_to_yuv (&cl, grey, 6, &f);
  g_assert_cmpint (u[0], ==, 128);
  g_assert_cmpint (v[0], ==, 128);
}

/* ---- luma models ---- */

/* A random luma model (conv 5x5 1->F, 3x3 F->F/2, 3x3 F/2->s^2). */
static EspcnInt8Model *
build_luma_model (EspcnRng *rng, int features, int scale)
{
  g_autoptr (TestLayers) t = test_layers_random_channels (rng, features, scale, FALSE, 1);
  EspcnInt8Model *m = test_layers_build (t);
  g_assert_cmpint (espcn_int8_model_get_channels (m), ==, 1);
  return m;
}

/* The output's Y plane must be the engine's output on the input's Y plane,
 * and every chroma plane GstVideoScaler's cubic scaling of the input's. */
static void
check_luma_output (const EspcnInt8Model *m, const char *format, GstVideoInfo *in_info, GstBuffer *in_buf,
                   GstCaps *out_caps, GstBuffer *out_buf)
{
  int s = espcn_int8_model_get_scale (m);
  int w = GST_VIDEO_INFO_WIDTH (in_info), h = GST_VIDEO_INFO_HEIGHT (in_info), W = w * s, H = h * s;
  GstVideoInfo out_info;
  g_assert_true (gst_video_info_from_caps (&out_info, out_caps));
  g_assert_cmpstr (gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&out_info)), ==, format);
  g_assert_cmpint (GST_VIDEO_INFO_WIDTH (&out_info), ==, W);
  g_assert_cmpint (GST_VIDEO_INFO_HEIGHT (&out_info), ==, H);
  GstVideoFrame in, out;
  g_assert_true (gst_video_frame_map (&in, in_info, in_buf, GST_MAP_READ));
  g_assert_true (gst_video_frame_map (&out, &out_info, out_buf, GST_MAP_READ));

  const EspcnPixelLayout y8 = ESPCN_PIXEL_LAYOUT_Y8;
  g_autofree guint8 *ref = g_malloc ((gsize) W * H);
  g_autoptr (GError) err = NULL;
  g_assert_true (espcn_engine_process_reference (m, GST_VIDEO_FRAME_PLANE_DATA (&in, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (&in, 0), &y8, w, h, ref, (gsize) W, &y8, &err));
  g_assert_no_error (err);
  for (int y = 0; y < H; y++) {
    const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&out, 0)
        + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&out, 0);
    for (int x = 0; x < W; x++)
      if (row[x] != ref[(gsize) y * W + x])
        g_error ("%s x%d %dx%d: Y at (%d, %d) is %u, the engine gives %u", format, s, w, h, x, y, row[x],
            ref[(gsize) y * W + x]);
  }

  for (guint p = 1; p < GST_VIDEO_FRAME_N_PLANES (&in); p++) {
    gint comp[GST_VIDEO_MAX_COMPONENTS];
    gst_video_format_info_component (in.info.finfo, p, comp);
    gboolean pairs = comp[1] >= 0;
    int iw = GST_VIDEO_FRAME_COMP_WIDTH (&in, comp[0]), ih = GST_VIDEO_FRAME_COMP_HEIGHT (&in, comp[0]);
    int ow = GST_VIDEO_FRAME_COMP_WIDTH (&out, comp[0]), oh = GST_VIDEO_FRAME_COMP_HEIGHT (&out, comp[0]);
    gsize row_bytes = (gsize) ow * (pairs ? 2 : 1);
    GstVideoScaler *hs = gst_video_scaler_new (GST_VIDEO_RESAMPLER_METHOD_CUBIC, GST_VIDEO_SCALER_FLAG_NONE, 0,
        iw, ow, NULL);
    GstVideoScaler *vs = gst_video_scaler_new (GST_VIDEO_RESAMPLER_METHOD_CUBIC, GST_VIDEO_SCALER_FLAG_NONE, 0,
        ih, oh, NULL);
    g_autofree guint8 *want = g_malloc (row_bytes * oh);
    gst_video_scaler_2d (hs, vs, pairs ? GST_VIDEO_FORMAT_NV12 : GST_VIDEO_FORMAT_GRAY8,
        GST_VIDEO_FRAME_PLANE_DATA (&in, p), GST_VIDEO_FRAME_PLANE_STRIDE (&in, p), want, (gint) row_bytes, 0, 0,
        ow, oh);
    gst_video_scaler_free (hs);
    gst_video_scaler_free (vs);
    for (int y = 0; y < oh; y++) {
      const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&out, p)
          + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&out, p);
      for (gsize x = 0; x < row_bytes; x++)
        if (row[x] != want[(gsize) y * row_bytes + x])
          g_error ("%s x%d %dx%d: plane %u byte (%" G_GSIZE_FORMAT ", %d) is %u, GstVideoScaler gives %u", format,
              s, w, h, p, x, y, row[x], want[(gsize) y * row_bytes + x]);
    }
  }
  gst_video_frame_unmap (&in);
  gst_video_frame_unmap (&out);
}

static void
test_luma_model_upscales_y_like_the_engine_and_chroma_like_gstvideoscaler (void)
{
  static const int sizes[][2] = { { 7, 5 }, { 16, 10 }, { 1, 1 } };
  for (int s = 2; s <= 4; s++)
    for (guint f = 0; f < G_N_ELEMENTS (luma_formats); f++)
      for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
        GstHarness *h = make_harness (luma_path[s], 1 + (s + f) % 2);
        gst_harness_set_src_caps (h, caps_for (luma_formats[f], sizes[i][0], sizes[i][1]));
        gst_buffer_unref (push_and_check (h, luma[s], luma_formats[f], sizes[i][0], sizes[i][1],
            300 + 10 * f + i));
        gst_harness_teardown (h);
      }
}

/* The message a harness's caps and first buffer in `format` get from the
 * element: the caps event is refused by the pad's accept-caps check, which
 * warns, and the buffer is not negotiated. */
static GError *
refusal_of (const char *model_file, const char *format, gchar **debug)
{
  GstHarness *h = make_harness (model_file, 1);
  GstBus *bus = harness_bus (h);
  gst_harness_set_src_caps (h, caps_for (format, 8, 6));
  GstVideoInfo info;
  g_assert_cmpint (gst_harness_push (h, random_frame (&info, format, 8, 6, 1)), ==, GST_FLOW_NOT_NEGOTIATED);
  g_assert_cmpuint (gst_harness_buffers_received (h), ==, 0);
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
  g_assert_nonnull (m);
  g_assert_cmpint (GST_MESSAGE_TYPE (m), ==, GST_MESSAGE_WARNING);
  GError *err = NULL;
  gst_message_parse_warning (m, &err, debug);
  gst_message_unref (m);
  g_assert_null (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING));  /* once */
  harness_bus_release (h, bus);
  gst_harness_teardown (h);
  return err;
}

static void
test_format_the_model_cannot_take_is_refused_naming_model_and_format (void)
{
  static const char *rgb_formats[] = { "RGB", "BGRx", "ARGB" };
  for (guint i = 0; i < G_N_ELEMENTS (rgb_formats); i++) {
    g_autofree gchar *debug = NULL;
    g_autoptr (GError) err = refusal_of (luma_path[2], rgb_formats[i], &debug);
    g_assert_error (err, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION);
    g_assert_nonnull (strstr (err->message, "luma"));
    g_assert_nonnull (strstr (err->message, luma_path[2]));
    g_assert_nonnull (strstr (err->message, rgb_formats[i]));
  }
  /* And the other way: GRAY8 and 4:2:2 or 4:4:4 YUV need a luma model. */
  static const char *yuv_formats[] = { "GRAY8", "Y42B", "Y444" };
  for (guint i = 0; i < G_N_ELEMENTS (yuv_formats); i++) {
    g_autofree gchar *debug = NULL;
    g_autoptr (GError) err = refusal_of (model_path[2][0], yuv_formats[i], &debug);
    g_assert_error (err, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION);
    g_assert_nonnull (strstr (err->message, "RGB"));
    g_assert_nonnull (strstr (err->message, model_path[2][0]));
    g_assert_nonnull (strstr (err->message, yuv_formats[i]));
  }
}

/* The sink pad's caps with only their formats: "video/x-raw,format=...". */
static GstCaps *
sink_formats (GstElement *e)
{
  GstPad *pad = gst_element_get_static_pad (e, "sink");
  GstCaps *caps = gst_pad_query_caps (pad, NULL);
  GstCaps *formats = gst_caps_new_empty ();
  for (guint i = 0; i < gst_caps_get_size (caps); i++) {
    GstStructure *st = gst_structure_new_empty ("video/x-raw");
    gst_structure_set_value (st, "format", gst_structure_get_value (gst_caps_get_structure (caps, i), "format"));
    gst_caps_append_structure (formats, st);
  }
  gst_caps_unref (caps);
  gst_object_unref (pad);
  return formats;
}

static void
test_caps_offer_the_formats_of_the_model_kind (void)
{
  GstElement *e = make_element (luma_path[4], 1);
  assert_caps_equal (sink_formats (e), "video/x-raw,format={I420,YV12,NV12,NV21,Y42B,Y444,GRAY8}");
  assert_caps_equal (transform (e, GST_PAD_SRC, "video/x-raw,format={RGB,NV12,GRAY8},width=8,height=8"),
      "video/x-raw,format={NV12,GRAY8},width=2,height=2");
  assert_caps_equal (transform (e, GST_PAD_SINK, "video/x-raw,format=BGRA,width=2,height=2"), "EMPTY");
  gst_object_unref (e);

  e = make_element (model_path[4][0], 1);
  assert_caps_equal (sink_formats (e),
      "video/x-raw,format={RGB,BGR,RGBx,BGRx,xRGB,xBGR,RGBA,BGRA,ARGB,ABGR,I420,NV12}");
  assert_caps_equal (transform (e, GST_PAD_SRC, "video/x-raw,format={Y444,NV12,GRAY8},width=8,height=8"),
      "video/x-raw,format=NV12,width=2,height=2");
  gst_object_unref (e);

  /* A source with no format of its own negotiates a format the model takes. */
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc num-buffers=1 ! video/x-raw,width=8,height=8 ! "
      "espcnupscale name=up model=\"%s\" ! fakesink", luma_path[2]);
  int w, h;
  run_and_get_input_size (desc, &w, &h);
  g_assert_cmpint (w, ==, 8);
}

/* A folder with lsq.bin (RGB x4) and, when `with_luma`, lsq-y.bin (luma x4). */
static gchar *
presets_folder (gboolean with_luma)
{
  gchar *dir = g_build_filename (tmp_dir, with_luma ? "presets-with-luma" : "presets-rgb-only", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *rgb = g_build_filename (dir, "lsq.bin", NULL);
  g_assert_true (espcn_int8_model_save (model[4][1], rgb, &err));
  if (with_luma) {
    g_autofree gchar *y = g_build_filename (dir, "lsq-y.bin", NULL);
    g_assert_true (espcn_int8_model_save (luma[4], y, &err));
  }
  return dir;
}

static void
remove_presets_folder (gchar *dir)
{
  const char *names[] = { "lsq.bin", "lsq-y.bin" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree gchar *p = g_build_filename (dir, names[i], NULL);
    g_unlink (p);
  }
  g_rmdir (dir);
  g_free (dir);
}

static GstHarness *
default_model_harness (const char *format, int w, int h)
{
  GstHarness *hs = gst_harness_new ("espcnupscale");
  gst_harness_set_src_caps (hs, caps_for (format, w, h));
  return hs;
}

static void
test_default_model_is_the_luma_preset_for_yuv_and_the_rgb_preset_for_rgb (void)
{
  gchar *dir = presets_folder (TRUE);
  g_setenv ("ESPCN_MODEL_PATH", dir, TRUE);
  static const char *yuv[] = { "I420", "NV12", "GRAY8", "Y444" };
  for (guint i = 0; i < G_N_ELEMENTS (yuv); i++) {
    GstHarness *h = default_model_harness (yuv[i], 10, 6);
    gst_buffer_unref (push_and_check (h, luma[4], yuv[i], 10, 6, 50 + i));
    gchar *name = NULL;
    g_object_get (h->element, "model", &name, NULL);
    g_assert_cmpstr (name, ==, "lsq.bin");
    g_free (name);
    gst_harness_teardown (h);
  }
  GstHarness *h = default_model_harness ("BGRx", 10, 6);
  gst_buffer_unref (push_and_check (h, model[4][1], "BGRx", 10, 6, 60));
  /* The same element renegotiated from RGB to YUV switches to the luma preset. */
  gst_harness_set_src_caps (h, caps_for ("I420", 10, 6));
  gst_buffer_unref (push_and_check (h, luma[4], "I420", 10, 6, 61));
  gst_harness_teardown (h);

  /* An explicit model=lsq.bin is the RGB model for every format. */
  GstElement *e = make_element ("lsq.bin", 1);
  GstHarness *he = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps (he, caps_for ("I420", 10, 6));
  gst_buffer_unref (push_and_check (he, model[4][1], "I420", 10, 6, 62));
  gst_harness_teardown (he);
  remove_presets_folder (dir);

  /* Without lsq-y.bin, I420 and NV12 go through the RGB preset, converted;
   * GRAY8 is refused. */
  dir = presets_folder (FALSE);
  g_setenv ("ESPCN_MODEL_PATH", dir, TRUE);
  static const char *converted[] = { "I420", "NV12" };
  for (guint i = 0; i < G_N_ELEMENTS (converted); i++) {
    h = default_model_harness (converted[i], 10, 6);
    gst_buffer_unref (push_and_check (h, model[4][1], converted[i], 10, 6, 70 + i));
    gst_harness_teardown (h);
  }
  g_autofree gchar *debug = NULL;
  g_autoptr (GError) err = refusal_of (NULL, "GRAY8", &debug);
  g_assert_error (err, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION);
  g_assert_nonnull (strstr (err->message, "lsq.bin"));
  g_assert_nonnull (strstr (err->message, "GRAY8"));
  g_unsetenv ("ESPCN_MODEL_PATH");
  remove_presets_folder (dir);
}

static void
test_luma_model_upscales_interlaced_fields_one_by_one (void)
{
  /* 12 rows: 3 chroma rows per field in 4:2:0, an odd count. */
  check_fields_upscaled_one_by_one (luma_path[2], luma_formats, G_N_ELEMENTS (luma_formats), 12);
  check_fields_upscaled_one_by_one (luma_path[3], luma_formats, G_N_ELEMENTS (luma_formats), 8);
}

static void
test_model_of_the_other_kind_takes_over_while_playing (void)
{
  GstElement *e = make_element (model_path[2][0], 2);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (e, bus);
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps (h, caps_for ("I420", 20, 10));
  gst_buffer_unref (push_and_check (h, model[2][0], "I420", 20, 10, 1));
  /* RGB -> luma of the same scale: the next I420 frame is upscaled on Y. */
  g_object_set (e, "model", luma_path[2], NULL);
  gst_buffer_unref (push_and_check (h, luma[2], "I420", 20, 10, 2));
  /* luma x2 -> luma x4, then back to RGB x4. */
  g_object_set (e, "model", luma_path[4], NULL);
  gst_buffer_unref (push_and_check (h, luma[4], "I420", 20, 10, 3));
  g_object_set (e, "model", model_path[4][1], NULL);
  gst_buffer_unref (push_and_check (h, model[4][1], "I420", 20, 10, 4));
  g_assert_null (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING));
  gst_element_set_bus (e, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

static void
test_luma_model_while_playing_renegotiates_the_format_upstream (void)
{
  /* BGRx from the source: the RGB model takes it as it is; the luma model of
   * the same scale, set at the fifth frame, does not, so videoconvert must
   * switch to a format it takes, with no error and no frame lost. */
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc num-buffers=20 ! video/x-raw,format=BGRx,width=32,"
      "height=16 ! videoconvert ! espcnupscale name=up model=\"%s\" ! fakesink name=sink signal-handoffs=true",
      model_path[2][0]);
  GstElement *p = gst_parse_launch (desc, NULL);
  SwapAtFrame swap = { gst_bin_get_by_name (GST_BIN (p), "up"), luma_path[2], 0, 0, 0 };
  GstPad *sinkpad = gst_element_get_static_pad (swap.element, "sink");
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER, swap_model_at_frame_five, &swap, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  gint count = 0;
  g_signal_connect (sink, "handoff", G_CALLBACK (count_buffer), &count);
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstMessage *m = wait_eos_or_error (p);
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;
    g_autofree gchar *debug = NULL;
    gst_message_parse_error (m, &err, &debug);
    g_error ("%s (%s)", err->message, debug);
  }
  gst_message_unref (m);
  GstCaps *caps = gst_pad_get_current_caps (sinkpad);
  const char *format = gst_structure_get_string (gst_caps_get_structure (caps, 0), "format");
  gboolean luma_format = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (luma_formats); i++)
    luma_format |= g_strcmp0 (format, luma_formats[i]) == 0;
  if (!luma_format)
    g_error ("the luma model ended up with %s input", format);
  g_assert_cmpint (swap.frames, ==, 20);
  g_assert_cmpint (g_atomic_int_get (&count), ==, 20);
  gst_caps_unref (caps);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sinkpad);
  gst_object_unref (sink);
  gst_object_unref (swap.element);
  gst_object_unref (p);
}

static void
test_luma_model_output_keeps_colorimetry_and_chroma_site (void)
{
  static const char *formats[] = { "I420", "NV12", "Y42B" };
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstHarness *h = make_harness (luma_path[3], 1);
    GstCaps *caps = caps_for (formats[i], 10, 8);
    gst_caps_set_simple (caps, "colorimetry", G_TYPE_STRING, "bt709", "chroma-site", G_TYPE_STRING, "mpeg2", NULL);
    gst_harness_set_src_caps (h, caps);
    gst_buffer_unref (push_and_check (h, luma[3], formats[i], 10, 8, 90 + i));
    GstCaps *out = gst_pad_get_current_caps (h->sinkpad);
    const GstStructure *st = gst_caps_get_structure (out, 0);
    g_assert_cmpstr (gst_structure_get_string (st, "colorimetry"), ==, "bt709");
    g_assert_cmpstr (gst_structure_get_string (st, "chroma-site"), ==, "mpeg2");
    gst_caps_unref (out);
    gst_harness_teardown (h);
  }
}

static void
test_luma_model_scales_metas_and_reports_latency (void)
{
  GstHarness *h = make_harness (luma_path[4], 1);
  gst_harness_set_src_caps (h, caps_for ("NV12", 20, 12));
  GstVideoInfo info;
  GstBuffer *in = random_frame (&info, "NV12", 20, 12, 5);
  gst_buffer_add_video_region_of_interest_meta (in, "face", 4, 4, 10, 8);
  g_assert_cmpint (gst_harness_push (h, in), ==, GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull (h);
  GstVideoRegionOfInterestMeta *roi = gst_buffer_get_video_region_of_interest_meta (out);
  g_assert_nonnull (roi);
  g_assert_cmpuint (roi->x, ==, 16);
  g_assert_cmpuint (roi->y, ==, 16);
  g_assert_cmpuint (roi->w, ==, 40);
  g_assert_cmpuint (roi->h, ==, 32);
  gst_buffer_unref (out);
  g_assert_cmpuint (gst_harness_query_latency (h), >, 0);
  gst_harness_teardown (h);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  g_autoptr (GError) err = NULL;
  tmp_dir = espcn_test_make_tmp_dir ("espcn-gst-test-XXXXXX");
  g_assert_no_error (err);
  EspcnRng rng;
  espcn_rng_seed (&rng, 2024);
  for (int s = 2; s <= 4; s++)
    for (int k = 0; k < 2; k++) {
      g_autoptr (TestLayers) t = test_layers_random (&rng, 8, s, k == 1);
      model[s][k] = test_layers_build (t);
      g_autofree gchar *name = g_strdup_printf ("m%d-%d.bin", s, k);
      model_path[s][k] = g_build_filename (tmp_dir, name, NULL);
      g_assert_true (espcn_int8_model_save (model[s][k], model_path[s][k], &err));
    }
  for (int s = 2; s <= 4; s++) {
    luma[s] = build_luma_model (&rng, 8, s);
    g_autofree gchar *name = g_strdup_printf ("luma%d.bin", s);
    luma_path[s] = g_build_filename (tmp_dir, name, NULL);
    g_assert_true (espcn_int8_model_save (luma[s], luma_path[s], &err));
  }

  g_test_add_func ("/espcnupscale/every-format-and-scale-negotiates-and-matches-reference",
      test_every_format_and_scale_negotiates_and_matches_reference);
  g_test_add_func ("/espcnupscale/sizes-and-padded-strides-match-reference",
      test_sizes_and_padded_strides_match_reference);
  g_test_add_func ("/espcnupscale/thread-count-does-not-change-output", test_thread_count_does_not_change_output);
  g_test_add_func ("/espcnupscale/bad-models-fail-the-state-change-with-an-error",
      test_bad_models_fail_the_state_change_with_an_error);
  g_test_add_func ("/espcnupscale/hundred-state-cycles", test_hundred_state_cycles);
  g_test_add_func ("/espcnupscale/bad-buffer-is-dropped-with-a-warning", test_bad_buffer_is_dropped_with_a_warning);
  g_test_add_func ("/espcnupscale/renegotiation-to-another-size", test_renegotiation_to_another_size);
  g_test_add_func ("/espcnupscale/eos-and-flushing-seek", test_eos_and_flushing_seek);
  g_test_add_func ("/espcnupscale/live-source-with-sync-sink", test_live_source_with_sync_sink);
  g_test_add_func ("/espcnupscale/videoconvert-and-capsfilters-negotiate",
      test_videoconvert_and_capsfilters_negotiate);
  g_test_add_func ("/espcnupscale/transform-caps-maps-sizes", test_transform_caps_maps_sizes);
  g_test_add_func ("/espcnupscale/properties-report-the-model", test_properties_report_the_model);
  g_test_add_func ("/espcnupscale/model-of-another-scale-renegotiates-while-playing",
      test_model_of_another_scale_renegotiates_while_playing);
  g_test_add_func ("/espcnupscale/scalers-on-both-sides-give-the-model-the-small-frame",
      test_scalers_on_both_sides_give_the_model_the_small_frame);
  g_test_add_func ("/espcnupscale/metas-are-scaled-copied-or-dropped-like-videoscale",
      test_metas_are_scaled_copied_or_dropped_like_videoscale);
  g_test_add_func ("/espcnupscale/interlaced-fields-are-upscaled-one-by-one",
      test_interlaced_fields_are_upscaled_one_by_one);
  g_test_add_func ("/espcnupscale/interlacing-that-cannot-be-split-is-refused-with-a-message",
      test_interlacing_that_cannot_be_split_is_refused_with_a_message);
  g_test_add_func ("/espcnupscale/navigation-events-reach-upstream-in-input-coordinates",
      test_navigation_events_reach_upstream_in_input_coordinates);
  g_test_add_func ("/espcnupscale/latency-includes-processing-time-and-is-announced",
      test_latency_includes_processing_time_and_is_announced);
  g_test_add_func ("/espcnupscale/model-of-another-scale-renegotiates-upstream-for-a-fixed-output",
      test_model_of_another_scale_renegotiates_upstream_for_a_fixed_output);
  g_test_add_func ("/espcnupscale/scale-and-quantization-method-notify-on-model-change",
      test_scale_and_quantization_method_notify_on_model_change);
  g_test_add_func ("/espcnupscale/default-model-is-the-x4-lsq-preset", test_default_model_is_the_x4_lsq_preset);
  g_test_add_func ("/espcnupscale/bare-names-are-not-looked-up-in-the-current-folder",
      test_bare_names_are_not_looked_up_in_the_current_folder);
  g_test_add_func ("/espcnupscale/resolved-model-file-is-logged", test_resolved_model_file_is_logged);
  g_test_add_func ("/espcnupscale/gst-inspect-shows-the-models-folder-and-names",
      test_gst_inspect_shows_the_models_folder_and_names);
  g_test_add_func ("/espcnupscale/metadata-and-properties-follow-videoscale-conventions",
      test_metadata_and_properties_follow_videoscale_conventions);
  g_test_add_func ("/espcnupscale/out-of-memory-is-not-reported-as-a-full-disk",
      test_out_of_memory_is_not_reported_as_a_full_disk);
  g_test_add_func ("/espcnupscale/size-not-a-multiple-of-the-scale-is-named-in-the-failure",
      test_size_not_a_multiple_of_the_scale_is_named_in_the_failure);
  g_test_add_func ("/espcnupscale/yuv-conversion-of-known-colours", test_yuv_conversion_of_known_colours);
  g_test_add_func ("/espcnupscale/luma-model-upscales-y-like-the-engine-and-chroma-like-gstvideoscaler",
      test_luma_model_upscales_y_like_the_engine_and_chroma_like_gstvideoscaler);
  g_test_add_func ("/espcnupscale/format-the-model-cannot-take-is-refused-naming-model-and-format",
      test_format_the_model_cannot_take_is_refused_naming_model_and_format);
  g_test_add_func ("/espcnupscale/caps-offer-the-formats-of-the-model-kind",
      test_caps_offer_the_formats_of_the_model_kind);
  g_test_add_func ("/espcnupscale/luma-model-upscales-interlaced-fields-one-by-one",
      test_luma_model_upscales_interlaced_fields_one_by_one);
  g_test_add_func ("/espcnupscale/model-of-the-other-kind-takes-over-while-playing",
      test_model_of_the_other_kind_takes_over_while_playing);
  g_test_add_func ("/espcnupscale/luma-model-while-playing-renegotiates-the-format-upstream",
      test_luma_model_while_playing_renegotiates_the_format_upstream);
  g_test_add_func ("/espcnupscale/luma-model-output-keeps-colorimetry-and-chroma-site",
      test_luma_model_output_keeps_colorimetry_and_chroma_site);
  g_test_add_func ("/espcnupscale/luma-model-scales-metas-and-reports-latency",
      test_luma_model_scales_metas_and_reports_latency);
  g_test_add_func ("/espcnupscale/default-model-is-the-luma-preset-for-yuv-and-the-rgb-preset-for-rgb",
      test_default_model_is_the_luma_preset_for_yuv_and_the_rgb_preset_for_rgb);
  int ret = g_test_run ();

  for (int s = 2; s <= 4; s++)
    for (int k = 0; k < 2; k++) {
      g_unlink (model_path[s][k]);
      g_free (model_path[s][k]);
      espcn_int8_model_unref (model[s][k]);
    }
  for (int s = 2; s <= 4; s++) {
    g_unlink (luma_path[s]);
    g_free (luma_path[s]);
    espcn_int8_model_unref (luma[s]);
  }
  g_autofree gchar *garbage = g_build_filename (tmp_dir, "garbage.bin", NULL);
  g_unlink (garbage);
  g_rmdir (tmp_dir);
  g_free (tmp_dir);
  gst_deinit ();
  return ret;
}
