/* espcn-gst: Winograd F(4x4, 3x3) transforms used by conv2d.c (not installed).
 *
 * Tiles: a h x w plane is covered by th x tw = ceil(h/4) x ceil(w/4) output tiles of
 * 4 x 4; tile (ty, tx) reads the 6 x 6 input patch whose top-left is (4ty-1, 4tx-1),
 * zeros outside the plane (the conv's padding of 1).  Transformed tensors are laid
 * out [36][channels][tiles] so each of the 36 products is one GEMM.
 *
 * Why F(4x4) and not F(2x2): 4x fewer multiplies than direct (2.25x for F(2x2)) and
 * 36 / 16 transformed values per output instead of 16 / 4, so about half the
 * transform memory traffic; its float error is larger but stays ~1e-6 relative for
 * the values and channel counts of ESPCN (tests/nn/test-conv.c pins it down).
 */
#pragma once

#include <stddef.h>

#define ESPCN_WINO_XI 36 /* transformed elements per tile (6 x 6) */

static inline size_t
espcn_wino_tiles (int h, int w)
{
  return (size_t) ((h + 3) / 4) * (size_t) ((w + 3) / 4);
}

/* u[36][cout][cin] = G g G^T; urot[36][cin][cout] the same for the kernel rotated by 180 degrees. */
void espcn_wino_weights (const float *w, int cout, int cin, float *u, float *urot);
/* v[36][c][T] = B^T d B for every tile of x[c][h][w]. */
void espcn_wino_input (const float *x, int c, int h, int w, float *v);
/* y[c][h][w] = A^T m A (+ bias[c] when non-NULL), cropped to the plane. */
void espcn_wino_output (const float *m, int c, int h, int w, const float *bias, float *y);
/* dm[36][c][T] = A e A^T where e is the 4 x 4 tile of dy (zeros outside the plane). */
void espcn_wino_output_adjoint (const float *dy, int c, int h, int w, float *dm);
/* dw[cout][cin][3][3] += G^T du G for du[36][cout][cin]. */
void espcn_wino_weights_adjoint (const float *du, int cout, int cin, float *dw);

/* The two implementations behind each data transform: the plain C reference and
 * AVX2 + FMA (winograd-avx2.c, needs a CPU with both).  They give identical floats;
 * the functions above pick one through the core/nn SIMD switch (gemm-private.h:
 * espcn_nn_simd_set_enabled(), the CPU policy's ESPCN_CPU). */
void espcn_wino_input_c (const float *x, int c, int h, int w, float *v);
void espcn_wino_output_c (const float *m, int c, int h, int w, const float *bias, float *y);
void espcn_wino_output_adjoint_c (const float *dy, int c, int h, int w, float *dm);
void espcn_wino_input_avx2 (const float *x, int c, int h, int w, float *v);
void espcn_wino_output_avx2 (const float *m, int c, int h, int w, const float *bias, float *y);
void espcn_wino_output_adjoint_avx2 (const float *dy, int c, int h, int w, float *dm);
