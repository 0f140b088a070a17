/* The QAT model: one owner for the float model, the method and its quantizers. */
#include <gio/gio.h>
#include <glib.h>
#include <string.h>

#include "quant/quantizer.h"
#include "train/qat-model.h"
#include "util/rng.h"

static void
test_method_table (void)
{
  const EspcnQuantMethod *none = espcn_quant_method_lookup ("none");
  g_assert_nonnull (none);
  g_assert_false (none->quantized);
  g_assert_null (espcn_quant_method_lookup ("int4"));
  g_assert_null (espcn_quant_method_lookup (NULL));
  const char *const *names = espcn_quant_methods ();
  for (int i = 0; names[i] != NULL; i++) {
    const EspcnQuantMethod *m = espcn_quant_method_lookup (names[i]);
    g_assert_nonnull (m);
    g_assert_true (m->quantized);
    g_assert_cmpstr (m->name, ==, names[i]);
    /* APoT and DoReFa use int16 weights, so the wide activation grid. */
    gboolean wide = strcmp (names[i], "apot") == 0 || strcmp (names[i], "dorefa") == 0;
    g_assert_cmpint (m->act_qmax, ==, wide ? ESPCN_ACT_QMAX_WIDE : ESPCN_ACT_QMAX_FAST);
    g_assert_cmpint (m->log_space_params, ==, strcmp (names[i], "lsq") == 0);
  }
}

static void
test_slots_and_attach (void)
{
  EspcnFloatModelConfig mc = { 2, 8, 3 };
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnQatModel) f = espcn_qat_model_new (&mc, "none", 0, 1, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < ESPCN_QAT_N_SLOTS; i++)
    g_assert_null (f->slot[i]);
  g_assert_null (espcn_qat_model_new (&mc, "int4", 0, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_autoptr (EspcnQatModel) q = espcn_qat_model_new (&mc, "pact", 0, 1, &error);
  g_assert_no_error (error);
  const char *names[] = { "conv1.weight_quant", "conv1.act_quant", "conv2.weight_quant", "conv2.act_quant",
                          "conv3.weight_quant" };
  for (guint i = 0; i < ESPCN_QAT_N_SLOTS; i++) {
    g_assert_cmpstr (espcn_qat_model_slot_name (i), ==, names[i]);
    g_assert_cmpint (q->slot[i]->role, ==, i % 2 == 0 ? ESPCN_QUANT_WEIGHT : ESPCN_QUANT_ACT);
    g_assert_cmpstr (q->slot[i]->ops->method, ==, "pact");
  }
  /* PACT and STE weights: one shared implementation. */
  g_autoptr (EspcnQatModel) s = espcn_qat_model_new (&mc, "ste", 0, 1, &error);
  g_assert_true (q->slot[0]->ops->forward == s->slot[0]->ops->forward);
  g_assert_true (q->slot[0]->ops->export_weights == s->slot[0]->ops->export_weights);

  g_assert_null (q->model->wq[0]);
  espcn_qat_model_attach (q, TRUE);
  g_assert_true (q->model->wq[0] == q->slot[0] && q->model->aq[0] == q->slot[1] && q->model->wq[1] == q->slot[2] &&
                 q->model->aq[1] == q->slot[3] && q->model->wq[2] == q->slot[4]);
  g_assert_true (q->model->quant_output);
  espcn_qat_model_attach (q, FALSE);
  g_assert_null (q->model->aq[1]);
  g_assert_false (q->model->quant_output);

  EspcnParamRef refs[ESPCN_QAT_N_SLOTS];
  guint n = espcn_qat_model_quant_params (q, refs);
  g_assert_cmpuint (n, ==, 2);   /* PACT learns alpha per activation */
  g_assert_cmpstr (refs[0].name, ==, "conv1.act_quant");
  g_assert_cmpstr (refs[1].name, ==, "conv2.act_quant");
}

/* Saved tensors restore into a fresh model of another seed bit for bit. */
static void
test_save_restore_round_trip (void)
{
  EspcnFloatModelConfig mc = { 2, 8, 3 };
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnQatModel) a = espcn_qat_model_new (&mc, "ste", 0, 3, &error);
  int h = 6, w = 5;
  g_autofree float *lr = g_new (float, 2 * 3 * h * w);
  EspcnRng rng;
  espcn_rng_seed (&rng, 4);
  for (int i = 0; i < 2 * 3 * h * w; i++)
    lr[i] = espcn_rng_uniform (&rng);
  espcn_qat_model_start_quantization (a, lr, 2, h, w);
  g_assert_true (a->attached);
  g_autoptr (EspcnSafetensorsWriter) wr = espcn_safetensors_writer_new ();
  g_assert_true (espcn_qat_model_save_tensors (a, wr, &error));
  g_autoptr (GBytes) bytes = espcn_safetensors_writer_to_bytes (wr);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_data (data, len, &error);
  g_assert_no_error (error);

  g_autoptr (EspcnQatModel) b = espcn_qat_model_new (&mc, "ste", 0, 99, &error);
  g_assert_true (espcn_qat_model_restore_tensors (b, st, TRUE, &error));
  for (int l = 0; l < 3; l++)
    g_assert_cmpmem (a->model->weight[l], (gsize) a->model->cout[l] * a->model->cin[l] * a->model->k[l] *
        a->model->k[l] * sizeof (float), b->model->weight[l], (gsize) b->model->cout[l] * b->model->cin[l] *
        b->model->k[l] * b->model->k[l] * sizeof (float));
  g_assert_cmpmem (a->slot[1]->state, a->slot[1]->n_state * sizeof (float), b->slot[1]->state,
      b->slot[1]->n_state * sizeof (float));

  /* Another method's model misses tensors: an error, not a partial restore claimed whole. */
  g_autoptr (EspcnQatModel) c = espcn_qat_model_new (&mc, "lsq", 0, 1, &error);
  g_assert_false (espcn_qat_model_restore_tensors (c, st, TRUE, &error));
  g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/qat-model/method-table", test_method_table);
  g_test_add_func ("/qat-model/slots-and-attach", test_slots_and_attach);
  g_test_add_func ("/qat-model/save-restore-round-trip", test_save_restore_round_trip);
  return g_test_run ();
}
