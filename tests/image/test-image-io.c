/* Image decoding/encoding and the packed <-> planar conversions. Inputs of every
 * PNG colour type are written here with libpng / libjpeg directly. */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <jpeglib.h>
#include <png.h>

#include "image/image-io.h"
#include "test-util.h"

static void
append (png_structp png, png_bytep data, png_size_t n)
{
  g_byte_array_append (png_get_io_ptr (png), data, (guint) n);
}

static void
flush (png_structp png)
{
  (void) png;
}

/* A w x h PNG of `color_type` and `depth` whose sample s of pixel i is
 * (i * 7 + s * 50) & (2^depth - 1); palette: 4 entries. */
static GBytes *
make_png (int w, int h, int color_type, int depth)
{
  GByteArray *out = g_byte_array_new ();
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  g_assert_true (setjmp (png_jmpbuf (png)) == 0);
  png_set_write_fn (png, out, append, flush);
  png_set_IHDR (png, info, w, h, depth, color_type, PNG_INTERLACE_NONE,
      PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    png_color pal[4] = { { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 10, 20, 30 } };
    png_set_PLTE (png, info, pal, 4);
  }
  png_write_info (png, info);
  int ch = color_type == PNG_COLOR_TYPE_GRAY ? 1 : color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
      : color_type == PNG_COLOR_TYPE_RGB ? 3 : color_type == PNG_COLOR_TYPE_RGBA ? 4 : 1;
  int bytes = depth == 16 ? 2 : 1;
  guint8 *row = g_malloc0 ((gsize) w * ch * bytes);
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++)
      for (int s = 0; s < ch; s++) {
        int i = y * w + x;
        if (color_type == PNG_COLOR_TYPE_PALETTE)
          row[x] = (guint8) (i % 4);
        else if (depth == 16) {
          row[(x * ch + s) * 2] = (guint8) (i * 7 + s * 50);
          row[(x * ch + s) * 2 + 1] = 0xab;
        } else
          row[x * ch + s] = (guint8) (i * 7 + s * 50);
      }
    png_write_row (png, row);
  }
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  g_free (row);
  return g_byte_array_free_to_bytes (out);
}

static EspcnImage *
load_bytes (GBytes *b, GError **error)
{
  gsize n;
  const guint8 *d = g_bytes_get_data (b, &n);
  return espcn_image_load_from_data (d, n, "test", error);
}

static void
test_png_gray_expands_to_rgb (void)
{
  g_autoptr (GBytes) b = make_png (5, 3, PNG_COLOR_TYPE_GRAY, 8);
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnImage) img = load_bytes (b, &error);
  g_assert_no_error (error);
  g_assert_cmpint (img->width, ==, 5);
  g_assert_cmpint (img->height, ==, 3);
  g_assert_true (img->gray);
  for (int i = 0; i < 15; i++)
    for (int c = 0; c < 3; c++)
      g_assert_cmpuint (img->data[3 * i + c], ==, (guint8) (i * 7));
}

static void
test_png_alpha_is_dropped (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) ga = make_png (4, 2, PNG_COLOR_TYPE_GRAY_ALPHA, 8);
  g_autoptr (EspcnImage) a = load_bytes (ga, &error);
  g_assert_no_error (error);
  g_assert_true (a->gray);
  g_assert_cmpuint (a->data[3 * 3 + 1], ==, 21);
  g_autoptr (GBytes) rgba = make_png (4, 2, PNG_COLOR_TYPE_RGBA, 8);
  g_autoptr (EspcnImage) b = load_bytes (rgba, &error);
  g_assert_no_error (error);
  g_assert_false (b->gray);
  for (int i = 0; i < 8; i++)
    for (int s = 0; s < 3; s++)
      g_assert_cmpuint (b->data[3 * i + s], ==, (guint8) (i * 7 + s * 50));
}

static void
test_png_palette_and_16_bit (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) pal = make_png (4, 1, PNG_COLOR_TYPE_PALETTE, 8);
  g_autoptr (EspcnImage) a = load_bytes (pal, &error);
  g_assert_no_error (error);
  static const guint8 expect[12] = { 255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30 };
  g_assert_cmpmem (a->data, 12, expect, 12);
  /* 16-bit: the high byte is kept (low byte 0xab is dropped). */
  g_autoptr (GBytes) b16 = make_png (3, 2, PNG_COLOR_TYPE_RGB, 16);
  g_autoptr (EspcnImage) b = load_bytes (b16, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 6; i++)
    for (int s = 0; s < 3; s++)
      g_assert_cmpuint (b->data[3 * i + s], ==, (guint8) (i * 7 + s * 50));
}

static EspcnImage *
pattern (int w, int h)
{
  EspcnImage *img = espcn_image_new (w, h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint8 *p = img->data + (y * w + x) * 3;
      p[0] = (guint8) (x * 255 / (w - 1));
      p[1] = (guint8) (y * 255 / (h - 1));
      p[2] = (guint8) (128 + 60 * sin (x * 0.2) * cos (y * 0.3));
    }
  return img;
}

static void
test_png_save_load_round_trip_is_exact (void)
{
  g_autofree gchar *dir = espcn_test_make_tmp_dir ("espcn-io-XXXXXX");
  g_autofree gchar *path = g_build_filename (dir, "a.png", NULL);
  g_autoptr (EspcnImage) img = pattern (37, 23);
  g_autoptr (GError) error = NULL;
  g_assert_true (espcn_image_save_png (img, path, &error));
  g_assert_no_error (error);
  g_autoptr (EspcnImage) back = espcn_image_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->width, ==, 37);
  g_assert_cmpint (back->height, ==, 23);
  g_assert_cmpmem (back->data, 37 * 23 * 3, img->data, 37 * 23 * 3);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_jpeg_save_load_round_trip_is_close (void)
{
  g_autofree gchar *dir = espcn_test_make_tmp_dir ("espcn-io-XXXXXX");
  /* The name says PNG: the loader must sniff the content. */
  g_autofree gchar *path = g_build_filename (dir, "really-a-jpeg.png", NULL);
  g_autoptr (EspcnImage) img = pattern (64, 48);
  g_autoptr (GError) error = NULL;
  g_assert_true (espcn_image_save_jpeg (img, path, 95, &error));
  g_autoptr (EspcnImage) back = espcn_image_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->width, ==, 64);
  g_assert_false (back->gray);
  double se = 0;
  for (int i = 0; i < 64 * 48 * 3; i++) {
    double d = (double) back->data[i] - img->data[i];
    se += d * d;
  }
  double psnr = 10 * log10 (255.0 * 255.0 / (se / (64 * 48 * 3)));
  g_test_message ("JPEG q95 round trip PSNR %.2f dB", psnr);
  g_assert_cmpfloat (psnr, >, 35.0);
  g_assert_false (espcn_image_save_jpeg (img, path, 0, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_jpeg_grayscale_loads_as_gray_rgb (void)
{
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr err;
  unsigned char *buf = NULL;
  unsigned long size = 0;
  c.err = jpeg_std_error (&err);
  jpeg_create_compress (&c);
  jpeg_mem_dest (&c, &buf, &size);
  c.image_width = 16;
  c.image_height = 8;
  c.input_components = 1;
  c.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults (&c);
  jpeg_set_quality (&c, 100, TRUE);
  jpeg_start_compress (&c, TRUE);
  guint8 row[16];
  memset (row, 140, 16);
  while (c.next_scanline < 8) {
    JSAMPROW r = row;
    jpeg_write_scanlines (&c, &r, 1);
  }
  jpeg_finish_compress (&c);
  jpeg_destroy_compress (&c);
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnImage) img = espcn_image_load_from_data (buf, size, "gray.jpg", &error);
  free (buf);
  g_assert_no_error (error);
  g_assert_true (img->gray);
  for (int i = 0; i < 16 * 8 * 3; i++)
    g_assert_cmpint (abs (img->data[i] - 140), <=, 1);
}

static void
test_corrupt_inputs_give_errors (void)
{
  g_autoptr (EspcnImage) img = pattern (40, 30);
  g_autoptr (GBytes) jpg = espcn_image_encode_jpeg (img, 90, NULL);
  g_autoptr (GBytes) png = espcn_image_encode_png (img, NULL);
  gsize jn, pn;
  const guint8 *jd = g_bytes_get_data (jpg, &jn);
  const guint8 *pd = g_bytes_get_data (png, &pn);
  GError *error = NULL;

  /* Truncated JPEG and PNG, at several lengths. */
  for (gsize cut = 3; cut < jn; cut += jn / 7) {
    g_assert_null (espcn_image_load_from_data (jd, cut, "cut.jpg", &error));
    g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
    g_assert_nonnull (strstr (error->message, "cut.jpg"));
    g_clear_error (&error);
  }
  for (gsize cut = 8; cut < pn; cut += pn / 7) {
    g_assert_null (espcn_image_load_from_data (pd, cut, "cut.png", &error));
    g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
    g_clear_error (&error);
  }
  /* JPEG magic followed by garbage. */
  guint8 junk[64];
  memset (junk, 0x5a, sizeof junk);
  junk[0] = 0xff, junk[1] = 0xd8, junk[2] = 0xff;
  g_assert_null (espcn_image_load_from_data (junk, sizeof junk, "junk.jpg", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_clear_error (&error);
  /* Neither format. */
  g_assert_null (espcn_image_load_from_data ((const guint8 *) "GIF89a....", 10, "x.gif", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_assert_nonnull (strstr (error->message, "not a PNG or JPEG"));
  g_clear_error (&error);
  g_assert_null (espcn_image_load_from_data (jd, 0, NULL, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_clear_error (&error);
  /* Missing file. */
  g_assert_null (espcn_image_load ("/nonexistent/espcn/x.png", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);
}

static guint32
crc32 (const guint8 *d, gsize n)
{
  guint32 c = 0xffffffffu;
  for (gsize i = 0; i < n; i++) {
    c ^= d[i];
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

static void
put_be32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

static void
test_absurd_dimensions_are_refused (void)
{
  g_autoptr (EspcnImage) img = pattern (4, 4);
  g_autoptr (GBytes) png = espcn_image_encode_png (img, NULL);
  gsize n;
  const void *src = g_bytes_get_data (png, &n);
  guint8 *d = g_memdup2 (src, n);
  /* IHDR data at offset 16 (8 signature + 4 length + 4 type), CRC over type+data. */
  const guint32 sizes[3][2] = { { 40000, 4 }, { 4, 40000 }, { 20000, 20000 } };
  for (int i = 0; i < 3; i++) {
    put_be32 (d + 16, sizes[i][0]);
    put_be32 (d + 20, sizes[i][1]);
    put_be32 (d + 29, crc32 (d + 12, 17));
    GError *error = NULL;
    g_assert_null (espcn_image_load_from_data (d, n, "huge.png", &error));
    g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
    g_test_message ("%s", error->message);
    g_clear_error (&error);
  }
  g_free (d);

  /* JPEG: patch the SOF0 height/width to 40000 x 40000. */
  g_autoptr (GBytes) jpg = espcn_image_encode_jpeg (img, 90, NULL);
  src = g_bytes_get_data (jpg, &n);
  guint8 *j = g_memdup2 (src, n);
  gboolean patched = FALSE;
  for (gsize i = 2; i + 9 < n; i++)
    if (j[i] == 0xff && j[i + 1] == 0xc0) {
      j[i + 5] = 40000 >> 8, j[i + 6] = 40000 & 0xff;
      j[i + 7] = 40000 >> 8, j[i + 8] = 40000 & 0xff;
      patched = TRUE;
      break;
    }
  g_assert_true (patched);
  GError *error = NULL;
  g_assert_null (espcn_image_load_from_data (j, n, "huge.jpg", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_clear_error (&error);
  g_free (j);
}

static void
test_planar_conversions_round_half_up_and_clamp (void)
{
  g_autoptr (EspcnImage) img = pattern (5, 4);
  float chw[3 * 20];
  espcn_image_to_planar_f32 (img, chw);
  /* Plane layout: R plane then G then B. */
  g_assert_cmpfloat (chw[7], ==, img->data[3 * 7] / 255.0f);
  g_assert_cmpfloat (chw[20 + 7], ==, img->data[3 * 7 + 1] / 255.0f);
  g_assert_cmpfloat (chw[40 + 7], ==, img->data[3 * 7 + 2] / 255.0f);
  g_autoptr (EspcnImage) back = espcn_image_new (5, 4);
  espcn_image_from_planar_f32 (back, chw);
  g_assert_cmpmem (back->data, 60, img->data, 60);
  /* 10.5 / 255 -> 11 (half up), 10.49 / 255 -> 10, out of range clamps, NaN -> 0. */
  chw[0] = 10.5f / 255.0f;
  chw[1] = 10.49f / 255.0f;
  chw[2] = -0.3f;
  chw[3] = 1.7f;
  chw[4] = NAN;
  espcn_image_from_planar_f32 (back, chw);
  g_assert_cmpuint (back->data[0], ==, 11);
  g_assert_cmpuint (back->data[3], ==, 10);
  g_assert_cmpuint (back->data[6], ==, 0);
  g_assert_cmpuint (back->data[9], ==, 255);
  g_assert_cmpuint (back->data[12], ==, 0);
}

static void
test_crop_and_modcrop (void)
{
  g_autoptr (EspcnImage) img = pattern (11, 7);
  img->gray = TRUE;
  g_autoptr (EspcnImage) m = espcn_image_modcrop (img, 3);
  g_assert_cmpint (m->width, ==, 9);
  g_assert_cmpint (m->height, ==, 6);
  g_assert_true (m->gray);
  g_assert_cmpmem (m->data + 9 * 3, 27, img->data + 11 * 3, 27);
  g_autoptr (EspcnImage) c = espcn_image_crop (img, 2, 3, 4, 2);
  g_assert_cmpmem (c->data, 12, img->data + (3 * 11 + 2) * 3, 12);
}

/* Each of the 8 symmetries, pixel by pixel against its definition: bit 2
 * transposes, then bit 0 mirrors left-right and bit 1 top-bottom. */
static void
test_dihedral_moves_each_pixel_to_its_symmetric_place (void)
{
  g_autoptr (EspcnImage) img = pattern (5, 3);
  for (unsigned op = 0; op < 8; op++) {
    g_autoptr (EspcnImage) d = espcn_image_dihedral (img, op);
    gboolean tr = (op & 4) != 0;
    g_assert_cmpint (d->width, ==, tr ? 3 : 5);
    g_assert_cmpint (d->height, ==, tr ? 5 : 3);
    for (int y = 0; y < d->height; y++)
      for (int x = 0; x < d->width; x++) {
        int u = (op & 1) ? d->width - 1 - x : x, v = (op & 2) ? d->height - 1 - y : y;
        int sx = tr ? v : u, sy = tr ? u : v;
        g_assert_cmpmem (d->data + (y * d->width + x) * 3, 3, img->data + (sy * 5 + sx) * 3, 3);
      }
    /* The 8 results differ from one another (the pattern has no symmetry). */
    for (unsigned other = 0; other < op; other++) {
      g_autoptr (EspcnImage) e = espcn_image_dihedral (img, other);
      g_assert_false (e->width == d->width && memcmp (e->data, d->data, (gsize) 15 * 3) == 0);
    }
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image-io/png-gray-expands-to-rgb", test_png_gray_expands_to_rgb);
  g_test_add_func ("/image-io/png-alpha-is-dropped", test_png_alpha_is_dropped);
  g_test_add_func ("/image-io/png-palette-and-16-bit", test_png_palette_and_16_bit);
  g_test_add_func ("/image-io/png-save-load-round-trip-is-exact",
      test_png_save_load_round_trip_is_exact);
  g_test_add_func ("/image-io/jpeg-save-load-round-trip-is-close",
      test_jpeg_save_load_round_trip_is_close);
  g_test_add_func ("/image-io/jpeg-grayscale-loads-as-gray-rgb",
      test_jpeg_grayscale_loads_as_gray_rgb);
  g_test_add_func ("/image-io/corrupt-inputs-give-errors", test_corrupt_inputs_give_errors);
  g_test_add_func ("/image-io/absurd-dimensions-are-refused", test_absurd_dimensions_are_refused);
  g_test_add_func ("/image/planar-conversions-round-half-up-and-clamp",
      test_planar_conversions_round_half_up_and_clamp);
  g_test_add_func ("/image/crop-and-modcrop", test_crop_and_modcrop);
  g_test_add_func ("/image/dihedral-moves-each-pixel-to-its-symmetric-place",
      test_dihedral_moves_each_pixel_to_its_symmetric_place);
  return g_test_run ();
}
