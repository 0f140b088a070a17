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
 * `$ESPCN_MODEL_PATH` (colon-separated), then in the installed presets folder,
 * then in the current folder.  The model is loaded as soon as the property is
 * set, so caps queries know its scale; it must load by the time the element
 * goes to READY, or the state change fails with an error naming the problem.
 * Before any model is loaded, caps queries answer for every scale the engine
 * supports (2, 3 and 4).
 *
 * Packed RGB formats (RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB,
 * ABGR) are processed in place by the engine, without a conversion pass; alpha
 * is upscaled by replicating each input pixel's alpha over its s x s block and
 * x bytes are set to 0xff.  I420 and NV12 are converted internally on the
 * small input side (to RGBx, chroma replicated) and on the output (back to YUV,
 * chroma averaged over 2x2 blocks), using the caps' colorimetry matrix and
 * range (BT.601 when unknown), in integer arithmetic: one extra pass over the
 * output.
 *
 * The `model` property may change while PAUSED or PLAYING.  A model with the
 * same scale takes effect at the next frame: it is loaded and its runner (worker
 * threads and buffers) built on the thread that sets the property, then swapped
 * in under the object lock, so the streaming thread never waits for a load.
 * A model with a different scale would need renegotiation of the output size,
 * so it is refused with a warning message and the running model is kept; the
 * same happens for a model that fails to load.  `n-threads` may change at any
 * time the same way.  The output is identical for any number of threads.
 *
 * An input buffer smaller than its caps (or its GstVideoMeta) describe, a meta
 * stride shorter than a row (or negative), or a meta plane spread over two
 * memories of the buffer is refused with an error and GST_FLOW_ERROR.
 *
 * The element is synchronous (a frame goes out before the next comes in), so
 * it adds no latency to report beyond its processing time; QoS is enabled, so
 * late frames are dropped when a sink synchronises to the clock.
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
#include "espcn-model-path.h"
#include "espcn-yuv.h"

#include <gio/gio.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_espcn_upscale_debug);
#define GST_CAT_DEFAULT gst_espcn_upscale_debug

#define MAX_THREADS 64

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_N_THREADS,
  PROP_SCALE,
  PROP_METHOD,
};

struct _GstEspcnUpscale
{
  GstVideoFilter parent;

  /* settings_lock serialises model loads and runner construction (property
   * setters, state changes); the streaming thread never takes it. */
  GMutex settings_lock;
  gchar *model_name;
  guint n_threads;
  gboolean started;             /* between start() and stop() */

  /* Under the object lock: read by caps functions and the streaming thread. */
  EspcnInt8Model *model;
  int scale;                    /* the model's, 0 when none is loaded */
  EspcnRunner *pending;         /* built by a setter, taken at the next frame */
  EspcnRunner *retired;         /* replaced runner, freed by the next setter or stop() */

  /* Streaming side, set up by start() and set_info(). */
  EspcnRunner *runner;
  int frame_scale;
  gboolean yuv;
  EspcnPixelLayout layout;
  int alpha_offset;             /* -1 when none */
  int x_offset;                 /* -1 when none */
  EspcnYuvCoeffs coeffs;
  gboolean yuv_orc;             /* ORC YUV <-> RGBx kernels (not when the C reference is forced) */
  gsize in_rgb_stride, out_rgb_stride;
  guint8 *in_rgb, *out_rgb;     /* RGBx: 4-byte pixels, so ORC can convert them */
  gsize in_rgb_size, out_rgb_size;
};

#define FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, I420, NV12 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));

#define gst_espcn_upscale_parent_class parent_class
G_DEFINE_TYPE (GstEspcnUpscale, gst_espcn_upscale, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (espcnupscale, "espcnupscale", GST_RANK_NONE, GST_TYPE_ESPCN_UPSCALE);

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
load_model (const char *name, GError **error)
{
  g_autofree gchar *path = espcn_model_path_resolve (name, ESPCN_PRESETS_DIR, error);
  if (path == NULL)
    return NULL;
  return espcn_int8_model_load (path, error);
}

/* Posts the error for a model that did not load.  Called without locks held
 * (posting may run a bus sync handler that calls back into the element). */
static void
post_model_error (GstEspcnUpscale *self, const char *name, const GError *err)
{
  if (name == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("No model set."),
        ("set the model property (model=<file or preset name>, e.g. model=lsq.bin)"));
  } else if (g_error_matches (err, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("Model \"%s\" not found.", name), ("%s", err->message));
  } else if (err->domain == G_FILE_ERROR) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("Could not read model \"%s\".", name), ("%s", err->message));
  } else {
    GST_ELEMENT_ERROR (self, STREAM, DECODE, ("Invalid model \"%s\".", name), ("%s", err->message));
  }
}

/* Replaces the model under the object lock; returns the old one to unref. */
static EspcnInt8Model *
swap_model (GstEspcnUpscale *self, EspcnInt8Model *model, EspcnRunner *runner, EspcnRunner **old_pending,
            EspcnRunner **old_retired)
{
  GST_OBJECT_LOCK (self);
  EspcnInt8Model *old = self->model;
  self->model = model;
  self->scale = model ? espcn_int8_model_get_scale (model) : 0;
  if (runner != NULL) {
    *old_pending = self->pending;
    self->pending = runner;
  }
  if (old_retired != NULL) {
    *old_retired = self->retired;
    self->retired = NULL;
  }
  GST_OBJECT_UNLOCK (self);
  return old;
}

static void
set_model (GstEspcnUpscale *self, const char *name)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (EspcnInt8Model) model = NULL;
  g_autoptr (EspcnInt8Model) old = NULL;
  g_autoptr (EspcnRunner) runner = NULL;
  g_autoptr (EspcnRunner) old_pending = NULL;
  g_autoptr (EspcnRunner) old_retired = NULL;
  g_autofree gchar *warning = NULL;

  g_mutex_lock (&self->settings_lock);
  if (name != NULL)
    model = load_model (name, &err);

  if (!self->started) {
    /* NULL or READY: take the value; a model that fails to load is reported
     * when the element goes to READY (or PAUSED), where it has a bus. */
    if (name != NULL && model == NULL)
      GST_WARNING_OBJECT (self, "model \"%s\" did not load: %s", name, err->message);
    g_free (self->model_name);
    self->model_name = g_strdup (name);
    old = swap_model (self, g_steal_pointer (&model), NULL, NULL, NULL);
    g_mutex_unlock (&self->settings_lock);
    return;
  }

  /* PAUSED or PLAYING: keep the running model unless the new one fits. */
  int running_scale = self->model ? espcn_int8_model_get_scale (self->model) : 0;
  if (name == NULL) {
    warning = g_strdup ("model unset while running: keeping the running model");
  } else if (model == NULL) {
    warning = g_strdup_printf ("model \"%s\" did not load, keeping the running model: %s", name, err->message);
  } else if (espcn_int8_model_get_scale (model) != running_scale) {
    warning = g_strdup_printf ("model \"%s\" upscales x%d but the running model x%d: a different scale "
        "needs new caps, so the running model is kept", name, espcn_int8_model_get_scale (model), running_scale);
  } else if ((runner = espcn_runner_new (model, (int) effective_threads (self->n_threads), &err)) == NULL) {
    warning = g_strdup_printf ("model \"%s\": %s; keeping the running model", name, err->message);
  } else {
    g_free (self->model_name);
    self->model_name = g_strdup (name);
    old = swap_model (self, g_steal_pointer (&model), g_steal_pointer (&runner), &old_pending, &old_retired);
    GST_INFO_OBJECT (self, "model \"%s\" takes effect at the next frame", name);
  }
  g_mutex_unlock (&self->settings_lock);
  if (warning != NULL)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("Model not changed."), ("%s", warning));
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
  g_autofree gchar *name = NULL;

  g_mutex_lock (&self->settings_lock);
  gboolean ok = self->model != NULL;
  if (!ok && self->model_name != NULL) {
    EspcnInt8Model *model = load_model (self->model_name, &err);
    if (model != NULL) {
      old = swap_model (self, model, NULL, NULL, NULL);
      ok = TRUE;
    }
  }
  name = g_strdup (self->model_name);
  g_mutex_unlock (&self->settings_lock);
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
  int scale = current_scale (self);
  const int *scales = scale ? &scale : all_scales;
  int n_scales = scale ? 1 : (int) G_N_ELEMENTS (all_scales);
  gboolean up = direction == GST_PAD_SINK;

  if (gst_caps_is_any (caps))
    return filter ? gst_caps_ref (filter) : gst_caps_ref (caps);

  GstCaps *ret = gst_caps_new_empty ();
  for (guint i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *st = gst_caps_get_structure (caps, i);
    GstCapsFeatures *features = gst_caps_get_features (caps, i);
    for (int k = 0; k < n_scales; k++) {
      GstStructure *mapped = gst_structure_copy (st);
      if (map_field (mapped, "width", scales[k], up) && map_field (mapped, "height", scales[k], up))
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
  if (self->model != NULL)
    self->runner = espcn_runner_new (self->model, (int) effective_threads (self->n_threads), &err);
  else
    g_set_error (&err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "the model was unset in READY");
  self->started = self->runner != NULL;
  g_mutex_unlock (&self->settings_lock);
  if (self->runner == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not start the engine."), ("%s", err->message));
    return FALSE;
  }
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

static gboolean
gst_espcn_upscale_set_info (GstVideoFilter *filter, GstCaps *incaps, GstVideoInfo *in_info,
                            GstCaps *outcaps, GstVideoInfo *out_info)
{
  GstEspcnUpscale *self = GST_ESPCN_UPSCALE (filter);
  (void) incaps;
  (void) outcaps;
  int s = current_scale (self);
  GstVideoFormat fmt = GST_VIDEO_INFO_FORMAT (in_info);
  gint64 w = GST_VIDEO_INFO_WIDTH (in_info), h = GST_VIDEO_INFO_HEIGHT (in_info);

  if (s == 0 || fmt != GST_VIDEO_INFO_FORMAT (out_info) || GST_VIDEO_INFO_WIDTH (out_info) != w * s
      || GST_VIDEO_INFO_HEIGHT (out_info) != h * s) {
    GST_WARNING_OBJECT (self, "caps do not match a x%d upscale: %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT, s,
        incaps, outcaps);
    return FALSE;
  }
  self->frame_scale = s;
  self->yuv = fmt == GST_VIDEO_FORMAT_I420 || fmt == GST_VIDEO_FORMAT_NV12;
  self->alpha_offset = self->x_offset = -1;
  if (self->yuv) {
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
      GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT, ("Frame too large."),
          ("no memory for the RGB buffers of a %" G_GINT64_FORMAT " x %" G_GINT64_FORMAT " frame at x%d", w, h, s));
      return FALSE;
    }
  } else {
    /* The format's own component offsets give the layout (R, G, B, A = 0..3). */
    const GstVideoFormatInfo *finfo = in_info->finfo;
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
  GST_DEBUG_OBJECT (self, "%s %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " x%d", gst_video_format_to_string (fmt), w,
      h, s);
  return TRUE;
}

/* Alpha: each input pixel's over its s x s block; x bytes: 0xff. */
static void
fill_extra_bytes (GstEspcnUpscale *self, GstVideoFrame *in, GstVideoFrame *out)
{
  int s = self->frame_scale, bpp = self->layout.bpp;
  int ow = GST_VIDEO_FRAME_WIDTH (out), oh = GST_VIDEO_FRAME_HEIGHT (out);
  gsize istride = GST_VIDEO_FRAME_PLANE_STRIDE (in, 0), ostride = GST_VIDEO_FRAME_PLANE_STRIDE (out, 0);
  const guint8 *ip = GST_VIDEO_FRAME_PLANE_DATA (in, 0);
  guint8 *op = GST_VIDEO_FRAME_PLANE_DATA (out, 0);

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
  if (!input_fits (&GST_VIDEO_FILTER (trans)->in_info, inbuf, &why)) {
    GST_ELEMENT_ERROR (trans, STREAM, FORMAT, ("Invalid input buffer."), ("%s", why));
    return GST_FLOW_ERROR;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->transform (trans, inbuf, outbuf);
}

static GstFlowReturn
gst_espcn_upscale_transform_frame (GstVideoFilter *filter, GstVideoFrame *in, GstVideoFrame *out)
{
  GstEspcnUpscale *self = GST_ESPCN_UPSCALE (filter);
  g_autoptr (GError) err = NULL;
  EspcnRunner *stale = NULL;

  /* A model or n-threads change: its runner was built by the setter. */
  GST_OBJECT_LOCK (self);
  if (self->pending != NULL) {
    stale = self->retired;
    self->retired = self->runner;
    self->runner = g_steal_pointer (&self->pending);
  }
  GST_OBJECT_UNLOCK (self);
  g_clear_pointer (&stale, espcn_runner_free);

  if (self->runner == NULL) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL), ("no engine (not started)"));
    return GST_FLOW_ERROR;
  }
  int w = GST_VIDEO_FRAME_WIDTH (in), h = GST_VIDEO_FRAME_HEIGHT (in);
  gboolean ok;
  if (self->yuv) {
    EspcnYuvFrame yin, yout;
    espcn_yuv_frame_from_video_frame (&yin, in);
    espcn_yuv_frame_from_video_frame (&yout, out);
    espcn_yuv_to_rgbx (&self->coeffs, &yin, self->in_rgb, self->in_rgb_stride, self->yuv_orc);
    ok = espcn_runner_process (self->runner, self->in_rgb, self->in_rgb_stride, &self->layout, w, h,
        self->out_rgb, self->out_rgb_stride, &self->layout, &err);
    if (ok)
      espcn_rgbx_to_yuv (&self->coeffs, self->out_rgb, self->out_rgb_stride, &yout, self->yuv_orc);
  } else {
    ok = espcn_runner_process (self->runner, GST_VIDEO_FRAME_PLANE_DATA (in, 0),
        GST_VIDEO_FRAME_PLANE_STRIDE (in, 0), &self->layout, w, h, GST_VIDEO_FRAME_PLANE_DATA (out, 0),
        GST_VIDEO_FRAME_PLANE_STRIDE (out, 0), &self->layout, &err);
    if (ok)
      fill_extra_bytes (self, in, out);
  }
  if (!ok) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Upscaling failed."), ("%s", err->message));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
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
      g_value_set_int (value, current_scale (self));
      break;
    case PROP_METHOD:
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
  g_clear_pointer (&self->model, espcn_int8_model_unref);
  g_clear_pointer (&self->model_name, g_free);
  g_clear_pointer (&self->in_rgb, g_free);
  g_clear_pointer (&self->out_rgb, g_free);
  g_mutex_clear (&self->settings_lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
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

  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "INT8 model file: a path, or a bare name (e.g. lsq.bin) looked up in $ESPCN_MODEL_PATH, "
          "the installed presets and the current folder. While playing, only a model of the same scale "
          "is accepted", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_N_THREADS,
      g_param_spec_uint ("n-threads", "Threads",
          "Worker threads of the engine (0 = one per CPU core); the output does not depend on it",
          0, MAX_THREADS, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SCALE,
      g_param_spec_int ("scale", "Scale", "Upscale factor of the loaded model (0 when none is loaded)",
          0, 4, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_METHOD,
      g_param_spec_string ("method", "Method",
          "Quantization method that produced the loaded model (NULL when none is loaded)", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "ESPCN super-resolution upscaler",
      "Filter/Effect/Video/Scaler",
      "Upscales video by 2, 3 or 4 with an INT8 ESPCN super-resolution network",
      "espcn-gst authors");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_espcn_upscale_change_state);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_espcn_upscale_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_espcn_upscale_stop);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR (gst_espcn_upscale_transform_caps);
  trans_class->transform = GST_DEBUG_FUNCPTR (gst_espcn_upscale_transform);
  trans_class->fixate_caps = GST_DEBUG_FUNCPTR (gst_espcn_upscale_fixate_caps);
  trans_class->passthrough_on_same_caps = FALSE;
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_espcn_upscale_set_info);
  filter_class->transform_frame = GST_DEBUG_FUNCPTR (gst_espcn_upscale_transform_frame);
}

static void
gst_espcn_upscale_init (GstEspcnUpscale *self)
{
  g_mutex_init (&self->settings_lock);
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), TRUE);
}
