#include "test-photo.h"

#include <math.h>

EspcnImage *
espcn_test_photo_like (EspcnRng *rng, int w, int h)
{
  EspcnImage *img = espcn_image_new (w, h);
  float base[3], grad[3][2], wave[3][5], fx[3], fy[3], ph[3];
  float disc[6][6]; /* x, y, r, r g b */
  for (int c = 0; c < 3; c++) {
    base[c] = espcn_rng_uniform_range (rng, 60, 190);
    grad[c][0] = espcn_rng_uniform_range (rng, -0.3f, 0.3f);
    grad[c][1] = espcn_rng_uniform_range (rng, -0.3f, 0.3f);
  }
  for (int k = 0; k < 3; k++) {
    float f = espcn_rng_uniform_range (rng, 0.02f, 0.35f), a = espcn_rng_uniform_range (rng, 0, (float) G_PI);
    fx[k] = f * cosf (a);
    fy[k] = f * sinf (a);
    ph[k] = espcn_rng_uniform_range (rng, 0, 6.28f);
    for (int c = 0; c < 3; c++)
      wave[c][k] = espcn_rng_uniform_range (rng, 5, 30);
  }
  for (int d = 0; d < 6; d++) {
    disc[d][0] = espcn_rng_uniform_range (rng, 0, (float) w);
    disc[d][1] = espcn_rng_uniform_range (rng, 0, (float) h);
    disc[d][2] = espcn_rng_uniform_range (rng, 4, w / 5.0f);
    for (int c = 0; c < 3; c++)
      disc[d][3 + c] = espcn_rng_uniform_range (rng, 0, 255);
  }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) {
        float v = base[c] + grad[c][0] * x + grad[c][1] * y;
        for (int k = 0; k < 3; k++)
          v += wave[c][k] * sinf (fx[k] * x + fy[k] * y + ph[k]);
        for (int d = 0; d < 6; d++) {
          /* coverage of the disc edge over one pixel, linear ramp */
          float dist = hypotf (x - disc[d][0], y - disc[d][1]) - disc[d][2];
          float cover = CLAMP (0.5f - dist, 0.0f, 1.0f);
          v = v * (1 - cover) + disc[d][3 + c] * cover;
        }
        img->data[((size_t) y * w + x) * 3 + c] = (guint8) CLAMP (lrintf (v), 0, 255);
      }
  return img;
}
