/* Tests of the evaluator (core/eval) and the espcn-eval, espcn-export and
 * espcn-inspect tools, on a tiny generated image folder and an LSQ model trained
 * for two epochs on it. */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "data/dataset.h"
#include "engine/engine.h"
#include "engine/model.h"
#include "eval/eval-report.h"
#include "eval/evaluate.h"
#include "eval/loadmodel.h"
#include "image/image-io.h"
#include "image/imresize.h"
#include "metrics/metrics.h"
#include "quant/quantizer.h"
#include "train/trainer.h"
#include "util/rng.h"
#include "test-util.h"

static char *tmp_dir, *data_dir, *ckpt_path, *int8_path;

/* Smooth colour ramps with random rectangles: edges for the model to learn. */
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
          img->data[(y * w + x) * 3 + c] = (guint8) ((x * (c + 1) * 3 + y * (3 - c) * 2 + n * 17) % 200 + 30);
    for (int r = 0; r < 10; r++) {
      int x0 = (int) espcn_rng_below (&rng, (guint32) w), y0 = (int) espcn_rng_below (&rng, (guint32) h);
      int rw = 2 + (int) espcn_rng_below (&rng, (guint32) w / 3), rh = 2 + (int) espcn_rng_below (&rng, (guint32) h / 3);
      guint8 col[3] = { (guint8) espcn_rng_below (&rng, 256), (guint8) espcn_rng_below (&rng, 256),
                        (guint8) espcn_rng_below (&rng, 256) };
      for (int y = y0; y < MIN (h, y0 + rh); y++)
        for (int x = x0; x < MIN (w, x0 + rw); x++)
          memcpy (img->data + (y * w + x) * 3, col, 3);
    }
    g_autofree char *path = g_strdup_printf ("%s/img%02d.png", dir, n);
    g_autoptr (GError) error = NULL;
    g_assert_true (espcn_image_save_png (img, path, &error));
  }
}

static char *
run_tool (const char *env_var, const char *const *args, int *status, char **err_out)
{
  const char *tool = g_getenv (env_var);
  if (tool == NULL)
    g_error ("%s is not set: run through meson test", env_var);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) tool);
  for (int i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  char *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, status,
      &error));
  if (err_out != NULL)
    *err_out = err;
  else
    g_free (err);
  return out;
}

static gboolean
exited_ok (int status)
{
  return g_spawn_check_wait_status (status, NULL);
}

static void
test_bicubic_matches_direct_computation (void)
{
  const int scale = 3;
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnEvalSet) set = espcn_eval_set_open (data_dir, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (espcn_eval_set_size (set), ==, 3);
  g_autoptr (EspcnEvalModel) bic = espcn_eval_model_new_bicubic (scale);
  EspcnEvalOptions opts = { 0 };
  EspcnEvalResult res;
  g_assert_true (espcn_eval_run (set, scale, &bic, 1, &opts, &res, &error));
  g_assert_no_error (error);

  double want[3] = { 0, 0, 0 };
  for (int i = 0; i < 3; i++) {
    g_autofree char *path = g_strdup_printf ("%s/img%02d.png", data_dir, i);
    g_autoptr (EspcnImage) img = espcn_image_load (path, &error);
    g_assert_no_error (error);
    g_autoptr (EspcnImage) hr = espcn_image_modcrop (img, scale);
    g_assert_cmpint (hr->width, ==, 99);  /* 100 x 74 images: the modcrop matters */
    g_autoptr (EspcnImage) lr = espcn_imresize_scale (hr, 1.0 / scale);
    g_autoptr (EspcnImage) up = espcn_imresize (lr, hr->width, hr->height);
    want[0] += espcn_psnr_y (up, hr, scale) / 3;
    want[1] += espcn_psnr_rgb (up, hr, scale) / 3;
    want[2] += espcn_ssim_y (up, hr, scale) / 3;
  }
  g_assert_cmpfloat_with_epsilon (res.scores[0].psnr_y, want[0], 1e-9);
  g_assert_cmpfloat_with_epsilon (res.scores[0].psnr_rgb, want[1], 1e-9);
  g_assert_cmpfloat_with_epsilon (res.scores[0].ssim, want[2], 1e-12);
  g_test_message ("bicubic x3 on 3 images: Y-PSNR %.3f RGB %.3f SSIM %.4f", want[0], want[1], want[2]);
  espcn_eval_result_clear (&res);
}

/* A tiny x2 training on the generated images, into tmp_dir/out_name. */
static void
tiny_config (EspcnTrainConfig *cfg, const char *method, const char *out_name)
{
  espcn_train_config_init (cfg);
  g_free (cfg->method);
  cfg->method = g_strdup (method);
  cfg->data_dir = g_strdup (data_dir);
  cfg->out_dir = g_build_filename (tmp_dir, out_name, NULL);
  cfg->scale = 2;
  cfg->features = 16;
  cfg->patch = 32;
  cfg->batch = 4;
  cfg->num_train = 16;
  cfg->num_val = 4;
}

static void
check_engine_matches_fake_quant (const char *ckpt, const char *int8)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) models = g_ptr_array_new_with_free_func ((GDestroyNotify) espcn_eval_model_free);
  g_assert_true (espcn_eval_models_open (ckpt, 2, models, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (models->len, ==, 2);  /* float and fake-quant */
  g_assert_true (espcn_eval_models_open (int8, 2, models, &error));
  g_assert_cmpuint (models->len, ==, 3);
  g_assert_cmpint (espcn_eval_model_get_kind (g_ptr_array_index (models, 0)), ==, ESPCN_EVAL_FLOAT);
  g_assert_cmpint (espcn_eval_model_get_kind (g_ptr_array_index (models, 1)), ==, ESPCN_EVAL_FAKE_QUANT);
  g_assert_cmpint (espcn_eval_model_get_kind (g_ptr_array_index (models, 2)), ==, ESPCN_EVAL_INT8);

  g_autoptr (EspcnEvalSet) set = espcn_eval_set_open (data_dir, 0, &error);
  g_assert_no_error (error);
  EspcnEvalOptions opts = { 0 };
  EspcnEvalResult res;
  g_assert_true (espcn_eval_run (set, 2, (EspcnEvalModel *const *) models->pdata, models->len, &opts, &res, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (res.pairs->len, ==, 1);
  const EspcnEvalPair *p = &g_array_index (res.pairs, EspcnEvalPair, 0);
  g_assert_cmpuint (p->a, ==, 1);
  g_assert_cmpuint (p->b, ==, 2);
  double direct = res.scores[2].psnr_y - res.scores[1].psnr_y;
  g_test_message ("%s: %u images x2: float %.3f dB, fake-quant %.3f dB, INT8 %.3f dB; INT8 - fake-quant %+.4f dB, "
      "max pixel difference %d, %.3f%% of values differ",
      int8, res.n_images, res.scores[0].psnr_y, res.scores[1].psnr_y, res.scores[2].psnr_y, p->psnr_y_diff, p->max_abs_diff,
      100.0 * p->n_diff / p->n_total);
  g_assert_cmpfloat (fabs (p->psnr_y_diff - direct), <, 1e-9);
  g_assert_cmpfloat (fabs (p->psnr_y_diff), <, 0.05);
  g_assert_cmpuint (p->n_total, >, 0);
  /* Fake quantization is on: it must change the float model's output. */
  g_assert_cmpfloat (res.scores[0].psnr_y, !=, res.scores[1].psnr_y);
  espcn_eval_result_clear (&res);
}

static void
test_int8_engine_matches_fake_quant (void)
{
  check_engine_matches_fake_quant (ckpt_path, int8_path);
}

/* Each method trained from the interpolator start (identity channels through conv1
 * and conv2, so their weight and activation grids carry whole pixels) exports a
 * model whose integer engine output is the fake-quant output. */
static void
test_interpolator_start_engine_matches_fake_quant (gconstpointer method)
{
  g_autoptr (GError) error = NULL;
  EspcnTrainConfig cfg;
  tiny_config (&cfg, method, "interp");
  cfg.start = ESPCN_START_INTERP;
  cfg.epochs = 4;
  cfg.warmup_epochs = 2;
  cfg.val_every = 4;
  cfg.lr = 1e-3;
  cfg.calib_batches = 2;
  EspcnTrainResult tr;
  if (!espcn_train_run (&cfg, NULL, &tr, &error))
    g_error ("training the %s model failed: %s", (const char *) method, error->message);
  g_assert_nonnull (tr.int8_path);
  check_engine_matches_fake_quant (tr.checkpoint_path, tr.int8_path);
  espcn_train_result_clear (&tr);
  espcn_train_config_clear (&cfg);
}

/* Two INT8 models with the same integer layers. */
static void
assert_same_layers (const EspcnInt8Model *a, const EspcnInt8Model *b)
{
  g_assert_cmpint (espcn_int8_model_get_channels (a), ==, espcn_int8_model_get_channels (b));
  for (int i = 0; i < ESPCN_INT8_N_LAYERS; i++) {
    const EspcnInt8Layer *la = espcn_int8_model_get_layer (a, i), *lb = espcn_int8_model_get_layer (b, i);
    g_assert_cmpint (la->in_c, ==, lb->in_c);
    g_assert_cmpint (la->out_c, ==, lb->out_c);
    gsize nw = (gsize) la->out_c * la->in_c * la->k * la->k;
    g_assert_cmpmem (la->weight, nw * 2, lb->weight, nw * 2);
    g_assert_cmpmem (la->bias, la->out_c * 4, lb->bias, lb->out_c * 4);
    g_assert_cmpmem (la->multiplier, la->out_c * 4, lb->multiplier, lb->out_c * 4);
    g_assert_cmpmem (la->shift, la->out_c * 4, lb->shift, lb->out_c * 4);
  }
}

/* The same for the luma network (--channels y): Y through the model, the
 * chroma from bicubic, on both sides. */
static void
test_luma_engine_matches_fake_quant (gconstpointer method)
{
  g_autoptr (GError) error = NULL;
  EspcnTrainConfig cfg;
  tiny_config (&cfg, method, "luma-interp");
  cfg.channels = 1;
  cfg.epochs = 4;
  cfg.warmup_epochs = 2;
  cfg.val_every = 4;
  cfg.calib_batches = 2;
  EspcnTrainResult tr;
  if (!espcn_train_run (&cfg, NULL, &tr, &error))
    g_error ("training the luma %s model failed: %s", (const char *) method, error->message);
  g_autoptr (EspcnInt8Model) m = espcn_int8_model_load (tr.int8_path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (espcn_int8_model_get_channels (m), ==, 1);
  check_engine_matches_fake_quant (tr.checkpoint_path, tr.int8_path);
  espcn_train_result_clear (&tr);
  espcn_train_config_clear (&cfg);
}

/* A tiny luma training from the plain start: validation Y-PSNR and the loss
 * improve over the first epoch, and the INT8 model runs on a Y plane. */
static void
test_luma_training_improves_and_exports (void)
{
  g_autoptr (GError) error = NULL;
  EspcnTrainConfig cfg;
  tiny_config (&cfg, "lsq", "luma-plain");
  cfg.channels = 1;
  cfg.start = ESPCN_START_PLAIN;
  cfg.epochs = 8;
  cfg.warmup_epochs = 4;
  cfg.lr = 3e-3;
  EspcnTrainResult tr;
  if (!espcn_train_run (&cfg, NULL, &tr, &error))
    g_error ("training the luma model failed: %s", error->message);
  const EspcnEpochMetrics *first = &g_array_index (tr.history, EspcnEpochMetrics, 0);
  const EspcnEpochMetrics *last = &g_array_index (tr.history, EspcnEpochMetrics, tr.history->len - 1);
  g_test_message ("luma lsq x2: epoch 1 loss %.5f val Y-PSNR %.3f dB; epoch %d loss %.5f val Y-PSNR %.3f dB "
      "(bicubic %.3f dB)", first->train_loss, first->val_psnr_y, last->epoch, last->train_loss, last->val_psnr_y,
      tr.bicubic_psnr_y);
  g_assert_cmpfloat (last->train_loss, <, first->train_loss);
  g_assert_cmpfloat (last->val_psnr_y, >, first->val_psnr_y);

  g_autoptr (EspcnInt8Model) m = espcn_int8_model_load (tr.int8_path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (espcn_int8_model_get_channels (m), ==, 1);
  g_autoptr (EspcnRunner) runner = espcn_runner_new (m, 1, &error);
  g_assert_no_error (error);
  const int w = 9, h = 7;
  guint8 in[9 * 7], out[18 * 14];
  for (int i = 0; i < w * h; i++)
    in[i] = (guint8) (16 + (i * 37) % 220);
  g_assert_true (espcn_runner_process (runner, in, w, &ESPCN_PIXEL_LAYOUT_Y8, w, h, out, 2 * w,
      &ESPCN_PIXEL_LAYOUT_Y8, &error));
  g_assert_no_error (error);

  /* espcn-export writes the same model from the checkpoint; espcn-inspect names it luma. */
  g_autofree char *out_bin = g_build_filename (tmp_dir, "luma-exported.bin", NULL);
  int status;
  const char *args[] = { tr.checkpoint_path, out_bin, NULL };
  g_autofree char *text = run_tool ("ESPCN_EXPORT", args, &status, NULL);
  g_assert_true (exited_ok (status));
  g_autoptr (EspcnInt8Model) b = espcn_int8_model_load (out_bin, &error);
  g_assert_no_error (error);
  assert_same_layers (m, b);
  g_assert_nonnull (strstr (espcn_int8_model_get_metadata (b, "recipe"), "--channels y"));
  const char *iargs[] = { out_bin, NULL };
  g_autofree char *itext = run_tool ("ESPCN_INSPECT", iargs, &status, NULL);
  g_assert_true (exited_ok (status));
  g_assert_nonnull (strstr (itext, "1 channel (luma"));
  espcn_train_result_clear (&tr);
  espcn_train_config_clear (&cfg);
}

/* A luma checkpoint does not resume (or start) an RGB run, nor the other way. */
static void
test_checkpoint_channel_mismatch_is_refused (void)
{
  g_autoptr (GError) error = NULL;
  EspcnTrainConfig cfg;
  tiny_config (&cfg, "none", "luma-stop");
  cfg.channels = 1;
  cfg.epochs = 2;
  cfg.stop_after = 1;
  EspcnTrainResult tr;
  g_assert_true (espcn_train_run (&cfg, NULL, &tr, &error));
  g_assert_true (tr.interrupted);
  g_autofree char *luma_ckpt = g_strdup (tr.checkpoint_path);
  espcn_train_result_clear (&tr);

  cfg.channels = 3;
  cfg.stop_after = 0;
  cfg.resume = g_strdup (luma_ckpt);
  g_assert_false (espcn_train_run (&cfg, NULL, &tr, &error));
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "luma"));
  g_assert_nonnull (strstr (error->message, "this run trains an RGB"));
  g_clear_error (&error);
  espcn_train_result_clear (&tr);

  g_clear_pointer (&cfg.resume, g_free);
  cfg.init = g_strdup (luma_ckpt);
  g_assert_false (espcn_train_run (&cfg, NULL, &tr, &error));
  g_assert_nonnull (strstr (error->message, "luma"));
  g_clear_error (&error);
  espcn_train_result_clear (&tr);

  /* The RGB model of the fixture into a luma run. */
  g_clear_pointer (&cfg.init, g_free);
  cfg.channels = 1;
  cfg.resume = g_strdup (ckpt_path);
  g_assert_false (espcn_train_run (&cfg, NULL, &tr, &error));
  g_assert_nonnull (strstr (error->message, "this run trains a luma"));
  espcn_train_result_clear (&tr);
  espcn_train_config_clear (&cfg);
}

static void
test_scale_mismatch_is_an_error (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) models = g_ptr_array_new_with_free_func ((GDestroyNotify) espcn_eval_model_free);
  g_assert_true (espcn_eval_models_open (int8_path, 1, models, &error));
  g_autoptr (EspcnEvalSet) set = espcn_eval_set_open (data_dir, 1, &error);
  EspcnEvalOptions opts = { 0 };
  EspcnEvalResult res;
  g_assert_false (espcn_eval_run (set, 3, (EspcnEvalModel *const *) models->pdata, models->len, &opts, &res, &error));
  g_assert_nonnull (strstr (error->message, "x2 model"));
  espcn_eval_result_clear (&res);

  int status;
  g_autofree char *err = NULL;
  const char *args[] = { "--model", int8_path, "--data", data_dir, "--scale", "4", NULL };
  g_autofree char *out = run_tool ("ESPCN_EVAL", args, &status, &err);
  g_assert_false (exited_ok (status));
  g_assert_nonnull (strstr (err, "x2 model, the evaluation is x4"));
}

static void
test_bad_files_and_missing_data_are_errors (void)
{
  g_autofree char *trunc = g_build_filename (tmp_dir, "trunc.bin", NULL);
  g_autofree char *bytes = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (int8_path, &bytes, &len, NULL));
  g_assert_true (g_file_set_contents (trunc, bytes, (gssize) (len / 2), NULL));

  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) models = g_ptr_array_new_with_free_func ((GDestroyNotify) espcn_eval_model_free);
  g_assert_false (espcn_eval_models_open (trunc, 1, models, &error));
  g_assert_nonnull (error);
  g_assert_cmpuint (models->len, ==, 0);
  g_clear_error (&error);
  g_assert_null (espcn_eval_set_open ("/nonexistent/espcn-eval-data", 0, &error));
  g_assert_nonnull (strstr (error->message, "does not exist"));
  g_clear_error (&error);
  g_autofree char *empty = g_build_filename (tmp_dir, "empty", NULL);
  g_mkdir (empty, 0755);
  g_assert_null (espcn_eval_set_open (empty, 0, &error));
  g_assert_nonnull (strstr (error->message, "no images"));

  int status;
  g_autofree char *err = NULL;
  const char *args[] = { "--model", trunc, "--data", data_dir, NULL };
  g_autofree char *out = run_tool ("ESPCN_EVAL", args, &status, &err);
  g_assert_false (exited_ok (status));
  g_assert_nonnull (strstr (err, "trunc.bin"));
}

static void
test_json_output_has_every_model (void)
{
  int status;
  const char *args[] = { "--model", ckpt_path, "--model", int8_path, "--data", data_dir, "--scale", "2", "--num", "2",
    "--json", NULL };
  g_autofree char *out = run_tool ("ESPCN_EVAL", args, &status, NULL);
  g_assert_true (exited_ok (status));
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  g_autofree char *k_float = g_strdup_printf ("%s (float)", ckpt_path);
  g_autofree char *k_fq = g_strdup_printf ("%s (fake-quant)", ckpt_path);
  const char *keys[] = { "bicubic", k_float, k_fq, int8_path };
  g_assert_cmpuint (json_object_get_size (o), ==, 4);
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++) {
    g_assert_true (json_object_has_member (o, keys[i]));
    JsonObject *m = json_object_get_object_member (o, keys[i]);
    double y = json_object_get_double_member (m, "psnr_y");
    g_assert_cmpfloat (y, >, 10);
    g_assert_cmpfloat (y, <, 80);
    g_assert_cmpfloat (json_object_get_double_member (m, "psnr_rgb"), >, 10);
    double s = json_object_get_double_member (m, "ssim");
    g_assert_cmpfloat (s, >, 0);
    g_assert_cmpfloat (s, <=, 1);
  }
}

static void
test_save_writes_images_and_comparison (void)
{
  g_autofree char *save = g_build_filename (tmp_dir, "saved", NULL);
  int status;
  const char *args[] = { "--model", int8_path, "--data", data_dir, "--num", "2", "--save", save, "--crop", "10,8,30,20",
    "-q", NULL };
  g_autofree char *out = run_tool ("ESPCN_EVAL", args, &status, NULL);
  g_assert_true (exited_ok (status));
  g_autoptr (GError) error = NULL;
  g_autofree char *stem = g_path_get_basename (int8_path);
  *strrchr (stem, '.') = '\0';
  for (int i = 0; i < 2; i++) {
    g_autofree char *p = g_strdup_printf ("%s/%s/img%02d.png", save, stem, i);
    g_autoptr (EspcnImage) img = espcn_image_load (p, &error);
    g_assert_no_error (error);
    g_assert_cmpint (img->width, ==, 100);
    g_assert_cmpint (img->height, ==, 74);
    g_autofree char *b = g_strdup_printf ("%s/bicubic/img%02d.png", save, i);
    g_assert_true (g_file_test (b, G_FILE_TEST_EXISTS));
  }
  /* LR, bicubic, the model and HR: 4 panels of 30x20 zoomed 2x, 8-pixel white gaps. */
  g_autofree char *cmp = g_build_filename (save, "comparison.png", NULL);
  g_autoptr (EspcnImage) c = espcn_image_load (cmp, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->width, ==, 4 * 60 + 5 * 8);
  g_assert_cmpint (c->height, ==, 40 + 16);
  g_assert_cmpint (c->data[0], ==, 255);
  /* The last panel is the HR crop itself. */
  g_autofree char *hr_path = g_strdup_printf ("%s/img00.png", data_dir);
  g_autoptr (EspcnImage) hr = espcn_image_load (hr_path, &error);
  const guint8 *want = hr->data + 3 * (8 * hr->width + 10);
  const guint8 *got = c->data + 3 * ((gsize) 8 * c->width + 8 + 3 * 68);
  g_assert_cmpmem (got, 3, want, 3);

  const char *bad[] = { "--data", data_dir, "--scale", "2", "--save", save, "--crop", "90,8,30,20", "-q", NULL };
  g_autofree char *err = NULL;
  g_autofree char *out2 = run_tool ("ESPCN_EVAL", bad, &status, &err);
  g_assert_false (exited_ok (status));
  g_assert_nonnull (strstr (err, "does not fit"));
}

static void
test_export_tool_reproduces_the_trainer_export (void)
{
  g_autofree char *out_bin = g_build_filename (tmp_dir, "exported.bin", NULL);
  int status;
  const char *args[] = { ckpt_path, out_bin, NULL };
  g_autofree char *out = run_tool ("ESPCN_EXPORT", args, &status, NULL);
  g_assert_true (exited_ok (status));
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnInt8Model) a = espcn_int8_model_load (int8_path, &error);
  g_assert_no_error (error);
  g_autoptr (EspcnInt8Model) b = espcn_int8_model_load (out_bin, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (espcn_int8_model_get_method (b), ==, "lsq");
  g_assert_nonnull (strstr (espcn_int8_model_get_metadata (b, "recipe"), "--method lsq"));
  assert_same_layers (a, b);

  /* A float-only run cannot be exported. */
  g_autofree char *err = NULL;
  const char *bad[] = { int8_path, out_bin, NULL };
  g_autofree char *out2 = run_tool ("ESPCN_EXPORT", bad, &status, &err);
  g_assert_false (exited_ok (status));
  g_assert_nonnull (strstr (err, "not an espcn float training checkpoint"));
}

static void
test_inspect_prints_layers_and_refuses_truncated (void)
{
  int status;
  const char *args[] = { int8_path, NULL };
  g_autofree char *out = run_tool ("ESPCN_INSPECT", args, &status, NULL);
  g_assert_true (exited_ok (status));
  g_assert_nonnull (strstr (out, "method = lsq"));
  g_assert_nonnull (strstr (out, "3 channels (RGB)"));
  for (int i = 1; i <= 3; i++) {
    g_autofree char *line = g_strdup_printf ("conv%d: weight [", i);
    g_assert_nonnull (strstr (out, line));
  }
  g_assert_nonnull (strstr (out, "conv2: weight [8, 16, 3, 3] I8"));

  g_autofree char *trunc = g_build_filename (tmp_dir, "inspect-trunc.bin", NULL);
  g_autofree char *bytes = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (int8_path, &bytes, &len, NULL));
  g_assert_true (g_file_set_contents (trunc, bytes, (gssize) (len - 7), NULL));
  const char *targs[] = { trunc, NULL };
  g_autofree char *err = NULL;
  g_autofree char *out2 = run_tool ("ESPCN_INSPECT", targs, &status, &err);
  g_assert_false (exited_ok (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 1);
  g_assert_true (g_str_has_prefix (err, "espcn-inspect: "));
  g_assert_nonnull (strstr (err, "inspect-trunc.bin"));
}

static void
test_inspect_svg_shows_quantization_error (void)
{
  g_autofree char *svg = g_build_filename (tmp_dir, "w.svg", NULL);
  int status;
  const char *args[] = { int8_path, "--float", ckpt_path, "--svg", svg, NULL };
  g_autofree char *out = run_tool ("ESPCN_INSPECT", args, &status, NULL);
  g_assert_true (exited_ok (status));
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (svg, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "<svg "));
  g_assert_nonnull (strstr (text, "</svg>"));
  g_assert_nonnull (strstr (text, "conv3:"));
  /* Well-formed XML (GMarkup parses the subset SVG text uses). */
  static const GMarkupParser no_callbacks = { 0 };
  g_autoptr (GMarkupParseContext) mp = g_markup_parse_context_new (&no_callbacks, 0, NULL, NULL);
  g_autoptr (GError) xml_error = NULL;
  g_assert_true (g_markup_parse_context_parse (mp, text, -1, &xml_error) && g_markup_parse_context_end_parse (mp, &xml_error));
  g_assert_no_error (xml_error);

  /* The printed RMS error equals one computed here from the two files. */
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnInt8Model) m = espcn_int8_model_load (int8_path, &error);
  g_autoptr (EspcnEvalCheckpoint) ck = espcn_eval_checkpoint_load (ckpt_path, &error);
  g_assert_no_error (error);
  const EspcnInt8Layer *l = espcn_int8_model_get_layer (m, 1);
  const int per = l->in_c * 9;
  double sum = 0;
  for (int c = 0; c < l->out_c; c++)
    for (int j = 0; j < per; j++) {
      double d = ck->model->weight[1][c * per + j] - (double) l->weight[c * per + j] * l->weight_scale[c];
      sum += d * d;
    }
  g_autofree char *want = g_strdup_printf ("conv2: quantization error RMS(w_float - w_int * s_w) = %.5g",
      sqrt (sum / (l->out_c * per)));
  g_assert_nonnull (strstr (out, want));
  g_test_message ("%s", want);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  tmp_dir = espcn_test_make_tmp_dir ("espcn-eval-XXXXXX");
  g_assert_no_error (error);
  data_dir = g_build_filename (tmp_dir, "data", NULL);
  g_mkdir (data_dir, 0755);
  write_images (data_dir, 20, 100, 74, 5);

  /* The model under test: LSQ, 24 float steps then 24 quantized steps (enough to
   * leave the random initialisation behind: an untrained model's output is dark). */
  EspcnTrainConfig cfg;
  tiny_config (&cfg, "lsq", "run");
  cfg.epochs = 12;
  cfg.warmup_epochs = 6;
  cfg.val_every = 12;
  cfg.lr = 1e-2;
  cfg.export_int8 = TRUE;
  EspcnTrainResult tr;
  if (!espcn_train_run (&cfg, NULL, &tr, &error))
    g_error ("training the test model failed: %s", error->message);
  ckpt_path = g_strdup (tr.checkpoint_path);
  int8_path = g_strdup (tr.int8_path);
  g_assert_nonnull (int8_path);
  espcn_train_result_clear (&tr);
  espcn_train_config_clear (&cfg);

  g_test_add_func ("/eval/bicubic-matches-direct-computation", test_bicubic_matches_direct_computation);
  g_test_add_func ("/eval/int8-engine-matches-fake-quant", test_int8_engine_matches_fake_quant);
  const char *const *m = espcn_quant_methods ();
  for (int i = 0; m[i] != NULL; i++) {
    g_autofree char *name = g_strdup_printf ("/eval/int8-engine-matches-fake-quant/interpolator-start/%s", m[i]);
    g_test_add_data_func (name, m[i], test_interpolator_start_engine_matches_fake_quant);
  }
  for (int i = 0; m[i] != NULL; i++) {
    g_autofree char *name = g_strdup_printf ("/eval/int8-engine-matches-fake-quant/luma/%s", m[i]);
    g_test_add_data_func (name, m[i], test_luma_engine_matches_fake_quant);
  }
  g_test_add_func ("/eval/luma-training-improves-and-exports", test_luma_training_improves_and_exports);
  g_test_add_func ("/eval/checkpoint-channel-mismatch-is-refused", test_checkpoint_channel_mismatch_is_refused);
  g_test_add_func ("/eval/scale-mismatch-is-an-error", test_scale_mismatch_is_an_error);
  g_test_add_func ("/eval/bad-files-and-missing-data-are-errors", test_bad_files_and_missing_data_are_errors);
  g_test_add_func ("/eval/json-output-has-every-model", test_json_output_has_every_model);
  g_test_add_func ("/eval/save-writes-images-and-comparison", test_save_writes_images_and_comparison);
  g_test_add_func ("/eval/export-tool-reproduces-the-trainer-export", test_export_tool_reproduces_the_trainer_export);
  g_test_add_func ("/eval/inspect-prints-layers-and-refuses-truncated", test_inspect_prints_layers_and_refuses_truncated);
  g_test_add_func ("/eval/inspect-svg-shows-quantization-error", test_inspect_svg_shows_quantization_error);
  int rc = g_test_run ();
  /* tmp_dir goes at exit; ESPCN_TEST_KEEP_TMP=1 keeps the model and data to look at. */
  return rc;
}
