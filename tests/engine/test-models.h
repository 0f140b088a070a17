/* Test helpers shared by the engine tests: random and hand-built INT8 models, and
 * an independent naive implementation of the network written differently from
 * core/engine (HWC order, long double arithmetic checked to be exact). */
#pragma once

#include "engine/engine.h"
#include "engine/model.h"
#include "util/rng.h"

G_BEGIN_DECLS

/* Layers with their own arrays, editable before espcn_int8_model_new(). */
typedef struct {
  EspcnInt8Layer l[3];
  gint16 *w[3];
  gint32 *bias[3], *mult[3], *shift[3];
  float *wscale[3];
  GHashTable *metadata;
} TestLayers;

/* Random but sensible layers: outputs spread over [0, out_max], not all clamped.
 * wide = TRUE gives int16 weights and 255-level hidden activations. */
TestLayers *test_layers_random (EspcnRng *rng, int features, int scale, gboolean wide);
/* The same with `channels` image channels: 3 (RGB) or 1 (a luma model). */
TestLayers *test_layers_random_channels (EspcnRng *rng, int features, int scale, gboolean wide, int channels);
/* The hand-computed model of test-engine.c (F = 4, s = 2). */
TestLayers *test_layers_hand (void);
void test_layers_free (TestLayers *t);
EspcnInt8Model *test_layers_build (TestLayers *t);  /* asserts success */

/* Naive forward of a packed image of the model's C channels (RGB or Y, tight
 * stride) to a packed output of (w*s) x (h*s) pixels of C bytes. */
void test_naive_forward (const EspcnInt8Model *m, const guint8 *rgb, int w, int h, guint8 *out_rgb);

void test_fill_random (EspcnRng *rng, guint8 *p, gsize n);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestLayers, test_layers_free)

G_END_DECLS
