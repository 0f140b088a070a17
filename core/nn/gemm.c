/* Why our own kernel: with k = 32 .. 64 OpenBLAS spends much of its time packing and
 * zeroing C (measured ~45 GFLOP/s per core on 32x576x64 against ~75 on large
 * squares); A is tiny and a 24-column panel of B stays in L1, so a plain
 * register-blocked 4x24 kernel needs no packing at all.
 *
 * Bit-exactness: every element of C, in both kernels, is the chain
 *   acc = +0; for p = 0 .. k-1: acc = fma(a[i][p], b[p][j], acc)
 * (one rounding per step), so the C reference uses fmaf() in the same order. */
#include "nn/gemm-private.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

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

/* Row by row, p outside j: each c[i][j] sees the same fma chain as above, and the
 * j loop has unit stride (it vectorises where fmaf is an instruction). */
void
espcn_gemm_small_nn_c (int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc)
{
  for (int i = 0; i < m; i++) {
    float *ci = c + (size_t) i * ldc;
    const float *ai = a + (size_t) i * lda;
    for (int j = 0; j < n; j++)
      ci[j] = 0.0f;
    for (int p = 0; p < k; p++) {
      const float x = ai[p], *bp = b + (size_t) p * ldb;
      for (int j = 0; j < n; j++)
        ci[j] = fmaf (x, bp[j], ci[j]);
    }
  }
}

void
espcn_gemm_small_nn (int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc)
{
  if (espcn_nn_simd_enabled ())
    espcn_gemm_small_nn_avx2 (m, n, k, a, lda, b, ldb, c, ldc);
  else
    espcn_gemm_small_nn_c (m, n, k, a, lda, b, ldb, c, ldc);
}

/* The switch.  0: not decided yet, 1: plain C, 2: SIMD. */
static gint simd_state;

gboolean
espcn_nn_cpu_has_avx2_fma (void)
{
  return __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
}

gboolean
espcn_nn_simd_enabled (void)
{
  gint s = g_atomic_int_get (&simd_state);
  if (G_UNLIKELY (s == 0)) {
    const char *env = g_getenv ("ESPCN_NN_NO_SIMD");
    gboolean off = env != NULL && env[0] != '\0' && strcmp (env, "0") != 0;
    /* A concurrent espcn_nn_simd_set_enabled() wins over the environment. */
    g_atomic_int_compare_and_exchange (&simd_state, 0, !off && espcn_nn_cpu_has_avx2_fma () ? 2 : 1);
    s = g_atomic_int_get (&simd_state);
  }
  return s == 2;
}

gboolean
espcn_nn_simd_set_enabled (gboolean enabled)
{
  gboolean on = enabled && espcn_nn_cpu_has_avx2_fma ();
  g_atomic_int_set (&simd_state, on ? 2 : 1);
  return on;
}
