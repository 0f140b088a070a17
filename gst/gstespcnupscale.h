/* espcn-gst: the espcnupscale element (ESPCN INT8 super-resolution). */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_ESPCN_UPSCALE (gst_espcn_upscale_get_type ())
G_DECLARE_FINAL_TYPE (GstEspcnUpscale, gst_espcn_upscale, GST, ESPCN_UPSCALE, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (espcnupscale);

G_END_DECLS
