# espcn-gst ORC kernels: conversions around the integer convolutions (the
# convolutions themselves are intrinsics: ORC 0.4.33 has no dot product).
#
# Unpack one row of a 4-byte pixel layout into the engine's conv1 input,
# [R, G, B, 0] per pixel.  Each pixel is one little-endian 32-bit word, so
# every layout is a byte swap and/or a shift or mask.

.function espcn_orc_unpack_rgbx
.dest 4 d guint32
.source 4 s guint8
andl d, s, 0x00ffffff

.function espcn_orc_unpack_bgrx
.dest 4 d guint32
.source 4 s guint8
.temp 4 t
swapl t, s
shrul d, t, 8

.function espcn_orc_unpack_xrgb
.dest 4 d guint32
.source 4 s guint8
shrul d, s, 8

.function espcn_orc_unpack_xbgr
.dest 4 d guint32
.source 4 s guint8
.temp 4 t
swapl t, s
andl d, t, 0x00ffffff

# Output stage: pack one output sub-row of the pixel shuffle into a 4-byte
# pixel layout.  2-D: a row of the ORC array is one LR pixel (m = width, source
# strides = conv3's channel stride, dest stride = 4 * s), an element is one of
# its s sub-pixels.  conv3's channels are packed (sub-row, colour,
# sub-column), so the R, G and B of the s sub-pixels are three runs of s
# bytes (espcn_shuffle_channel_order in frame.c).  The fourth byte (x or
# alpha) is read back from the frame and rewritten unchanged: the engine
# leaves bytes the layout does not name as they were.  Little-endian only
# (the merges build the word low byte first); the frame rows must be 4-byte
# aligned (frame-pack.h).
#
# No vectorisation across LR pixels is possible: conv3 rows are [x][out_cs],
# so the bytes of one sub-row and colour are s apart from each other but
# out_cs apart between LR pixels, and an ORC array is contiguous.  Each
# function is therefore repeated with a constant n = s (.n): with a variable
# n the per-row loop set-up made the 2-D kernels 1.6 to 2 times slower than
# the C loop (measured, s = 2..4, 320x180 frames).  With n compiled in, the
# best of 25 single-thread CPU times per 320x180 frame (RGBx, AVX2 machine,
# ORC's SSE target) were 0.62 ms against 0.82 ms in C at x4, 0.55 against
# 0.49 at x3 and 0.30 against 0.23 at x2: a gain at x4 (the presets' scale),
# a small loss at x2 and x3.

.function espcn_orc_shuffle2_rgbx
.flags 2d
.n 2
.dest 4 d guint8
.source 1 r guint8
.source 1 g guint8
.source 1 b guint8
.temp 2 half
.temp 1 x
.temp 2 lo
.temp 2 up
select1lw half, d
select1wb x, half
mergebw lo, r, g
mergebw up, b, x
mergewl d, lo, up

.function espcn_orc_shuffle2_bgrx
.flags 2d
.n 2
.dest 4 d guint8
.source 1 r guint8
.source 1 g guint8
.source 1 b guint8
.temp 2 half
.temp 1 x
.temp 2 lo
.temp 2 up
select1lw half, d
select1wb x, half
mergebw lo, b, g
mergebw up, r, x
mergewl d, lo, up

.function espcn_orc_shuffle2_xrgb
.flags 2d
.n 2
.dest 4 d guint8
.source 1 r guint8
.source 1 g guint8
.source 1 b guint8
.temp 2 half
.temp 1 x
.temp 2 lo
.temp 2 up
select0lw half, d
select0wb x, half
mergebw lo, x, r
mergebw up, g, b
mergewl d, lo, up

.function espcn_orc_shuffle2_xbgr
.flags 2d
.n 2
.dest 4 d guint8
.source 1 r guint8
.source 1 g guint8
.source 1 b guint8
.temp 2 half
.temp 1 x
.temp 2 lo
.temp 2 up
select0lw half, d
select0wb x, half
mergebw lo, x, b
mergebw up, g, r
mergewl d, lo, up

.function espcn_orc_shuffle3_rgbx
.flags 2d
.n 3
.dest 4 d guint8
.source 1 r guint8
.source 1 g guint8
.source 1 b guint8
.temp 2 half
.temp 1 x
.temp 2 lo
.temp 2 up
select1lw half, d
select1wb x, half
mergebw lo, r, g
mergebw up, b, x
mergewl d, lo, up

.function espcn_orc_shuffle3_bgrx
.flags 2d
.n 3
.dest 4 d guint8
.source 1 r guint8
.source 1 g guint8
.source 1 b guint8
.temp 2 half
.temp 1 x
.temp 2 lo
.temp 2 up
select1lw half, d
select1wb x, half
mergebw lo, b, g
mergebw up, r, x
mergewl d, lo, up

.function espcn_orc_shuffle3_xrgb
.flags 2d
.n 3
.dest 4 d guint8
.source 1 r guint8
.source 1 g guint8
.source 1 b guint8
.temp 2 half
.temp 1 x
.temp 2 lo
.temp 2 up
select0lw half, d
select0wb x, half
mergebw lo, x, r
mergebw up, g, b
mergewl d, lo, up

.function espcn_orc_shuffle3_xbgr
.flags 2d
.n 3
.dest 4 d guint8
.source 1 r guint8
.source 1 g guint8
.source 1 b guint8
.temp 2 half
.temp 1 x
.temp 2 lo
.temp 2 up
select0lw half, d
select0wb x, half
mergebw lo, x, b
mergebw up, g, r
mergewl d, lo, up

.function espcn_orc_shuffle4_rgbx
.flags 2d
.n 4
.dest 4 d guint8
.source 1 r guint8
.source 1 g guint8
.source 1 b guint8
.temp 2 half
.temp 1 x
.temp 2 lo
.temp 2 up
select1lw half, d
select1wb x, half
mergebw lo, r, g
mergebw up, b, x
mergewl d, lo, up

.function espcn_orc_shuffle4_bgrx
.flags 2d
.n 4
.dest 4 d guint8
.source 1 r guint8
.source 1 g guint8
.source 1 b guint8
.temp 2 half
.temp 1 x
.temp 2 lo
.temp 2 up
select1lw half, d
select1wb x, half
mergebw lo, b, g
mergebw up, r, x
mergewl d, lo, up

.function espcn_orc_shuffle4_xrgb
.flags 2d
.n 4
.dest 4 d guint8
.source 1 r guint8
.source 1 g guint8
.source 1 b guint8
.temp 2 half
.temp 1 x
.temp 2 lo
.temp 2 up
select0lw half, d
select0wb x, half
mergebw lo, x, r
mergebw up, g, b
mergewl d, lo, up

.function espcn_orc_shuffle4_xbgr
.flags 2d
.n 4
.dest 4 d guint8
.source 1 r guint8
.source 1 g guint8
.source 1 b guint8
.temp 2 half
.temp 1 x
.temp 2 lo
.temp 2 up
select0lw half, d
select0wb x, half
mergebw lo, x, b
mergebw up, g, r
mergewl d, lo, up

# Not here, on purpose:
#
# Requantize and clamp of conv3 (docs/integer-grid.md:
# y = clamp((acc * M[c] + 2^(sh[c]-1)) >> sh[c], 0, 255)).  The arithmetic
# alone is expressible exactly: mulslq is the 32x32->64 signed product, addq
# adds the rounding term, shrsq is the arithmetic shift, convsssql + maxsl +
# minsl clamp.  But an ORC shift takes its amount from a constant or a
# parameter, one value per call, and sh[c] (like M[c]) is per output channel
# while a conv3 row holds the channels interleaved ([x][out_cs]); ORC arrays
# are contiguous, so one call per channel cannot reach them either.  A 64-bit
# shift by a per-element amount has no ORC opcode, and turning it into a
# multiply by a per-channel power of two would need a product of the 64-bit
# sum, which ORC lacks (its widest multiply is mulslq, 32x32).  The lanes
# could also share one shift only by changing M, i.e. the model's grid, which
# is not an exact rewrite.  And there is no separate
# requantize pass to replace: the conv row kernels (core/engine/kernels*.c,
# x86/) requantize in registers and store the u8 bytes this stage reads.
#
# 3-byte layouts (RGB, BGR): an ORC element is 1, 2, 4 or 8 bytes, so a
# 3-byte pixel can neither be loaded nor stored as one, and the bytes of one
# colour sit 3 apart, which an ORC array (contiguous elements) cannot address.
# They stay in C.  The element's I420/NV12 path uses RGBx buffers for that
# reason; its YUV <-> RGBx conversion is in gst/espcn-yuv-orc.orc.
