/* conv2d: both algorithms against a direct double-precision convolution, and their
 * backward passes against central finite differences. */
#include "nn/conv2d.h"
#include "nn-test-util.h"

#include <string.h>

/* Direct definition: y[o][y][x] = b[o] + sum w[o][i][ky][kx] x[i][y+ky-p][x+kx-p]. */
static void
conv_direct (const float *x, int cin, int h, int w, const float *wt, const float *b, int cout, int k, double *y)
{
  int p = k / 2;
  for (int o = 0; o < cout; o++)
    for (int yy = 0; yy < h; yy++)
      for (int xx = 0; xx < w; xx++) {
        double s = b ? b[o] : 0.0;
        for (int i = 0; i < cin; i++)
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
              int sy = yy + ky - p, sx = xx + kx - p;
              if (sy < 0 || sy >= h || sx < 0 || sx >= w)
                continue;
              s += (double) wt[((o * cin + i) * k + ky) * k + kx] * x[(i * h + sy) * w + sx];
            }
        y[(o * h + yy) * w + xx] = s;
      }
}

typedef struct {
  int cin, cout, k, h, w;
  EspcnConvAlgo algo;
} Case;

static double
conv_loss (const Case *c, const float *x, const float *wt, const float *b, const float *r, double *yd)
{
  size_t ny = (size_t) c->cout * c->h * c->w;
  conv_direct (x, c->cin, c->h, c->w, wt, b, c->cout, c->k, yd);
  double s = 0.0;
  for (size_t q = 0; q < ny; q++)
    s += yd[q] * r[q];
  return s;
}

static const Case cases[] = {
  { 3, 4, 5, 7, 9, ESPCN_CONV_ALGO_IM2COL },   { 2, 3, 3, 5, 7, ESPCN_CONV_ALGO_IM2COL },
  { 2, 3, 3, 5, 7, ESPCN_CONV_ALGO_WINOGRAD }, { 3, 2, 3, 6, 4, ESPCN_CONV_ALGO_WINOGRAD },
  { 4, 5, 3, 1, 1, ESPCN_CONV_ALGO_WINOGRAD }, { 2, 2, 5, 1, 3, ESPCN_CONV_ALGO_IM2COL },
  { 5, 3, 3, 9, 8, ESPCN_CONV_ALGO_WINOGRAD },
};

static void
test_conv_forward_matches_direct_definition (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 11);
  for (guint ci = 0; ci < G_N_ELEMENTS (cases); ci++) {
    const Case *c = &cases[ci];
    EspcnConv2d conv;
    g_assert_true (espcn_conv2d_init (&conv, c->cin, c->cout, c->k, c->algo, NULL));
    size_t nx = (size_t) c->cin * c->h * c->w, ny = (size_t) c->cout * c->h * c->w;
    size_t nw = (size_t) c->cout * c->cin * c->k * c->k;
    g_autofree float *x = g_new (float, nx), *wt = g_new (float, nw), *b = g_new (float, c->cout);
    g_autofree float *y = g_new (float, ny), *ws = g_new (float, espcn_conv2d_workspace_size (&conv, c->h, c->w));
    g_autofree double *ref = g_new (double, ny);
    fill_uniform (&rng, x, nx, -1, 1);
    fill_uniform (&rng, wt, nw, -1, 1);
    fill_uniform (&rng, b, c->cout, -1, 1);
    espcn_conv2d_set_weights (&conv, wt, b);
    espcn_conv2d_forward (&conv, x, c->h, c->w, y, ws, NULL);
    conv_direct (x, c->cin, c->h, c->w, wt, b, c->cout, c->k, ref);
    for (size_t i = 0; i < ny; i++)
      g_assert_cmpfloat_with_epsilon (y[i], ref[i], 1e-4);
    espcn_conv2d_clear (&conv);
  }
}

/* L = sum r . conv(x); analytic dL/dx, dL/dw, dL/db against central differences of L
 * computed by the direct definition in double (exact up to float inputs). */
static void
test_conv_backward_matches_finite_differences (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 12);
  for (guint ci = 0; ci < G_N_ELEMENTS (cases); ci++) {
    const Case *c = &cases[ci];
    EspcnConv2d conv;
    g_assert_true (espcn_conv2d_init (&conv, c->cin, c->cout, c->k, c->algo, NULL));
    size_t nx = (size_t) c->cin * c->h * c->w, ny = (size_t) c->cout * c->h * c->w;
    size_t nw = (size_t) c->cout * c->cin * c->k * c->k;
    g_autofree float *x = g_new (float, nx), *wt = g_new (float, nw), *b = g_new (float, c->cout);
    g_autofree float *r = g_new (float, ny), *dx = g_new (float, nx), *dw = g_new0 (float, nw);
    g_autofree float *db = g_new0 (float, c->cout);
    g_autofree float *gacc = g_new0 (float, espcn_conv2d_grad_acc_size (&conv));
    g_autofree float *ws = g_new (float, espcn_conv2d_workspace_size (&conv, c->h, c->w));
    g_autofree double *yd = g_new (double, ny);
    fill_uniform (&rng, x, nx, -1, 1);
    fill_uniform (&rng, wt, nw, -1, 1);
    fill_uniform (&rng, b, c->cout, -1, 1);
    fill_uniform (&rng, r, ny, -1, 1);
    espcn_conv2d_set_weights (&conv, wt, b);
    /* Two images' worth accumulated (the accumulator must add, not overwrite): once
     * recomputing the input transform, once with the one a forward call kept. */
    g_autofree float *xt = g_new (float, espcn_conv2d_xt_size (&conv, c->h, c->w));
    g_autofree float *y = g_new (float, ny);
    espcn_conv2d_backward (&conv, x, NULL, r, c->h, c->w, dx, gacc, ws);
    espcn_conv2d_forward (&conv, x, c->h, c->w, y, ws, xt);
    memset (dx, 0, nx * sizeof (float));
    espcn_conv2d_backward (&conv, x, xt, r, c->h, c->w, dx, gacc, ws);
    espcn_conv2d_grad_finish (&conv, gacc, dw, db);

    const float eps = 1e-2f;
    float *tensors[3] = { x, wt, b };
    float *grads[3] = { dx, dw, db };
    size_t sizes[3] = { nx, nw, (size_t) c->cout };
    double scale[3] = { 1.0, 2.0, 2.0 }; /* dw, db were accumulated twice */
    for (int t = 0; t < 3; t++) {
      g_autofree double *fd = g_new (double, sizes[t]), *an = g_new (double, sizes[t]);
      for (size_t i = 0; i < sizes[t]; i++) {
        float keep = tensors[t][i];
        float up = keep + eps, down = keep - eps;
        tensors[t][i] = up;
        double lp = conv_loss (c, x, wt, b, r, yd);
        tensors[t][i] = down;
        double lm = conv_loss (c, x, wt, b, r, yd);
        tensors[t][i] = keep;
        fd[i] = (lp - lm) / ((double) up - (double) down);
        an[i] = grads[t][i] / scale[t];
      }
      double err = grad_rel_err (fd, an, sizes[t]);
      if (err > 1e-4)
        g_error ("case %u (k %d, algo %d) tensor %d: relative gradient error %g", ci, c->k, c->algo, t, err);
    }
    espcn_conv2d_clear (&conv);
  }
}

static void
test_conv_rejects_bad_shapes (void)
{
  EspcnConv2d conv;
  g_autoptr (GError) e1 = NULL, e2 = NULL, e3 = NULL;
  g_assert_false (espcn_conv2d_init (&conv, 3, 4, 4, ESPCN_CONV_ALGO_AUTO, &e1));
  g_assert_nonnull (e1);
  g_assert_false (espcn_conv2d_init (&conv, 3, 4, 5, ESPCN_CONV_ALGO_WINOGRAD, &e2));
  g_assert_nonnull (e2);
  g_assert_false (espcn_conv2d_init (&conv, 0, 4, 3, ESPCN_CONV_ALGO_AUTO, &e3));
  g_assert_nonnull (e3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/conv/forward-matches-direct-definition", test_conv_forward_matches_direct_definition);
  g_test_add_func ("/nn/conv/backward-matches-finite-differences", test_conv_backward_matches_finite_differences);
  g_test_add_func ("/nn/conv/rejects-bad-shapes", test_conv_rejects_bad_shapes);
  return g_test_run ();
}
