/* Private (core/quant only): elementwise fake-quantization helpers shared by the
 * quantizer methods.
 *
 * A uniform grid here is "level * s" with an integer level in [lo, hi]:
 *   level = round_half_up (clamp (v * (1 / s), lo, hi)),   y = level * s.
 * The reciprocal is computed once per tensor or channel (v * (1/s) may differ
 * from v / s by one ulp, which only matters at an exact rounding tie).  Export
 * uses the same level function, so w_int * s reproduces the forward value bit
 * for bit.  All loops are plain elementwise loops that GCC vectorises at -O2/-O3
 * with baseline SSE2 (no libm calls inside).
 */
#pragma once

#include "quant/quantizer.h"

#include <stddef.h>

G_BEGIN_DECLS

/* floor (v + 0.5f) for |v| < 2^31: bit-identical to espcn_round_half_up(), but
 * written with a truncating conversion so that loops vectorise without SSE4.1's
 * roundps.  (The test suite checks the identity, ties and negatives included.) */
static inline float
espcn_fq_round (float v)
{
  const float t = v + 0.5f;
  gint32 i = (gint32) t;      /* truncates towards zero */
  i -= (t < (float) i);       /* negative non-integers: one below (integer form vectorises) */
  return (float) i;
}

/* Clamp v to [lo, hi]; NaN goes to lo, so a level is always a finite integer. */
static inline float
espcn_fq_clamp (float v, float lo, float hi)
{
  v = v > lo ? v : lo;
  return v < hi ? v : hi;
}

/* The integer level (as a float) of v on the grid of step 1 / inv_s, within the
 * integer bounds [lo, hi] (|lo|, |hi| < 2^31). */
static inline float
espcn_fq_level (float v, float inv_s, float lo, float hi)
{
  return espcn_fq_round (espcn_fq_clamp (v * inv_s, lo, hi));
}

/* Loops work in blocks of this many values so that each pass stays in L1. */
#define ESPCN_FQ_BLOCK 1024

/* lv[i] = espcn_fq_level (x[i], inv_s, lo, hi) for one block.  Two passes (clamp,
 * then round) because GCC will not if-convert a float->int conversion behind a
 * clamp under the default -ftrapping-math; each pass alone vectorises.  lv may be x. */
static inline void
espcn_fq_levels_block (const float *x, float *lv, size_t m, float inv_s, float lo, float hi)
{
  for (size_t i = 0; i < m; i++)
    lv[i] = espcn_fq_clamp (x[i] * inv_s, lo, hi);
  for (size_t i = 0; i < m; i++)
    lv[i] = espcn_fq_round (lv[i]);
}

/* Per-tensor uniform fake quantization: y[i] = level (x[i]) * s, s > 0.
 * y may be x (in place). */
static inline void
espcn_fq_uniform (const float *x, float *y, size_t n, float s, float lo, float hi)
{
  const float inv = 1.0f / s;
  for (size_t b = 0; b < n; b += ESPCN_FQ_BLOCK) {
    const size_t m = MIN (ESPCN_FQ_BLOCK, n - b);
    for (size_t i = 0; i < m; i++)
      y[b + i] = espcn_fq_clamp (x[b + i] * inv, lo, hi);
    for (size_t i = 0; i < m; i++)
      y[b + i] = espcn_fq_round (y[b + i]) * s;
  }
}

/* Per-channel uniform fake quantization: `channels` contiguous blocks of
 * n / channels values (n must be a multiple), block c on the grid scale[c] > 0.
 * y may be x. */
static inline void
espcn_fq_uniform_per_channel (const float *x, float *y, size_t n, int channels, const float *scale, float lo,
                              float hi)
{
  const size_t m = n / (size_t) channels;
  for (int c = 0; c < channels; c++)
    espcn_fq_uniform (x + (size_t) c * m, y + (size_t) c * m, m, scale[c], lo, hi);
}

/* Integer export of the per-channel grid above: q[i] = level (x[i]) as gint32,
 * the same levels espcn_fq_uniform_per_channel() multiplies by scale[c].  Fails
 * (G_IO_ERROR_INVALID_DATA naming `what` and the index) on a non-finite input,
 * which the forward pass would have silently clamped. */
gboolean espcn_fq_levels_per_channel (const char *what, const float *x, gint32 *q, size_t n, int channels,
                                      const float *scale, float lo, float hi, GError **error);

/* Symmetric max-based scales: scale[c] = max |w| over block c / qmax.  A block
 * that is all zero (or not finite) gets scale 1 / qmax: its levels are 0 either
 * way, and a positive, ordinary scale keeps the exporter's bias grid sane. */
void espcn_fq_absmax_scales (const float *w, size_t n, int channels, float qmax, float *scale);

/* max |x| over x (NaN ignored); 0 for n == 0. */
float espcn_fq_absmax (const float *x, size_t n);

/* max (x, 0) over x (NaN ignored): the largest ReLU output; 0 for n == 0. */
float espcn_fq_relu_max (const float *x, size_t n);

/* Sum of x in double, with a few independent accumulators (a gradient sum over
 * a whole batch would otherwise be one long dependency chain). */
double espcn_fq_sum (const float *x, size_t n);

/* Mean of |x| (mean of max (x, 0) with relu = TRUE), summed in double; 0 for
 * n == 0.  Non-finite values are skipped (and not counted). */
double espcn_fq_abs_mean (const float *x, size_t n, gboolean relu);

/* The p-quantile (p in [0, 1]) of max (x, 0) over x, exact (order statistic
 * floor (p * (n - 1)) of the sorted values, non-finite values skipped); 0 for
 * n == 0.  O(n) time, copies x. */
float espcn_fq_relu_quantile (const float *x, size_t n, double p);

/* Setup checks shared by the uniform methods: a weight quantizer needs n > 0 and
 * a multiple of `channels`, and always uses the int8 grid [-127, 127]
 * (q->qmax is set to ESPCN_WEIGHT_QMAX_INT8, whatever the caller passed); an
 * activation quantizer is per tensor (channels == 1) with qmax in [1, 255]. */
gboolean espcn_fq_check_setup (const char *method, EspcnQuantizer *q, size_t n, GError **error);

G_END_DECLS
