#include "train/trainer.h"

#include "nn/model.h"
#include "util/rng.h"

gboolean
espcn_train_bench (int scale, int features, int batch, int patch, int num_train, int threads, int steps,
                   EspcnTrainBench *out)
{
  g_return_val_if_fail (steps >= 1 && out != NULL, FALSE);
  EspcnFloatModelConfig mc = { scale, features, 3 };
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnFloatModel) model = espcn_float_model_new (&mc, 1, &error);
  if (model == NULL)
    return FALSE;
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
  out->steps_per_epoch = (num_train + batch - 1) / batch;
  out->median_ms = med;
  out->min_ms = t[0];
  out->max_ms = t[steps - 1];
  out->epoch_seconds = med * out->steps_per_epoch / 1000.0;
  return TRUE;
}
