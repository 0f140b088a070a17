/* Tests of the espcnupscale element: negotiation, output bytes against the core
 * engine's reference, strides, threads, errors, state cycles, renegotiation,
 * seeking, model swaps.  Models are random INT8 models written by the test. */
#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/base/gstbasetransform.h>
#include <glib/gstdio.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/model.h"
#include "espcn-yuv.h"
#include "test-models.h"
#include "test-util.h"

static gchar *tmp_dir;
/* model_path[s][k]: two different random models (k = 0, 1) for each scale s. */
static gchar *model_path[5][2];
static EspcnInt8Model *model[5][2];

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

/* Pushes one random frame through a harness and checks it; returns the output. */
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
    { garbage, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE, "garbage.bin" },
    { NULL, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "model=" },
    { "no-such-preset", GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "no-such-preset" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *desc = cases[i].model
        ? g_strdup_printf ("videotestsrc num-buffers=2 ! espcnupscale model=\"%s\" ! fakesink", cases[i].model)
        : g_strdup ("videotestsrc num-buffers=2 ! espcnupscale ! fakesink");
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
 * buffer, is refused with an error message and GST_FLOW_ERROR; nothing is
 * pushed (GstVideoFilter alone read past such buffers or pushed an unwritten
 * output; found by fuzz-element-transform). */
static void
test_refuses_input_smaller_than_it_claims (void)
{
  GstHarness *h = make_harness (model_path[2][0], 1);
  GstBus *bus = gst_bus_new ();  /* a harness gives its element none */
  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps (h, caps_for ("BGRA", 8, 6));
  GstVideoInfo info;
  GstBuffer *good = random_frame (&info, "BGRA", 8, 6, 7);

  GstBuffer *cut = gst_buffer_copy_region (good, GST_BUFFER_COPY_ALL, 0, GST_VIDEO_INFO_SIZE (&info) - 1);
  g_assert_cmpint (gst_harness_push (h, cut), ==, GST_FLOW_ERROR);

  GstBuffer *meta_buf = gst_buffer_copy (good);
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0 };
  gint stride[GST_VIDEO_MAX_PLANES] = { 8 * 4 * 2 };  /* rows twice as far apart as the buffer holds */
  gst_buffer_add_video_meta_full (meta_buf, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_BGRA, 8, 6, 1, offset, stride);
  g_assert_cmpint (gst_harness_push (h, meta_buf), ==, GST_FLOW_ERROR);

  g_assert_cmpuint (gst_harness_buffers_received (h), ==, 0);
  int errors = 0;
  GstMessage *m;
  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR)) != NULL) {
    errors++;
    gst_message_unref (m);
  }
  g_assert_cmpint (errors, ==, 2);

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

static void
test_videoconvert_and_capsfilters_negotiate (void)
{
  /* Downstream asks for 96x64 with a x4 model: upstream must produce 24x16. */
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! videoconvert ! espcnupscale name=up "
      "model=\"%s\" ! videoconvert ! video/x-raw,format=I420,width=96,height=64 ! fakesink name=sink",
      model_path[4][0]);
  GstElement *p = gst_parse_launch (desc, NULL);
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstMessage *m = wait_eos_or_error (p);
  g_assert_cmpint (GST_MESSAGE_TYPE (m), ==, GST_MESSAGE_EOS);
  gst_message_unref (m);
  GstElement *e = gst_bin_get_by_name (GST_BIN (p), "up");
  GstPad *sinkpad = gst_element_get_static_pad (e, "sink");
  GstCaps *caps = gst_pad_get_current_caps (sinkpad);
  int w, h;
  g_assert_true (gst_structure_get_int (gst_caps_get_structure (caps, 0), "width", &w));
  g_assert_true (gst_structure_get_int (gst_caps_get_structure (caps, 0), "height", &h));
  g_assert_cmpint (w, ==, 24);
  g_assert_cmpint (h, ==, 16);
  gst_caps_unref (caps);
  gst_object_unref (sinkpad);
  gst_object_unref (e);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);

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
  assert_caps_equal (transform (e, GST_PAD_SINK, "video/x-raw,width=[2,10],height=4"),
      "video/x-raw,width=[6,30,3],height=12");
  assert_caps_equal (transform (e, GST_PAD_SRC, "video/x-raw,width=[4,31],height=[1,3]"),
      "video/x-raw,width=[2,10],height=1");
  assert_caps_equal (transform (e, GST_PAD_SRC, "video/x-raw,width={6,7,9},height=[3,5]"),
      "video/x-raw,width={2,3},height=1");
  /* Outputs that would overflow an int are refused. */
  assert_caps_equal (transform (e, GST_PAD_SINK, "video/x-raw,width=715827883,height=4"), "EMPTY");
  assert_caps_equal (transform (e, GST_PAD_SINK, "video/x-raw,width=[1,2147483647],height=4"),
      "video/x-raw,width=[3,2147483646,3],height=12");
  gst_object_unref (e);

  /* Without a model every supported scale is possible. */
  GstElement *none = gst_element_factory_make ("espcnupscale", NULL);
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
  g_object_get (e, "scale", &scale, "method", &method, NULL);
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
test_model_swap_while_playing (void)
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

  /* Different scale: refused with a warning, the running model stays. */
  g_object_set (e, "model", model_path[3][0], NULL);
  GstMessage *m = pop_warning (bus);
  g_assert_nonnull (m);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;
  gst_message_parse_warning (m, &err, &debug);
  g_assert_nonnull (strstr (debug, "x3"));
  gst_message_unref (m);
  gchar *name = NULL;
  gint scale;
  g_object_get (e, "model", &name, "scale", &scale, NULL);
  g_assert_cmpstr (name, ==, model_path[2][1]);
  g_assert_cmpint (scale, ==, 2);
  g_free (name);
  gst_buffer_unref (push_and_check (h, model[2][1], "RGBA", 20, 10, 3));

  /* A model that does not load is refused the same way. */
  g_object_set (e, "model", "/nonexistent/model.bin", NULL);
  m = pop_warning (bus);
  g_assert_nonnull (m);
  gst_message_unref (m);
  /* n-threads may change while playing, output unchanged in kind. */
  g_object_set (e, "n-threads", 1, NULL);
  gst_buffer_unref (push_and_check (h, model[2][1], "RGBA", 20, 10, 4));

  /* The queued messages hold the element and the element holds the bus. */
  gst_element_set_bus (e, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h);
  gst_object_unref (bus);
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

  g_test_add_func ("/espcnupscale/every-format-and-scale-negotiates-and-matches-reference",
      test_every_format_and_scale_negotiates_and_matches_reference);
  g_test_add_func ("/espcnupscale/sizes-and-padded-strides-match-reference",
      test_sizes_and_padded_strides_match_reference);
  g_test_add_func ("/espcnupscale/thread-count-does-not-change-output", test_thread_count_does_not_change_output);
  g_test_add_func ("/espcnupscale/bad-models-fail-the-state-change-with-an-error",
      test_bad_models_fail_the_state_change_with_an_error);
  g_test_add_func ("/espcnupscale/hundred-state-cycles", test_hundred_state_cycles);
  g_test_add_func ("/espcnupscale/refuses-input-smaller-than-it-claims", test_refuses_input_smaller_than_it_claims);
  g_test_add_func ("/espcnupscale/renegotiation-to-another-size", test_renegotiation_to_another_size);
  g_test_add_func ("/espcnupscale/eos-and-flushing-seek", test_eos_and_flushing_seek);
  g_test_add_func ("/espcnupscale/live-source-with-sync-sink", test_live_source_with_sync_sink);
  g_test_add_func ("/espcnupscale/videoconvert-and-capsfilters-negotiate",
      test_videoconvert_and_capsfilters_negotiate);
  g_test_add_func ("/espcnupscale/transform-caps-maps-sizes", test_transform_caps_maps_sizes);
  g_test_add_func ("/espcnupscale/properties-report-the-model", test_properties_report_the_model);
  g_test_add_func ("/espcnupscale/model-swap-while-playing", test_model_swap_while_playing);
  g_test_add_func ("/espcnupscale/yuv-conversion-of-known-colours", test_yuv_conversion_of_known_colours);
  int ret = g_test_run ();

  for (int s = 2; s <= 4; s++)
    for (int k = 0; k < 2; k++) {
      g_unlink (model_path[s][k]);
      g_free (model_path[s][k]);
      espcn_int8_model_unref (model[s][k]);
    }
  g_autofree gchar *garbage = g_build_filename (tmp_dir, "garbage.bin", NULL);
  g_unlink (garbage);
  g_rmdir (tmp_dir);
  g_free (tmp_dir);
  gst_deinit ();
  return ret;
}
