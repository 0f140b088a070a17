/* The element's ORC YUV <-> RGBx kernels (gst/espcn-yuv-orc.orc) against the
 * plain C reference of gst/espcn-yuv.c, byte for byte: random planes at every
 * width 1..70, odd heights, padded strides, I420 and NV12, every colour
 * matrix in both ranges.  Run once with ORC's compiled code and once with
 * ORC_CODE=emulate (meson.build). */
#include <glib.h>
#include <gst/video/video.h>
#include <string.h>

#include "espcn-yuv.h"
#include "test-util.h"

#define MAX_W 70
static const int heights[] = { 1, 2, 3, 6, 7 };

static const GstVideoColorMatrix matrices[] = { GST_VIDEO_COLOR_MATRIX_UNKNOWN, GST_VIDEO_COLOR_MATRIX_RGB,
                                                GST_VIDEO_COLOR_MATRIX_FCC, GST_VIDEO_COLOR_MATRIX_BT709,
                                                GST_VIDEO_COLOR_MATRIX_BT601, GST_VIDEO_COLOR_MATRIX_SMPTE240M,
                                                GST_VIDEO_COLOR_MATRIX_BT2020 };
static const GstVideoColorRange ranges[] = { GST_VIDEO_COLOR_RANGE_16_235, GST_VIDEO_COLOR_RANGE_0_255 };

/* Random bytes, a third of the time only 0 and 255 (the clamps' inputs). */
static void
fill (GRand *rng, guint8 *p, gsize n)
{
  gboolean extremes = g_rand_int_range (rng, 0, 3) == 0;
  for (gsize i = 0; i < n; i++)
    p[i] = extremes ? (g_rand_boolean (rng) ? 255 : 0) : (guint8) g_rand_int_range (rng, 0, 256);
}

/* A 4:2:0 frame in one buffer: I420 planes or NV12, every row padded by 1..9
 * bytes; for NV12 uv_odd puts the UV plane on an odd address (the kernels
 * must then fall back to C, same bytes). */
typedef struct {
  guint8 *buf;
  gsize size;
  EspcnYuvFrame f;
} Planes;

static void
planes_init (Planes *p, GRand *rng, gboolean nv12, int w, int h)
{
  int cw = (w + 1) / 2, ch = (h + 1) / 2;
  gsize ys = (gsize) w + g_rand_int_range (rng, 1, 10);
  gsize cs = (gsize) (nv12 ? 2 * cw : cw) + g_rand_int_range (rng, 1, 10);
  gsize yoff = g_rand_int_range (rng, 0, 4), off1 = yoff + ys * h + g_rand_int_range (rng, 0, 3);
  gsize off2 = nv12 ? off1 + 1 : off1 + cs * ch;
  p->size = off2 + cs * ch + 16;
  p->buf = g_malloc (p->size);
  fill (rng, p->buf, p->size);
  p->f = (EspcnYuvFrame) { { p->buf + yoff, p->buf + off1, p->buf + off2 }, { ys, cs, cs },
                           { 1, nv12 ? 2 : 1, nv12 ? 2 : 1 }, w, h };
}

static void
coeffs_for (EspcnYuvCoeffs *c, GstVideoColorMatrix m, GstVideoColorRange r)
{
  GstVideoColorimetry col = { r, m, GST_VIDEO_TRANSFER_BT709, GST_VIDEO_COLOR_PRIMARIES_BT709 };
  espcn_yuv_coeffs_init (c, &col);
}

static void
test_yuv_to_rgbx_orc_matches_c_reference (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (1);
  for (guint mi = 0; mi < G_N_ELEMENTS (matrices); mi++)
    for (guint ri = 0; ri < G_N_ELEMENTS (ranges); ri++) {
      EspcnYuvCoeffs c;
      coeffs_for (&c, matrices[mi], ranges[ri]);
      for (int nv12 = 0; nv12 < 2; nv12++)
        for (int w = 1; w <= MAX_W; w++)
          for (guint hi = 0; hi < G_N_ELEMENTS (heights); hi++) {
            int h = heights[hi];
            Planes p;
            planes_init (&p, rng, nv12, w, h);
            /* Strides a multiple of 8 (the element's) or of 4 only. */
            gsize st = (gsize) w * 4 + 4 * g_rand_int_range (rng, 0, 3);
            g_autofree guint8 *a = g_malloc (st * h), *b = g_malloc (st * h), *rgb = g_malloc ((gsize) w * 3 * h);
            memset (a, 0x5a, st * h);
            memset (b, 0x5a, st * h);
            espcn_yuv_to_rgbx (&c, &p.f, a, st, TRUE);
            espcn_yuv_to_rgbx (&c, &p.f, b, st, FALSE);
            espcn_yuv_to_rgb (&c, &p.f, rgb, (gsize) w * 3);
            for (int y = 0; y < h; y++) {
              if (memcmp (a + y * st, b + y * st, st) != 0)
                g_error ("%s matrix %d range %d %dx%d: ORC row %d differs from C", nv12 ? "NV12" : "I420",
                    matrices[mi], ranges[ri], w, h, y);
              for (int x = 0; x < w; x++) {
                const guint8 *q = b + y * st + 4 * x, *r = rgb + ((gsize) y * w + x) * 3;
                g_assert_true (q[0] == r[0] && q[1] == r[1] && q[2] == r[2] && q[3] == 0xff);
              }
              /* Row padding untouched. */
              for (gsize k = (gsize) w * 4; k < st; k++)
                g_assert_cmpuint (a[y * st + k], ==, 0x5a);
            }
            g_free (p.buf);
          }
    }
}

static void
test_rgbx_to_yuv_orc_matches_c_reference (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (2);
  for (guint mi = 0; mi < G_N_ELEMENTS (matrices); mi++)
    for (guint ri = 0; ri < G_N_ELEMENTS (ranges); ri++) {
      EspcnYuvCoeffs c;
      coeffs_for (&c, matrices[mi], ranges[ri]);
      for (int nv12 = 0; nv12 < 2; nv12++)
        for (int w = 1; w <= MAX_W; w++)
          for (guint hi = 0; hi < G_N_ELEMENTS (heights); hi++) {
            int h = heights[hi];
            gsize st = (gsize) w * 4 + 4 * g_rand_int_range (rng, 0, 3);
            g_autofree guint8 *src = g_malloc (st * h), *rgb = g_malloc ((gsize) w * 3 * h);
            fill (rng, src, st * h);  /* x bytes random too: never read */
            for (int y = 0; y < h; y++)
              for (int x = 0; x < w; x++)
                memcpy (rgb + ((gsize) y * w + x) * 3, src + y * st + 4 * x, 3);
            Planes o, r, r3;
            planes_init (&o, rng, nv12, w, h);
            /* The same layout and background bytes, for the C runs. */
            r = o;
            r.buf = g_memdup2 (o.buf, o.size);
            r3 = o;
            r3.buf = g_memdup2 (o.buf, o.size);
            for (int k = 0; k < 3; k++) {
              r.f.data[k] = r.buf + (o.f.data[k] - o.buf);
              r3.f.data[k] = r3.buf + (o.f.data[k] - o.buf);
            }
            espcn_rgbx_to_yuv (&c, src, st, &o.f, TRUE);
            espcn_rgbx_to_yuv (&c, src, st, &r.f, FALSE);
            espcn_rgb_to_yuv (&c, rgb, (gsize) w * 3, &r3.f);
            if (memcmp (o.buf, r.buf, o.size) != 0) {
              gsize k = 0;
              while (o.buf[k] == r.buf[k])
                k++;
              g_error ("%s matrix %d range %d %dx%d: ORC byte %" G_GSIZE_FORMAT " is %u, C %u",
                  nv12 ? "NV12" : "I420", matrices[mi], ranges[ri], w, h, k, o.buf[k], r.buf[k]);
            }
            g_assert_true (memcmp (r.buf, r3.buf, o.size) == 0);
            g_free (o.buf);
            g_free (r.buf);
            g_free (r3.buf);
          }
    }
}

/* Round trip sanity, so that matching the reference means something: grey
 * survives, and the clamps are reached. */
static void
test_rgbx_orc_grey_round_trip (void)
{
  EspcnYuvCoeffs c;
  coeffs_for (&c, GST_VIDEO_COLOR_MATRIX_BT709, GST_VIDEO_COLOR_RANGE_16_235);
  enum { W = 8, H = 4 };
  guint8 rgbx[W * H * 4], back[W * H * 4], y[W * H], u[W * H / 4], v[W * H / 4];
  memset (rgbx, 128, sizeof rgbx);
  EspcnYuvFrame f = { { y, u, v }, { W, W / 2, W / 2 }, { 1, 1, 1 }, W, H };
  espcn_rgbx_to_yuv (&c, rgbx, W * 4, &f, TRUE);
  for (int i = 0; i < W * H / 4; i++) {
    g_assert_cmpint (u[i], ==, 128);
    g_assert_cmpint (v[i], ==, 128);
  }
  espcn_yuv_to_rgbx (&c, &f, back, W * 4, TRUE);
  for (int i = 0; i < W * H; i++) {
    g_assert_cmpint (abs (back[4 * i] - 128), <=, 1);
    g_assert_cmpint (back[4 * i + 3], ==, 255);
  }
  memset (y, 255, sizeof y);
  memset (v, 255, sizeof v);
  espcn_yuv_to_rgbx (&c, &f, back, W * 4, TRUE);
  g_assert_cmpint (back[0], ==, 255);
}

/* ESPCN_CPU (cpu/cpu.h) masks ORC here as for the engine's output stage.  The
 * policy is read once per process, so each case runs this binary again. */
static void
test_orc_allowed_follows_cpu_policy (void)
{
  static const struct {
    const char *value; /* NULL: unset */
    gboolean orc;
  } cases[] = { { NULL, TRUE }, { "", TRUE }, { "orc", TRUE }, { "-avx2", TRUE }, { "none", FALSE },
                { "-orc", FALSE }, { "avx2", FALSE }, { "bogus", FALSE } };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *out = espcn_test_run_self_with_cpu (cases[i].value, "--report-orc-allowed");
    g_assert_cmpstr (out, ==, cases[i].orc ? "orc" : "c");
  }
}

int
main (int argc, char **argv)
{
  if (argc == 2 && strcmp (argv[1], "--report-orc-allowed") == 0) {
    g_print ("%s\n", espcn_yuv_orc_allowed () ? "orc" : "c");
    return 0;
  }
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/yuv-orc/yuv-to-rgbx-matches-c-reference", test_yuv_to_rgbx_orc_matches_c_reference);
  g_test_add_func ("/yuv-orc/rgbx-to-yuv-matches-c-reference", test_rgbx_to_yuv_orc_matches_c_reference);
  g_test_add_func ("/yuv-orc/grey-round-trip", test_rgbx_orc_grey_round_trip);
  g_test_add_func ("/yuv-orc/orc-allowed-follows-cpu-policy", test_orc_allowed_follows_cpu_policy);
  return g_test_run ();
}
