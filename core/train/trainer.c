#include "train/trainer.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/export.h"
#include "image/image.h"
#include "metrics/metrics.h"
#include "nn/model.h"
#include "quant/quantizer.h"
#include "train/checkpoint.h"
#include "util/atomic_file.h"
#include "util/rng.h"

static volatile sig_atomic_t stop_requested = 0;

void
espcn_train_request_stop (void)
{
  stop_requested = 1;
}

void
espcn_train_config_init (EspcnTrainConfig *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->method = g_strdup ("none");
  cfg->scale = 4;
  cfg->features = 64;
  cfg->epochs = 30;
  cfg->warmup_epochs = 2;
  cfg->batch = 16;
  cfg->patch = 192;
  cfg->augment.zoom_min = 1.0;
  cfg->num_train = ESPCN_DATASET_DEFAULT_NUM_TRAIN;
  cfg->num_val = ESPCN_DATASET_DEFAULT_NUM_VAL;
  cfg->lr = 1e-3;
  cfg->quant_lr_mult = 10.0;
  cfg->lsq_log_steps = TRUE;
  cfg->weight_decay = 1e-4;
  cfg->clip_norm = 1.0;
  cfg->seed = 42;
  cfg->loss = ESPCN_LOSS_L1;
  cfg->calib_batches = 8;
  cfg->val_every = 1;
  cfg->export_int8 = TRUE;
}

void
espcn_train_config_clear (EspcnTrainConfig *cfg)
{
  g_clear_pointer (&cfg->data_dir, g_free);
  g_clear_pointer (&cfg->out_dir, g_free);
  g_clear_pointer (&cfg->method, g_free);
  g_clear_pointer (&cfg->resume, g_free);
  g_clear_pointer (&cfg->init, g_free);
}

void
espcn_train_result_clear (EspcnTrainResult *res)
{
  g_clear_pointer (&res->history, g_array_unref);
  g_clear_pointer (&res->checkpoint_path, g_free);
  g_clear_pointer (&res->int8_path, g_free);
}

#define BAD(...)                                                                                                       \
  do {                                                                                                                 \
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, __VA_ARGS__);                                         \
    return FALSE;                                                                                                      \
  } while (0)

gboolean
espcn_train_config_validate (const EspcnTrainConfig *cfg, GError **error)
{
  if (cfg->data_dir == NULL || *cfg->data_dir == '\0')
    BAD ("no training data given: use --data DIR (a Food-101 tree or a folder of images; "
         "espcn-sample-data DIR makes one)");
  if (cfg->out_dir == NULL || *cfg->out_dir == '\0')
    BAD ("no output folder given: use --out DIR");
  if (cfg->method == NULL || (g_strcmp0 (cfg->method, "none") != 0 && espcn_quant_method_act_qmax (cfg->method) < 0))
    BAD ("unknown method '%s': choose none, lsq, pact, adaround, apot, dorefa or ste", cfg->method ? cfg->method : "");
  if (cfg->scale < 2 || cfg->scale > 4)
    BAD ("scale %d is not supported: ESPCN here upscales by 2, 3 or 4", cfg->scale);
  if (cfg->features < 2 || cfg->features > 1024 || cfg->features % 2 != 0)
    BAD ("features %d must be even and between 2 and 1024", cfg->features);
  if (cfg->epochs < 1 || cfg->epochs > 100000)
    BAD ("epochs %d must be between 1 and 100000", cfg->epochs);
  if (cfg->warmup_epochs < 0)
    BAD ("warm-up epochs %d must not be negative", cfg->warmup_epochs);
  if (g_strcmp0 (cfg->method, "none") != 0 && cfg->warmup_epochs >= cfg->epochs)
    BAD ("with %d epochs and %d float warm-up epochs, quantization would never turn on: "
         "use more epochs or fewer warm-up epochs", cfg->epochs, cfg->warmup_epochs);
  if (cfg->batch < 1 || cfg->batch > 4096)
    BAD ("batch %d must be between 1 and 4096", cfg->batch);
  if (cfg->patch < cfg->scale || cfg->patch > 4096)
    BAD ("patch %d must be between the scale (%d) and 4096", cfg->patch, cfg->scale);
  if (cfg->patch % cfg->scale != 0)
    BAD ("patch %d is not a multiple of the scale %d: the LR patch would not be whole (try %d)", cfg->patch,
        cfg->scale, cfg->patch - cfg->patch % cfg->scale);
  if (!(cfg->augment.zoom_min >= 0.25 && cfg->augment.zoom_min <= 1.0))
    BAD ("--zoom-min %g must be between 0.25 and 1 (1 = no zoom)", cfg->augment.zoom_min);
  if (cfg->num_train < 1 || cfg->num_val < 1)
    BAD ("--num-train and --num-val must be at least 1");
  if (!(cfg->lr > 0 && cfg->lr < 10))
    BAD ("learning rate %g must be in (0, 10)", cfg->lr);
  if (cfg->lr_warmup < 0)
    BAD ("--lr-warmup %d must not be negative", cfg->lr_warmup);
  if (cfg->threads < 0)
    BAD ("threads %d must be 0 (all cores) or more", cfg->threads);
  if (cfg->val_every < 1)
    BAD ("--val-every must be at least 1");
  if (cfg->calib_batches < 1)
    BAD ("calibration batches must be at least 1");
  return TRUE;
}

/* Streams derived from (seed, purpose, a, b): a resumed run redraws exactly what an
 * uninterrupted one would, from its position alone. */
static void
derive_rng (EspcnRng *rng, guint64 seed, guint64 purpose, guint64 a, guint64 b)
{
  EspcnRng mix;
  espcn_rng_seed (&mix, seed ^ (purpose * 0x9e3779b97f4a7c15ULL));
  guint64 k = espcn_rng_next_u64 (&mix) ^ (a * 0xbf58476d1ce4e5b9ULL) ^ (b * 0x94d049bb133111ebULL);
  espcn_rng_seed (rng, k);
}

enum { RNG_ORDER = 1, RNG_CROP = 2, RNG_CALIB = 3, RNG_INTERP = 4 };

/* ---- batches: crops are independent, so two threads make them ---- */

typedef struct {
  const EspcnDataset *ds;
  const guint32 *indices;
  guint first, count;
  guint64 seed, epoch, base;
  int patch, scale;
  float *lr, *hr;
  GError *error;
} FillJob;

static gpointer
fill_worker (gpointer data)
{
  FillJob *job = data;
  gsize lr_sz = 3 * (gsize) (job->patch / job->scale) * (job->patch / job->scale);
  gsize hr_sz = 3 * (gsize) job->patch * job->patch;
  for (guint i = job->first; i < job->first + job->count && job->error == NULL; i++) {
    EspcnRng rng;
    derive_rng (&rng, job->seed, RNG_CROP, job->epoch, job->base + i);
    espcn_dataset_make_pair (job->ds, job->indices[i], &rng, job->patch, job->scale, job->lr + i * lr_sz,
        job->hr + i * hr_sz, &job->error);
  }
  return NULL;
}

static gboolean
fill_batch (const EspcnDataset *ds, const guint32 *indices, guint n, guint64 seed, guint64 epoch, guint64 base,
            int patch, int scale, float *lr, float *hr, int threads, GError **error)
{
  FillJob jobs[2];
  guint n_jobs = (threads > 1 && n > 1) ? 2 : 1;
  GThread *th = NULL;
  for (guint j = 0; j < n_jobs; j++) {
    guint first = n * j / n_jobs, last = n * (j + 1) / n_jobs;
    jobs[j] = (FillJob) { ds, indices, first, last - first, seed, epoch, base, patch, scale, lr, hr, NULL };
  }
  if (n_jobs == 2)
    th = g_thread_new ("espcn-crops", fill_worker, &jobs[1]);
  fill_worker (&jobs[0]);
  if (th != NULL)
    g_thread_join (th);
  for (guint j = 0; j < n_jobs; j++) {
    if (jobs[j].error != NULL) {
      g_propagate_error (error, jobs[j].error);
      for (guint k = j + 1; k < n_jobs; k++)
        g_clear_error (&jobs[k].error);
      return FALSE;
    }
  }
  return TRUE;
}

/* ---- validation ---- */

typedef struct {
  guint n;
  EspcnImage **hr;
  float **lr;       /* planar float LR */
  int *lr_w, *lr_h;
} ValSet;

static void
val_set_free (ValSet *v)
{
  for (guint i = 0; i < v->n; i++) {
    espcn_image_free (v->hr[i]);
    g_free (v->lr[i]);
  }
  g_free (v->hr);
  g_free (v->lr);
  g_free (v->lr_w);
  g_free (v->lr_h);
}

static gboolean
val_set_build (const EspcnDataset *ds, int scale, ValSet *v, double bicubic[3], GError **error)
{
  v->n = espcn_dataset_num_val (ds);
  v->hr = g_new0 (EspcnImage *, v->n);
  v->lr = g_new0 (float *, v->n);
  v->lr_w = g_new0 (int, v->n);
  v->lr_h = g_new0 (int, v->n);
  bicubic[0] = bicubic[1] = bicubic[2] = 0;
  for (guint i = 0; i < v->n; i++) {
    EspcnImage *hr = NULL, *lr = NULL;
    if (!espcn_dataset_val_pair (ds, i, scale, &hr, &lr, error))
      return FALSE;
    g_autoptr (EspcnImage) bic = espcn_bicubic_upscale (lr, scale);
    bicubic[0] += espcn_psnr_y (bic, hr, scale);
    bicubic[1] += espcn_psnr_rgb (bic, hr, scale);
    bicubic[2] += espcn_ssim_y (bic, hr, scale);
    v->hr[i] = hr;
    v->lr_w[i] = lr->width;
    v->lr_h[i] = lr->height;
    v->lr[i] = g_new (float, 3 * (gsize) lr->width * lr->height);
    espcn_image_to_planar_f32 (lr, v->lr[i]);
    espcn_image_free (lr);
  }
  for (int k = 0; k < 3; k++)
    bicubic[k] /= v->n;
  return TRUE;
}

static void
set_quant_training (EspcnQuantizer *const q[ESPCN_N_QUANT_SLOTS], gboolean training)
{
  for (guint i = 0; i < ESPCN_N_QUANT_SLOTS; i++)
    if (q[i] != NULL)
      q[i]->training = training;
}

/* Mean Y-PSNR, RGB PSNR and SSIM of the model's output, rounded to 8-bit pixels as a
 * saved image would be, over the whole validation images. */
static void
validate (EspcnFloatModel *model, EspcnQuantizer *const q[ESPCN_N_QUANT_SLOTS], const ValSet *v, int scale,
          double out[3])
{
  set_quant_training (q, FALSE);
  out[0] = out[1] = out[2] = 0;
  for (guint i = 0; i < v->n; i++) {
    const EspcnImage *hr = v->hr[i];
    g_autofree float *sr = g_new (float, 3 * (gsize) hr->width * hr->height);
    espcn_float_model_forward (model, v->lr[i], 1, v->lr_h[i], v->lr_w[i], sr);
    g_autoptr (EspcnImage) img = espcn_image_new (hr->width, hr->height);
    espcn_image_from_planar_f32 (img, sr);
    out[0] += espcn_psnr_y (img, hr, scale);
    out[1] += espcn_psnr_rgb (img, hr, scale);
    out[2] += espcn_ssim_y (img, hr, scale);
  }
  for (int k = 0; k < 3; k++)
    out[k] /= v->n;
  set_quant_training (q, TRUE);
}

/* ---- metrics history ---- */

/* Epochs without validation (--val-every) have no metrics: null, not NaN. */
static void
add_metric (JsonBuilder *b, double v)
{
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

static gboolean
write_history (const EspcnTrainConfig *cfg, const EspcnTrainResult *res, const char *path, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, cfg->method);
  json_builder_set_member_name (b, "scale");
  json_builder_add_int_value (b, cfg->scale);
  json_builder_set_member_name (b, "features");
  json_builder_add_int_value (b, cfg->features);
  json_builder_set_member_name (b, "epochs");
  json_builder_add_int_value (b, cfg->epochs);
  json_builder_set_member_name (b, "batch");
  json_builder_add_int_value (b, cfg->batch);
  json_builder_set_member_name (b, "patch");
  json_builder_add_int_value (b, cfg->patch);
  json_builder_set_member_name (b, "lr");
  json_builder_add_double_value (b, cfg->lr);
  json_builder_set_member_name (b, "dihedral");
  json_builder_add_boolean_value (b, cfg->augment.dihedral);
  json_builder_set_member_name (b, "zoom_min");
  json_builder_add_double_value (b, cfg->augment.zoom_min);
  json_builder_set_member_name (b, "balance_classes");
  json_builder_add_boolean_value (b, cfg->augment.balance_classes);
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, (gint64) cfg->seed);
  json_builder_set_member_name (b, "start");
  json_builder_add_string_value (b, cfg->init ? "init" : espcn_start_name (cfg->start));
  json_builder_set_member_name (b, "loss");
  json_builder_add_string_value (b, espcn_loss_name (cfg->loss));
  json_builder_set_member_name (b, "data");
  json_builder_add_string_value (b, cfg->data_dir);
  json_builder_set_member_name (b, "bicubic_psnr_y");
  json_builder_add_double_value (b, res->bicubic_psnr_y);
  json_builder_set_member_name (b, "bicubic_psnr_rgb");
  json_builder_add_double_value (b, res->bicubic_psnr_rgb);
  json_builder_set_member_name (b, "bicubic_ssim");
  json_builder_add_double_value (b, res->bicubic_ssim);
  json_builder_set_member_name (b, "history");
  json_builder_begin_array (b);
  for (guint i = 0; i < res->history->len; i++) {
    const EspcnEpochMetrics *m = &g_array_index (res->history, EspcnEpochMetrics, i);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "epoch");
    json_builder_add_int_value (b, m->epoch);
    json_builder_set_member_name (b, "train_loss");
    json_builder_add_double_value (b, m->train_loss);
    json_builder_set_member_name (b, "val_psnr_y");
    add_metric (b, m->val_psnr_y);
    json_builder_set_member_name (b, "val_psnr_rgb");
    add_metric (b, m->val_psnr_rgb);
    json_builder_set_member_name (b, "val_ssim");
    add_metric (b, m->val_ssim);
    json_builder_set_member_name (b, "seconds");
    json_builder_add_double_value (b, m->seconds);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "final_psnr_y");
  json_builder_add_double_value (b, res->final_psnr_y);
  json_builder_set_member_name (b, "final_psnr_rgb");
  json_builder_add_double_value (b, res->final_psnr_rgb);
  json_builder_set_member_name (b, "final_ssim");
  json_builder_add_double_value (b, res->final_ssim);
  json_builder_set_member_name (b, "train_seconds");
  json_builder_add_double_value (b, res->train_seconds);
  json_builder_end_object (b);

  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  gsize len;
  g_autofree char *text = json_generator_to_data (gen, &len);
  return espcn_write_file_atomic (path, text, len, error);
}

/* ---- the run ---- */

/* The augmentation as espcn-train options ("" when off). */
static char *
augment_text (const EspcnAugment *a)
{
  GString *t = g_string_new (NULL);
  if (a->dihedral)
    g_string_append (t, " --dihedral");
  if (a->zoom_min < 1.0)
    g_string_append_printf (t, " --zoom-min %g", a->zoom_min);
  if (a->balance_classes)
    g_string_append (t, " --balance-classes");
  return g_string_free (t, FALSE);
}

static GHashTable *
resume_options (const EspcnTrainConfig *cfg)
{
  GHashTable *h = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_hash_table_insert (h, "method", g_strdup (cfg->method));
  g_hash_table_insert (h, "seed", g_strdup_printf ("%" G_GUINT64_FORMAT, cfg->seed));
  g_hash_table_insert (h, "epochs", g_strdup_printf ("%d", cfg->epochs));
  g_hash_table_insert (h, "warmup_epochs", g_strdup_printf ("%d", cfg->warmup_epochs));
  g_hash_table_insert (h, "batch", g_strdup_printf ("%d", cfg->batch));
  g_hash_table_insert (h, "patch", g_strdup_printf ("%d", cfg->patch));
  g_hash_table_insert (h, "lr", g_strdup_printf ("%.9g", cfg->lr));
  g_hash_table_insert (h, "lr_warmup", g_strdup_printf ("%d", cfg->lr_warmup));
  g_hash_table_insert (h, "augment", augment_text (&cfg->augment));
  g_hash_table_insert (h, "loss", g_strdup (espcn_loss_name (cfg->loss)));
  if (g_strcmp0 (cfg->method, "lsq") == 0)
    g_hash_table_insert (h, "lsq_steps", g_strdup (cfg->lsq_log_steps ? "log" : "linear"));
  g_hash_table_insert (h, "num_train", g_strdup_printf ("%d", cfg->num_train));
  g_hash_table_insert (h, "num_val", g_strdup_printf ("%d", cfg->num_val));
  g_hash_table_insert (h, "init", g_strdup (cfg->init ? cfg->init : ""));
  return h;
}

static void
attach_quantizers (EspcnFloatModel *model, EspcnQuantizer *const q[ESPCN_N_QUANT_SLOTS])
{
  model->wq[0] = q[0];
  model->aq[0] = q[1];
  model->wq[1] = q[2];
  model->aq[1] = q[3];
  model->wq[2] = q[4];
  model->quant_output = TRUE;
}

/* Fixes the activation scales of methods that do not train them (AdaRound) from
 * the activations of cfg->calib_batches training batches, before the rounding is
 * learned on them.  A no-op for the other methods and once calibrated (resume). */
static gboolean
calibrate_activations (const EspcnTrainConfig *cfg, const EspcnDataset *dataset, EspcnFloatModel *model,
    EspcnQuantizer *const q[ESPCN_N_QUANT_SLOTS], float *lr_buf, float *hr_buf, int lr_side, GError **error)
{
  if (q[1] == NULL || q[1]->ops->observe == NULL)
    return TRUE;
  float scale;
  gint32 qmax;
  if (q[1]->ops->export_act (q[1], &scale, &qmax, NULL) && q[3]->ops->export_act (q[3], &scale, &qmax, NULL))
    return TRUE;
  for (int c = 0; c < cfg->calib_batches; c++) {
    EspcnRng rng;
    derive_rng (&rng, cfg->seed, RNG_CALIB, (guint64) c, 0);
    if (!espcn_dataset_sample_batch (dataset, &rng, (guint) cfg->batch, cfg->patch, cfg->scale, lr_buf, hr_buf, error))
      return FALSE;
    espcn_float_model_observe_activations (model, lr_buf, cfg->batch, lr_side, lr_side);
  }
  if (!q[1]->ops->calibrate_finish (q[1], error) || !q[3]->ops->calibrate_finish (q[3], error))
    return FALSE;
  if (!cfg->quiet)
    printf ("%s: activation scales calibrated on %d training batches\n", cfg->method, cfg->calib_batches);
  return TRUE;
}

/* The interpolator start's least-squares fit sees this many training pairs. */
#define INTERP_FIT_PAIRS 64

static gboolean
interp_fit_batch (gpointer data, int b, float *lr, float *hr, GError **error)
{
  const EspcnTrainConfig *cfg = ((gpointer *) data)[0];
  const EspcnDataset *ds = ((gpointer *) data)[1];
  EspcnRng rng;
  derive_rng (&rng, cfg->seed, RNG_INTERP, (guint64) b, 0);
  return espcn_dataset_sample_batch (ds, &rng, (guint) cfg->batch, cfg->patch, cfg->scale, lr, hr, error);
}

static void
format_eta (double s, char *buf, gsize len)
{
  int t = (int) (s + 0.5);
  g_snprintf (buf, len, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
}

static void
note_stderr (const char *message, gpointer user_data)
{
  (void) user_data;
  fprintf (stderr, "%s\n", message);
}

gboolean
espcn_train_run (const EspcnTrainConfig *cfg, EspcnDataset *dataset, EspcnTrainResult *res, GError **error)
{
  memset (res, 0, sizeof *res);
  res->history = g_array_new (FALSE, TRUE, sizeof (EspcnEpochMetrics));
  if (!espcn_train_config_validate (cfg, error))
    return FALSE;

  g_autoptr (EspcnDataset) owned_ds = NULL;
  if (dataset == NULL) {
    EspcnDatasetOptions opts;
    espcn_dataset_options_init (&opts);
    opts.num_train = cfg->num_train;
    opts.num_val = cfg->num_val;
    opts.seed = cfg->seed;
    opts.notice = note_stderr;
    opts.augment = cfg->augment;
    owned_ds = espcn_dataset_open (cfg->data_dir, &opts, error);
    if (owned_ds == NULL)
      return FALSE;
    dataset = owned_ds;
  }

  if (g_mkdir_with_parents (cfg->out_dir, 0755) != 0) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "cannot create output folder %s: %s", cfg->out_dir,
        g_strerror (e));
    return FALSE;
  }
  if (access (cfg->out_dir, W_OK) != 0) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "output folder %s is not writable: %s",
        cfg->out_dir, g_strerror (e));
    return FALSE;
  }

  const gboolean quantized = g_strcmp0 (cfg->method, "none") != 0;
  const int threads = cfg->threads > 0 ? cfg->threads : (int) g_get_num_processors ();
  EspcnFloatModelConfig mc = { cfg->scale, cfg->features };
  g_autoptr (EspcnFloatModel) model = espcn_float_model_new (&mc, cfg->seed, error);
  if (model == NULL)
    return FALSE;
  espcn_float_model_set_threads (model, MIN (threads, ESPCN_NN_CHUNKS));

  EspcnQuantizer *q[ESPCN_N_QUANT_SLOTS] = { NULL };
  gboolean ok = FALSE;
  ValSet val = { 0 };
  g_autoptr (EspcnAdam) adam = NULL;
  g_autoptr (GHashTable) options = resume_options (cfg);
  g_autofree float *lr_buf = NULL, *hr_buf = NULL;
  g_autofree guint32 *order = NULL;
  g_autofree char *ckpt_path = g_strdup_printf ("%s/%s.safetensors", cfg->out_dir, cfg->method);
  g_autofree char *hist_path = g_strdup_printf ("%s/%s.json", cfg->out_dir, cfg->method);

  if (quantized) {
    gint32 act_qmax = espcn_quant_method_act_qmax (cfg->method);
    for (int l = 0; l < 3; l++) {
      q[2 * l] = espcn_quantizer_new (cfg->method, ESPCN_QUANT_WEIGHT, model->cout[l],
          (size_t) model->cout[l] * model->cin[l] * model->k[l] * model->k[l], ESPCN_WEIGHT_QMAX_INT8, error);
      if (q[2 * l] == NULL)
        goto out;
      if (l < 2) {
        q[2 * l + 1] = espcn_quantizer_new (cfg->method, ESPCN_QUANT_ACT, 1, 0, act_qmax, error);
        if (q[2 * l + 1] == NULL)
          goto out;
      }
    }
  }

  EspcnParamRef refs[ESPCN_FLOAT_MODEL_N_PARAMS + ESPCN_N_QUANT_SLOTS];
  guint n_model = espcn_float_model_params (model, refs);
  guint n_all = n_model;
  for (guint i = 0; i < ESPCN_N_QUANT_SLOTS; i++)
    if (q[i] != NULL && q[i]->n_params > 0)
      refs[n_all++] = (EspcnParamRef) { espcn_quant_slot_name (i), q[i]->params, q[i]->grads, q[i]->n_params };
  adam = espcn_adam_new (ESPCN_ADAM_BETA1, ESPCN_ADAM_BETA2, ESPCN_ADAM_EPS);
  espcn_adam_add_group (adam, refs, n_model, 1.0f, (float) cfg->weight_decay);
  if (n_all > n_model) {
    guint group = espcn_adam_add_group (adam, refs + n_model, n_all - n_model, (float) cfg->quant_lr_mult, 0.0f);
    if (g_strcmp0 (cfg->method, "lsq") == 0 && cfg->lsq_log_steps)
      espcn_adam_set_log_space (adam, group, TRUE);
  }

  double bic[3];
  if (!val_set_build (dataset, cfg->scale, &val, bic, error))
    goto out;
  res->bicubic_psnr_y = bic[0];
  res->bicubic_psnr_rgb = bic[1];
  res->bicubic_ssim = bic[2];

  EspcnTrainPosition pos = { 0, 0, FALSE };
  gpointer fit_data[2] = { (gpointer) cfg, dataset };
  if (cfg->start == ESPCN_START_INTERP && cfg->init == NULL && cfg->resume == NULL &&
      !espcn_float_model_start_as_interpolator (model, cfg->patch, cfg->batch,
          (INTERP_FIT_PAIRS + cfg->batch - 1) / cfg->batch, interp_fit_batch, fit_data, error))
    goto out;
  if (cfg->init != NULL && cfg->resume == NULL && !espcn_checkpoint_load_weights (cfg->init, model, error))
    goto out;
  if (cfg->init != NULL && !cfg->quiet)
    printf ("starting from the weights of %s\n", cfg->init);

  if (cfg->resume != NULL) {
    if (!espcn_checkpoint_load (cfg->resume, model, adam, q, options, &pos, error))
      goto out;
    if (pos.quant_on)
      attach_quantizers (model, q);
    /* The history so far, so OUT/<method>.json stays whole across a resume. */
    g_autofree char *prev = g_strdup_printf ("%s/%s.json", cfg->out_dir, cfg->method);
    g_autoptr (JsonParser) parser = json_parser_new ();
    if (json_parser_load_from_file (parser, prev, NULL)) {
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      JsonArray *a = o && json_object_has_member (o, "history") ? json_object_get_array_member (o, "history") : NULL;
      for (guint i = 0; a != NULL && i < json_array_get_length (a); i++) {
        JsonObject *e = json_array_get_object_element (a, i);
        EspcnEpochMetrics m = { 0 };
        m.epoch = (int) json_object_get_int_member_with_default (e, "epoch", 0);
        if (m.epoch < 1 || m.epoch > pos.epoch)
          continue;
        m.train_loss = json_object_get_double_member_with_default (e, "train_loss", 0);
        m.val_psnr_y = json_object_get_double_member_with_default (e, "val_psnr_y", NAN);
        m.val_psnr_rgb = json_object_get_double_member_with_default (e, "val_psnr_rgb", NAN);
        m.val_ssim = json_object_get_double_member_with_default (e, "val_ssim", NAN);
        m.seconds = json_object_get_double_member_with_default (e, "seconds", 0);
        g_array_append_val (res->history, m);
      }
    }
    if (!cfg->quiet)
      printf ("resuming %s from %s at epoch %d, step %d\n", cfg->method, cfg->resume, pos.epoch + 1,
          pos.step_in_epoch);
  }

  const guint ntrain = espcn_dataset_num_train (dataset);
  const int lr_side = cfg->patch / cfg->scale;
  const gint64 spe = (ntrain + cfg->batch - 1) / cfg->batch;
  const gint64 total_steps = spe * cfg->epochs;
  const gint64 quant_start = spe * cfg->warmup_epochs;
  lr_buf = g_new (float, (gsize) cfg->batch * 3 * lr_side * lr_side);
  hr_buf = g_new (float, (gsize) cfg->batch * 3 * cfg->patch * cfg->patch);
  order = g_new (guint32, ntrain);

  if (!cfg->quiet && cfg->resume == NULL) {
    g_autofree char *classes = cfg->augment.balance_classes
        ? g_strdup_printf (" (%u classes, drawn class by class)", espcn_dataset_num_train_classes (dataset))
        : g_strdup ("");
    printf ("%s x%d: %u train%s / %u val images, %" G_GINT64_FORMAT " steps of %d per epoch, %d epochs "
            "(bicubic val Y-PSNR %.3f dB)\n",
        cfg->method, cfg->scale, ntrain, classes, val.n, spe, cfg->batch, cfg->epochs, res->bicubic_psnr_y);
  }

  gint64 steps_this_run = 0;
  gint64 t_start = g_get_monotonic_time ();
  double trained_before = 0;
  for (guint i = 0; i < res->history->len; i++)
    trained_before += g_array_index (res->history, EspcnEpochMetrics, i).seconds;

  for (int epoch = pos.epoch; epoch < cfg->epochs; epoch++) {
    gint64 t_epoch = g_get_monotonic_time ();
    EspcnRng order_rng;
    derive_rng (&order_rng, cfg->seed, RNG_ORDER, (guint64) epoch, 0);
    espcn_dataset_epoch_order (dataset, &order_rng, order);

    if (quantized && !pos.quant_on && epoch >= cfg->warmup_epochs) {
      /* Quantization turns on: initialise from the first batch of this epoch. */
      guint n = MIN ((guint) cfg->batch, ntrain);
      if (!fill_batch (dataset, order, n, cfg->seed, (guint64) epoch, 0, cfg->patch, cfg->scale, lr_buf, hr_buf,
              threads, error))
        goto out;
      attach_quantizers (model, q);
      espcn_float_model_init_quantizers (model, lr_buf, (int) n, lr_side, lr_side);
      pos.quant_on = TRUE;
      if (!cfg->quiet)
        printf ("epoch %d: quantization on (%s)\n", epoch + 1, cfg->method);
    }
    if (pos.quant_on && !calibrate_activations (cfg, dataset, model, q, lr_buf, hr_buf, lr_side, error))
      goto out;

    double loss_sum = 0;
    int loss_n = 0;
    for (gint64 s = pos.step_in_epoch; s < spe; s++) {
      guint first = (guint) (s * cfg->batch);
      guint n = MIN ((guint) cfg->batch, ntrain - first);
      if (!fill_batch (dataset, order + first, n, cfg->seed, (guint64) epoch, first, cfg->patch, cfg->scale, lr_buf,
              hr_buf, threads, error))
        goto out;
      float loss = espcn_float_model_train_step_grads (model, lr_buf, hr_buf, (int) n, lr_side, lr_side, cfg->loss);
      if (!isfinite (loss)) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
            "training diverged at epoch %d step %" G_GINT64_FORMAT ": the loss is %g (try a lower --lr)", epoch + 1,
            s + 1, loss);
        goto out;
      }
      if (pos.quant_on)
        espcn_float_model_regularizer (model);
      espcn_clip_grad_norm (refs, n_all, (float) cfg->clip_norm);
      gint64 step = (gint64) epoch * spe + s;
      float lr_now = espcn_cosine_lr ((float) cfg->lr, 0.0f, step, total_steps);
      if (step < cfg->lr_warmup)
        lr_now *= (float) (step + 1) / (float) cfg->lr_warmup;
      espcn_adam_step (adam, lr_now);
      if (pos.quant_on) {
        float progress = total_steps > quant_start ? (float) (step + 1 - quant_start) / (total_steps - quant_start) : 1;
        espcn_float_model_quant_step (model, CLAMP (progress, 0.0f, 1.0f));
      }
      loss_sum += loss;
      loss_n++;
      steps_this_run++;

      if (cfg->progress && !cfg->quiet) {
        double el = (g_get_monotonic_time () - t_start) / 1e6;
        double rate = steps_this_run * (double) cfg->batch / MAX (el, 1e-9);
        gint64 left = total_steps - (step + 1);
        char eta[32];
        format_eta (left * (double) cfg->batch / MAX (rate, 1e-9), eta, sizeof eta);
        fprintf (stderr, "\r%s epoch %d/%d step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " loss %.5f %.1f patches/s ETA %s  ",
            cfg->method, epoch + 1, cfg->epochs, s + 1, spe, loss_sum / loss_n, rate, eta);
        fflush (stderr);
      }

      if (stop_requested || (cfg->stop_after > 0 && steps_this_run >= cfg->stop_after)) {
        EspcnTrainPosition here = { epoch, (int) (s + 1), pos.quant_on };
        if (here.step_in_epoch == spe) {
          /* A finished epoch's step count is the next epoch's start: validation and the
           * history entry are what a resume would redo, so stop at the boundary. */
          here.epoch = epoch + 1;
          here.step_in_epoch = 0;
          if (epoch + 1 < cfg->epochs && quantized && !pos.quant_on && epoch + 1 >= cfg->warmup_epochs)
            here.quant_on = FALSE;
          double v[3];
          validate (model, q, &val, cfg->scale, v);
          EspcnEpochMetrics m = { epoch + 1, loss_sum / MAX (loss_n, 1), v[0], v[1], v[2],
            (g_get_monotonic_time () - t_epoch) / 1e6 };
          g_array_append_val (res->history, m);
          res->final_psnr_y = v[0];
          res->final_psnr_rgb = v[1];
          res->final_ssim = v[2];
        }
        if (cfg->progress && !cfg->quiet)
          fprintf (stderr, "\n");
        if (!espcn_checkpoint_save (ckpt_path, model, adam, q, &here, options, error))
          goto out;
        res->train_seconds = trained_before + (g_get_monotonic_time () - t_start) / 1e6;
        if (!write_history (cfg, res, hist_path, error))
          goto out;
        if (!cfg->quiet)
          printf ("stopped at epoch %d, step %d: checkpoint %s (continue with --resume %s)\n", here.epoch + 1,
              here.step_in_epoch, ckpt_path, ckpt_path);
        res->interrupted = TRUE;
        res->checkpoint_path = g_strdup (ckpt_path);
        stop_requested = 0;
        ok = TRUE;
        goto out;
      }
    }
    pos.step_in_epoch = 0;
    if (cfg->progress && !cfg->quiet)
      fprintf (stderr, "\r\033[K");

    double v[3] = { NAN, NAN, NAN };
    gboolean do_val = (epoch + 1) % cfg->val_every == 0 || epoch + 1 == cfg->epochs;
    if (do_val) {
      validate (model, q, &val, cfg->scale, v);
      res->final_psnr_y = v[0];
      res->final_psnr_rgb = v[1];
      res->final_ssim = v[2];
    }
    EspcnEpochMetrics m = { epoch + 1, loss_sum / MAX (loss_n, 1), v[0], v[1], v[2],
      (g_get_monotonic_time () - t_epoch) / 1e6 };
    g_array_append_val (res->history, m);
    if (!cfg->quiet && !do_val)
      printf ("%s epoch %d/%d  loss %.5f  %.1f s\n", cfg->method, epoch + 1, cfg->epochs, m.train_loss, m.seconds);
    else if (!cfg->quiet)
      printf ("%s epoch %d/%d  loss %.5f  val Y-PSNR %.3f dB (bicubic %.3f)  RGB %.3f  SSIM %.4f  %.1f s\n", cfg->method,
          epoch + 1, cfg->epochs, m.train_loss, v[0], res->bicubic_psnr_y, v[1], v[2], m.seconds);
    fflush (stdout);

    EspcnTrainPosition here = { epoch + 1, 0, pos.quant_on };
    if (!espcn_checkpoint_save (ckpt_path, model, adam, q, &here, options, error))
      goto out;
    res->train_seconds = trained_before + (g_get_monotonic_time () - t_start) / 1e6;
    if (!write_history (cfg, res, hist_path, error))
      goto out;
  }

  res->train_seconds = trained_before + (g_get_monotonic_time () - t_start) / 1e6;
  if (!write_history (cfg, res, hist_path, error))
    goto out;
  res->checkpoint_path = g_strdup (ckpt_path);

  if (quantized && cfg->export_int8) {
    set_quant_training (q, FALSE);
    g_autofree char *int8_path = g_strdup_printf ("%s/%s.bin", cfg->out_dir, cfg->method);
    g_autoptr (GHashTable) meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    g_autofree char *aug_opts = augment_text (&cfg->augment);
    g_autofree char *warmup_opt = cfg->lr_warmup > 0 ? g_strdup_printf (" --lr-warmup %d", cfg->lr_warmup) : g_strdup ("");
    g_hash_table_insert (meta, g_strdup ("train_data"), g_strdup (cfg->data_dir));
    g_hash_table_insert (meta, g_strdup ("val_psnr_y"), g_strdup_printf ("%.3f", res->final_psnr_y));
    g_hash_table_insert (meta, g_strdup ("recipe"),
        g_strdup_printf ("espcn-train --method %s --scale %d --epochs %d --warmup %d --batch %d --patch %d --lr %g "
                         "--num-train %d --num-val %d --seed %" G_GUINT64_FORMAT " --loss %s%s%s%s%s%s",
            cfg->method, cfg->scale, cfg->epochs, cfg->warmup_epochs, cfg->batch, cfg->patch, cfg->lr, cfg->num_train,
            cfg->num_val, cfg->seed, espcn_loss_name (cfg->loss), aug_opts,
            cfg->start == ESPCN_START_PLAIN ? " --start plain" : "", warmup_opt, cfg->init ? " --init " : "",
            cfg->init ? cfg->init : ""));
    /* A fine-tuned model names its starting point; the recipe of that run too. */
    char *init_recipe = cfg->init ? espcn_checkpoint_recipe (cfg->init) : NULL;
    if (init_recipe != NULL)
      g_hash_table_insert (meta, g_strdup ("init_recipe"), init_recipe);
    if (!espcn_export_int8 (model, cfg->method, meta, int8_path, error))
      goto out;
    res->int8_path = g_steal_pointer (&int8_path);
    if (!cfg->quiet)
      printf ("INT8 model: %s\n", res->int8_path);
  }
  ok = TRUE;

out:
  val_set_free (&val);
  model->wq[0] = model->wq[1] = model->wq[2] = NULL;
  model->aq[0] = model->aq[1] = NULL;
  for (guint i = 0; i < ESPCN_N_QUANT_SLOTS; i++)
    espcn_quantizer_free (q[i]);
  return ok;
}

double
espcn_train_bench (int scale, int features, int batch, int patch, int num_train, int threads, int steps)
{
  EspcnFloatModelConfig mc = { scale, features };
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnFloatModel) model = espcn_float_model_new (&mc, 1, &error);
  if (model == NULL)
    return -1;
  espcn_float_model_set_threads (model, MIN (threads > 0 ? threads : (int) g_get_num_processors (), ESPCN_NN_CHUNKS));
  int lr_side = patch / scale;
  gsize lr_n = (gsize) batch * 3 * lr_side * lr_side, hr_n = (gsize) batch * 3 * patch * patch;
  g_autofree float *lr = g_new (float, lr_n);
  g_autofree float *hr = g_new (float, hr_n);
  EspcnRng rng;
  espcn_rng_seed (&rng, 7);
  for (gsize i = 0; i < lr_n; i++)
    lr[i] = espcn_rng_uniform (&rng);
  for (gsize i = 0; i < hr_n; i++)
    hr[i] = espcn_rng_uniform (&rng);
  EspcnParamRef refs[ESPCN_FLOAT_MODEL_N_PARAMS];
  guint n = espcn_float_model_params (model, refs);
  g_autoptr (EspcnAdam) adam = espcn_adam_new (ESPCN_ADAM_BETA1, ESPCN_ADAM_BETA2, ESPCN_ADAM_EPS);
  espcn_adam_add_group (adam, refs, n, 1.0f, 1e-4f);

  g_autofree double *t = g_new (double, steps);
  for (int i = -3; i < steps; i++) {
    gint64 t0 = g_get_monotonic_time ();
    espcn_float_model_train_step_grads (model, lr, hr, batch, lr_side, lr_side, ESPCN_LOSS_L1);
    espcn_clip_grad_norm (refs, n, 1.0f);
    espcn_adam_step (adam, 1e-3f);
    if (i >= 0)
      t[i] = (g_get_monotonic_time () - t0) / 1e3;
  }
  for (int i = 1; i < steps; i++)
    for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
      double x = t[j];
      t[j] = t[j - 1];
      t[j - 1] = x;
    }
  double med = steps % 2 ? t[steps / 2] : 0.5 * (t[steps / 2 - 1] + t[steps / 2]);
  int spe = (num_train + batch - 1) / batch;
  printf ("float training step, x%d, batch %d, HR patch %d, %d features: median %.1f ms over %d steps "
          "(min %.1f, max %.1f); %.2f s per epoch of %d patches (%d steps)\n",
      scale, batch, patch, features, med, steps, t[0], t[steps - 1], med * spe / 1000.0, num_train, spe);
  return med;
}
