#include "image/image-io.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "util/atomic-file.h"

static gboolean
check_size (guint64 w, guint64 h, const char *what, GError **error)
{
  if (w == 0 || h == 0 || w > ESPCN_IMAGE_MAX_SIDE || h > ESPCN_IMAGE_MAX_SIDE
      || w * h > ESPCN_IMAGE_MAX_PIXELS) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "%s: image size %" G_GUINT64_FORMAT "x%" G_GUINT64_FORMAT
        " is empty or too large (max %d per side, %d pixels)",
        what, w, h, ESPCN_IMAGE_MAX_SIDE, ESPCN_IMAGE_MAX_PIXELS);
    return FALSE;
  }
  return TRUE;
}

/* ---------------------------------------------------------------- PNG read */

typedef struct {
  const guint8 *data;
  gsize len, pos;
  char msg[200];
  char warning[200]; /* the last warning, which often says why an error came */
} PngSrc;

static void
png_read_mem (png_structp png, png_bytep out, png_size_t n)
{
  PngSrc *src = png_get_io_ptr (png);
  if (n > src->len - src->pos)
    png_error (png, "unexpected end of data");
  memcpy (out, src->data + src->pos, n);
  src->pos += n;
}

static void
png_on_error (png_structp png, png_const_charp msg)
{
  PngSrc *src = png_get_error_ptr (png);
  g_strlcpy (src->msg, msg, sizeof src->msg);
  png_longjmp (png, 1);
}

static void
png_on_warning (png_structp png, png_const_charp msg)
{
  /* Benign on its own (e.g. a bad sRGB profile): kept only to explain a
   * following error ("exceeds user limit" before "Invalid IHDR data"). */
  PngSrc *src = png_get_error_ptr (png);
  if (src != NULL)
    g_strlcpy (src->warning, msg, sizeof src->warning);
}

static void
png_on_write_warning (png_structp png, png_const_charp msg)
{
  (void) png;
  (void) msg;
}

static EspcnImage *
load_png (const guint8 *data, gsize len, const char *what, GError **error)
{
  PngSrc src = { data, len, 0, "", "" };
  png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, &src,
      png_on_error, png_on_warning);
  if (png == NULL) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOMEM, "%s: out of memory", what);
    return NULL;
  }
  png_infop info = png_create_info_struct (png);
  /* volatile: modified between setjmp and a possible longjmp. */
  EspcnImage *volatile img = NULL;
  png_bytep *volatile rows = NULL;

  if (info == NULL || setjmp (png_jmpbuf (png))) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: corrupt PNG: %s%s%s%s",
        what, src.msg[0] ? src.msg : "out of memory", src.warning[0] ? " (" : "",
        src.warning, src.warning[0] ? ")" : "");
    g_free (rows);
    espcn_image_free (img);
    png_destroy_read_struct (&png, &info, NULL);
    return NULL;
  }
  png_set_read_fn (png, &src, png_read_mem);
  png_set_user_limits (png, ESPCN_IMAGE_MAX_SIDE, ESPCN_IMAGE_MAX_SIDE);
  png_read_info (png, info);

  png_uint_32 w = png_get_image_width (png, info);
  png_uint_32 h = png_get_image_height (png, info);
  if (!check_size (w, h, what, error)) {
    png_destroy_read_struct (&png, &info, NULL);
    return NULL;
  }
  /* Before the transforms below rewrite the colour type. */
  gboolean gray = (png_get_color_type (png, info) & PNG_COLOR_MASK_COLOR) == 0;
  /* Everything to 8-bit RGB: palette and low-bit gray expanded, 16 bits cut
   * to 8, alpha (and tRNS, which expand turns into alpha) removed. */
  png_set_expand (png);
  png_set_strip_16 (png);
  png_set_strip_alpha (png);
  png_set_gray_to_rgb (png);
  png_set_interlace_handling (png);
  png_read_update_info (png, info);
  if (png_get_rowbytes (png, info) != (gsize) w * 3) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "%s: unsupported PNG pixel layout", what);
    png_destroy_read_struct (&png, &info, NULL);
    return NULL;
  }
  img = espcn_image_new ((int) w, (int) h);
  img->gray = gray;
  rows = g_new (png_bytep, h);
  for (png_uint_32 y = 0; y < h; y++)
    rows[y] = img->data + (gsize) y * w * 3;
  png_read_image (png, rows);
  png_read_end (png, NULL);
  g_free (rows);
  png_destroy_read_struct (&png, &info, NULL);
  return img;
}

/* --------------------------------------------------------------- JPEG read */

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jmp;
  gboolean truncated;
  char msg[JMSG_LENGTH_MAX];
} JpegErr;

static void
jpeg_on_error (j_common_ptr cinfo)
{
  JpegErr *err = (JpegErr *) cinfo->err;
  err->pub.format_message (cinfo, err->msg);
  longjmp (err->jmp, 1);
}

static void
jpeg_on_message (j_common_ptr cinfo, int level)
{
  JpegErr *err = (JpegErr *) cinfo->err;
  /* A truncated file decodes to grey filler: not a usable image. Other
   * warnings (extraneous bytes and the like) leave the pixels intact. */
  if (level < 0 && err->pub.msg_code == JWRN_JPEG_EOF)
    err->truncated = TRUE;
}

static EspcnImage *
load_jpeg (const guint8 *data, gsize len, const char *what, GError **error)
{
  struct jpeg_decompress_struct cinfo;
  JpegErr err;
  EspcnImage *volatile img = NULL;

  memset (&err, 0, sizeof err);
  cinfo.err = jpeg_std_error (&err.pub);
  err.pub.error_exit = jpeg_on_error;
  err.pub.emit_message = jpeg_on_message;
  if (setjmp (err.jmp)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: corrupt JPEG: %s", what,
        err.msg);
    espcn_image_free (img);
    jpeg_destroy_decompress (&cinfo);
    return NULL;
  }
  jpeg_create_decompress (&cinfo);
  jpeg_mem_src (&cinfo, (unsigned char *) data, (unsigned long) len);
  jpeg_read_header (&cinfo, TRUE);
  if (!check_size (cinfo.image_width, cinfo.image_height, what, error)) {
    jpeg_destroy_decompress (&cinfo);
    return NULL;
  }
  if (cinfo.jpeg_color_space != JCS_GRAYSCALE && cinfo.jpeg_color_space != JCS_YCbCr
      && cinfo.jpeg_color_space != JCS_RGB) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "%s: unsupported JPEG colour space (CMYK/YCCK)", what);
    jpeg_destroy_decompress (&cinfo);
    return NULL;
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress (&cinfo);
  if (cinfo.output_components != 3) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "%s: JPEG decoder gave %d components", what, cinfo.output_components);
    jpeg_destroy_decompress (&cinfo);
    return NULL;
  }
  img = espcn_image_new ((int) cinfo.output_width, (int) cinfo.output_height);
  img->gray = cinfo.jpeg_color_space == JCS_GRAYSCALE;
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = img->data + (gsize) cinfo.output_scanline * img->width * 3;
    jpeg_read_scanlines (&cinfo, &row, 1);
  }
  jpeg_finish_decompress (&cinfo);
  jpeg_destroy_decompress (&cinfo);
  if (err.truncated) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "%s: corrupt JPEG: truncated data", what);
    espcn_image_free (img);
    return NULL;
  }
  return img;
}

/* ------------------------------------------------------------------ public */

EspcnImage *
espcn_image_load_from_data (const guint8 *data, gsize len, const char *what,
    GError **error)
{
  if (what == NULL)
    what = "image data";
  static const guint8 png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  if (len >= 8 && memcmp (data, png_magic, 8) == 0)
    return load_png (data, len, what, error);
  if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
    return load_jpeg (data, len, what, error);
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
      "%s: not a PNG or JPEG file (unrecognised signature)", what);
  return NULL;
}

EspcnImage *
espcn_image_load (const char *path, GError **error)
{
  g_autofree gchar *contents = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  return espcn_image_load_from_data ((const guint8 *) contents, len, path, error);
}

/* --------------------------------------------------------------- PNG write */

typedef struct {
  GByteArray *out;
  char msg[200];
} PngDst;

static void
png_write_mem (png_structp png, png_bytep data, png_size_t n)
{
  PngDst *dst = png_get_io_ptr (png);
  g_byte_array_append (dst->out, data, (guint) n);
}

static void
png_flush_mem (png_structp png)
{
  (void) png;
}

static void
png_on_write_error (png_structp png, png_const_charp msg)
{
  PngDst *dst = png_get_error_ptr (png);
  g_strlcpy (dst->msg, msg, sizeof dst->msg);
  png_longjmp (png, 1);
}

GBytes *
espcn_image_encode_png (const EspcnImage *img, GError **error)
{
  PngDst dst = { g_byte_array_new (), "" };
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, &dst,
      png_on_write_error, png_on_write_warning);
  png_infop info = png ? png_create_info_struct (png) : NULL;
  png_bytep *volatile rows = NULL;
  if (png == NULL || info == NULL || setjmp (png_jmpbuf (png))) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "PNG encoding failed: %s",
        dst.msg[0] ? dst.msg : "out of memory");
    g_free (rows);
    png_destroy_write_struct (&png, &info);
    g_byte_array_unref (dst.out);
    return NULL;
  }
  png_set_write_fn (png, &dst, png_write_mem, png_flush_mem);
  png_set_IHDR (png, info, (png_uint_32) img->width, (png_uint_32) img->height, 8,
      PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
      PNG_FILTER_TYPE_DEFAULT);
  png_write_info (png, info);
  rows = g_new (png_bytep, img->height);
  for (int y = 0; y < img->height; y++)
    rows[y] = img->data + (gsize) y * img->width * 3;
  png_write_image (png, rows);
  png_write_end (png, NULL);
  g_free (rows);
  png_destroy_write_struct (&png, &info);
  return g_byte_array_free_to_bytes (dst.out);
}

/* -------------------------------------------------------------- JPEG write */

GBytes *
espcn_image_encode_jpeg (const EspcnImage *img, int quality, GError **error)
{
  struct jpeg_compress_struct cinfo;
  JpegErr err;
  unsigned char *volatile buf = NULL;
  unsigned long size = 0;

  if (quality < 1 || quality > 100) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "JPEG quality %d is outside 1..100", quality);
    return NULL;
  }
  memset (&err, 0, sizeof err);
  cinfo.err = jpeg_std_error (&err.pub);
  err.pub.error_exit = jpeg_on_error;
  err.pub.emit_message = jpeg_on_message;
  if (setjmp (err.jmp)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "JPEG encoding failed: %s",
        err.msg);
    jpeg_destroy_compress (&cinfo);
    free (buf);
    return NULL;
  }
  jpeg_create_compress (&cinfo);
  jpeg_mem_dest (&cinfo, (unsigned char **) &buf, &size);
  cinfo.image_width = (JDIMENSION) img->width;
  cinfo.image_height = (JDIMENSION) img->height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, quality, TRUE);
  jpeg_start_compress (&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = img->data + (gsize) cinfo.next_scanline * img->width * 3;
    jpeg_write_scanlines (&cinfo, &row, 1);
  }
  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);
  GBytes *bytes = g_bytes_new (buf, size);
  free (buf);
  return bytes;
}

static gboolean
write_bytes (GBytes *bytes, const char *path, GError **error)
{
  gsize len = 0;
  const void *data = g_bytes_get_data (bytes, &len);
  return espcn_write_file_atomic (path, data, len, error);
}

gboolean
espcn_image_save_png (const EspcnImage *img, const char *path, GError **error)
{
  g_autoptr (GBytes) bytes = espcn_image_encode_png (img, error);
  return bytes != NULL && write_bytes (bytes, path, error);
}

gboolean
espcn_image_save_jpeg (const EspcnImage *img, const char *path, int quality,
    GError **error)
{
  g_autoptr (GBytes) bytes = espcn_image_encode_jpeg (img, quality, error);
  return bytes != NULL && write_bytes (bytes, path, error);
}
