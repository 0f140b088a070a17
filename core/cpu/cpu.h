/* espcn-gst: the CPU policy.  Every SIMD choice in espcn-gst (the engine's
 * kernels, the float GEMM and Winograd transforms of training, the ORC output
 * stage, the element's ORC YUV conversion) asks this module which features it
 * may use.  The CPU is probed once per process; the environment variable
 * ESPCN_CPU, read at the same time, masks what was found:
 *
 *   unset or ""         everything the CPU has
 *   none                nothing: the plain C references everywhere
 *   avx2,fma,orc        only these (those the CPU has)
 *   -orc,-avx2          everything the CPU has but these
 *
 * Names: sse41, avx2, fma (x86), neon (AArch64), orc (ORC's run-time generated
 * code; without it ORC's own paths are not used and the plain C ones run).  A
 * list mixes either kind of item, not both.  Masking changes speed, never
 * results: every SIMD path gives the bytes of its C reference.  A malformed
 * value masks everything (plain C) and makes espcn_cpu_check_env() fail, so
 * the engine's runner creation reports it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ESPCN_CPU_ENV "ESPCN_CPU"

typedef enum {
  ESPCN_CPU_SSE41 = 1 << 0,
  ESPCN_CPU_AVX2 = 1 << 1,
  ESPCN_CPU_FMA = 1 << 2,
  ESPCN_CPU_NEON = 1 << 3,
  ESPCN_CPU_ORC = 1 << 4,
} EspcnCpuFlags;

/* The features code may use: detected & ESPCN_CPU mask. */
guint espcn_cpu_flags (void);
/* The features this CPU has, unmasked (for checkers that compare every
 * variant whatever the mask says). */
guint espcn_cpu_detected_flags (void);
/* FALSE with `error` set when ESPCN_CPU is malformed. */
gboolean espcn_cpu_check_env (GError **error);

/* Parses a mask as ESPCN_CPU holds it (NULL: unset) against `detected`; on
 * success *flags is the allowed subset of `detected`. */
gboolean espcn_cpu_parse_mask (const char *spec, guint detected, guint *flags, GError **error);

/* "sse41", "avx2", ... for one flag; NULL for anything else. */
const char *espcn_cpu_flag_name (EspcnCpuFlags flag);

G_END_DECLS
