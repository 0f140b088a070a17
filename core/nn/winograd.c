/* Winograd F(2x2, 3x3): y = A^T [(G g G^T) . (B^T d B)] A, with
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1]
 * The *_adjoint functions are the transposed linear maps, used by the backward pass. */
#include "nn/winograd-private.h"

#include <glib.h>
#include <string.h>

void
espcn_wino_weights (const float *w, int cout, int cin, float *u, float *urot)
{
  for (int o = 0; o < cout; o++)
    for (int i = 0; i < cin; i++) {
      const float *g = w + ((size_t) o * cin + i) * 9;
      for (int rot = 0; rot < 2; rot++) {
        float k[9];
        for (int t = 0; t < 9; t++)
          k[t] = rot ? g[8 - t] : g[t];
        float a[4][3]; /* G k */
        for (int j = 0; j < 3; j++) {
          float k0 = k[j], k1 = k[3 + j], k2 = k[6 + j];
          a[0][j] = k0;
          a[1][j] = 0.5f * (k0 + k1 + k2);
          a[2][j] = 0.5f * (k0 - k1 + k2);
          a[3][j] = k2;
        }
        for (int r = 0; r < 4; r++) {
          float m[4] = { a[r][0], 0.5f * (a[r][0] + a[r][1] + a[r][2]), 0.5f * (a[r][0] - a[r][1] + a[r][2]), a[r][2] };
          for (int c = 0; c < 4; c++) {
            size_t xi = (size_t) (r * 4 + c);
            if (rot)
              urot[(xi * cin + i) * cout + o] = m[c];
            else
              u[(xi * cout + o) * cin + i] = m[c];
          }
        }
      }
    }
}

void
espcn_wino_weights_adjoint (const float *du, int cout, int cin, float *dw)
{
  size_t plane = (size_t) cout * cin;
  for (int o = 0; o < cout; o++)
    for (int i = 0; i < cin; i++) {
      float m[4][4];
      for (int xi = 0; xi < 16; xi++)
        m[xi / 4][xi % 4] = du[xi * plane + (size_t) o * cin + i];
      float a[3][4]; /* G^T m */
      for (int c = 0; c < 4; c++) {
        float s12 = 0.5f * (m[1][c] + m[2][c]);
        a[0][c] = m[0][c] + s12;
        a[1][c] = 0.5f * (m[1][c] - m[2][c]);
        a[2][c] = s12 + m[3][c];
      }
      float *g = dw + ((size_t) o * cin + i) * 9;
      for (int r = 0; r < 3; r++) {
        float s12 = 0.5f * (a[r][1] + a[r][2]);
        g[r * 3 + 0] += a[r][0] + s12;
        g[r * 3 + 1] += 0.5f * (a[r][1] - a[r][2]);
        g[r * 3 + 2] += s12 + a[r][3];
      }
    }
}

/* Split input row y (zeros outside the plane) by column parity, in the padded frame
 * where tile tx reads columns 2tx-1 .. 2tx+2: ev[k] = x[y][2k-1], od[k] = x[y][2k],
 * k = 0 .. tw.  Patch column j of tile tx is then ev[tx], od[tx], ev[tx+1], od[tx+1]. */
static inline void
split_row (const float *x, int h, int w, int y, int tw, float *ev, float *od)
{
  if (y < 0 || y >= h) {
    memset (ev, 0, sizeof (float) * (size_t) (tw + 1));
    memset (od, 0, sizeof (float) * (size_t) (tw + 1));
    return;
  }
  const float *r = x + (size_t) y * w;
  ev[0] = 0.0f;
  od[0] = r[0];
  int inner = (w - 1) / 2; /* k = 1 .. inner have both 2k-1 and 2k inside */
  for (int k = 1; k <= inner; k++) {
    ev[k] = r[2 * k - 1];
    od[k] = r[2 * k];
  }
  for (int k = MAX (inner + 1, 1); k <= tw; k++) {
    int c0 = 2 * k - 1, c1 = 2 * k;
    ev[k] = c0 < w ? r[c0] : 0.0f;
    od[k] = c1 < w ? r[c1] : 0.0f;
  }
}

void
espcn_wino_input (const float *x, int c, int h, int w, float *v)
{
  int th = (h + 1) / 2, tw = (w + 1) / 2;
  size_t T = (size_t) th * tw;
  size_t xs = (size_t) c * T;
  float buf[8][tw + 1];
  float t[4][4][tw]; /* t[row][j][tx]: the 1-D transform along each patch row */
  for (int ch = 0; ch < c; ch++) {
    const float *xp = x + (size_t) ch * h * w;
    for (int ty = 0; ty < th; ty++) {
      for (int r = 0; r < 4; r++) {
        float *ev = buf[2 * r], *od = buf[2 * r + 1];
        split_row (xp, h, w, 2 * ty - 1 + r, tw, ev, od);
        for (int tx = 0; tx < tw; tx++) {
          t[r][0][tx] = ev[tx] - ev[tx + 1];
          t[r][1][tx] = od[tx] + ev[tx + 1];
          t[r][2][tx] = ev[tx + 1] - od[tx];
          t[r][3][tx] = od[tx] - od[tx + 1];
        }
      }
      float *o = v + (size_t) ch * T + (size_t) ty * tw;
      for (int j = 0; j < 4; j++) {
        float *o0 = o + (size_t) (0 * 4 + j) * xs, *o1 = o + (size_t) (1 * 4 + j) * xs;
        float *o2 = o + (size_t) (2 * 4 + j) * xs, *o3 = o + (size_t) (3 * 4 + j) * xs;
        const float *t0 = t[0][j], *t1 = t[1][j], *t2 = t[2][j], *t3 = t[3][j];
        for (int tx = 0; tx < tw; tx++) {
          o0[tx] = t0[tx] - t2[tx];
          o1[tx] = t1[tx] + t2[tx];
          o2[tx] = t2[tx] - t1[tx];
          o3[tx] = t1[tx] - t3[tx];
        }
      }
    }
  }
}

void
espcn_wino_output (const float *m, int c, int h, int w, const float *bias, float *y)
{
  int th = (h + 1) / 2, tw = (w + 1) / 2;
  size_t T = (size_t) th * tw;
  size_t xs = (size_t) c * T;
  float a[2][4][tw];
  float o[4][tw];
  for (int ch = 0; ch < c; ch++) {
    const float *mp = m + (size_t) ch * T;
    float *yp = y + (size_t) ch * h * w;
    float b = bias ? bias[ch] : 0.0f;
    for (int ty = 0; ty < th; ty++) {
      const float *mt = mp + (size_t) ty * tw;
      for (int j = 0; j < 4; j++) {
        const float *m0 = mt + (size_t) (0 * 4 + j) * xs, *m1 = mt + (size_t) (1 * 4 + j) * xs;
        const float *m2 = mt + (size_t) (2 * 4 + j) * xs, *m3 = mt + (size_t) (3 * 4 + j) * xs;
        float *a0 = a[0][j], *a1 = a[1][j];
        for (int tx = 0; tx < tw; tx++) {
          a0[tx] = m0[tx] + m1[tx] + m2[tx];
          a1[tx] = m1[tx] - m2[tx] - m3[tx];
        }
      }
      for (int r = 0; r < 2; r++) {
        const float *q0 = a[r][0], *q1 = a[r][1], *q2 = a[r][2], *q3 = a[r][3];
        float *e = o[2 * r], *f = o[2 * r + 1];
        for (int tx = 0; tx < tw; tx++) {
          e[tx] = q0[tx] + q1[tx] + q2[tx] + b;
          f[tx] = q1[tx] - q2[tx] - q3[tx] + b;
        }
      }
      for (int r = 0; r < 2 && 2 * ty + r < h; r++) {
        float *yr = yp + (size_t) (2 * ty + r) * w;
        const float *e = o[2 * r], *f = o[2 * r + 1];
        int full = w / 2;
        for (int tx = 0; tx < full; tx++) {
          yr[2 * tx] = e[tx];
          yr[2 * tx + 1] = f[tx];
        }
        if (w & 1)
          yr[w - 1] = e[full];
      }
    }
  }
}

void
espcn_wino_output_adjoint (const float *dy, int c, int h, int w, float *dm)
{
  int th = (h + 1) / 2, tw = (w + 1) / 2;
  size_t T = (size_t) th * tw;
  size_t xs = (size_t) c * T;
  float e[4][tw]; /* e[2*row + col][tx]: the 2 x 2 dy tile, zeros outside */
  float a[4][2][tw];
  for (int ch = 0; ch < c; ch++) {
    const float *dp = dy + (size_t) ch * h * w;
    float *mp = dm + (size_t) ch * T;
    for (int ty = 0; ty < th; ty++) {
      for (int r = 0; r < 2; r++) {
        int yy = 2 * ty + r;
        float *ev = e[2 * r], *od = e[2 * r + 1];
        if (yy >= h) {
          memset (ev, 0, sizeof (float) * (size_t) tw);
          memset (od, 0, sizeof (float) * (size_t) tw);
          continue;
        }
        const float *row = dp + (size_t) yy * w;
        int full = w / 2;
        for (int tx = 0; tx < full; tx++) {
          ev[tx] = row[2 * tx];
          od[tx] = row[2 * tx + 1];
        }
        if (w & 1) {
          ev[full] = row[w - 1];
          od[full] = 0.0f;
        }
      }
      /* A e along rows: [e0, e0+e1, e0-e1, -e1]. */
      for (int col = 0; col < 2; col++) {
        const float *e0 = e[col], *e1 = e[2 + col];
        for (int tx = 0; tx < tw; tx++) {
          a[0][col][tx] = e0[tx];
          a[1][col][tx] = e0[tx] + e1[tx];
          a[2][col][tx] = e0[tx] - e1[tx];
          a[3][col][tx] = -e1[tx];
        }
      }
      float *mt = mp + (size_t) ty * tw;
      for (int r = 0; r < 4; r++) {
        const float *p = a[r][0], *q = a[r][1];
        float *o0 = mt + (size_t) (r * 4 + 0) * xs, *o1 = mt + (size_t) (r * 4 + 1) * xs;
        float *o2 = mt + (size_t) (r * 4 + 2) * xs, *o3 = mt + (size_t) (r * 4 + 3) * xs;
        for (int tx = 0; tx < tw; tx++) {
          o0[tx] = p[tx];
          o1[tx] = p[tx] + q[tx];
          o2[tx] = p[tx] - q[tx];
          o3[tx] = -q[tx];
        }
      }
    }
  }
}
