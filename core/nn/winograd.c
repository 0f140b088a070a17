/* Winograd F(4x4, 3x3) with the interpolation points 0, 1, -1, 2, -2, inf:
 * y = A^T [(G g G^T) . (B^T d B)] A, with
 *   B^T = [4  0 -5  0 1 0;  0 -4 -4  1 1 0;  0 4 -4 -1 1 0;
 *          0 -2 -1  2 1 0;  0  2 -1 -2 1 0;  0 4  0 -5 0 1]
 *   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 *   A^T = [1 1 1 1 1 0;  0 1 -1 2 -2 0;  0 1 1 4 4 0;  0 1 -1 8 -8 1]
 * The *_adjoint functions are the transposed linear maps, used by the backward pass.
 *
 * Every transform works one tile row at a time on arrays indexed by the tile column
 * tx, so the inner loops run over tx with unit stride and vectorise. */
#include "nn/winograd-private.h"
#include "nn/gemm-private.h"

#include <glib.h>
#include <math.h>
#include <string.h>

/* G k for one column k0, k1, k2 (double: the weight transform is cheap, keep it exact-ish). */
static inline void
g_col (double k0, double k1, double k2, double o[6])
{
  o[0] = k0 / 4.0;
  o[1] = -(k0 + k1 + k2) / 6.0;
  o[2] = -(k0 - k1 + k2) / 6.0;
  o[3] = k0 / 24.0 + k1 / 12.0 + k2 / 6.0;
  o[4] = k0 / 24.0 - k1 / 12.0 + k2 / 6.0;
  o[5] = k2;
}

void
espcn_wino_weights (const float *w, int cout, int cin, float *u, float *urot)
{
  for (int o = 0; o < cout; o++)
    for (int i = 0; i < cin; i++) {
      const float *g = w + ((size_t) o * cin + i) * 9;
      for (int rot = 0; rot < 2; rot++) {
        double k[9];
        for (int t = 0; t < 9; t++)
          k[t] = rot ? g[8 - t] : g[t];
        double a[3][6]; /* a[kx][r] = (G k)[r][kx] */
        for (int j = 0; j < 3; j++)
          g_col (k[j], k[3 + j], k[6 + j], a[j]);
        for (int r = 0; r < 6; r++) {
          double m[6];
          g_col (a[0][r], a[1][r], a[2][r], m);
          for (int c = 0; c < 6; c++) {
            size_t xi = (size_t) (r * 6 + c);
            if (rot)
              urot[(xi * cin + i) * cout + o] = (float) m[c];
            else
              u[(xi * cout + o) * cin + i] = (float) m[c];
          }
        }
      }
    }
}

/* G^T m for one 6-vector. */
static inline void
gt_vec (const double m[6], double o[3])
{
  o[0] = m[0] / 4.0 - (m[1] + m[2]) / 6.0 + (m[3] + m[4]) / 24.0;
  o[1] = (m[2] - m[1]) / 6.0 + (m[3] - m[4]) / 12.0;
  o[2] = (m[3] + m[4] - m[1] - m[2]) / 6.0 + m[5];
}

void
espcn_wino_weights_adjoint (const float *du, int cout, int cin, float *dw)
{
  size_t plane = (size_t) cout * cin;
  for (int o = 0; o < cout; o++)
    for (int i = 0; i < cin; i++) {
      double a[3][6]; /* a[r][c] = (G^T m)[r][c] */
      for (int c = 0; c < 6; c++) {
        double col[6], r3[3];
        for (int r = 0; r < 6; r++)
          col[r] = du[(size_t) (r * 6 + c) * plane + (size_t) o * cin + i];
        gt_vec (col, r3);
        for (int r = 0; r < 3; r++)
          a[r][c] = r3[r];
      }
      float *g = dw + ((size_t) o * cin + i) * 9;
      for (int r = 0; r < 3; r++) {
        double r3[3];
        gt_vec (a[r], r3);
        for (int c = 0; c < 3; c++)
          g[r * 3 + c] += (float) r3[c];
      }
    }
}

/* Input row y (zeros outside the plane) split by column phase in the padded frame
 * where tile tx reads columns 4tx-1 .. 4tx+4: p[k][t] = x[y][4t+k-1], t = 0 .. tw.
 * Patch column j of tile tx is then p[j][tx] for j < 4, p[j-4][tx+1] for j >= 4. */
static inline void
phase_row (const float *x, int h, int w, int y, int tw, int stride, float *p)
{
  if (y < 0 || y >= h) {
    for (int k = 0; k < 4; k++)
      memset (p + (size_t) k * stride, 0, sizeof (float) * (size_t) (tw + 1));
    return;
  }
  const float *r = x + (size_t) y * w;
  for (int k = 0; k < 4; k++) {
    float *pk = p + (size_t) k * stride;
    for (int t = 0; t <= tw; t++) {
      int col = 4 * t + k - 1;
      pk[t] = col >= 0 && col < w ? r[col] : 0.0f;
    }
  }
}

/* The plain C data transforms mirror winograd-avx2.c operation for operation:
 * fmaf() exactly where it uses an FMA (fnmadd(a, b, c) = fmaf(-a, b, c), the negation
 * is exact), the same association of every sum, the same pass order (input and
 * adjoint: along the rows first, then down the columns; output: columns first), so
 * both give identical floats.  Only power-of-two products appear outside fmaf(), so
 * a compiler contracting a * b + c into an FMA cannot change a result either. */

/* B^T d for six arrays d0..d5, n elements each, written to o0..o5 (stride os). */
static inline void
bt_arrays (const float *d0, const float *d1, const float *d2, const float *d3, const float *d4, const float *d5,
           float *o, size_t os, int n)
{
  float *o0 = o, *o1 = o + os, *o2 = o + 2 * os, *o3 = o + 3 * os, *o4 = o + 4 * os, *o5 = o + 5 * os;
  for (int t = 0; t < n; t++) {
    float a = fmaf (-4.0f, d2[t], d4[t]), b = fmaf (-4.0f, d1[t], d3[t]);
    float c = d4[t] - d2[t], e = d3[t] - d1[t];
    e = e + e;
    o0[t] = fmaf (4.0f, d0[t], fmaf (-5.0f, d2[t], d4[t]));
    o1[t] = a + b;
    o2[t] = a - b;
    o3[t] = c + e;
    o4[t] = c - e;
    o5[t] = fmaf (4.0f, d1[t], fmaf (-5.0f, d3[t], d5[t]));
  }
}

void
espcn_wino_input_c (const float *x, int c, int h, int w, float *v)
{
  int th = (h + 3) / 4, tw = (w + 3) / 4, st = tw + 1;
  size_t T = (size_t) th * tw;
  size_t xs = (size_t) c * T;
  float ph[4][st];     /* ph[k][t]: phases of one patch row */
  float hr[6][6][tw];  /* hr[r][j][t]: B^T along patch row r */
  for (int ch = 0; ch < c; ch++) {
    const float *xp = x + (size_t) ch * h * w;
    for (int ty = 0; ty < th; ty++) {
      for (int r = 0; r < 6; r++) {
        phase_row (xp, h, w, 4 * ty - 1 + r, tw, st, &ph[0][0]);
        bt_arrays (ph[0], ph[1], ph[2], ph[3], ph[0] + 1, ph[1] + 1, &hr[r][0][0], (size_t) tw, tw);
      }
      float *o = v + (size_t) ch * T + (size_t) ty * tw;
      for (int j = 0; j < 6; j++)
        bt_arrays (hr[0][j], hr[1][j], hr[2][j], hr[3][j], hr[4][j], hr[5][j], o + (size_t) j * xs, (size_t) 6 * xs,
                   tw);
    }
  }
}

/* A^T m for six arrays, n elements each: o0..o3 (stride os) get the 4 outputs + b. */
static inline void
at_arrays (const float *m0, const float *m1, const float *m2, const float *m3, const float *m4, const float *m5,
           float b, float *o, size_t os, int n)
{
  float *o0 = o, *o1 = o + os, *o2 = o + 2 * os, *o3 = o + 3 * os;
  for (int t = 0; t < n; t++) {
    float s12 = m1[t] + m2[t], d12 = m1[t] - m2[t], s34 = m3[t] + m4[t], d34 = m3[t] - m4[t];
    o0[t] = (m0[t] + s12) + (s34 + b);
    o1[t] = fmaf (2.0f, d34, d12) + b;
    o2[t] = fmaf (4.0f, s34, s12) + b;
    o3[t] = fmaf (8.0f, d34, d12) + (m5[t] + b);
  }
}

void
espcn_wino_output_c (const float *m, int c, int h, int w, const float *bias, float *y)
{
  int th = (h + 3) / 4, tw = (w + 3) / 4;
  size_t T = (size_t) th * tw;
  size_t xs = (size_t) c * T;
  float a[4][6][tw]; /* a[r][j][tx]: A^T applied down the columns */
  float o[4][4][tw]; /* o[r][cc][tx]: the output tile rows */
  for (int ch = 0; ch < c; ch++) {
    const float *mp = m + (size_t) ch * T;
    float *yp = y + (size_t) ch * h * w;
    float b = bias ? bias[ch] : 0.0f;
    for (int ty = 0; ty < th; ty++) {
      const float *mt = mp + (size_t) ty * tw;
      for (int j = 0; j < 6; j++)
        at_arrays (mt + (size_t) j * xs, mt + (size_t) (6 + j) * xs, mt + (size_t) (12 + j) * xs,
                   mt + (size_t) (18 + j) * xs, mt + (size_t) (24 + j) * xs, mt + (size_t) (30 + j) * xs, 0.0f,
                   &a[0][j][0], (size_t) 6 * tw, tw);
      for (int r = 0; r < 4; r++)
        at_arrays (a[r][0], a[r][1], a[r][2], a[r][3], a[r][4], a[r][5], b, &o[r][0][0], (size_t) tw, tw);
      for (int r = 0; r < 4 && 4 * ty + r < h; r++) {
        float *yr = yp + (size_t) (4 * ty + r) * w;
        const float *e0 = o[r][0], *e1 = o[r][1], *e2 = o[r][2], *e3 = o[r][3];
        int full = w / 4;
        for (int tx = 0; tx < full; tx++) {
          yr[4 * tx] = e0[tx];
          yr[4 * tx + 1] = e1[tx];
          yr[4 * tx + 2] = e2[tx];
          yr[4 * tx + 3] = e3[tx];
        }
        for (int cc = 0; 4 * full + cc < w; cc++)
          yr[4 * full + cc] = o[r][cc][full];
      }
    }
  }
}

/* A e for four arrays, n elements each: o0..o5 (stride os). */
static inline void
a_arrays (const float *e0, const float *e1, const float *e2, const float *e3, float *o, size_t os, int n)
{
  float *o0 = o, *o1 = o + os, *o2 = o + 2 * os, *o3 = o + 3 * os, *o4 = o + 4 * os, *o5 = o + 5 * os;
  for (int t = 0; t < n; t++) {
    float p = e0[t] + e2[t], q = e1[t] + e3[t];
    float p4 = fmaf (4.0f, e2[t], e0[t]), q4 = fmaf (8.0f, e3[t], e1[t] + e1[t]);
    o0[t] = e0[t];
    o1[t] = p + q;
    o2[t] = p - q;
    o3[t] = p4 + q4;
    o4[t] = p4 - q4;
    o5[t] = e3[t];
  }
}

void
espcn_wino_output_adjoint_c (const float *dy, int c, int h, int w, float *dm)
{
  int th = (h + 3) / 4, tw = (w + 3) / 4;
  size_t T = (size_t) th * tw;
  size_t xs = (size_t) c * T;
  float e[4][tw];    /* e[cc][tx]: one row of the 4 x 4 dy tiles, zeros outside */
  float a[4][6][tw]; /* a[r][j][tx]: A applied along tile row r */
  for (int ch = 0; ch < c; ch++) {
    const float *dp = dy + (size_t) ch * h * w;
    float *mp = dm + (size_t) ch * T;
    for (int ty = 0; ty < th; ty++) {
      for (int r = 0; r < 4; r++) {
        int yy = 4 * ty + r;
        if (yy >= h) {
          memset (&e[0][0], 0, sizeof (float) * 4 * (size_t) tw);
        } else {
          const float *row = dp + (size_t) yy * w;
          int full = w / 4;
          for (int tx = 0; tx < full; tx++) {
            e[0][tx] = row[4 * tx];
            e[1][tx] = row[4 * tx + 1];
            e[2][tx] = row[4 * tx + 2];
            e[3][tx] = row[4 * tx + 3];
          }
          if (full < tw)
            for (int cc = 0; cc < 4; cc++)
              e[cc][full] = 4 * full + cc < w ? row[4 * full + cc] : 0.0f;
        }
        a_arrays (e[0], e[1], e[2], e[3], &a[r][0][0], (size_t) tw, tw);
      }
      float *mt = mp + (size_t) ty * tw;
      for (int j = 0; j < 6; j++)
        a_arrays (a[0][j], a[1][j], a[2][j], a[3][j], mt + (size_t) j * xs, (size_t) 6 * xs, tw);
    }
  }
}

void
espcn_wino_input (const float *x, int c, int h, int w, float *v)
{
#ifdef ESPCN_NN_HAVE_AVX2
  if (espcn_nn_simd_enabled ()) {
    espcn_wino_input_avx2 (x, c, h, w, v);
    return;
  }
#endif
  espcn_wino_input_c (x, c, h, w, v);
}

void
espcn_wino_output (const float *m, int c, int h, int w, const float *bias, float *y)
{
#ifdef ESPCN_NN_HAVE_AVX2
  if (espcn_nn_simd_enabled ()) {
    espcn_wino_output_avx2 (m, c, h, w, bias, y);
    return;
  }
#endif
  espcn_wino_output_c (m, c, h, w, bias, y);
}

void
espcn_wino_output_adjoint (const float *dy, int c, int h, int w, float *dm)
{
#ifdef ESPCN_NN_HAVE_AVX2
  if (espcn_nn_simd_enabled ()) {
    espcn_wino_output_adjoint_avx2 (dy, c, h, w, dm);
    return;
  }
#endif
  espcn_wino_output_adjoint_c (dy, c, h, w, dm);
}
