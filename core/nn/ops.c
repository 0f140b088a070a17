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
  for (size_t i = 0; i < n; i++) {
    float v = x[i];
    y[i] = v > 0.0f ? v : 0.0f;
  }
}

void
espcn_relu_backward (const float *y, const float *dy, float *dx, size_t n)
{
  /* Both loads unconditional so the compiler can turn the select into a blend. */
  for (size_t i = 0; i < n; i++) {
    float g = dy[i];
    dx[i] = y[i] > 0.0f ? g : 0.0f;
  }
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

/* One element's loss; its gradient times inv_count goes to *g. */
static inline float
loss_elem (EspcnLoss loss, float d, float inv_count, float *g)
{
  switch (loss) {
  case ESPCN_LOSS_L1: /* sign(d), 0 at 0 like torch.sign */
    *g = d > 0.0f ? inv_count : (d < 0.0f ? -inv_count : 0.0f);
    return fabsf (d);
  case ESPCN_LOSS_L2:
    *g = 2.0f * d * inv_count;
    return d * d;
  case ESPCN_LOSS_CHARBONNIER:
  default: {
    float r = sqrtf (d * d + ESPCN_CHARBONNIER_EPS * ESPCN_CHARBONNIER_EPS);
    *g = d / r * inv_count;
    return r;
  }
  }
}

/* Sums go through 8 float lanes (so the loop vectorises) per block of LOSS_BLOCK,
 * and blocks into a double: a fixed order, independent of threads, and accurate over
 * millions of terms.  Inlined per loss kind so the switch leaves the loop. */
#define LOSS_BLOCK 512

static inline __attribute__ ((always_inline)) float
loss_block (EspcnLoss kind, const float *pred, const float *target, size_t n, float inv_count, float *dp)
{
  float acc[8] = { 0 };
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++) {
      float g;
      acc[l] += loss_elem (kind, pred[i + l] - target[i + l], inv_count, &g);
      dp[i + l] = g;
    }
  for (; i < n; i++) {
    float g;
    acc[0] += loss_elem (kind, pred[i] - target[i], inv_count, &g);
    dp[i] = g;
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

double
espcn_loss_partial (EspcnLoss loss, const float *pred, const float *target, size_t n, float inv_count, float *dpred)
{
  double sum = 0.0;
  float scratch[LOSS_BLOCK]; /* gradients land here when dpred is NULL */
  for (size_t b = 0; b < n; b += LOSS_BLOCK) {
    size_t bn = MIN (n - b, (size_t) LOSS_BLOCK);
    float *dp = dpred ? dpred + b : scratch;
    switch (loss) {
    case ESPCN_LOSS_L1:
      sum += loss_block (ESPCN_LOSS_L1, pred + b, target + b, bn, inv_count, dp);
      break;
    case ESPCN_LOSS_L2:
      sum += loss_block (ESPCN_LOSS_L2, pred + b, target + b, bn, inv_count, dp);
      break;
    case ESPCN_LOSS_CHARBONNIER:
      sum += loss_block (ESPCN_LOSS_CHARBONNIER, pred + b, target + b, bn, inv_count, dp);
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
