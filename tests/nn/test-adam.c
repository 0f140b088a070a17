/* Adam, the cosine schedule and gradient clipping against hand-computed values. */
#include "nn/adam.h"
#include "nn-test-util.h"

#include <string.h>

/* Two steps of torch.optim.Adam(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay) on
 * one scalar, computed by hand in double. */
static void
test_adam_two_steps_match_hand_computation (void)
{
  float p[2] = { 1.0f, -0.5f }, g[2];
  float q[1] = { 2.0f }, gq[1];
  EspcnParamRef main_ref = { "w", p, g, 2 }, quant_ref = { "s", q, gq, 1 };
  g_autoptr (EspcnAdam) adam = espcn_adam_new (0.9f, 0.999f, 1e-8f);
  espcn_adam_add_group (adam, &main_ref, 1, 1.0f, 1e-4f);
  espcn_adam_add_group (adam, &quant_ref, 1, 10.0f, 0.0f);
  double ep[2] = { 1.0, -0.5 }, eq = 2.0, m[3] = { 0 }, v[3] = { 0 };
  double grads[2][3] = { { 0.3, -0.2, 0.05 }, { -0.1, 0.4, 0.07 } };
  double lr = 0.01;
  for (int t = 1; t <= 2; t++) {
    g[0] = (float) grads[t - 1][0];
    g[1] = (float) grads[t - 1][1];
    gq[0] = (float) grads[t - 1][2];
    espcn_adam_step (adam, (float) lr);
    double bc1 = 1 - pow (0.9, t), bc2 = 1 - pow (0.999, t);
    for (int k = 0; k < 3; k++) {
      double *pv = k < 2 ? &ep[k] : &eq;
      double gk = grads[t - 1][k] + (k < 2 ? 1e-4 * *pv : 0.0);
      m[k] = 0.9 * m[k] + 0.1 * gk;
      v[k] = 0.999 * v[k] + 0.001 * gk * gk;
      double l = k < 2 ? lr : 10 * lr;
      *pv -= l / bc1 * m[k] / (sqrt (v[k]) / sqrt (bc2) + 1e-8);
    }
    g_assert_cmpfloat_with_epsilon (p[0], ep[0], 1e-6);
    g_assert_cmpfloat_with_epsilon (p[1], ep[1], 1e-6);
    g_assert_cmpfloat_with_epsilon (q[0], eq, 1e-6);
  }
  g_assert_cmpint (espcn_adam_get_step (adam), ==, 2);
  g_assert_cmpuint (espcn_adam_n_tensors (adam), ==, 2);
  const char *name;
  float *sm, *sv;
  size_t n;
  espcn_adam_tensor_state (adam, 1, &name, &sm, &sv, &n);
  g_assert_cmpstr (name, ==, "s");
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpfloat_with_epsilon (sm[0], m[2], 1e-7);
  g_assert_cmpfloat_with_epsilon (sv[0], v[2], 1e-9);
}

/* Saving the state and restoring it into a fresh optimizer continues identically. */
static void
test_adam_state_restore_resumes_exactly (void)
{
  float p1[3] = { 0.1f, 0.2f, 0.3f }, g1[3], p2[3], g2[3];
  EspcnParamRef r1 = { "a", p1, g1, 3 }, r2 = { "a", p2, g2, 3 };
  g_autoptr (EspcnAdam) a1 = espcn_adam_new (0.9f, 0.999f, 1e-8f);
  espcn_adam_add_group (a1, &r1, 1, 1.0f, 1e-4f);
  for (int t = 0; t < 3; t++) {
    for (int i = 0; i < 3; i++)
      g1[i] = 0.1f * (float) (i + t) - 0.15f;
    espcn_adam_step (a1, 1e-2f);
  }
  memcpy (p2, p1, sizeof p1);
  g_autoptr (EspcnAdam) a2 = espcn_adam_new (0.9f, 0.999f, 1e-8f);
  espcn_adam_add_group (a2, &r2, 1, 1.0f, 1e-4f);
  float *m1, *v1, *m2, *v2;
  espcn_adam_tensor_state (a1, 0, NULL, &m1, &v1, NULL);
  espcn_adam_tensor_state (a2, 0, NULL, &m2, &v2, NULL);
  memcpy (m2, m1, sizeof (float) * 3);
  memcpy (v2, v1, sizeof (float) * 3);
  espcn_adam_set_step (a2, espcn_adam_get_step (a1));
  for (int i = 0; i < 3; i++)
    g1[i] = g2[i] = 0.05f * (float) i;
  espcn_adam_step (a1, 1e-2f);
  espcn_adam_step (a2, 1e-2f);
  g_assert_cmpmem (p1, sizeof p1, p2, sizeof p2);
}

static void
test_cosine_schedule_values (void)
{
  g_assert_cmpfloat_with_epsilon (espcn_cosine_lr (1e-3f, 0.0f, 0, 100), 1e-3, 1e-10);
  g_assert_cmpfloat_with_epsilon (espcn_cosine_lr (1e-3f, 0.0f, 50, 100), 0.5e-3, 1e-10);
  g_assert_cmpfloat_with_epsilon (espcn_cosine_lr (1e-3f, 0.0f, 25, 100), 0.5e-3 * (1 + cos (G_PI / 4)), 1e-10);
  g_assert_cmpfloat_with_epsilon (espcn_cosine_lr (1e-3f, 0.0f, 100, 100), 0.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (espcn_cosine_lr (1e-3f, 1e-5f, 100, 100), 1e-5, 1e-12);
  g_assert_cmpfloat_with_epsilon (espcn_cosine_lr (1e-3f, 1e-5f, 200, 100), 1e-5, 1e-12); /* clamped */
}

static void
test_clip_grad_norm_scales_only_above_max (void)
{
  float a[2] = { 3.0f, 0.0f }, b[1] = { 4.0f }, pa[2], pb[1];
  EspcnParamRef refs[2] = { { "a", pa, a, 2 }, { "b", pb, b, 1 } };
  float norm = espcn_clip_grad_norm (refs, 2, 1.0f);
  g_assert_cmpfloat_with_epsilon (norm, 5.0, 1e-6);
  double coef = 1.0 / (5.0 + 1e-6);
  g_assert_cmpfloat_with_epsilon (a[0], 3.0 * coef, 1e-7);
  g_assert_cmpfloat_with_epsilon (b[0], 4.0 * coef, 1e-7);
  float c[2] = { 0.3f, 0.4f };
  EspcnParamRef small = { "c", pa, c, 2 };
  norm = espcn_clip_grad_norm (&small, 1, 1.0f);
  g_assert_cmpfloat_with_epsilon (norm, 0.5, 1e-7);
  g_assert_cmpfloat (c[0], ==, 0.3f);
  g_assert_cmpfloat (c[1], ==, 0.4f);
}

/* A log-space group is Adam on theta = log p: hand-computed in double, and a small
 * positive scale (an LSQ step size of 1e-3 at 10x lr 1e-3) stays positive where the
 * plain update would take it below zero in one step. */
static void
test_adam_log_space_is_adam_on_log (void)
{
  float s[1] = { 1e-3f }, gs[1], r[1] = { 1e-3f }, gr[1];
  EspcnParamRef log_ref = { "s", s, gs, 1 }, lin_ref = { "r", r, gr, 1 };
  g_autoptr (EspcnAdam) adam = espcn_adam_new (0.9f, 0.999f, 1e-8f);
  guint g0 = espcn_adam_add_group (adam, &log_ref, 1, 10.0f, 0.0f);
  espcn_adam_add_group (adam, &lin_ref, 1, 10.0f, 0.0f);
  espcn_adam_set_log_space (adam, g0, TRUE);
  double theta = log (1e-3), m = 0, v = 0, lr = 1e-3;
  double grads[3] = { 0.5, 0.2, -0.1 };
  for (int t = 1; t <= 3; t++) {
    gs[0] = gr[0] = (float) grads[t - 1];
    double gt = grads[t - 1] * exp (theta);
    espcn_adam_step (adam, (float) lr);
    m = 0.9 * m + 0.1 * gt;
    v = 0.999 * v + 0.001 * gt * gt;
    theta -= 10 * lr / (1 - pow (0.9, t)) * m / (sqrt (v) / sqrt (1 - pow (0.999, t)) + 1e-8);
    g_assert_cmpfloat_with_epsilon (s[0], exp (theta), 1e-6 * exp (theta));
    g_assert_cmpfloat (s[0], >, 0.0f);
    if (t == 1)
      g_assert_cmpfloat (r[0], <, 0.0f); /* 1e-3 - 1e-2 */
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/adam/two-steps-match-hand-computation", test_adam_two_steps_match_hand_computation);
  g_test_add_func ("/nn/adam/state-restore-resumes-exactly", test_adam_state_restore_resumes_exactly);
  g_test_add_func ("/nn/adam/log-space-is-adam-on-log", test_adam_log_space_is_adam_on_log);
  g_test_add_func ("/nn/adam/cosine-schedule-values", test_cosine_schedule_values);
  g_test_add_func ("/nn/adam/clip-grad-norm-scales-only-above-max", test_clip_grad_norm_scales_only_above_max);
  return g_test_run ();
}
