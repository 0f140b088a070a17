/* Training under faults: the real espcn-train binary stopped by SIGINT or SIGTERM
 * mid-run exits cleanly with a checkpoint from which --resume reaches bit for bit
 * the weights of an uninterrupted run; and a disk that fills up while a checkpoint
 * is saved leaves the previous checkpoint intact and says why. */
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "image/image.h"
#include "image/image-io.h"
#include "io/safetensors.h"
#include "test-util.h"
#include "train/trainer.h"
#include "util/atomic-file.h"
#include "util/rng.h"

static char *data_dir;
static const char *train_bin;

/* Shaded backgrounds with a few hard-edged boxes: something to learn, cheap to make. */
static void
write_images (const char *dir, int count, int w, int h, guint64 seed)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, seed);
  for (int n = 0; n < count; n++) {
    g_autoptr (EspcnImage) img = espcn_image_new (w, h);
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        for (int c = 0; c < 3; c++)
          img->data[(y * w + x) * 3 + c] = (guint8) ((x * (c + 1) + y * (3 - c) + n * 17) & 0xff);
    for (int b = 0; b < 6; b++) {
      int x0 = (int) espcn_rng_below (&rng, (guint32) w), y0 = (int) espcn_rng_below (&rng, (guint32) h);
      int bw = 2 + (int) espcn_rng_below (&rng, (guint32) w / 3), bh = 2 + (int) espcn_rng_below (&rng, (guint32) h / 3);
      guint8 v = (guint8) espcn_rng_below (&rng, 256);
      for (int y = y0; y < MIN (h, y0 + bh); y++)
        for (int x = x0; x < MIN (w, x0 + bw); x++)
          img->data[(y * w + x) * 3 + (b % 3)] = v;
    }
    g_autofree char *path = g_strdup_printf ("%s/img%02d.png", dir, n);
    g_autoptr (GError) error = NULL;
    g_assert_true (espcn_image_save_png (img, path, &error));
  }
}


/* One configuration for every run of a test: resume requires the same options. */
static GPtrArray *
train_argv (const char *out, const char *resume, int epochs)
{
  GPtrArray *a = g_ptr_array_new_with_free_func (g_free);
  const char *fixed[] = { "--method", "none", "--scale", "2", "--features", "8", "--patch", "32", "--batch", "4",
                          "--num-train", "48", "--num-val", "2", "--seed", "9", "--threads", "1", "--lr", "2e-3",
                          "--no-progress", "--no-export" };
  g_ptr_array_add (a, g_strdup (train_bin));
  g_ptr_array_add (a, g_strdup ("--data"));
  g_ptr_array_add (a, g_strdup (data_dir));
  g_ptr_array_add (a, g_strdup ("--out"));
  g_ptr_array_add (a, g_strdup (out));
  g_ptr_array_add (a, g_strdup ("--epochs"));
  g_ptr_array_add (a, g_strdup_printf ("%d", epochs));
  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (a, g_strdup (fixed[i]));
  if (resume != NULL) {
    g_ptr_array_add (a, g_strdup ("--resume"));
    g_ptr_array_add (a, g_strdup (resume));
  }
  g_ptr_array_add (a, NULL);
  return a;
}

static void
run_to_end (const char *out, const char *resume, int epochs)
{
  g_autoptr (GPtrArray) argv = train_argv (out, resume, epochs);
  g_autofree char *sout = NULL, *serr = NULL;
  int status;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &sout, &serr, &status,
      &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("espcn-train failed (status %d): %s%s", status, sout, serr);
  g_assert_nonnull (strstr (sout, "val Y-PSNR"));
  /* stdout is a pipe here, not a terminal: the same lines go to OUT/train.log,
   * appended (a resumed run continues the log of the interrupted one). */
  g_autofree char *log_path = g_build_filename (out, "train.log", NULL);
  g_autofree char *log = NULL;
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  g_assert_true (g_str_has_suffix (log, sout));
}

/* Starts a run, waits for its first epoch line (training is under way, the output
 * is flushed per epoch), sends `sig`, and returns its stdout after it exits 0. */
static char *
run_and_signal (const char *out, int epochs, int sig)
{
  g_autoptr (GPtrArray) argv = train_argv (out, NULL, epochs);
  GPid pid;
  int out_fd;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
      &pid, NULL, &out_fd, NULL, &error));
  g_assert_no_error (error);
  GString *text = g_string_new (NULL);
  gboolean sent = FALSE;
  char buf[4096];
  for (;;) {
    ssize_t n = read (out_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    g_string_append_len (text, buf, n);
    if (!sent && strstr (text->str, "epoch 1/") != NULL) {
      g_assert_cmpint (kill (pid, sig), ==, 0);
      sent = TRUE;
    }
  }
  close (out_fd);
  int status;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_spawn_close_pid (pid);
  g_assert_true (sent);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    g_error ("espcn-train did not exit 0 after signal %d (status %d): %s", sig, status, text->str);
  return g_string_free (text, FALSE);
}

static void
test_signal_stops_with_checkpoint_and_resume_is_exact (gconstpointer data)
{
  int sig = GPOINTER_TO_INT (data);
  const int epochs = 10;
  g_autofree char *tmp = espcn_test_make_tmp_dir ("espcn-robust-XXXXXX");
  g_autofree char *out_a = g_build_filename (tmp, "a", NULL);
  g_autofree char *out_b = g_build_filename (tmp, "b", NULL);

  run_to_end (out_a, NULL, epochs);

  g_autofree char *text = run_and_signal (out_b, epochs, sig);
  g_autofree char *ckpt = g_build_filename (out_b, "none.safetensors", NULL);
  g_test_message ("interrupted run said: %s", text);
  g_assert_nonnull (strstr (text, "stopped at epoch"));
  g_assert_nonnull (strstr (text, "--resume"));
  g_assert_nonnull (strstr (text, ckpt));
  /* The signal came after epoch 1 of 10, so the run stopped well before its end. */
  g_assert_null (strstr (text, "epoch 10/10"));

  /* The checkpoint loads and says where the run stood. */
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_file (ckpt, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (espcn_safetensors_get_metadata (st, "format"), ==, "espcn-float-checkpoint");
  const char *ep = espcn_safetensors_get_metadata (st, "epoch");
  g_assert_nonnull (ep);
  g_assert_cmpint (atoi (ep), >=, 1);
  g_assert_cmpint (atoi (ep), <, epochs);

  run_to_end (out_b, ckpt, epochs);
  g_autofree char *ckpt_a = g_build_filename (out_a, "none.safetensors", NULL);
  g_autoptr (GBytes) a = espcn_test_tensor_bytes (ckpt_a);
  g_autoptr (GBytes) b = espcn_test_tensor_bytes (ckpt);
  g_assert_cmpuint (g_bytes_get_size (a), >, 1000);
  g_assert_true (g_bytes_equal (a, b));
}

static void
tiny_config (EspcnTrainConfig *cfg, const char *out)
{
  espcn_train_config_init (cfg);
  cfg->data_dir = g_strdup (data_dir);
  cfg->out_dir = g_strdup (out);
  cfg->scale = 2;
  cfg->features = 8;
  cfg->patch = 32;
  cfg->batch = 4;
  cfg->num_train = 8;
  cfg->num_val = 2;
  cfg->epochs = 3;
  cfg->threads = 1;
  cfg->export_int8 = FALSE;
}

static gboolean
has_temporary_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, "none.safetensors.") || g_str_has_prefix (name, "none.json."))
      return TRUE;
  return FALSE;
}

/* A full disk at the next checkpoint save: the run fails with the reason, the
 * checkpoint of the epoch before is still there, byte for byte, and resumable. */
static void
test_full_disk_at_checkpoint_keeps_the_previous_one (void)
{
  g_autofree char *tmp = espcn_test_make_tmp_dir ("espcn-robust-XXXXXX");
  EspcnTrainConfig cfg;
  EspcnTrainResult res;
  g_autoptr (GError) error = NULL;
  tiny_config (&cfg, tmp);
  cfg.stop_after = 2; /* one epoch of 8 images in batches of 4 */
  g_assert_true (espcn_train_run (&cfg, NULL, &res, &error));
  g_assert_no_error (error);
  g_assert_true (res.interrupted);
  g_autofree char *ckpt = g_strdup (res.checkpoint_path);
  espcn_train_result_clear (&res);
  g_autofree char *before = NULL;
  gsize before_len;
  g_assert_true (g_file_get_contents (ckpt, &before, &before_len, NULL));

  /* Resume; every file write now fails after 100 bytes, as on a full disk. */
  cfg.stop_after = 0;
  cfg.resume = g_strdup (ckpt);
  espcn_atomic_file_set_fail_after (100);
  gboolean ok = espcn_train_run (&cfg, NULL, &res, &error);
  espcn_atomic_file_set_fail_after (-1);
  g_assert_false (ok);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOSPC);
  g_test_message ("full disk: %s", error->message);
  g_assert_nonnull (strstr (error->message, ckpt));
  g_assert_nonnull (strstr (error->message, g_strerror (ENOSPC)));
  espcn_train_result_clear (&res);

  g_autofree char *after = NULL;
  gsize after_len;
  g_assert_true (g_file_get_contents (ckpt, &after, &after_len, NULL));
  g_assert_cmpmem (before, before_len, after, after_len);
  g_assert_false (has_temporary_files (tmp));

  /* ... and the surviving checkpoint still resumes to the end. */
  g_clear_error (&error);
  g_assert_true (espcn_train_run (&cfg, NULL, &res, &error));
  g_assert_no_error (error);
  g_assert_false (res.interrupted);
  g_assert_cmpuint (res.history->len, ==, 3);
  espcn_train_result_clear (&res);
  espcn_train_config_clear (&cfg);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  train_bin = g_getenv ("ESPCN_TRAIN");
  if (train_bin == NULL || !g_file_test (train_bin, G_FILE_TEST_IS_EXECUTABLE)) {
    g_printerr ("ESPCN_TRAIN must name the espcn-train binary\n");
    return 1;
  }
  g_autofree char *tmp = espcn_test_make_tmp_dir ("espcn-robust-data-XXXXXX");
  data_dir = g_strdup (tmp);
  write_images (data_dir, 60, 64, 48, 3);

  g_test_add_data_func ("/robust/train/sigint-stops-with-checkpoint-and-resume-is-exact", GINT_TO_POINTER (SIGINT),
      test_signal_stops_with_checkpoint_and_resume_is_exact);
  g_test_add_data_func ("/robust/train/sigterm-stops-with-checkpoint-and-resume-is-exact", GINT_TO_POINTER (SIGTERM),
      test_signal_stops_with_checkpoint_and_resume_is_exact);
  g_test_add_func ("/robust/train/full-disk-at-checkpoint-keeps-the-previous-one",
      test_full_disk_at_checkpoint_keeps_the_previous_one);
  int rc = g_test_run ();
  g_free (data_dir);
  return rc;
}
