/* espcn-train: train ESPCN in float or with one of six INT8 quantization-aware
 * methods; `--method all` runs the whole reference experiment. */
#include <errno.h>
#include <gio/gio.h>
#include <math.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quant/quantizer.h"
#include "train/summary.h"
#include "train/trainer.h"
#include "util/atomic-file.h"

static void
on_signal (int sig)
{
  (void) sig;
  espcn_train_request_stop ();
}

/* How the run is shown: notices and one line per epoch on stdout (warnings on
 * stderr), a redrawn step line on a terminal's stderr, and the same lines in
 * OUT/train.log when stdout is not a terminal (a batch job's record). */
typedef struct {
  const EspcnTrainConfig *cfg;
  gboolean quiet;
  gboolean redraw;     /* step lines redrawn on stderr */
  gboolean drawn;      /* a step line is showing */
  gboolean want_log;
  FILE *log;
} Renderer;

static void
format_eta (double s, char *buf, gsize len)
{
  int t = (int) (s + 0.5);
  g_snprintf (buf, len, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
}

static void
emit (Renderer *r, FILE *to, const char *line)
{
  if (r->drawn) {
    fputs ("\r\033[K", stderr);
    r->drawn = FALSE;
  }
  fprintf (to, "%s\n", line);
  fflush (to);
  if (r->want_log && r->log == NULL && r->cfg->out_dir != NULL) {
    g_autofree char *path = g_build_filename (r->cfg->out_dir, "train.log", NULL);
    r->want_log = FALSE;   /* one attempt */
    if (g_mkdir_with_parents (r->cfg->out_dir, 0755) == 0)
      r->log = fopen (path, "a");
    if (r->log == NULL)
      fprintf (stderr, "espcn-train: cannot write %s: %s (continuing without a log)\n", path, g_strerror (errno));
  }
  if (r->log != NULL) {
    fprintf (r->log, "%s\n", line);
    fflush (r->log);
  }
}

static void
on_event (const EspcnTrainEvent *ev, gpointer data)
{
  Renderer *r = data;
  char eta[32] = "";
  double left = espcn_train_event_eta (ev);
  if (left >= 0)
    format_eta (left, eta, sizeof eta);
  g_autofree char *line = NULL;
  switch (ev->kind) {
  case ESPCN_TRAIN_EVENT_NOTICE:
    if (ev->level == ESPCN_NOTICE_WARNING)
      emit (r, stderr, ev->text);
    else if (!r->quiet)
      emit (r, stdout, ev->text);
    return;
  case ESPCN_TRAIN_EVENT_START: {
    g_autofree char *classes = ev->n_classes > 0
        ? g_strdup_printf (" (%u classes, drawn class by class)", ev->n_classes) : g_strdup ("");
    line = g_strdup_printf ("%s x%d: %u train%s / %u val images, %" G_GINT64_FORMAT " steps of %d per epoch, %d epochs "
                            "(bicubic val Y-PSNR %.3f dB)", ev->method, r->cfg->scale, ev->n_train, classes, ev->n_val,
        ev->steps_per_epoch, ev->batch, ev->epochs, ev->bicubic_psnr_y);
    break;
  }
  case ESPCN_TRAIN_EVENT_STEP:
    if (r->redraw && !r->quiet) {
      double rate = ev->steps_this_run * (double) ev->batch / MAX (ev->seconds_this_run, 1e-9);
      fprintf (stderr, "\r%s epoch %d/%d step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " loss %.5f %.1f patches/s ETA %s  ",
          ev->method, ev->epoch, ev->epochs, ev->step, ev->steps_per_epoch, ev->loss, rate, eta);
      fflush (stderr);
      r->drawn = TRUE;
    }
    return;
  case ESPCN_TRAIN_EVENT_EPOCH: {
    const EspcnEpochMetrics *m = ev->metrics;
    g_autofree char *val = isfinite (m->val_psnr_y)
        ? g_strdup_printf ("  val Y-PSNR %.3f dB (bicubic %.3f)  RGB %.3f  SSIM %.4f", m->val_psnr_y,
              ev->bicubic_psnr_y, m->val_psnr_rgb, m->val_ssim)
        : g_strdup ("");
    line = g_strdup_printf ("%s epoch %d/%d  loss %.5f%s  %.1f s%s%s", ev->method, m->epoch, ev->epochs, m->train_loss,
        val, m->seconds, ev->steps_done < ev->total_steps ? "  ETA " : "", ev->steps_done < ev->total_steps ? eta : "");
    break;
  }
  }
  if (!r->quiet)
    emit (r, stdout, line);
}

static int
fail (Renderer *r, const char *what, const GError *error)
{
  g_autofree char *line = g_strdup_printf ("espcn-train: %s%s%s", what ? what : "", what ? ": " : "",
      error ? error->message : "failed");
  r->want_log = FALSE;   /* into an open log only: a rejected command creates no folder */
  emit (r, stderr, line);
  return 1;
}

int
main (int argc, char **argv)
{
  EspcnTrainConfig cfg;
  espcn_train_config_init (&cfg);

  g_autofree char *data = NULL, *out = NULL, *method = NULL, *resume = NULL, *init = NULL, *loss = NULL, *start = NULL,
                   *channels = NULL;
  gint64 seed = 42, stop_after = 0;
  gboolean bench = FALSE, no_progress = FALSE, quiet = FALSE, no_export = FALSE, lsq_linear = FALSE;
  int bits = 8, repeats = 1;
  GOptionEntry entries[] = {
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data, "Training data: a Food-101 tree (images/, meta/train.txt, meta/test.txt) or a folder of PNG/JPEG images", "DIR" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Output folder for checkpoints, OUT/<method>.json histories and INT8 models", "DIR" },
    { "method", 0, 0, G_OPTION_ARG_STRING, &method, "none (float), lsq, pact, adaround, apot, dorefa, ste, or all (float and the six methods, one summary table) [none]", "M" },
    { "scale", 0, 0, G_OPTION_ARG_INT, &cfg.scale, "Upscaling factor: 2, 3 or 4 [4]", "S" },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &cfg.epochs, "Epochs [30]", "N" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &cfg.warmup_epochs, "Float epochs before quantization turns on [2]", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &cfg.batch, "Patches per step [16]", "N" },
    { "patch", 0, 0, G_OPTION_ARG_INT, &cfg.patch, "HR patch side in pixels, a multiple of the scale [192]", "PX" },
    { "dihedral", 0, 0, G_OPTION_ARG_NONE, &cfg.augment.dihedral, "Augment: each patch in one of its 8 flips / 90-degree rotations", NULL },
    { "balance-classes", 0, 0, G_OPTION_ARG_NONE, &cfg.augment.balance_classes, "Draw each epoch's images class by class (the folder an image is in), every class equally likely, not image by image", NULL },
    { "zoom-min", 0, 0, G_OPTION_ARG_DOUBLE, &cfg.augment.zoom_min, "Augment: each HR patch cut from a square up to patch/Z wide, shrunk to the patch (MATLAB bicubic); Z in [0.25, 1], 1 = off [1]", "Z" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &cfg.lr, "Adam learning rate, cosine-annealed per step to 0 [1e-3]", "LR" },
    { "lr-warmup", 0, 0, G_OPTION_ARG_INT, &cfg.lr_warmup, "Steps of linear learning-rate warm-up from 0 [0]", "STEPS" },
    { "act-bits", 0, 0, G_OPTION_ARG_INT, &cfg.act_bits, "Bits of the hidden activations for lsq, pact, adaround and ste: 7 keeps conv2 and conv3 on the fast int8 path, 8 doubles their levels and stores those layers' weights as int16 (the exact widening path, slower); apot and dorefa always use 8 [7]", "7|8" },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &cfg.weight_decay, "L2 weight decay of the network's weights and biases, added to the gradient as PyTorch's Adam does [1e-4]", "WD" },
    { "loss", 0, 0, G_OPTION_ARG_STRING, &loss, "l1, l2 or charbonnier [l1]", "L" },
    { "channels", 0, 0, G_OPTION_ARG_STRING, &channels, "rgb (the network reads and writes R, G, B) or y (the luma network on BT.601 Y, for YUV video) [rgb]", "C" },
    { "features", 0, 0, G_OPTION_ARG_INT, &cfg.features, "Feature width F of conv1 (conv2 has F/2) [64]", "F" },
    { "num-train", 0, 0, G_OPTION_ARG_INT, &cfg.num_train, "Training images drawn from the train split [200]", "N" },
    { "num-val", 0, 0, G_OPTION_ARG_INT, &cfg.num_val, "Validation images drawn from the validation split [50]", "N" },
    { "repeats", 0, 0, G_OPTION_ARG_INT, &repeats, "With --method all: train each method with N seeds (--seed, --seed + 1, ...) on the same images and report mean and spread [1]", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed for initialisation, image choice, order and crops [42]", "N" },
    { "val-every", 0, 0, G_OPTION_ARG_INT, &cfg.val_every, "Validate every N epochs and after the last [1]", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &cfg.threads, "Threads, 0 = all cores [0]", "N" },
    { "bits", 0, 0, G_OPTION_ARG_INT, &bits, "Quantization bits: only 8 is supported [8]", "B" },
    { "lsq-linear-steps", 0, 0, G_OPTION_ARG_NONE, &lsq_linear, "Train LSQ step sizes on s itself, as the reference experiment (collapses with Adam at 10x lr); default: in log space", NULL },
    { "resume", 0, 0, G_OPTION_ARG_FILENAME, &resume, "Continue from this checkpoint (same options as the run that wrote it)", "CKPT" },
    { "init", 0, 0, G_OPTION_ARG_FILENAME, &init, "Start from the weights of this checkpoint (e.g. QAT fine-tuned from a trained float model; use --warmup 0)", "CKPT" },
    { "start", 0, 0, G_OPTION_ARG_STRING, &start, "Initialisation: interp (the network starts as a 3x3 interpolator fitted by least squares to training pairs) or plain (PyTorch's default) [interp]", "S" },
    { "stop-after", 0, 0, G_OPTION_ARG_INT64, &stop_after, "Stop with a checkpoint after this many steps, as an interruption would (for resume tests)", "STEPS" },
    { "no-export", 0, 0, G_OPTION_ARG_NONE, &no_export, "Do not write the INT8 model after a quantized run", NULL },
    { "no-progress", 0, 0, G_OPTION_ARG_NONE, &no_progress, "Plain lines even on a terminal", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only errors and the final result", NULL },
    { "bench", 0, 0, G_OPTION_ARG_NONE, &bench, "Time float training steps of the configuration on random data and exit", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- train ESPCN super-resolution, float or INT8 quantization-aware");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
      "Writes OUT/<method>.safetensors (float checkpoint, resumable), OUT/<method>.json (one entry per epoch),\n"
      "and for quantized methods OUT/<method>.bin (the INT8 model for the engine and the GStreamer element).\n"
      "SIGINT or SIGTERM writes a checkpoint and exits; --resume continues to the same result.\n"
      "With --method all: OUT/summary.csv, OUT/summary.json and OUT/summary.svg (with --repeats N: mean and\n"
      "spread over N seeds, the runs in OUT/seed-<seed>/).\n"
      "Prints one line per epoch with the time left for the run; when stdout is not a terminal the same\n"
      "lines are also appended to OUT/train.log.\n");
  g_autoptr (GError) error = NULL;
  Renderer view = { .cfg = &cfg };
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return fail (&view, NULL, error);
  cfg.lsq_log_steps = !lsq_linear;
  if (argc > 1) {
    fprintf (stderr, "espcn-train: unexpected argument '%s' (see --help)\n", argv[1]);
    return 1;
  }
  if (bits != 8) {
    fprintf (stderr, "espcn-train: --bits %d is not supported: every method here is INT8 (--bits 8)\n", bits);
    return 1;
  }
  if (seed < 0) {
    fprintf (stderr, "espcn-train: --seed must not be negative\n");
    return 1;
  }
  cfg.seed = (guint64) seed;
  cfg.stop_after = stop_after;
  view.quiet = quiet;
  view.redraw = !no_progress && isatty (STDERR_FILENO);
  view.want_log = !isatty (STDOUT_FILENO);
  cfg.report = on_event;
  cfg.report_data = &view;
  cfg.export_int8 = !no_export;
  if (loss != NULL && !espcn_loss_from_name (loss, &cfg.loss, &error))
    return fail (&view, NULL, error);
  if (start != NULL && !espcn_start_from_name (start, &cfg.start, &error))
    return fail (&view, NULL, error);
  if (channels != NULL) {
    if (g_strcmp0 (channels, "y") == 0)
      cfg.channels = 1;
    else if (g_strcmp0 (channels, "rgb") == 0)
      cfg.channels = 3;
    else {
      fprintf (stderr, "espcn-train: --channels '%s': choose rgb or y (luma)\n", channels);
      return 1;
    }
  }

  if (bench) {
    int threads = cfg.threads > 0 ? cfg.threads : (int) g_get_num_processors ();
    if (cfg.patch % cfg.scale != 0 || cfg.scale < 2 || cfg.scale > 4 || cfg.batch < 1) {
      fprintf (stderr, "espcn-train: --bench needs scale 2..4, batch >= 1 and a patch that is a multiple of the scale\n");
      return 1;
    }
    EspcnTrainBench b;
    const int steps = 15;
    if (!espcn_train_bench (cfg.scale, cfg.features, cfg.batch, cfg.patch, cfg.num_train, threads, steps, &b)) {
      fprintf (stderr, "espcn-train: --bench: the model rejects this configuration\n");
      return 1;
    }
    printf ("float training step, x%d, batch %d, HR patch %d, %d features: median %.1f ms over %d steps "
            "(min %.1f, max %.1f); %.2f s per epoch of %d patches (%d steps)\n",
        cfg.scale, cfg.batch, cfg.patch, cfg.features, b.median_ms, steps, b.min_ms, b.max_ms, b.epoch_seconds,
        cfg.num_train, b.steps_per_epoch);
    return 0;
  }

  g_free (cfg.method);
  cfg.method = g_strdup (method ? method : "none");
  cfg.data_dir = g_strdup (data);
  cfg.out_dir = g_strdup (out);
  cfg.resume = g_strdup (resume);
  cfg.init = g_strdup (init);

  struct sigaction sa = { 0 };
  sa.sa_handler = on_signal;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);

  int rc = 0;
  if (g_strcmp0 (cfg.method, "all") == 0) {
    if (cfg.resume != NULL) {
      fprintf (stderr, "espcn-train: --resume continues one method's run: give that --method\n");
      espcn_train_config_clear (&cfg);
      return 1;
    }
    g_autofree char *table = NULL;
    if (!espcn_train_all (&cfg, repeats, &table, &error))
      rc = fail (&view, NULL, error);
    else
      emit (&view, stdout, g_strchomp (table));
  } else if (repeats != 1) {
    fprintf (stderr, "espcn-train: --repeats needs --method all (one method's seeds: run it with --seed N each)\n");
    rc = 1;
  } else {
    EspcnTrainResult res;
    if (!espcn_train_run (&cfg, NULL, &res, &error)) {
      rc = fail (&view, NULL, error);
    } else if (!res.interrupted) {
      g_autofree char *line = g_strdup_printf ("%s: val Y-PSNR %.3f dB (bicubic %.3f dB, %+.3f dB)  RGB PSNR %.3f dB  "
                                               "SSIM %.4f  in %.1f s", cfg.method, res.final_psnr_y,
          res.bicubic_psnr_y, res.final_psnr_y - res.bicubic_psnr_y, res.final_psnr_rgb, res.final_ssim,
          res.train_seconds);
      emit (&view, stdout, line);
    }
    espcn_train_result_clear (&res);
  }
  espcn_train_config_clear (&cfg);
  if (view.log != NULL)
    fclose (view.log);
  return rc;
}
