/* Writes the seed corpus of the fuzz targets into DIR/<target>/ (committed):
 * small valid INT8 models of every scale and weight type, their truncations and a
 * few containers of other dtypes for the loader; frames of several sizes, layouts,
 * strides (some invalid) for the engine target; frames of every format, with and
 * without a GstVideoMeta, some cut short or with short strides, for the element
 * target. */
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "engine/model.h"
#include "io/safetensors.h"
#include "test-models.h"

static void
put (const char *dir, const char *name, const void *data, gsize len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_file_set_contents (path, data, (gssize) len, &error))
    g_error ("%s", error->message);
}

static void
loader_corpus (const char *dir)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 99);
  for (int s = 2; s <= 4; s++)
    for (int wide = 0; wide < 2; wide++) {
      g_autoptr (TestLayers) t = test_layers_random (&rng, 4, s, wide);
      g_hash_table_insert (t->metadata, g_strdup ("recipe"), g_strdup ("fuzz seed"));
      g_autoptr (EspcnInt8Model) m = test_layers_build (t);
      g_autoptr (GBytes) b = espcn_int8_model_save_to_bytes (m, NULL);
      gsize len;
      const guint8 *p = g_bytes_get_data (b, &len);
      g_autofree char *name = g_strdup_printf ("model-x%d-%s.bin", s, wide ? "i16" : "i8");
      put (dir, name, p, len);
      if (s == 2) {
        /* Truncations: inside the length, the header, the data, one byte short. */
        guint64 hlen = 0;
        memcpy (&hlen, p, 8);
        gsize cuts[] = { 0, 5, 8, 8 + (gsize) hlen / 2, 8 + (gsize) hlen, len / 2 + (gsize) hlen / 2, len - 1 };
        for (guint i = 0; i < G_N_ELEMENTS (cuts); i++) {
          g_autofree char *tn = g_strdup_printf ("trunc-x2-%s-%03u.bin", wide ? "i16" : "i8", i);
          put (dir, tn, p, cuts[i]);
        }
      }
    }
  /* Containers the model loader refuses but the reader accepts: other dtypes,
   * scalars, empty tensors, metadata only. */
  g_autoptr (EspcnSafetensorsWriter) w = espcn_safetensors_writer_new ();
  const gint64 shape2[2] = { 2, 3 }, shape0[1] = { 0 };
  guint16 h[6] = { 0x3c00, 0x4000, 0xbc00, 0x7c00, 0x7e00, 0 };
  double d = 1.5;
  espcn_safetensors_writer_add (w, "half", ESPCN_DTYPE_F16, 2, shape2, h, NULL);
  espcn_safetensors_writer_add (w, "scalar", ESPCN_DTYPE_F64, 0, NULL, &d, NULL);
  espcn_safetensors_writer_add (w, "empty", ESPCN_DTYPE_I32, 1, shape0, NULL, NULL);
  espcn_safetensors_writer_set_metadata (w, "format", "espcn-int8", NULL);
  espcn_safetensors_writer_set_metadata (w, "format_version", "1", NULL);
  g_autoptr (GBytes) b = espcn_safetensors_writer_to_bytes (w);
  put (dir, "container-dtypes.st", g_bytes_get_data (b, NULL), g_bytes_get_size (b));
  static const char meta_only[] = "\x2c\0\0\0\0\0\0\0{\"__metadata__\":{\"format\":\"espcn-int8\"}}    ";
  put (dir, "container-metadata-only.st", meta_only, sizeof meta_only - 1);
}

/* A fuzz input: the target's header bytes, then n_pixels random bytes. */
static void
seed_input (const char *dir, const char *name, const guint8 *head, gsize head_len, int n_pixels, guint64 seed)
{
  GByteArray *a = g_byte_array_new ();
  g_byte_array_append (a, head, (guint) head_len);
  EspcnRng rng;
  espcn_rng_seed (&rng, seed);
  for (int i = 0; i < n_pixels; i++) {
    guint8 v = (guint8) espcn_rng_below (&rng, 256);
    g_byte_array_append (a, &v, 1);
  }
  put (dir, name, a->data, a->len);
  g_byte_array_unref (a);
}

/* The engine target reads: model/threads/isa, w, h, two layouts of 4 bytes, two
 * stride paddings, then pixels. */
static void
frame (const char *dir, const char *name, const guint8 head[13], int n_pixels, guint64 seed)
{
  seed_input (dir, name, head, 13, n_pixels, seed);
}

static void
engine_corpus (const char *dir)
{
  /* sel: model = sel % 6 (x2 i8, x2 i16, x3 i8, ...), threads = 1 + sel / 6 % 3, isa = sel / 18 % 2. */
  frame (dir, "rgb-x2-1x1.bin", (const guint8[13]) { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 3, 1);
  frame (dir, "rgb-x2-7x5-2threads.bin", (const guint8[13]) { 6, 6, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 105, 2);
  frame (dir, "bgrx-to-xrgb-x3-i16-padded.bin",
      (const guint8[13]) { 3, 16, 9, 1, 2, 1, 0, 1, 1, 0, 0, 5, 17 }, 600, 3);
  frame (dir, "rgba16-x4-c-3threads.bin", (const guint8[13]) { 4 + 12 + 18, 40, 30, 13, 7, 3, 9, 0, 0, 0, 0, 33, 0 },
      256, 4);
  frame (dir, "x4-i16-wide-odd.bin", (const guint8[13]) { 5, 47, 1, 0, 0, 0, 0, 2, 0, 0, 0, 1, 63 }, 200, 5);
  frame (dir, "tall-1-wide.bin", (const guint8[13]) { 1, 0, 39, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0 }, 50, 6);
  /* Refused: zero width, a short stride, an invalid layout. */
  frame (dir, "refused-zero-width.bin", (const guint8[13]) { 0, 255, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 10, 7);
  frame (dir, "refused-short-stride.bin", (const guint8[13]) { 0, 5, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0x81, 0 }, 10, 8);
  frame (dir, "refused-bad-layout.bin", (const guint8[13]) { 0, 5, 3, 0xc3, 0, 0, 1, 0, 0, 0, 0, 0, 0 }, 10, 9);
}

/* The element target reads: format, width - 1, height - 1, model/threads, mode,
 * lead, three stride paddings, cut, then pixels (fuzz-element-transform.c). */
static void
element_frame (const char *dir, const char *name, const guint8 head[10], int n_pixels, guint64 seed)
{
  seed_input (dir, name, head, 10, n_pixels, seed);
}

static void
element_corpus (const char *dir)
{
  /* Every format in its caps layout; model = sel % 6 (x2 i8, x2 i16, x3 i8, ...),
   * threads = 1 + sel / 6 % 3. */
  static const char *names[] = { "rgb", "bgr", "rgbx", "bgrx", "xrgb", "xbgr", "rgba", "bgra", "argb", "abgr",
                                 "i420", "nv12" };
  for (int f = 0; f < 12; f++) {
    int w = 1 + (f * 7) % 13, h = 1 + (f * 5) % 9, sel = f % 6 + 6 * (f % 3);
    g_autofree char *name = g_strdup_printf ("%s-x%d-%dx%d.bin", names[f], 2 + (sel % 6) / 2, w, h);
    element_frame (dir, name, (const guint8[10]) { f, w - 1, h - 1, sel, 0, 0, 0, 0, 0, 0 }, 64, 100 + f);
  }
  /* Luma models: formats 12..16 (YV12, NV21, Y42B, Y444, GRAY8) always, I420
   * and NV12 when sel / 18 is odd; scale 2 + sel % 3. */
  static const char *luma_names[] = { "i420", "nv12", "yv12", "nv21", "y42b", "y444", "gray8" };
  for (int f = 10; f < 17; f++) {
    int w = 1 + (f * 7) % 13, h = 1 + (f * 5) % 9, sel = 18 + f % 3;
    g_autofree char *name = g_strdup_printf ("luma-%s-x%d-%dx%d.bin", luma_names[f - 10], 2 + sel % 3, w, h);
    element_frame (dir, name, (const guint8[10]) { f, w - 1, h - 1, sel, 0, 0, 0, 0, 0, 0 }, 64, 200 + f);
  }
  /* mode: bits 0-1 layout (0 caps, 1 meta, 2 meta cut short, 3 caps cut short),
   * bit 2 planes reversed, bit 3 one stride short, bits 4-5 its plane, bits 6-7
   * colorimetry; lead: bits 0-5 first offset, bit 6 two memories. */
  element_frame (dir, "bgrx-meta-padded-x3.bin", (const guint8[10]) { 3, 20, 9, 2, 1, 5, 17, 0, 0, 0 }, 200, 1);
  element_frame (dir, "i420-meta-planes-reversed-x4-2threads.bin",
      (const guint8[10]) { 10, 16, 11, 4 + 6, 1 | 4, 3, 2, 0x41, 0x83, 0 }, 300, 2);
  element_frame (dir, "nv12-meta-padded-bt709-odd-x3.bin",
      (const guint8[10]) { 11, 14, 6, 3 + 12, 1 | (1 << 6), 9, 1, 33, 0, 0 }, 150, 3);
  element_frame (dir, "i420-full-range-x2.bin", (const guint8[10]) { 10, 9, 9, 0, 3 << 6, 0, 0, 0, 0, 0 }, 100, 4);
  element_frame (dir, "rgba-two-memories-x2.bin", (const guint8[10]) { 6, 12, 4, 1, 0, 0x40, 0, 0, 0, 0 }, 80, 5);
  element_frame (dir, "nv12-meta-two-memories-x2.bin",
      (const guint8[10]) { 11, 7, 7, 0, 1, 0x40, 0x80, 11, 0, 0 }, 80, 6);
  /* Refused: cut short (with and without a meta), short strides, a plane across memories. */
  element_frame (dir, "luma-y42b-meta-planes-reversed-x3.bin",
      (const guint8[10]) { 14, 16, 11, 18 + 1, 1 | 4, 3, 2, 0x41, 0x83, 0 }, 300, 8);
  element_frame (dir, "luma-nv21-meta-two-memories-x4.bin",
      (const guint8[10]) { 13, 13, 7, 18 + 2, 1, 0x45, 4, 9, 0, 0 }, 150, 9);
  element_frame (dir, "refused-luma-i420-meta-short-v-stride.bin",
      (const guint8[10]) { 10, 15, 7, 18, 1 | 8 | (2 << 4), 0, 3, 3, 5, 0 }, 120, 10);
  element_frame (dir, "refused-rgb-cut-short.bin", (const guint8[10]) { 0, 10, 5, 0, 3, 0, 0, 0, 0, 0 }, 40, 7);
  element_frame (dir, "refused-i420-meta-cut-short.bin",
      (const guint8[10]) { 10, 10, 5, 2, 2, 4, 8, 8, 8, 30 }, 40, 8);
  element_frame (dir, "refused-argb-meta-short-stride.bin",
      (const guint8[10]) { 8, 10, 5, 0, 1 | 8, 0, 3, 0, 0, 0 }, 40, 9);
  element_frame (dir, "refused-nv12-meta-short-uv-stride.bin",
      (const guint8[10]) { 11, 10, 5, 0, 1 | 8 | (1 << 4), 0, 0, 0, 0, 0 }, 40, 10);
  element_frame (dir, "refused-i420-meta-plane-across-memories.bin",
      (const guint8[10]) { 10, 15, 15, 0, 1, 0x40, 0, 0, 0, 0 }, 40, 11);
}

int
main (int argc, char **argv)
{
  if (argc != 2) {
    fprintf (stderr, "usage: %s CORPUS-DIR\n", argv[0]);
    return 2;
  }
  g_autofree char *ld = g_build_filename (argv[1], "fuzz-model-loader", NULL);
  g_autofree char *ed = g_build_filename (argv[1], "fuzz-engine-frame", NULL);
  g_mkdir_with_parents (ld, 0755);
  g_autofree char *xd = g_build_filename (argv[1], "fuzz-element-transform", NULL);
  g_mkdir_with_parents (ed, 0755);
  g_mkdir_with_parents (xd, 0755);
  loader_corpus (ld);
  engine_corpus (ed);
  element_corpus (xd);
  return 0;
}
