#include "nn/adam.h"

#include <math.h>

typedef struct {
  EspcnParamRef ref;
  float lr_mult;
  float weight_decay;
  guint group;
  gboolean log_space; /* the moments and the step are those of log p (p > 0) */
  float *m, *v;
} AdamTensor;

struct _EspcnAdam {
  float beta1, beta2, eps;
  gint64 step;
  guint n_groups;
  GArray *tensors; /* AdamTensor */
};

EspcnAdam *
espcn_adam_new (float beta1, float beta2, float eps)
{
  EspcnAdam *a = g_new0 (EspcnAdam, 1);
  a->beta1 = beta1;
  a->beta2 = beta2;
  a->eps = eps;
  a->tensors = g_array_new (FALSE, TRUE, sizeof (AdamTensor));
  return a;
}

void
espcn_adam_free (EspcnAdam *a)
{
  if (!a)
    return;
  for (guint i = 0; i < a->tensors->len; i++) {
    AdamTensor *t = &g_array_index (a->tensors, AdamTensor, i);
    g_free (t->m);
    g_free (t->v);
  }
  g_array_unref (a->tensors);
  g_free (a);
}

guint
espcn_adam_add_group (EspcnAdam *a, const EspcnParamRef *refs, guint n_refs, float lr_mult, float weight_decay)
{
  for (guint i = 0; i < n_refs; i++) {
    AdamTensor t = { refs[i], lr_mult, weight_decay, a->n_groups, FALSE, g_new0 (float, MAX (refs[i].n, 1)),
                     g_new0 (float, MAX (refs[i].n, 1)) };
    g_array_append_val (a->tensors, t);
  }
  return a->n_groups++;
}

void
espcn_adam_set_log_space (EspcnAdam *a, guint group, gboolean log_space)
{
  g_return_if_fail (group < a->n_groups);
  for (guint i = 0; i < a->tensors->len; i++) {
    AdamTensor *t = &g_array_index (a->tensors, AdamTensor, i);
    if (t->group == group)
      t->log_space = log_space;
  }
}

void
espcn_adam_step (EspcnAdam *a, float base_lr)
{
  a->step++;
  /* Bias corrections in double, as PyTorch computes them on Python floats. */
  double bc1 = 1.0 - pow (a->beta1, (double) a->step);
  double bc2 = 1.0 - pow (a->beta2, (double) a->step);
  float b1 = a->beta1, b2 = a->beta2;
  float bc2_sqrt = (float) sqrt (bc2);
  for (guint i = 0; i < a->tensors->len; i++) {
    AdamTensor *t = &g_array_index (a->tensors, AdamTensor, i);
    float step_size = (float) ((double) base_lr * t->lr_mult / bc1);
    float wd = t->weight_decay;
    float *p = t->ref.param, *g = t->ref.grad, *m = t->m, *v = t->v;
    for (size_t j = 0; j < t->ref.n; j++) {
      float gj = g[j] + wd * p[j];
      /* log space: theta = log p, dL/dtheta = p dL/dp, p = exp(theta) stays positive */
      const gboolean lg = t->log_space && p[j] > 0.0f;
      if (lg)
        gj *= p[j];
      m[j] = b1 * m[j] + (1.0f - b1) * gj;
      v[j] = b2 * v[j] + (1.0f - b2) * gj * gj;
      float denom = sqrtf (v[j]) / bc2_sqrt + a->eps;
      if (lg)
        p[j] *= expf (-step_size * m[j] / denom);
      else
        p[j] -= step_size * m[j] / denom;
    }
  }
}

gint64
espcn_adam_get_step (const EspcnAdam *a)
{
  return a->step;
}

void
espcn_adam_set_step (EspcnAdam *a, gint64 step)
{
  a->step = step;
}

guint
espcn_adam_n_tensors (const EspcnAdam *a)
{
  return a->tensors->len;
}

void
espcn_adam_tensor_state (EspcnAdam *a, guint index, const char **name, float **m, float **v, size_t *n)
{
  g_return_if_fail (index < a->tensors->len);
  AdamTensor *t = &g_array_index (a->tensors, AdamTensor, index);
  if (name)
    *name = t->ref.name;
  if (m)
    *m = t->m;
  if (v)
    *v = t->v;
  if (n)
    *n = t->ref.n;
}

float
espcn_cosine_lr (float lr0, float lr_min, gint64 t, gint64 T)
{
  if (T <= 0)
    return lr0;
  if (t < 0)
    t = 0;
  if (t > T)
    t = T;
  return (float) (lr_min + 0.5 * ((double) lr0 - lr_min) * (1.0 + cos (G_PI * (double) t / (double) T)));
}

float
espcn_clip_grad_norm (const EspcnParamRef *refs, guint n_refs, float max_norm)
{
  double ss = 0.0;
  for (guint i = 0; i < n_refs; i++)
    for (size_t j = 0; j < refs[i].n; j++)
      ss += (double) refs[i].grad[j] * refs[i].grad[j];
  float norm = (float) sqrt (ss);
  float coef = max_norm / (norm + 1e-6f);
  if (coef < 1.0f)
    for (guint i = 0; i < n_refs; i++)
      for (size_t j = 0; j < refs[i].n; j++)
        refs[i].grad[j] *= coef;
  return norm;
}
