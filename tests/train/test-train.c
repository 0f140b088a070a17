/* The training run: option checks, resume, learning on tiny data, each method end to end. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "image/image.h"
#include "image/image-io.h"
#include "io/safetensors.h"
#include "test-util.h"
#include "quant/quantizer.h"
#include "engine/model.h"
#include "eval/loadmodel.h"
#include "train/summary.h"
#include "train/trainer.h"
#include "util/rng.h"

/* Synthetic photographs-in-miniature: flat and shaded shapes with hard edges, the
 * structure bicubic blurs and a small network learns to restore. */
static void
make_images (const char *dir, int count, int w, int h, guint64 seed)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, seed);
  for (int n = 0; n < count; n++) {
    g_autoptr (EspcnImage) img = espcn_image_new (w, h);
    float base[3], gx[3];
    for (int c = 0; c < 3; c++) {
      base[c] = espcn_rng_uniform_range (&rng, 40, 200);
      gx[c] = espcn_rng_uniform_range (&rng, -0.5f, 0.5f);
    }
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        for (int c = 0; c < 3; c++)
          img->data[(y * w + x) * 3 + c] = (guint8) CLAMP (base[c] + gx[c] * x, 0, 255);
    for (int s = 0; s < 12; s++) {
      int x0 = (int) espcn_rng_below (&rng, (guint32) w), y0 = (int) espcn_rng_below (&rng, (guint32) h);
      int rw = 3 + (int) espcn_rng_below (&rng, (guint32) (w / 3)), rh = 3 + (int) espcn_rng_below (&rng, (guint32) (h / 3));
      gboolean disc = espcn_rng_below (&rng, 2);
      guint8 col[3];
      for (int c = 0; c < 3; c++)
        col[c] = (guint8) espcn_rng_below (&rng, 256);
      for (int y = y0; y < MIN (h, y0 + rh); y++)
        for (int x = x0; x < MIN (w, x0 + rw); x++) {
          if (disc) {
            float dx = (x - x0 - rw / 2.0f) / (rw / 2.0f), dy = (y - y0 - rh / 2.0f) / (rh / 2.0f);
            if (dx * dx + dy * dy > 1)
              continue;
          }
          memcpy (img->data + (y * w + x) * 3, col, 3);
        }
    }
    g_autofree char *path = g_strdup_printf ("%s/img%02d.png", dir, n);
    g_autoptr (GError) error = NULL;
    g_assert_true (espcn_image_save_png (img, path, &error));
  }
}

static char *data_dir;

static void
tiny_config (EspcnTrainConfig *cfg, const char *method, const char *out)
{
  espcn_train_config_init (cfg);
  g_free (cfg->method);
  cfg->method = g_strdup (method);
  cfg->data_dir = g_strdup (data_dir);
  cfg->out_dir = g_strdup (out);
  cfg->scale = 2;
  cfg->features = 16;
  cfg->patch = 32;
  cfg->batch = 8;
  cfg->num_train = 16;
  cfg->num_val = 4;
  cfg->epochs = 4;
  cfg->warmup_epochs = 1;
  cfg->lr = 3e-3;
  cfg->calib_batches = 2;
  /* These tests pin the training machinery from PyTorch's initialisation, where
   * every epoch visibly improves on the last; the interpolator start has its own
   * tests (tests/nn/test-init-interpolator.c, tests/eval/test-eval.c). */
  cfg->start = ESPCN_START_PLAIN;
}

static void
expect_invalid (EspcnTrainConfig *cfg, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (espcn_train_config_validate (cfg, &error));
  g_assert_nonnull (error);
  if (strstr (error->message, fragment) == NULL)
    g_error ("message '%s' does not mention '%s'", error->message, fragment);
}

static void
test_rejects_nonsense_options (void)
{
  EspcnTrainConfig cfg;
  g_autofree char *out = g_build_filename (g_get_tmp_dir (), "espcn-test-out", NULL);
  tiny_config (&cfg, "none", out);
  cfg.scale = 5;
  expect_invalid (&cfg, "scale 5");
  cfg.scale = 2;
  cfg.batch = 0;
  expect_invalid (&cfg, "batch 0");
  cfg.batch = 8;
  cfg.patch = 33;
  expect_invalid (&cfg, "not a multiple of the scale");
  cfg.patch = 32;
  cfg.augment.zoom_min = 0.1;
  expect_invalid (&cfg, "--zoom-min 0.1");
  cfg.augment.zoom_min = 1.5;
  expect_invalid (&cfg, "--zoom-min 1.5");
  cfg.augment.zoom_min = 1.0;
  cfg.weight_decay = -1e-4;
  expect_invalid (&cfg, "--weight-decay -0.0001");
  cfg.weight_decay = 0.0;
  g_free (cfg.method);
  cfg.method = g_strdup ("fp4");
  expect_invalid (&cfg, "unknown method 'fp4'");
  g_free (cfg.method);
  cfg.method = g_strdup ("lsq");
  cfg.warmup_epochs = 4;
  expect_invalid (&cfg, "never turn on");
  cfg.warmup_epochs = 1;
  g_assert_true (espcn_train_config_validate (&cfg, NULL));
  espcn_train_config_clear (&cfg);
}

static void
test_reports_missing_and_empty_data (void)
{
  g_autofree char *tmp = espcn_test_make_tmp_dir ("espcn-train-XXXXXX");
  g_autofree char *empty = g_build_filename (tmp, "empty", NULL);
  g_autofree char *missing = g_build_filename (tmp, "missing", NULL);
  g_autofree char *out = g_build_filename (tmp, "out", NULL);
  g_mkdir (empty, 0755);
  const char *dirs[] = { empty, missing };
  for (int i = 0; i < 2; i++) {
    EspcnTrainConfig cfg;
    tiny_config (&cfg, "none", out);
    g_free (cfg.data_dir);
    cfg.data_dir = g_strdup (dirs[i]);
    EspcnTrainResult res;
    g_autoptr (GError) error = NULL;
    g_assert_false (espcn_train_run (&cfg, NULL, &res, &error));
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, dirs[i]));
    espcn_train_result_clear (&res);
    espcn_train_config_clear (&cfg);
  }
}

static void
test_unwritable_output_is_an_error (void)
{
  g_autofree char *tmp = espcn_test_make_tmp_dir ("espcn-train-XXXXXX");
  g_autofree char *file = g_build_filename (tmp, "a-file", NULL);
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  g_autofree char *out = g_build_filename (file, "out", NULL); /* parent is a regular file */
  EspcnTrainConfig cfg;
  tiny_config (&cfg, "none", out);
  EspcnTrainResult res;
  g_autoptr (GError) error = NULL;
  g_assert_false (espcn_train_run (&cfg, NULL, &res, &error));
  g_assert_nonnull (strstr (error->message, "output folder"));
  espcn_train_result_clear (&res);
  espcn_train_config_clear (&cfg);
}


/* Interrupted mid-epoch (and again across the float -> quantized switch), then
 * resumed: the final checkpoint equals an uninterrupted run's, tensor for tensor. */
static void
test_resume_equals_uninterrupted (gconstpointer method)
{
  g_autofree char *tmp = espcn_test_make_tmp_dir ("espcn-train-XXXXXX");
  g_autofree char *out_a = g_build_filename (tmp, "a", NULL);
  g_autofree char *out_b = g_build_filename (tmp, "b", NULL);
  EspcnTrainConfig cfg;
  EspcnTrainResult res;
  g_autoptr (GError) error = NULL;

  /* "<method>+interp": from the interpolator start, with a learning-rate warm-up
   * that spans the interruptions */
  g_auto (GStrv) spec = g_strsplit (method, "+", 2);
  tiny_config (&cfg, spec[0], out_a);
  if (spec[1] != NULL) {
    cfg.start = ESPCN_START_INTERP;
    cfg.lr_warmup = 3;
  }
  cfg.epochs = 3;
  cfg.export_int8 = FALSE;
  g_assert_true (espcn_train_run (&cfg, NULL, &res, &error));
  g_assert_no_error (error);
  g_assert_false (res.interrupted);
  g_autofree char *ckpt_a = g_strdup (res.checkpoint_path);
  espcn_train_result_clear (&res);

  g_free (cfg.out_dir);
  cfg.out_dir = g_strdup (out_b);
  cfg.stop_after = 1; /* step 1 of epoch 1 */
  g_assert_true (espcn_train_run (&cfg, NULL, &res, &error));
  g_assert_true (res.interrupted);
  g_autofree char *ckpt_b = g_strdup (res.checkpoint_path);
  espcn_train_result_clear (&res);
  /* From the middle of epoch 1 to the middle of epoch 2 (quantization turns on between). */
  cfg.resume = g_strdup (ckpt_b);
  cfg.stop_after = 2;
  g_assert_true (espcn_train_run (&cfg, NULL, &res, &error));
  g_assert_true (res.interrupted);
  espcn_train_result_clear (&res);
  cfg.stop_after = 0;
  g_assert_true (espcn_train_run (&cfg, NULL, &res, &error));
  g_assert_no_error (error);
  g_assert_false (res.interrupted);
  g_assert_cmpuint (res.history->len, ==, 3);
  espcn_train_result_clear (&res);

  g_autoptr (GBytes) a = espcn_test_tensor_bytes (ckpt_a);
  g_autoptr (GBytes) b = espcn_test_tensor_bytes (ckpt_b);
  g_assert_true (g_bytes_equal (a, b));
  espcn_train_config_clear (&cfg);
}

static void
test_resume_refuses_other_options (void)
{
  g_autofree char *tmp = espcn_test_make_tmp_dir ("espcn-train-XXXXXX");
  EspcnTrainConfig cfg;
  EspcnTrainResult res;
  g_autoptr (GError) error = NULL;
  tiny_config (&cfg, "none", tmp);
  cfg.stop_after = 1;
  g_assert_true (espcn_train_run (&cfg, NULL, &res, &error));
  cfg.resume = g_strdup (res.checkpoint_path);
  espcn_train_result_clear (&res);
  cfg.stop_after = 0;
  cfg.seed = 7;
  g_assert_false (espcn_train_run (&cfg, NULL, &res, &error));
  g_assert_nonnull (strstr (error->message, "seed"));
  g_clear_error (&error);
  espcn_train_result_clear (&res);
  cfg.seed = 42;
  cfg.weight_decay = 0.0;
  g_assert_false (espcn_train_run (&cfg, NULL, &res, &error));
  g_assert_nonnull (strstr (error->message, "weight_decay"));
  espcn_train_result_clear (&res);
  espcn_train_config_clear (&cfg);
}

/* --act-bits 8: an int8-weight method trains on [0, 255] hidden activations; the
 * export stores conv2's and conv3's weights as int16 (the widening path) and says
 * so in its recipe, the checkpoint reloads on the same grid, a resume on the other
 * grid is refused, and methods or values without such a grid are refused. */
static void
test_act_bits_8_trains_and_exports_the_widening_grid (void)
{
  g_autofree char *tmp = espcn_test_make_tmp_dir ("espcn-train-XXXXXX");
  EspcnTrainConfig cfg;
  EspcnTrainResult res;
  g_autoptr (GError) error = NULL;
  tiny_config (&cfg, "lsq", tmp);
  cfg.act_bits = 8;
  cfg.epochs = 2;
  g_assert_true (espcn_train_run (&cfg, NULL, &res, &error));
  g_assert_no_error (error);
  g_autoptr (EspcnInt8Model) m = espcn_int8_model_load (res.int8_path, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 2; i++)
    g_assert_cmpint (espcn_int8_model_get_layer (m, i)->out_max, ==, ESPCN_ACT_QMAX_WIDE);
  g_assert_cmpint (espcn_int8_model_get_layer (m, 1)->weight_dtype, ==, ESPCN_WEIGHT_I16);
  g_assert_cmpint (espcn_int8_model_get_layer (m, 2)->weight_dtype, ==, ESPCN_WEIGHT_I16);
  g_assert_nonnull (strstr (espcn_int8_model_get_metadata (m, "recipe"), " --act-bits 8"));

  g_autoptr (EspcnEvalCheckpoint) ck = espcn_eval_checkpoint_load (res.checkpoint_path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (espcn_qat_model_act_quant (ck->qat, 0)->qmax, ==, ESPCN_ACT_QMAX_WIDE);
  g_assert_cmpint (espcn_qat_model_act_quant (ck->qat, 1)->qmax, ==, ESPCN_ACT_QMAX_WIDE);

  cfg.resume = g_strdup (res.checkpoint_path);
  espcn_train_result_clear (&res);
  cfg.act_bits = 0;
  g_assert_false (espcn_train_run (&cfg, NULL, &res, &error));
  g_assert_nonnull (strstr (error->message, "act_bits=8, this run has act_bits=7"));
  g_clear_error (&error);
  espcn_train_result_clear (&res);
  g_clear_pointer (&cfg.resume, g_free);

  cfg.act_bits = 6;
  expect_invalid (&cfg, "--act-bits 6: hidden activations have 7 or 8 bits");
  cfg.act_bits = 7;
  g_free (cfg.method);
  cfg.method = g_strdup ("apot");
  expect_invalid (&cfg, "apot quantizes hidden activations to 8 bits only");
  g_free (cfg.method);
  cfg.method = g_strdup ("none");
  expect_invalid (&cfg, "--act-bits 7: 'none' trains in float");

  /* --method all: the option reaches the int8-weight methods only. */
  cfg.act_bits = 8;
  g_autofree char *all_dir = g_build_filename (tmp, "all", NULL);
  g_free (cfg.out_dir);
  cfg.out_dir = g_strdup (all_dir);
  g_autofree char *table = NULL;
  g_assert_true (espcn_train_all (&cfg, 1, &table, &error));
  g_assert_no_error (error);
  const char *const bits8[] = { "lsq", "pact", "adaround", "ste", "apot", "dorefa" };
  for (gsize i = 0; i < G_N_ELEMENTS (bits8); i++) {
    g_autofree char *name = g_strdup_printf ("%s.bin", bits8[i]);
    g_autofree char *path = g_build_filename (all_dir, name, NULL);
    g_autoptr (EspcnInt8Model) mi = espcn_int8_model_load (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (espcn_int8_model_get_layer (mi, 0)->out_max, ==, ESPCN_ACT_QMAX_WIDE);
    gboolean named = strstr (espcn_int8_model_get_metadata (mi, "recipe"), "--act-bits 8") != NULL;
    g_assert_true (named == (i < 4));  /* APoT and DoReFa have no other grid */
  }
  espcn_train_config_clear (&cfg);
}

/* A short float run on tiny data learns: validation rises far from where it starts,
 * and the history has the documented keys.  (Ending above bicubic takes longer on
 * these colour shapes; test-beats-bicubic.c pins that on two-tone drawings.) */
static void
test_float_training_learns (void)
{
  g_autofree char *tmp = espcn_test_make_tmp_dir ("espcn-train-XXXXXX");
  EspcnTrainConfig cfg;
  EspcnTrainResult res;
  g_autoptr (GError) error = NULL;
  tiny_config (&cfg, "none", tmp);
  cfg.epochs = 60;
  cfg.features = 32;
  cfg.num_train = 64;
  cfg.batch = 16;
  g_assert_true (espcn_train_run (&cfg, NULL, &res, &error));
  g_assert_no_error (error);
  double first = g_array_index (res.history, EspcnEpochMetrics, 0).val_psnr_y;
  g_test_message ("float: val Y-PSNR %.3f dB after epoch 1, %.3f dB after %d epochs; bicubic %.3f dB (%.1f s)", first,
      res.final_psnr_y, cfg.epochs, res.bicubic_psnr_y, res.train_seconds);
  g_assert_cmpfloat (res.final_psnr_y, >, first + 5.0);
  /* The history file has one entry per epoch with the documented keys. */
  g_autofree char *hist = g_build_filename (tmp, "none.json", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (hist, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\"bicubic_psnr_y\""));
  g_assert_nonnull (strstr (text, "\"val_psnr_rgb\""));
  g_assert_nonnull (strstr (text, "\"val_ssim\""));
  g_assert_nonnull (strstr (text, "\"train_loss\""));
  espcn_train_result_clear (&res);
  espcn_train_config_clear (&cfg);
}

/* Each method, end to end on tiny data: validation improves from the first epoch
 * to the last, and the run exports an INT8 model. */
static void
test_method_improves_and_exports (gconstpointer method)
{
  g_autofree char *tmp = espcn_test_make_tmp_dir ("espcn-train-XXXXXX");
  EspcnTrainConfig cfg;
  EspcnTrainResult res;
  g_autoptr (GError) error = NULL;
  tiny_config (&cfg, method, tmp);
  cfg.epochs = 8;
  cfg.warmup_epochs = 2;
  gboolean ok = espcn_train_run (&cfg, NULL, &res, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  double first = g_array_index (res.history, EspcnEpochMetrics, 0).val_psnr_y;
  g_test_message ("%s: val Y-PSNR %.3f dB after epoch 1, %.3f dB at the end (bicubic %.3f)", (const char *) method,
      first, res.final_psnr_y, res.bicubic_psnr_y);
  g_assert_cmpfloat (res.final_psnr_y, >, first + 0.5);
  g_assert_nonnull (res.int8_path);
  g_assert_true (g_file_test (res.int8_path, G_FILE_TEST_IS_REGULAR));
  espcn_train_result_clear (&res);
  espcn_train_config_clear (&cfg);
}

/* QAT fine-tuned from a trained float model (--init, no warm-up) starts where the
 * float model ended instead of from scratch. */
static void
test_init_starts_from_trained_weights (void)
{
  g_autofree char *tmp = espcn_test_make_tmp_dir ("espcn-train-XXXXXX");
  EspcnTrainConfig cfg;
  EspcnTrainResult res;
  g_autoptr (GError) error = NULL;
  tiny_config (&cfg, "none", tmp);
  cfg.epochs = 20;
  cfg.weight_decay = 0.0;
  g_assert_true (espcn_train_run (&cfg, NULL, &res, &error));
  double float_psnr = res.final_psnr_y;
  g_autofree char *ckpt = g_strdup (res.checkpoint_path);
  espcn_train_result_clear (&res);
  espcn_train_config_clear (&cfg);

  tiny_config (&cfg, "ste", tmp);
  cfg.init = g_strdup (ckpt);
  cfg.warmup_epochs = 0;
  cfg.epochs = 1;
  cfg.lr = 1e-4;
  g_assert_true (espcn_train_run (&cfg, NULL, &res, &error));
  g_assert_no_error (error);
  g_test_message ("float %.3f dB; STE after one fine-tuning epoch from it %.3f dB", float_psnr, res.final_psnr_y);
  g_assert_cmpfloat (res.final_psnr_y, >, float_psnr - 1.0);
  /* The INT8 model records both recipes: its own, and that of its starting point. */
  g_autoptr (EspcnInt8Model) m = espcn_int8_model_load (res.int8_path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (espcn_int8_model_get_metadata (m, "recipe"), "--init "));
  const char *base = espcn_int8_model_get_metadata (m, "init_recipe");
  g_assert_nonnull (base);
  g_assert_nonnull (strstr (base, "--method none"));
  g_assert_nonnull (strstr (base, "--epochs 20"));
  g_assert_nonnull (strstr (base, "--weight-decay 0"));
  espcn_train_result_clear (&res);

  /* A checkpoint of another scale is refused with a message. */
  cfg.scale = 3;
  cfg.patch = 33;
  g_assert_false (espcn_train_run (&cfg, NULL, &res, &error));
  g_assert_nonnull (strstr (error->message, "x2 model"));
  espcn_train_result_clear (&res);
  espcn_train_config_clear (&cfg);
}

typedef struct {
  GArray *kinds;       /* EspcnTrainEventKind, in order */
  GPtrArray *notices;
  GArray *etas;        /* of the EPOCH events */
  gint64 last_steps_done;
} Events;

static void
collect_event (const EspcnTrainEvent *ev, gpointer data)
{
  Events *e = data;
  g_array_append_val (e->kinds, ev->kind);
  g_assert_cmpstr (ev->method, ==, "adaround");
  if (ev->kind == ESPCN_TRAIN_EVENT_NOTICE)
    g_ptr_array_add (e->notices, g_strdup (ev->text));
  if (ev->kind == ESPCN_TRAIN_EVENT_STEP || ev->kind == ESPCN_TRAIN_EVENT_EPOCH) {
    g_assert_cmpint (ev->steps_done, >=, e->last_steps_done);
    e->last_steps_done = ev->steps_done;
  }
  if (ev->kind == ESPCN_TRAIN_EVENT_EPOCH) {
    g_assert_nonnull (ev->metrics);
    g_assert_cmpint (ev->metrics->epoch, ==, ev->epoch);
    g_assert_cmpint (ev->steps_done, ==, (gint64) ev->epoch * ev->steps_per_epoch);
    double eta = espcn_train_event_eta (ev);
    g_array_append_val (e->etas, eta);
  }
}

static gboolean
has_notice (const Events *e, const char *fragment)
{
  for (guint i = 0; i < e->notices->len; i++)
    if (strstr (g_ptr_array_index (e->notices, i), fragment) != NULL)
      return TRUE;
  return FALSE;
}

/* The run prints nothing itself: it reports a START, a STEP per optimizer step, an
 * EPOCH per epoch with the run's remaining time, and its notices. */
static void
test_reports_progress_through_the_callback (void)
{
  g_autofree char *tmp = espcn_test_make_tmp_dir ("espcn-train-XXXXXX");
  EspcnTrainConfig cfg;
  EspcnTrainResult res;
  g_autoptr (GError) error = NULL;
  tiny_config (&cfg, "adaround", tmp);
  cfg.epochs = 3;
  Events e = { g_array_new (FALSE, FALSE, sizeof (EspcnTrainEventKind)), g_ptr_array_new_with_free_func (g_free),
               g_array_new (FALSE, FALSE, sizeof (double)), 0 };
  cfg.report = collect_event;
  cfg.report_data = &e;
  g_assert_true (espcn_train_run (&cfg, NULL, &res, &error));
  guint counts[4] = { 0 };
  for (guint i = 0; i < e.kinds->len; i++)
    counts[g_array_index (e.kinds, EspcnTrainEventKind, i)]++;
  g_assert_cmpint (g_array_index (e.kinds, EspcnTrainEventKind, 0), ==, ESPCN_TRAIN_EVENT_START);
  g_assert_cmpuint (counts[ESPCN_TRAIN_EVENT_START], ==, 1);
  g_assert_cmpuint (counts[ESPCN_TRAIN_EVENT_EPOCH], ==, 3);
  g_assert_cmpuint (counts[ESPCN_TRAIN_EVENT_STEP], ==, 3 * 2);  /* 16 images, batch 8 */
  g_assert_true (has_notice (&e, "epoch 2: quantization on (adaround)"));
  g_assert_true (has_notice (&e, "activation scales calibrated"));
  g_assert_true (has_notice (&e, "INT8 model: "));
  g_assert_cmpfloat (g_array_index (e.etas, double, 0), >, 0.0);
  g_assert_cmpfloat (g_array_index (e.etas, double, 2), ==, 0.0);
  espcn_train_result_clear (&res);
  espcn_train_config_clear (&cfg);
  g_array_unref (e.kinds);
  g_ptr_array_unref (e.notices);
  g_array_unref (e.etas);
}

/* --method all --repeats 2: every method runs with two seeds on the same images,
 * each run in OUT/seed-<seed>/, and the summary's mean, sd and range are those of
 * the runs' own results. */
static void
test_repeats_report_mean_and_spread (void)
{
  g_autofree char *tmp = espcn_test_make_tmp_dir ("espcn-train-XXXXXX");
  EspcnTrainConfig cfg;
  g_autoptr (GError) error = NULL;
  tiny_config (&cfg, "none", tmp);
  cfg.epochs = 2;
  cfg.warmup_epochs = 1;
  cfg.export_int8 = FALSE;
  g_autofree char *table = NULL;
  g_assert_false (espcn_train_all (&cfg, 0, &table, &error));
  g_assert_nonnull (strstr (error->message, "--repeats 0"));
  g_clear_error (&error);
  g_assert_true (espcn_train_all (&cfg, 2, &table, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (table, "2 runs per method"));

  g_autofree char *csv_path = g_build_filename (tmp, "summary.csv", NULL);
  g_autofree char *csv = NULL;
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (g_strstrip (csv), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 1 + 1 + 7); /* header, bicubic, float and six methods */
  g_assert_true (g_str_has_prefix (lines[0], "method,runs,val_psnr_y,val_psnr_y_sd,val_psnr_y_min,val_psnr_y_max,"));
  for (int i = 2; lines[i] != NULL; i++) {
    g_auto (GStrv) f = g_strsplit (lines[i], ",", -1);
    g_assert_cmpstr (f[1], ==, "2");
    double mean = g_ascii_strtod (f[2], NULL), sd = g_ascii_strtod (f[3], NULL);
    double lo = g_ascii_strtod (f[4], NULL), hi = g_ascii_strtod (f[5], NULL);
    /* the runs' own results, from their histories */
    double v[2];
    for (int r = 0; r < 2; r++) {
      g_autofree char *name = g_strdup_printf ("seed-%d/%s.json", 42 + r, f[0]);
      g_autofree char *path = g_build_filename (tmp, name, NULL);
      g_autoptr (JsonParser) p = json_parser_new ();
      g_assert_true (json_parser_load_from_file (p, path, NULL));
      v[r] = json_object_get_double_member (json_node_get_object (json_parser_get_root (p)), "final_psnr_y");
    }
    g_assert_cmpfloat (fabs (mean - (v[0] + v[1]) / 2), <, 1e-3);
    g_assert_cmpfloat (fabs (sd - fabs (v[0] - v[1]) / sqrt (2.0)), <, 1e-3);
    g_assert_cmpfloat (fabs (lo - MIN (v[0], v[1])), <, 1e-3);
    g_assert_cmpfloat (fabs (hi - MAX (v[0], v[1])), <, 1e-3);
    /* float's row compares nothing; the others carry the noise of their difference */
    if (i == 2)
      g_assert_cmpstr (f[11], ==, "");
    else
      g_assert_cmpfloat (g_ascii_strtod (f[11], NULL), >, 0);
  }
  espcn_train_config_clear (&cfg);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *tmp = espcn_test_make_tmp_dir ("espcn-train-data-XXXXXX");
  data_dir = g_strdup (tmp);
  make_images (data_dir, 72, 96, 72, 11);

  g_test_add_func ("/train/rejects-nonsense-options", test_rejects_nonsense_options);
  g_test_add_func ("/train/reports-missing-and-empty-data", test_reports_missing_and_empty_data);
  g_test_add_func ("/train/unwritable-output-is-an-error", test_unwritable_output_is_an_error);
  g_test_add_data_func ("/train/resume-equals-uninterrupted/none", "none", test_resume_equals_uninterrupted);
  g_test_add_data_func ("/train/resume-equals-uninterrupted/lsq", "lsq", test_resume_equals_uninterrupted);
  g_test_add_data_func ("/train/resume-equals-uninterrupted/ste", "ste", test_resume_equals_uninterrupted);
  /* DoReFa's adoption gain is state: set at the switch, kept across the last resume. */
  g_test_add_data_func ("/train/resume-equals-uninterrupted/dorefa-interpolator-start", "dorefa+interp",
      test_resume_equals_uninterrupted);
  g_test_add_data_func ("/train/resume-equals-uninterrupted/lsq-interpolator-start", "lsq+interp",
      test_resume_equals_uninterrupted);
  g_test_add_func ("/train/resume-refuses-other-options", test_resume_refuses_other_options);
  g_test_add_func ("/train/float-training-learns", test_float_training_learns);
  g_test_add_func ("/train/act-bits-8-trains-and-exports-the-widening-grid",
      test_act_bits_8_trains_and_exports_the_widening_grid);
  g_test_add_func ("/train/repeats-report-mean-and-spread", test_repeats_report_mean_and_spread);
  g_test_add_func ("/train/init-starts-from-trained-weights", test_init_starts_from_trained_weights);
  g_test_add_func ("/train/reports-progress-through-the-callback", test_reports_progress_through_the_callback);
  const char *const *m = espcn_quant_methods ();
  for (int i = 0; m[i] != NULL; i++) {
    g_autofree char *name = g_strdup_printf ("/train/method-improves-and-exports/%s", m[i]);
    g_test_add_data_func (name, m[i], test_method_improves_and_exports);
  }
  return g_test_run ();
}
