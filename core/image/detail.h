/* espcn-gst: how much fine detail an image has, for choosing training photographs.
 *
 * The measure is what a x2 super-resolution model could learn from the image: the
 * luma residual of a MATLAB-bicubic down- and up-scale by 2, r = Y - up(down(Y)),
 * in grey levels (0..255).  Flat areas and soft (blurred, out-of-focus, hazy)
 * areas both leave almost nothing in r; edges and texture leave a lot.
 *
 *  - rms: the RMS of r over the image;
 *  - sharpest: the 90th percentile of the RMS of r over 32x32 blocks, the
 *    sharpness of the image's sharpest parts (a photograph's focus: a sharp
 *    subject on a blurred background scores high, a soft or hazy picture low);
 *  - textured_fraction: the fraction of blocks whose RMS of r is at least
 *    ESPCN_DETAIL_BLOCK_MIN (how much of the image carries detail at all). */
#pragma once

#include <glib.h>

#include "image/image.h"

G_BEGIN_DECLS

#define ESPCN_DETAIL_BLOCK 32
#define ESPCN_DETAIL_BLOCK_MIN 2.0 /* grey levels */

typedef struct {
  double rms;
  double sharpest;
  double textured_fraction;
  int n_blocks;
} EspcnDetail;

/* Needs width and height >= 4; smaller images give rms 0 and no blocks. */
EspcnDetail espcn_image_detail (const EspcnImage *img);

G_END_DECLS
