/* espcn-gst: a small seeded random generator (xoshiro256**) whose whole state
 * can be saved in a checkpoint, so a resumed run draws the same numbers. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 s[4];
} EspcnRng;

/* Seed through splitmix64, so nearby seeds give unrelated streams. */
void espcn_rng_seed (EspcnRng *rng, guint64 seed);
guint64 espcn_rng_next_u64 (EspcnRng *rng);
/* Uniform integer in [0, bound), without modulo bias; bound > 0. */
guint32 espcn_rng_below (EspcnRng *rng, guint32 bound);
/* Uniform float in [0, 1), 24 random bits. */
float espcn_rng_uniform (EspcnRng *rng);
/* Uniform float in [lo, hi). */
float espcn_rng_uniform_range (EspcnRng *rng, float lo, float hi);
/* Fisher-Yates shuffle of n pointers or indices. */
void espcn_rng_shuffle_u32 (EspcnRng *rng, guint32 *v, gsize n);

G_END_DECLS
