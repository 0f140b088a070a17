/* ReLU, pixel shuffle and the losses. */
#include "nn/ops.h"
#include "nn-test-util.h"

#include <string.h>

static void
test_relu_forward_clamps_and_backward_masks (void)
{
  float x[6] = { -2.0f, -0.0f, 0.0f, 1e-30f, 3.0f, -1e-30f };
  float y[6], dy[6] = { 1, 2, 3, 4, 5, 6 }, dx[6];
  espcn_relu_forward (x, y, 6);
  float ey[6] = { 0, 0, 0, 1e-30f, 3.0f, 0 };
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (y[i], ==, ey[i]);
  espcn_relu_backward (y, dy, dx, 6);
  float edx[6] = { 0, 0, 0, 4, 5, 0 }; /* subgradient 0 at 0 */
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (dx[i], ==, edx[i]);
  /* In place. */
  espcn_relu_forward (x, x, 6);
  g_assert_cmpmem (x, sizeof x, ey, sizeof ey);
}

static void
test_pixel_shuffle_is_pytorch_permutation (void)
{
  for (int s = 2; s <= 4; s++) {
    int c = 3, h = 3, w = 5;
    size_t n = (size_t) c * s * s * h * w;
    g_autofree float *in = g_new (float, n), *out = g_new (float, n), *back = g_new (float, n);
    for (size_t i = 0; i < n; i++)
      in[i] = (float) i; /* an index tensor: every value tells where it came from */
    espcn_pixel_shuffle_forward (in, c, h, w, s, out);
    int H = h * s, W = w * s;
    for (int ch = 0; ch < c; ch++)
      for (int Y = 0; Y < H; Y++)
        for (int X = 0; X < W; X++) {
          int y = Y / s, i = Y % s, x = X / s, j = X % s;
          float expect = (float) (((ch * s * s + i * s + j) * h + y) * w + x);
          g_assert_cmpfloat (out[(ch * H + Y) * W + X], ==, expect);
        }
    /* The backward is the inverse permutation, hence the adjoint. */
    espcn_pixel_shuffle_backward (out, c, h, w, s, back);
    g_assert_cmpmem (back, n * sizeof (float), in, n * sizeof (float));
  }
}

static double
loss_d (EspcnLoss l, const float *p, const float *t, size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = (double) p[i] - t[i];
    s += l == ESPCN_LOSS_L1 ? fabs (d) : l == ESPCN_LOSS_L2 ? d * d : sqrt (d * d + 1e-6);
  }
  return s / (double) n;
}

static void
test_losses_value_and_gradient (void)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 3);
  EspcnLoss all[] = { ESPCN_LOSS_L1, ESPCN_LOSS_L2, ESPCN_LOSS_CHARBONNIER };
  size_t n = 37;
  float p[37], t[37], g[37];
  for (guint k = 0; k < G_N_ELEMENTS (all); k++) {
    fill_uniform (&rng, p, n, 0, 1);
    fill_uniform (&rng, t, n, 0, 1);
    p[5] = t[5]; /* a tie: L1's subgradient there is 0, like torch.sign */
    float l = espcn_loss (all[k], p, t, n, g);
    g_assert_cmpfloat_with_epsilon (l, loss_d (all[k], p, t, n), 1e-6);
    for (size_t i = 0; i < n; i++) {
      if (i == 5 && all[k] == ESPCN_LOSS_L1) {
        g_assert_cmpfloat (g[i], ==, 0.0f);
        continue;
      }
      float keep = p[i], eps = 1e-3f, up = keep + eps, down = keep - eps;
      p[i] = up;
      double lp = loss_d (all[k], p, t, n);
      p[i] = down;
      double lm = loss_d (all[k], p, t, n);
      p[i] = keep;
      double fd = (lp - lm) / ((double) up - (double) down);
      g_assert_cmpfloat_with_epsilon (g[i], fd, 1e-3 * fabs (fd) + 1e-6);
    }
  }
  /* Pinned values: L1 and L2 of [0, 1] vs [0.5, 0.5]; Charbonnier of a zero error is eps. */
  float a[2] = { 0, 1 }, b[2] = { 0.5f, 0.5f };
  g_assert_cmpfloat_with_epsilon (espcn_loss (ESPCN_LOSS_L1, a, b, 2, NULL), 0.5, 1e-7);
  g_assert_cmpfloat_with_epsilon (espcn_loss (ESPCN_LOSS_L2, a, b, 2, NULL), 0.25, 1e-7);
  g_assert_cmpfloat_with_epsilon (espcn_loss (ESPCN_LOSS_CHARBONNIER, b, b, 2, NULL), 1e-3, 1e-9);
}

static void
test_loss_names_round_trip_and_reject_unknown (void)
{
  EspcnLoss l;
  g_assert_true (espcn_loss_from_name ("charbonnier", &l, NULL));
  g_assert_cmpint (l, ==, ESPCN_LOSS_CHARBONNIER);
  g_assert_true (espcn_loss_from_name (espcn_loss_name (ESPCN_LOSS_L2), &l, NULL));
  g_assert_cmpint (l, ==, ESPCN_LOSS_L2);
  g_autoptr (GError) e = NULL;
  g_assert_false (espcn_loss_from_name ("huber", &l, &e));
  g_assert_nonnull (strstr (e->message, "huber"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/ops/relu-forward-clamps-and-backward-masks", test_relu_forward_clamps_and_backward_masks);
  g_test_add_func ("/nn/ops/pixel-shuffle-is-pytorch-permutation", test_pixel_shuffle_is_pytorch_permutation);
  g_test_add_func ("/nn/ops/losses-value-and-gradient", test_losses_value_and_gradient);
  g_test_add_func ("/nn/ops/loss-names-round-trip-and-reject-unknown", test_loss_names_round_trip_and_reject_unknown);
  return g_test_run ();
}
