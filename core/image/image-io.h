/* espcn-gst: decoding and encoding images (PNG and JPEG) to and from EspcnImage. */
#pragma once

#include <glib.h>

#include "image/image.h"

G_BEGIN_DECLS

/* Largest accepted side and pixel count: anything bigger is refused with an
 * error before any pixel buffer is allocated. */
#define ESPCN_IMAGE_MAX_SIDE (1 << 15)
#define ESPCN_IMAGE_MAX_PIXELS (1 << 28)

/* Decode a PNG or JPEG file, recognised by its first bytes (not its name).
 * Grayscale, gray+alpha, RGBA, palette and 16-bit PNGs become 8-bit RGB
 * (alpha is dropped, 16-bit samples keep their high byte). A corrupt,
 * truncated or unsupported file gives NULL and an error naming the file. */
EspcnImage *espcn_image_load (const char *path, GError **error);
/* Same, from memory; `what` names the data in error messages (may be NULL). */
EspcnImage *espcn_image_load_from_data (const guint8 *data, gsize len,
    const char *what, GError **error);

/* Encode to PNG / JPEG (quality 1..100, 4:2:0) and write `path` atomically. */
gboolean espcn_image_save_png (const EspcnImage *img, const char *path, GError **error);
gboolean espcn_image_save_jpeg (const EspcnImage *img, const char *path, int quality,
    GError **error);
/* The encoders alone, to memory. */
GBytes *espcn_image_encode_png (const EspcnImage *img, GError **error);
GBytes *espcn_image_encode_jpeg (const EspcnImage *img, int quality, GError **error);

G_END_DECLS
