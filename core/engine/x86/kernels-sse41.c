/* SSE4.1 convolution row kernels (built with -msse4.1, called only after a CPU
 * check), for x86-64 machines without AVX2.
 *
 * Same formulation and packed weights as the AVX2 kernels: activations
 * broadcast, output channels in lanes.  A block of 8 output channels is two
 * xmm of s32 accumulators (channels 0-3 and 4-7); one step broadcasts 4 input
 * bytes (4 taps of one pixel) to every dword lane and multiplies them with the
 * step's weights:
 *   U7S8: 32 weight bytes (2 xmm); pmaddubsw (u8 x s8 -> s16 pair sums; exact
 *         since activations are <= 127 and weights in [-127, 127], so a pair is
 *         at most 2 * 127 * 127 = 32258), pmaddwd with ones, paddd;
 *   WIDE: 64 weight bytes (4 xmm of s16 pairs); pshufb zero-extends the 4 bytes
 *         into two s16 pairs, then pmaddwd (exact: 255 * 4095 * 2 < 2^31), paddd.
 *
 * Overflow: s32 accumulation wraps modulo 2^32 and the model loader proves the
 * exact sum, and every partial sum, within int32, so the order of additions
 * does not matter; pmaddubsw, the only saturating instruction, is used only
 * under the u7 x s8 bound above (espcn_conv_pack()).
 *
 * Requantization is exactly requant.h.  A negative accumulator gives 0 whatever
 * M and shift are, so acc is clamped at 0 first; the 64-bit product and
 * rounding are done unsigned on even and odd lanes (pmuludq).  SSE has no
 * per-lane 64-bit shift, so each lane is shifted by its own count and the two
 * results blended.  The clamp to qmax is done on 32 bits (pminud) after any
 * result with a nonzero high half is saturated to 2^32 - 1 (SSE4.1 has no
 * 64-bit compare). */
#include "engine/kernels.h"
#include "engine/x86/row-kernel.h"
#include "engine/x86/shuffle-y.h"

#include <smmintrin.h>
#include <string.h>

#define ALWAYS_INLINE static inline __attribute__ ((always_inline))

ALWAYS_INLINE __m128i
bcast4 (const guint8 *p)
{
  gint32 v;
  memcpy (&v, p, 4);
  return _mm_set1_epi32 (v);
}

/* Each 64-bit lane of v shifted right by its own count c0 (lane 0), c1 (lane 1). */
ALWAYS_INLINE __m128i
srl2 (__m128i v, const gint64 *c0, const gint64 *c1)
{
  __m128i a = _mm_srl_epi64 (v, _mm_loadl_epi64 ((const __m128i *) c0));
  __m128i b = _mm_srl_epi64 (v, _mm_loadl_epi64 ((const __m128i *) c1));
  return _mm_blend_epi16 (a, b, 0xf0);
}

/* Requantize 4 accumulators: channels 4h .. 4h + 3 of block ob (h = 0, 1). */
ALWAYS_INLINE __m128i
requant4 (const EspcnConvPacked *p, int ob, int h, __m128i acc)
{
  const gint64 *rq = p->rq + (gsize) ob * 16;
  /* Block lanes 4h, 4h + 2 are even lanes 2h, 2h + 1 of rq; 4h + 1, 4h + 3 odd. */
  const gint64 *re = rq + 2 * h, *ro = rq + 4 + 2 * h, *se = rq + 8 + 2 * h, *so = rq + 12 + 2 * h;
  __m128i m = _mm_loadu_si128 ((const __m128i *) (p->mult + ob * ESPCN_OC_BLOCK + 4 * h));
  acc = _mm_max_epi32 (acc, _mm_setzero_si128 ());
  __m128i pe = _mm_mul_epu32 (acc, m);
  __m128i po = _mm_mul_epu32 (_mm_srli_epi64 (acc, 32), _mm_srli_epi64 (m, 32));
  /* acc < 2^31, M < 2^31, rounding <= 2^61: the sums stay below 2^63. */
  pe = _mm_add_epi64 (pe, _mm_load_si128 ((const __m128i *) re));
  po = _mm_add_epi64 (po, _mm_load_si128 ((const __m128i *) ro));
  __m128i ye = srl2 (pe, se, se + 1);
  __m128i yo = srl2 (po, so, so + 1);
  /* Dwords in channel order: low halves, and high halves (nonzero = too big). */
  __m128i lo = _mm_blend_epi16 (ye, _mm_slli_epi64 (yo, 32), 0xcc);
  __m128i hi = _mm_blend_epi16 (_mm_srli_epi64 (ye, 32), yo, 0xcc);
  __m128i big = _mm_xor_si128 (_mm_cmpeq_epi32 (hi, _mm_setzero_si128 ()), _mm_set1_epi32 (-1));
  return _mm_min_epu32 (_mm_or_si128 (lo, big), _mm_set1_epi32 (p->qmax));
}

/* Requantize the 8 accumulators of block ob and store them as 8 bytes. */
ALWAYS_INLINE void
requant_store (const EspcnConvPacked *p, int ob, __m128i acc0, __m128i acc1, guint8 *dst)
{
  __m128i y16 = _mm_packs_epi32 (requant4 (p, ob, 0, acc0), requant4 (p, ob, 1, acc1));  /* [0, 255] */
  _mm_storel_epi64 ((__m128i *) dst, _mm_packus_epi16 (y16, y16));
}

/* P pixels from x, blocks ob0 .. ob0 + OBB - 1. */
ALWAYS_INLINE void
u7s8_tile (const EspcnConvPacked *p, const guint8 *const *rows, int x, guint8 *dst, const int P, const int OBB,
           int ob0)
{
  const int cs = p->in_cs, k = p->k, steps = p->row_steps;
  const __m128i ones = _mm_set1_epi16 (1);
  __m128i acc[4][4][2];
  for (int b = 0; b < OBB; b++)
    for (int h = 0; h < 2; h++) {
      __m128i bias = _mm_loadu_si128 ((const __m128i *) (p->bias + (ob0 + b) * ESPCN_OC_BLOCK + 4 * h));
      for (int i = 0; i < P; i++)
        acc[i][b][h] = bias;
    }
  for (int ky = 0; ky < k; ky++) {
    const guint8 *src = rows[ky] + (gsize) x * cs;
    const guint8 *w[4];
    for (int b = 0; b < OBB; b++)
      w[b] = p->w + (ob0 + b) * p->ob_bytes + (gsize) ky * steps * 32;
    for (int t = 0; t < steps; t++) {
      __m128i wv[4][2];
      for (int b = 0; b < OBB; b++)
        for (int h = 0; h < 2; h++)
          wv[b][h] = _mm_load_si128 ((const __m128i *) (w[b] + (gsize) t * 32 + 16 * h));
      for (int i = 0; i < P; i++) {
        __m128i a = bcast4 (src + (gsize) i * cs + (gsize) t * 4);
        for (int b = 0; b < OBB; b++)
          for (int h = 0; h < 2; h++)
            acc[i][b][h] = _mm_add_epi32 (acc[i][b][h], _mm_madd_epi16 (_mm_maddubs_epi16 (a, wv[b][h]), ones));
      }
    }
  }
  for (int i = 0; i < P; i++)
    for (int b = 0; b < OBB; b++)
      requant_store (p, ob0 + b, acc[i][b][0], acc[i][b][1],
          dst + (gsize) (x + i) * p->out_cs + (gsize) (ob0 + b) * ESPCN_OC_BLOCK);
}

ALWAYS_INLINE void
wide_tile (const EspcnConvPacked *p, const guint8 *const *rows, int x, guint8 *dst, const int P, const int OBB,
           int ob0)
{
  const int cs = p->in_cs, k = p->k, steps = p->row_steps;
  /* Bytes 0,1 (then 2,3) of each dword, zero-extended to two s16. */
  const __m128i lo_pair = _mm_setr_epi8 (0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1);
  const __m128i hi_pair = _mm_setr_epi8 (2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1);
  __m128i acc[4][4][2];
  for (int b = 0; b < OBB; b++)
    for (int h = 0; h < 2; h++) {
      __m128i bias = _mm_loadu_si128 ((const __m128i *) (p->bias + (ob0 + b) * ESPCN_OC_BLOCK + 4 * h));
      for (int i = 0; i < P; i++)
        acc[i][b][h] = bias;
    }
  for (int ky = 0; ky < k; ky++) {
    const guint8 *src = rows[ky] + (gsize) x * cs;
    const guint8 *w[4];
    for (int b = 0; b < OBB; b++)
      w[b] = p->w + (ob0 + b) * p->ob_bytes + (gsize) ky * steps * 64;
    for (int t = 0; t < steps; t++) {
      /* wv[b][pair][h]: taps 2 * pair, 2 * pair + 1 for channels 4h .. 4h + 3. */
      __m128i wv[4][2][2];
      for (int b = 0; b < OBB; b++)
        for (int q = 0; q < 2; q++)
          for (int h = 0; h < 2; h++)
            wv[b][q][h] = _mm_load_si128 ((const __m128i *) (w[b] + (gsize) t * 64 + 32 * q + 16 * h));
      for (int i = 0; i < P; i++) {
        __m128i a = bcast4 (src + (gsize) i * cs + (gsize) t * 4);
        __m128i a0 = _mm_shuffle_epi8 (a, lo_pair), a1 = _mm_shuffle_epi8 (a, hi_pair);
        for (int b = 0; b < OBB; b++)
          for (int h = 0; h < 2; h++)
            acc[i][b][h] = _mm_add_epi32 (acc[i][b][h],
                _mm_add_epi32 (_mm_madd_epi16 (a0, wv[b][0][h]), _mm_madd_epi16 (a1, wv[b][1][h])));
      }
    }
  }
  for (int i = 0; i < P; i++)
    for (int b = 0; b < OBB; b++)
      requant_store (p, ob0 + b, acc[i][b][0], acc[i][b][1],
          dst + (gsize) (x + i) * p->out_cs + (gsize) (ob0 + b) * ESPCN_OC_BLOCK);
}

/* Tile shapes (pixels x blocks of 8 channels): 16 xmm registers hold the
 * accumulators (2 per pixel and block), the broadcast and the constants; the
 * weights are read as memory operands.  Of 2x2, 2x3, 3x1, 3x2, 4x1, 1x4 (u7s8)
 * and 1x2, 1x3, 2x1, 2x2, 3x1, 3x2, 4x1 (wide), on the x4 F=64 layer shapes
 * (AMD EPYC, busy shared machine), 2x2 was as fast as any within noise for
 * both kinds; 2x2 beat 2x1 by about 7% on conv1 (wide). */
#define U7S8_P 2
#define U7S8_OBB 2
#define WIDE_P 2
#define WIDE_OBB 2
ROW_KERNEL (conv_row_u7s8_sse41, u7s8_tile, U7S8_P, U7S8_OBB)
ROW_KERNEL (conv_row_wide_sse41, wide_tile, WIDE_P, WIDE_OBB)

void
espcn_kernels_init_sse41 (EspcnKernels *k)
{
  k->name = "sse41";
  k->conv_row[ESPCN_CONV_U7S8] = conv_row_u7s8_sse41;
  k->conv_row[ESPCN_CONV_WIDE] = conv_row_wide_sse41;
  k->shuffle_y = shuffle_y_x86;
}
