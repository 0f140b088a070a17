#include "train/trainer.h"

#include <gio/gio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "export/export.h"
#include "image/color.h"
#include "quant/quantizer.h"
#include "train/checkpoint.h"
#include "train/history.h"
#include "train/qat-model.h"
#include "train/validation.h"
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
  cfg->channels = 3;
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
  cfg->weight_decay = ESPCN_TRAIN_DEFAULT_WEIGHT_DECAY;
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

int
espcn_train_config_act_bits (const EspcnTrainConfig *cfg)
{
  const EspcnQuantMethod *m = espcn_quant_method_lookup (cfg->method);
  if (m == NULL || !m->quantized)
    return 0;
  return cfg->act_bits != 0 ? cfg->act_bits : espcn_quant_method_act_bits (m);
}

gboolean
espcn_train_config_validate (const EspcnTrainConfig *cfg, GError **error)
{
  if (cfg->data_dir == NULL || *cfg->data_dir == '\0')
    BAD ("no training data given: use --data DIR (a Food-101 tree or a folder of images; "
         "espcn-sample-data DIR makes one)");
  if (cfg->out_dir == NULL || *cfg->out_dir == '\0')
    BAD ("no output folder given: use --out DIR");
  const EspcnQuantMethod *method = espcn_quant_method_lookup (cfg->method);
  if (method == NULL)
    BAD ("unknown method '%s': choose none, lsq, pact, adaround, apot, dorefa or ste", cfg->method ? cfg->method : "");
  if (cfg->scale < 2 || cfg->scale > 4)
    BAD ("scale %d is not supported: ESPCN here upscales by 2, 3 or 4", cfg->scale);
  if (cfg->channels != 1 && cfg->channels != 3)
    BAD ("%d image channels: the network is RGB (3) or luma (1)", cfg->channels);
  if (cfg->features < 2 || cfg->features > 1024 || cfg->features % 2 != 0)
    BAD ("features %d must be even and between 2 and 1024", cfg->features);
  if (cfg->epochs < 1 || cfg->epochs > 100000)
    BAD ("epochs %d must be between 1 and 100000", cfg->epochs);
  if (cfg->warmup_epochs < 0)
    BAD ("warm-up epochs %d must not be negative", cfg->warmup_epochs);
  if (method->quantized && cfg->warmup_epochs >= cfg->epochs)
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
  if (!(cfg->weight_decay >= 0 && cfg->weight_decay < 1))
    BAD ("--weight-decay %g must be in [0, 1)", cfg->weight_decay);
  if (!espcn_quant_method_check_act_bits (method, cfg->act_bits, error)) {
    g_prefix_error (error, "--act-bits %d: ", cfg->act_bits);
    return FALSE;
  }
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
  int patch, scale, channels;
  float *lr, *hr;
  GError *error;
} FillJob;

/* A luma run's pairs: each of the n RGB images in buf (3 planes of hw) becomes
 * its Y / 255 plane, packed from the start of buf. */
static void
batch_to_luma (float *buf, guint n, gsize hw)
{
  for (guint i = 0; i < n; i++)
    espcn_planar_rgb_to_y01 (buf + (gsize) i * 3 * hw, hw, buf + (gsize) i * hw);
}

static void
pairs_to_channels (int channels, guint n, int patch, int scale, float *lr, float *hr)
{
  if (channels != 1)
    return;
  batch_to_luma (lr, n, (gsize) (patch / scale) * (patch / scale));
  batch_to_luma (hr, n, (gsize) patch * patch);
}

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
            int patch, int scale, int channels, float *lr, float *hr, int threads, GError **error)
{
  FillJob jobs[2];
  guint n_jobs = (threads > 1 && n > 1) ? 2 : 1;
  GThread *th = NULL;
  for (guint j = 0; j < n_jobs; j++) {
    guint first = n * j / n_jobs, last = n * (j + 1) / n_jobs;
    jobs[j] = (FillJob) { ds, indices, first, last - first, seed, epoch, base, patch, scale, channels, lr, hr, NULL };
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
  pairs_to_channels (channels, n, patch, scale, lr, hr);
  return TRUE;
}

/* A batch of random pairs (not from the epoch's order), in the run's channels. */
static gboolean
sample_batch (const EspcnTrainConfig *cfg, const EspcnDataset *ds, EspcnRng *rng, float *lr, float *hr, GError **error)
{
  if (!espcn_dataset_sample_batch (ds, rng, (guint) cfg->batch, cfg->patch, cfg->scale, lr, hr, error))
    return FALSE;
  pairs_to_channels (cfg->channels, (guint) cfg->batch, cfg->patch, cfg->scale, lr, hr);
  return TRUE;
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
  g_hash_table_insert (h, "weight_decay", g_strdup_printf ("%.9g", cfg->weight_decay));
  g_hash_table_insert (h, "augment", augment_text (&cfg->augment));
  g_hash_table_insert (h, "loss", g_strdup (espcn_loss_name (cfg->loss)));
  const EspcnQuantMethod *m = espcn_quant_method_lookup (cfg->method);
  if (m->quantized)
    g_hash_table_insert (h, "act_bits", g_strdup_printf ("%d", espcn_train_config_act_bits (cfg)));
  if (m->log_space_params)
    g_hash_table_insert (h, "lsq_steps", g_strdup (cfg->lsq_log_steps ? "log" : "linear"));
  g_hash_table_insert (h, "num_train", g_strdup_printf ("%d", cfg->num_train));
  g_hash_table_insert (h, "num_val", g_strdup_printf ("%d", cfg->num_val));
  g_hash_table_insert (h, "init", g_strdup (cfg->init ? cfg->init : ""));
  return h;
}

/* Everything one run holds, passed from stage to stage. */
typedef struct {
  const EspcnTrainConfig *cfg;
  EspcnTrainResult *res;
  EspcnDataset *dataset;        /* borrowed or owned_ds */
  EspcnDataset *owned_ds;
  EspcnQatModel *qm;
  EspcnAdam *adam;
  EspcnParamRef refs[ESPCN_FLOAT_MODEL_N_PARAMS + ESPCN_QAT_N_SLOTS];
  guint n_refs;
  GHashTable *options;          /* what a resume must not change */
  EspcnValSet val;
  int threads;
  char *ckpt_path, *hist_path;
  EspcnTrainPosition pos;
  guint ntrain;
  int lr_side;
  gint64 spe, total_steps, quant_start;
  float *lr_buf, *hr_buf;
  guint32 *order;
  gint64 steps_this_run, t_start;
  double trained_before;        /* seconds of the epochs before a resume */
} TrainRun;

/* An event with the run's counters filled in. */
static EspcnTrainEvent
event (const TrainRun *r, EspcnTrainEventKind kind, int epoch)
{
  return (EspcnTrainEvent) {
    .kind = kind, .method = r->cfg->method, .epoch = epoch, .epochs = r->cfg->epochs,
    .steps_per_epoch = r->spe, .total_steps = r->total_steps, .steps_this_run = r->steps_this_run,
    .seconds_this_run = (g_get_monotonic_time () - r->t_start) / 1e6, .batch = r->cfg->batch,
    .bicubic_psnr_y = r->res->bicubic_psnr_y,
  };
}

static void
report (const TrainRun *r, const EspcnTrainEvent *ev)
{
  if (r->cfg->report != NULL)
    r->cfg->report (ev, r->cfg->report_data);
}

static void
notice (const TrainRun *r, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
notice (const TrainRun *r, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  EspcnTrainEvent ev = event (r, ESPCN_TRAIN_EVENT_NOTICE, r->pos.epoch + 1);
  ev.level = ESPCN_NOTICE_INFO;
  ev.text = text;
  report (r, &ev);
}

void
espcn_train_dataset_notice (EspcnNoticeLevel level, const char *message, gpointer user_data)
{
  const EspcnTrainConfig *cfg = user_data;
  EspcnTrainEvent ev = { .kind = ESPCN_TRAIN_EVENT_NOTICE, .method = cfg->method, .level = level, .text = message,
                         .epochs = cfg->epochs, .batch = cfg->batch };
  if (cfg->report != NULL)
    cfg->report (&ev, cfg->report_data);
}

double
espcn_train_event_eta (const EspcnTrainEvent *ev)
{
  if (ev->steps_this_run <= 0)
    return -1;
  return ev->seconds_this_run / ev->steps_this_run * (double) MAX (ev->total_steps - ev->steps_done, 0);
}

static double
seconds_so_far (const TrainRun *r)
{
  return r->trained_before + (g_get_monotonic_time () - r->t_start) / 1e6;
}

/* ---- setup ---- */

static gboolean
open_output (const TrainRun *r, GError **error)
{
  const char *dir = r->cfg->out_dir;
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "cannot create output folder %s: %s", dir,
        g_strerror (e));
    return FALSE;
  }
  if (access (dir, W_OK) != 0) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "output folder %s is not writable: %s", dir,
        g_strerror (e));
    return FALSE;
  }
  return TRUE;
}

/* The network's starting weights: drawn from the seed when the model was made,
 * or those of cfg->init (a fine-tuning run).  A resume overwrites them. */
/* The interpolator start's least-squares fit sees this many training pairs. */
#define INTERP_FIT_PAIRS 64

static gboolean
interp_fit_batch (gpointer data, int b, float *lr, float *hr, GError **error)
{
  const TrainRun *r = data;
  const EspcnTrainConfig *cfg = r->cfg;
  EspcnRng rng;
  derive_rng (&rng, cfg->seed, RNG_INTERP, (guint64) b, 0);
  return sample_batch (cfg, r->dataset, &rng, lr, hr, error);
}

/* The weights a new run starts from: the interpolator start (a least-squares fit
 * to training pairs), the plain initialisation, or a checkpoint's (--init); a
 * resumed run takes them from its checkpoint instead. */
static gboolean
init_weights (TrainRun *r, GError **error)
{
  const EspcnTrainConfig *cfg = r->cfg;
  if (cfg->start == ESPCN_START_INTERP && cfg->init == NULL && cfg->resume == NULL &&
      !espcn_float_model_start_as_interpolator (r->qm->model, cfg->patch, cfg->batch,
          (INTERP_FIT_PAIRS + cfg->batch - 1) / cfg->batch, interp_fit_batch, r, error))
    return FALSE;
  if (cfg->init != NULL && cfg->resume == NULL && !espcn_checkpoint_load_weights (cfg->init, r->qm, error))
    return FALSE;
  if (cfg->init != NULL)
    notice (r, "starting from the weights of %s", cfg->init);
  return TRUE;
}

/* Adam: the network's parameters, then the quantizers' in their own group. */
static void
setup_optimizer (TrainRun *r)
{
  const EspcnTrainConfig *cfg = r->cfg;
  guint n_model = espcn_float_model_params (r->qm->model, r->refs);
  r->n_refs = n_model + espcn_qat_model_quant_params (r->qm, r->refs + n_model);
  r->adam = espcn_adam_new (ESPCN_ADAM_BETA1, ESPCN_ADAM_BETA2, ESPCN_ADAM_EPS);
  espcn_adam_add_group (r->adam, r->refs, n_model, 1.0f, (float) cfg->weight_decay);
  if (r->n_refs > n_model) {
    guint group = espcn_adam_add_group (r->adam, r->refs + n_model, r->n_refs - n_model, (float) cfg->quant_lr_mult,
        0.0f);
    if (r->qm->method->log_space_params && cfg->lsq_log_steps)
      espcn_adam_set_log_space (r->adam, group, TRUE);
  }
}

static gboolean
run_setup (TrainRun *r, EspcnDataset *dataset, GError **error)
{
  const EspcnTrainConfig *cfg = r->cfg;
  if (dataset == NULL) {
    EspcnDatasetOptions opts;
    espcn_dataset_options_init (&opts);
    opts.num_train = cfg->num_train;
    opts.num_val = cfg->num_val;
    opts.seed = cfg->seed;
    opts.notice = espcn_train_dataset_notice;
    opts.notice_data = (gpointer) cfg;
    opts.augment = cfg->augment;
    dataset = r->owned_ds = espcn_dataset_open (cfg->data_dir, &opts, error);
    if (dataset == NULL)
      return FALSE;
  }
  r->dataset = dataset;
  if (!open_output (r, error))
    return FALSE;

  r->threads = cfg->threads > 0 ? cfg->threads : (int) g_get_num_processors ();
  EspcnFloatModelConfig mc = { cfg->scale, cfg->features, cfg->channels };
  r->qm = espcn_qat_model_new (&mc, cfg->method, cfg->act_bits, cfg->seed, error);
  if (r->qm == NULL)
    return FALSE;
  espcn_float_model_set_threads (r->qm->model, MIN (r->threads, ESPCN_NN_CHUNKS));
  r->options = resume_options (cfg);
  r->ckpt_path = g_strdup_printf ("%s/%s.safetensors", cfg->out_dir, cfg->method);
  r->hist_path = g_strdup_printf ("%s/%s.json", cfg->out_dir, cfg->method);
  setup_optimizer (r);

  double bic[3];
  if (!espcn_val_set_build (dataset, cfg->scale, cfg->channels, &r->val, bic, error))
    return FALSE;
  r->res->bicubic_psnr_y = bic[0];
  r->res->bicubic_psnr_rgb = bic[1];
  r->res->bicubic_ssim = bic[2];
  if (!init_weights (r, error))
    return FALSE;

  r->ntrain = espcn_dataset_num_train (dataset);
  r->lr_side = cfg->patch / cfg->scale;
  r->spe = (r->ntrain + cfg->batch - 1) / cfg->batch;
  r->total_steps = r->spe * cfg->epochs;
  r->quant_start = r->spe * cfg->warmup_epochs;
  r->lr_buf = g_new (float, (gsize) cfg->batch * 3 * r->lr_side * r->lr_side);
  r->hr_buf = g_new (float, (gsize) cfg->batch * 3 * cfg->patch * cfg->patch);
  r->order = g_new (guint32, r->ntrain);
  return TRUE;
}

static void
run_clear (TrainRun *r)
{
  espcn_val_set_clear (&r->val);
  espcn_qat_model_free (r->qm);
  if (r->adam != NULL)
    espcn_adam_free (r->adam);
  if (r->options != NULL)
    g_hash_table_unref (r->options);
  espcn_dataset_free (r->owned_ds);
  g_free (r->ckpt_path);
  g_free (r->hist_path);
  g_free (r->lr_buf);
  g_free (r->hr_buf);
  g_free (r->order);
}

/* ---- resume ---- */

static gboolean
run_resume (TrainRun *r, GError **error)
{
  const EspcnTrainConfig *cfg = r->cfg;
  if (cfg->resume != NULL) {
    if (!espcn_checkpoint_load (cfg->resume, r->qm, r->adam, r->options, &r->pos, error))
      return FALSE;
    if (r->pos.quant_on)
      espcn_qat_model_attach (r->qm, TRUE);
    espcn_train_history_load (r->hist_path, r->pos.epoch, r->res->history);
    notice (r, "resuming %s from %s at epoch %d, step %d", cfg->method, cfg->resume, r->pos.epoch + 1,
        r->pos.step_in_epoch);
  } else {
    EspcnTrainEvent ev = event (r, ESPCN_TRAIN_EVENT_START, 1);
    ev.n_train = r->ntrain;
    ev.n_classes = cfg->augment.balance_classes ? espcn_dataset_num_train_classes (r->dataset) : 0;
    ev.n_val = r->val.n;
    report (r, &ev);
  }
  for (guint i = 0; i < r->res->history->len; i++)
    r->trained_before += g_array_index (r->res->history, EspcnEpochMetrics, i).seconds;
  return TRUE;
}

/* ---- the epoch loop ---- */

/* Fixes the activation scales of methods that do not train them (AdaRound) from
 * the activations of cfg->calib_batches training batches, before the rounding is
 * learned on them.  A no-op for the other methods and once calibrated (resume). */
static gboolean
calibrate_activations (TrainRun *r, GError **error)
{
  const EspcnTrainConfig *cfg = r->cfg;
  if (!espcn_qat_model_needs_calibration (r->qm))
    return TRUE;
  for (int c = 0; c < cfg->calib_batches; c++) {
    EspcnRng rng;
    derive_rng (&rng, cfg->seed, RNG_CALIB, (guint64) c, 0);
    if (!sample_batch (cfg, r->dataset, &rng, r->lr_buf, r->hr_buf, error))
      return FALSE;
    espcn_float_model_observe_activations (r->qm->model, r->lr_buf, cfg->batch, r->lr_side, r->lr_side);
  }
  if (!espcn_qat_model_finish_calibration (r->qm, error))
    return FALSE;
  notice (r, "%s: activation scales calibrated on %d training batches", cfg->method, cfg->calib_batches);
  return TRUE;
}

/* The epoch's order; quantization turns on at the first quantized epoch,
 * initialised from that epoch's first batch. */
static gboolean
epoch_begin (TrainRun *r, int epoch, GError **error)
{
  const EspcnTrainConfig *cfg = r->cfg;
  EspcnRng order_rng;
  derive_rng (&order_rng, cfg->seed, RNG_ORDER, (guint64) epoch, 0);
  espcn_dataset_epoch_order (r->dataset, &order_rng, r->order);

  if (r->qm->method->quantized && !r->pos.quant_on && epoch >= cfg->warmup_epochs) {
    guint n = MIN ((guint) cfg->batch, r->ntrain);
    if (!fill_batch (r->dataset, r->order, n, cfg->seed, (guint64) epoch, 0, cfg->patch, cfg->scale, cfg->channels,
            r->lr_buf, r->hr_buf, r->threads, error))
      return FALSE;
    espcn_qat_model_start_quantization (r->qm, r->lr_buf, (int) n, r->lr_side, r->lr_side);
    r->pos.quant_on = TRUE;
    notice (r, "epoch %d: quantization on (%s)", epoch + 1, cfg->method);
  }
  return !r->pos.quant_on || calibrate_activations (r, error);
}

/* One optimizer step on the batch at step s of the epoch; its loss in *loss. */
static gboolean
train_step (TrainRun *r, int epoch, gint64 s, float *loss, GError **error)
{
  const EspcnTrainConfig *cfg = r->cfg;
  guint first = (guint) (s * cfg->batch);
  guint n = MIN ((guint) cfg->batch, r->ntrain - first);
  if (!fill_batch (r->dataset, r->order + first, n, cfg->seed, (guint64) epoch, first, cfg->patch, cfg->scale,
          cfg->channels, r->lr_buf, r->hr_buf, r->threads, error))
    return FALSE;
  EspcnFloatModel *model = r->qm->model;
  *loss = espcn_float_model_train_step_grads (model, r->lr_buf, r->hr_buf, (int) n, r->lr_side, r->lr_side, cfg->loss);
  if (!isfinite (*loss)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "training diverged at epoch %d step %" G_GINT64_FORMAT ": the loss is %g (try a lower --lr)", epoch + 1, s + 1,
        *loss);
    return FALSE;
  }
  if (r->pos.quant_on)
    espcn_float_model_regularizer (model);
  espcn_clip_grad_norm (r->refs, r->n_refs, (float) cfg->clip_norm);
  gint64 step = (gint64) epoch * r->spe + s;
  float lr_now = espcn_cosine_lr ((float) cfg->lr, 0.0f, step, r->total_steps);
  if (step < cfg->lr_warmup)
    lr_now *= (float) (step + 1) / (float) cfg->lr_warmup;
  espcn_adam_step (r->adam, lr_now);
  if (r->pos.quant_on) {
    float progress = r->total_steps > r->quant_start
        ? (float) (step + 1 - r->quant_start) / (r->total_steps - r->quant_start) : 1;
    espcn_float_model_quant_step (model, CLAMP (progress, 0.0f, 1.0f));
  }
  r->steps_this_run++;
  return TRUE;
}

/* Validation (when due), the history entry and the EPOCH report of a finished epoch. */
static void
epoch_metrics (TrainRun *r, int epoch, double loss, gboolean do_val, gint64 t_epoch)
{
  double v[3] = { NAN, NAN, NAN };
  if (do_val) {
    espcn_val_set_score (&r->val, r->qm, r->cfg->scale, v);
    r->res->final_psnr_y = v[0];
    r->res->final_psnr_rgb = v[1];
    r->res->final_ssim = v[2];
  }
  EspcnEpochMetrics m = { epoch + 1, loss, v[0], v[1], v[2], (g_get_monotonic_time () - t_epoch) / 1e6 };
  g_array_append_val (r->res->history, m);
  EspcnTrainEvent ev = event (r, ESPCN_TRAIN_EVENT_EPOCH, epoch + 1);
  ev.steps_done = (gint64) (epoch + 1) * r->spe;
  ev.metrics = &m;
  report (r, &ev);
}

/* A checkpoint at `here` and the history as it stands. */
static gboolean
save_progress (TrainRun *r, const EspcnTrainPosition *here, GError **error)
{
  if (!espcn_checkpoint_save (r->ckpt_path, r->qm, r->adam, here, r->options, error))
    return FALSE;
  r->res->train_seconds = seconds_so_far (r);
  return espcn_train_history_write (r->cfg, r->res, r->hist_path, error);
}

/* Stopped by a signal or stop_after after step s of `epoch`. */
static gboolean
stop_here (TrainRun *r, int epoch, gint64 s, double loss, gint64 t_epoch, GError **error)
{
  EspcnTrainPosition here = { epoch, (int) (s + 1), r->pos.quant_on };
  if (here.step_in_epoch == r->spe) {
    /* A finished epoch's step count is the next epoch's start: validation and the
     * history entry are what a resume would redo, so stop at the boundary. */
    here.epoch = epoch + 1;
    here.step_in_epoch = 0;
    epoch_metrics (r, epoch, loss, TRUE, t_epoch);
  }
  if (!save_progress (r, &here, error))
    return FALSE;
  notice (r, "stopped at epoch %d, step %d: checkpoint %s (continue with --resume %s)", here.epoch + 1,
      here.step_in_epoch, r->ckpt_path, r->ckpt_path);
  r->res->interrupted = TRUE;
  r->res->checkpoint_path = g_strdup (r->ckpt_path);
  stop_requested = 0;
  return TRUE;
}

static gboolean
run_epoch (TrainRun *r, int epoch, GError **error)
{
  const EspcnTrainConfig *cfg = r->cfg;
  gint64 t_epoch = g_get_monotonic_time ();
  if (!epoch_begin (r, epoch, error))
    return FALSE;
  double loss_sum = 0;
  int loss_n = 0;
  for (gint64 s = r->pos.step_in_epoch; s < r->spe; s++) {
    float loss;
    if (!train_step (r, epoch, s, &loss, error))
      return FALSE;
    loss_sum += loss;
    loss_n++;
    EspcnTrainEvent ev = event (r, ESPCN_TRAIN_EVENT_STEP, epoch + 1);
    ev.step = s + 1;
    ev.steps_done = (gint64) epoch * r->spe + s + 1;
    ev.loss = loss_sum / loss_n;
    report (r, &ev);
    if (stop_requested || (cfg->stop_after > 0 && r->steps_this_run >= cfg->stop_after))
      return stop_here (r, epoch, s, loss_sum / MAX (loss_n, 1), t_epoch, error);
  }
  r->pos.step_in_epoch = 0;
  gboolean do_val = (epoch + 1) % cfg->val_every == 0 || epoch + 1 == cfg->epochs;
  epoch_metrics (r, epoch, loss_sum / MAX (loss_n, 1), do_val, t_epoch);
  EspcnTrainPosition here = { epoch + 1, 0, r->pos.quant_on };
  return save_progress (r, &here, error);
}

/* ---- finish and export ---- */

static gboolean
run_finish (TrainRun *r, GError **error)
{
  r->res->train_seconds = seconds_so_far (r);
  if (!espcn_train_history_write (r->cfg, r->res, r->hist_path, error))
    return FALSE;
  r->res->checkpoint_path = g_strdup (r->ckpt_path);
  return TRUE;
}

static gboolean
run_export (TrainRun *r, GError **error)
{
  const EspcnTrainConfig *cfg = r->cfg;
  espcn_qat_model_set_training (r->qm, FALSE);
  g_autofree char *int8_path = g_strdup_printf ("%s/%s.bin", cfg->out_dir, cfg->method);
  g_autoptr (GHashTable) meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *aug_opts = augment_text (&cfg->augment);
  g_autofree char *warmup_opt = cfg->lr_warmup > 0 ? g_strdup_printf (" --lr-warmup %d", cfg->lr_warmup) : g_strdup ("");
  g_autofree char *wd_opt = cfg->weight_decay != ESPCN_TRAIN_DEFAULT_WEIGHT_DECAY ? g_strdup_printf (" --weight-decay %g", cfg->weight_decay) : g_strdup ("");
  int bits = espcn_train_config_act_bits (cfg);
  g_autofree char *bits_opt = bits != espcn_quant_method_act_bits (r->qm->method) ? g_strdup_printf (" --act-bits %d", bits) : g_strdup ("");
  g_hash_table_insert (meta, g_strdup ("train_data"), g_strdup (cfg->data_dir));
  g_hash_table_insert (meta, g_strdup ("val_psnr_y"), g_strdup_printf ("%.3f", r->res->final_psnr_y));
  g_hash_table_insert (meta, g_strdup ("recipe"),
      g_strdup_printf ("espcn-train --method %s --scale %d --epochs %d --warmup %d --batch %d --patch %d --lr %g "
                       "--num-train %d --num-val %d --seed %" G_GUINT64_FORMAT " --loss %s%s%s%s%s%s%s%s%s",
          cfg->method, cfg->scale, cfg->epochs, cfg->warmup_epochs, cfg->batch, cfg->patch, cfg->lr, cfg->num_train,
          cfg->num_val, cfg->seed, espcn_loss_name (cfg->loss), aug_opts,
          cfg->start == ESPCN_START_PLAIN ? " --start plain" : "", warmup_opt, wd_opt, bits_opt, cfg->init ? " --init " : "",
          cfg->init ? cfg->init : "", cfg->channels == 1 ? " --channels y" : ""));
  /* A fine-tuned model names its starting point; the recipe of that run too. */
  char *init_recipe = cfg->init ? espcn_checkpoint_recipe (cfg->init) : NULL;
  if (init_recipe != NULL)
    g_hash_table_insert (meta, g_strdup ("init_recipe"), init_recipe);
  if (!espcn_export_int8 (r->qm, meta, int8_path, error))
    return FALSE;
  r->res->int8_path = g_steal_pointer (&int8_path);
  notice (r, "INT8 model: %s", r->res->int8_path);
  return TRUE;
}

gboolean
espcn_train_run (const EspcnTrainConfig *cfg, EspcnDataset *dataset, EspcnTrainResult *res, GError **error)
{
  memset (res, 0, sizeof *res);
  res->history = g_array_new (FALSE, TRUE, sizeof (EspcnEpochMetrics));
  if (!espcn_train_config_validate (cfg, error))
    return FALSE;

  TrainRun r = { .cfg = cfg, .res = res, .t_start = g_get_monotonic_time () };
  gboolean ok = run_setup (&r, dataset, error) && run_resume (&r, error);
  r.t_start = g_get_monotonic_time ();
  for (int epoch = r.pos.epoch; ok && !res->interrupted && epoch < cfg->epochs; epoch++)
    ok = run_epoch (&r, epoch, error);
  if (ok && !res->interrupted)
    ok = run_finish (&r, error) && (!r.qm->method->quantized || !cfg->export_int8 || run_export (&r, error));
  run_clear (&r);
  return ok;
}
