/* espcn-gst: a GEMM for the shapes OpenBLAS handles poorly here, and the switch
 * between core/nn's SIMD and plain C paths (not installed).
 *
 * C[m][n] = A[m][k] B[k][n], row-major, beta = 0, for small m and k (tens) and long n:
 * the Winograd products.  The AVX2+FMA kernel is chosen at run time, the plain C
 * reference otherwise; both give identical floats (see gemm.c).
 *
 * SIMD switch: core/nn (gemm.c, winograd.c) uses its AVX2+FMA code (gemm-avx2.c,
 * winograd-avx2.c, built on x86 only) when the CPU policy allows both (cpu/cpu.h:
 * the CPU has them and ESPCN_CPU does not mask them) and the plain C references
 * otherwise; espcn_nn_simd_set_enabled() overrides that at any time (tests).
 * Since every SIMD path computes the same floats as its C reference, the switch
 * changes speed, never results. */
#pragma once

#include <glib.h>

/* The AVX2 sources are built on x86 only (core/nn/meson.build). */
#if defined(__x86_64__) || defined(__i386__)
#define ESPCN_NN_HAVE_AVX2 1
#endif

void espcn_gemm_small_nn (int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc);
/* The two implementations behind it; _avx2 (x86 builds only) needs a CPU with AVX2 and FMA. */
void espcn_gemm_small_nn_c (int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc);
void espcn_gemm_small_nn_avx2 (int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
                               int ldc);

/* TRUE when the CPU can run the AVX2+FMA paths. */
gboolean espcn_nn_cpu_has_avx2_fma (void);
/* TRUE when core/nn uses its SIMD paths now (decided at the first call, see above). */
gboolean espcn_nn_simd_enabled (void);
/* Turns the SIMD paths on or off for the whole process (thread-safe, but flip it only
 * between passes); returns whether they are now on: FALSE for `enabled` on a CPU
 * without AVX2+FMA. */
gboolean espcn_nn_simd_set_enabled (gboolean enabled);
