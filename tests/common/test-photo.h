/* Synthetic photographs for the training library's tests. */
#pragma once

#include "image/image.h"
#include "util/rng.h"

/* A photograph-like w x h test image drawn from rng: smooth shading, three
 * sinusoidal textures of random frequency and direction, and six antialiased
 * discs with hard edges. */
EspcnImage *espcn_test_photo_like (EspcnRng *rng, int w, int h);
