/* espcn-gst: the optimizer side of training: Adam with parameter groups
 * (torch.optim.Adam semantics: weight decay is an L2 term added to the gradient,
 * not AdamW), the per-step cosine learning-rate schedule and global gradient-norm
 * clipping (torch.nn.utils.clip_grad_norm_). */
#pragma once

#include <glib.h>
#include <stddef.h>

G_BEGIN_DECLS

/* One learnable tensor: its values, its gradient (same size) and a name for checkpoints. */
typedef struct {
  const char *name; /* borrowed, e.g. "conv1.weight" */
  float *param;
  float *grad;
  size_t n;
} EspcnParamRef;

typedef struct _EspcnAdam EspcnAdam;

#define ESPCN_ADAM_BETA1 0.9f
#define ESPCN_ADAM_BETA2 0.999f
#define ESPCN_ADAM_EPS 1e-8f

EspcnAdam *espcn_adam_new (float beta1, float beta2, float eps);
void espcn_adam_free (EspcnAdam *adam);

/* Add a group: the refs are copied (the tensors stay borrowed and must outlive the
 * optimizer); each tensor gets zeroed moments.  The group's learning rate is
 * base_lr * lr_mult; weight_decay is PyTorch's Adam weight_decay.  Returns the group index. */
guint espcn_adam_add_group (EspcnAdam *adam, const EspcnParamRef *refs, guint n_refs, float lr_mult, float weight_decay);

/* Train the tensors of `group` in log space (default FALSE): Adam runs on
 * theta = log p with dL/dtheta = p dL/dp and p = exp(theta) after the step, so every
 * update is relative to p's own size and p stays positive.  For positive scale
 * parameters (LSQ step sizes) whose magnitudes differ by orders of magnitude from
 * the rest of their group.  A value that is not positive is updated as usual. */
void espcn_adam_set_log_space (EspcnAdam *adam, guint group, gboolean log_space);

/* One step for every group with learning rate base_lr * lr_mult:
 *   t += 1; g = grad + wd * p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
void espcn_adam_step (EspcnAdam *adam, float base_lr);

/* Steps taken so far (t); settable to restore a checkpoint. */
gint64 espcn_adam_get_step (const EspcnAdam *adam);
void espcn_adam_set_step (EspcnAdam *adam, gint64 step);

/* The optimizer state for checkpointing: one entry per tensor over all groups in
 * the order added; m and v point at n floats each, owned by the optimizer, and may
 * be read to save or written to restore. */
guint espcn_adam_n_tensors (const EspcnAdam *adam);
void espcn_adam_tensor_state (EspcnAdam *adam, guint index, const char **name, float **m, float **v, size_t *n);

/* Cosine annealing stepped per iteration: lr_min + (lr0 - lr_min) (1 + cos(pi t / T)) / 2,
 * t clamped to [0, T]; T <= 0 returns lr0. */
float espcn_cosine_lr (float lr0, float lr_min, gint64 t, gint64 T);

/* Scale all gradients so their total L2 norm is at most max_norm, as
 * clip_grad_norm_: coef = max_norm / (norm + 1e-6), applied when coef < 1.
 * Returns the total norm before clipping. */
float espcn_clip_grad_norm (const EspcnParamRef *refs, guint n_refs, float max_norm);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnAdam, espcn_adam_free)

G_END_DECLS
