/* espcn-gst: where the espcnupscale element and espcn-upscale find a model file. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Resolves the `model` property's value to a file path (free with g_free()).
 * A value with a '/' is a path, returned as it is.  A bare name ("lsq.bin", or
 * "lsq" meaning "lsq.bin") is looked up, first match wins, in each folder of
 * $ESPCN_MODEL_PATH (colon-separated), then in `presets_dir`; never in the
 * current folder.  Fails with G_FILE_ERROR_NOENT naming every place tried. */
gchar *espcn_model_path_resolve (const char *name, const char *presets_dir, GError **error);

/* The model files (*.bin) in `dir`, sorted by name; empty when `dir` is NULL
 * or cannot be read.  Free with g_strfreev(). */
GStrv espcn_model_path_list (const char *dir);

G_END_DECLS
