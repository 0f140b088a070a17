/* AVX2 convolution row kernels (built with -mavx2 -mfma, called only after a
 * CPU check).
 *
 * Formulation: activations broadcast, output channels in lanes.  One step
 * broadcasts 4 input bytes (4 taps of one pixel) to every dword lane and
 * multiplies them with 32 weight bytes = 8 output channels x 4 taps:
 *   U7S8: vpmaddubsw (u8 x s8 -> s16 pair sums; exact since a pair is at most
 *         2 * 127 * 127 = 32258), vpmaddwd with ones (-> s32 sums of 4), vpaddd;
 *   WIDE: vpshufb zero-extends the 4 bytes into two s16 pairs, then two
 *         vpmaddwd with s16 weights (exact: 255 * 4095 * 2 < 2^31) and vpaddd.
 * Register blocking: P pixels x OBB blocks of 8 output channels stay in ymm
 * accumulators (4 x 2 = 8 in the main loop), so each step costs OBB weight
 * loads and P broadcasts for P * OBB multiply chains.
 *
 * Overflow: s32 accumulation wraps modulo 2^32 and the model loader proves the
 * exact sum, and every partial sum, within int32, so no order of additions
 * changes the result; the only saturating instruction is vpmaddubsw, used only
 * when inputs are <= 127 and weights in [-127, 127] (espcn_conv_pack()).
 *
 * Requantization is exactly requant.h: a negative accumulator gives 0 whatever
 * M and shift are (y = round(acc * M / 2^sh) <= 0), so acc is clamped at 0 first
 * and the 64-bit product, rounding and shift are done unsigned on even and odd
 * lanes (vpmuludq, vpsrlvq), then clamped to qmax. */
#include "engine/kernels.h"
#include "engine/x86/row-kernel.h"
#include "engine/x86/shuffle-y.h"

#include <immintrin.h>
#include <string.h>

#define ALWAYS_INLINE static inline __attribute__ ((always_inline))

ALWAYS_INLINE __m256i
bcast4 (const guint8 *p)
{
  gint32 v;
  memcpy (&v, p, 4);
  return _mm256_set1_epi32 (v);
}

/* Requantize 8 accumulators of block ob and store them as 8 bytes. */
ALWAYS_INLINE void
requant_store (const EspcnConvPacked *p, int ob, __m256i acc, guint8 *dst)
{
  const gint64 *rq = p->rq + (gsize) ob * 16;
  __m256i qmax = _mm256_set1_epi64x (p->qmax);
  __m256i m = _mm256_loadu_si256 ((const __m256i *) (p->mult + ob * ESPCN_OC_BLOCK));
  acc = _mm256_max_epi32 (acc, _mm256_setzero_si256 ());
  __m256i pe = _mm256_mul_epu32 (acc, m);
  __m256i po = _mm256_mul_epu32 (_mm256_srli_epi64 (acc, 32), _mm256_srli_epi64 (m, 32));
  /* acc < 2^31, M < 2^31, rounding <= 2^61: the sums stay below 2^63. */
  pe = _mm256_add_epi64 (pe, _mm256_load_si256 ((const __m256i *) rq));
  po = _mm256_add_epi64 (po, _mm256_load_si256 ((const __m256i *) (rq + 4)));
  __m256i ye = _mm256_srlv_epi64 (pe, _mm256_load_si256 ((const __m256i *) (rq + 8)));
  __m256i yo = _mm256_srlv_epi64 (po, _mm256_load_si256 ((const __m256i *) (rq + 12)));
  ye = _mm256_blendv_epi8 (ye, qmax, _mm256_cmpgt_epi64 (ye, qmax));
  yo = _mm256_blendv_epi8 (yo, qmax, _mm256_cmpgt_epi64 (yo, qmax));
  __m256i y = _mm256_or_si256 (ye, _mm256_slli_epi64 (yo, 32));   /* 8 x s32 in [0, 255] */
  __m256i y16 = _mm256_packs_epi32 (y, y);
  __m256i y8 = _mm256_packus_epi16 (y16, y16);
  gint32 lo = _mm_cvtsi128_si32 (_mm256_castsi256_si128 (y8));
  gint32 hi = _mm_cvtsi128_si32 (_mm256_extracti128_si256 (y8, 1));
  memcpy (dst, &lo, 4);
  memcpy (dst + 4, &hi, 4);
}

/* P pixels from x, blocks ob0 .. ob0 + OBB - 1. */
ALWAYS_INLINE void
u7s8_tile (const EspcnConvPacked *p, const guint8 *const *rows, int x, guint8 *dst, const int P, const int OBB,
           int ob0)
{
  const int cs = p->in_cs, k = p->k, steps = p->row_steps;
  const __m256i ones = _mm256_set1_epi16 (1);
  __m256i acc[4][4];
  for (int b = 0; b < OBB; b++) {
    __m256i bias = _mm256_loadu_si256 ((const __m256i *) (p->bias + (ob0 + b) * ESPCN_OC_BLOCK));
    for (int i = 0; i < P; i++)
      acc[i][b] = bias;
  }
  for (int ky = 0; ky < k; ky++) {
    const guint8 *src = rows[ky] + (gsize) x * cs;
    const guint8 *w[4];
    for (int b = 0; b < OBB; b++)
      w[b] = p->w + (ob0 + b) * p->ob_bytes + (gsize) ky * steps * 32;
    for (int t = 0; t < steps; t++) {
      __m256i wv[4];
      for (int b = 0; b < OBB; b++)
        wv[b] = _mm256_load_si256 ((const __m256i *) (w[b] + (gsize) t * 32));
      for (int i = 0; i < P; i++) {
        __m256i a = bcast4 (src + (gsize) i * cs + (gsize) t * 4);
        for (int b = 0; b < OBB; b++)
          acc[i][b] = _mm256_add_epi32 (acc[i][b], _mm256_madd_epi16 (_mm256_maddubs_epi16 (a, wv[b]), ones));
      }
    }
  }
  for (int i = 0; i < P; i++)
    for (int b = 0; b < OBB; b++)
      requant_store (p, ob0 + b, acc[i][b], dst + (gsize) (x + i) * p->out_cs + (gsize) (ob0 + b) * ESPCN_OC_BLOCK);
}

ALWAYS_INLINE void
wide_tile (const EspcnConvPacked *p, const guint8 *const *rows, int x, guint8 *dst, const int P, const int OBB,
           int ob0)
{
  const int cs = p->in_cs, k = p->k, steps = p->row_steps;
  /* Bytes 0,1 (then 2,3) of each dword, zero-extended to two s16. */
  const __m256i lo_pair = _mm256_setr_epi8 (0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1,
      0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1);
  const __m256i hi_pair = _mm256_setr_epi8 (2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1,
      2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1);
  __m256i acc[4][4];
  for (int b = 0; b < OBB; b++) {
    __m256i bias = _mm256_loadu_si256 ((const __m256i *) (p->bias + (ob0 + b) * ESPCN_OC_BLOCK));
    for (int i = 0; i < P; i++)
      acc[i][b] = bias;
  }
  for (int ky = 0; ky < k; ky++) {
    const guint8 *src = rows[ky] + (gsize) x * cs;
    const guint8 *w[4];
    for (int b = 0; b < OBB; b++)
      w[b] = p->w + (ob0 + b) * p->ob_bytes + (gsize) ky * steps * 64;
    for (int t = 0; t < steps; t++) {
      __m256i w0[4], w1[4];
      for (int b = 0; b < OBB; b++) {
        w0[b] = _mm256_load_si256 ((const __m256i *) (w[b] + (gsize) t * 64));
        w1[b] = _mm256_load_si256 ((const __m256i *) (w[b] + (gsize) t * 64 + 32));
      }
      for (int i = 0; i < P; i++) {
        __m256i a = bcast4 (src + (gsize) i * cs + (gsize) t * 4);
        __m256i a0 = _mm256_shuffle_epi8 (a, lo_pair), a1 = _mm256_shuffle_epi8 (a, hi_pair);
        for (int b = 0; b < OBB; b++)
          acc[i][b] = _mm256_add_epi32 (acc[i][b],
              _mm256_add_epi32 (_mm256_madd_epi16 (a0, w0[b]), _mm256_madd_epi16 (a1, w1[b])));
      }
    }
  }
  for (int i = 0; i < P; i++)
    for (int b = 0; b < OBB; b++)
      requant_store (p, ob0 + b, acc[i][b], dst + (gsize) (x + i) * p->out_cs + (gsize) (ob0 + b) * ESPCN_OC_BLOCK);
}

/* Tile shapes: of 4x2, 2x4, 3x3, 3x4, 4x4 and 1x4 (pixels x blocks), 4x2 was
 * fastest on every layer of the x4 F=64 model (AMD EPYC, AVX2): 8 accumulators,
 * 2 weight vectors, no spills. */
#define U7S8_P 4
#define U7S8_OBB 2
#define WIDE_P 4
#define WIDE_OBB 2
ROW_KERNEL (conv_row_u7s8_avx2, u7s8_tile, U7S8_P, U7S8_OBB)
ROW_KERNEL (conv_row_wide_avx2, wide_tile, WIDE_P, WIDE_OBB)

void
espcn_kernels_init_avx2 (EspcnKernels *k)
{
  k->name = "avx2";
  k->conv_row[ESPCN_CONV_U7S8] = conv_row_u7s8_avx2;
  k->conv_row[ESPCN_CONV_WIDE] = conv_row_wide_avx2;
  k->shuffle_y = shuffle_y_x86;
}
