/* espcn-gst: a GEMM for the shapes OpenBLAS handles poorly here (not installed).
 *
 * C[m][n] = A[m][k] B[k][n], row-major, beta = 0, for small m and k (tens) and long n:
 * the Winograd products.  AVX2+FMA kernel chosen at run time; cblas_sgemm otherwise. */
#pragma once

void espcn_gemm_small_nn (int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc);
