/* espcn-gst fuzzing: what every target shares.
 *
 * A target is one LLVMFuzzerTestOneInput(); libFuzzer drives it in the fuzz build
 * (-Dfuzzing=true) and replay.c runs it over the committed corpus in every build,
 * so each corpus file (and each crash found, once added) is a regression test.
 * A property violated is abort(): libFuzzer reports it as a crash with the input. */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                                          \
  do {                                                                                                                 \
    if (!(cond)) {                                                                                                     \
      fprintf (stderr, "%s:%d: property violated: %s: ", __FILE__, __LINE__, #cond);                                   \
      fprintf (stderr, __VA_ARGS__);                                                                                   \
      fputc ('\n', stderr);                                                                                            \
      abort ();                                                                                                        \
    }                                                                                                                  \
  } while (0)

/* Bad input must give a GError, never a GLib warning or critical. */
static inline void
fuzz_glib_init (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    g_log_set_always_fatal (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL);
    g_once_init_leave (&once, 1);
  }
}

/* Reads parameters from the front of the input, zeros once it runs out. */
typedef struct {
  const uint8_t *p;
  size_t n;
} FuzzReader;

static inline guint8
fuzz_u8 (FuzzReader *r)
{
  if (r->n == 0)
    return 0;
  r->n--;
  return *r->p++;
}

static inline guint16
fuzz_u16 (FuzzReader *r)
{
  guint16 lo = fuzz_u8 (r);
  return (guint16) (lo | (fuzz_u8 (r) << 8));
}
