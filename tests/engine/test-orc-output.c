/* The runner's output stage (core/engine/frame-pack.h): both paths with
 * their conv3 channel orders are PyTorch's pixel shuffle, the ORC kernels
 * write exactly the bytes of the plain C path for every width 1..70, scale
 * and 4-byte layout, and the runner gives the same frames with ORC, without
 * it and on the reference. */
#include "test-models.h"
#include "engine/frame-pack.h"

#include <string.h>

#define GUARD 48
#define MAX_W 70

static const EspcnPixelLayout orc_layouts[] = {
  { 4, 0, 1, 2 }, { 4, 2, 1, 0 }, { 4, 1, 2, 3 }, { 4, 3, 2, 1 },
};

/* conv3's channel stride in the runner: 3*s*s rounded up to 8. */
static int
runner_cs (int s)
{
  return (3 * s * s + 7) / 8 * 8;
}

/* chan[ch * w + x] (model order) packed through perm into [w][cs]; the bytes
 * past 3*s*s (the runner's padded channels) are random too. */
static guint8 *
pack_row (EspcnRng *rng, const guint8 *chan, int w, int s, int cs, const int *perm)
{
  guint8 *c3 = g_new (guint8, (gsize) cs * w);
  test_fill_random (rng, c3, (gsize) cs * w);
  for (int x = 0; x < w; x++)
    for (int p = 0; p < 3 * s * s; p++)
      c3[x * cs + p] = chan[perm[p] * w + x];
  return c3;
}

/* Each path, fed conv3 in its own order, writes out[c][y*s+i][x*s+j] =
 * in[c*s*s + i*s + j][y][x] at the layout's offsets and nothing else. */
static void
test_both_paths_are_the_pixel_shuffle (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 11);
  guint32 perm_dummy[1];  /* a 4-byte aligned address for the support check */
  /* RGB (the C copy path), an odd layout with gaps, and the ORC layouts. */
  const EspcnPixelLayout layouts[] = { { 3, 0, 1, 2 }, { 7, 5, 0, 3 }, { 4, 0, 1, 2 }, { 4, 2, 1, 0 }, { 4, 1, 2, 3 },
    { 4, 3, 2, 1 } };
  for (int s = 2; s <= 4; s++)
    for (gsize li = 0; li < G_N_ELEMENTS (layouts); li++)
      for (int orc = 0; orc < 2; orc++) {
        const EspcnPixelLayout *lay = &layouts[li];
        if (orc && !espcn_shuffle_orc_supports (lay, (const guint8 *) perm_dummy, 4 * 64))
          continue;
        int w = 5, cs = runner_cs (s), nc = 3 * s * s;
        g_autofree int *perm = g_new (int, nc);
        (orc ? espcn_shuffle_order_orc : espcn_shuffle_order_c) (s, perm);
        g_autofree guint8 *chan = g_new (guint8, (gsize) nc * w);
        test_fill_random (&rng, chan, (gsize) nc * w);
        g_autofree guint8 *c3 = pack_row (&rng, chan, w, s, cs, perm);
        gsize stride = ((gsize) w * s * lay->bpp + 7) / 4 * 4;
        gsize size = stride * s;
        g_autofree guint8 *out = g_new (guint8, size);
        memset (out, 0x5c, size);
        (orc ? espcn_shuffle_row_orc : espcn_shuffle_row_c) (c3, cs, w, s, out, stride, lay);
        for (int i = 0; i < s; i++)
          for (gsize k = 0; k < stride; k++) {
            gsize X = k / lay->bpp, off = k % lay->bpp;
            int c = off == (gsize) lay->r ? 0 : off == (gsize) lay->g ? 1 : off == (gsize) lay->b ? 2 : -1;
            guint8 want = 0x5c;
            if (c >= 0 && X < (gsize) w * s) {
              int x = X / s, j = X % s;
              want = chan[(c * s * s + i * s + j) * w + x];
            }
            if (out[i * stride + k] != want)
              g_error ("%s path, s %d layout %" G_GSIZE_FORMAT ": row %d byte %" G_GSIZE_FORMAT " is %d, want %d",
                  orc ? "ORC" : "C", s, li, i, k, out[i * stride + k], want);
          }
      }
}

static void
test_orc_covers_aligned_four_byte_layouts (void)
{
  guint32 words[4];
  const guint8 *aligned = (const guint8 *) words;
  for (gsize i = 0; i < G_N_ELEMENTS (orc_layouts); i++) {
    g_assert_cmpint (espcn_shuffle_orc_supports (&orc_layouts[i], aligned, 64), ==,
        G_BYTE_ORDER == G_LITTLE_ENDIAN);
    /* Unaligned rows go to C. */
    g_assert_false (espcn_shuffle_orc_supports (&orc_layouts[i], aligned + 1, 64));
    g_assert_false (espcn_shuffle_orc_supports (&orc_layouts[i], aligned, 66));
  }
  const EspcnPixelLayout others[] = { { 3, 0, 1, 2 }, { 3, 2, 1, 0 }, { 4, 0, 2, 1 }, { 4, 1, 0, 2 }, { 5, 0, 1, 2 },
    { 8, 0, 1, 2 } };
  for (gsize i = 0; i < G_N_ELEMENTS (others); i++)
    g_assert_false (espcn_shuffle_orc_supports (&others[i], aligned, 64));
}

/* One comparison: C and ORC on the same random conv3 row (each packed in its
 * order) and the same random frame bytes (so kept x / alpha bytes are
 * checked), guard bytes around the frame. */
static void
compare_once (EspcnRng *rng, int s, int w, int cs, gsize pad, const EspcnPixelLayout *lay)
{
  int nc = 3 * s * s;
  gsize stride = (gsize) w * s * 4 + pad, size = stride * s + 2 * GUARD;
  g_assert_cmpuint (pad % 4, ==, 0);
  int perm_c[48], perm_orc[48];
  espcn_shuffle_order_c (s, perm_c);
  espcn_shuffle_order_orc (s, perm_orc);
  g_autofree guint8 *chan = g_new (guint8, (gsize) nc * w);
  test_fill_random (rng, chan, (gsize) nc * w);
  g_autofree guint8 *c3_c = pack_row (rng, chan, w, s, cs, perm_c);
  g_autofree guint8 *c3_orc = pack_row (rng, chan, w, s, cs, perm_orc);
  g_autofree guint8 *a = g_new (guint8, size);
  g_autofree guint8 *b = g_new (guint8, size);
  test_fill_random (rng, a, size);
  memcpy (b, a, size);
  espcn_shuffle_row_c (c3_c, cs, w, s, a + GUARD, stride, lay);
  espcn_shuffle_row_orc (c3_orc, cs, w, s, b + GUARD, stride, lay);
  for (gsize k = 0; k < size; k++)
    if (a[k] != b[k])
      g_error ("s %d width %d cs %d pad %" G_GSIZE_FORMAT " layout {%d,%d,%d,%d}: byte %" G_GSIZE_FORMAT
          " is %d with ORC, %d in C", s, w, cs, pad, lay->bpp, lay->r, lay->g, lay->b, k, b[k], a[k]);
}

static void
test_orc_matches_c_bit_exactly (void)
{
  if (G_BYTE_ORDER != G_LITTLE_ENDIAN) {
    g_test_skip ("the ORC output kernels are little-endian only");
    return;
  }
  EspcnRng rng;
  espcn_rng_seed (&rng, 12);
  for (int s = 2; s <= 4; s++)
    for (gsize li = 0; li < G_N_ELEMENTS (orc_layouts); li++)
      for (int w = 1; w <= MAX_W; w++) {
        compare_once (&rng, s, w, runner_cs (s), 0, &orc_layouts[li]);
        /* Odd channel strides (the sources need no alignment) and padded rows. */
        compare_once (&rng, s, w, 3 * s * s + (int) espcn_rng_below (&rng, 5), 4 * (1 + espcn_rng_below (&rng, 5)),
            &orc_layouts[li]);
      }
}

/* The runner gives the reference engine's frame, for every layout the element
 * uses, on rows aligned for ORC and on rows that are not (those take the C
 * path).  The CPU policy is read once per process, so tests/engine/meson.build
 * runs this with ORC (ESPCN_CPU unset), without (ESPCN_CPU=-orc) and with the
 * plain C reference throughout (ESPCN_CPU=none). */
static void
test_runner_output_is_the_same_with_and_without_orc (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 13);
  const EspcnPixelLayout layouts[] = { ESPCN_PIXEL_LAYOUT_RGB, ESPCN_PIXEL_LAYOUT_BGR, ESPCN_PIXEL_LAYOUT_RGBX,
    ESPCN_PIXEL_LAYOUT_BGRX, ESPCN_PIXEL_LAYOUT_XRGB, ESPCN_PIXEL_LAYOUT_XBGR };
  const char *cpu = g_getenv ("ESPCN_CPU");
  g_test_message ("ESPCN_CPU=%s", cpu ? cpu : "(unset)");
  for (int s = 2; s <= 4; s++) {
    g_autoptr (TestLayers) t = test_layers_random (&rng, 8, s, s == 3);
    g_autoptr (EspcnInt8Model) m = test_layers_build (t);
    g_autoptr (GError) error = NULL;
    g_autoptr (EspcnRunner) runner = espcn_runner_new (m, 2, &error);
    g_assert_no_error (error);
    int w = 1 + (int) espcn_rng_below (&rng, 37), h = 1 + (int) espcn_rng_below (&rng, 9);
    g_autofree guint8 *in = g_new (guint8, (gsize) w * h * 3);
    test_fill_random (&rng, in, (gsize) w * h * 3);
    for (gsize k = 0; k < 2 * G_N_ELEMENTS (layouts); k++) {
      gsize li = k / 2;
      const EspcnPixelLayout *lay = &layouts[li];
      gsize stride = (gsize) w * s * lay->bpp + (k % 2 ? 5 : 4), size = stride * h * s;
      g_autofree guint8 *fill = g_new (guint8, size);
      g_autofree guint8 *ref = g_new (guint8, size);
      test_fill_random (&rng, fill, size);
      memcpy (ref, fill, size);
      g_assert_true (espcn_engine_process_reference (m, in, (gsize) w * 3, &ESPCN_PIXEL_LAYOUT_RGB, w, h, ref, stride,
          lay, NULL));
      g_autofree guint8 *got = g_memdup2 (fill, size);
      g_assert_true (espcn_runner_process (runner, in, (gsize) w * 3, &ESPCN_PIXEL_LAYOUT_RGB, w, h, got, stride,
          lay, NULL));
      if (memcmp (got, ref, size) != 0)
        g_error ("x%d %dx%d layout %" G_GSIZE_FORMAT " stride %" G_GSIZE_FORMAT " ESPCN_CPU=%s: runner differs "
            "from the reference", s, w, h, li, stride, cpu ? cpu : "(unset)");
    }
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/orc-output/both-paths-are-the-pixel-shuffle", test_both_paths_are_the_pixel_shuffle);
  g_test_add_func ("/engine/orc-output/orc-covers-aligned-four-byte-layouts",
      test_orc_covers_aligned_four_byte_layouts);
  g_test_add_func ("/engine/orc-output/orc-matches-c-bit-exactly", test_orc_matches_c_bit_exactly);
  g_test_add_func ("/engine/orc-output/runner-same-with-and-without-orc",
      test_runner_output_is_the_same_with_and_without_orc);
  return g_test_run ();
}
