/* NEON (AArch64 Advanced SIMD) convolution row kernels.  NEON is part of the
 * AArch64 base architecture, so no flag and no run-time check is needed.
 *
 * Formulation: as in the AVX2 kernels, 4 input bytes (4 taps of one pixel)
 * are broadcast and multiplied with the packed weights of 8 output channels;
 * the sums are kept split by tap and folded into one s32 per channel only
 * when the pixel is done (vpaddq), so the inner loop has no horizontal adds:
 *   U7S8: vmull_s8 / vmlal_s8 of two 4-tap steps into s16 (a lane holds at
 *         most 2 products: 2 * 127 * 127 = 32258, so it cannot wrap; the
 *         activations are <= 127, so reading them as s8 is exact), then
 *         vpadalq_s16 into s32 accumulators [oc t01, oc t23] per channel;
 *   WIDE: the bytes zero-extended to s16 and vmlal_s16 with the s16 weights
 *         into s32 accumulators [oc t0, oc t1] per channel (exact).
 * Overflow: the s32 additions wrap modulo 2^32 and the model loader proves the
 * exact sum within int32, so the order of additions and the split into
 * partial sums do not change the result; no instruction saturates.
 *
 * Requantization is exactly requant.h: a negative accumulator gives 0 whatever
 * M and shift are, so acc is clamped at 0 first; the product is unsigned 64-bit
 * (vmull_u32), vrshlq_u64 by -shift adds 2^(shift-1) and shifts (without
 * overflow), vqmovn_u64 and vminq_u32 clamp to qmax. */
#include "engine/kernels.h"

#include <arm_neon.h>
#include <string.h>

#define ALWAYS_INLINE static inline __attribute__ ((always_inline))

/* Pixels per tile in the main loop: 4 pixels x 4 accumulators + 4 weight
 * vectors + the products stay within the 32 vector registers. */
#define NEON_P 4

ALWAYS_INLINE uint8x16_t
bcast4 (const guint8 *p)
{
  guint32 v;
  memcpy (&v, p, 4);
  return vreinterpretq_u8_u32 (vdupq_n_u32 (v));
}

/* acc[0..3] hold two partial sums per channel for channels (0,1), (2,3),
 * (4,5), (6,7) of block ob: fold them, add the bias, requantize, store 8 bytes. */
ALWAYS_INLINE void
finish_store (const EspcnConvPacked *p, int ob, const int32x4_t acc[4], guint8 *dst)
{
  const int j0 = ob * ESPCN_OC_BLOCK;
  const uint32x4_t qmax = vdupq_n_u32 ((guint32) p->qmax);
  int32x4_t s[2] = { vpaddq_s32 (acc[0], acc[1]), vpaddq_s32 (acc[2], acc[3]) };
  uint16x4_t y16[2];
  for (int h = 0; h < 2; h++) {
    int32x4_t a = vaddq_s32 (s[h], vld1q_s32 (p->bias + j0 + 4 * h));
    uint32x4_t u = vreinterpretq_u32_s32 (vmaxq_s32 (a, vdupq_n_s32 (0)));
    uint32x4_t m = vreinterpretq_u32_s32 (vld1q_s32 (p->mult + j0 + 4 * h));
    int32x4_t nsh = vnegq_s32 (vld1q_s32 (p->shift + j0 + 4 * h));
    /* acc < 2^31, M < 2^31: the products are below 2^62. */
    uint64x2_t lo = vrshlq_u64 (vmull_u32 (vget_low_u32 (u), vget_low_u32 (m)), vmovl_s32 (vget_low_s32 (nsh)));
    uint64x2_t hi = vrshlq_u64 (vmull_high_u32 (u, m), vmovl_high_s32 (nsh));
    uint32x4_t y = vminq_u32 (vcombine_u32 (vqmovn_u64 (lo), vqmovn_u64 (hi)), qmax);
    y16[h] = vmovn_u32 (y);
  }
  vst1_u8 (dst, vmovn_u16 (vcombine_u16 (y16[0], y16[1])));
}

/* P pixels from x, block ob. */
ALWAYS_INLINE void
u7s8_tile (const EspcnConvPacked *p, const guint8 *const *rows, int x, guint8 *dst, const int P, int ob)
{
  const int cs = p->in_cs, k = p->k, steps = p->row_steps;
  int32x4_t acc[NEON_P][4];
  for (int i = 0; i < P; i++)
    for (int q = 0; q < 4; q++)
      acc[i][q] = vdupq_n_s32 (0);
  for (int ky = 0; ky < k; ky++) {
    const guint8 *src = rows[ky] + (gsize) x * cs;
    const gint8 *w = (const gint8 *) (p->w + ob * p->ob_bytes + (gsize) ky * steps * 32);
    int t = 0;
    for (; t + 2 <= steps; t += 2) {
      int8x16_t w0 = vld1q_s8 (w + (gsize) t * 32), w1 = vld1q_s8 (w + (gsize) t * 32 + 16);
      int8x16_t w2 = vld1q_s8 (w + (gsize) t * 32 + 32), w3 = vld1q_s8 (w + (gsize) t * 32 + 48);
      for (int i = 0; i < P; i++) {
        int8x16_t a = vreinterpretq_s8_u8 (bcast4 (src + (gsize) i * cs + (gsize) t * 4));
        int8x16_t b = vreinterpretq_s8_u8 (bcast4 (src + (gsize) i * cs + (gsize) t * 4 + 4));
        int16x8_t m0 = vmlal_s8 (vmull_s8 (vget_low_s8 (w0), vget_low_s8 (a)), vget_low_s8 (w2), vget_low_s8 (b));
        int16x8_t m1 = vmlal_high_s8 (vmull_high_s8 (w0, a), w2, b);
        int16x8_t m2 = vmlal_s8 (vmull_s8 (vget_low_s8 (w1), vget_low_s8 (a)), vget_low_s8 (w3), vget_low_s8 (b));
        int16x8_t m3 = vmlal_high_s8 (vmull_high_s8 (w1, a), w3, b);
        acc[i][0] = vpadalq_s16 (acc[i][0], m0);
        acc[i][1] = vpadalq_s16 (acc[i][1], m1);
        acc[i][2] = vpadalq_s16 (acc[i][2], m2);
        acc[i][3] = vpadalq_s16 (acc[i][3], m3);
      }
    }
    if (t < steps) {
      int8x16_t w0 = vld1q_s8 (w + (gsize) t * 32), w1 = vld1q_s8 (w + (gsize) t * 32 + 16);
      for (int i = 0; i < P; i++) {
        int8x16_t a = vreinterpretq_s8_u8 (bcast4 (src + (gsize) i * cs + (gsize) t * 4));
        acc[i][0] = vpadalq_s16 (acc[i][0], vmull_s8 (vget_low_s8 (w0), vget_low_s8 (a)));
        acc[i][1] = vpadalq_s16 (acc[i][1], vmull_high_s8 (w0, a));
        acc[i][2] = vpadalq_s16 (acc[i][2], vmull_s8 (vget_low_s8 (w1), vget_low_s8 (a)));
        acc[i][3] = vpadalq_s16 (acc[i][3], vmull_high_s8 (w1, a));
      }
    }
  }
  for (int i = 0; i < P; i++)
    finish_store (p, ob, acc[i], dst + (gsize) (x + i) * p->out_cs + (gsize) ob * ESPCN_OC_BLOCK);
}

ALWAYS_INLINE void
wide_tile (const EspcnConvPacked *p, const guint8 *const *rows, int x, guint8 *dst, const int P, int ob)
{
  const int cs = p->in_cs, k = p->k, steps = p->row_steps;
  int32x4_t acc[NEON_P][4];
  for (int i = 0; i < P; i++)
    for (int q = 0; q < 4; q++)
      acc[i][q] = vdupq_n_s32 (0);
  for (int ky = 0; ky < k; ky++) {
    const guint8 *src = rows[ky] + (gsize) x * cs;
    /* Per 4-tap step: taps (0,1) of channels 0-3, 4-7, then taps (2,3). */
    const gint16 *w = (const gint16 *) (p->w + ob * p->ob_bytes) + (gsize) ky * steps * 32;
    for (int t = 0; t < steps; t++) {
      int16x8_t w0 = vld1q_s16 (w + (gsize) t * 32), w1 = vld1q_s16 (w + (gsize) t * 32 + 8);
      int16x8_t w2 = vld1q_s16 (w + (gsize) t * 32 + 16), w3 = vld1q_s16 (w + (gsize) t * 32 + 24);
      for (int i = 0; i < P; i++) {
        /* [a0 a1 a2 a3 a0 a1 a2 a3] as u16, then pairs (a0, a1) and (a2, a3) repeated. */
        uint16x8_t a = vmovl_u8 (vget_low_u8 (bcast4 (src + (gsize) i * cs + (gsize) t * 4)));
        int16x8_t a01 = vreinterpretq_s16_u32 (vdupq_laneq_u32 (vreinterpretq_u32_u16 (a), 0));
        int16x8_t a23 = vreinterpretq_s16_u32 (vdupq_laneq_u32 (vreinterpretq_u32_u16 (a), 1));
        acc[i][0] = vmlal_s16 (acc[i][0], vget_low_s16 (w0), vget_low_s16 (a01));
        acc[i][1] = vmlal_high_s16 (acc[i][1], w0, a01);
        acc[i][2] = vmlal_s16 (acc[i][2], vget_low_s16 (w1), vget_low_s16 (a01));
        acc[i][3] = vmlal_high_s16 (acc[i][3], w1, a01);
        acc[i][0] = vmlal_s16 (acc[i][0], vget_low_s16 (w2), vget_low_s16 (a23));
        acc[i][1] = vmlal_high_s16 (acc[i][1], w2, a23);
        acc[i][2] = vmlal_s16 (acc[i][2], vget_low_s16 (w3), vget_low_s16 (a23));
        acc[i][3] = vmlal_high_s16 (acc[i][3], w3, a23);
      }
    }
  }
  for (int i = 0; i < P; i++)
    finish_store (p, ob, acc[i], dst + (gsize) (x + i) * p->out_cs + (gsize) ob * ESPCN_OC_BLOCK);
}

/* Pixel-outer: one pixel group's input window stays in L1 while every block
 * of output channels is computed. */
#define ROW_KERNEL(name, tile)                                                                            \
  static void name (const EspcnConvPacked *p, const guint8 *const *rows, int width, guint8 *dst)          \
  {                                                                                                       \
    int x = 0;                                                                                            \
    for (; x + NEON_P <= width; x += NEON_P)                                                              \
      for (int ob = 0; ob < p->n_ob; ob++)                                                                \
        tile (p, rows, x, dst, NEON_P, ob);                                                               \
    for (; x < width; x++)                                                                                \
      for (int ob = 0; ob < p->n_ob; ob++)                                                                \
        tile (p, rows, x, dst, 1, ob);                                                                    \
  }

/* The luma output stage.  x4: a conv3 row holds 16 bytes per LR pixel,
 * sub-rows 0..3 of 4 bytes; vld4q_u32 de-interleaves four pixels into the four
 * output rows.  x2: 8 bytes per pixel, sub-rows of 2 bytes then 4 padding
 * bytes; vld4q_u16 de-interleaves eight pixels.  x3 and the last pixels of a
 * row: the plain C loop. */
static void
shuffle_y_neon (const guint8 *c3, int cs, int width, int s, guint8 *out, gsize out_stride)
{
  int x = 0;
  if (s == 4 && cs == 16) {
    for (; x + 4 <= width; x += 4) {
      uint32x4x4_t v = vld4q_u32 ((const guint32 *) (const void *) (c3 + (gsize) x * 16));
      guint8 *dst = out + (gsize) x * 4;
      for (int i = 0; i < 4; i++)
        vst1q_u8 (dst + i * out_stride, vreinterpretq_u8_u32 (v.val[i]));
    }
  } else if (s == 2 && cs == 8) {
    for (; x + 8 <= width; x += 8) {
      uint16x8x4_t v = vld4q_u16 ((const guint16 *) (const void *) (c3 + (gsize) x * 8));
      guint8 *dst = out + (gsize) x * 2;
      vst1q_u8 (dst, vreinterpretq_u8_u16 (v.val[0]));
      vst1q_u8 (dst + out_stride, vreinterpretq_u8_u16 (v.val[1]));
    }
  }
  if (x < width)
    espcn_shuffle_y_c (c3 + (gsize) x * cs, cs, width - x, s, out + (gsize) x * s, out_stride);
}

ROW_KERNEL (conv_row_u7s8_neon, u7s8_tile)
ROW_KERNEL (conv_row_wide_neon, wide_tile)

void
espcn_kernels_init_neon (EspcnKernels *k)
{
  k->name = "neon";
  k->conv_row[ESPCN_CONV_U7S8] = conv_row_u7s8_neon;
  k->conv_row[ESPCN_CONV_WIDE] = conv_row_wide_neon;
  k->shuffle_y = shuffle_y_neon;
}
