/* espcn-gst: the `espcn` GStreamer plugin. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstespcnupscale.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  return GST_ELEMENT_REGISTER (espcnupscale, plugin);
}

/* The macro leaves the descriptor's padding to zero-initialisation. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, espcn,
    "ESPCN INT8 super-resolution", plugin_init, ESPCN_PLUGIN_VERSION, "LGPL",
    "espcn-gst", ESPCN_PACKAGE_ORIGIN)
#pragma GCC diagnostic pop
