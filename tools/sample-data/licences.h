/* espcn-gst: the licence of each file, from the text its package ships.
 *
 * Debian machine-readable copyright files and the READMEs of GCompris' resource
 * folders share one shape: paragraphs separated by blank lines, with fields
 * "Files:" (names, on the same line or the following ones, separated by
 * spaces or new lines) and "License:" (first line).  A name listed twice keeps
 * its first licence. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* name -> licence; free with g_hash_table_unref. */
GHashTable *espcn_licence_table_parse (const char *text);

/* The licence of `name` (a path) in the table: its exact entry, else an entry
 * that is a trailing part of it after a '/' (names relative to the listing's
 * folder); NULL if none. */
const char *espcn_licence_lookup (GHashTable *table, const char *name);

G_END_DECLS
