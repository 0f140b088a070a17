/* espcn-gst: the integer grid's constants (docs/integer-grid.md), below both the
 * quantization-aware training (core/quant) and the integer engine (core/engine),
 * so that training simulates exactly what the engine computes.  Any change here
 * changes both sides together. */
#pragma once

#define ESPCN_PIXEL_MAX 255        /* conv3 output and the input image: u8 pixels, real = q / 255 */
#define ESPCN_ACT_QMAX_FAST 127    /* hidden activations feeding int8 weights: u7, so vpmaddubsw cannot saturate */
#define ESPCN_ACT_QMAX_WIDE 255    /* hidden activations feeding int16 weights (exact widening path) */
#define ESPCN_WEIGHT_QMAX_INT8 127 /* int8 weights are symmetric: [-127, 127] */
