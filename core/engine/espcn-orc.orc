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
