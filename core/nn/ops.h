/* espcn-gst: the elementwise and reshaping layers of ESPCN and the training losses.
 * Tensors are NCHW floats; every function works on one contiguous block. */
#pragma once

#include <glib.h>
#include <stddef.h>

G_BEGIN_DECLS

typedef enum {
  ESPCN_LOSS_L1,          /* mean |pred - target| (the default) */
  ESPCN_LOSS_L2,          /* mean (pred - target)^2 */
  ESPCN_LOSS_CHARBONNIER, /* mean sqrt((pred - target)^2 + eps^2), eps = ESPCN_CHARBONNIER_EPS */
} EspcnLoss;

#define ESPCN_CHARBONNIER_EPS 1e-3f

/* "l1", "l2", "charbonnier". */
const char *espcn_loss_name (EspcnLoss loss);
gboolean espcn_loss_from_name (const char *name, EspcnLoss *loss, GError **error);

/* y = max(x, 0); y may be x. */
void espcn_relu_forward (const float *x, float *y, size_t n);
/* dx = dy where y > 0, else 0 (y is the ReLU output; the subgradient at 0 is 0, as PyTorch).
 * dx may be dy. */
void espcn_relu_backward (const float *y, const float *dy, float *dx, size_t n);

/* PyTorch PixelShuffle for one image: x[c*s*s][h][w] -> y[c][h*s][w*s] with
 * y[ch][yy*s + i][xx*s + j] = x[ch*s*s + i*s + j][yy][xx]. */
void espcn_pixel_shuffle_forward (const float *x, int c, int h, int w, int s, float *y);
/* Its adjoint (a permutation, so also its inverse): dy[c][h*s][w*s] -> dx[c*s*s][h][w]. */
void espcn_pixel_shuffle_backward (const float *dy, int c, int h, int w, int s, float *dx);

/* Mean loss over n elements; writes dL/dpred into dpred (may be NULL). */
float espcn_loss (EspcnLoss loss, const float *pred, const float *target, size_t n, float *dpred);
/* A slice of a larger mean: returns the SUM of the per-element losses of these n
 * elements (double, to add slices exactly in a fixed order) and writes
 * dpred = d(per-element loss)/dpred * inv_count, where inv_count = 1 / total elements. */
double espcn_loss_partial (EspcnLoss loss, const float *pred, const float *target, size_t n, float inv_count,
                           float *dpred);

G_END_DECLS
