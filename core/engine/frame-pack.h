/* espcn-gst (internal to core/engine): the runner's output stage, the pixel
 * shuffle of one conv3 row into the output frame's pixel layout.
 *
 * Two versions, each reading conv3's channels in its own packed order (the
 * runner packs conv3 for the one it uses): the plain C one (the reference,
 * every layout; (sub-row, sub-column, colour) order, so RGB output is a copy of
 * 3*s consecutive bytes) and the ORC one (the four 4-byte layouts;
 * (sub-row, colour, sub-column) order, so each colour of a sub-row is s
 * consecutive bytes, which an ORC array can read).  Both write the same bytes
 * (tests/engine/test-orc-output.c). */
#pragma once

#include <glib.h>

#include "engine/engine.h"

G_BEGIN_DECLS

/* The packed orders, perm[0 .. 3*s*s - 1] = the model's conv3 channel
 * (PyTorch pixel-shuffle order c * s * s + i * s + j: colour c, output sub-row
 * i, sub-column j) that each packed channel computes.
 * C: packed channel (i * s + j) * 3 + c.  ORC: packed channel (i * 3 + c) * s + j. */
void espcn_shuffle_order_c (int s, int *perm);
void espcn_shuffle_order_orc (int s, int *perm);

/* One conv3 row, c3[x * cs + packed channel] for x < width in the C order,
 * into output rows out, out + out_stride, ... (s of them): output pixel
 * x * s + j of row i gets R, G and B at the layout's offsets; every other byte
 * is left as it was. */
void espcn_shuffle_row_c (const guint8 *c3, int cs, int width, int s, guint8 *out, gsize out_stride,
                          const EspcnPixelLayout *layout);

/* TRUE if espcn_shuffle_row_orc() handles this layout and frame: 4 bytes per
 * pixel with R, G, B at offsets 0,1,2 / 2,1,0 / 1,2,3 / 3,2,1 (RGBx, BGRx,
 * xRGB, xBGR and their alpha forms), on a little-endian host, with `out` and
 * `out_stride` multiples of 4 (ORC takes its 4-byte elements as aligned: its
 * emulator crashes and its C fallback is undefined on unaligned ones). */
gboolean espcn_shuffle_orc_supports (const EspcnPixelLayout *layout, const guint8 *out, gsize out_stride);

/* espcn_shuffle_row_c() on the ORC kernels, for c3 in the ORC order; layout
 * and frame must be supported. */
void espcn_shuffle_row_orc (const guint8 *c3, int cs, int width, int s, guint8 *out, gsize out_stride,
                            const EspcnPixelLayout *layout);

G_END_DECLS
