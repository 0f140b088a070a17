/* Fuzz target: one frame through the espcnupscale element (GstHarness), at a
 * format, size, buffer layout, model and thread count taken from the input; the
 * pixels are the rest of the input.
 *
 * The input buffer is laid out three ways: as the caps say (no meta); with a
 * GstVideoMeta giving its own plane offsets (a leading gap, gaps between planes,
 * planes in reverse order) and padded strides; or with a meta whose one plane's
 * stride is shorter than a row (zero and negative included).  Sometimes the buffer is cut short of what the
 * caps or the meta need, sometimes it is made of two memories.  Buffers wrap a block of exactly their size, so any
 * read past the last plane byte is an ASan report.
 *
 * Properties: a well-formed frame gives GST_FLOW_OK, one output buffer of the
 * output caps' size and no error message, and the same visible output bytes as
 * the same picture pushed without a meta (tight strides); a buffer too small for
 * its caps or meta, a stride shorter than a row, or (with a meta) a plane across
 * two memories is dropped: GST_FLOW_OK, a warning message on the bus, no
 * error message and no output.  No crash, no sanitizer report.
 *
 * The element is linked in and registered statically (no registry, no plugin
 * loading).  A harness is kept across inputs while format, size, colorimetry
 * and model stay the same (n-threads is changed on the running element, which
 * swaps the engine's runner at the next frame); it is rebuilt when they change. */
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <string.h>

#include "engine/model.h"
#include "gstespcnupscale.h"
#include "test-models.h"

#include "fuzz-common.h"

#define N_MODELS 6      /* RGB: scale 2, 3, 4 x int8 / int16 weights */
#define N_LUMA_MODELS 3 /* luma: scale 2, 3, 4, after the RGB ones */
#define MAX_W 64
#define MAX_H 48
#define MAX_AREA 768    /* keeps an x4 frame a few ms under ASan */
#define HEADER 10

/* 0..9 packed RGB (RGB models), 10..11 I420 and NV12 (either kind), 12..15
 * YUV and 16 GRAY8 (luma models). */
static const char *formats[] = { "RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR", "RGBA", "BGRA", "ARGB", "ABGR",
                                 "I420", "NV12", "YV12", "NV21", "Y42B", "Y444", "GRAY8" };
#define FORMAT_GRAY8 16
/* For YUV only: none (BT.601 limited by default), BT.709, BT.601, BT.601 full range. */
static const char *colorimetries[] = { NULL, "bt709", "bt601", "1:4:0:0" };

static gchar *model_dir;
static gchar *model_path[N_MODELS + N_LUMA_MODELS];
static int model_scale[N_MODELS + N_LUMA_MODELS];

static void
remove_models (void)
{
  for (int i = 0; i < N_MODELS + N_LUMA_MODELS; i++)
    if (model_path[i] != NULL)
      g_unlink (model_path[i]);
  if (model_dir != NULL)
    g_rmdir (model_dir);
}

static void
init_once (void)
{
  static gsize once = 0;
  if (!g_once_init_enter (&once))
    return;
  fuzz_glib_init ();
  /* Only the element linked in here: no registry scan, no system plugins. */
  g_setenv ("GST_REGISTRY_DISABLE", "yes", TRUE);
  gst_init (NULL, NULL);
  FUZZ_CHECK (GST_ELEMENT_REGISTER (espcnupscale, NULL), "registering espcnupscale");

  g_autoptr (GError) error = NULL;
  model_dir = g_dir_make_tmp ("fuzz-element-XXXXXX", &error);
  FUZZ_CHECK (model_dir != NULL, "%s", error->message);
  EspcnRng rng;
  espcn_rng_seed (&rng, 20241);
  for (int i = 0; i < N_MODELS; i++) {
    g_autoptr (TestLayers) t = test_layers_random (&rng, 8, 2 + i / 2, i % 2 == 1);
    g_autoptr (EspcnInt8Model) m = test_layers_build (t);
    model_scale[i] = espcn_int8_model_get_scale (m);
    model_path[i] = g_strdup_printf ("%s/x%d-%s.bin", model_dir, model_scale[i], i % 2 ? "i16" : "i8");
    FUZZ_CHECK (espcn_int8_model_save (m, model_path[i], &error), "%s", error->message);
  }
  for (int i = N_MODELS; i < N_MODELS + N_LUMA_MODELS; i++) {
    g_autoptr (TestLayers) t = test_layers_random_channels (&rng, 8, 2 + i - N_MODELS, FALSE, 1);
    g_autoptr (EspcnInt8Model) m = test_layers_build (t);
    model_scale[i] = espcn_int8_model_get_scale (m);
    model_path[i] = g_strdup_printf ("%s/x%d-luma.bin", model_dir, model_scale[i]);
    FUZZ_CHECK (espcn_int8_model_save (m, model_path[i], &error), "%s", error->message);
  }
  atexit (remove_models);
  g_once_init_leave (&once, 1);
}

/* The live harness and what it was built for. */
static struct {
  GstHarness *h;
  GstBus *bus;
  int format, width, height, colorimetry, model;
  guint threads;
  GstVideoInfo out_info;
} live;

static void
drop_harness (void)
{
  if (live.h == NULL)
    return;
  gst_harness_teardown (live.h);
  gst_bus_set_flushing (live.bus, TRUE);
  gst_object_unref (live.bus);
  live.h = NULL;
  live.bus = NULL;
}

static GstCaps *
in_caps (int format, int w, int h, int colorimetry)
{
  GstCaps *c = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, formats[format], "width", G_TYPE_INT, w,
      "height", G_TYPE_INT, h, "framerate", GST_TYPE_FRACTION, 30, 1, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1,
      NULL);
  if (colorimetries[colorimetry] != NULL)
    gst_caps_set_simple (c, "colorimetry", G_TYPE_STRING, colorimetries[colorimetry], NULL);
  return c;
}

static void
ensure_harness (int format, int w, int h, int colorimetry, int model, guint threads)
{
  if (live.h != NULL && live.format == format && live.width == w && live.height == h && live.colorimetry == colorimetry
      && live.model == model) {
    if (live.threads != threads) {
      g_object_set (live.h->element, "n-threads", threads, NULL);
      live.threads = threads;
    }
    return;
  }
  drop_harness ();
  GstElement *e = gst_element_factory_make ("espcnupscale", NULL);
  FUZZ_CHECK (e != NULL, "espcnupscale not registered");
  g_object_set (e, "model", model_path[model], "n-threads", threads, NULL);
  live.bus = gst_bus_new ();
  gst_element_set_bus (e, live.bus);
  live.h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  int s = model_scale[model];
  /* The output size is fixed on the harness's sink pad, so the scale decides it. */
  gst_harness_set_sink_caps (live.h, gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, formats[format],
      "width", G_TYPE_INT, w * s, "height", G_TYPE_INT, h * s, NULL));
  gst_harness_set_src_caps (live.h, in_caps (format, w, h, colorimetry));
  live.format = format;
  live.width = w;
  live.height = h;
  live.colorimetry = colorimetry;
  live.model = model;
  live.threads = threads;
}

/* Row bytes and rows of plane p of a frame of the given info. */
static void
plane_extent (const GstVideoInfo *info, guint p, gsize *row, int *rows)
{
  gint comp[GST_VIDEO_MAX_COMPONENTS];
  gst_video_format_info_component (info->finfo, p, comp);
  int cw = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH (info->finfo, comp[0], GST_VIDEO_INFO_WIDTH (info));
  *rows = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (info->finfo, comp[0], GST_VIDEO_INFO_HEIGHT (info));
  *row = (gsize) cw * GST_VIDEO_FORMAT_INFO_PSTRIDE (info->finfo, comp[0]);
}

/* A buffer that owns a private block of exactly `size` bytes. */
static GstBuffer *
exact_buffer (guint8 *block, gsize size)
{
  return gst_buffer_new_wrapped_full (0, block, size, 0, size, block, g_free);
}

/* Fills bytes from the pixel data, cycling; a fixed pattern without it. */
static void
fill (guint8 *p, gsize n, const FuzzReader *px)
{
  for (gsize i = 0; i < n; i++)
    p[i] = px->n ? px->p[i % px->n] : (guint8) (i * 131 + 7);
}

/* Pushes a buffer; returns the flow, the output buffer (or NULL) and whether an
 * error or a warning message was posted. */
static GstFlowReturn
push (GstBuffer *buf, GstBuffer **out, gboolean *error_posted, gboolean *warning_posted)
{
  GstFlowReturn ret = gst_harness_push (live.h, buf);
  *out = gst_harness_try_pull (live.h);
  *error_posted = *warning_posted = FALSE;
  GstMessage *m;
  while ((m = gst_bus_pop (live.bus)) != NULL) {
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
      *error_posted = TRUE;
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING)
      *warning_posted = TRUE;
    gst_message_unref (m);
  }
  return ret;
}

/* The visible bytes of two output buffers (rows of every plane) are the same. */
static void
check_same_output (GstBuffer *a, GstBuffer *b, const GstVideoInfo *info)
{
  GstVideoFrame fa, fb;
  FUZZ_CHECK (gst_video_frame_map (&fa, (GstVideoInfo *) info, a, GST_MAP_READ), "mapping the output");
  FUZZ_CHECK (gst_video_frame_map (&fb, (GstVideoInfo *) info, b, GST_MAP_READ), "mapping the output");
  for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES (info); p++) {
    gsize row;
    int rows;
    plane_extent (info, p, &row, &rows);
    for (int y = 0; y < rows; y++) {
      const guint8 *ra = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fa, p) + (gsize) y
          * GST_VIDEO_FRAME_PLANE_STRIDE (&fa, p);
      const guint8 *rb = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fb, p) + (gsize) y
          * GST_VIDEO_FRAME_PLANE_STRIDE (&fb, p);
      FUZZ_CHECK (memcmp (ra, rb, row) == 0, "plane %u row %d differs between the strided and the tight input "
          "(%s %dx%d)", p, y, formats[live.format], GST_VIDEO_INFO_WIDTH (info), GST_VIDEO_INFO_HEIGHT (info));
    }
  }
  gst_video_frame_unmap (&fa);
  gst_video_frame_unmap (&fb);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  init_once ();
  FuzzReader rd = { data, size };

  int format = fuzz_u8 (&rd) % G_N_ELEMENTS (formats);
  int w = 1 + fuzz_u8 (&rd) % MAX_W, h = 1 + fuzz_u8 (&rd) % MAX_H;
  if (h > MAX_AREA / w)
    h = MAX_AREA / w;
  guint8 sel = fuzz_u8 (&rd);
  /* A luma model for the formats only it takes, and for I420/NV12 when bit 0 of
   * sel / 18 says so; its scale is 2 + sel % 3. */
  gboolean luma = format >= 12 || (format >= 10 && (sel / 18) % 2 == 1);
  int model = luma ? N_MODELS + sel % 3 : sel % N_MODELS;
  guint threads = 1 + (sel / N_MODELS) % 3;
  /* mode: bits 0-1 layout (0 caps, 1 meta, 2 meta cut short, 3 caps cut short),
   * bit 2 planes in reverse order, bit 3 one stride short, bits 4-5 its plane,
   * bits 6-7 colorimetry (YUV only). */
  guint8 mode = fuzz_u8 (&rd);
  guint8 lead = fuzz_u8 (&rd);
  guint8 pad[3] = { fuzz_u8 (&rd), fuzz_u8 (&rd), fuzz_u8 (&rd) };
  guint8 cut = fuzz_u8 (&rd);
  FuzzReader px = rd;

  gboolean yuv = format >= 10 && format != FORMAT_GRAY8;
  int colorimetry = yuv ? mode >> 6 : 0;
  ensure_harness (format, w, h, colorimetry, model, threads);

  GstVideoInfo info;
  g_autoptr (GstCaps) caps = in_caps (format, w, h, colorimetry);
  FUZZ_CHECK (gst_video_info_from_caps (&info, caps), "input caps");
  guint n_planes = GST_VIDEO_INFO_N_PLANES (&info);
  int layout = mode & 3;
  gboolean with_meta = layout == 1 || layout == 2;
  gboolean short_stride = with_meta && (mode & 8) != 0;
  guint short_plane = ((mode >> 4) & 3) % n_planes;

  /* lead: bits 0-5 the first plane's offset (meta layouts), bit 6 the buffer in
   * two memories split halfway. */
  gboolean split = (lead & 0x40) != 0;
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0 };
  gsize plane_end[GST_VIDEO_MAX_PLANES] = { 0 };
  gint stride[GST_VIDEO_MAX_PLANES] = { 0 };
  gsize need;   /* bytes the frame needs: caps size, or the end of the last plane row */
  if (with_meta) {
    gsize cursor = lead % 64, end = 0;
    for (guint k = 0; k < n_planes; k++) {
      guint p = (mode & 4) ? n_planes - 1 - k : k;
      gsize row;
      int rows;
      plane_extent (&info, p, &row, &rows);
      gint64 st = (gint64) row + (pad[p] & 0x3f);
      /* Short: row - 1 down to row - 64, so zero and negative strides too. */
      if (short_stride && p == short_plane)
        st = (gint64) row - 1 - (pad[p] & 0x3f);
      stride[p] = (gint) st;
      offset[p] = cursor;
      /* The end of the plane's last row, or of its first when rows go backwards. */
      plane_end[p] = cursor + (gsize) MAX ((gint64) (rows - 1) * st, 0) + row;
      end = MAX (end, plane_end[p]);
      cursor = MAX (cursor + (gsize) MAX ((gint64) rows * st, 0), plane_end[p]) + (pad[p] >> 6) * 7;
    }
    need = end;
  } else {
    need = GST_VIDEO_INFO_SIZE (&info);
  }
  gboolean cut_short = layout >= 2;
  gsize len = need;
  if (cut_short)
    len = need - MIN ((gsize) cut + 1, need);
  gboolean valid = !cut_short && !short_stride;
  /* A GstVideoMeta plane is mapped from the one memory holding its first byte, so
   * with a meta a plane across the split must be refused (without one, the
   * buffer is mapped whole). */
  gsize half = len / 2;
  gboolean straddles = FALSE;
  if (split && with_meta)
    for (guint p = 0; p < n_planes; p++)
      straddles |= offset[p] < half && plane_end[p] > half;
  valid = valid && !straddles;

  GstBuffer *buf;
  if (split && len >= 2) {
    guint8 *b1 = g_malloc (half), *b2 = g_malloc (len - half);
    fill (b1, half, &px);
    FuzzReader rest = { px.p, px.n };
    fill (b2, len - half, &rest);
    buf = exact_buffer (b1, half);
    gst_buffer_append_memory (buf, gst_memory_new_wrapped (0, b2, len - half, 0, len - half, b2, g_free));
  } else {
    guint8 *block = g_malloc (MAX (len, 1));
    fill (block, len, &px);
    buf = exact_buffer (block, len);
  }
  if (with_meta)
    gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_INFO_FORMAT (&info), w, h, n_planes,
        offset, stride);
  GstBuffer *keep = valid && with_meta ? gst_buffer_ref (buf) : NULL;

  GstBuffer *out = NULL;
  gboolean error_posted, warning_posted;
  GstFlowReturn ret = push (buf, &out, &error_posted, &warning_posted);

  if (!valid) {
    FUZZ_CHECK (ret == GST_FLOW_OK && out == NULL && warning_posted && !error_posted, "a bad buffer (%s %dx%d, %"
        G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes%s, %s, stride of plane %u %s) gave flow %s, %s output, %s "
        "warning, %s error message", formats[format], w, h, len, need, straddles ? ", a plane across two memories" : "",
        with_meta ? "meta" : "no meta", short_plane, short_stride ? "short" : "fine", gst_flow_get_name (ret),
        out ? "an" : "no", warning_posted ? "a" : "no", error_posted ? "an" : "no");
    return 0;
  }
  FUZZ_CHECK (ret == GST_FLOW_OK && out != NULL && !error_posted, "a good buffer (%s %dx%d, %s) gave flow %s, "
      "%s output, %s error message", formats[format], w, h, with_meta ? "meta" : "no meta", gst_flow_get_name (ret),
      out ? "an" : "no", error_posted ? "an" : "no");
  g_autoptr (GstCaps) out_caps = gst_pad_get_current_caps (live.h->sinkpad);
  GstVideoInfo out_info;
  FUZZ_CHECK (out_caps != NULL && gst_video_info_from_caps (&out_info, out_caps), "output caps");
  int s = model_scale[model];
  FUZZ_CHECK (GST_VIDEO_INFO_WIDTH (&out_info) == w * s && GST_VIDEO_INFO_HEIGHT (&out_info) == h * s
      && GST_VIDEO_INFO_FORMAT (&out_info) == GST_VIDEO_INFO_FORMAT (&info), "output caps %dx%d for %dx%d x%d",
      GST_VIDEO_INFO_WIDTH (&out_info), GST_VIDEO_INFO_HEIGHT (&out_info), w, h, s);
  FUZZ_CHECK (gst_buffer_get_size (out) == GST_VIDEO_INFO_SIZE (&out_info), "output of %" G_GSIZE_FORMAT
      " bytes, caps say %" G_GSIZE_FORMAT, gst_buffer_get_size (out), GST_VIDEO_INFO_SIZE (&out_info));

  if (keep != NULL) {
    /* The same picture in the caps' own layout must give the same output. */
    guint8 *tblock = g_malloc (GST_VIDEO_INFO_SIZE (&info));
    memset (tblock, 0, GST_VIDEO_INFO_SIZE (&info));
    GstBuffer *tight = exact_buffer (tblock, GST_VIDEO_INFO_SIZE (&info));
    GstVideoFrame src, dst;
    FUZZ_CHECK (gst_video_frame_map (&src, &info, keep, GST_MAP_READ), "mapping the strided input");
    FUZZ_CHECK (gst_video_frame_map (&dst, &info, tight, GST_MAP_WRITE), "mapping the tight input");
    FUZZ_CHECK (gst_video_frame_copy (&dst, &src), "copying the input");
    gst_video_frame_unmap (&src);
    gst_video_frame_unmap (&dst);
    gst_buffer_unref (keep);
    GstBuffer *out2 = NULL;
    ret = push (tight, &out2, &error_posted, &warning_posted);
    FUZZ_CHECK (ret == GST_FLOW_OK && out2 != NULL && !error_posted, "the tight copy gave flow %s",
        gst_flow_get_name (ret));
    check_same_output (out, out2, &out_info);
    gst_buffer_unref (out2);
  }
  gst_buffer_unref (out);
  return 0;
}
