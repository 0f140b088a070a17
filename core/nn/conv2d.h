/* espcn-gst: float 2-D convolution for training (NCHW, square kernel k in {3, 5},
 * zero padding k/2, stride 1, so output size == input size).
 *
 * One EspcnConv2d holds the shape and the (possibly fake-quantized) weights of a
 * layer; the forward/backward calls work on ONE image and are single-threaded and
 * reentrant, so several threads may run them on different images at once with
 * their own workspace and gradient accumulator.
 *
 * Two algorithms compute the same function:
 *  - im2col + GEMM (cblas_sgemm), any k;
 *  - Winograd F(4x4, 3x3) for k == 3: 4x fewer multiplies; the backward pass is
 *    the exact adjoint of the forward transform (dX through the rotated kernel,
 *    dW accumulated in the transformed domain and mapped back once).
 */
#pragma once

#include <glib.h>
#include <stddef.h>

G_BEGIN_DECLS

typedef enum {
  ESPCN_CONV_ALGO_AUTO,     /* Winograd for k == 3, im2col otherwise */
  ESPCN_CONV_ALGO_IM2COL,
  ESPCN_CONV_ALGO_WINOGRAD, /* k == 3 only */
} EspcnConvAlgo;

typedef struct {
  int cin, cout, k;
  EspcnConvAlgo algo;  /* resolved: never AUTO after init */
  const float *weight; /* [cout][cin][k][k], borrowed, set by espcn_conv2d_set_weights */
  const float *bias;   /* [cout] or NULL, borrowed */
  float *wino_u;       /* Winograd: [36][cout][cin] transformed weights */
  float *wino_urot;    /* Winograd: [36][cin][cout] transformed 180-degree rotated weights (for dX) */
} EspcnConv2d;

/* Returns FALSE with `error` set for an unsupported k or algo / k pair, or bad sizes. */
gboolean espcn_conv2d_init (EspcnConv2d *c, int cin, int cout, int k, EspcnConvAlgo algo, GError **error);
void espcn_conv2d_clear (EspcnConv2d *c);

/* Point the layer at its weights and prepare the algorithm's weight transform.
 * Call again whenever the weights change (once per training step). */
void espcn_conv2d_set_weights (EspcnConv2d *c, const float *weight, const float *bias);

/* Floats of scratch space one image of h x w needs (forward or backward). */
size_t espcn_conv2d_workspace_size (const EspcnConv2d *c, int h, int w);

/* Floats of the input transform (im2col columns or Winograd V) of one h x w image. */
size_t espcn_conv2d_xt_size (const EspcnConv2d *c, int h, int w);

/* y[cout][h][w] = conv(x[cin][h][w]) + bias.  When xt_out is non-NULL the input
 * transform is kept there (espcn_conv2d_xt_size floats) for the backward pass. */
void espcn_conv2d_forward (const EspcnConv2d *c, const float *x, int h, int w, float *y, float *ws, float *xt_out);

/* Floats of a gradient accumulator (weights in the algorithm's own domain, then cout biases). */
size_t espcn_conv2d_grad_acc_size (const EspcnConv2d *c);

/* Backward of one image: dx = dL/dx (written, skipped when NULL); the weight and
 * bias gradients are ADDED to `gacc` (zero it first; see espcn_conv2d_grad_finish).
 * xt is the input transform a forward call kept for this x, or NULL to recompute it. */
void espcn_conv2d_backward (const EspcnConv2d *c, const float *x, const float *xt, const float *dy, int h, int w,
                            float *dx, float *gacc, float *ws);

/* Map an accumulator back to weight space and ADD it to dw[cout][cin][k][k] and db[cout]. */
void espcn_conv2d_grad_finish (const EspcnConv2d *c, const float *gacc, float *dw, float *db);

G_END_DECLS
