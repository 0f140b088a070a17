/* espcn-gst (internal): a strict RFC 8259 JSON checker run before json-glib.
 *
 * json-glib 1.6 is lenient where a loader must not be: it accepts single-quoted
 * strings, comments, hex and leading-zero numbers, raw control characters in
 * strings, silently wraps integers beyond int64, keeps only the last of two
 * duplicate keys, and recurses without a depth limit.  This checker rejects all of
 * that, so json-glib only ever sees plain JSON whose integers it represents
 * exactly.  Not installed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when text[0..len) is one JSON value (surrounded by optional whitespace)
 * that is valid UTF-8, has no NUL (raw or \u0000), no lone surrogate escapes, no
 * duplicate keys in any object (compared after unescaping), integers (numbers
 * without fraction or exponent) within int64, and nests at most max_depth
 * arrays/objects.  On failure: *err_pos = byte offset of the fault, *err_what = a
 * static description. */
gboolean espcn_json_check_strict (const char *text, gsize len, guint max_depth,
                                  gsize *err_pos, const char **err_what);

G_END_DECLS
