#include "util/rng.h"

static inline guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

void
espcn_rng_seed (EspcnRng *rng, guint64 seed)
{
  guint64 z = seed;
  for (int i = 0; i < 4; i++) {
    z += 0x9e3779b97f4a7c15ULL;
    guint64 t = z;
    t = (t ^ (t >> 30)) * 0xbf58476d1ce4e5b9ULL;
    t = (t ^ (t >> 27)) * 0x94d049bb133111ebULL;
    rng->s[i] = t ^ (t >> 31);
  }
}

guint64
espcn_rng_next_u64 (EspcnRng *rng)
{
  guint64 *s = rng->s;
  guint64 result = rotl (s[1] * 5, 7) * 9;
  guint64 t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

guint32
espcn_rng_below (EspcnRng *rng, guint32 bound)
{
  g_return_val_if_fail (bound > 0, 0);
  /* Lemire's multiply-shift with rejection: unbiased for every bound. */
  guint64 m = (guint64) (guint32) (espcn_rng_next_u64 (rng) >> 32) * bound;
  guint32 low = (guint32) m;
  if (low < bound) {
    guint32 threshold = (guint32) (-bound) % bound;
    while (low < threshold) {
      m = (guint64) (guint32) (espcn_rng_next_u64 (rng) >> 32) * bound;
      low = (guint32) m;
    }
  }
  return (guint32) (m >> 32);
}

float
espcn_rng_uniform (EspcnRng *rng)
{
  return (float) (espcn_rng_next_u64 (rng) >> 40) * (1.0f / 16777216.0f);
}

float
espcn_rng_uniform_range (EspcnRng *rng, float lo, float hi)
{
  return lo + (hi - lo) * espcn_rng_uniform (rng);
}

void
espcn_rng_shuffle_u32 (EspcnRng *rng, guint32 *v, gsize n)
{
  for (gsize i = n; i > 1; i--) {
    guint32 j = espcn_rng_below (rng, (guint32) i);
    guint32 t = v[i - 1];
    v[i - 1] = v[j];
    v[j] = t;
  }
}
