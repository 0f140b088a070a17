/* The reference engine and the runner: hand-computed outputs, agreement with an
 * independent naive implementation, pixel layouts, strides, threads. */
#include "engine/engine.h"
#include "test-models.h"

#include <gio/gio.h>
#include <string.h>

static void
test_reference_hand_computed_1x1 (void)
{
  g_autoptr (TestLayers) t = test_layers_hand ();
  g_autoptr (EspcnInt8Model) m = test_layers_build (t);
  /* conv1: 200/2 = 100, 100/2 = 50, 51/2 = 25.5 -> 26 (tie up), (200-10)/2 = 95
   * conv2: 100 - 50 = 50, 26 + 95 = 121
   * conv3 channel k: (k even ? 50 : 0) + (k/4) * 121 + k, clamped to 255. */
  const guint8 in[3] = { 200, 100, 51 };
  guint8 out[2 * 2 * 3];
  g_autoptr (GError) error = NULL;
  g_assert_true (espcn_engine_process_reference (m, in, 3, &ESPCN_PIXEL_LAYOUT_RGB, 1, 1, out, 6,
      &ESPCN_PIXEL_LAYOUT_RGB, &error));
  g_assert_no_error (error);
  /* Pixel shuffle: colour c at (i, j) comes from channel c*4 + i*2 + j. */
  const guint8 want[2 * 2 * 3] = {
    50, 175, 255,   1, 126, 251,     /* row 0: (0,0), (0,1) */
    52, 177, 255,   3, 128, 253,     /* row 1: (1,0), (1,1) */
  };
  g_assert_cmpmem (out, sizeof out, want, sizeof want);
}

static void
check_against_naive (guint64 seed, int f, int s, gboolean wide, int w, int h)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, seed);
  g_autoptr (TestLayers) t = test_layers_random (&rng, f, s, wide);
  g_autoptr (EspcnInt8Model) m = test_layers_build (t);
  g_autofree guint8 *in = g_malloc ((gsize) w * h * 3);
  test_fill_random (&rng, in, (gsize) w * h * 3);
  gsize out_n = (gsize) w * s * h * s * 3;
  g_autofree guint8 *out = g_malloc (out_n);
  g_autofree guint8 *want = g_malloc (out_n);
  g_assert_true (espcn_engine_process_reference (m, in, (gsize) w * 3, &ESPCN_PIXEL_LAYOUT_RGB, w, h, out,
      (gsize) w * s * 3, &ESPCN_PIXEL_LAYOUT_RGB, NULL));
  test_naive_forward (m, in, w, h, want);
  g_assert_cmpmem (out, out_n, want, out_n);

  /* The test is only meaningful if the outputs are spread, not all clamped. */
  int hist_lo = 0, hist_hi = 0, mid = 0;
  for (gsize i = 0; i < out_n; i++) {
    if (out[i] == 0)
      hist_lo++;
    else if (out[i] == 255)
      hist_hi++;
    else
      mid++;
  }
  if (out_n >= 100)
    g_assert_cmpint (mid, >, (int) (out_n / 4));
}

static void
test_reference_matches_naive (void)
{
  const struct { int f, s, wide, w, h; } cases[] = {
    { 4, 2, 0, 1, 1 }, { 4, 2, 0, 2, 3 }, { 8, 2, 0, 7, 5 }, { 6, 3, 0, 9, 6 }, { 8, 4, 0, 6, 7 },
    { 4, 2, 1, 7, 5 }, { 8, 3, 1, 8, 8 }, { 2, 4, 1, 5, 4 }, { 16, 2, 0, 12, 10 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    check_against_naive (100 + i, cases[i].f, cases[i].s, cases[i].wide, cases[i].w, cases[i].h);
}

/* A luma model (conv1 5x5x1, conv3 s^2 outputs) on a Y plane: the reference
 * against the independent naive forward, the runner against the reference, at
 * odd sizes and padded strides. */
static void
test_luma_model_matches_naive (void)
{
  const struct { int f, s, wide, w, h; } cases[] = {
    { 4, 2, 0, 1, 1 }, { 8, 2, 0, 7, 5 }, { 6, 3, 1, 9, 6 }, { 8, 4, 0, 13, 7 }, { 16, 4, 1, 11, 3 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    EspcnRng rng;
    espcn_rng_seed (&rng, 300 + i);
    int w = cases[i].w, h = cases[i].h, s = cases[i].s;
    g_autoptr (TestLayers) t = test_layers_random_channels (&rng, cases[i].f, s, cases[i].wide, 1);
    g_autoptr (EspcnInt8Model) m = test_layers_build (t);
    gsize is = (gsize) w + 3, os = (gsize) w * s + 5, on = os * h * s;
    g_autofree guint8 *in = g_malloc (is * h);
    test_fill_random (&rng, in, is * h);
    g_autofree guint8 *tight = g_malloc ((gsize) w * h);
    for (int y = 0; y < h; y++)
      memcpy (tight + (gsize) y * w, in + y * is, w);
    g_autofree guint8 *want = g_malloc ((gsize) w * s * h * s);
    test_naive_forward (m, tight, w, h, want);
    g_autofree guint8 *ref = g_malloc (on), *got = g_malloc (on);
    memset (ref, 0xa5, on);
    memset (got, 0xa5, on);
    g_assert_true (espcn_engine_process_reference (m, in, is, &ESPCN_PIXEL_LAYOUT_Y8, w, h, ref, os,
        &ESPCN_PIXEL_LAYOUT_Y8, NULL));
    g_autoptr (EspcnRunner) r = espcn_runner_new (m, 2, NULL);
    g_assert_true (espcn_runner_process (r, in, is, &ESPCN_PIXEL_LAYOUT_Y8, w, h, got, os, &ESPCN_PIXEL_LAYOUT_Y8,
        NULL));
    g_assert_cmpmem (got, on, ref, on);
    /* Not a flat image: the comparison means something. */
    gboolean seen[256] = { FALSE };
    int distinct = 0;
    for (gsize j = 0; j < (gsize) w * s * h * s; j++)
      if (!seen[want[j]]) {
        seen[want[j]] = TRUE;
        distinct++;
      }
    g_assert_cmpint (distinct, >=, MIN (8, w * h * s * s / 2));
    for (int y = 0; y < h * s; y++) {
      g_assert_cmpmem (ref + (gsize) y * os, (gsize) w * s, want + (gsize) y * w * s, (gsize) w * s);
      for (gsize x = (gsize) w * s; x < os; x++)
        g_assert_cmpint (ref[(gsize) y * os + x], ==, 0xa5);  /* stride padding untouched */
    }
  }
}

/* A frame whose layout has the other channel count than the model is refused
 * by both paths with a message naming both; so is a malformed one-byte layout. */
static void
test_layout_channels_must_match_the_model (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 9);
  g_autoptr (TestLayers) tl = test_layers_random_channels (&rng, 4, 2, FALSE, 1);
  g_autoptr (EspcnInt8Model) luma = test_layers_build (tl);
  g_autoptr (TestLayers) tr = test_layers_hand ();
  g_autoptr (EspcnInt8Model) rgb = test_layers_build (tr);
  const EspcnPixelLayout *y8 = &ESPCN_PIXEL_LAYOUT_Y8, *rgbl = &ESPCN_PIXEL_LAYOUT_RGB;
  const EspcnPixelLayout bad_y = { 1, 0, 1, 0 };
  guint8 in[4 * 4 * 3] = { 0 }, out[8 * 8 * 3];
  const struct { EspcnInt8Model *m; const EspcnPixelLayout *il, *ol; const char *n1, *n2; } cases[] = {
    { rgb, y8, rgbl, "input layout has 1 channel (Y", "an RGB model (3 channels)" },
    { rgb, rgbl, y8, "output layout has 1 channel (Y", "an RGB model (3 channels)" },
    { luma, rgbl, y8, "input layout has 3 channels (RGB", "a luma model (1 channel)" },
    { luma, y8, rgbl, "output layout has 3 channels (RGB", "a luma model (1 channel)" },
    { luma, &bad_y, y8, "bpp 1", "offsets 0" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (EspcnRunner) r = espcn_runner_new (cases[i].m, 1, NULL);
    for (int use_runner = 0; use_runner < 2; use_runner++) {
      g_autoptr (GError) error = NULL;
      gsize is = 4 * (gsize) cases[i].il->bpp, os = 8 * (gsize) cases[i].ol->bpp;
      gboolean ok = use_runner
          ? espcn_runner_process (r, in, is, cases[i].il, 4, 4, out, os, cases[i].ol, &error)
          : espcn_engine_process_reference (cases[i].m, in, is, cases[i].il, 4, 4, out, os, cases[i].ol, &error);
      g_assert_false (ok);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      if (strstr (error->message, cases[i].n1) == NULL || strstr (error->message, cases[i].n2) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": message '%s' lacks '%s' / '%s'", i, error->message, cases[i].n1,
            cases[i].n2);
    }
  }
  g_assert_true (espcn_pixel_layout_validate (y8, NULL));
  g_assert_cmpint (espcn_pixel_layout_get_channels (y8), ==, 1);
  g_assert_cmpint (espcn_pixel_layout_get_channels (rgbl), ==, 3);
}

static const EspcnPixelLayout layouts[] = {
  { 3, 0, 1, 2 }, { 3, 2, 1, 0 }, { 4, 0, 1, 2 }, { 4, 2, 1, 0 }, { 4, 1, 2, 3 }, { 4, 3, 2, 1 },
  { 5, 4, 0, 2 }, { 3, 1, 2, 0 },
};

/* Pack an RGB image into `lay` with `stride`; unnamed bytes get `fill`. */
static guint8 *
pack (const guint8 *rgb, int w, int h, const EspcnPixelLayout *lay, gsize stride, guint8 fill)
{
  guint8 *p = g_malloc ((gsize) h * stride);
  memset (p, fill, (gsize) h * stride);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint8 *px = p + (gsize) y * stride + (gsize) x * lay->bpp;
      const guint8 *src = rgb + ((gsize) y * w + x) * 3;
      px[lay->r] = src[0];
      px[lay->g] = src[1];
      px[lay->b] = src[2];
    }
  return p;
}

/* Check `p` holds `rgb` in `lay` and every other byte (x, alpha, stride padding) is still `fill`. */
static void
assert_packed (const guint8 *p, const guint8 *rgb, int w, int h, const EspcnPixelLayout *lay, gsize stride,
               guint8 fill)
{
  g_autofree guint8 *want = pack (rgb, w, h, lay, stride, fill);
  g_assert_cmpmem (p, (gsize) h * stride, want, (gsize) h * stride);
}

typedef gboolean (*ProcessFunc) (gpointer ctx, const EspcnInt8Model *m, const guint8 *in, gsize in_stride,
                                 const EspcnPixelLayout *il, int w, int h, guint8 *out, gsize out_stride,
                                 const EspcnPixelLayout *ol, GError **error);

static void
test_every_layout_gives_the_same_image (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 7);
  g_autoptr (TestLayers) t = test_layers_random (&rng, 8, 3, FALSE);
  g_autoptr (EspcnInt8Model) m = test_layers_build (t);
  int w = 6, h = 5, s = 3;
  guint8 rgb[6 * 5 * 3];
  test_fill_random (&rng, rgb, sizeof rgb);
  gsize on = (gsize) w * s * h * s * 3;
  g_autofree guint8 *want = g_malloc (on);
  test_naive_forward (m, rgb, w, h, want);

  g_autoptr (EspcnRunner) runner = espcn_runner_new (m, 2, NULL);
  for (gsize a = 0; a < G_N_ELEMENTS (layouts); a++)
    for (gsize b = 0; b < G_N_ELEMENTS (layouts); b++) {
      const EspcnPixelLayout *il = &layouts[a], *ol = &layouts[b];
      gsize is = (gsize) w * il->bpp + 1, os = (gsize) w * s * ol->bpp + 3;
      g_autofree guint8 *in = pack (rgb, w, h, il, is, 0x5a);
      for (int use_runner = 0; use_runner < 2; use_runner++) {
        g_autofree guint8 *out = g_malloc ((gsize) h * s * os);
        memset (out, 0xa7, (gsize) h * s * os);
        g_autoptr (GError) error = NULL;
        gboolean ok = use_runner
            ? espcn_runner_process (runner, in, is, il, w, h, out, os, ol, &error)
            : espcn_engine_process_reference (m, in, is, il, w, h, out, os, ol, &error);
        g_assert_no_error (error);
        g_assert_true (ok);
        assert_packed (out, want, w * s, h * s, ol, os, 0xa7);
      }
    }
}

static void
test_runner_equals_reference (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 21);
  const int sizes[][2] = { { 1, 1 }, { 2, 3 }, { 7, 5 }, { 33, 17 }, { 64, 9 }, { 3, 1 }, { 1, 6 } };
  const struct { int f, s, wide; } models[] = { { 8, 2, 0 }, { 6, 3, 1 }, { 4, 4, 0 } };
  for (gsize mi = 0; mi < G_N_ELEMENTS (models); mi++) {
    g_autoptr (TestLayers) t = test_layers_random (&rng, models[mi].f, models[mi].s, models[mi].wide);
    g_autoptr (EspcnInt8Model) m = test_layers_build (t);
    int s = models[mi].s;
    for (int nt = 1; nt <= 3; nt++) {
      /* One runner for all sizes: buffers grow and shrink-reuse between frames. */
      g_autoptr (EspcnRunner) r = espcn_runner_new (m, nt, NULL);
      g_assert_nonnull (r);
      g_assert_cmpint (espcn_runner_get_n_threads (r), ==, nt);
      for (gsize si = 0; si < G_N_ELEMENTS (sizes); si++) {
        int w = sizes[si][0], h = sizes[si][1];
        const EspcnPixelLayout *il = &layouts[si % G_N_ELEMENTS (layouts)];
        const EspcnPixelLayout *ol = &layouts[(si + 3) % G_N_ELEMENTS (layouts)];
        gsize is = (gsize) w * il->bpp + 1 + 2 * si, os = (gsize) w * s * ol->bpp + 7;  /* odd strides */
        g_autofree guint8 *in = g_malloc ((gsize) h * is);
        test_fill_random (&rng, in, (gsize) h * is);
        gsize on = (gsize) h * s * os;
        g_autofree guint8 *ref = g_malloc (on);
        g_autofree guint8 *got = g_malloc (on);
        memset (ref, 0x33, on);
        memset (got, 0x33, on);
        g_assert_true (espcn_engine_process_reference (m, in, is, il, w, h, ref, os, ol, NULL));
        g_assert_true (espcn_runner_process (r, in, is, il, w, h, got, os, ol, NULL));
        g_assert_cmpmem (got, on, ref, on);
      }
    }
  }
}

typedef struct {
  EspcnInt8Model *m;
  const guint8 *in;
  int w, h;
  guint8 *out;
} ThreadJob;

static gpointer
thread_main (gpointer data)
{
  ThreadJob *j = data;
  g_autoptr (EspcnRunner) r = espcn_runner_new (j->m, 2, NULL);
  int s = espcn_int8_model_get_scale (j->m);
  for (int rep = 0; rep < 5; rep++)
    g_assert_true (espcn_runner_process (r, j->in, (gsize) j->w * 3, &ESPCN_PIXEL_LAYOUT_RGB, j->w, j->h,
        j->out, (gsize) j->w * s * 3, &ESPCN_PIXEL_LAYOUT_RGB, NULL));
  return NULL;
}

static void
test_runners_share_one_model_across_threads (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 99);
  g_autoptr (TestLayers) t = test_layers_random (&rng, 8, 2, FALSE);
  EspcnInt8Model *m = test_layers_build (t);
  int w = 20, h = 11;
  g_autofree guint8 *in = g_malloc (w * h * 3);
  test_fill_random (&rng, in, w * h * 3);
  gsize on = (gsize) w * 2 * h * 2 * 3;
  g_autofree guint8 *want = g_malloc (on);
  test_naive_forward (m, in, w, h, want);

  ThreadJob jobs[3];
  GThread *threads[3];
  for (int i = 0; i < 3; i++) {
    jobs[i] = (ThreadJob) { m, in, w, h, g_malloc (on) };
    threads[i] = g_thread_new ("engine-test", thread_main, &jobs[i]);
  }
  for (int i = 0; i < 3; i++) {
    g_thread_join (threads[i]);
    g_assert_cmpmem (jobs[i].out, on, want, on);
    g_free (jobs[i].out);
  }
  espcn_int8_model_unref (m);
}

static void
test_runner_keeps_model_alive (void)
{
  g_autoptr (TestLayers) t = test_layers_hand ();
  EspcnInt8Model *m = test_layers_build (t);
  g_autoptr (EspcnRunner) r = espcn_runner_new (m, 1, NULL);
  espcn_int8_model_unref (m);  /* the runner's reference remains */
  const guint8 in[3] = { 200, 100, 51 };
  guint8 out[12];
  g_assert_true (espcn_runner_process (r, in, 3, &ESPCN_PIXEL_LAYOUT_RGB, 1, 1, out, 6, &ESPCN_PIXEL_LAYOUT_RGB,
      NULL));
  g_assert_cmpint (out[0], ==, 50);
  g_assert_cmpint (out[11], ==, 253);
}

static void
test_invalid_frames_are_refused (void)
{
  g_autoptr (TestLayers) t = test_layers_hand ();
  g_autoptr (EspcnInt8Model) m = test_layers_build (t);
  g_autoptr (EspcnRunner) r = espcn_runner_new (m, 2, NULL);
  guint8 in[64 * 3] = { 0 }, out[4 * 64 * 3];
  const EspcnPixelLayout *rgb = &ESPCN_PIXEL_LAYOUT_RGB;
  const EspcnPixelLayout bad_dup = { 3, 0, 0, 2 }, bad_off = { 3, 0, 1, 3 }, bad_bpp = { 2, 0, 1, 1 };
  const struct {
    const guint8 *in;
    gsize is;
    const EspcnPixelLayout *il;
    int w, h;
    guint8 *out;
    gsize os;
    const EspcnPixelLayout *ol;
    const char *needle;
  } cases[] = {
    { in, 3, rgb, 0, 1, out, 6, rgb, "frame size" },
    { in, 3, rgb, 1, 0, out, 6, rgb, "frame size" },
    { in, 3, rgb, -5, 1, out, 6, rgb, "frame size" },
    { in, 3, rgb, G_MAXINT, 1, out, 6, rgb, "frame size" },
    { in, 2, rgb, 1, 1, out, 6, rgb, "input stride" },
    { in, 6, rgb, 2, 1, out, 11, rgb, "output stride" },
    { NULL, 3, rgb, 1, 1, out, 6, rgb, "NULL" },
    { in, 3, rgb, 1, 1, NULL, 6, rgb, "NULL" },
    { in, 3, &bad_dup, 1, 1, out, 6, rgb, "layout" },
    { in, 3, rgb, 1, 1, out, 6, &bad_off, "layout" },
    { in, 3, &bad_bpp, 1, 1, out, 6, rgb, "layout" },
    { in, 3, rgb, 1, 1, out, 6, NULL, "layout" },
    { in, (gsize) 1 << 62, rgb, 1, 8, out, 6, rgb, "fit in memory" },
    { in, 3, rgb, 1, 1, in + 2, 6, rgb, "overlap" },
    { in + 6, 3, rgb, 1, 1, in, 6, rgb, "overlap" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    for (int use_runner = 0; use_runner < 2; use_runner++) {
      g_autoptr (GError) error = NULL;
      gboolean ok = use_runner
          ? espcn_runner_process (r, cases[i].in, cases[i].is, cases[i].il, cases[i].w, cases[i].h, cases[i].out,
                cases[i].os, cases[i].ol, &error)
          : espcn_engine_process_reference (m, cases[i].in, cases[i].is, cases[i].il, cases[i].w, cases[i].h,
                cases[i].out, cases[i].os, cases[i].ol, &error);
      if (ok || error == NULL)
        g_error ("case %" G_GSIZE_FORMAT " (runner %d) was accepted", i, use_runner);
      if (strstr (error->message, cases[i].needle) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": message '%s' lacks '%s'", i, error->message, cases[i].needle);
    }
  }
  g_autoptr (GError) error = NULL;
  g_assert_null (espcn_runner_new (m, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* Stage timing (espcn-bench's per-layer breakdown): off by default and after
 * being turned off, every stage counted once on, cleared when set again, and
 * the frame's bytes the same either way. */
static void
test_runner_stage_timing (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 71);
  g_autoptr (TestLayers) t = test_layers_random (&rng, 8, 3, FALSE);
  g_autoptr (EspcnInt8Model) m = test_layers_build (t);
  int w = 23, h = 9, s = 3;
  g_autofree guint8 *in = g_new (guint8, (gsize) w * h * 3);
  g_autofree guint8 *a = g_new (guint8, (gsize) w * h * s * s * 3);
  g_autofree guint8 *b = g_new (guint8, (gsize) w * h * s * s * 3);
  test_fill_random (&rng, in, (gsize) w * h * 3);
  g_autoptr (EspcnRunner) r = espcn_runner_new (m, 2, NULL);
  g_assert_nonnull (r);
  gint64 ns[ESPCN_RUNNER_N_STAGES];

  g_assert_true (espcn_runner_process (r, in, w * 3, &ESPCN_PIXEL_LAYOUT_RGB, w, h, a, (gsize) w * s * 3,
      &ESPCN_PIXEL_LAYOUT_RGB, NULL));
  espcn_runner_get_timing (r, ns);
  for (int k = 0; k < ESPCN_RUNNER_N_STAGES; k++)
    g_assert_cmpint (ns[k], ==, 0);

  espcn_runner_set_timing (r, TRUE);
  g_assert_true (espcn_runner_process (r, in, w * 3, &ESPCN_PIXEL_LAYOUT_RGB, w, h, b, (gsize) w * s * 3,
      &ESPCN_PIXEL_LAYOUT_RGB, NULL));
  g_assert_cmpmem (a, (gsize) w * h * s * s * 3, b, (gsize) w * h * s * s * 3);
  espcn_runner_get_timing (r, ns);
  for (int k = 0; k < ESPCN_RUNNER_N_STAGES; k++) {
    g_test_message ("%s: %" G_GINT64_FORMAT " ns", espcn_runner_stage_name (k), ns[k]);
    g_assert_cmpint (ns[k], >, 0);
  }

  espcn_runner_set_timing (r, FALSE);
  espcn_runner_get_timing (r, ns);
  for (int k = 0; k < ESPCN_RUNNER_N_STAGES; k++)
    g_assert_cmpint (ns[k], ==, 0);
  g_assert_true (espcn_runner_process (r, in, w * 3, &ESPCN_PIXEL_LAYOUT_RGB, w, h, b, (gsize) w * s * 3,
      &ESPCN_PIXEL_LAYOUT_RGB, NULL));
  espcn_runner_get_timing (r, ns);
  for (int k = 0; k < ESPCN_RUNNER_N_STAGES; k++)
    g_assert_cmpint (ns[k], ==, 0);
  g_assert_cmpstr (espcn_runner_stage_name (ESPCN_RUNNER_STAGE_CONV2), ==, "conv2");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/reference/hand-computed-1x1", test_reference_hand_computed_1x1);
  g_test_add_func ("/engine/reference/matches-naive", test_reference_matches_naive);
  g_test_add_func ("/engine/layouts/every-layout-gives-the-same-image", test_every_layout_gives_the_same_image);
  g_test_add_func ("/engine/runner/equals-reference", test_runner_equals_reference);
  g_test_add_func ("/engine/runner/share-one-model-across-threads", test_runners_share_one_model_across_threads);
  g_test_add_func ("/engine/runner/keeps-model-alive", test_runner_keeps_model_alive);
  g_test_add_func ("/engine/frames/invalid-are-refused", test_invalid_frames_are_refused);
  g_test_add_func ("/engine/luma/matches-naive", test_luma_model_matches_naive);
  g_test_add_func ("/engine/luma/layout-channels-must-match-the-model", test_layout_channels_must_match_the_model);
  g_test_add_func ("/engine/runner/stage-timing", test_runner_stage_timing);
  return g_test_run ();
}
