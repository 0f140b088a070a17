/* Chroma planes scaled by GstVideoScaler (see espcn-chroma-scale.h). */
#include "espcn-chroma-scale.h"

void
espcn_chroma_scale_clear (EspcnChromaScale *c)
{
  for (guint p = 0; p < GST_VIDEO_MAX_PLANES; p++) {
    g_clear_pointer (&c->h[p], gst_video_scaler_free);
    g_clear_pointer (&c->v[p], gst_video_scaler_free);
  }
  c->n_planes = 0;
}

void
espcn_chroma_scale_init (EspcnChromaScale *c, const GstVideoInfo *in, const GstVideoInfo *out, int n_fields)
{
  espcn_chroma_scale_clear (c);
  const GstVideoFormatInfo *finfo = in->finfo;
  guint n_planes = GST_VIDEO_INFO_N_PLANES (in);
  c->n_planes = n_planes - 1;
  for (guint p = 1; p < n_planes; p++) {
    gint comp[GST_VIDEO_MAX_COMPONENTS];
    gst_video_format_info_component (finfo, p, comp);
    /* Two components in one plane (NV12's UV): GstVideoScaler scales pairs. */
    c->format[p - 1] = comp[1] >= 0 ? GST_VIDEO_FORMAT_NV12 : GST_VIDEO_FORMAT_GRAY8;
    guint in_w = GST_VIDEO_INFO_COMP_WIDTH (in, comp[0]), out_w = GST_VIDEO_INFO_COMP_WIDTH (out, comp[0]);
    guint in_h = GST_VIDEO_INFO_COMP_HEIGHT (in, comp[0]) / n_fields;
    guint out_h = GST_VIDEO_INFO_COMP_HEIGHT (out, comp[0]) / n_fields;
    c->h[p - 1] = gst_video_scaler_new (ESPCN_CHROMA_SCALE_METHOD, GST_VIDEO_SCALER_FLAG_NONE, 0, in_w, out_w, NULL);
    c->v[p - 1] = gst_video_scaler_new (ESPCN_CHROMA_SCALE_METHOD, GST_VIDEO_SCALER_FLAG_NONE, 0, in_h, out_h, NULL);
    c->out_w[p - 1] = out_w;
    c->out_h[p - 1] = out_h;
  }
}

void
espcn_chroma_scale_frame (const EspcnChromaScale *c, GstVideoFrame *in, GstVideoFrame *out, int field, int n_fields)
{
  for (guint i = 0; i < c->n_planes; i++) {
    guint p = i + 1;
    gsize is = GST_VIDEO_FRAME_PLANE_STRIDE (in, p), os = GST_VIDEO_FRAME_PLANE_STRIDE (out, p);
    const guint8 *src = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (in, p) + (gsize) field * is;
    guint8 *dst = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (out, p) + (gsize) field * os;
    gst_video_scaler_2d (c->h[i], c->v[i], c->format[i], (gpointer) src, (gint) (is * n_fields), dst,
        (gint) (os * n_fields), 0, 0, c->out_w[i], c->out_h[i]);
  }
}
