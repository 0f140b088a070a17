/* Fuzz target: one frame through the integer engine at a size, strides, pixel
 * layouts, model, thread count and kernel set taken from the input; the pixels are
 * the rest of the input.
 *
 * Properties: the runner (AVX2 or C kernels, 1 to 3 threads) and the reference
 * accept and refuse exactly the same frames; when they accept, they write the same
 * bytes, and only the named colour bytes of the output pixels (padding and x/alpha
 * bytes keep their earlier content); when they refuse, the output is untouched.
 * Buffers are allocated to the frame's exact extent, (h - 1) * stride + w * bpp, so
 * any read or write past the last pixel is an ASan report.  Runners are kept across
 * inputs, so scratch growth and reuse are fuzzed too. */
#include <string.h>

#include "engine/engine.h"
#include "engine/model.h"
#include "test-models.h"

#include "fuzz-common.h"

#define N_MODELS 9       /* RGB: scale 2, 3, 4 x int8 / int16 weights; luma: scale 2, 3, 4 */
#define MAX_W 48
#define MAX_H 40
#define MAX_AREA 320

static EspcnInt8Model *models[N_MODELS];
static EspcnRunner *runners[N_MODELS][3][2];  /* [model][threads - 1][isa: auto, C] */

static void
init_models (void)
{
  static gsize once = 0;
  if (!g_once_init_enter (&once))
    return;
  EspcnRng rng;
  espcn_rng_seed (&rng, 20240);
  for (int i = 0; i < N_MODELS; i++) {
    TestLayers *t = i < 6 ? test_layers_random (&rng, 8, 2 + i / 2, i % 2 == 1)
        : test_layers_random_channels (&rng, 8, i - 4, i % 2 == 1, 1);
    models[i] = test_layers_build (t);
    test_layers_free (t);
  }
  g_once_init_leave (&once, 1);
}

static EspcnRunner *
get_runner (int model, int threads, int isa)
{
  EspcnRunner **r = &runners[model][threads - 1][isa];
  if (*r == NULL) {
    g_autoptr (GError) error = NULL;
    *r = espcn_runner_new_full (models[model], threads, isa ? ESPCN_ISA_C : ESPCN_ISA_AUTO, &error);
    FUZZ_CHECK (*r != NULL, "%s", error->message);
  }
  return *r;
}

/* A layout from four bytes: usually valid (distinct offsets inside the pixel;
 * ESPCN_PIXEL_LAYOUT_Y8 for a luma model), in a quarter of the valid cases one
 * of the other channel count (which must be refused), and with the top two bits
 * of the first byte set, raw values that may be anything. */
static EspcnPixelLayout
read_layout (FuzzReader *rd, int channels, gboolean *raw)
{
  guint8 k = fuzz_u8 (rd), a = fuzz_u8 (rd), b = fuzz_u8 (rd), c = fuzz_u8 (rd);
  EspcnPixelLayout l;
  *raw = (k & 0x80) != 0 && (k & 0x40) != 0;
  if (*raw) {
    l.bpp = (gint8) (k << 2) >> 2;  /* -32 .. 31 */
    l.r = (gint8) a % 20;
    l.g = (gint8) b % 20;
    l.b = (gint8) c % 20;
    return l;
  }
  gboolean other = (k & 0x30) == 0x30;
  if ((channels == 1) != other)
    return ESPCN_PIXEL_LAYOUT_Y8;
  l.bpp = 3 + k % 14;
  int free_slots[16], n = l.bpp;
  for (int i = 0; i < n; i++)
    free_slots[i] = i;
  int *dst[3] = { &l.r, &l.g, &l.b };
  guint8 pick[3] = { a, b, c };
  for (int i = 0; i < 3; i++) {
    int j = pick[i] % n;
    *dst[i] = free_slots[j];
    free_slots[j] = free_slots[--n];
  }
  return l;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_glib_init ();
  init_models ();
  FuzzReader rd = { data, size };

  guint8 sel = fuzz_u8 (&rd);
  int model = sel % N_MODELS, threads = 1 + (sel / N_MODELS) % 3, isa = (sel / (N_MODELS * 3)) % 2;
  int s = espcn_int8_model_get_scale (models[model]);
  guint8 wb = fuzz_u8 (&rd), hb = fuzz_u8 (&rd);
  /* Mostly 1 .. MAX, sometimes 0 (must be refused). */
  int w = wb == 255 ? 0 : 1 + wb % MAX_W, h = hb == 255 ? 0 : 1 + hb % MAX_H;
  /* Widths to MAX_W reach every SIMD tile remainder, heights to MAX_H every thread
   * stripe split; both at once only slow the fuzzer down (the reference is slow
   * under coverage instrumentation), so the area is capped. */
  if (w > 0 && h > MAX_AREA / w)
    h = MAX (1, MAX_AREA / w);
  gboolean raw_in, raw_out;
  int channels = espcn_int8_model_get_channels (models[model]);
  EspcnPixelLayout li = read_layout (&rd, channels, &raw_in), lo = read_layout (&rd, channels, &raw_out);
  /* Stride padding 0 .. 63 bytes; a set top bit makes it a shortfall instead. */
  guint8 pi = fuzz_u8 (&rd), po = fuzz_u8 (&rd);
  gint64 row_in = (gint64) w * (raw_in ? MAX (li.bpp, 1) : li.bpp);
  gint64 row_out = (gint64) w * s * (raw_out ? MAX (lo.bpp, 1) : lo.bpp);
  gint64 in_stride = pi & 0x80 ? row_in - 1 - (pi & 0x3f) : row_in + (pi & 0x3f);
  gint64 out_stride = po & 0x80 ? row_out - 1 - (po & 0x3f) : row_out + (po & 0x3f);
  in_stride = MAX (in_stride, 1);
  out_stride = MAX (out_stride, 1);

  /* Exact extents (at least one byte so the pointers are real). */
  gint64 in_rows = MAX (h, 1), out_rows = MAX ((gint64) h * s, 1);
  gsize in_len = (gsize) MAX ((in_rows - 1) * in_stride + row_in, 1);
  gsize out_len = (gsize) MAX ((out_rows - 1) * out_stride + row_out, 1);
  g_autofree guint8 *in = g_malloc (in_len);
  for (gsize i = 0; i < in_len; i++)
    in[i] = rd.n ? rd.p[i % rd.n] : (guint8) (i * 131 + 7);
  g_autofree guint8 *fill = g_malloc (out_len);
  for (gsize i = 0; i < out_len; i++)
    fill[i] = (guint8) (i * 73 + 29);
  g_autofree guint8 *out_ref = g_memdup2 (fill, out_len);
  g_autofree guint8 *out_run = g_memdup2 (fill, out_len);

  g_autoptr (GError) e_check = NULL, e_ref = NULL, e_run = NULL;
  gboolean ok_check = espcn_engine_check_frames (models[model], in, in_stride, &li, w, h, out_run, out_stride, &lo,
      &e_check);
  gboolean ok_ref = espcn_engine_process_reference (models[model], in, in_stride, &li, w, h, out_ref, out_stride, &lo,
      &e_ref);
  EspcnRunner *r = get_runner (model, threads, isa);
  gboolean ok_run = espcn_runner_process (r, in, in_stride, &li, w, h, out_run, out_stride, &lo, &e_run);

  FUZZ_CHECK (ok_ref == ok_check && ok_run == ok_check, "check %d, reference %d, runner %d (%dx%d, strides %"
      G_GINT64_FORMAT "/%" G_GINT64_FORMAT ")", ok_check, ok_ref, ok_run, w, h, in_stride, out_stride);
  if (!ok_check) {
    FUZZ_CHECK (e_check && e_ref && e_run, "a refusal without an error");
    FUZZ_CHECK (memcmp (out_ref, fill, out_len) == 0, "the reference wrote to a refused frame");
    FUZZ_CHECK (memcmp (out_run, fill, out_len) == 0, "the runner wrote to a refused frame");
    return 0;
  }
  FUZZ_CHECK (!raw_in || espcn_pixel_layout_validate (&li, NULL), "an invalid input layout accepted");
  FUZZ_CHECK (w >= 1 && h >= 1 && in_stride >= row_in && out_stride >= row_out, "a bad frame accepted");
  for (gsize i = 0; i < out_len; i++)
    if (out_run[i] != out_ref[i])
      FUZZ_CHECK (FALSE, "byte %" G_GSIZE_FORMAT " (row %" G_GSIZE_FORMAT "): runner %u, reference %u (%s, %d threads, "
          "x%d %dx%d)", i, i / (gsize) out_stride, out_run[i], out_ref[i], espcn_runner_get_isa_name (r), threads, s,
          w, h);
  /* Only the colour bytes of output pixels change. */
  for (gsize i = 0; i < out_len; i++) {
    gsize x = i % (gsize) out_stride;
    gboolean named = FALSE;
    if (x < (gsize) row_out) {
      int off = (int) (x % (gsize) lo.bpp);
      named = off == lo.r || off == lo.g || off == lo.b;
    }
    if (!named)
      FUZZ_CHECK (out_ref[i] == fill[i], "byte %" G_GSIZE_FORMAT " outside the colour bytes was written", i);
  }
  return 0;
}
