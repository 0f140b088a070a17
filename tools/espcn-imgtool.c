/* espcn-imgtool: the small image steps of a demo or a shell pipeline, with the
 * project's own conventions (MATLAB-compatible bicubic, BT.601 Y-PSNR). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-io.h"
#include "image/imresize.h"
#include "metrics/metrics.h"

static int
usage (void)
{
  fprintf (stderr,
      "usage: espcn-imgtool down IN OUT.png S     modcrop to a multiple of S, then bicubic downscale by S\n"
      "       espcn-imgtool up IN OUT.png S       bicubic upscale by S\n"
      "       espcn-imgtool psnr REF IMG S        Y-PSNR (S pixels shaved), RGB PSNR and SSIM of IMG against REF\n"
      "                                           (REF is modcropped to a multiple of S first)\n");
  return 2;
}

static gboolean
parse_scale (const char *s, int *out)
{
  char *end;
  long v = strtol (s, &end, 10);
  if (*end != '\0' || v < 2 || v > 4) {
    fprintf (stderr, "espcn-imgtool: scale '%s' must be 2, 3 or 4\n", s);
    return FALSE;
  }
  *out = (int) v;
  return TRUE;
}

int
main (int argc, char **argv)
{
  if (argc != 5)
    return usage ();
  int s;
  if (!parse_scale (argv[4], &s))
    return 2;
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnImage) a = espcn_image_load (argv[2], &error);
  if (a == NULL) {
    fprintf (stderr, "espcn-imgtool: %s\n", error->message);
    return 1;
  }
  if (strcmp (argv[1], "down") == 0 || strcmp (argv[1], "up") == 0) {
    g_autoptr (EspcnImage) out = NULL;
    if (strcmp (argv[1], "down") == 0) {
      g_autoptr (EspcnImage) hr = espcn_image_modcrop (a, s);
      out = espcn_imresize (hr, hr->width / s, hr->height / s);
    } else {
      out = espcn_imresize (a, a->width * s, a->height * s);
    }
    if (!espcn_image_save_png (out, argv[3], &error)) {
      fprintf (stderr, "espcn-imgtool: %s\n", error->message);
      return 1;
    }
    return 0;
  }
  if (strcmp (argv[1], "psnr") == 0) {
    g_autoptr (EspcnImage) b = espcn_image_load (argv[3], &error);
    if (b == NULL) {
      fprintf (stderr, "espcn-imgtool: %s\n", error->message);
      return 1;
    }
    g_autoptr (EspcnImage) ref = espcn_image_modcrop (a, s);
    if (ref->width != b->width || ref->height != b->height) {
      fprintf (stderr, "espcn-imgtool: %s is %dx%d, the reference (modcropped) is %dx%d\n", argv[3], b->width, b->height,
          ref->width, ref->height);
      return 1;
    }
    printf ("%.4f %.4f %.5f\n", espcn_psnr_y (b, ref, s), espcn_psnr_rgb (b, ref, s), espcn_ssim_y (b, ref, s));
    return 0;
  }
  return usage ();
}
