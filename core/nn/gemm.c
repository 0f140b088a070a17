/* Why our own kernel: with k = 32 .. 64 OpenBLAS spends much of its time packing and
 * zeroing C (measured ~45 GFLOP/s per core on 32x576x64 against ~75 on large
 * squares); A is tiny and a 24-column panel of B stays in L1, so a plain
 * register-blocked 4x24 kernel needs no packing at all (gemm-avx2.c).
 *
 * Bit-exactness: every element of C, in both kernels, is the chain
 *   acc = +0; for p = 0 .. k-1: acc = fma(a[i][p], b[p][j], acc)
 * (one rounding per step), so the C reference uses fmaf() in the same order. */
#include "nn/gemm-private.h"
#include "cpu/cpu.h"

#include <math.h>

/* Row by row, p outside j: each c[i][j] sees the same fma chain as the AVX2 kernel, and the
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
#ifdef ESPCN_NN_HAVE_AVX2
  if (espcn_nn_simd_enabled ()) {
    espcn_gemm_small_nn_avx2 (m, n, k, a, lda, b, ldb, c, ldc);
    return;
  }
#endif
  espcn_gemm_small_nn_c (m, n, k, a, lda, b, ldb, c, ldc);
}

/* The switch.  0: not decided yet, 1: plain C, 2: SIMD. */
static gint simd_state;

gboolean
espcn_nn_cpu_has_avx2_fma (void)
{
#ifdef ESPCN_NN_HAVE_AVX2
  const guint need = ESPCN_CPU_AVX2 | ESPCN_CPU_FMA;
  return (espcn_cpu_detected_flags () & need) == need;
#else
  return FALSE;
#endif
}

gboolean
espcn_nn_simd_enabled (void)
{
  gint s = g_atomic_int_get (&simd_state);
  if (G_UNLIKELY (s == 0)) {
    const guint need = ESPCN_CPU_AVX2 | ESPCN_CPU_FMA;
    gboolean allowed = (espcn_cpu_flags () & need) == need;
    /* A concurrent espcn_nn_simd_set_enabled() wins over the CPU policy. */
    g_atomic_int_compare_and_exchange (&simd_state, 0, allowed && espcn_nn_cpu_has_avx2_fma () ? 2 : 1);
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
