/* espcn-gst: TEMPORARY stand-in for the engine's luma API (one-channel models
 * and the Y8 pixel layout) until the engine provides it; the whole file is
 * inactive as soon as engine/engine.h defines ESPCN_PIXEL_LAYOUT_Y8, and is to
 * be deleted then.
 *
 * Stand-in: an RGB model whose metadata has "luma-stand-in" = "1" counts as a
 * luma model; a Y8 frame is run through it as grey RGB (R = G = B = Y) and G of
 * the output is the output Y.  Only for exercising the element's luma path in
 * tests; it is no faster than the RGB model. */
#pragma once

#include "engine/engine.h"
#include "engine/model.h"

#include <string.h>

#ifndef ESPCN_PIXEL_LAYOUT_Y8
#define ESPCN_LUMA_SHIM 1
#define ESPCN_PIXEL_LAYOUT_Y8 ((EspcnPixelLayout) { 1, 0, 0, 0 })
#define ESPCN_LUMA_SHIM_KEY "luma-stand-in"

static inline int
espcn_int8_model_get_channels (const EspcnInt8Model *m)
{
  return g_strcmp0 (espcn_int8_model_get_metadata (m, ESPCN_LUMA_SHIM_KEY), "1") == 0 ? 1 : 3;
}

static inline gboolean
espcn_luma_shim_is_y8 (const EspcnPixelLayout *l)
{
  return l != NULL && l->bpp == 1;
}

/* The scale of each runner the shim saw created (a runner does not expose its model). */
static inline GHashTable *
espcn_luma_shim_scales (void)
{
  static GHashTable *scales;
  if (g_once_init_enter (&scales))
    g_once_init_leave (&scales, g_hash_table_new (NULL, NULL));
  return scales;
}

G_LOCK_DEFINE_STATIC (espcn_luma_shim);

static inline EspcnRunner *
espcn_luma_shim_runner_new (EspcnInt8Model *m, int n_threads, GError **error)
{
  EspcnRunner *r = espcn_runner_new (m, n_threads, error);
  if (r != NULL) {
    G_LOCK (espcn_luma_shim);
    g_hash_table_insert (espcn_luma_shim_scales (), r, GINT_TO_POINTER (espcn_int8_model_get_scale (m)));
    G_UNLOCK (espcn_luma_shim);
  }
  return r;
}

/* Runs the real process function of `runner` or `model` on grey RGB copies. */
static inline gboolean
espcn_luma_shim_process (EspcnRunner *runner, const EspcnInt8Model *model, const guint8 *in, gsize in_stride,
                         int width, int height, guint8 *out, gsize out_stride, GError **error)
{
  int s;
  if (model != NULL) {
    s = espcn_int8_model_get_scale (model);
  } else {
    G_LOCK (espcn_luma_shim);
    s = GPOINTER_TO_INT (g_hash_table_lookup (espcn_luma_shim_scales (), runner));
    G_UNLOCK (espcn_luma_shim);
    g_assert (s != 0);
  }
  gsize W = (gsize) width * s, H = (gsize) height * s;
  guint8 *rgb_in = g_malloc ((gsize) width * height * 3);
  guint8 *rgb_out = g_malloc (W * H * 3);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      memset (rgb_in + ((gsize) y * width + x) * 3, in[(gsize) y * in_stride + x], 3);
  const EspcnPixelLayout rgb = ESPCN_PIXEL_LAYOUT_RGB;
  gboolean ok = runner != NULL
      ? espcn_runner_process (runner, rgb_in, (gsize) width * 3, &rgb, width, height, rgb_out, W * 3, &rgb, error)
      : espcn_engine_process_reference (model, rgb_in, (gsize) width * 3, &rgb, width, height, rgb_out, W * 3, &rgb,
            error);
  if (ok)
    for (gsize y = 0; y < H; y++)
      for (gsize x = 0; x < W; x++)
        out[y * out_stride + x] = rgb_out[(y * W + x) * 3 + 1];
  g_free (rgb_in);
  g_free (rgb_out);
  return ok;
}

static inline gboolean
espcn_luma_shim_runner_process (EspcnRunner *r, const guint8 *in, gsize in_stride, const EspcnPixelLayout *in_layout,
                                int width, int height, guint8 *out, gsize out_stride,
                                const EspcnPixelLayout *out_layout, GError **error)
{
  if (!espcn_luma_shim_is_y8 (in_layout))
    return espcn_runner_process (r, in, in_stride, in_layout, width, height, out, out_stride, out_layout, error);
  return espcn_luma_shim_process (r, NULL, in, in_stride, width, height, out, out_stride, error);
}

static inline gboolean
espcn_luma_shim_process_reference (const EspcnInt8Model *m, const guint8 *in, gsize in_stride,
                                   const EspcnPixelLayout *in_layout, int width, int height, guint8 *out,
                                   gsize out_stride, const EspcnPixelLayout *out_layout, GError **error)
{
  if (!espcn_luma_shim_is_y8 (in_layout))
    return espcn_engine_process_reference (m, in, in_stride, in_layout, width, height, out, out_stride, out_layout,
        error);
  return espcn_luma_shim_process (NULL, m, in, in_stride, width, height, out, out_stride, error);
}

#define espcn_runner_new espcn_luma_shim_runner_new
#define espcn_runner_process espcn_luma_shim_runner_process
#define espcn_engine_process_reference espcn_luma_shim_process_reference
#endif
