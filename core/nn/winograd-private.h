/* espcn-gst: Winograd F(2x2, 3x3) transforms used by conv2d.c (not installed).
 *
 * Tiles: a h x w plane is covered by th x tw = ceil(h/2) x ceil(w/2) output tiles of
 * 2 x 2; tile (ty, tx) reads the 4 x 4 input patch whose top-left is (2ty-1, 2tx-1),
 * zeros outside the plane (the conv's padding of 1).  Transformed tensors are laid
 * out [16][channels][tiles] so each of the 16 products is one GEMM.
 */
#pragma once

#include <stddef.h>

static inline size_t
espcn_wino_tiles (int h, int w)
{
  return (size_t) ((h + 1) / 2) * (size_t) ((w + 1) / 2);
}

/* u[16][cout][cin] = G g G^T; urot[16][cin][cout] the same for the kernel rotated by 180 degrees. */
void espcn_wino_weights (const float *w, int cout, int cin, float *u, float *urot);
/* v[16][c][T] = B^T d B for every tile of x[c][h][w]. */
void espcn_wino_input (const float *x, int c, int h, int w, float *v);
/* y[c][h][w] = A^T m A (+ bias[c] when non-NULL), cropped to the plane. */
void espcn_wino_output (const float *m, int c, int h, int w, const float *bias, float *y);
/* dm[16][c][T] = A e A^T where e is the 2 x 2 tile of dy (zeros outside the plane). */
void espcn_wino_output_adjoint (const float *dy, int c, int h, int w, float *dm);
/* dw[cout][cin][3][3] += G^T du G for du[16][cout][cin]. */
void espcn_wino_weights_adjoint (const float *du, int cout, int cin, float *dw);
