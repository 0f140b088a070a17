/* espcn-nn-bench: time float ESPCN training steps (forward + backward + clip + Adam)
 * on random data; prints the median wall ms/step, the median process CPU ms/step
 * (all threads; steadier than wall time on a shared machine) and the implied
 * seconds per epoch. */
#include "nn/adam.h"
#include "nn/model.h"
#include "util/rng.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static int cmp_double (const void *a, const void *b);

/* Process CPU time (user + system, every thread) in ms. */
static double
cpu_ms (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static double
median (double *v, int n)
{
  qsort (v, n, sizeof (double), cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

int
main (int argc, char **argv)
{
  int scale = 4, batch = 16, patch = 192, features = 64, steps = 20, warmup = 3, threads = 2, epoch_patches = 200;
  gboolean infer = FALSE;
  GOptionEntry entries[] = {
    { "scale", 's', 0, G_OPTION_ARG_INT, &scale, "Upscaling factor (2, 3, 4)", "S" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Patches per step", "N" },
    { "patch", 'p', 0, G_OPTION_ARG_INT, &patch, "HR patch size (multiple of scale)", "P" },
    { "features", 'f', 0, G_OPTION_ARG_INT, &features, "Feature count F", "F" },
    { "steps", 'n', 0, G_OPTION_ARG_INT, &steps, "Timed steps", "N" },
    { "warmup", 'w', 0, G_OPTION_ARG_INT, &warmup, "Untimed warm-up steps", "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Worker threads (1 or 2)", "T" },
    { "epoch-patches", 'e', 0, G_OPTION_ARG_INT, &epoch_patches, "Patches per epoch for the s/epoch figure", "N" },
    { "infer", 'i', 0, G_OPTION_ARG_NONE, &infer, "Time inference on one 512x384 HR image instead", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- time float ESPCN training steps");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("espcn-nn-bench: %s\n", error->message);
    return 2;
  }
  if (scale < 2 || scale > 4 || batch < 1 || patch < scale || patch % scale || steps < 1 || warmup < 0
      || epoch_patches < 1) {
    g_printerr ("espcn-nn-bench: invalid option values (scale 2..4, patch a multiple of scale, counts >= 1)\n");
    return 2;
  }
  EspcnFloatModelConfig cfg = { scale, features, 3 };
  g_autoptr (EspcnFloatModel) model = espcn_float_model_new (&cfg, 1, &error);
  if (!model) {
    g_printerr ("espcn-nn-bench: %s\n", error->message);
    return 2;
  }
  espcn_float_model_set_threads (model, threads);

  int lr = patch / scale;
  if (infer) {
    batch = 1;
    lr = 0;
  }
  int lh = infer ? 384 / scale : lr, lw = infer ? 512 / scale : lr;
  size_t n_lr = (size_t) batch * 3 * lh * lw, n_hr = n_lr * scale * scale;
  g_autofree float *x = g_new (float, n_lr);
  g_autofree float *y = g_new (float, n_hr);
  EspcnRng rng;
  espcn_rng_seed (&rng, 7);
  for (size_t i = 0; i < n_lr; i++)
    x[i] = espcn_rng_uniform (&rng);
  for (size_t i = 0; i < n_hr; i++)
    y[i] = espcn_rng_uniform (&rng);

  EspcnParamRef refs[ESPCN_FLOAT_MODEL_N_PARAMS];
  guint nref = espcn_float_model_params (model, refs);
  g_autoptr (EspcnAdam) adam = espcn_adam_new (ESPCN_ADAM_BETA1, ESPCN_ADAM_BETA2, ESPCN_ADAM_EPS);
  espcn_adam_add_group (adam, refs, nref, 1.0f, 1e-4f);

  g_autofree double *ms = g_new (double, steps);
  g_autofree double *cpu = g_new (double, steps);
  float loss = 0.0f;
  for (int i = 0; i < warmup + steps; i++) {
    gint64 t0 = g_get_monotonic_time ();
    double c0 = cpu_ms ();
    if (infer) {
      espcn_float_model_forward (model, x, 1, lh, lw, y);
    } else {
      loss = espcn_float_model_train_step_grads (model, x, y, batch, lr, lr, ESPCN_LOSS_L1);
      espcn_clip_grad_norm (refs, nref, 1.0f);
      espcn_adam_step (adam, 1e-3f);
    }
    gint64 t1 = g_get_monotonic_time ();
    double c1 = cpu_ms ();
    if (i >= warmup) {
      ms[i - warmup] = (double) (t1 - t0) / 1000.0;
      cpu[i - warmup] = c1 - c0;
    }
  }
  double med = median (ms, steps), cpu_med = median (cpu, steps);
  if (infer) {
    printf ("inference x%d F=%d threads=%d, one %dx%d LR image: median %.2f ms (min %.2f, max %.2f), CPU %.2f ms over "
            "%d runs\n",
            scale, features, threads, lw, lh, med, ms[0], ms[steps - 1], cpu_med, steps);
    return 0;
  }
  int steps_per_epoch = (epoch_patches + batch - 1) / batch;
  printf ("train x%d F=%d batch=%d patch=%d (LR %dx%d) threads=%d: median %.2f ms/step (min %.2f, max %.2f), CPU "
          "%.2f ms/step over %d steps; %.3f s/epoch (%d steps for %d patches); last loss %.4f\n",
          scale, features, batch, patch, lr, lr, threads, med, ms[0], ms[steps - 1], cpu_med, steps,
          med * steps_per_epoch / 1000.0, steps_per_epoch, epoch_patches, loss);
  return 0;
}
