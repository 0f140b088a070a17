/* AVX2 versions of the F(4x4, 3x3) data transforms (the matrices are in winograd.c).
 *
 * Eight tiles per vector.  The 1-D transform along image rows needs the columns of
 * eight tiles split by phase (column 4t + k of a row, k = 0 .. 3): deint8() does that
 * with a 4 x 8 in-register transpose, interleave8() undoes it for the outputs.  The
 * transform down the columns then works on those per-tile arrays with unit stride.
 * Per-row scratch is heap-allocated per call, so any image width is fine.
 *
 * The plain C references in winograd.c repeat this arithmetic operation for operation
 * (same FMAs, same sums, same pass order): change both together;
 * tests/nn/test-simd-ref.c checks that they agree bit for bit. */
#include "nn/winograd-private.h"

#include <glib.h>
#include <immintrin.h>
#include <string.h>

#define AVX2_FN __attribute__ ((target ("avx2,fma")))

static inline int
round8 (int n)
{
  return (n + 7) & ~7;
}

/* p[k][t] = r[4t + k] for the eight tiles t = 0 .. 7. */
AVX2_FN static inline void
deint8 (const float *r, __m256 p[4])
{
  __m256 v0 = _mm256_insertf128_ps (_mm256_castps128_ps256 (_mm_loadu_ps (r)), _mm_loadu_ps (r + 16), 1);
  __m256 v1 = _mm256_insertf128_ps (_mm256_castps128_ps256 (_mm_loadu_ps (r + 4)), _mm_loadu_ps (r + 20), 1);
  __m256 v2 = _mm256_insertf128_ps (_mm256_castps128_ps256 (_mm_loadu_ps (r + 8)), _mm_loadu_ps (r + 24), 1);
  __m256 v3 = _mm256_insertf128_ps (_mm256_castps128_ps256 (_mm_loadu_ps (r + 12)), _mm_loadu_ps (r + 28), 1);
  __m256d u0 = _mm256_castps_pd (_mm256_unpacklo_ps (v0, v1)), u1 = _mm256_castps_pd (_mm256_unpackhi_ps (v0, v1));
  __m256d u2 = _mm256_castps_pd (_mm256_unpacklo_ps (v2, v3)), u3 = _mm256_castps_pd (_mm256_unpackhi_ps (v2, v3));
  p[0] = _mm256_castpd_ps (_mm256_unpacklo_pd (u0, u2));
  p[1] = _mm256_castpd_ps (_mm256_unpackhi_pd (u0, u2));
  p[2] = _mm256_castpd_ps (_mm256_unpacklo_pd (u1, u3));
  p[3] = _mm256_castpd_ps (_mm256_unpackhi_pd (u1, u3));
}

/* The inverse of deint8: r[4t + k] = o[k][t]. */
AVX2_FN static inline void
interleave8 (const __m256 o[4], float *r)
{
  __m256d u0 = _mm256_castps_pd (_mm256_unpacklo_ps (o[0], o[1])), u1 = _mm256_castps_pd (_mm256_unpackhi_ps (o[0], o[1]));
  __m256d u2 = _mm256_castps_pd (_mm256_unpacklo_ps (o[2], o[3])), u3 = _mm256_castps_pd (_mm256_unpackhi_ps (o[2], o[3]));
  __m256 q0 = _mm256_castpd_ps (_mm256_unpacklo_pd (u0, u2)), q1 = _mm256_castpd_ps (_mm256_unpackhi_pd (u0, u2));
  __m256 q2 = _mm256_castpd_ps (_mm256_unpacklo_pd (u1, u3)), q3 = _mm256_castpd_ps (_mm256_unpackhi_pd (u1, u3));
  _mm256_storeu_ps (r, _mm256_permute2f128_ps (q0, q1, 0x20));
  _mm256_storeu_ps (r + 8, _mm256_permute2f128_ps (q2, q3, 0x20));
  _mm256_storeu_ps (r + 16, _mm256_permute2f128_ps (q0, q1, 0x31));
  _mm256_storeu_ps (r + 24, _mm256_permute2f128_ps (q2, q3, 0x31));
}

/* o = B^T d. */
AVX2_FN static inline void
bt8 (const __m256 d[6], __m256 o[6])
{
  __m256 four = _mm256_set1_ps (4.0f), five = _mm256_set1_ps (5.0f);
  __m256 a = _mm256_fnmadd_ps (four, d[2], d[4]), b = _mm256_fnmadd_ps (four, d[1], d[3]);
  __m256 c = _mm256_sub_ps (d[4], d[2]), e = _mm256_sub_ps (d[3], d[1]);
  e = _mm256_add_ps (e, e);
  o[0] = _mm256_fmadd_ps (four, d[0], _mm256_fnmadd_ps (five, d[2], d[4]));
  o[1] = _mm256_add_ps (a, b);
  o[2] = _mm256_sub_ps (a, b);
  o[3] = _mm256_add_ps (c, e);
  o[4] = _mm256_sub_ps (c, e);
  o[5] = _mm256_fmadd_ps (four, d[1], _mm256_fnmadd_ps (five, d[3], d[5]));
}

/* o = A^T m + b. */
AVX2_FN static inline void
at8 (const __m256 m[6], __m256 b, __m256 o[4])
{
  __m256 s12 = _mm256_add_ps (m[1], m[2]), d12 = _mm256_sub_ps (m[1], m[2]);
  __m256 s34 = _mm256_add_ps (m[3], m[4]), d34 = _mm256_sub_ps (m[3], m[4]);
  o[0] = _mm256_add_ps (_mm256_add_ps (m[0], s12), _mm256_add_ps (s34, b));
  o[1] = _mm256_add_ps (_mm256_fmadd_ps (_mm256_set1_ps (2.0f), d34, d12), b);
  o[2] = _mm256_add_ps (_mm256_fmadd_ps (_mm256_set1_ps (4.0f), s34, s12), b);
  o[3] = _mm256_add_ps (_mm256_fmadd_ps (_mm256_set1_ps (8.0f), d34, d12), _mm256_add_ps (m[5], b));
}

/* o = A e. */
AVX2_FN static inline void
a8 (const __m256 e[4], __m256 o[6])
{
  __m256 p = _mm256_add_ps (e[0], e[2]), q = _mm256_add_ps (e[1], e[3]);
  __m256 p4 = _mm256_fmadd_ps (_mm256_set1_ps (4.0f), e[2], e[0]);
  __m256 q4 = _mm256_fmadd_ps (_mm256_set1_ps (8.0f), e[3], _mm256_add_ps (e[1], e[1]));
  o[0] = e[0];
  o[1] = _mm256_add_ps (p, q);
  o[2] = _mm256_sub_ps (p, q);
  o[3] = _mm256_add_ps (p4, q4);
  o[4] = _mm256_sub_ps (p4, q4);
  o[5] = e[3];
}

AVX2_FN static inline __m256i
tail_mask (int n)
{
  return _mm256_cmpgt_epi32 (_mm256_set1_epi32 (n), _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7));
}

/* Store the first n of 8 lanes.  `spill_ok`: the 8 - n floats after them are still
 * inside this [c][T] row and will be rewritten later by the same call (tiles are
 * written in increasing (channel, tile) order), so a full store is fine; masked
 * stores are slow on AMD. */
AVX2_FN static inline void
store_n (float *p, __m256 v, int n, gboolean spill_ok)
{
  if (n >= 8 || spill_ok) {
    _mm256_storeu_ps (p, v);
    return;
  }
  float tmp[8];
  _mm256_storeu_ps (tmp, v);
  memcpy (p, tmp, sizeof (float) * (size_t) n);
}

/* Load n <= 8 floats; `over_ok`: the 8 - n after them are readable (values ignored). */
AVX2_FN static inline __m256
load_n (const float *p, int n, gboolean over_ok)
{
  return n >= 8 || over_ok ? _mm256_loadu_ps (p) : _mm256_maskload_ps (p, tail_mask (n));
}

/* Row transform of one padded input row (prow[0] is column -1): h[j][t] = (B^T d)[j]. */
AVX2_FN static void
input_row (const float *prow, int tw8, float *hrow)
{
  for (int t0 = 0; t0 < tw8; t0 += 8) {
    __m256 p[4], q[4], d[6], o[6];
    deint8 (prow + 4 * t0, p);
    deint8 (prow + 4 * t0 + 4, q);
    d[0] = p[0], d[1] = p[1], d[2] = p[2], d[3] = p[3], d[4] = q[0], d[5] = q[1];
    bt8 (d, o);
    for (int j = 0; j < 6; j++)
      _mm256_storeu_ps (hrow + (size_t) j * tw8 + t0, o[j]);
  }
}

AVX2_FN void
espcn_wino_input_avx2 (const float *x, int c, int h, int w, float *v)
{
  int th = (h + 3) / 4, tw = (w + 3) / 4, tw8 = round8 (tw);
  size_t T = (size_t) th * tw, xs = (size_t) c * T, hsz = (size_t) 6 * tw8;
  float *prow = g_new0 (float, (size_t) 4 * tw8 + 8);
  float *slots = g_new (float, 6 * hsz);
  for (int ch = 0; ch < c; ch++) {
    const float *xp = x + (size_t) ch * h * w;
    float *hr[6];
    for (int ty = 0; ty < th; ty++) {
      int first = 0;
      if (ty == 0) {
        for (int r = 0; r < 6; r++)
          hr[r] = slots + r * hsz;
      } else { /* rows 4ty-1, 4ty were rows 4, 5 of the previous tile row */
        float *o0 = hr[0], *o1 = hr[1], *o2 = hr[2], *o3 = hr[3];
        hr[0] = hr[4], hr[1] = hr[5], hr[2] = o0, hr[3] = o1, hr[4] = o2, hr[5] = o3;
        first = 2;
      }
      for (int r = first; r < 6; r++) {
        int y = 4 * ty - 1 + r;
        if (y < 0 || y >= h) {
          memset (hr[r], 0, sizeof (float) * hsz);
          continue;
        }
        memcpy (prow + 1, xp + (size_t) y * w, sizeof (float) * (size_t) w);
        input_row (prow, tw8, hr[r]);
      }
      float *o = v + (size_t) ch * T + (size_t) ty * tw;
      size_t off = (size_t) ch * T + (size_t) ty * tw;
      for (int j = 0; j < 6; j++)
        for (int t0 = 0; t0 < tw; t0 += 8) {
          __m256 d[6], out[6];
          for (int r = 0; r < 6; r++)
            d[r] = _mm256_loadu_ps (hr[r] + (size_t) j * tw8 + t0);
          bt8 (d, out);
          for (int i = 0; i < 6; i++)
            store_n (o + (size_t) (i * 6 + j) * xs + t0, out[i], tw - t0, off + t0 + 8 <= xs);
        }
    }
  }
  g_free (prow);
  g_free (slots);
}

AVX2_FN void
espcn_wino_output_avx2 (const float *m, int c, int h, int w, const float *bias, float *y)
{
  int th = (h + 3) / 4, tw = (w + 3) / 4, tw8 = round8 (tw);
  size_t T = (size_t) th * tw, xs = (size_t) c * T, asz = (size_t) 6 * tw8;
  float *abuf = g_new (float, 4 * asz); /* abuf[r][j][t]: A^T down the columns */
  float *yrow = g_new (float, (size_t) 4 * tw8);
  for (int ch = 0; ch < c; ch++) {
    const float *mp = m + (size_t) ch * T;
    float *yp = y + (size_t) ch * h * w;
    __m256 b = _mm256_set1_ps (bias ? bias[ch] : 0.0f), zero = _mm256_setzero_ps ();
    for (int ty = 0; ty < th; ty++) {
      const float *mt = mp + (size_t) ty * tw;
      size_t off = (size_t) ch * T + (size_t) ty * tw;
      for (int j = 0; j < 6; j++)
        for (int t0 = 0; t0 < tw; t0 += 8) {
          __m256 mm[6], a[4];
          for (int i = 0; i < 6; i++)
            mm[i] = load_n (mt + (size_t) (i * 6 + j) * xs + t0, tw - t0, off + t0 + 8 <= xs);
          at8 (mm, zero, a);
          for (int r = 0; r < 4; r++)
            _mm256_storeu_ps (abuf + r * asz + (size_t) j * tw8 + t0, a[r]);
        }
      for (int r = 0; r < 4 && 4 * ty + r < h; r++) {
        const float *ar = abuf + r * asz;
        for (int t0 = 0; t0 < tw; t0 += 8) {
          __m256 mm[6], o[4];
          for (int j = 0; j < 6; j++)
            mm[j] = _mm256_loadu_ps (ar + (size_t) j * tw8 + t0);
          at8 (mm, b, o);
          interleave8 (o, yrow + 4 * t0);
        }
        memcpy (yp + (size_t) (4 * ty + r) * w, yrow, sizeof (float) * (size_t) w);
      }
    }
  }
  g_free (abuf);
  g_free (yrow);
}

AVX2_FN void
espcn_wino_output_adjoint_avx2 (const float *dy, int c, int h, int w, float *dm)
{
  int th = (h + 3) / 4, tw = (w + 3) / 4, tw8 = round8 (tw);
  size_t T = (size_t) th * tw, xs = (size_t) c * T, hsz = (size_t) 6 * tw8;
  float *prow = g_new0 (float, (size_t) 4 * tw8 + 8);
  float *hbuf = g_new (float, 4 * hsz); /* hbuf[r][j][t]: A along the rows of the dy tile */
  for (int ch = 0; ch < c; ch++) {
    const float *dp = dy + (size_t) ch * h * w;
    float *mp = dm + (size_t) ch * T;
    for (int ty = 0; ty < th; ty++) {
      for (int r = 0; r < 4; r++) {
        float *hr = hbuf + r * hsz;
        int yy = 4 * ty + r;
        if (yy >= h) {
          memset (hr, 0, sizeof (float) * hsz);
          continue;
        }
        memcpy (prow, dp + (size_t) yy * w, sizeof (float) * (size_t) w); /* columns >= w stay zero */
        for (int t0 = 0; t0 < tw8; t0 += 8) {
          __m256 e[4], o[6];
          deint8 (prow + 4 * t0, e);
          a8 (e, o);
          for (int j = 0; j < 6; j++)
            _mm256_storeu_ps (hr + (size_t) j * tw8 + t0, o[j]);
        }
      }
      float *mt = mp + (size_t) ty * tw;
      size_t off = (size_t) ch * T + (size_t) ty * tw;
      for (int j = 0; j < 6; j++)
        for (int t0 = 0; t0 < tw; t0 += 8) {
          __m256 e[4], o[6];
          for (int r = 0; r < 4; r++)
            e[r] = _mm256_loadu_ps (hbuf + r * hsz + (size_t) j * tw8 + t0);
          a8 (e, o);
          for (int i = 0; i < 6; i++)
            store_n (mt + (size_t) (i * 6 + j) * xs + t0, o[i], tw - t0, off + t0 + 8 <= xs);
        }
    }
  }
  g_free (prow);
  g_free (hbuf);
}
