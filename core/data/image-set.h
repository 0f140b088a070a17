/* espcn-gst: the image files of a data folder, found by one set of rules.
 *
 * Used by the training data (data/dataset.h) and the evaluation (eval/evaluate.h).
 * Two layouts:
 *  - A Food-101 tree, recognised by ROOT/meta/train.txt: a list ROOT/meta/<list>
 *    names one `<class>/<id>` per line for the file ROOT/images/<class>/<id>.jpg.
 *    Surrounding white space and blank lines are ignored.  An entry that is an
 *    absolute path or contains ".." (it would leave the images folder) is an
 *    error naming the list and the line: the set is never silently smaller
 *    than the list.
 *  - Any folder: every regular file (or symlink to one) named *.png, *.jpg or
 *    *.jpeg, case-insensitive, in ROOT or below it.  Hidden entries (a leading
 *    '.') are skipped; symlinked folders are not followed (no cycles, nothing
 *    outside ROOT by accident); other files (FIFOs, devices) are never opened.
 *    Folders nest at most ESPCN_IMAGE_SET_MAX_DEPTH levels below ROOT: a deeper
 *    one is an error naming it.  An unreadable folder is an error.  The paths
 *    are sorted (byte order), so the set does not depend on the file system's
 *    listing order.
 * Files are not opened here: decoding errors belong to the callers. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ESPCN_IMAGE_SET_MAX_DEPTH 16

/* TRUE when `root` is a Food-101 tree (ROOT/meta/train.txt exists). */
gboolean espcn_image_set_is_food101 (const char *root);

/* The files of the list ROOT/meta/`list` ("train.txt", "test.txt"), in list
 * order (char *, owned).  NULL with `error` for an unreadable list or a bad entry. */
GPtrArray *espcn_image_set_read_list (const char *root, const char *list, GError **error);

/* The image files below `root`, sorted (char *, owned; may be empty).  NULL with
 * `error` for an unreadable or too deeply nested folder. */
GPtrArray *espcn_image_set_scan (const char *root, GError **error);

/* A file-name-safe name for `path` inside `base`: the relative path without its
 * extension, '/' replaced by '_' ("class/id.jpg" -> "class_id"). */
char *espcn_image_set_name (const char *base, const char *path);

G_END_DECLS
