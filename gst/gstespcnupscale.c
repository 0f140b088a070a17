/* espcn-gst: the espcnupscale element.
 * Copyright (C) 2024 espcn-gst authors
 *
 * This library is free software; you can redistribute it and/or modify it under
 * the terms of the GNU Library General Public License as published by the Free
 * Software Foundation; either version 2 of the License, or (at your option) any
 * later version.
 */

/**
 * SECTION:element-espcnupscale
 * @title: espcnupscale
 *
 * Upscales video by 2, 3 or 4 with an ESPCN super-resolution network run by
 * the integer (INT8) engine of espcn-gst.  The output has the input's format,
 * framerate, pixel-aspect-ratio and colorimetry; width and height are
 * multiplied by the scale of the model.
 *
 * The `model` property names an INT8 model file: a path (anything with a '/'),
 * or a bare name such as `lsq.bin` (or `lsq`) looked up in the folders of
 * `$ESPCN_MODEL_PATH` (colon-separated), then in the installed presets folder
 * (never in the current folder).  Without `model`, the installed x4 LSQ preset
 * (`lsq.bin`) is used.  The resolved file is logged (`GST_DEBUG=espcnupscale:4`),
 * and the model property's description in `gst-inspect-1.0 espcnupscale` names
 * the presets folder and the models found.  The model is loaded as soon as the
 * property is set, so caps queries know its scale; it must load by the time
 * the element goes to READY, or the state change fails with an error naming
 * the problem.
 *
 * A model is RGB (3 channels) or luma (1 channel, Y only); the caps offer what
 * the loaded model takes.  Without `model`, YUV and GRAY8 input get the luma
 * x4 LSQ preset (`lsq-y.bin`) and RGB input `lsq.bin`; without `lsq-y.bin`,
 * I420 and NV12 go through `lsq.bin` (logged).  A format the model cannot take
 * is refused at negotiation with a message naming the model and the format.
 *
 * Negotiation prefers the mapped size: the caps the element answers upstream
 * are the downstream sizes divided by the scale, never the downstream sizes
 * themselves (the element cannot pass through), so a scaler before it hands it
 * the small frame.  A downstream size that is not a multiple of the scale is
 * reported with a message naming both.
 *
 * A luma model takes GRAY8, I420, YV12, NV12, NV21, Y42B and Y444: the Y plane
 * goes through the model straight into the output's Y plane, and the chroma
 * planes are scaled by GstVideoScaler (cubic), as videoscale scales planes.
 *
 * With an RGB model, packed RGB formats (RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA,
 * BGRA, ARGB, ABGR) are processed in place by the engine, without a conversion
 * pass; alpha
 * is upscaled by replicating each input pixel's alpha over its s x s block and
 * x bytes are set to 0xff.  I420 and NV12 are converted internally on the
 * small input side (to RGBx, chroma replicated) and on the output (back to YUV,
 * chroma averaged over 2x2 blocks), using the caps' colorimetry matrix and
 * range (BT.601 when unknown), in integer arithmetic: one extra pass over the
 * output.  Interleaved interlaced video (and the interlaced frames of mixed
 * video) is upscaled field by field, each field on its own as a half-height
 * picture, so the fields are never blended and the output stays interleaved
 * with the input's field order; the height must then be even (a multiple of 4
 * for 4:2:0 formats, whose chroma rows alternate between the fields too).
 * Other interlace modes (alternate, fields) are refused at negotiation with an
 * error asking for a deinterlacer.
 *
 * Metas tagged with the video and size tags (regions of interest, ...) are
 * scaled with the frame, as videoscale does; metas without tags, or tagged only
 * video, orientation or colorspace, are copied; others are dropped.
 * Navigation events are translated to input coordinates.
 *
 * The `model` property may change while PAUSED or PLAYING: the new model is
 * loaded and its runner (worker threads and buffers) built on the thread that
 * sets the property, then swapped in under the object lock, so the streaming
 * thread never waits for a load.  A model of the same scale takes effect at
 * the next frame; a model of another scale renegotiates the output size (and
 * asks upstream to renegotiate too) and takes effect with the new caps.  A
 * model that fails to load is refused with a warning and the running model is
 * kept.  `scale` and `quantization-method` notify whenever the model changes.
 * `n-threads` may change at any time the same way.  The output is identical
 * for any number of threads.
 *
 * An input buffer smaller than its caps (or its GstVideoMeta) describe, a meta
 * stride shorter than a row (or negative), or a meta plane spread over two
 * memories of the buffer is dropped with a warning message.
 *
 * The element is synchronous (a frame goes out before the next comes in); it
 * measures its processing time and adds the maximum over the last frames of
 * the negotiated size and thread count to latency queries, posting a latency
 * message when that grows.  QoS is enabled, so late frames are dropped when a
 * sink synchronises to the clock.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! video/x-raw,width=320,height=180 ! \
 *     espcnupscale model=lsq.bin ! videoconvert ! autovideosink
 * ]| Upscales a 320x180 test pattern (to 1280x720 with a x4 model) to a window.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstespcnupscale.h"

#include "engine/engine.h"
#include "engine/model.h"
#include "espcn-chroma-scale.h"
#include "espcn-frame-times.h"
#include "espcn-model-path.h"
#include "espcn-yuv.h"

#include <gio/gio.h>
#include <gst/video/navigation.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_espcn_upscale_debug);
#define GST_CAT_DEFAULT gst_espcn_upscale_debug

#define MAX_THREADS 64
/* The installed x4 LSQ presets: RGB, and luma for YUV and GRAY8 input when
 * no model is set. */
#define DEFAULT_MODEL "lsq.bin"
#define DEFAULT_LUMA_MODEL "lsq-y.bin"

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_N_THREADS,
  PROP_SCALE,
  PROP_QUANTIZATION_METHOD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

struct _GstEspcnUpscale
{
  GstVideoFilter parent;

  /* settings_lock serialises model loads and runner construction (property
   * setters, state changes); the streaming thread takes it only to name the
   * model in an error message. */
  GMutex settings_lock;
  gchar *model_name;
  gboolean default_model;       /* no model set: DEFAULT_MODEL, and DEFAULT_LUMA_MODEL for YUV */
  guint n_threads;
  gboolean started;             /* between start() and stop() */

  /* Under the object lock: read by caps functions and the streaming thread. */
  EspcnInt8Model *model;
  int scale;                    /* the model's, 0 when none is loaded */
  int channels;                 /* the model's: 3 RGB, 1 luma; 0 when none is loaded */
  EspcnInt8Model *luma_default; /* in default_model mode, DEFAULT_LUMA_MODEL when found */
  EspcnRunner *pending;         /* built by a setter, taken at the next frame of its scale and channels */
  int pending_scale, pending_channels;
  EspcnRunner *retired;         /* replaced runner, freed by the next setter or stop() */
  EspcnFrameTimes times;        /* processing times at the current size and runner */
  GstClockTime reported_latency; /* last answered to a latency query or announced */
  int nav_in_w, nav_in_h, nav_out_w, nav_out_h;
  gchar *warned_caps;           /* downstream caps last reported as not fitting the scale */
  GstVideoFormat warned_format; /* input format last reported as not taken by the model */

  /* Streaming side, set up by start() and set_info(). */
  EspcnRunner *runner;
  int runner_scale, runner_channels;
  int frame_scale;
  gboolean set_info_posted;     /* set_info() posted its own error */
  gboolean luma;                /* Y through a luma model, chroma through GstVideoScaler */
  gboolean on_luma_default;     /* ... the default luma model, run by luma_runner */
  EspcnRunner *luma_runner;     /* runs luma_runner_model, built by set_info() */
  EspcnInt8Model *luma_runner_model;
  EspcnChromaScale chroma[2];   /* for frames of 1 and of 2 fields */
  gboolean yuv;                 /* I420/NV12 through an RGB model, converted */
  EspcnPixelLayout layout;
  int alpha_offset;             /* -1 when none */
  int x_offset;                 /* -1 when none */
  EspcnYuvCoeffs coeffs;
  gboolean yuv_orc;             /* ORC YUV <-> RGBx kernels (not when the C reference is forced) */
  gsize in_rgb_stride, out_rgb_stride;
  guint8 *in_rgb, *out_rgb;     /* RGBx: 4-byte pixels, so ORC can convert them */
  gsize in_rgb_size, out_rgb_size;
};

/* What each kind of model takes: RGB models the packed RGB formats, and I420
 * and NV12 converted to RGB; luma models GRAY8 and the planar and semi-planar
 * YUV formats, whose Y they upscale. */
#define RGB_MODEL_FORMATS "RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, I420, NV12"
#define LUMA_MODEL_FORMATS "I420, YV12, NV12, NV21, Y42B, Y444, GRAY8"
#define FORMATS "{ " RGB_MODEL_FORMATS ", YV12, NV21, Y42B, Y444, GRAY8 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));

#define gst_espcn_upscale_parent_class parent_class
G_DEFINE_TYPE (GstEspcnUpscale, gst_espcn_upscale, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (espcnupscale, "espcnupscale", GST_RANK_NONE, GST_TYPE_ESPCN_UPSCALE);

/* The `scale` property: the scales a model can have, or none. */
#define GST_TYPE_ESPCN_UPSCALE_SCALE (gst_espcn_upscale_scale_get_type ())
static GType
gst_espcn_upscale_scale_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { 0, "No model loaded", "none" },
    { 2, "Upscale x2", "x2" },
    { 3, "Upscale x3", "x3" },
    { 4, "Upscale x4", "x4" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstEspcnUpscaleScale", values));
  return type;
}

/* ---- models and runners ---- */

static guint
effective_threads (guint n)
{
  if (n == 0)
    n = g_get_num_processors ();
  return CLAMP (n, 1, MAX_THREADS);
}

/* Loads a model by property value; the error keeps the loader's message. */
static EspcnInt8Model *
load_model (GstEspcnUpscale *self, const char *name, GError **error)
{
  g_autofree gchar *path = espcn_model_path_resolve (name, ESPCN_PRESETS_DIR, error);
  if (path == NULL)
    return NULL;
  EspcnInt8Model *m = espcn_int8_model_load (path, error);
  if (m != NULL)
    GST_INFO_OBJECT (self, "model \"%s\" resolved to %s (x%d, %s, %s)", name, path, espcn_int8_model_get_scale (m),
        espcn_int8_model_get_method (m), espcn_int8_model_get_channels (m) == 1 ? "luma" : "RGB");
  return m;
}

/* The luma preset that goes with the default RGB model `rgb` (NULL when the
 * default model did not load), or NULL with a log line saying YUV input then
 * goes through the RGB model. */
static EspcnInt8Model *
load_luma_default (GstEspcnUpscale *self, const EspcnInt8Model *rgb)
{
  g_autoptr (GError) err = NULL;
  if (rgb == NULL)
    return NULL;
  EspcnInt8Model *m = load_model (self, DEFAULT_LUMA_MODEL, &err);
  const char *why = m == NULL ? err->message
      : espcn_int8_model_get_channels (m) != 1 ? "it is not a luma model"
      : espcn_int8_model_get_scale (m) != espcn_int8_model_get_scale (rgb) ? "its scale is not the RGB preset's"
      : NULL;
  if (why != NULL) {
    GST_INFO_OBJECT (self, "luma preset " DEFAULT_LUMA_MODEL " not used (%s): I420 and NV12 input goes through the "
        "RGB preset " DEFAULT_MODEL ", other YUV formats and GRAY8 are not offered", why);
    g_clear_pointer (&m, espcn_int8_model_unref);
  }
  return m;
}

static gboolean
is_default_name (const char *value)
{
  return value == NULL || *value == '\0';
}

/* Posts the error for a model that did not load.  Called without locks held
 * (posting may run a bus sync handler that calls back into the element). */
static void
post_model_error (GstEspcnUpscale *self, const char *name, const GError *err)
{
  if (g_error_matches (err, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("Model \"%s\" not found.", name),
        ("%s%s", err->message, g_strcmp0 (name, DEFAULT_MODEL) == 0
            ? " (the default model: install espcn-gst, or set model= or $ESPCN_MODEL_PATH)" : ""));
  } else if (err->domain == G_FILE_ERROR) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("Could not read model \"%s\".", name), ("%s", err->message));
  } else {
    /* The file was read but is no model the engine can run: a bad resource. */
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Invalid model \"%s\".", name), ("%s", err->message));
  }
}

/* Replaces the model (and queues its runner) under the object lock; returns
 * the old model to unref. */
static EspcnInt8Model *
swap_model (GstEspcnUpscale *self, EspcnInt8Model *model, EspcnInt8Model *luma_default,
            EspcnInt8Model **old_luma_default, EspcnRunner *runner, EspcnRunner **old_pending,
            EspcnRunner **old_retired)
{
  GST_OBJECT_LOCK (self);
  EspcnInt8Model *old = self->model;
  self->model = model;
  self->scale = model ? espcn_int8_model_get_scale (model) : 0;
  self->channels = model ? espcn_int8_model_get_channels (model) : 0;
  *old_luma_default = self->luma_default;
  self->luma_default = luma_default;
  self->warned_format = GST_VIDEO_FORMAT_UNKNOWN;  /* the new model may refuse it again */
  if (runner != NULL) {
    *old_pending = self->pending;
    self->pending = runner;
    self->pending_scale = self->scale;
    self->pending_channels = self->channels;
  }
  if (old_retired != NULL) {
    *old_retired = self->retired;
    self->retired = NULL;
  }
  GST_OBJECT_UNLOCK (self);
  return old;
}

static void
notify_model_changed (GstEspcnUpscale *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCALE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QUANTIZATION_METHOD]);
}

static GstCaps *gst_espcn_upscale_transform_caps (GstBaseTransform *trans, GstPadDirection direction,
                                                  GstCaps *caps, GstCaps *filter);

/* A new scale changes the output size, a model of the other kind the formats.
 * Upstream is always asked to renegotiate, so that a scaler there can produce the input size the new scale
 * needs; the output is renegotiated at once only if downstream accepts the
 * current input at the new scale (otherwise the frames of the old size go on
 * through the old model until the new input caps arrive). */
static void
renegotiate_for_new_model (GstEspcnUpscale *self)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  g_autoptr (GstCaps) in = gst_pad_get_current_caps (GST_BASE_TRANSFORM_SINK_PAD (trans));
  if (in != NULL) {
    g_autoptr (GstCaps) out = gst_espcn_upscale_transform_caps (trans, GST_PAD_SINK, in, NULL);
    g_autoptr (GstCaps) accepted = gst_pad_peer_query_caps (GST_BASE_TRANSFORM_SRC_PAD (trans), out);
    if (accepted != NULL && !gst_caps_is_empty (accepted))
      gst_base_transform_reconfigure_src (trans);
  }
  gst_pad_push_event (GST_BASE_TRANSFORM_SINK_PAD (trans), gst_event_new_reconfigure ());
}

static void
set_model (GstEspcnUpscale *self, const char *value)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (EspcnInt8Model) model = NULL;
  g_autoptr (EspcnInt8Model) old = NULL;
  g_autoptr (EspcnInt8Model) luma_default = NULL;
  g_autoptr (EspcnInt8Model) old_luma_default = NULL;
  g_autoptr (EspcnRunner) runner = NULL;
  g_autoptr (EspcnRunner) old_pending = NULL;
  g_autoptr (EspcnRunner) old_retired = NULL;
  g_autofree gchar *warning = NULL;
  gboolean default_model = is_default_name (value);
  const char *name = default_model ? DEFAULT_MODEL : value;
  gboolean renegotiate = FALSE;

  g_mutex_lock (&self->settings_lock);
  model = load_model (self, name, &err);
  if (default_model)
    luma_default = load_luma_default (self, model);

  if (!self->started) {
    /* NULL or READY: take the value; a model that fails to load is reported
     * when the element goes to READY (or PAUSED), where it has a bus. */
    if (model == NULL)
      GST_WARNING_OBJECT (self, "model \"%s\" did not load: %s", name, err->message);
    g_free (self->model_name);
    self->model_name = g_strdup (name);
    self->default_model = default_model;
    old = swap_model (self, g_steal_pointer (&model), g_steal_pointer (&luma_default), &old_luma_default, NULL, NULL,
        NULL);
    g_mutex_unlock (&self->settings_lock);
    notify_model_changed (self);
    return;
  }

  /* PAUSED or PLAYING: keep the running model unless the new one loads. */
  int running_scale = self->model ? espcn_int8_model_get_scale (self->model) : 0;
  int running_channels = self->model ? espcn_int8_model_get_channels (self->model) : 0;
  gboolean running_luma_default = self->luma_default != NULL;
  if (model == NULL) {
    warning = g_strdup_printf ("model \"%s\" did not load, keeping the running model: %s", name, err->message);
  } else if ((runner = espcn_runner_new (model, (int) effective_threads (self->n_threads), &err)) == NULL) {
    warning = g_strdup_printf ("model \"%s\": %s; keeping the running model", name, err->message);
  } else {
    /* Another scale, or another kind of model (formats), renegotiates. */
    renegotiate = espcn_int8_model_get_scale (model) != running_scale
        || espcn_int8_model_get_channels (model) != running_channels || (luma_default != NULL) != running_luma_default;
    g_free (self->model_name);
    self->model_name = g_strdup (name);
    self->default_model = default_model;
    old = swap_model (self, g_steal_pointer (&model), g_steal_pointer (&luma_default), &old_luma_default,
        g_steal_pointer (&runner), &old_pending, &old_retired);
    GST_INFO_OBJECT (self, "model \"%s\" takes effect at the next frame%s", name,
        renegotiate ? " after renegotiating" : "");
  }
  g_mutex_unlock (&self->settings_lock);
  if (warning != NULL) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("Model not changed."), ("%s", warning));
    return;
  }
  notify_model_changed (self);
  if (renegotiate)
    renegotiate_for_new_model (self);
}

static void
set_n_threads (GstEspcnUpscale *self, guint n)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (EspcnRunner) runner = NULL;
  g_autoptr (EspcnRunner) old_pending = NULL;
  g_autoptr (EspcnRunner) old_retired = NULL;

  g_mutex_lock (&self->settings_lock);
  self->n_threads = n;
  if (self->started && self->model != NULL) {
    runner = espcn_runner_new (self->model, (int) effective_threads (n), &err);
    if (runner == NULL) {
      GST_WARNING_OBJECT (self, "n-threads %u: %s", n, err->message);
    } else {
      GST_OBJECT_LOCK (self);
      old_pending = self->pending;
      self->pending = g_steal_pointer (&runner);
      self->pending_scale = self->scale;
      self->pending_channels = self->channels;
      old_retired = self->retired;
      self->retired = NULL;
      GST_OBJECT_UNLOCK (self);
    }
  }
  g_mutex_unlock (&self->settings_lock);
}

/* Makes sure a model is loaded; posts the error and returns FALSE if not. */
static gboolean
ensure_model (GstEspcnUpscale *self)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (EspcnInt8Model) old = NULL;
  g_autoptr (EspcnInt8Model) old_luma_default = NULL;
  g_autofree gchar *name = NULL;
  gboolean loaded = FALSE;

  g_mutex_lock (&self->settings_lock);
  gboolean ok = self->model != NULL;
  if (!ok) {
    EspcnInt8Model *model = load_model (self, self->model_name, &err);
    if (model != NULL) {
      EspcnInt8Model *luma_default = self->default_model ? load_luma_default (self, model) : NULL;
      old = swap_model (self, model, luma_default, &old_luma_default, NULL, NULL, NULL);
      ok = loaded = TRUE;
    }
  }
  name = g_strdup (self->model_name);
  g_mutex_unlock (&self->settings_lock);
  if (loaded)
    notify_model_changed (self);
  if (!ok)
    post_model_error (self, name, err);
  return ok;
}

/* ---- caps ---- */

static int
current_scale (GstEspcnUpscale *self)
{
  GST_OBJECT_LOCK (self);
  int s = self->scale;
  GST_OBJECT_UNLOCK (self);
  return s;
}

/* TRUE when a model of `channels` (3 RGB, 1 luma) can upscale `fmt`. */
static gboolean
model_takes_format (int channels, GstVideoFormat fmt)
{
  const char *list = channels == 1 ? LUMA_MODEL_FORMATS : channels == 3 ? RGB_MODEL_FORMATS : "";
  g_auto (GStrv) names = g_strsplit (list, ", ", -1);
  return fmt != GST_VIDEO_FORMAT_UNKNOWN && g_strv_contains ((const gchar *const *) names,
      gst_video_format_to_string (fmt));
}

/* Appends the formats of a comma-separated list that `list` does not hold yet. */
static void
append_formats (GValue *list, const char *names)
{
  g_auto (GStrv) v = g_strsplit (names, ", ", -1);
  for (int i = 0; v[i] != NULL; i++) {
    gboolean seen = FALSE;
    for (guint k = 0; !seen && k < gst_value_list_get_size (list); k++)
      seen = g_strcmp0 (g_value_get_string (gst_value_list_get_value (list, k)), v[i]) == 0;
    if (seen)
      continue;
    GValue f = G_VALUE_INIT;
    g_value_init (&f, G_TYPE_STRING);
    g_value_set_string (&f, v[i]);
    gst_value_list_append_and_take_value (list, &f);
  }
}

/* The formats the loaded models take (under the object lock): FALSE when no
 * model is loaded, so that every format of the templates stays possible. */
static gboolean
served_formats_locked (GstEspcnUpscale *self, GValue *list)
{
  if (self->channels == 0)
    return FALSE;
  g_value_init (list, GST_TYPE_LIST);
  append_formats (list, self->channels == 1 ? LUMA_MODEL_FORMATS : RGB_MODEL_FORMATS);
  if (self->luma_default != NULL)
    append_formats (list, LUMA_MODEL_FORMATS);
  return TRUE;
}

/* Whether the loaded models can upscale `fmt` (TRUE without a model). */
static gboolean
serves_format (GstEspcnUpscale *self, GstVideoFormat fmt)
{
  GST_OBJECT_LOCK (self);
  gboolean ok = self->channels == 0 || model_takes_format (self->channels, fmt)
      || (self->luma_default != NULL && model_takes_format (1, fmt));
  GST_OBJECT_UNLOCK (self);
  return ok;
}

/* Posts the error (or, for a caps query that may only be a question, the
 * warning) for a format the model cannot upscale, naming both. */
static void
post_format_refused (GstEspcnUpscale *self, GstVideoFormat fmt, gboolean error)
{
  g_mutex_lock (&self->settings_lock);
  g_autofree gchar *name = g_strdup (self->model_name);
  g_mutex_unlock (&self->settings_lock);
  GST_OBJECT_LOCK (self);
  int channels = self->channels;
  GST_OBJECT_UNLOCK (self);
  gboolean luma = channels == 1;
  g_autofree gchar *text = g_strdup_printf ("The %s model \"%s\" cannot upscale %s video.",
      luma ? "luma (1-channel)" : "RGB (3-channel)", name, gst_video_format_to_string (fmt));
  g_autofree gchar *hint = g_strdup_printf ("%s models take %s; %s", luma ? "luma" : "RGB",
      luma ? LUMA_MODEL_FORMATS : RGB_MODEL_FORMATS,
      luma ? "use an RGB model (e.g. " DEFAULT_MODEL ") for RGB video, or convert it to YUV (videoconvert)"
           : "use a luma model (e.g. " DEFAULT_LUMA_MODEL ") for this format, or convert it (videoconvert)");
  if (error)
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("%s", text), ("%s", hint));
  else
    GST_ELEMENT_WARNING (self, CORE, NEGOTIATION, ("%s", text), ("%s", hint));
}

/* Narrows the structure's formats to `allowed`; FALSE when none is left. */
static gboolean
restrict_formats (GstStructure *st, const GValue *allowed)
{
  const GValue *f = gst_structure_get_value (st, "format");
  if (f == NULL) {
    gst_structure_set_value (st, "format", allowed);
    return TRUE;
  }
  GValue out = G_VALUE_INIT;
  if (!gst_value_intersect (&out, f, allowed))
    return FALSE;
  gst_structure_take_value (st, "format", &out);
  return TRUE;
}

static gint64
gcd64 (gint64 a, gint64 b)
{
  while (b != 0) {
    gint64 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

static void
set_int_or_range (GValue *out, gint64 lo, gint64 hi, gint64 step)
{
  if (lo == hi) {
    g_value_init (out, G_TYPE_INT);
    g_value_set_int (out, (int) lo);
  } else {
    g_value_init (out, GST_TYPE_INT_RANGE);
    gst_value_set_int_range_step (out, (int) lo, (int) hi, (int) step);
  }
}

/* Maps one size value (int, range or list) by the scale: up (sink to src)
 * multiplies, down (src to sink) keeps the sizes divisible by s and divides.
 * FALSE when no size maps (too large upwards, none divisible downwards). */
static gboolean
map_size (const GValue *v, GValue *out, int s, gboolean up)
{
  const gint64 limit = G_MAXINT / s;

  if (G_VALUE_HOLDS_INT (v)) {
    gint64 n = g_value_get_int (v);
    if (up ? (n < 1 || n > limit) : (n < s || n % s != 0))
      return FALSE;
    g_value_init (out, G_TYPE_INT);
    g_value_set_int (out, (int) (up ? n * s : n / s));
    return TRUE;
  }
  if (GST_VALUE_HOLDS_INT_RANGE (v)) {
    gint64 min = gst_value_get_int_range_min (v), max = gst_value_get_int_range_max (v);
    gint64 step = gst_value_get_int_range_step (v);
    if (up) {
      /* Values lo, lo+step, ..., hi become lo*s, ..., hi*s with step step*s. */
      gint64 lo = MAX (min, step), hi = MIN (max, limit);
      lo = (lo + step - 1) / step * step;
      hi = hi / step * step;
      if (lo > hi)
        return FALSE;
      set_int_or_range (out, lo * s, hi * s, step * s);
    } else {
      /* Sizes in the range divisible by s are the multiples of L = lcm(step, s). */
      gint64 l = step / gcd64 (step, s) * s;
      gint64 lo = (MAX (min, 1) + l - 1) / l, hi = max / l;
      if (lo > hi)
        return FALSE;
      set_int_or_range (out, lo * (l / s), hi * (l / s), l / s);
    }
    return TRUE;
  }
  if (GST_VALUE_HOLDS_LIST (v)) {
    GValue list = G_VALUE_INIT;
    g_value_init (&list, GST_TYPE_LIST);
    for (guint i = 0; i < gst_value_list_get_size (v); i++) {
      GValue item = G_VALUE_INIT;
      if (map_size (gst_value_list_get_value (v, i), &item, s, up))
        gst_value_list_append_and_take_value (&list, &item);
    }
    guint n = gst_value_list_get_size (&list);
    if (n == 0) {
      g_value_unset (&list);
      return FALSE;
    }
    if (n == 1) {
      g_value_init (out, G_VALUE_TYPE (gst_value_list_get_value (&list, 0)));
      g_value_copy (gst_value_list_get_value (&list, 0), out);
      g_value_unset (&list);
    } else {
      *out = list;
    }
    return TRUE;
  }
  return FALSE;
}

static gboolean
map_field (GstStructure *st, const char *field, int s, gboolean up)
{
  const GValue *v = gst_structure_get_value (st, field);
  if (v == NULL)
    return TRUE;  /* unconstrained stays unconstrained */
  GValue out = G_VALUE_INIT;
  if (!map_size (v, &out, s, up))
    return FALSE;
  gst_structure_take_value (st, field, &out);
  return TRUE;
}

static GstCaps *
gst_espcn_upscale_transform_caps (GstBaseTransform *trans, GstPadDirection direction, GstCaps *caps,
                                  GstCaps *filter)
{
  GstEspcnUpscale *self = GST_ESPCN_UPSCALE (trans);
  static const int all_scales[] = { 2, 3, 4 };
  g_auto (GValue) formats = G_VALUE_INIT;
  GST_OBJECT_LOCK (self);
  int scale = self->scale;
  gboolean restricted = served_formats_locked (self, &formats);
  GST_OBJECT_UNLOCK (self);
  const int *scales = scale ? &scale : all_scales;
  int n_scales = scale ? 1 : (int) G_N_ELEMENTS (all_scales);
  gboolean up = direction == GST_PAD_SINK;

  if (gst_caps_is_any (caps)) {
    if (!restricted)
      return filter ? gst_caps_ref (filter) : gst_caps_ref (caps);
    /* Any size, but only the formats the model takes. */
    GstCaps *any = gst_caps_new_empty_simple ("video/x-raw");
    gst_caps_set_value (any, "format", &formats);
    if (filter != NULL) {
      GstCaps *tmp = gst_caps_intersect_full (filter, any, GST_CAPS_INTERSECT_FIRST);
      gst_caps_unref (any);
      any = tmp;
    }
    return any;
  }

  GstCaps *ret = gst_caps_new_empty ();
  for (guint i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *st = gst_caps_get_structure (caps, i);
    GstCapsFeatures *features = gst_caps_get_features (caps, i);
    for (int k = 0; k < n_scales; k++) {
      GstStructure *mapped = gst_structure_copy (st);
      if (map_field (mapped, "width", scales[k], up) && map_field (mapped, "height", scales[k], up)
          && (!restricted || restrict_formats (mapped, &formats)))
        ret = gst_caps_merge_structure_full (ret, mapped, features ? gst_caps_features_copy (features) : NULL);
      else
        gst_structure_free (mapped);
    }
  }
  if (filter != NULL) {
    GstCaps *tmp = gst_caps_intersect_full (filter, ret, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (ret);
    ret = tmp;
  }
  GST_DEBUG_OBJECT (self, "%s x%d: %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT, up ? "up" : "down", scale, caps,
      ret);
  return ret;
}

static void
fixate_to (GstStructure *out, const GstStructure *in, const char *field, int s, gboolean up)
{
  int v;
  if (!gst_structure_get_int (in, field, &v))
    return;
  gint64 target = up ? (gint64) v * s : v / s;
  gst_structure_fixate_field_nearest_int (out, field, (int) CLAMP (target, 1, G_MAXINT));
}

static GstCaps *
gst_espcn_upscale_fixate_caps (GstBaseTransform *trans, GstPadDirection direction, GstCaps *caps,
                               GstCaps *othercaps)
{
  GstEspcnUpscale *self = GST_ESPCN_UPSCALE (trans);
  int s = current_scale (self);
  if (s == 0)
    s = 4;  /* only reached without a model, which cannot stream anyway */

  othercaps = gst_caps_truncate (othercaps);
  othercaps = gst_caps_make_writable (othercaps);
  if (gst_caps_is_empty (othercaps))
    return othercaps;
  const GstStructure *in = gst_caps_get_structure (caps, 0);
  GstStructure *out = gst_caps_get_structure (othercaps, 0);
  gboolean up = direction == GST_PAD_SINK;

  fixate_to (out, in, "width", s, up);
  fixate_to (out, in, "height", s, up);
  /* Everything else passes through: prefer the other side's values. */
  int num, den;
  if (gst_structure_get_fraction (in, "framerate", &num, &den))
    gst_structure_fixate_field_nearest_fraction (out, "framerate", num, den);
  if (gst_structure_get_fraction (in, "pixel-aspect-ratio", &num, &den))
    gst_structure_fixate_field_nearest_fraction (out, "pixel-aspect-ratio", num, den);
  const char *str;
  if ((str = gst_structure_get_string (in, "format")) != NULL)
    gst_structure_fixate_field_string (out, "format", str);
  if ((str = gst_structure_get_string (in, "colorimetry")) != NULL)
    gst_structure_fixate_field_string (out, "colorimetry", str);
  othercaps = gst_caps_fixate (othercaps);
  GST_DEBUG_OBJECT (self, "fixated to %" GST_PTR_FORMAT, othercaps);
  return othercaps;
}


/* ---- streaming ---- */

static gboolean
gst_espcn_upscale_start (GstBaseTransform *trans)
{
  GstEspcnUpscale *self = GST_ESPCN_UPSCALE (trans);
  g_autoptr (GError) err = NULL;

  /* The model may have been set again in READY; it is checked once more here. */
  if (!ensure_model (self))
    return FALSE;
  g_mutex_lock (&self->settings_lock);
  if (self->model != NULL) {
    self->runner = espcn_runner_new (self->model, (int) effective_threads (self->n_threads), &err);
    self->runner_scale = espcn_int8_model_get_scale (self->model);
    self->runner_channels = espcn_int8_model_get_channels (self->model);
  } else {
    g_set_error (&err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "the model was unset in READY");
  }
  self->started = self->runner != NULL;
  g_mutex_unlock (&self->settings_lock);
  if (self->runner == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not start the engine."), ("%s", err->message));
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  espcn_frame_times_reset (&self->times);
  self->reported_latency = 0;
  g_clear_pointer (&self->warned_caps, g_free);
  self->warned_format = GST_VIDEO_FORMAT_UNKNOWN;
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "started with %d threads", espcn_runner_get_n_threads (self->runner));
  return TRUE;
}

static gboolean
gst_espcn_upscale_stop (GstBaseTransform *trans)
{
  GstEspcnUpscale *self = GST_ESPCN_UPSCALE (trans);
  g_mutex_lock (&self->settings_lock);
  self->started = FALSE;
  GST_OBJECT_LOCK (self);
  EspcnRunner *pending = g_steal_pointer (&self->pending);
  EspcnRunner *retired = g_steal_pointer (&self->retired);
  GST_OBJECT_UNLOCK (self);
  g_mutex_unlock (&self->settings_lock);
  g_clear_pointer (&pending, espcn_runner_free);
  g_clear_pointer (&retired, espcn_runner_free);
  g_clear_pointer (&self->runner, espcn_runner_free);
  g_clear_pointer (&self->luma_runner, espcn_runner_free);
  g_clear_pointer (&self->luma_runner_model, espcn_int8_model_unref);
  for (int n = 0; n < 2; n++)
    espcn_chroma_scale_clear (&self->chroma[n]);
  g_clear_pointer (&self->in_rgb, g_free);
  g_clear_pointer (&self->out_rgb, g_free);
  self->in_rgb_size = self->out_rgb_size = 0;
  return TRUE;
}

/* Keeps a scratch buffer at exactly `size` bytes, reallocating only on change. */
static gboolean
scratch_resize (guint8 **buf, gsize *cur, gsize size)
{
  if (*cur == size && *buf != NULL)
    return TRUE;
  g_free (*buf);
  *buf = g_try_malloc (size);
  *cur = *buf ? size : 0;
  return *buf != NULL;
}

static gboolean configure_path (GstEspcnUpscale *self, const GstVideoInfo *in_info, const GstVideoInfo *out_info);

static gboolean
gst_espcn_upscale_set_info (GstVideoFilter *filter, GstCaps *incaps, GstVideoInfo *in_info,
                            GstCaps *outcaps, GstVideoInfo *out_info)
{
  GstEspcnUpscale *self = GST_ESPCN_UPSCALE (filter);
  int s = current_scale (self);
  GstVideoFormat fmt = GST_VIDEO_INFO_FORMAT (in_info);
  gint64 w = GST_VIDEO_INFO_WIDTH (in_info), h = GST_VIDEO_INFO_HEIGHT (in_info);

  /* Interleaved fields are upscaled one by one (one pass over both would blend
   * them): each needs whole rows, and whole chroma rows for 4:2:0. */
  GstVideoInterlaceMode mode = GST_VIDEO_INFO_INTERLACE_MODE (in_info);
  gboolean by_fields = mode == GST_VIDEO_INTERLACE_MODE_INTERLEAVED || mode == GST_VIDEO_INTERLACE_MODE_MIXED;
  const GstVideoFormatInfo *finfo = in_info->finfo;
  gint64 field_rows = GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo) > 1 ? 2 << GST_VIDEO_FORMAT_INFO_H_SUB (finfo, 1) : 2;
  if ((mode != GST_VIDEO_INTERLACE_MODE_PROGRESSIVE && !by_fields) || (by_fields && h % field_rows != 0)) {
    self->set_info_posted = TRUE;
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("This interlaced video is not supported: deinterlace it before espcnupscale (e.g. deinterlace ! "
         "espcnupscale)."), ("interlace-mode %s, height %" G_GINT64_FORMAT " in %" GST_PTR_FORMAT "; fields are "
            "upscaled one by one for interleaved and mixed video whose height is a multiple of %" G_GINT64_FORMAT,
            gst_video_interlace_mode_to_string (mode), h, incaps, field_rows));
    return FALSE;
  }
  if (s == 0 || fmt != GST_VIDEO_INFO_FORMAT (out_info) || GST_VIDEO_INFO_WIDTH (out_info) != w * s
      || GST_VIDEO_INFO_HEIGHT (out_info) != h * s) {
    GST_WARNING_OBJECT (self, "caps do not match a x%d upscale: %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT, s,
        incaps, outcaps);
    return FALSE;
  }
  self->frame_scale = s;
  if (!configure_path (self, in_info, out_info))
    return FALSE;
  GST_OBJECT_LOCK (self);
  self->nav_in_w = (int) w;
  self->nav_in_h = (int) h;
  self->nav_out_w = GST_VIDEO_INFO_WIDTH (out_info);
  self->nav_out_h = GST_VIDEO_INFO_HEIGHT (out_info);
  espcn_frame_times_reset (&self->times);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* Chooses the model for the format (a luma model for the formats it takes,
 * the default luma preset when no model is set, else an RGB model) and sets
 * up what its path needs; FALSE after posting an error.  Called by set_info()
 * and when a model of the other kind takes over with the same caps. */
static gboolean
configure_path (GstEspcnUpscale *self, const GstVideoInfo *in_info, const GstVideoInfo *out_info)
{
  int s = self->frame_scale;
  GstVideoFormat fmt = GST_VIDEO_INFO_FORMAT (in_info);
  const GstVideoFormatInfo *finfo = in_info->finfo;
  gint64 w = GST_VIDEO_INFO_WIDTH (in_info), h = GST_VIDEO_INFO_HEIGHT (in_info);
  GstVideoInterlaceMode mode = GST_VIDEO_INFO_INTERLACE_MODE (in_info);
  gboolean by_fields = mode == GST_VIDEO_INTERLACE_MODE_INTERLEAVED || mode == GST_VIDEO_INTERLACE_MODE_MIXED;

  GST_OBJECT_LOCK (self);
  int channels = self->channels;
  g_autoptr (EspcnInt8Model) luma_default = self->luma_default ? espcn_int8_model_ref (self->luma_default) : NULL;
  GST_OBJECT_UNLOCK (self);
  gboolean luma_format = model_takes_format (1, fmt);
  self->on_luma_default = luma_format && channels != 1 && luma_default != NULL;
  self->luma = luma_format && (channels == 1 || self->on_luma_default);
  if (!self->luma && !model_takes_format (channels, fmt)) {
    self->set_info_posted = TRUE;
    post_format_refused (self, fmt, TRUE);
    return FALSE;
  }
  int threads = (int) effective_threads ((guint) g_atomic_int_get ((gint *) &self->n_threads));
  if (self->on_luma_default && (self->luma_runner_model != luma_default
      || espcn_runner_get_n_threads (self->luma_runner) != threads)) {
    g_autoptr (GError) err = NULL;
    g_clear_pointer (&self->luma_runner, espcn_runner_free);
    g_clear_pointer (&self->luma_runner_model, espcn_int8_model_unref);
    self->luma_runner = espcn_runner_new (luma_default, threads, &err);
    if (self->luma_runner == NULL) {
      self->set_info_posted = TRUE;
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not start the engine."), ("%s", err->message));
      return FALSE;
    }
    self->luma_runner_model = g_steal_pointer (&luma_default);
  }

  self->yuv = !self->luma && (fmt == GST_VIDEO_FORMAT_I420 || fmt == GST_VIDEO_FORMAT_NV12);
  self->alpha_offset = self->x_offset = -1;
  for (int n = 0; n < 2; n++)
    espcn_chroma_scale_clear (&self->chroma[n]);
  if (self->luma) {
    /* Y goes from plane to plane; chroma through GstVideoScaler. */
    espcn_chroma_scale_init (&self->chroma[0], in_info, out_info, 1);
    if (by_fields)
      espcn_chroma_scale_init (&self->chroma[1], in_info, out_info, 2);
    g_clear_pointer (&self->in_rgb, g_free);
    g_clear_pointer (&self->out_rgb, g_free);
    self->in_rgb_size = self->out_rgb_size = 0;
  } else if (self->yuv) {
    /* RGBx, rows on 8-byte boundaries: the ORC kernels read pixel pairs. */
    self->layout = ESPCN_PIXEL_LAYOUT_RGBX;
    espcn_yuv_coeffs_init (&self->coeffs, &GST_VIDEO_INFO_COLORIMETRY (in_info));
    self->yuv_orc = espcn_yuv_orc_allowed ();
    gsize in_size, out_size, in_row, out_row;
    gboolean fits = g_size_checked_mul (&in_row, (gsize) w, 8) && g_size_checked_mul (&out_row, in_row, (gsize) s);
    self->in_rgb_stride = fits ? (in_row / 2 + 7) & ~(gsize) 7 : 0;
    self->out_rgb_stride = fits ? (out_row / 2 + 7) & ~(gsize) 7 : 0;
    if (!fits || !g_size_checked_mul (&in_size, self->in_rgb_stride, (gsize) h)
        || !g_size_checked_mul (&out_size, self->out_rgb_stride, (gsize) h * s)
        || !scratch_resize (&self->in_rgb, &self->in_rgb_size, in_size)
        || !scratch_resize (&self->out_rgb, &self->out_rgb_size, out_size)) {
      self->set_info_posted = TRUE;
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Not enough memory for the frame."),
          ("no memory for the RGB buffers of a %" G_GINT64_FORMAT " x %" G_GINT64_FORMAT " frame at x%d", w, h, s));
      return FALSE;
    }
  } else {
    /* The format's own component offsets give the layout (R, G, B, A = 0..3). */
    self->layout.bpp = GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, 0);
    self->layout.r = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, 0);
    self->layout.g = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, 1);
    self->layout.b = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, 2);
    if (GST_VIDEO_FORMAT_INFO_HAS_ALPHA (finfo))
      self->alpha_offset = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, 3);
    else if (self->layout.bpp == 4)
      self->x_offset = 6 - self->layout.r - self->layout.g - self->layout.b;
    g_clear_pointer (&self->in_rgb, g_free);
    g_clear_pointer (&self->out_rgb, g_free);
    self->in_rgb_size = self->out_rgb_size = 0;
  }
  GST_DEBUG_OBJECT (self, "%s %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " x%d through the %s",
      gst_video_format_to_string (fmt), w, h, s,
      self->on_luma_default ? "default luma model" : self->luma ? "luma model" : "RGB model");
  return TRUE;
}

/* Alpha: each input pixel's over its s x s block; x bytes: 0xff.  Over one
 * picture (a frame or a field) of ow x oh output pixels. */
static void
fill_extra_bytes (GstEspcnUpscale *self, const guint8 *ip, gsize istride, guint8 *op, gsize ostride, int ow, int oh)
{
  int s = self->frame_scale, bpp = self->layout.bpp;

  if (self->alpha_offset >= 0) {
    int a = self->alpha_offset;
    for (int y = 0; y < oh; y++) {
      const guint8 *irow = ip + (gsize) (y / s) * istride + a;
      guint8 *orow = op + (gsize) y * ostride + a;
      for (int x = 0; x < ow; x++)
        orow[(gsize) x * bpp] = irow[(gsize) (x / s) * bpp];
    }
  } else if (self->x_offset >= 0) {
    for (int y = 0; y < oh; y++) {
      guint8 *orow = op + (gsize) y * ostride + self->x_offset;
      for (int x = 0; x < ow; x++)
        orow[(gsize) x * bpp] = 0xff;
    }
  }
}

/* GstVideoFilter only warns about a buffer smaller than its caps need, and then
 * pushes an output it never wrote; and it trusts a GstVideoMeta's offsets and
 * strides, mapping just the memory that holds a plane's first byte.  So the
 * input is checked first: without a meta, the caps' size; with one, every plane
 * (strides at least a row, no negative strides) inside a single memory of the
 * buffer.  FALSE with the reason in *why. */
static gboolean
input_fits (const GstVideoInfo *info, GstBuffer *buf, gchar **why)
{
  gsize size = gst_buffer_get_size (buf);
  GstVideoMeta *meta = gst_buffer_get_video_meta (buf);

  if (meta == NULL) {
    if (size >= GST_VIDEO_INFO_SIZE (info))
      return TRUE;
    *why = g_strdup_printf ("a buffer of %" G_GSIZE_FORMAT " bytes, the caps need %" G_GSIZE_FORMAT, size,
        GST_VIDEO_INFO_SIZE (info));
    return FALSE;
  }
  guint n_planes = GST_VIDEO_INFO_N_PLANES (info);
  if (meta->format != GST_VIDEO_INFO_FORMAT (info) || meta->n_planes != n_planes
      || meta->width < (guint) GST_VIDEO_INFO_WIDTH (info) || meta->height < (guint) GST_VIDEO_INFO_HEIGHT (info)) {
    *why = g_strdup_printf ("video meta of %s %ux%u in %u planes, the caps say %s %dx%d",
        gst_video_format_to_string (meta->format), meta->width, meta->height, meta->n_planes,
        gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (info)), GST_VIDEO_INFO_WIDTH (info),
        GST_VIDEO_INFO_HEIGHT (info));
    return FALSE;
  }
  for (guint p = 0; p < n_planes; p++) {
    gint comp[GST_VIDEO_MAX_COMPONENTS];
    gst_video_format_info_component (info->finfo, p, comp);
    guint64 row = (guint64) GST_VIDEO_FORMAT_INFO_SCALE_WIDTH (info->finfo, comp[0], GST_VIDEO_INFO_WIDTH (info))
        * GST_VIDEO_FORMAT_INFO_PSTRIDE (info->finfo, comp[0]);
    guint64 rows = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (info->finfo, comp[0], GST_VIDEO_INFO_HEIGHT (info));
    gint64 stride = meta->stride[p];
    if (stride < 0 || (guint64) stride < row) {
      *why = g_strdup_printf ("plane %u: stride %" G_GINT64_FORMAT " for rows of %" G_GUINT64_FORMAT " bytes", p,
          stride, row);
      return FALSE;
    }
    /* rows and stride are below 2^31, so the extent does not overflow. */
    guint64 extent = (rows - 1) * (guint64) stride + row;
    guint idx, n_mem;
    gsize skip;
    if (meta->offset[p] > size || extent > size - meta->offset[p]
        || !gst_buffer_find_memory (buf, meta->offset[p], extent, &idx, &n_mem, &skip) || n_mem != 1) {
      *why = g_strdup_printf ("plane %u: %" G_GUINT64_FORMAT " bytes at offset %" G_GSIZE_FORMAT " are not in one "
          "memory of the %" G_GSIZE_FORMAT "-byte buffer", p, extent, meta->offset[p], size);
      return FALSE;
    }
  }
  return TRUE;
}

static GstFlowReturn
gst_espcn_upscale_transform (GstBaseTransform *trans, GstBuffer *inbuf, GstBuffer *outbuf)
{
  g_autofree gchar *why = NULL;
  /* One bad buffer costs one frame, as in GstVideoFilter elements, not the stream. */
  if (!input_fits (&GST_VIDEO_FILTER (trans)->in_info, inbuf, &why)) {
    GST_ELEMENT_WARNING (trans, STREAM, FORMAT, ("Invalid input buffer dropped."), ("%s", why));
    return GST_BASE_TRANSFORM_FLOW_DROPPED;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->transform (trans, inbuf, outbuf);
}

/* Records one frame's processing time; announces a latency that grew by more
 * than a tenth over the last one reported. */
static void
record_processing_time (GstEspcnUpscale *self, GstClockTime t)
{
  GST_OBJECT_LOCK (self);
  espcn_frame_times_add (&self->times, t);
  GstClockTime estimate = espcn_frame_times_max (&self->times);
  gboolean grew = estimate > self->reported_latency + self->reported_latency / 10;
  if (grew)
    self->reported_latency = estimate;
  GST_OBJECT_UNLOCK (self);
  if (grew) {
    GST_DEBUG_OBJECT (self, "processing latency grew to %" GST_TIME_FORMAT, GST_TIME_ARGS (estimate));
    gst_element_post_message (GST_ELEMENT (self), gst_message_new_latency (GST_OBJECT (self)));
  }
}

static GstFlowReturn
gst_espcn_upscale_transform_frame (GstVideoFilter *filter, GstVideoFrame *in, GstVideoFrame *out)
{
  GstEspcnUpscale *self = GST_ESPCN_UPSCALE (filter);
  g_autoptr (GError) err = NULL;
  EspcnRunner *stale = NULL;
  GstClockTime t0 = gst_util_get_timestamp ();

  /* A model or n-threads change: its runner was built by the setter.  A runner
   * of another scale waits for the renegotiation its setter asked for. */
  GstVideoFormat fmt = GST_VIDEO_FRAME_FORMAT (in);
  gboolean taken = FALSE;
  GST_OBJECT_LOCK (self);
  /* The pending runner is the latest model's: it takes over when its scale is
   * the negotiated one and it (or the default luma preset) takes the format;
   * otherwise the frames of the old caps go on through the old model. */
  if (self->pending != NULL && self->pending_scale == self->frame_scale
      && (model_takes_format (self->pending_channels, fmt)
          || (self->luma_default != NULL && model_takes_format (1, fmt)))) {
    stale = self->retired;
    self->retired = self->runner;
    self->runner = g_steal_pointer (&self->pending);
    self->runner_scale = self->pending_scale;
    self->runner_channels = self->pending_channels;
    espcn_frame_times_reset (&self->times);
    taken = TRUE;
  }
  GST_OBJECT_UNLOCK (self);
  g_clear_pointer (&stale, espcn_runner_free);
  /* The same caps may need another path now (RGB <-> luma, default preset), and
   * the default luma preset's runner follows n-threads as the main runner does. */
  if (taken && !configure_path (self, &filter->in_info, &filter->out_info))
    return GST_FLOW_ERROR;
  int want_channels = self->luma && !self->on_luma_default ? 1 : 3;

  if (self->runner == NULL) {
    GST_ELEMENT_ERROR (self, CORE, FAILED, (NULL), ("no engine (not started)"));
    return GST_FLOW_ERROR;
  }
  EspcnRunner *runner = self->on_luma_default ? self->luma_runner : self->runner;
  if (!self->on_luma_default && (self->runner_scale != self->frame_scale || self->runner_channels != want_channels)) {
    GST_DEBUG_OBJECT (self, "x%d %d-channel frame while the model changes to x%d %d-channel: dropped until "
        "renegotiated", self->frame_scale, want_channels, self->runner_scale, self->runner_channels);
    return GST_BASE_TRANSFORM_FLOW_DROPPED;
  }
  /* An interlaced frame is two pictures: the even rows and the odd rows. */
  int n = GST_VIDEO_FRAME_IS_INTERLACED (in) ? 2 : 1;
  int w = GST_VIDEO_FRAME_WIDTH (in), h = GST_VIDEO_FRAME_HEIGHT (in) / n;
  gboolean ok = TRUE;
  for (int field = 0; ok && field < n; field++) {
    if (self->luma) {
      const EspcnPixelLayout y8 = ESPCN_PIXEL_LAYOUT_Y8;
      gsize is = GST_VIDEO_FRAME_PLANE_STRIDE (in, 0), os = GST_VIDEO_FRAME_PLANE_STRIDE (out, 0);
      const guint8 *ip = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (in, 0) + field * is;
      guint8 *op = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (out, 0) + field * os;
      ok = espcn_runner_process (runner, ip, is * n, &y8, w, h, op, os * n, &y8, &err);
      if (ok)
        espcn_chroma_scale_frame (&self->chroma[n - 1], in, out, field, n);
    } else if (self->yuv) {
      EspcnYuvFrame yin, yout;
      espcn_yuv_frame_from_video_frame (&yin, in);
      espcn_yuv_frame_from_video_frame (&yout, out);
      espcn_yuv_frame_select_field (&yin, field, n);
      espcn_yuv_frame_select_field (&yout, field, n);
      espcn_yuv_to_rgbx (&self->coeffs, &yin, self->in_rgb, self->in_rgb_stride, self->yuv_orc);
      ok = espcn_runner_process (runner, self->in_rgb, self->in_rgb_stride, &self->layout, w, h,
          self->out_rgb, self->out_rgb_stride, &self->layout, &err);
      if (ok)
        espcn_rgbx_to_yuv (&self->coeffs, self->out_rgb, self->out_rgb_stride, &yout, self->yuv_orc);
    } else {
      gsize is = GST_VIDEO_FRAME_PLANE_STRIDE (in, 0), os = GST_VIDEO_FRAME_PLANE_STRIDE (out, 0);
      const guint8 *ip = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (in, 0) + field * is;
      guint8 *op = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (out, 0) + field * os;
      ok = espcn_runner_process (runner, ip, is * n, &self->layout, w, h, op, os * n, &self->layout, &err);
      if (ok)
        fill_extra_bytes (self, ip, is * n, op, os * n, w * self->frame_scale, h * self->frame_scale);
    }
  }
  if (!ok) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Upscaling failed."), ("%s", err->message));
    return GST_FLOW_ERROR;
  }
  record_processing_time (self, gst_util_get_timestamp () - t0);
  return GST_FLOW_OK;
}

/* Metas follow videoscale: size-tagged ones are scaled with the frame, ones
 * without tags or with only tags an upscale keeps true are copied, the rest
 * is left to the base class (which drops tagged metas). */
static gboolean
gst_espcn_upscale_transform_meta (GstBaseTransform *trans, GstBuffer *outbuf, GstMeta *meta, GstBuffer *inbuf)
{
  GstVideoFilter *filter = GST_VIDEO_FILTER (trans);
  const GstMetaInfo *info = meta->info;
  static const gchar *const kept_tags[] = { GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_SIZE_STR,
                                            GST_META_TAG_VIDEO_ORIENTATION_STR,
                                            GST_META_TAG_VIDEO_COLORSPACE_STR, NULL };
  const gchar *const *tags = gst_meta_api_type_get_tags (info->api);

  if (tags == NULL)
    return TRUE;
  for (const gchar *const *t = tags; *t != NULL; t++)
    if (!g_strv_contains (kept_tags, *t))
      return GST_BASE_TRANSFORM_CLASS (parent_class)->transform_meta (trans, outbuf, meta, inbuf);
  if (gst_meta_api_type_has_tag (info->api, g_quark_from_static_string (GST_META_TAG_VIDEO_SIZE_STR))) {
    GstVideoMetaTransform scale = { &filter->in_info, &filter->out_info };
    if (info->transform_func != NULL)
      info->transform_func (outbuf, meta, inbuf, gst_video_meta_transform_scale_get_quark (), &scale);
    return FALSE;  /* done here, not to be copied as well */
  }
  return TRUE;
}

/* Pointer positions from a video sink are in output pixels; upstream wants
 * input pixels. */
static gboolean
gst_espcn_upscale_src_event (GstBaseTransform *trans, GstEvent *event)
{
  GstEspcnUpscale *self = GST_ESPCN_UPSCALE (trans);
  gdouble x, y;

  if (GST_EVENT_TYPE (event) == GST_EVENT_NAVIGATION && gst_navigation_event_get_coordinates (event, &x, &y)) {
    GST_OBJECT_LOCK (self);
    int in_w = self->nav_in_w, in_h = self->nav_in_h, out_w = self->nav_out_w, out_h = self->nav_out_h;
    GST_OBJECT_UNLOCK (self);
    if (out_w > 0 && out_h > 0) {
      event = gst_event_make_writable (event);
      gst_navigation_event_set_coordinates (event, x * in_w / out_w, y * in_h / out_h);
    }
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->src_event (trans, event);
}

/* Latency queries get the processing time added; caps queries that find no
 * size downstream accepts at this scale are reported with the sizes. */
static gboolean
gst_espcn_upscale_query (GstBaseTransform *trans, GstPadDirection direction, GstQuery *query)
{
  GstEspcnUpscale *self = GST_ESPCN_UPSCALE (trans);

  if (direction == GST_PAD_SRC && GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    if (!gst_pad_peer_query (GST_BASE_TRANSFORM_SINK_PAD (trans), query))
      return FALSE;
    gboolean live;
    GstClockTime min, max;
    gst_query_parse_latency (query, &live, &min, &max);
    GST_OBJECT_LOCK (self);
    /* The window's maximum once frames of this size, model and thread count were
     * timed; until then the last figure (a smaller frame must not answer 0). */
    GstClockTime ours = self->times.n > 0 ? espcn_frame_times_max (&self->times) : self->reported_latency;
    self->reported_latency = ours;
    GST_OBJECT_UNLOCK (self);
    GST_DEBUG_OBJECT (self, "adding %" GST_TIME_FORMAT " of processing to the latency", GST_TIME_ARGS (ours));
    gst_query_set_latency (query, live, min + ours, GST_CLOCK_TIME_IS_VALID (max) ? max + ours : max);
    return TRUE;
  }
  gboolean ret = GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction, query);
  if (direction == GST_PAD_SINK && GST_QUERY_TYPE (query) == GST_QUERY_ACCEPT_CAPS) {
    /* A caps event is checked this way before it reaches the element: a
     * format the model cannot take is named here (once per format). */
    GstCaps *caps;
    gboolean accepted;
    gst_query_parse_accept_caps (query, &caps);
    gst_query_parse_accept_caps_result (query, &accepted);
    const char *f = !accepted && gst_caps_is_fixed (caps)
        ? gst_structure_get_string (gst_caps_get_structure (caps, 0), "format") : NULL;
    GstVideoFormat fmt = f ? gst_video_format_from_string (f) : GST_VIDEO_FORMAT_UNKNOWN;
    if (fmt != GST_VIDEO_FORMAT_UNKNOWN && !serves_format (self, fmt)) {
      GST_OBJECT_LOCK (self);
      gboolean report = self->warned_format != fmt;
      self->warned_format = fmt;
      GST_OBJECT_UNLOCK (self);
      if (report)
        post_format_refused (self, fmt, FALSE);
    }
  }
  if (ret && direction == GST_PAD_SINK && GST_QUERY_TYPE (query) == GST_QUERY_CAPS) {
    GstCaps *caps;
    gst_query_parse_caps_result (query, &caps);
    int s = current_scale (self);
    if (s != 0 && caps != NULL && gst_caps_is_empty (caps)) {
      g_autoptr (GstCaps) peer = gst_pad_peer_query_caps (GST_BASE_TRANSFORM_SRC_PAD (trans), NULL);
      g_autofree gchar *peer_str = peer ? gst_caps_to_string (peer) : NULL;
      GST_OBJECT_LOCK (self);
      gboolean report = peer_str != NULL && !gst_caps_is_empty (peer) && g_strcmp0 (peer_str, self->warned_caps) != 0;
      if (report) {
        g_free (self->warned_caps);
        self->warned_caps = g_strdup (peer_str);
      }
      GST_OBJECT_UNLOCK (self);
      if (report)
        GST_ELEMENT_WARNING (self, CORE, NEGOTIATION, ("No output size downstream accepts is a x%d upscale.", s),
            ("the model upscales x%d, so the output width and height must be multiples of %d, and upstream "
             "must offer them divided by %d; downstream accepts %s", s, s, s, peer_str));
    }
  }
  return ret;
}

/* A caps event the base class cannot turn into output caps fails with a
 * message naming the scale and the sizes, not a bare not-negotiated. */
static gboolean
gst_espcn_upscale_sink_event (GstBaseTransform *trans, GstEvent *event)
{
  GstEspcnUpscale *self = GST_ESPCN_UPSCALE (trans);
  g_autoptr (GstCaps) caps = NULL;

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstCaps *c;
    gst_event_parse_caps (event, &c);
    caps = gst_caps_ref (c);
    self->set_info_posted = FALSE;
  }
  gboolean ret = GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
  GstVideoFormat fmt = GST_VIDEO_FORMAT_UNKNOWN;
  if (caps != NULL && gst_caps_get_size (caps) > 0) {
    const char *f = gst_structure_get_string (gst_caps_get_structure (caps, 0), "format");
    fmt = f ? gst_video_format_from_string (f) : GST_VIDEO_FORMAT_UNKNOWN;
  }
  if (!ret && caps != NULL && !self->set_info_posted && fmt != GST_VIDEO_FORMAT_UNKNOWN && !serves_format (self, fmt)) {
    post_format_refused (self, fmt, TRUE);
  } else if (!ret && caps != NULL && !self->set_info_posted) {
    int s = current_scale (self);
    g_autoptr (GstCaps) peer = gst_pad_peer_query_caps (GST_BASE_TRANSFORM_SRC_PAD (trans), NULL);
    const GstStructure *st = gst_caps_get_structure (caps, 0);
    int w = 0, h = 0;
    gst_structure_get_int (st, "width", &w);
    gst_structure_get_int (st, "height", &h);
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("Cannot upscale %dx%d by x%d to a size downstream accepts.", w,
        h, s), ("the output would be %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "; downstream accepts %" GST_PTR_FORMAT,
            (gint64) w * s, (gint64) h * s, peer));
  }
  return ret;
}

/* ---- GObject / GstElement ---- */

static GstStateChangeReturn
gst_espcn_upscale_change_state (GstElement *element, GstStateChange transition)
{
  GstEspcnUpscale *self = GST_ESPCN_UPSCALE (element);
  /* A missing or bad model fails the step to READY, before any negotiation. */
  if (transition == GST_STATE_CHANGE_NULL_TO_READY && !ensure_model (self))
    return GST_STATE_CHANGE_FAILURE;
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static void
gst_espcn_upscale_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstEspcnUpscale *self = GST_ESPCN_UPSCALE (object);
  switch (prop_id) {
    case PROP_MODEL:
      set_model (self, g_value_get_string (value));
      break;
    case PROP_N_THREADS:
      set_n_threads (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_espcn_upscale_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstEspcnUpscale *self = GST_ESPCN_UPSCALE (object);
  switch (prop_id) {
    case PROP_MODEL:
      g_mutex_lock (&self->settings_lock);
      g_value_set_string (value, self->model_name);
      g_mutex_unlock (&self->settings_lock);
      break;
    case PROP_N_THREADS:
      g_mutex_lock (&self->settings_lock);
      g_value_set_uint (value, self->n_threads);
      g_mutex_unlock (&self->settings_lock);
      break;
    case PROP_SCALE:
      g_value_set_enum (value, current_scale (self));
      break;
    case PROP_QUANTIZATION_METHOD:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->model ? espcn_int8_model_get_method (self->model) : NULL);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_espcn_upscale_finalize (GObject *object)
{
  GstEspcnUpscale *self = GST_ESPCN_UPSCALE (object);
  g_clear_pointer (&self->pending, espcn_runner_free);
  g_clear_pointer (&self->retired, espcn_runner_free);
  g_clear_pointer (&self->runner, espcn_runner_free);
  g_clear_pointer (&self->luma_runner, espcn_runner_free);
  g_clear_pointer (&self->luma_runner_model, espcn_int8_model_unref);
  for (int n = 0; n < 2; n++)
    espcn_chroma_scale_clear (&self->chroma[n]);
  g_clear_pointer (&self->model, espcn_int8_model_unref);
  g_clear_pointer (&self->luma_default, espcn_int8_model_unref);
  g_clear_pointer (&self->model_name, g_free);
  g_clear_pointer (&self->warned_caps, g_free);
  g_clear_pointer (&self->in_rgb, g_free);
  g_clear_pointer (&self->out_rgb, g_free);
  g_mutex_clear (&self->settings_lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* "folder (a.bin, b.bin)", "folder (no models)" or "folder (no such folder)". */
static void
append_folder_listing (GString *s, const char *dir)
{
  g_auto (GStrv) names = espcn_model_path_list (dir);
  g_autofree gchar *joined = g_strjoinv (", ", names);
  g_string_append_printf (s, "%s (%s)", dir, *joined ? joined
      : g_file_test (dir, G_FILE_TEST_IS_DIR) ? "no models" : "no such folder");
}

/* The model property's description, with what gst-inspect-1.0 users need to
 * pick a model: the folders searched and the models in them. */
static gchar *
model_blurb (void)
{
  GString *s = g_string_new ("INT8 model file: a path (with a '/'), or a bare name (e.g. lsq-x2.bin or lsq-x2) "
      "looked up in $ESPCN_MODEL_PATH, then in the models folder ");
  append_folder_listing (s, ESPCN_PRESETS_DIR);
  const char *env = g_getenv ("ESPCN_MODEL_PATH");
  if (env != NULL && *env != '\0') {
    g_auto (GStrv) dirs = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
    g_string_append (s, "; $ESPCN_MODEL_PATH now holds ");
    gboolean first = TRUE;
    for (int i = 0; dirs[i] != NULL; i++) {
      if (*dirs[i] == '\0')
        continue;
      if (!first)
        g_string_append (s, ", ");
      append_folder_listing (s, dirs[i]);
      first = FALSE;
    }
  }
  g_string_append (s, ". <method>.bin upscale x4, <method>-x2.bin x2, <method>-x3.bin x3; <method>-y*.bin are luma "
      "models (GRAY8 and YUV: Y through the model, chroma scaled), the others RGB models. The default is the x4 "
      "LSQ preset, " DEFAULT_MODEL ", with " DEFAULT_LUMA_MODEL " for YUV and GRAY8 input when installed. While "
      "playing, a model of another scale renegotiates the output size");
  return g_string_free (s, FALSE);
}

static void
gst_espcn_upscale_class_init (GstEspcnUpscaleClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_espcn_upscale_debug, "espcnupscale", 0, "ESPCN super-resolution upscaler");

  gobject_class->set_property = gst_espcn_upscale_set_property;
  gobject_class->get_property = gst_espcn_upscale_get_property;
  gobject_class->finalize = gst_espcn_upscale_finalize;

  g_autofree gchar *blurb = model_blurb ();
  properties[PROP_MODEL] = g_param_spec_string ("model", "Model", blurb, DEFAULT_MODEL,
      G_PARAM_READWRITE | G_PARAM_STATIC_NAME | G_PARAM_STATIC_NICK | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_N_THREADS] = g_param_spec_uint ("n-threads", "Threads",
      "Worker threads of the engine (0 = one per CPU core); the output does not depend on it",
      0, MAX_THREADS, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_SCALE] = g_param_spec_enum ("scale", "Scale",
      "Upscale factor of the loaded model (none when no model is loaded)", GST_TYPE_ESPCN_UPSCALE_SCALE, 0,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_QUANTIZATION_METHOD] = g_param_spec_string ("quantization-method", "Quantization method",
      "Quantization-aware training method that produced the loaded model (NULL when none is loaded); "
      "not an interpolation method", NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (gobject_class, N_PROPS, properties);
  gst_type_mark_as_plugin_api (GST_TYPE_ESPCN_UPSCALE_SCALE, 0);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "ESPCN super-resolution upscaler",
      "Filter/Converter/Video/Scaler",
      "Upscales video by 2, 3 or 4 with an INT8 ESPCN super-resolution network",
      "espcn-gst authors");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_espcn_upscale_change_state);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_espcn_upscale_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_espcn_upscale_stop);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR (gst_espcn_upscale_transform_caps);
  trans_class->transform = GST_DEBUG_FUNCPTR (gst_espcn_upscale_transform);
  trans_class->fixate_caps = GST_DEBUG_FUNCPTR (gst_espcn_upscale_fixate_caps);
  trans_class->transform_meta = GST_DEBUG_FUNCPTR (gst_espcn_upscale_transform_meta);
  trans_class->src_event = GST_DEBUG_FUNCPTR (gst_espcn_upscale_src_event);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_espcn_upscale_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_espcn_upscale_query);
  trans_class->passthrough_on_same_caps = FALSE;
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_espcn_upscale_set_info);
  filter_class->transform_frame = GST_DEBUG_FUNCPTR (gst_espcn_upscale_transform_frame);
}

static void
gst_espcn_upscale_init (GstEspcnUpscale *self)
{
  g_autoptr (GError) err = NULL;
  g_mutex_init (&self->settings_lock);
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  gst_base_transform_set_qos_enabled (trans, TRUE);
  /* The element never passes through, so the caps it answers upstream must not
   * start with the downstream sizes themselves: a scaler before it would then
   * fixate to the output size and the model would run on a blown-up frame. */
  gst_base_transform_set_prefer_passthrough (trans, FALSE);
  /* The default model, loaded now so that caps queries know its scale; a
   * missing one is reported when the element goes to READY. */
  self->model_name = g_strdup (DEFAULT_MODEL);
  self->default_model = TRUE;
  self->model = load_model (self, DEFAULT_MODEL, &err);
  self->scale = self->model ? espcn_int8_model_get_scale (self->model) : 0;
  self->channels = self->model ? espcn_int8_model_get_channels (self->model) : 0;
  self->luma_default = load_luma_default (self, self->model);
  if (self->model == NULL)
    GST_DEBUG_OBJECT (self, "default model: %s", err->message);
}
