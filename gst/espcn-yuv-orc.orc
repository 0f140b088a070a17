# espcn-gst ORC kernels for the element's 8-bit 4:2:0 YUV <-> RGBx conversion
# (gst/espcn-yuv.c holds the plain C reference these must match bit for bit).
#
# The RGBx intermediates are 4-byte pixels [R, G, B, 0xff], one little-endian
# 32-bit word each (little-endian only: the merges build words low byte
# first; espcn-yuv.c uses the C code on big-endian hosts).  Arithmetic is the
# reference's 16-bit fixed point on 32-bit lanes: every product and sum below
# fits in 32 signed bits (bounds next to each function), so the results are
# exact, not approximations.
#
# Kept in C, on purpose:
# - the chroma of a block with only one row (odd frame height, last chroma
#   row) or one column (odd width, last chroma sample), and the last pixel of
#   an odd-width row on the YUV -> RGBx side: ORC works on whole elements (a
#   pixel pair or a 2x2 block), and these divide by 2 or 1 instead of 4; one
#   more ORC function per case would cover a column or a row at most.
# - the horizontal chroma replication on the input side is ORC
#   (espcn_yuv_orc_dup / _split_dup, into a row buffer): a per-pixel function
#   then reads Y, U and V at the same index.  Reading U and V at x / 2 directly
#   is not expressible: ORC arrays advance by one element per element.

# Chroma replication: each sample twice (I420's U or V row).
.function espcn_yuv_orc_dup
.dest 2 d guint8
.source 1 s guint8
mergebw d, s, s

# NV12's interleaved UV row: U and V split into two rows, each sample twice.
.function espcn_yuv_orc_split_dup
.dest 2 du guint8
.dest 2 dv guint8
.source 2 uv guint8
.temp 1 u
.temp 1 v
splitwb v, u, uv
mergebw du, u, u
mergebw dv, v, v

# YUV -> RGBx, one pixel per element, U and V already replicated:
#   yy = y_mul * (Y - y_off) + 2^15
#   R = clamp ((yy + v_r * (V - 128)) >> 16), G with u_g and v_g, B with u_b.
# |y_mul * (Y - y_off)| <= 2^17 * 255 and each chroma product <= 2^18 * 128
# (coefficients below 2^18: 255 / 219 and 2 * 255 / 224 at most), so the sums
# stay far inside 32 bits.  shrsl is the reference's arithmetic (floor)
# shift; convssslw then convsuswb clamp to 0..255 exactly like clamp_u8.
.function espcn_yuv_orc_to_rgbx
.dest 4 d guint8
.source 1 y guint8
.source 1 u guint8
.source 1 v guint8
.param 4 y_off
.param 4 y_mul
.param 4 v_r
.param 4 u_g
.param 4 v_g
.param 4 u_b
.temp 2 w
.temp 4 yy
.temp 4 cu
.temp 4 cv
.temp 4 t
.temp 4 t2
.temp 1 r
.temp 1 g
.temp 1 b
.temp 2 rg
.temp 2 bx
convubw w, y
convuwl yy, w
subl yy, yy, y_off
mulll yy, yy, y_mul
addl yy, yy, 32768
convubw w, u
subw w, w, 128
convswl cu, w
convubw w, v
subw w, w, 128
convswl cv, w
mulll t, cv, v_r
addl t, t, yy
shrsl t, t, 16
convssslw w, t
convsuswb r, w
mulll t, cu, u_g
mulll t2, cv, v_g
addl t, t, t2
addl t, t, yy
shrsl t, t, 16
convssslw w, t
convsuswb g, w
mulll t, cu, u_b
addl t, t, yy
shrsl t, t, 16
convssslw w, t
convsuswb b, w
mergebw rg, r, g
mergebw bx, b, 255
mergewl d, rg, bx

# RGBx -> Y, one pixel per element:
#   Y = clamp (y_off + ((yr * R + yg * G + yb * B + 2^15) >> 16)).
# The caller checks yr, yg, yb in 0..65535 and y_off in 0..255, so muluwl
# (16 x 16 -> 32 unsigned) is the exact product, the sum is below
# 3 * 255 * 2^16 and its shift below 2^10: the 16-bit add and the saturating
# narrowing are the reference's clamp.  The x byte is never read.
.function espcn_yuv_orc_rgbx_to_y
.dest 1 d guint8
.source 4 p guint8
.param 2 yr
.param 2 yg
.param 2 yb
.param 2 y_off
.temp 8 q
.temp 4 lo
.temp 4 hi
.temp 2 c
.temp 2 x
.temp 4 t
.temp 4 s
.temp 2 w
x4 convubw q, p
splitql hi, lo, q
splitlw c, x, lo
muluwl s, x, yr
muluwl t, c, yg
addl s, s, t
splitlw x, c, hi
muluwl t, c, yb
addl s, s, t
addl s, s, 32768
shrsl s, s, 16
convlw w, s
addw w, w, y_off
convsuswb d, w

# RGBx -> U and V of full 2x2 blocks: a and b are the block's two rows, one
# element a pixel pair.  The block sums (<= 1020 each) are 16-bit adds of the
# widened bytes; then, as the reference's chroma_div with n = 4,
#   U = clamp ((2^25 + ur * R + ug * G + ub * B + 2^17) >> 18)
# (2^25 = 128 * 4 << 16).  |coefficient| <= 2^15 + rounding and the three
# coefficients' magnitudes add to at most 2^16 + 2, so |sum| < 2^27: exact in
# 32 bits.  A negative sum, which the reference clamps to 0, shifts to a
# value <= 0 here, which the saturating narrowing also makes 0.
.function espcn_yuv_orc_rgbx_to_uv_i420
.dest 1 du guint8
.dest 1 dv guint8
.source 8 a guint8
.source 8 b guint8
.param 4 ur
.param 4 ug
.param 4 ub
.param 4 vr
.param 4 vg
.param 4 vb
.temp 4 p0
.temp 4 p1
.temp 8 w
.temp 8 sum
.temp 4 lo
.temp 4 hi
.temp 2 c
.temp 2 x
.temp 4 r
.temp 4 g
.temp 4 bl
.temp 4 t
.temp 4 t2
.temp 2 n
splitql p1, p0, a
x4 convubw sum, p0
x4 convubw w, p1
x4 addw sum, sum, w
splitql p1, p0, b
x4 convubw w, p0
x4 addw sum, sum, w
x4 convubw w, p1
x4 addw sum, sum, w
splitql hi, lo, sum
splitlw c, x, lo
convuwl r, x
convuwl g, c
splitlw x, c, hi
convuwl bl, c
mulll t, r, ur
mulll t2, g, ug
addl t, t, t2
mulll t2, bl, ub
addl t, t, t2
addl t, t, 33685504
shrsl t, t, 18
convssslw n, t
convsuswb du, n
mulll t, r, vr
mulll t2, g, vg
addl t, t, t2
mulll t2, bl, vb
addl t, t, t2
addl t, t, 33685504
shrsl t, t, 18
convssslw n, t
convsuswb dv, n

# The same for NV12: U and V interleaved in one 2-byte element.
.function espcn_yuv_orc_rgbx_to_uv_nv12
.dest 2 duv guint8
.source 8 a guint8
.source 8 b guint8
.param 4 ur
.param 4 ug
.param 4 ub
.param 4 vr
.param 4 vg
.param 4 vb
.temp 4 p0
.temp 4 p1
.temp 8 w
.temp 8 sum
.temp 4 lo
.temp 4 hi
.temp 2 c
.temp 2 x
.temp 4 r
.temp 4 g
.temp 4 bl
.temp 4 t
.temp 4 t2
.temp 2 n
.temp 1 u
.temp 1 v
splitql p1, p0, a
x4 convubw sum, p0
x4 convubw w, p1
x4 addw sum, sum, w
splitql p1, p0, b
x4 convubw w, p0
x4 addw sum, sum, w
x4 convubw w, p1
x4 addw sum, sum, w
splitql hi, lo, sum
splitlw c, x, lo
convuwl r, x
convuwl g, c
splitlw x, c, hi
convuwl bl, c
mulll t, r, ur
mulll t2, g, ug
addl t, t, t2
mulll t2, bl, ub
addl t, t, t2
addl t, t, 33685504
shrsl t, t, 18
convssslw n, t
convsuswb u, n
mulll t, r, vr
mulll t2, g, vg
addl t, t, t2
mulll t2, bl, vb
addl t, t, t2
addl t, t, 33685504
shrsl t, t, 18
convssslw n, t
convsuswb v, n
mergebw duv, u, v
