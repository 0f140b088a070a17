/* Numeric limits the loader promises (docs/integer-grid.md, "Accumulator bound"):
 * a model whose bound is exceeded by one is refused, in memory and as a file; a
 * model exactly at the bound runs with accumulators of exactly +-(2^31 - 1), and
 * the fast runner, the reference and an exact long double model agree there.
 * (Overflow of an intermediate would also be a report in a sanitizer build.) */
#include <string.h>

#include "engine/engine.h"
#include "engine/model.h"
#include "io/safetensors.h"
#include "test-models.h"

#define F 128
#define CH 5  /* the conv2 output channel pushed to the limit */

/* conv1 saturates: every output is 255 everywhere, so conv2's interior inputs are
 * all at their maximum.  conv2 channel CH has every weight at sign * 4095. */
static TestLayers *
extreme_layers (int sign, gint64 over)
{
  EspcnRng rng;
  espcn_rng_seed (&rng, 31);
  TestLayers *t = test_layers_random (&rng, F, 2, TRUE);
  gsize per1 = 3 * 25;
  for (int c = 0; c < F; c++) {
    memset (t->w[0] + c * per1, 0, per1 * sizeof (gint16));
    t->bias[0][c] = 1 << 30;
    t->mult[0][c] = 1 << 30;
    t->shift[0][c] = 40;  /* 2^60 >> 40 = 2^20, clamped to 255 */
  }
  gsize per2 = (gsize) F * 9;
  for (gsize j = 0; j < per2; j++)
    t->w[1][CH * per2 + j] = (gint16) (sign * 4095);
  gint64 sum = 255 * (gint64) per2 * 4095;  /* 1,202,941,800 */
  t->bias[1][CH] = (gint32) (sign * (G_MAXINT32 - sum + over));
  /* Map +-(2^31 - 1) onto a visible output: y = acc * 2^30 >> 31 ~ acc / 2. */
  t->mult[1][CH] = 1 << 30;
  t->shift[1][CH] = 53;  /* (2^31 - 1) * 2^30 / 2^53 ~ 256 -> 255 */
  return t;
}

/* The same layers as a file: a valid model's tensors with conv2.bias replaced. */
static GBytes *
file_with_bias (const TestLayers *ok_layers, const gint32 *bias2)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnInt8Model) m = espcn_int8_model_new (ok_layers->l, ok_layers->metadata, &error);
  g_assert_no_error (error);
  g_autoptr (GBytes) good = espcn_int8_model_save_to_bytes (m, &error);
  g_assert_no_error (error);
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_data (g_bytes_get_data (good, NULL),
      g_bytes_get_size (good), &error);
  g_assert_no_error (error);
  g_autoptr (EspcnSafetensorsWriter) w = espcn_safetensors_writer_new ();
  for (guint i = 0; i < espcn_safetensors_n_tensors (st); i++) {
    const EspcnTensor *t = espcn_safetensors_get_nth (st, i);
    const void *data = strcmp (t->name, "conv2.bias") == 0 ? (const void *) bias2 : t->data;
    g_assert_true (espcn_safetensors_writer_add (w, t->name, t->dtype, t->ndim, t->shape, data, &error));
  }
  const char *const *keys = espcn_safetensors_get_metadata_keys (st);
  for (guint i = 0; keys[i] != NULL; i++)
    g_assert_true (espcn_safetensors_writer_set_metadata (w, keys[i], espcn_safetensors_get_metadata (st, keys[i]),
        &error));
  return espcn_safetensors_writer_to_bytes (w);
}

static void
test_accumulator_bound_exceeded_by_one_is_refused (gconstpointer data)
{
  int sign = GPOINTER_TO_INT (data);
  g_autoptr (TestLayers) at = extreme_layers (sign, 0);
  g_autoptr (TestLayers) over = extreme_layers (sign, 1);
  g_assert_cmpint (ABS ((gint64) over->bias[1][CH]), <=, 1 << 30);  /* only the accumulator bound can refuse it */

  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnInt8Model) m_at = espcn_int8_model_new (at->l, at->metadata, &error);
  g_assert_no_error (error);
  g_assert_null (espcn_int8_model_new (over->l, over->metadata, &error));
  g_test_message ("refused: %s", error->message);
  g_assert_nonnull (strstr (error->message, "conv2"));
  g_assert_nonnull (strstr (error->message, "channel 5"));
  g_assert_nonnull (strstr (error->message, "2147483648"));
  g_clear_error (&error);

  /* As files: the one at the bound loads, the one over it is refused. */
  g_autoptr (GBytes) f_at = file_with_bias (at, at->bias[1]);
  g_autoptr (GBytes) f_over = file_with_bias (at, over->bias[1]);
  g_autoptr (EspcnInt8Model) l_at = espcn_int8_model_load_from_data (g_bytes_get_data (f_at, NULL),
      g_bytes_get_size (f_at), &error);
  g_assert_no_error (error);
  g_assert_nonnull (l_at);
  g_assert_null (espcn_int8_model_load_from_data (g_bytes_get_data (f_over, NULL), g_bytes_get_size (f_over),
      &error));
  g_assert_nonnull (strstr (error->message, "accumulator bound"));
  g_assert_nonnull (strstr (error->message, "channel 5"));
}

static void
test_accumulator_at_the_bound_is_exact (gconstpointer data)
{
  int sign = GPOINTER_TO_INT (data);
  g_autoptr (TestLayers) at = extreme_layers (sign, 0);
  g_autoptr (EspcnInt8Model) m = test_layers_build (at);
  const int w = 9, h = 7, s = 2;
  guint8 in[9 * 7 * 3];
  EspcnRng rng;
  espcn_rng_seed (&rng, 5);
  test_fill_random (&rng, in, sizeof in);
  gsize out_len = (gsize) w * s * h * s * 3;
  g_autofree guint8 *exact = g_malloc (out_len), *ref = g_malloc (out_len), *fast = g_malloc (out_len);
  test_naive_forward (m, in, w, h, exact);  /* asserts every accumulator fits and is exact */
  const EspcnPixelLayout rgb = ESPCN_PIXEL_LAYOUT_RGB;
  g_autoptr (GError) error = NULL;
  g_assert_true (espcn_engine_process_reference (m, in, w * 3, &rgb, w, h, ref, (gsize) w * s * 3, &rgb, &error));
  g_assert_cmpmem (exact, out_len, ref, out_len);
  for (int isa = 0; isa < 2; isa++) {
    g_autoptr (EspcnRunner) r = espcn_runner_new_full (m, 2, isa ? ESPCN_ISA_C : ESPCN_ISA_AUTO, &error);
    g_assert_no_error (error);
    memset (fast, 0x5a, out_len);
    g_assert_true (espcn_runner_process (r, in, w * 3, &rgb, w, h, fast, (gsize) w * s * 3, &rgb, &error));
    g_test_message ("%s runner at accumulator %c(2^31 - 1)", espcn_runner_get_isa_name (r), sign > 0 ? '+' : '-');
    g_assert_cmpmem (exact, out_len, fast, out_len);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/robust/numeric/accumulator-bound-exceeded-by-one-is-refused/positive", GINT_TO_POINTER (1),
      test_accumulator_bound_exceeded_by_one_is_refused);
  g_test_add_data_func ("/robust/numeric/accumulator-bound-exceeded-by-one-is-refused/negative", GINT_TO_POINTER (-1),
      test_accumulator_bound_exceeded_by_one_is_refused);
  g_test_add_data_func ("/robust/numeric/accumulator-at-the-bound-is-exact/positive", GINT_TO_POINTER (1),
      test_accumulator_at_the_bound_is_exact);
  g_test_add_data_func ("/robust/numeric/accumulator-at-the-bound-is-exact/negative", GINT_TO_POINTER (-1),
      test_accumulator_at_the_bound_is_exact);
  return g_test_run ();
}
