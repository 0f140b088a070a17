#include "image/image-match.h"

#include <math.h>

#include "image/color.h"
#include "image/imresize.h"

/* Working size: the long side of the grey copy every thumbnail is made from. */
#define WORK_SIDE 256
/* Coarse thumbnails: long sides COARSE * STEP^i, i < N_LEVELS, so the placement of
 * a COARSE-pixel template covers down to MIN_COVER of the other image. */
#define LEVEL_STEP 1.06
#define N_LEVELS 17

typedef struct {
  int w, h;
  float *v;
} Plane;

struct _EspcnMatchImage {
  int w, h;     /* the original size */
  Plane grey;   /* the grey working copy */
  Plane level[N_LEVELS];
  Plane tmpl;   /* the coarse template (long side COARSE), zero mean */
  double tmpl_norm;
};

static Plane
resized (const Plane *src, int w, int h)
{
  Plane p = { w, h, g_new (float, (gsize) w * h) };
  espcn_imresize_planar_f32 (src->v, 1, src->w, src->h, p.v, w, h, (double) w / src->w, (double) h / src->h);
  return p;
}

/* The size of an image with long side `side`, at least 2 x 2. */
static void
fit_long_side (int w, int h, double side, int *ow, int *oh)
{
  double f = side / MAX (w, h);
  *ow = MAX (2, (int) lround (w * f));
  *oh = MAX (2, (int) lround (h * f));
}

static double
center (float *t, gsize n)
{
  double m = 0, nn = 0;
  for (gsize i = 0; i < n; i++)
    m += t[i];
  m /= n;
  for (gsize i = 0; i < n; i++) {
    t[i] -= (float) m;
    nn += (double) t[i] * t[i];
  }
  return sqrt (nn);
}

EspcnMatchImage *
espcn_match_image_new (const EspcnImage *img)
{
  if (img->width < 8 || img->height < 8)
    return NULL;
  EspcnMatchImage *m = g_new0 (EspcnMatchImage, 1);
  m->w = img->width;
  m->h = img->height;
  gsize n = (gsize) img->width * img->height;
  Plane full = { img->width, img->height, g_new (float, n) };
  for (gsize i = 0; i < n; i++)
    full.v[i] = (float) espcn_rgb_to_y (img->data[3 * i], img->data[3 * i + 1], img->data[3 * i + 2]);
  int gw, gh;
  fit_long_side (img->width, img->height, MIN (WORK_SIDE, MAX (img->width, img->height)), &gw, &gh);
  m->grey = resized (&full, gw, gh);
  g_free (full.v);
  for (int i = 0; i < N_LEVELS; i++) {
    int w, h;
    fit_long_side (m->w, m->h, ESPCN_MATCH_COARSE * pow (LEVEL_STEP, i), &w, &h);
    m->level[i] = resized (&m->grey, w, h);
  }
  int tw, th;
  fit_long_side (m->w, m->h, ESPCN_MATCH_COARSE, &tw, &th);
  m->tmpl = resized (&m->grey, tw, th);
  m->tmpl_norm = center (m->tmpl.v, (gsize) tw * th);
  return m;
}

void
espcn_match_image_free (EspcnMatchImage *m)
{
  if (m == NULL)
    return;
  g_free (m->grey.v);
  for (int i = 0; i < N_LEVELS; i++)
    g_free (m->level[i].v);
  g_free (m->tmpl.v);
  g_free (m);
}

/* NCC of template t (zero mean, norm tn) with the window of p at (x, y). */
static double
ncc_at (const Plane *t, double tn, const Plane *p, int x, int y)
{
  double s = 0, s2 = 0, st = 0;
  for (int j = 0; j < t->h; j++) {
    const float *row = p->v + (gsize) (y + j) * p->w + x;
    const float *trow = t->v + (gsize) j * t->w;
    for (int i = 0; i < t->w; i++) {
      double v = row[i];
      s += v;
      s2 += v * v;
      st += v * trow[i];
    }
  }
  double n = (double) t->w * t->h;
  double var = s2 - s * s / n;
  /* a flat window or template correlates with nothing */
  if (var <= 1e-6 * n || tn <= 1e-3)
    return 0;
  return st / (sqrt (var) * tn);
}

/* Detail of a thumbnail: itself minus its x4 bicubic down-up copy.  Smooth
 * images (gradients, skies, skin) correlate highly with each other as a whole;
 * their detail does not unless they are the same picture. */
static void
high_pass (Plane *p)
{
  int dw = MAX (1, p->w / 4), dh = MAX (1, p->h / 4);
  g_autofree float *d = g_new (float, (gsize) dw * dh);
  g_autofree float *u = g_new (float, (gsize) p->w * p->h);
  espcn_imresize_planar_f32 (p->v, 1, p->w, p->h, d, dw, dh, (double) dw / p->w, (double) dh / p->h);
  espcn_imresize_planar_f32 (d, 1, dw, dh, u, p->w, p->h, (double) p->w / dw, (double) p->h / dh);
  for (gsize i = 0; i < (gsize) p->w * p->h; i++)
    p->v[i] -= u[i];
}

/* Best NCC of `small` placed inside `big` (see the header). */
static double
inside (const EspcnMatchImage *small, const EspcnMatchImage *big)
{
  /* The placement of small's template in a big level of long side L has small's
   * long side at 16 / L of big's: it must fit and cover at least MIN_COVER. */
  const Plane *t = &small->tmpl;
  double best = 0, best_fx = 0, best_fy = 0, best_k = 0;
  for (int i = 0; i < N_LEVELS; i++) {
    const Plane *p = &big->level[i];
    if (p->w < t->w || p->h < t->h)
      continue;
    /* coverage of big's limiting side by the placement */
    double cover = MAX ((double) t->w / p->w, (double) t->h / p->h);
    if (cover < ESPCN_MATCH_MIN_COVER)
      continue;
    for (int y = 0; y + t->h <= p->h; y++)
      for (int x = 0; x + t->w <= p->w; x++) {
        double c = ncc_at (t, small->tmpl_norm, p, x, y);
        if (c > best) {
          best = c;
          best_fx = (double) x / p->w;
          best_fy = (double) y / p->h;
          best_k = (double) MAX (p->w, p->h) / MAX (t->w, t->h);
        }
      }
  }
  if (best < 0.6)
    return best;
  /* Refine the best placement on finer thumbnails, on their detail, at nearby
   * zooms (the coarse levels are 6% apart) and positions. */
  int fw, fh;
  fit_long_side (small->w, small->h, ESPCN_MATCH_FINE, &fw, &fh);
  Plane ft = resized (&small->grey, fw, fh);
  high_pass (&ft);
  double ftn = center (ft.v, (gsize) fw * fh);
  double fine = 0;
  for (int z = -4; z <= 4; z++) {
    int pw, ph;
    fit_long_side (big->w, big->h, ESPCN_MATCH_FINE * best_k * pow (1.015, z), &pw, &ph);
    Plane p = resized (&big->grey, MAX (pw, fw), MAX (ph, fh));
    high_pass (&p);
    int cx = (int) lround (best_fx * p.w), cy = (int) lround (best_fy * p.h);
    int r = ESPCN_MATCH_FINE / ESPCN_MATCH_COARSE + 1;
    for (int y = MAX (0, cy - r); y <= MIN (p.h - fh, cy + r); y++)
      for (int x = MAX (0, cx - r); x <= MIN (p.w - fw, cx + r); x++)
        fine = MAX (fine, ncc_at (&ft, ftn, &p, x, y));
    g_free (p.v);
  }
  g_free (ft.v);
  return fine;
}

double
espcn_match_score (const EspcnMatchImage *a, const EspcnMatchImage *b)
{
  return MAX (inside (a, b), inside (b, a));
}
