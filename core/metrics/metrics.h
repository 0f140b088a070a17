/* espcn-gst: image quality metrics with the conventions of the published
 * super-resolution tables (see the Set5/Set14 data sets' README). */
#pragma once

#include <glib.h>

#include "image/image.h"

G_BEGIN_DECLS

/* PSNR (dB, peak 255) on BT.601 luma computed in double from the 8-bit pixels
 * (not rounded, see image/color.h), over the images with `shave` pixels removed
 * from each border. Returns INFINITY for identical images and NAN if the
 * sizes differ or nothing is left after shaving.
 *
 * Grayscale references: if either image has `gray` set (decoded from a
 * one-channel file, or resized from one), the compared value is the grey
 * level itself, i.e. the
 * luma mapped from [16, 235] back to [0, 255] ((Y - 16) * 255 / 219, exactly
 * the grey level when R = G = B): the published tables use the single channel
 * of Set14's bridge.png as its Y. An RGB file whose pixels happen to be grey
 * (Set14's man.png) is still compared on luma, as in those tables. The same
 * applies to espcn_ssim_y. */
double espcn_psnr_y (const EspcnImage *a, const EspcnImage *b, int shave);
/* PSNR over all three RGB channels, same shave and return conventions. */
double espcn_psnr_rgb (const EspcnImage *a, const EspcnImage *b, int shave);
/* Mean SSIM (Wang et al. 2004) on the luma: 11x11 Gaussian window with
 * sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255, windows fully inside the shaved
 * image only. NAN if the sizes differ or the shaved image is under 11x11. */
double espcn_ssim_y (const EspcnImage *a, const EspcnImage *b, int shave);

/* TRUE if R = G = B at every pixel. */
gboolean espcn_image_is_gray (const EspcnImage *img);

G_END_DECLS
