/* Helpers shared by the core/nn tests. */
#pragma once

#include <glib.h>
#include <math.h>

#include "util/rng.h"

static inline void
fill_uniform (EspcnRng *rng, float *v, size_t n, float lo, float hi)
{
  for (size_t i = 0; i < n; i++)
    v[i] = espcn_rng_uniform_range (rng, lo, hi);
}

static inline double
dot_d (const float *a, const float *b, size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += (double) a[i] * b[i];
  return s;
}

/* Relative error of two gradient vectors: ||a - b|| / max(||a||, ||b||, tiny). */
static inline double
grad_rel_err (const double *a, const double *b, size_t n)
{
  double d = 0.0, na = 0.0, nb = 0.0;
  for (size_t i = 0; i < n; i++) {
    d += (a[i] - b[i]) * (a[i] - b[i]);
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return sqrt (d) / MAX (MAX (sqrt (na), sqrt (nb)), 1e-30);
}
