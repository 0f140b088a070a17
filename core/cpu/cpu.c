/* The CPU policy (cpu.h): detection once, ESPCN_CPU's mask over it. */
#include "cpu/cpu.h"

#include <gio/gio.h>
#include <string.h>

static const struct {
  EspcnCpuFlags flag;
  const char *name;
} names[] = {
  { ESPCN_CPU_SSE41, "sse41" },
  { ESPCN_CPU_AVX2, "avx2" },
  { ESPCN_CPU_FMA, "fma" },
  { ESPCN_CPU_NEON, "neon" },
  { ESPCN_CPU_ORC, "orc" },
};

const char *
espcn_cpu_flag_name (EspcnCpuFlags flag)
{
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (names[i].flag == flag)
      return names[i].name;
  return NULL;
}

static guint
detect (void)
{
  guint f = ESPCN_CPU_ORC;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("sse4.1"))
    f |= ESPCN_CPU_SSE41;
  if (__builtin_cpu_supports ("avx2"))
    f |= ESPCN_CPU_AVX2;
  if (__builtin_cpu_supports ("fma"))
    f |= ESPCN_CPU_FMA;
#elif defined(__aarch64__)
  f |= ESPCN_CPU_NEON;  /* part of the base architecture */
#endif
  return f;
}

gboolean
espcn_cpu_parse_mask (const char *spec, guint detected, guint *flags, GError **error)
{
  if (spec == NULL || *spec == '\0') {
    *flags = detected;
    return TRUE;
  }
  if (g_ascii_strcasecmp (spec, "none") == 0) {
    *flags = 0;
    return TRUE;
  }
  g_auto (GStrv) items = g_strsplit (spec, ",", -1);
  guint named = 0;
  int n_minus = 0, n_items = 0;
  for (int i = 0; items[i] != NULL; i++, n_items++) {
    const char *it = g_strstrip (items[i]);
    gboolean minus = it[0] == '-';
    if (minus)
      it++, n_minus++;
    guint f = 0;
    for (gsize j = 0; j < G_N_ELEMENTS (names); j++)
      if (g_ascii_strcasecmp (it, names[j].name) == 0)
        f = names[j].flag;
    if (f == 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "%s=%s: '%s' is not a CPU feature (sse41, avx2, fma, neon, orc; or none; "
          "a list of features to use, or of -feature to leave out)", ESPCN_CPU_ENV, spec, it);
      return FALSE;
    }
    named |= f;
  }
  if (n_minus != 0 && n_minus != n_items) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s=%s: either a list of features to use or of -feature to leave out, not both", ESPCN_CPU_ENV, spec);
    return FALSE;
  }
  *flags = n_minus > 0 ? detected & ~named : detected & named;
  return TRUE;
}

typedef struct {
  guint detected, allowed;
  GError *env_error;   /* kept for espcn_cpu_check_env() */
} CpuState;

static const CpuState *
state (void)
{
  static CpuState st;
  static gsize done;
  if (g_once_init_enter (&done)) {
    st.detected = detect ();
    if (!espcn_cpu_parse_mask (g_getenv (ESPCN_CPU_ENV), st.detected, &st.allowed, &st.env_error))
      st.allowed = 0;
    g_once_init_leave (&done, 1);
  }
  return &st;
}

guint
espcn_cpu_flags (void)
{
  return state ()->allowed;
}

guint
espcn_cpu_detected_flags (void)
{
  return state ()->detected;
}

gboolean
espcn_cpu_check_env (GError **error)
{
  const CpuState *st = state ();
  if (st->env_error != NULL) {
    g_propagate_error (error, g_error_copy (st->env_error));
    return FALSE;
  }
  return TRUE;
}
