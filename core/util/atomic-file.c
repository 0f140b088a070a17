/* espcn-gst: atomic file replacement (write temp, fsync, rename, fsync dir). */
#include "util/atomic-file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

struct _EspcnAtomicFile {
  char *path;
  char *tmp_path;
  int fd;           /* -1 once closed */
  gsize written;
  gboolean failed;  /* a write failed: commit must refuse */
  gboolean committed;
};

/* Test hook (see header); atomic because tests may set it while writers run. */
static gint64 fail_after_bytes = -1;

void
espcn_atomic_file_set_fail_after (gssize bytes)
{
  __atomic_store_n (&fail_after_bytes, (gint64) bytes, __ATOMIC_SEQ_CST);
}

static gboolean
set_errno_error (GError **error, int err, const char *what, const char *path)
{
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
               "Cannot %s '%s': %s", what, path, g_strerror (err));
  return FALSE;
}

EspcnAtomicFile *
espcn_atomic_file_open (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL && *path != '\0', NULL);

  EspcnAtomicFile *f = g_new0 (EspcnAtomicFile, 1);
  f->path = g_strdup (path);
  f->tmp_path = g_strconcat (path, ".XXXXXX", NULL);
  f->fd = g_mkstemp_full (f->tmp_path, O_RDWR | O_CLOEXEC, 0666);
  if (f->fd < 0) {
    int err = errno;
    set_errno_error (error, err, "create a temporary file next to", path);
    g_clear_pointer (&f->tmp_path, g_free);  /* nothing to remove */
    espcn_atomic_file_free (f);
    return NULL;
  }
  /* Keep the permissions of the file we replace. */
  struct stat st;
  if (g_stat (path, &st) == 0 && S_ISREG (st.st_mode))
    (void) fchmod (f->fd, st.st_mode & 07777);
  return f;
}

gboolean
espcn_atomic_file_write (EspcnAtomicFile *f, const void *data, gsize len, GError **error)
{
  g_return_val_if_fail (f != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (f->failed || f->fd < 0) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                 "Cannot write '%s': an earlier write failed or the file is closed", f->path);
    return FALSE;
  }
  const guint8 *p = data;
  gsize left = len;
  gint64 limit = __atomic_load_n (&fail_after_bytes, __ATOMIC_SEQ_CST);
  while (left > 0) {
    gsize chunk = MIN (left, (gsize) 1 << 30);
    if (limit >= 0) {
      if ((gint64) f->written >= limit) {
        f->failed = TRUE;
        return set_errno_error (error, ENOSPC, "write", f->path);
      }
      chunk = MIN (chunk, (gsize) (limit - (gint64) f->written));
    }
    ssize_t n = write (f->fd, p, chunk);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      f->failed = TRUE;
      return set_errno_error (error, err, "write", f->path);
    }
    p += n;
    left -= (gsize) n;
    f->written += (gsize) n;
  }
  return TRUE;
}

/* Makes the rename itself durable.  Some filesystems cannot fsync a directory
 * (EINVAL); there is nothing more we can do there, so that is not an error. */
static gboolean
fsync_parent_dir (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    int err = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
                 "Wrote '%s' but cannot open its directory to sync it: %s", path, g_strerror (err));
    return FALSE;
  }
  int rc = fsync (dfd);
  int err = errno;
  close (dfd);
  if (rc != 0 && err != EINVAL && err != ENOTSUP) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
                 "Wrote '%s' but cannot sync its directory: %s", path, g_strerror (err));
    return FALSE;
  }
  return TRUE;
}

gboolean
espcn_atomic_file_commit (EspcnAtomicFile *f, GError **error)
{
  g_return_val_if_fail (f != NULL, FALSE);

  if (f->failed || f->fd < 0 || f->committed) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                 "Cannot write '%s': an earlier write failed or the file was already committed", f->path);
    return FALSE;
  }
  int rc = fsync (f->fd);
  if (rc != 0) {
    int err = errno;
    f->failed = TRUE;
    return set_errno_error (error, err, "sync", f->path);
  }
  rc = close (f->fd);
  f->fd = -1;
  if (rc != 0) {
    int err = errno;
    f->failed = TRUE;
    return set_errno_error (error, err, "close", f->path);
  }
  if (g_rename (f->tmp_path, f->path) != 0) {
    int err = errno;
    f->failed = TRUE;
    return set_errno_error (error, err, "rename a temporary file over", f->path);
  }
  /* The temporary name is gone: nothing left to clean up. */
  g_clear_pointer (&f->tmp_path, g_free);
  f->committed = TRUE;
  return fsync_parent_dir (f->path, error);
}

void
espcn_atomic_file_free (EspcnAtomicFile *f)
{
  if (f == NULL)
    return;
  if (f->fd >= 0)
    close (f->fd);
  if (f->tmp_path != NULL)
    (void) g_unlink (f->tmp_path);
  g_free (f->tmp_path);
  g_free (f->path);
  g_free (f);
}

gboolean
espcn_write_file_atomic (const char *path, const void *data, gsize len, GError **error)
{
  g_autoptr (EspcnAtomicFile) f = espcn_atomic_file_open (path, error);
  if (f == NULL)
    return FALSE;
  if (!espcn_atomic_file_write (f, data, len, error))
    return FALSE;
  return espcn_atomic_file_commit (f, error);
}
