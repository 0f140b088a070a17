/* espcn-gst: the luma output stage on x86 (SSSE3 and up; not installed),
 * EspcnKernels.shuffle_y for the SSE4.1 and AVX2 tables, included by both
 * kernel files so it is compiled with each one's flags.
 *
 * x4: a conv3 row holds 16 bytes per LR pixel, sub-rows 0..3 of 4 bytes each;
 * four pixels are a 4x4 transpose of dwords, giving 16 bytes of each output
 * row.  x2: 8 bytes per pixel (sub-rows of 2 bytes, then 4 padding bytes);
 * pshufb gathers two pixels' sub-rows into dwords and the same transpose of
 * four registers gives 16 bytes of each of the 2 output rows.  x3 and the
 * last pixels of a row: the plain C loop. */
#pragma once

#include "engine/kernels.h"

#include <tmmintrin.h>

static inline void
shuffle_y_x86 (const guint8 *c3, int cs, int width, int s, guint8 *out, gsize out_stride)
{
  int x = 0;
  if (s == 4 && cs == 16) {
    for (; x + 4 <= width; x += 4) {
      const guint8 *src = c3 + (gsize) x * 16;
      __m128i p0 = _mm_loadu_si128 ((const __m128i *) src), p1 = _mm_loadu_si128 ((const __m128i *) (src + 16));
      __m128i p2 = _mm_loadu_si128 ((const __m128i *) (src + 32)), p3 = _mm_loadu_si128 ((const __m128i *) (src + 48));
      __m128i t0 = _mm_unpacklo_epi32 (p0, p1), t1 = _mm_unpacklo_epi32 (p2, p3);
      __m128i t2 = _mm_unpackhi_epi32 (p0, p1), t3 = _mm_unpackhi_epi32 (p2, p3);
      guint8 *dst = out + (gsize) x * 4;
      _mm_storeu_si128 ((__m128i *) dst, _mm_unpacklo_epi64 (t0, t1));
      _mm_storeu_si128 ((__m128i *) (dst + out_stride), _mm_unpackhi_epi64 (t0, t1));
      _mm_storeu_si128 ((__m128i *) (dst + 2 * out_stride), _mm_unpacklo_epi64 (t2, t3));
      _mm_storeu_si128 ((__m128i *) (dst + 3 * out_stride), _mm_unpackhi_epi64 (t2, t3));
    }
  } else if (s == 2 && cs == 8) {
    /* [a0 a1 b0 b1 | a2 a3 b2 b3 | 0...]: sub-row 0, then 1, of the two pixels. */
    const __m128i gather = _mm_setr_epi8 (0, 1, 8, 9, 2, 3, 10, 11, -1, -1, -1, -1, -1, -1, -1, -1);
    for (; x + 8 <= width; x += 8) {
      const guint8 *src = c3 + (gsize) x * 8;
      __m128i q[4];
      for (int i = 0; i < 4; i++)
        q[i] = _mm_shuffle_epi8 (_mm_loadu_si128 ((const __m128i *) (src + 16 * i)), gather);
      __m128i t0 = _mm_unpacklo_epi32 (q[0], q[1]), t1 = _mm_unpacklo_epi32 (q[2], q[3]);
      guint8 *dst = out + (gsize) x * 2;
      _mm_storeu_si128 ((__m128i *) dst, _mm_unpacklo_epi64 (t0, t1));
      _mm_storeu_si128 ((__m128i *) (dst + out_stride), _mm_unpackhi_epi64 (t0, t1));
    }
  }
  if (x < width)
    espcn_shuffle_y_c (c3 + (gsize) x * cs, cs, width - x, s, out + (gsize) x * s, out_stride);
}
