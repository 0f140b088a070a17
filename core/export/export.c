/* Float QAT model -> INT8 model: integer weights and grids from the quantizers,
 * biases and requantization multipliers computed here in double. */
#include "export/export.h"
#include "engine/engine-version.h"
#include "engine/requant.h"

#include <gio/gio.h>
#include <math.h>

#define FAIL(...) \
  do { \
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, __VA_ARGS__); \
    return NULL; \
  } while (0)

/* Arrays of one exported layer. */
typedef struct {
  gint16 *w;
  gint32 *bias, *mult, *shift;
  float *wscale;
} Owned;

static gboolean
check_finite (const float *x, gsize n, const char *name, GError **error)
{
  for (gsize i = 0; i < n; i++)
    if (!isfinite (x[i])) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "tensor '%s' holds %s at index %" G_GSIZE_FORMAT,
          name, isnan (x[i]) ? "NaN" : "an infinity", i);
      return FALSE;
    }
  return TRUE;
}

static void
owned_clear (Owned *o)
{
  g_free (o->w);
  g_free (o->bias);
  g_free (o->mult);
  g_free (o->shift);
  g_free (o->wscale);
}

static EspcnInt8Model *
export_model (const EspcnQatModel *qm, GHashTable *metadata, Owned own[3], GError **error)
{
  const EspcnFloatModel *model = qm->model;
  const char *method = qm->method->name;
  EspcnQuantizer *const wq[3] = { espcn_qat_model_weight_quant (qm, 0), espcn_qat_model_weight_quant (qm, 1),
                                   espcn_qat_model_weight_quant (qm, 2) };
  EspcnQuantizer *const aq[2] = { espcn_qat_model_act_quant (qm, 0), espcn_qat_model_act_quant (qm, 1) };
  if (!qm->method->quantized)
    FAIL ("the model has no quantization method (\"%s\"): INT8 export needs a quantization-aware trained model",
        method);
  for (int i = 0; i < 3; i++)
    if (wq[i] == NULL || wq[i]->ops == NULL || wq[i]->ops->export_weights == NULL)
      FAIL ("conv%d has no weight quantizer: INT8 export needs a quantization-aware trained model (method '%s')",
          i + 1, method);
  for (int i = 0; i < 2; i++)
    if (aq[i] == NULL || aq[i]->ops == NULL || aq[i]->ops->export_act == NULL)
      FAIL ("conv%d has no activation quantizer: INT8 export needs a quantization-aware trained model "
          "(method '%s')", i + 1, method);

  /* Activation grids: s[0] = input pixels, s[1], s[2] = hidden, s[3] = output pixels. */
  double step[4];
  gint32 qmax[4] = { ESPCN_PIXEL_MAX, 0, 0, ESPCN_PIXEL_MAX };
  step[0] = step[3] = 1.0 / ESPCN_PIXEL_MAX;
  for (int i = 0; i < 2; i++) {
    float s_a = 0.0f;
    if (!aq[i]->ops->export_act (aq[i], &s_a, &qmax[i + 1], error)) {
      g_prefix_error (error, "conv%d activation quantizer: ", i + 1);
      return NULL;
    }
    if (!(isfinite (s_a) && s_a > 0.0f))
      FAIL ("conv%d activation quantizer: step %g is not a finite positive number", i + 1, (double) s_a);
    step[i + 1] = s_a;
  }

  EspcnInt8Layer layers[3] = { 0 };
  for (int i = 0; i < 3; i++) {
    int n = i + 1, cout = model->cout[i];
    gsize nw = (gsize) cout * model->cin[i] * model->k[i] * model->k[i];
    char name[32];
    g_snprintf (name, sizeof name, "conv%d.weight", n);
    if (!check_finite (model->weight[i], nw, name, error))
      return NULL;
    g_snprintf (name, sizeof name, "conv%d.bias", n);
    if (!check_finite (model->bias[i], cout, name, error))
      return NULL;

    g_autofree gint32 *w_int = g_new0 (gint32, nw);
    own[i].wscale = g_new0 (float, cout);
    EspcnWeightExport ex = { w_int, own[i].wscale, 0 };
    if (!wq[i]->ops->export_weights (wq[i], model->weight[i], nw, &ex, error)) {
      g_prefix_error (error, "conv%d weight quantizer: ", n);
      return NULL;
    }
    if (ex.w_int_max < 0 || ex.w_int_max > ESPCN_INT8_WEIGHT_I16_MAX)
      FAIL ("conv%d weight quantizer: levels up to %d do not fit int16 weights (|w| <= %d)", n, ex.w_int_max,
          ESPCN_INT8_WEIGHT_I16_MAX);
    EspcnInt8Layer *l = &layers[i];
    l->out_c = cout;
    l->in_c = model->cin[i];
    l->k = model->k[i];
    /* int8 storage only where the engine's u8 x s8 pair sums stay exact (7-bit input). */
    gboolean narrow = ex.w_int_max <= ESPCN_WEIGHT_QMAX_INT8 && (i == 0 || qmax[i] == ESPCN_ACT_QMAX_FAST);
    l->weight_dtype = narrow ? ESPCN_WEIGHT_I8 : ESPCN_WEIGHT_I16;
    own[i].w = g_new (gint16, nw);
    for (gsize j = 0; j < nw; j++) {
      if (w_int[j] < -ex.w_int_max || w_int[j] > ex.w_int_max)
        FAIL ("conv%d weight quantizer: level %d at index %" G_GSIZE_FORMAT " exceeds its own bound %d", n,
            w_int[j], j, ex.w_int_max);
      own[i].w[j] = (gint16) w_int[j];
    }

    own[i].bias = g_new (gint32, cout);
    own[i].mult = g_new (gint32, cout);
    own[i].shift = g_new (gint32, cout);
    double s_in = step[i], s_out = step[i + 1];
    for (int c = 0; c < cout; c++) {
      double s_w = own[i].wscale[c];
      if (!(isfinite (s_w) && s_w > 0.0))
        FAIL ("conv%d weight quantizer: step %g of output channel %d is not a finite positive number", n, s_w, c);
      double acc_step = s_w * s_in;
      double b = floor (model->bias[i][c] / acc_step + 0.5);
      /* A channel whose learned step collapsed (a dead channel: LSQ can shrink s to
       * its floor) has a bias far larger than its weights' grid can carry.  Its
       * weights then contribute nothing measurable, so the channel is re-gridded
       * with a coarser step (one power of two): each weight moves by at most
       * half of the new step, which is still far below the bias it sits beside. */
      /* Likewise a channel whose step is so small that its requantization multiplier
       * falls below the 31-bit multiplier's reach (2^-32 with shift 62). */
      double need_b = fabs (b) / (ESPCN_INT8_BIAS_MAX / 2);
      double need_m = 0x1p-31 / (acc_step / s_out);
      if (MAX (need_b, need_m) > 1.0 && isfinite (b)) {
        gsize per = nw / cout;
        double k = exp2 (ceil (log2 (MAX (need_b, need_m)))); /* one power-of-two re-grid */
        s_w *= k;
        for (gsize j = (gsize) c * per; j < (gsize) (c + 1) * per; j++)
          own[i].w[j] = (gint16) floor (own[i].w[j] / k + 0.5);
        acc_step = s_w * s_in;
        b = floor (model->bias[i][c] / acc_step + 0.5);
      }
      own[i].wscale[c] = (float) s_w;
      if (fabs (b) > ESPCN_INT8_BIAS_MAX)
        FAIL ("conv%d.bias: channel %d, %g / (s_w * s_in = %g) = %g does not fit the bias range +-2^30", n, c,
            (double) model->bias[i][c], acc_step, b);
      own[i].bias[c] = (gint32) b;
      int sh;
      if (!espcn_requant_from_real (acc_step / s_out, &own[i].mult[c], &sh, error)) {
        g_prefix_error (error, "conv%d channel %d: ", n, c);
        return NULL;
      }
      own[i].shift[c] = sh;
    }
    l->weight = own[i].w;
    l->bias = own[i].bias;
    l->multiplier = own[i].mult;
    l->shift = own[i].shift;
    l->weight_scale = own[i].wscale;
    l->out_max = qmax[i + 1];
    l->act_scale = (float) step[i + 1];
  }

  g_autoptr (GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format_iso8601 (now);
  g_hash_table_insert (meta, "creator", "espcn-gst " ESPCN_ENGINE_VERSION);
  g_hash_table_insert (meta, "created", created);
  if (metadata != NULL) {
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init (&it, metadata);
    while (g_hash_table_iter_next (&it, &k, &v))
      g_hash_table_insert (meta, k, v);
  }
  g_hash_table_insert (meta, "method", (gpointer) method);
  return espcn_int8_model_new (layers, meta, error);
}

EspcnInt8Model *
espcn_export_int8_model (const EspcnQatModel *qm, GHashTable *metadata, GError **error)
{
  g_return_val_if_fail (qm != NULL && qm->model != NULL && qm->method != NULL, NULL);
  Owned own[3] = { { 0 } };
  EspcnInt8Model *m = export_model (qm, metadata, own, error);
  for (int i = 0; i < 3; i++)
    owned_clear (&own[i]);
  if (m == NULL)
    g_prefix_error (error, "INT8 export: ");
  return m;
}

gboolean
espcn_export_int8 (const EspcnQatModel *qm, GHashTable *metadata, const char *out_path, GError **error)
{
  g_return_val_if_fail (qm != NULL && out_path != NULL, FALSE);
  g_autoptr (EspcnInt8Model) m = espcn_export_int8_model (qm, metadata, error);
  return m != NULL && espcn_int8_model_save (m, out_path, error);
}
