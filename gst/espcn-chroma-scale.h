/* espcn-gst: the chroma planes of a frame whose luma a luma model upscales.
 *
 * A luma model upscales only Y; the chroma planes of planar (I420, YV12, Y42B,
 * Y444) and semi-planar (NV12, NV21) formats are scaled by GStreamer's own
 * GstVideoScaler (cubic), each plane from its input size to its output size,
 * centre aligned as videoscale scales planes.  Interleaved fields are scaled
 * apart, each as a picture of half the rows. */
#pragma once

#include <gst/video/video.h>

G_BEGIN_DECLS

/* The filter GstVideoScaler uses for chroma. */
#define ESPCN_CHROMA_SCALE_METHOD GST_VIDEO_RESAMPLER_METHOD_CUBIC

typedef struct {
  guint n_planes;                                 /* chroma planes: 0 (GRAY8), 1 (NV12) or 2 */
  GstVideoFormat format[GST_VIDEO_MAX_PLANES];    /* how GstVideoScaler reads plane p: GRAY8 or NV12 (pairs) */
  GstVideoScaler *h[GST_VIDEO_MAX_PLANES], *v[GST_VIDEO_MAX_PLANES];
  guint out_w[GST_VIDEO_MAX_PLANES], out_h[GST_VIDEO_MAX_PLANES];  /* per field, in pixels of `format` */
} EspcnChromaScale;

/* Sets up the scalers from `in` to `out` (same format, any sizes) for
 * `n_fields` fields (1 = progressive); a previous setup is freed first. */
void espcn_chroma_scale_init (EspcnChromaScale *c, const GstVideoInfo *in, const GstVideoInfo *out, int n_fields);
void espcn_chroma_scale_clear (EspcnChromaScale *c);

/* Scales field `field` (0 = even rows) of every chroma plane of `in` into `out`. */
void espcn_chroma_scale_frame (const EspcnChromaScale *c, GstVideoFrame *in, GstVideoFrame *out, int field,
                               int n_fields);

G_END_DECLS
