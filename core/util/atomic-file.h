/* espcn-gst: write a file atomically.  Readers of `path` see either the old
 * content or the complete new content, never a partial file, even if the
 * process dies or the disk fills up halfway. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Write `len` bytes to `path`: a temporary `path.XXXXXX` in the same directory is
 * written, fsync'ed, renamed over `path`, and the directory is fsync'ed.  On any
 * failure the temporary file is removed, an existing file at `path` is left
 * untouched, and `error` (G_FILE_ERROR) names the path and the OS reason.  An
 * existing regular file's permission bits are kept; a new file gets 0666 & ~umask.
 * If `path` is a symbolic link, the link itself is replaced. */
gboolean espcn_write_file_atomic (const char *path, const void *data, gsize len, GError **error);

/* Streaming form of the same: open, write any number of times, commit.
 * Freeing an uncommitted file (or one whose write failed) removes the temporary
 * file and leaves `path` untouched. */
typedef struct _EspcnAtomicFile EspcnAtomicFile;

EspcnAtomicFile *espcn_atomic_file_open (const char *path, GError **error);
gboolean espcn_atomic_file_write (EspcnAtomicFile *f, const void *data, gsize len, GError **error);
/* fsync, rename over the target, fsync the directory.  Call at most once; the
 * object must still be freed afterwards. */
gboolean espcn_atomic_file_commit (EspcnAtomicFile *f, GError **error);
void espcn_atomic_file_free (EspcnAtomicFile *f);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnAtomicFile, espcn_atomic_file_free)

/* TEST ONLY: make every atomic file write fail with ENOSPC once a file holds
 * `bytes` bytes (as a full disk would); a negative value turns the hook off.
 * Process-wide; not for production code. */
void espcn_atomic_file_set_fail_after (gssize bytes);

G_END_DECLS
