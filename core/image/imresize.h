/* espcn-gst: MATLAB-compatible bicubic imresize.
 *
 * Reproduces MATLAB's imresize(..., 'bicubic') with its default antialiasing,
 * the resampling every super-resolution benchmark uses to make LR images:
 * Keys cubic kernel (a = -0.5); when downscaling by s < 1 the kernel is
 * stretched to h(x) = s * k(s * x) (support 4 / s input pixels); output pixel i
 * (1-based) maps to input coordinate u = i / s + (1 - 1 / s) / 2; the
 * ceil(support) + 2 taps from floor(u - support / 2) get weights h(u - j),
 * normalised to sum 1; taps outside the image are mirrored (symmetric padding,
 * edge pixel repeated). The image is resized along its height first, then its
 * width (MATLAB resizes the dimension with the smaller scale first, height on
 * ties), with the intermediate kept in double and the result rounded half
 * away from zero and clamped to [0, 255] only at the end. */
#pragma once

#include <glib.h>

#include "image/image.h"

G_BEGIN_DECLS

/* Resize to out_w x out_h (scales out/in per axis). Both sizes must be > 0. */
EspcnImage *espcn_imresize (const EspcnImage *src, int out_w, int out_h);

/* Resize by `scale` (> 0) in both axes: the output is ceil(in * scale) per axis
 * (a product within 1e-9 of an integer counts as that integer, so that
 * in * (1.0 / s) gives in / s exactly for multiples of s) and the kernel uses
 * `scale` itself, as MATLAB's imresize(img, scale). Returns
 * NULL if the output would be empty or larger than ESPCN_IMAGE_MAX_SIDE. */
EspcnImage *espcn_imresize_scale (const EspcnImage *src, double scale);

/* The same resampling on `channels` float planes (CHW), without rounding:
 * src holds channels x in_h x in_w, dst channels x out_h x out_w. scale_x and
 * scale_y are the kernel scales (out / in, or the requested factor). */
void espcn_imresize_planar_f32 (const float *src, int channels, int in_w, int in_h,
    float *dst, int out_w, int out_h, double scale_x, double scale_y);

/* The Keys cubic kernel with a = -0.5 (exposed for tests). */
double espcn_cubic_kernel (double x);

G_END_DECLS
