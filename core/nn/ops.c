#include "nn/ops.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

const char *
espcn_loss_name (EspcnLoss loss)
{
  switch (loss) {
  case ESPCN_LOSS_L1:
    return "l1";
  case ESPCN_LOSS_L2:
    return "l2";
  case ESPCN_LOSS_CHARBONNIER:
    return "charbonnier";
  }
  return "unknown";
}

gboolean
espcn_loss_from_name (const char *name, EspcnLoss *loss, GError **error)
{
  static const EspcnLoss all[] = { ESPCN_LOSS_L1, ESPCN_LOSS_L2, ESPCN_LOSS_CHARBONNIER };
  for (guint i = 0; name && i < G_N_ELEMENTS (all); i++)
    if (g_ascii_strcasecmp (name, espcn_loss_name (all[i])) == 0) {
      *loss = all[i];
      return TRUE;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "unknown loss '%s' (expected l1, l2 or charbonnier)",
               name ? name : "(null)");
  return FALSE;
}

void
espcn_relu_forward (const float *x, float *y, size_t n)
{
  for (size_t i = 0; i < n; i++)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void
espcn_relu_backward (const float *y, const float *dy, float *dx, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

void
espcn_pixel_shuffle_forward (const float *x, int c, int h, int w, int s, float *y)
{
  size_t W = (size_t) w * s;
  for (int ch = 0; ch < c; ch++)
    for (int i = 0; i < s; i++)
      for (int j = 0; j < s; j++) {
        const float *src = x + ((size_t) (ch * s + i) * s + j) * h * w;
        float *dst = y + (size_t) ch * h * s * W + (size_t) i * W + j;
        for (int yy = 0; yy < h; yy++) {
          float *d = dst + (size_t) yy * s * W;
          const float *sp = src + (size_t) yy * w;
          for (int xx = 0; xx < w; xx++)
            d[(size_t) xx * s] = sp[xx];
        }
      }
}

void
espcn_pixel_shuffle_backward (const float *dy, int c, int h, int w, int s, float *dx)
{
  size_t W = (size_t) w * s;
  for (int ch = 0; ch < c; ch++)
    for (int i = 0; i < s; i++)
      for (int j = 0; j < s; j++) {
        float *dst = dx + ((size_t) (ch * s + i) * s + j) * h * w;
        const float *src = dy + (size_t) ch * h * s * W + (size_t) i * W + j;
        for (int yy = 0; yy < h; yy++) {
          const float *sp = src + (size_t) yy * s * W;
          float *d = dst + (size_t) yy * w;
          for (int xx = 0; xx < w; xx++)
            d[xx] = sp[(size_t) xx * s];
        }
      }
}

double
espcn_loss_partial (EspcnLoss loss, const float *pred, const float *target, size_t n, float inv_count, float *dpred)
{
  double sum = 0.0;
  switch (loss) {
  case ESPCN_LOSS_L1:
    for (size_t i = 0; i < n; i++) {
      float d = pred[i] - target[i];
      sum += fabsf (d);
      if (dpred) /* sign(d), 0 at 0 like torch.sign */
        dpred[i] = d > 0.0f ? inv_count : (d < 0.0f ? -inv_count : 0.0f);
    }
    break;
  case ESPCN_LOSS_L2:
    for (size_t i = 0; i < n; i++) {
      float d = pred[i] - target[i];
      sum += (double) d * d;
      if (dpred)
        dpred[i] = 2.0f * d * inv_count;
    }
    break;
  case ESPCN_LOSS_CHARBONNIER: {
    const float e2 = ESPCN_CHARBONNIER_EPS * ESPCN_CHARBONNIER_EPS;
    for (size_t i = 0; i < n; i++) {
      float d = pred[i] - target[i];
      float r = sqrtf (d * d + e2);
      sum += r;
      if (dpred)
        dpred[i] = d / r * inv_count;
    }
    break;
  }
  }
  return sum;
}

float
espcn_loss (EspcnLoss loss, const float *pred, const float *target, size_t n, float *dpred)
{
  if (n == 0)
    return 0.0f;
  return (float) (espcn_loss_partial (loss, pred, target, n, 1.0f / (float) n, dpred) / (double) n);
}
