/* espcn-gst: is this photograph one of the test images?  The contamination guard.
 *
 * Training photographs must not contain the test images (Set5, Set14) nor be
 * contained in them, whatever their file names, formats, sizes or crops.  Each
 * reference image is compared with each photograph on small grey thumbnails by
 * zero-mean normalised correlation (NCC), both ways: the reference placed inside
 * the photograph, and the photograph inside the reference, each at every zoom
 * where the smaller covers between ESPCN_MATCH_MIN_COVER and all of the larger's
 * size (its limiting side), at every position on a coarse thumbnail (the
 * smaller's long side ESPCN_MATCH_COARSE pixels); the best placement (coarse NCC
 * at least 0.6) is then refined at nearby zooms and positions on the detail of
 * thumbnails ESPCN_MATCH_FINE pixels wide (each minus its x4 down-up copy: whole
 * smooth images -- gradients, skies, skin -- correlate with each other, their
 * detail does not), and that NCC is the score.  Rotations and mirror images are
 * not searched.  Measured: opencv-doc's baboon.jpg against Set14's baboon.png
 * (a resized crop of the same photograph) 0.89; unrelated pairs at most 0.61
 * (every Set5 / Set14 image against 130 photographs of opencv-doc, plasma
 * wallpapers and palapeli). */
#pragma once

#include <glib.h>

#include "image/image.h"

G_BEGIN_DECLS

#define ESPCN_MATCH_COARSE 16
#define ESPCN_MATCH_FINE 48
#define ESPCN_MATCH_MIN_COVER 0.4
#define ESPCN_MATCH_THRESHOLD 0.8

/* An image prepared for matching (its grey version at a working size). */
typedef struct _EspcnMatchImage EspcnMatchImage;

/* NULL for an image smaller than 8 pixels in a dimension. */
EspcnMatchImage *espcn_match_image_new (const EspcnImage *img);
void espcn_match_image_free (EspcnMatchImage *m);

/* The best NCC of a placement of either image inside the other, in [-1, 1]
 * (0 when no placement is possible, e.g. very different aspect ratios). */
double espcn_match_score (const EspcnMatchImage *a, const EspcnMatchImage *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnMatchImage, espcn_match_image_free)

G_END_DECLS
