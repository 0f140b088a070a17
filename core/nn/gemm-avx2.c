/* The AVX2 + FMA kernel of espcn_gemm_small_nn() (x86 only; gemm.c says why
 * our own kernel and why it matches the C reference bit for bit). */
#include "nn/gemm-private.h"

#include <immintrin.h>

__attribute__ ((target ("avx2,fma"))) static void
kern_4x24 (int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc)
{
  __m256 c00 = _mm256_setzero_ps (), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
  __m256 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
  const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
  for (int p = 0; p < k; p++) {
    const float *bp = b + (size_t) p * ldb;
    __m256 b0 = _mm256_loadu_ps (bp), b1 = _mm256_loadu_ps (bp + 8), b2 = _mm256_loadu_ps (bp + 16);
    __m256 x = _mm256_broadcast_ss (a0 + p);
    c00 = _mm256_fmadd_ps (x, b0, c00);
    c01 = _mm256_fmadd_ps (x, b1, c01);
    c02 = _mm256_fmadd_ps (x, b2, c02);
    x = _mm256_broadcast_ss (a1 + p);
    c10 = _mm256_fmadd_ps (x, b0, c10);
    c11 = _mm256_fmadd_ps (x, b1, c11);
    c12 = _mm256_fmadd_ps (x, b2, c12);
    x = _mm256_broadcast_ss (a2 + p);
    c20 = _mm256_fmadd_ps (x, b0, c20);
    c21 = _mm256_fmadd_ps (x, b1, c21);
    c22 = _mm256_fmadd_ps (x, b2, c22);
    x = _mm256_broadcast_ss (a3 + p);
    c30 = _mm256_fmadd_ps (x, b0, c30);
    c31 = _mm256_fmadd_ps (x, b1, c31);
    c32 = _mm256_fmadd_ps (x, b2, c32);
  }
  _mm256_storeu_ps (c, c00);
  _mm256_storeu_ps (c + 8, c01);
  _mm256_storeu_ps (c + 16, c02);
  c += ldc;
  _mm256_storeu_ps (c, c10);
  _mm256_storeu_ps (c + 8, c11);
  _mm256_storeu_ps (c + 16, c12);
  c += ldc;
  _mm256_storeu_ps (c, c20);
  _mm256_storeu_ps (c + 8, c21);
  _mm256_storeu_ps (c + 16, c22);
  c += ldc;
  _mm256_storeu_ps (c, c30);
  _mm256_storeu_ps (c + 8, c31);
  _mm256_storeu_ps (c + 16, c32);
}

/* Edges: mr <= 4 rows, nr <= 8 columns, masked loads and stores. */
__attribute__ ((target ("avx2,fma"))) static void
kern_edge (int mr, int nr, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc)
{
  __m256i idx = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7);
  __m256i mask = _mm256_cmpgt_epi32 (_mm256_set1_epi32 (nr), idx);
  __m256 acc[4] = { _mm256_setzero_ps (), _mm256_setzero_ps (), _mm256_setzero_ps (), _mm256_setzero_ps () };
  for (int p = 0; p < k; p++) {
    __m256 bv = _mm256_maskload_ps (b + (size_t) p * ldb, mask);
    for (int r = 0; r < mr; r++)
      acc[r] = _mm256_fmadd_ps (_mm256_broadcast_ss (a + (size_t) r * lda + p), bv, acc[r]);
  }
  for (int r = 0; r < mr; r++)
    _mm256_maskstore_ps (c + (size_t) r * ldc, mask, acc[r]);
}

__attribute__ ((target ("avx2,fma"))) void
espcn_gemm_small_nn_avx2 (int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc)
{
  int j = 0;
  /* Column panels outside, so a k x 24 panel of B stays in L1 across all rows of A. */
  for (; j + 24 <= n; j += 24) {
    int i = 0;
    for (; i + 4 <= m; i += 4)
      kern_4x24 (k, a + (size_t) i * lda, lda, b + j, ldb, c + (size_t) i * ldc + j, ldc);
    if (i < m)
      for (int jj = 0; jj < 24; jj += 8)
        kern_edge (m - i, 8, k, a + (size_t) i * lda, lda, b + j + jj, ldb, c + (size_t) i * ldc + j + jj, ldc);
  }
  for (; j < n; j += 8)
    for (int i = 0; i < m; i += 4)
      kern_edge (MIN (4, m - i), MIN (8, n - j), k, a + (size_t) i * lda, lda, b + j, ldb, c + (size_t) i * ldc + j, ldc);
}
