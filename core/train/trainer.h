/* espcn-gst: the training run behind `espcn-train`.
 *
 * Float warm-up, then quantization-aware training with one of the six methods:
 * the first `warmup_epochs` epochs train in float; at the start of the next one the
 * quantizers are attached and initialised from the first batch of that epoch, and
 * their parameters train in their own Adam group at `quant_lr_mult` x the learning
 * rate without weight decay.  Each epoch ends with a validation on the whole
 * validation images and a checkpoint; `OUT/<method>.json` keeps the history.
 *
 * The run goes in stages: setup (dataset, output folder, the QAT model, its
 * initial weights, the optimizer, the validation set), resume (a checkpoint and
 * the history so far), the epoch loop, finish (history) and export (the INT8
 * model).  It prints nothing: progress and notices go to cfg->report. */
#pragma once

#include <glib.h>

#include "data/dataset.h"
#include "nn/init-interpolator.h"
#include "nn/ops.h"
#include "util/report.h"

G_BEGIN_DECLS

/* Adam's L2 weight decay of the reference experiment, espcn-train's default. */
#define ESPCN_TRAIN_DEFAULT_WEIGHT_DECAY 1e-4

typedef struct _EspcnTrainEvent EspcnTrainEvent;
typedef void (*EspcnTrainReportFunc) (const EspcnTrainEvent *event, gpointer user_data);

typedef struct {
  char *data_dir;
  char *out_dir;
  char *method;          /* "none" or a quantization method */
  char *resume;          /* checkpoint to continue from, or NULL */
  char *init;            /* start from this checkpoint's weights (fresh optimizer), or NULL */
  EspcnStart start;      /* without init/resume: interpolator (default) or plain initialisation */
  int scale;             /* 2, 3, 4 */
  int features;          /* F */
  int channels;          /* 3: RGB network on RGB (default); 1: luma network on BT.601 Y / 255 */
  int epochs;
  int warmup_epochs;     /* float epochs before quantization (reference: 2) */
  int batch;
  int patch;             /* HR patch side, a multiple of scale */
  EspcnAugment augment;  /* training-pair augmentation (default none) */
  int num_train;
  int num_val;
  int threads;           /* 0 = all cores */
  double lr;
  int lr_warmup;         /* steps of linear learning-rate ramp from 0 before the cosine schedule's value */
  double quant_lr_mult;  /* 10 */
  /* LSQ step sizes train in log space in their Adam group (TRUE, the default), or
   * on s itself as in the reference experiment (FALSE).  The reference collapses:
   * Adam's first updates are about quant_lr_mult * lr = 1e-2 in absolute terms, while
   * the weight step sizes are 1e-3 .. 1e-2, so some go negative in one step (clamped
   * to 1e-8: their channels quantize to 0).  In log space each update is relative,
   * about 1% per step at lr 1e-3; the LSQ forward and gradient are unchanged. */
  gboolean lsq_log_steps;
  double weight_decay;   /* ESPCN_TRAIN_DEFAULT_WEIGHT_DECAY */
  int act_bits;          /* hidden-activation grid: 0 = the method's own, 7 or 8 (espcn_qat_model_new) */
  double clip_norm;      /* 1.0 */
  guint64 seed;
  EspcnLoss loss;
  int calib_batches;     /* AdaRound's activation calibration when quantization turns on */
  int val_every;         /* validate every N epochs (and after the last); 1 = every epoch */
  gint64 stop_after;     /* stop (with a checkpoint) after this many steps in this process; 0 = never */
  gboolean export_int8;  /* write OUT/<method>.bin after a quantized run */
  /* Progress and notices (see EspcnTrainEvent); NULL: the run reports nothing. */
  EspcnTrainReportFunc report;
  gpointer report_data;
} EspcnTrainConfig;

typedef struct {
  int epoch;             /* 1-based */
  double train_loss;     /* mean over the epoch's steps */
  double val_psnr_y, val_psnr_rgb, val_ssim;
  double seconds;        /* wall time of the epoch, validation included */
} EspcnEpochMetrics;

typedef struct {
  GArray *history;       /* EspcnEpochMetrics */
  double bicubic_psnr_y, bicubic_psnr_rgb, bicubic_ssim;
  double final_psnr_y, final_psnr_rgb, final_ssim;
  double train_seconds;
  gboolean interrupted;  /* stopped early by a signal or stop_after; a checkpoint was written */
  char *checkpoint_path;
  char *int8_path;       /* NULL unless exported */
} EspcnTrainResult;

typedef enum {
  ESPCN_TRAIN_EVENT_NOTICE,  /* level, text: the dataset's warnings, "quantization on", resumed, stopped, ... */
  ESPCN_TRAIN_EVENT_START,   /* a fresh run's shape: n_train, n_classes, n_val, steps_per_epoch, bicubic */
  ESPCN_TRAIN_EVENT_STEP,    /* after each optimizer step: step, loss (mean of the epoch so far) */
  ESPCN_TRAIN_EVENT_EPOCH,   /* after each epoch: metrics (val_* NaN when not validated) */
} EspcnTrainEventKind;

/* What a report callback gets.  The counters are always set; the rest as noted
 * by the kind.  Pointers are valid during the call only. */
struct _EspcnTrainEvent {
  EspcnTrainEventKind kind;
  const char *method;
  EspcnNoticeLevel level;          /* NOTICE */
  const char *text;                /* NOTICE */
  int epoch;                       /* 1-based epoch being trained (or just finished) */
  int epochs;
  gint64 step;                     /* STEP: 1-based step inside the epoch */
  gint64 steps_per_epoch;
  gint64 steps_done, total_steps;  /* optimizer steps over the whole run */
  gint64 steps_this_run;           /* steps done by this process (a resumed run starts at 0) */
  double seconds_this_run;         /* wall time of this process's training so far */
  int batch;
  double loss;                     /* STEP */
  const EspcnEpochMetrics *metrics;/* EPOCH */
  guint n_train, n_classes, n_val; /* START; n_classes > 0 only when drawn class by class */
  double bicubic_psnr_y;           /* START, EPOCH */
};

/* Seconds left for the whole run, from this process's pace so far (a resumed
 * run counts only its own steps); negative before the first step. */
double espcn_train_event_eta (const EspcnTrainEvent *event);

/* An EspcnNoticeFunc for a dataset opened for runs of `cfg` (user_data): its
 * warnings become NOTICE events of cfg->report. */
void espcn_train_dataset_notice (EspcnNoticeLevel level, const char *message, gpointer user_data);

void espcn_train_config_init (EspcnTrainConfig *cfg);
void espcn_train_config_clear (EspcnTrainConfig *cfg);
/* The hidden-activation bits the run trains on: cfg->act_bits, or the method's
 * own grid when it is 0; 0 for "none" or an unknown method. */
int espcn_train_config_act_bits (const EspcnTrainConfig *cfg);

/* Option checks shared by the tool and the library: clear messages for nonsense. */
gboolean espcn_train_config_validate (const EspcnTrainConfig *cfg, GError **error);

void espcn_train_result_clear (EspcnTrainResult *res);

/* Runs one training.  `dataset` may be NULL (then it is opened from cfg->data_dir)
 * or shared between runs of `--method all`. */
gboolean espcn_train_run (const EspcnTrainConfig *cfg, EspcnDataset *dataset, EspcnTrainResult *res, GError **error);

/* Ask a running training to stop at the next step boundary, write its checkpoint
 * and return with res->interrupted set.  Async-signal-safe. */
void espcn_train_request_stop (void);

typedef struct {
  double median_ms, min_ms, max_ms;  /* per step */
  double epoch_seconds;              /* median * the steps of an epoch of num_train patches */
  int steps_per_epoch;
} EspcnTrainBench;

/* The reference-configuration benchmark (`espcn-train --bench`): times `steps`
 * float training steps (forward, backward, Adam) of x`scale`, batch, patch on
 * random data.  FALSE for a configuration the model rejects. */
gboolean espcn_train_bench (int scale, int features, int batch, int patch, int num_train, int threads, int steps,
                            EspcnTrainBench *out);

G_END_DECLS
