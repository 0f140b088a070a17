#include "nn/init-interpolator.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define N_UNKNOWNS 10 /* 3x3 taps and a bias */

struct _EspcnInterpFit {
  int scale, channels;
  /* The regressors (the 3x3 LR window and 1) are the same for every phase: one
   * A^T A (upper triangle), one A^T b per phase. */
  double ata[N_UNKNOWNS][N_UNKNOWNS];
  double atb[16][N_UNKNOWNS];
  guint64 count;
};

const char *
espcn_start_name (EspcnStart start)
{
  return start == ESPCN_START_PLAIN ? "plain" : "interp";
}

gboolean
espcn_start_from_name (const char *name, EspcnStart *out, GError **error)
{
  if (g_strcmp0 (name, "interp") == 0)
    *out = ESPCN_START_INTERP;
  else if (g_strcmp0 (name, "plain") == 0)
    *out = ESPCN_START_PLAIN;
  else {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "unknown start '%s': choose interp (the network starts as a fitted interpolator) or plain", name ? name : "");
    return FALSE;
  }
  return TRUE;
}

EspcnInterpFit *
espcn_interp_fit_new (int scale, int channels)
{
  g_return_val_if_fail (scale >= 2 && scale <= 4 && (channels == 1 || channels == 3), NULL);
  EspcnInterpFit *fit = g_new0 (EspcnInterpFit, 1);
  fit->scale = scale;
  fit->channels = channels;
  return fit;
}

void
espcn_interp_fit_free (EspcnInterpFit *fit)
{
  g_free (fit);
}

void
espcn_interp_fit_add (EspcnInterpFit *fit, const float *lr, const float *hr, int n, int h, int w)
{
  const int s = fit->scale, C = fit->channels;
  const size_t H = (size_t) h * s, W = (size_t) w * s;
  double a[N_UNKNOWNS];
  a[9] = 1.0;
  for (int i = 0; i < n; i++)
    for (int c = 0; c < C; c++) {
      const float *l = lr + ((size_t) i * C + c) * h * w;
      const float *t = hr + ((size_t) i * C + c) * H * W;
      for (int y = 1; y + 1 < h; y++)
        for (int x = 1; x + 1 < w; x++) {
          for (int k = 0; k < 9; k++)
            a[k] = l[(size_t) (y + k / 3 - 1) * w + (x + k % 3 - 1)];
          for (int r = 0; r < N_UNKNOWNS; r++)
            for (int q = r; q < N_UNKNOWNS; q++)
              fit->ata[r][q] += a[r] * a[q];
          for (int dy = 0; dy < s; dy++)
            for (int dx = 0; dx < s; dx++) {
              double b = t[(size_t) (y * s + dy) * W + (size_t) x * s + dx];
              for (int r = 0; r < N_UNKNOWNS; r++)
                fit->atb[dy * s + dx][r] += a[r] * b;
            }
          fit->count++;
        }
    }
}

/* Solves (M + ridge I) x = v by Cholesky; M symmetric (upper triangle given). */
static gboolean
solve_spd (const double m_in[N_UNKNOWNS][N_UNKNOWNS], const double *v, double *x)
{
  double L[N_UNKNOWNS][N_UNKNOWNS] = { { 0 } };
  double trace = 0;
  for (int i = 0; i < N_UNKNOWNS; i++)
    trace += m_in[i][i];
  /* A whisper of ridge keeps nearly flat data solvable without moving real fits. */
  double ridge = 1e-9 * trace / N_UNKNOWNS;
  for (int i = 0; i < N_UNKNOWNS; i++)
    for (int j = 0; j <= i; j++) {
      double sum = m_in[j][i] + (i == j ? ridge : 0); /* m[i][j] == m[j][i], stored for j <= i */
      for (int k = 0; k < j; k++)
        sum -= L[i][k] * L[j][k];
      if (i == j) {
        if (!(sum > 0))
          return FALSE;
        L[i][i] = sqrt (sum);
      } else {
        L[i][j] = sum / L[j][j];
      }
    }
  double y[N_UNKNOWNS];
  for (int i = 0; i < N_UNKNOWNS; i++) {
    double sum = v[i];
    for (int k = 0; k < i; k++)
      sum -= L[i][k] * y[k];
    y[i] = sum / L[i][i];
  }
  for (int i = N_UNKNOWNS - 1; i >= 0; i--) {
    double sum = y[i];
    for (int k = i + 1; k < N_UNKNOWNS; k++)
      sum -= L[k][i] * x[k];
    x[i] = sum / L[i][i];
  }
  return TRUE;
}

gboolean
espcn_interp_fit_solve (const EspcnInterpFit *fit, float weights[][9], float *bias, GError **error)
{
  if (fit->count < N_UNKNOWNS) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "interpolator start: %" G_GUINT64_FORMAT " pixels to fit on, at least %d needed (are the patches at least 3 "
        "LR pixels wide?)", fit->count, N_UNKNOWNS);
    return FALSE;
  }
  const int s = fit->scale;
  for (int p = 0; p < s * s; p++) {
    double x[N_UNKNOWNS];
    if (!solve_spd (fit->ata, fit->atb[p], x)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "interpolator start: the least-squares system of phase %d is singular (the training pairs have no texture)", p);
      return FALSE;
    }
    for (int k = 0; k < 9; k++)
      weights[p][k] = (float) x[k];
    bias[p] = (float) x[9];
  }
  return TRUE;
}

gboolean
espcn_float_model_set_interpolator (EspcnFloatModel *model, const float weights[][9], const float *bias,
                                    GError **error)
{
  const int s = model->config.scale, F = model->cout[0], F2 = model->cout[1], C = model->config.channels;
  if (F2 < C) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "the interpolator start needs %d identity channels in conv2: features %d gives %d (use features >= %d or "
        "--start plain)", C, F, F2, 2 * C);
    return FALSE;
  }
  /* conv1: output c = input c, centre of the 5x5 window. */
  for (int c = 0; c < C; c++) {
    float *w = model->weight[0] + (size_t) c * C * 25;
    memset (w, 0, (size_t) C * 25 * sizeof *w);
    w[(size_t) c * 25 + 12] = 1.0f;
    model->bias[0][c] = 0.0f;
  }
  /* conv2: output c = conv1's channel c, centre of the 3x3 window. */
  for (int c = 0; c < C; c++) {
    float *w = model->weight[1] + (size_t) c * F * 9;
    memset (w, 0, (size_t) F * 9 * sizeof *w);
    w[(size_t) c * 9 + 4] = 1.0f;
    model->bias[1][c] = 0.0f;
  }
  /* conv3: phase filters on the identity channels, the rest scaled down. */
  for (int c = 0; c < C; c++)
    for (int p = 0; p < s * s; p++) {
      int o = c * s * s + p;
      float *w = model->weight[2] + (size_t) o * F2 * 9;
      for (int i = 0; i < F2 * 9; i++)
        w[i] *= ESPCN_INTERP_RESIDUAL_GAIN;
      for (int ci = 0; ci < C; ci++)
        memset (w + (size_t) ci * 9, 0, 9 * sizeof *w);
      memcpy (w + (size_t) c * 9, weights[p], 9 * sizeof *w);
      model->bias[2][o] = bias[p];
    }
  return TRUE;
}

gboolean
espcn_float_model_start_as_interpolator (EspcnFloatModel *model, int patch, int batch, int n_batches,
                                         EspcnPairBatchFunc make_batch, gpointer user_data, GError **error)
{
  const int s = model->config.scale, side = patch / s;
  g_autoptr (EspcnInterpFit) fit = espcn_interp_fit_new (s, model->config.channels);
  /* make_batch may fill RGB before packing luma: room for 3 channels. */
  g_autofree float *lr = g_new (float, (gsize) batch * 3 * side * side);
  g_autofree float *hr = g_new (float, (gsize) batch * 3 * patch * patch);
  for (int b = 0; b < n_batches; b++) {
    if (!make_batch (user_data, b, lr, hr, error))
      return FALSE;
    espcn_interp_fit_add (fit, lr, hr, batch, side, side);
  }
  float weights[16][9], bias[16];
  return espcn_interp_fit_solve (fit, weights, bias, error) &&
         espcn_float_model_set_interpolator (model, weights, bias, error);
}
