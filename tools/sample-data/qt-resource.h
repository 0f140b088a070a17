/* espcn-gst: reading the files inside a Qt resource bundle (.rcc).
 *
 * The binary format rcc writes (versions 1 to 3), all integers big-endian:
 *   header  "qres", version, tree offset, data offset, names offset
 *           (u32 each), and from version 3 a u32 of flags;
 *   tree    entries of 14 bytes (version 1) or 22 (2 and 3, with a u64 mtime):
 *           name offset (u32), flags (u16: 1 zlib, 2 directory, 4 zstd), then
 *           a directory's child count and first child index (u32, u32), or a
 *           file's territory, language (u16, u16) and data offset (u32);
 *           entry 0 is the root directory;
 *   names   length (u16), hash (u32), length UTF-16BE code units;
 *   data    size (u32) and the bytes; zlib entries hold qCompress's format:
 *           the uncompressed size (u32) and a zlib stream.
 * Every offset and size is checked against the file: a damaged bundle is an
 * error naming the bundle, never a crash. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _EspcnQtResource EspcnQtResource;

/* Reads and indexes the bundle.  Errors: unreadable file, not a Qt resource
 * bundle, or a damaged tree. */
EspcnQtResource *espcn_qt_resource_open (const char *path, GError **error);
void espcn_qt_resource_free (EspcnQtResource *res);

/* The files' paths in the bundle, each starting with a slash, in tree order; freed with res. */
const GPtrArray *espcn_qt_resource_files (const EspcnQtResource *res);

/* A file's contents, uncompressed.  Errors: no such file, damaged data, zstd. */
GBytes *espcn_qt_resource_read (const EspcnQtResource *res, const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnQtResource, espcn_qt_resource_free)

G_END_DECLS
