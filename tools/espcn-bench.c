/* espcn-bench: frames per second of the INT8 runner (SIMD kernels, threads) and
 * of the plain C reference, with the share of two measured ceilings and the
 * time per layer.
 *
 *   espcn-bench --model FILE | --random-model SCALE [--channels rgb|y] --size WxH
 *               [--threads N] [--frames N] [--runs N] [--ref-frames N]
 *               [--layout rgbx|bgrx|rgb] [--vs-model FILE | --vs-random rgb|y] [--json]
 *
 * A luma model (one channel) runs on Y planes (ESPCN_PIXEL_LAYOUT_Y8): the
 * frames are the Y planes of the same sizes; --layout applies to RGB models.
 * Each figure is the median over --runs runs.  With --vs-model or --vs-random
 * a second model (a file, or a random one of the same scale and features with
 * the given channels) runs on the same size and threads in interleaved rounds,
 * A B A B ..., one round = --frames frames of each; the ratio A/B is reported
 * per round and as the median of the rounds' ratios, the only comparison of
 * speeds that a busy machine's drift does not bias.  Two ceilings, measured in the
 * same run, each one core's rate in registers times the threads used:
 *   peak: independent vpmaddubsw chains alone (32 multiply-adds each), the
 *     instruction's own limit, which no kernel can reach;
 *   sequence ceiling: the exact step of the AVX2 kernels' int8 path, vpmaddubsw
 *     + vpmaddwd (with ones) + vpaddd into 8 independent accumulators, 4
 *     broadcast pixels x 2 weight blocks as their register blocking has it: what
 *     the kernels could reach if loads, packing and requantization were free.
 * GMAC/s counts the model's multiply-adds per frame.  The per-layer breakdown
 * comes from extra frames with the runner's stage timing on (engine.h), after
 * the timed runs, so timing never slows the frames/s figure. */
#include "cpu/cpu.h"
#include "engine/engine.h"
#include "engine/requant.h"
#include "util/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__ ((target ("avx2"))) static double
maddubs_peak_gmacs (void)
{
  __m256i w = _mm256_set1_epi8 (3);
  __m256i c0 = _mm256_set1_epi8 (1), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  __m256i c8 = c0, c9 = c0, c10 = c0, c11 = c0;
  const long n = 20000000;
  gint64 t0 = g_get_monotonic_time ();
  for (long i = 0; i < n; i++) {
    c0 = _mm256_maddubs_epi16 (c0, w);
    c1 = _mm256_maddubs_epi16 (c1, w);
    c2 = _mm256_maddubs_epi16 (c2, w);
    c3 = _mm256_maddubs_epi16 (c3, w);
    c4 = _mm256_maddubs_epi16 (c4, w);
    c5 = _mm256_maddubs_epi16 (c5, w);
    c6 = _mm256_maddubs_epi16 (c6, w);
    c7 = _mm256_maddubs_epi16 (c7, w);
    c8 = _mm256_maddubs_epi16 (c8, w);
    c9 = _mm256_maddubs_epi16 (c9, w);
    c10 = _mm256_maddubs_epi16 (c10, w);
    c11 = _mm256_maddubs_epi16 (c11, w);
    /* Keep the chains in registers and alive. */
    __asm__ volatile ("" : "+x" (c0), "+x" (c1), "+x" (c2), "+x" (c3), "+x" (c4), "+x" (c5), "+x" (c6),
        "+x" (c7), "+x" (c8), "+x" (c9), "+x" (c10), "+x" (c11));
  }
  gint64 t1 = g_get_monotonic_time ();
  return (double) n * 12 * 32 / ((t1 - t0) * 1e-6) / 1e9;
}

/* The kernels' int8 step (kernels-avx2.c): acc += madd (maddubs (a, w), ones),
 * 4 broadcast pixels x 2 weight blocks into 8 accumulators.  Written as asm so
 * that all 16 ymm registers hold it (8 accumulators, 4 pixels, 2 weight blocks,
 * the ones, one product) and nothing is spilled, hoisted or folded. */
#define SEQ_STEP(acc, a, w) \
  "vpmaddubsw %[" #w "], %[" #a "], %[t]\n\t" \
  "vpmaddwd %[ones], %[t], %[t]\n\t" \
  "vpaddd %[t], %[" #acc "], %[" #acc "]\n\t"

__attribute__ ((target ("avx2"))) static double
kernel_sequence_gmacs (void)
{
  __m256i a0 = _mm256_set1_epi32 (0x01020304), a1 = _mm256_set1_epi32 (0x05060708);
  __m256i a2 = _mm256_set1_epi32 (0x090a0b0c), a3 = _mm256_set1_epi32 (0x0d0e0f10);
  __m256i w0 = _mm256_set1_epi8 (3), w1 = _mm256_set1_epi8 (-5), ones = _mm256_set1_epi16 (1), t;
  __m256i c00 = _mm256_setzero_si256 (), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const long n = 10000000;
  gint64 t0 = g_get_monotonic_time ();
  for (long i = 0; i < n; i++)
    __asm__ volatile (SEQ_STEP (c00, a0, w0) SEQ_STEP (c01, a0, w1) SEQ_STEP (c10, a1, w0) SEQ_STEP (c11, a1, w1)
                      SEQ_STEP (c20, a2, w0) SEQ_STEP (c21, a2, w1) SEQ_STEP (c30, a3, w0) SEQ_STEP (c31, a3, w1)
        : [c00] "+x" (c00), [c01] "+x" (c01), [c10] "+x" (c10), [c11] "+x" (c11), [c20] "+x" (c20),
          [c21] "+x" (c21), [c30] "+x" (c30), [c31] "+x" (c31), [t] "=&x" (t)
        : [a0] "x" (a0), [a1] "x" (a1), [a2] "x" (a2), [a3] "x" (a3), [w0] "x" (w0), [w1] "x" (w1),
          [ones] "x" (ones));
  gint64 t1 = g_get_monotonic_time ();
  return (double) n * 8 * 32 / ((t1 - t0) * 1e-6) / 1e9;
}
#undef SEQ_STEP

/* Both ceilings in interleaved rounds (the machine's speed drifts), best of 3. */
static void
measure_ceilings (double *peak, double *sequence)
{
  *peak = *sequence = 0.0;
  if (!(espcn_cpu_detected_flags () & ESPCN_CPU_AVX2))
    return;
  for (int i = 0; i < 3; i++) {
    *peak = MAX (*peak, maddubs_peak_gmacs ());
    *sequence = MAX (*sequence, kernel_sequence_gmacs ());
  }
}
#else
static void
measure_ceilings (double *peak, double *sequence)
{
  *peak = *sequence = 0.0;
}
#endif

/* A random int8 model with F = 64 and 3 (RGB) or 1 (luma) channels: weights
 * uniform in [-127, 127], each channel's bias and multiplier chosen so outputs
 * spread over the grid instead of clamping. */
static EspcnInt8Model *
random_model (int scale, int channels, guint64 seed, GError **error)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, seed);
  const int f = 64, out_c[3] = { f, f / 2, channels * scale * scale }, in_c[3] = { channels, f, f / 2 };
  const int k[3] = { 5, 3, 3 };
  EspcnInt8Layer l[3];
  g_autofree gint16 *w[3] = { NULL, NULL, NULL };
  g_autofree gint32 *b[3] = { NULL, NULL, NULL }, *m[3] = { NULL, NULL, NULL }, *sh[3] = { NULL, NULL, NULL };
  gint32 in_max = 255;
  for (int i = 0; i < 3; i++) {
    gsize per = (gsize) in_c[i] * k[i] * k[i];
    w[i] = g_new (gint16, per * out_c[i]);
    b[i] = g_new (gint32, out_c[i]);
    m[i] = g_new (gint32, out_c[i]);
    sh[i] = g_new (gint32, out_c[i]);
    memset (&l[i], 0, sizeof l[i]);
    l[i].out_c = out_c[i];
    l[i].in_c = in_c[i];
    l[i].k = k[i];
    l[i].weight_dtype = ESPCN_WEIGHT_I8;
    l[i].out_max = i < 2 ? 127 : 255;
    for (int c = 0; c < out_c[i]; c++) {
      gint64 sum = 0, spread = 0;
      for (gsize j = 0; j < per; j++) {
        gint16 v = (gint16) ((int) espcn_rng_below (&rng, 255) - 127);
        w[i][c * per + j] = v;
        sum += v;
        spread += ABS (v);
      }
      b[i][c] = (gint32) (-sum * in_max / 2);
      int s;
      if (!espcn_requant_from_real (l[i].out_max / (spread * in_max / 8.0 + 1.0), &m[i][c], &s, error))
        return NULL;
      sh[i][c] = s;
    }
    l[i].weight = w[i];
    l[i].bias = b[i];
    l[i].multiplier = m[i];
    l[i].shift = sh[i];
    in_max = l[i].out_max;
  }
  g_autoptr (GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (meta, (gpointer) "method", (gpointer) "random");
  return espcn_int8_model_new (l, meta, error);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (double *v, int n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct {
  EspcnInt8Model *m;
  EspcnRunner *r;   /* NULL: the reference */
  const guint8 *in;
  gsize in_stride;
  guint8 *out;
  gsize out_stride;
  EspcnPixelLayout lay;
  int w, h;
} Job;

/* A job for model m: its runner and random input and output frames of w x h
 * (Y planes for a luma model, `rgb_layout` pixels for an RGB one). */
static gboolean
job_init (Job *j, EspcnInt8Model *m, int threads, EspcnPixelLayout rgb_layout, int w, int h, GError **error)
{
  memset (j, 0, sizeof *j);
  j->m = m;
  j->r = espcn_runner_new (m, threads, error);
  if (j->r == NULL)
    return FALSE;
  int s = espcn_int8_model_get_scale (m);
  j->lay = espcn_int8_model_get_channels (m) == 1 ? ESPCN_PIXEL_LAYOUT_Y8 : rgb_layout;
  j->w = w;
  j->h = h;
  j->in_stride = (gsize) w * j->lay.bpp;
  j->out_stride = (gsize) w * s * j->lay.bpp;
  guint8 *in = g_malloc (j->in_stride * h);
  EspcnRng rng;
  espcn_rng_seed (&rng, 7);
  for (gsize i = 0; i < j->in_stride * h; i++)
    in[i] = (guint8) espcn_rng_below (&rng, 256);
  j->in = in;
  j->out = g_malloc (j->out_stride * h * s);
  return TRUE;
}

static void
job_clear (Job *j)
{
  espcn_runner_free (j->r);
  g_free ((guint8 *) j->in);
  g_free (j->out);
  memset (j, 0, sizeof *j);
}

static double
model_gmac_per_frame (const EspcnInt8Model *m, int w, int h)
{
  double macs = 0;
  for (int i = 0; i < 3; i++) {
    const EspcnInt8Layer *l = espcn_int8_model_get_layer (m, i);
    macs += (double) l->out_c * l->in_c * l->k * l->k;
  }
  return macs * w * h / 1e9;
}

static const char *
channels_name (const EspcnInt8Model *m)
{
  return espcn_int8_model_get_channels (m) == 1 ? "luma (Y plane)" : "RGB";
}

static double
process_cpu_seconds (void)
{
  struct timespec t;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Frames per second of `frames` frames, median of `runs` runs; *cpu_per_frame
 * (if not NULL) gets the median CPU seconds of all threads per frame, which other
 * processes competing for the cores do not inflate. */
static double
measure_fps (const Job *j, int frames, int runs, double *cpu_per_frame, GError **error)
{
  double *fps = g_new (double, runs), *cpu = g_new (double, runs);
  for (int run = 0; run < runs; run++) {
    double c0 = process_cpu_seconds ();
    gint64 t0 = g_get_monotonic_time ();
    for (int f = 0; f < frames; f++) {
      gboolean ok = j->r != NULL
          ? espcn_runner_process (j->r, j->in, j->in_stride, &j->lay, j->w, j->h, j->out, j->out_stride, &j->lay,
              error)
          : espcn_engine_process_reference (j->m, j->in, j->in_stride, &j->lay, j->w, j->h, j->out,
              j->out_stride, &j->lay, error);
      if (!ok) {
        g_free (fps);
        g_free (cpu);
        return -1.0;
      }
    }
    fps[run] = frames / ((g_get_monotonic_time () - t0) * 1e-6);
    cpu[run] = (process_cpu_seconds () - c0) / frames;
  }
  double med = median (fps, runs);
  if (cpu_per_frame != NULL)
    *cpu_per_frame = median (cpu, runs);
  g_free (fps);
  g_free (cpu);
  return med;
}

/* A model from a file or a random one (scale, channels). */
static EspcnInt8Model *
get_model (const char *path, int scale, int channels, GError **error)
{
  return path ? espcn_int8_model_load (path, error) : random_model (scale, channels, 1, error);
}

static int
parse_channels (const char *v, const char *option)
{
  if (v == NULL || g_ascii_strcasecmp (v, "rgb") == 0)
    return 3;
  if (g_ascii_strcasecmp (v, "y") == 0)
    return 1;
  g_printerr ("espcn-bench: %s takes rgb or y, not %s\n", option, v);
  return 0;
}

/* --vs-*: A and B in interleaved rounds, the fps of each and A/B per round. */
static int
compare_rounds (Job *a, Job *b, const char *name_a, const char *name_b, int frames, int runs, gboolean json,
                GError **error)
{
  double *fa = g_new (double, runs), *fb = g_new (double, runs), *ratio = g_new (double, runs);
  g_autoptr (GString) rounds = g_string_new (NULL);
  int rc = 0;
  for (int k = 0; k < runs; k++) {
    fa[k] = measure_fps (a, frames, 1, NULL, error);
    fb[k] = fa[k] < 0 ? -1.0 : measure_fps (b, frames, 1, NULL, error);
    if (fa[k] < 0 || fb[k] < 0) {
      g_printerr ("espcn-bench: %s\n", (*error)->message);
      rc = 1;
      goto out;
    }
    ratio[k] = fa[k] / fb[k];
    g_string_append_printf (rounds, "%s%s%.2f / %.2f = %.3f%s", k ? ", " : "", json ? "\"" : "", fa[k], fb[k],
        ratio[k], json ? "\"" : "");
  }
  double ma = median (fa, runs), mb = median (fb, runs), mr = median (ratio, runs);
  if (json)
    printf ("{\"a\": \"%s\", \"b\": \"%s\", \"fps_a\": %.3f, \"fps_b\": %.3f, \"ratio\": %.4f, \"rounds\": [%s]}\n",
        name_a, name_b, ma, mb, mr, rounds->str);
  else
    printf ("A = %s: %.2f frames/s; B = %s: %.2f frames/s (medians of %d interleaved rounds x %d frames)\n"
            "A/B per round (fps A / fps B): %s\nA/B: median %.3f\n", name_a, ma, name_b, mb, runs, frames,
        rounds->str, mr);
out:
  g_free (fa);
  g_free (fb);
  g_free (ratio);
  return rc;
}

int
main (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *size = NULL, *layout = NULL, *channels_opt = NULL;
  g_autofree char *vs_path = NULL, *vs_random = NULL;
  int random_scale = 0, threads = 2, frames = 30, runs = 5, ref_frames = 1, ref_runs = 3;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model_path, "INT8 model file", "FILE" },
    { "random-model", 0, 0, G_OPTION_ARG_INT, &random_scale, "random int8 model, F=64, this scale", "SCALE" },
    { "channels", 0, 0, G_OPTION_ARG_STRING, &channels_opt, "the random model's channels: rgb (default) or y",
      "rgb|y" },
    { "size", 0, 0, G_OPTION_ARG_STRING, &size, "input (LR) frame size", "WxH" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "runner threads (default 2)", "N" },
    { "frames", 0, 0, G_OPTION_ARG_INT, &frames, "frames per run (default 30)", "N" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "runs, the median is reported (default 5)", "N" },
    { "ref-frames", 0, 0, G_OPTION_ARG_INT, &ref_frames, "frames per reference run (default 1, 0: skip)", "N" },
    { "ref-runs", 0, 0, G_OPTION_ARG_INT, &ref_runs, "reference runs (default 3)", "N" },
    { "layout", 0, 0, G_OPTION_ARG_STRING, &layout, "RGB models' pixel layout: rgbx (default), bgrx or rgb", "L" },
    { "vs-model", 0, 0, G_OPTION_ARG_FILENAME, &vs_path, "compare with this model in interleaved rounds", "FILE" },
    { "vs-random", 0, 0, G_OPTION_ARG_STRING, &vs_random,
      "compare with a random model of the same scale with these channels", "rgb|y" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print one JSON object", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- benchmark the INT8 ESPCN engine");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("espcn-bench: %s\n", error->message);
    return 2;
  }
  int w = 0, h = 0;
  if (size == NULL || sscanf (size, "%dx%d", &w, &h) != 2 || w < 1 || h < 1 || w > 16384 || h > 16384) {
    g_printerr ("espcn-bench: --size WxH is required (1..16384 each)\n");
    return 2;
  }
  if ((model_path == NULL) == (random_scale == 0) || (random_scale != 0 && (random_scale < 2 || random_scale > 4))) {
    g_printerr ("espcn-bench: give exactly one of --model FILE or --random-model 2|3|4\n");
    return 2;
  }
  if (frames < 1 || runs < 1 || ref_frames < 0 || ref_runs < 1) {
    g_printerr ("espcn-bench: --frames, --runs and --ref-runs must be >= 1, --ref-frames >= 0\n");
    return 2;
  }
  if (vs_path != NULL && vs_random != NULL) {
    g_printerr ("espcn-bench: give at most one of --vs-model and --vs-random\n");
    return 2;
  }
  int channels = parse_channels (channels_opt, "--channels");
  int vs_channels = parse_channels (vs_random, "--vs-random");
  if (channels == 0 || vs_channels == 0)
    return 2;
  EspcnPixelLayout lay = ESPCN_PIXEL_LAYOUT_RGBX;
  if (layout != NULL && g_ascii_strcasecmp (layout, "bgrx") == 0)
    lay = ESPCN_PIXEL_LAYOUT_BGRX;
  else if (layout != NULL && g_ascii_strcasecmp (layout, "rgb") == 0)
    lay = ESPCN_PIXEL_LAYOUT_RGB;
  else if (layout != NULL && g_ascii_strcasecmp (layout, "rgbx") != 0) {
    g_printerr ("espcn-bench: unknown --layout %s\n", layout);
    return 2;
  }

  /* Other processes on the machine make every figure worse: say how busy it was. */
  double load1 = 0.0;
  g_autofree char *loadavg = NULL;
  if (g_file_get_contents ("/proc/loadavg", &loadavg, NULL, NULL))
    load1 = g_ascii_strtod (loadavg, NULL);

  g_autoptr (EspcnInt8Model) m = get_model (model_path, random_scale, channels, &error);
  if (m == NULL) {
    g_printerr ("espcn-bench: %s\n", error->message);
    return 1;
  }
  int s = espcn_int8_model_get_scale (m);
  Job j;
  if (!job_init (&j, m, threads, lay, w, h, &error)) {
    g_printerr ("espcn-bench: %s\n", error->message);
    return 1;
  }
  EspcnRunner *r = j.r;
  double macs = model_gmac_per_frame (m, w, h) * 1e9;

  if (measure_fps (&j, 1, 1, NULL, &error) < 0) {  /* warm-up: buffers, threads, caches */
    g_printerr ("espcn-bench: %s\n", error->message);
    job_clear (&j);
    return 1;
  }

  if (vs_path != NULL || vs_random != NULL) {
    g_autoptr (EspcnInt8Model) mb = get_model (vs_path, s, vs_channels, &error);
    Job jb;
    if (mb == NULL || !job_init (&jb, mb, threads, lay, w, h, &error)) {
      g_printerr ("espcn-bench: %s\n", error->message);
      job_clear (&j);
      return 1;
    }
    g_autofree char *name_a = g_strdup_printf ("%s, %s, x%d, F=%d, %.3f GMAC/frame", model_path ? model_path
        : "random int8", channels_name (m), s, espcn_int8_model_get_features (m), macs / 1e9);
    g_autofree char *name_b = g_strdup_printf ("%s, %s, x%d, F=%d, %.3f GMAC/frame", vs_path ? vs_path
        : "random int8", channels_name (mb), espcn_int8_model_get_scale (mb), espcn_int8_model_get_features (mb),
        model_gmac_per_frame (mb, w, h));
    int rc = measure_fps (&jb, 1, 1, NULL, &error) < 0 ? 1 : 0;  /* B's warm-up */
    if (rc != 0)
      g_printerr ("espcn-bench: %s\n", error->message);
    else {
      if (!json)
        printf ("input %dx%d, %d threads (%s); load average at start %.2f on %d CPUs\n", w, h, threads,
            espcn_runner_get_isa_name (r), load1, (int) g_get_num_processors ());
      rc = compare_rounds (&j, &jb, name_a, name_b, frames, runs, json, &error);
    }
    job_clear (&jb);
    job_clear (&j);
    return rc;
  }

  double cpu_frame = 0.0;
  double fps = measure_fps (&j, frames, runs, &cpu_frame, &error);
  double ref_fps = 0.0;
  if (ref_frames > 0) {
    Job jr = j;
    jr.r = NULL;
    ref_fps = measure_fps (&jr, ref_frames, ref_runs, NULL, &error);
  }
  if (fps < 0 || ref_fps < 0) {
    g_printerr ("espcn-bench: %s\n", error->message);
    job_clear (&j);
    return 1;
  }
  /* The per-layer breakdown: the same frames again with the stage timing on. */
  gint64 stage_ns[ESPCN_RUNNER_N_STAGES];
  espcn_runner_set_timing (r, TRUE);
  double timed_fps = measure_fps (&j, frames, 1, NULL, &error);
  espcn_runner_get_timing (r, stage_ns);
  espcn_runner_set_timing (r, FALSE);
  if (timed_fps < 0) {
    g_printerr ("espcn-bench: %s\n", error->message);
    job_clear (&j);
    return 1;
  }
  gint64 stage_total = 0;
  for (int k = 0; k < ESPCN_RUNNER_N_STAGES; k++)
    stage_total += stage_ns[k];

  double peak_core = 0.0, seq_core = 0.0;
  measure_ceilings (&peak_core, &seq_core);
  double gmacs = fps * macs / 1e9;
  double peak = peak_core * threads, seq = seq_core * threads;
  double share = peak > 0 ? gmacs / peak : 0.0;
  double seq_share = seq > 0 ? gmacs / seq : 0.0;

  if (json) {
    g_autoptr (GString) stages = g_string_new (NULL);
    for (int k = 0; k < ESPCN_RUNNER_N_STAGES; k++)
      g_string_append_printf (stages, "%s\"%s\": %.4f", k ? ", " : "", espcn_runner_stage_name (k),
          stage_ns[k] * 1e-6 / frames);
    printf ("{\"fps\": %.3f, \"gmacs\": %.3f, \"peak_share\": %.4f, \"sequence_share\": %.4f, "
            "\"ref_fps\": %.4f, \"peak_gmacs\": %.2f, \"sequence_gmacs\": %.2f, "
            "\"threads\": %d, \"isa\": \"%s\", \"channels\": %d, \"width\": %d, \"height\": %d, \"scale\": %d, "
            "\"cpu_ms_per_frame\": %.3f, \"load1\": %.2f, \"stage_ms_per_frame\": {%s}}\n",
        fps, gmacs, share, seq_share, ref_fps, peak, seq, threads, espcn_runner_get_isa_name (r),
        espcn_int8_model_get_channels (m), w, h, s,
        cpu_frame * 1e3, load1, stages->str);
  } else {
    printf ("model: %s, %s, x%d, F=%d; input %dx%d -> %dx%d; %.3f GMAC/frame\n",
        model_path ? model_path : "random int8", channels_name (m), s, espcn_int8_model_get_features (m), w, h,
        w * s, h * s, macs / 1e9);
    printf ("runner (%s, %d threads): %.2f frames/s, %.1f GMAC/s (median of %d runs x %d frames)\n",
        espcn_runner_get_isa_name (r), threads, fps, gmacs, runs, frames);
    printf ("CPU time per frame (all threads): %.2f ms; load average at start %.2f on %d CPUs\n", cpu_frame * 1e3,
        load1, (int) g_get_num_processors ());
    if (peak > 0) {
      printf ("peak (vpmaddubsw alone, %.1f GMAC/s per core x %d): %.1f GMAC/s; share %.1f%%\n", peak_core, threads,
          peak, 100 * share);
      printf ("sequence ceiling (vpmaddubsw + vpmaddwd + vpaddd, the kernels' int8 step, %.1f GMAC/s per core x %d): "
          "%.1f GMAC/s; share %.1f%%\n", seq_core, threads, seq, 100 * seq_share);
    } else {
      printf ("ceilings: not measured (no AVX2 here)\n");
    }
    printf ("per layer (stage timing on, %d frames, summed over threads):", frames);
    for (int k = 0; k < ESPCN_RUNNER_N_STAGES; k++)
      printf (" %s %.3f ms (%.1f%%)%s", espcn_runner_stage_name (k), stage_ns[k] * 1e-6 / frames,
          stage_total > 0 ? 100.0 * stage_ns[k] / stage_total : 0.0, k + 1 < ESPCN_RUNNER_N_STAGES ? "," : "\n");
    if (ref_frames > 0)
      printf ("reference (plain C, 1 thread): %.3f frames/s (median of %d runs x %d frames); runner/ref = %.1fx\n",
          ref_fps, ref_runs, ref_frames, fps / ref_fps);
  }
  job_clear (&j);
  return 0;
}
