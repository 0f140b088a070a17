#include "nn/conv2d.h"
#include "nn/gemm-private.h"
#include "nn/winograd-private.h"

#include <cblas.h>
#include <gio/gio.h>
#include <string.h>

gboolean
espcn_conv2d_init (EspcnConv2d *c, int cin, int cout, int k, EspcnConvAlgo algo, GError **error)
{
  memset (c, 0, sizeof (*c));
  if (cin <= 0 || cout <= 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "conv2d: channels must be positive (cin %d, cout %d)",
                 cin, cout);
    return FALSE;
  }
  if (k != 3 && k != 5) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "conv2d: kernel size %d unsupported (3 or 5)", k);
    return FALSE;
  }
  if (algo == ESPCN_CONV_ALGO_AUTO)
    algo = k == 3 ? ESPCN_CONV_ALGO_WINOGRAD : ESPCN_CONV_ALGO_IM2COL;
  if (algo == ESPCN_CONV_ALGO_WINOGRAD && k != 3) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "conv2d: Winograd needs a 3x3 kernel, not %dx%d", k, k);
    return FALSE;
  }
  c->cin = cin;
  c->cout = cout;
  c->k = k;
  c->algo = algo;
  if (algo == ESPCN_CONV_ALGO_WINOGRAD) {
    c->wino_u = g_new0 (float, (size_t) ESPCN_WINO_XI * cin * cout);
    c->wino_urot = g_new0 (float, (size_t) ESPCN_WINO_XI * cin * cout);
  }
  return TRUE;
}

void
espcn_conv2d_clear (EspcnConv2d *c)
{
  g_clear_pointer (&c->wino_u, g_free);
  g_clear_pointer (&c->wino_urot, g_free);
}

void
espcn_conv2d_set_weights (EspcnConv2d *c, const float *weight, const float *bias)
{
  c->weight = weight;
  c->bias = bias;
  if (c->algo == ESPCN_CONV_ALGO_WINOGRAD)
    espcn_wino_weights (weight, c->cout, c->cin, c->wino_u, c->wino_urot);
}

size_t
espcn_conv2d_workspace_size (const EspcnConv2d *c, int h, int w)
{
  if (c->algo == ESPCN_CONV_ALGO_WINOGRAD)
    return (size_t) ESPCN_WINO_XI * espcn_wino_tiles (h, w) * (size_t) (c->cin + c->cout);
  return (size_t) c->cin * c->k * c->k * (size_t) h * w;
}

size_t
espcn_conv2d_xt_size (const EspcnConv2d *c, int h, int w)
{
  if (c->algo == ESPCN_CONV_ALGO_WINOGRAD)
    return (size_t) ESPCN_WINO_XI * espcn_wino_tiles (h, w) * (size_t) c->cin;
  return (size_t) c->cin * c->k * c->k * (size_t) h * w;
}

size_t
espcn_conv2d_grad_acc_size (const EspcnConv2d *c)
{
  size_t kk = c->algo == ESPCN_CONV_ALGO_WINOGRAD ? ESPCN_WINO_XI : (size_t) c->k * c->k;
  return kk * c->cin * c->cout + c->cout;
}

/* col[(ci*k + ky)*k + kx][y*w + x] = x[ci][y + ky - p][x + kx - p], zero outside. */
static void
im2col (const float *x, int cin, int h, int w, int k, float *col)
{
  int p = k / 2;
  size_t hw = (size_t) h * w;
  for (int ci = 0; ci < cin; ci++)
    for (int ky = 0; ky < k; ky++)
      for (int kx = 0; kx < k; kx++) {
        float *dst = col + ((size_t) (ci * k + ky) * k + kx) * hw;
        int dx = kx - p;
        int x0 = MAX (0, -dx), x1 = MIN (w, w - dx); /* valid output columns */
        for (int y = 0; y < h; y++) {
          float *d = dst + (size_t) y * w;
          int sy = y + ky - p;
          if (sy < 0 || sy >= h || x1 <= x0) {
            memset (d, 0, sizeof (float) * (size_t) w);
            continue;
          }
          const float *s = x + ((size_t) ci * h + sy) * w;
          for (int xx = 0; xx < x0; xx++)
            d[xx] = 0.0f;
          memcpy (d + x0, s + x0 + dx, sizeof (float) * (size_t) (x1 - x0));
          for (int xx = x1; xx < w; xx++)
            d[xx] = 0.0f;
        }
      }
}

/* The adjoint of im2col: dx[ci][y + ky - p][x + kx - p] += col[...][y*w + x]. */
static void
col2im (const float *col, int cin, int h, int w, int k, float *dx)
{
  int p = k / 2;
  size_t hw = (size_t) h * w;
  memset (dx, 0, sizeof (float) * (size_t) cin * hw);
  for (int ci = 0; ci < cin; ci++)
    for (int ky = 0; ky < k; ky++)
      for (int kx = 0; kx < k; kx++) {
        const float *src = col + ((size_t) (ci * k + ky) * k + kx) * hw;
        int dxo = kx - p;
        int x0 = MAX (0, -dxo), x1 = MIN (w, w - dxo);
        for (int y = 0; y < h; y++) {
          int sy = y + ky - p;
          if (sy < 0 || sy >= h)
            continue;
          const float *s = src + (size_t) y * w;
          float *d = dx + ((size_t) ci * h + sy) * w + dxo;
          for (int xx = x0; xx < x1; xx++)
            d[xx] += s[xx];
        }
      }
}

void
espcn_conv2d_forward (const EspcnConv2d *c, const float *x, int h, int w, float *y, float *ws, float *xt_out)
{
  size_t hw = (size_t) h * w;
  if (c->algo == ESPCN_CONV_ALGO_WINOGRAD) {
    size_t T = espcn_wino_tiles (h, w);
    float *v = xt_out ? xt_out : ws, *m = ws + ESPCN_WINO_XI * T * c->cin;
    espcn_wino_input (x, c->cin, h, w, v);
    for (int xi = 0; xi < ESPCN_WINO_XI; xi++)
      espcn_gemm_small_nn (c->cout, (int) T, c->cin, c->wino_u + (size_t) xi * c->cout * c->cin, c->cin,
                           v + (size_t) xi * c->cin * T, (int) T, m + (size_t) xi * c->cout * T, (int) T);
    espcn_wino_output (m, c->cout, h, w, c->bias, y);
    return;
  }
  int K = c->cin * c->k * c->k;
  float *col = xt_out ? xt_out : ws;
  im2col (x, c->cin, h, w, c->k, col);
  espcn_gemm_small_nn (c->cout, (int) hw, K, c->weight, K, col, (int) hw, y, (int) hw);
  for (int o = 0; c->bias && o < c->cout; o++) {
    float b = c->bias[o];
    float *yo = y + (size_t) o * hw;
    for (size_t i = 0; i < hw; i++)
      yo[i] += b;
  }
}

/* Eight lanes so the sum vectorises; a fixed order, so still deterministic. */
static float
sum_plane (const float *d, size_t n)
{
  float acc[8] = { 0 };
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++)
      acc[l] += d[i + l];
  for (; i < n; i++)
    acc[0] += d[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

void
espcn_conv2d_backward (const EspcnConv2d *c, const float *x, const float *xt, const float *dy, int h, int w, float *dx,
                       float *gacc, float *ws)
{
  size_t hw = (size_t) h * w;
  size_t kk = c->algo == ESPCN_CONV_ALGO_WINOGRAD ? ESPCN_WINO_XI : (size_t) c->k * c->k;
  float *gb = gacc + kk * c->cin * c->cout;
  for (int o = 0; o < c->cout; o++)
    gb[o] += sum_plane (dy + (size_t) o * hw, hw);

  if (c->algo == ESPCN_CONV_ALGO_WINOGRAD) {
    size_t T = espcn_wino_tiles (h, w);
    float *dm = ws + ESPCN_WINO_XI * T * c->cin;
    const float *vx = xt;
    if (!vx) {
      espcn_wino_input (x, c->cin, h, w, ws);
      vx = ws;
    }
    espcn_wino_output_adjoint (dy, c->cout, h, w, dm);
    for (int xi = 0; xi < ESPCN_WINO_XI; xi++)
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, c->cout, c->cin, (int) T, 1.0f, dm + (size_t) xi * c->cout * T,
                   (int) T, vx + (size_t) xi * c->cin * T, (int) T, 1.0f, gacc + (size_t) xi * c->cout * c->cin, c->cin);
    if (dx) {
      /* dX is the same conv run on dY with the rotated, transposed kernel. */
      float *vdy = dm, *mdx = ws;
      espcn_wino_input (dy, c->cout, h, w, vdy);
      for (int xi = 0; xi < ESPCN_WINO_XI; xi++)
        espcn_gemm_small_nn (c->cin, (int) T, c->cout, c->wino_urot + (size_t) xi * c->cin * c->cout, c->cout,
                             vdy + (size_t) xi * c->cout * T, (int) T, mdx + (size_t) xi * c->cin * T, (int) T);
      espcn_wino_output (mdx, c->cin, h, w, NULL, dx);
    }
    return;
  }

  int K = c->cin * c->k * c->k;
  const float *col = xt;
  if (!col) {
    im2col (x, c->cin, h, w, c->k, ws);
    col = ws;
  }
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, c->cout, K, (int) hw, 1.0f, dy, (int) hw, col, (int) hw, 1.0f,
               gacc, K);
  if (dx) {
    cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, K, (int) hw, c->cout, 1.0f, c->weight, K, dy, (int) hw, 0.0f, ws,
                 (int) hw);
    col2im (ws, c->cin, h, w, c->k, dx);
  }
}

void
espcn_conv2d_grad_finish (const EspcnConv2d *c, const float *gacc, float *dw, float *db)
{
  size_t kk = c->algo == ESPCN_CONV_ALGO_WINOGRAD ? ESPCN_WINO_XI : (size_t) c->k * c->k;
  size_t nw = kk * c->cin * c->cout;
  if (c->algo == ESPCN_CONV_ALGO_WINOGRAD)
    espcn_wino_weights_adjoint (gacc, c->cout, c->cin, dw);
  else
    for (size_t i = 0; i < nw; i++)
      dw[i] += gacc[i];
  for (int o = 0; o < c->cout; o++)
    db[o] += gacc[nw + o];
}
