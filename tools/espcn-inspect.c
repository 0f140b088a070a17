/* espcn-inspect: what an INT8 model (or a float checkpoint) holds, and how well the
 * INT8 weights represent the float weights they came from (text and SVG). */
#include <glib.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/model.h"
#include "eval/loadmodel.h"
#include "io/safetensors.h"

static void
range_i32 (const gint32 *v, int n, gint32 *lo, gint32 *hi)
{
  *lo = G_MAXINT32;
  *hi = G_MININT32;
  for (int i = 0; i < n; i++) {
    *lo = MIN (*lo, v[i]);
    *hi = MAX (*hi, v[i]);
  }
}

static void
print_int8 (const char *path, const EspcnInt8Model *m)
{
  int channels = espcn_int8_model_get_channels (m);
  printf ("%s: INT8 model (%s), x%d, %d features, %d channel%s (%s)\n", path, espcn_int8_model_get_method (m),
      espcn_int8_model_get_scale (m), espcn_int8_model_get_features (m), channels, channels == 1 ? "" : "s",
      channels == 1 ? "luma: runs on the Y plane" : "RGB");
  g_autofree const char **keys = espcn_int8_model_get_metadata_keys (m);
  printf ("metadata:\n");
  for (int i = 0; keys[i] != NULL; i++)
    printf ("  %s = %s\n", keys[i], espcn_int8_model_get_metadata (m, keys[i]));
  for (int i = 0; i < ESPCN_INT8_N_LAYERS; i++) {
    const EspcnInt8Layer *l = espcn_int8_model_get_layer (m, i);
    const int nw = l->out_c * l->in_c * l->k * l->k;
    int wlo = G_MAXINT, whi = G_MININT;
    for (int j = 0; j < nw; j++) {
      wlo = MIN (wlo, l->weight[j]);
      whi = MAX (whi, l->weight[j]);
    }
    gint32 blo, bhi, mlo, mhi, slo, shi;
    range_i32 (l->bias, l->out_c, &blo, &bhi);
    range_i32 (l->multiplier, l->out_c, &mlo, &mhi);
    range_i32 (l->shift, l->out_c, &slo, &shi);
    printf ("conv%d: weight [%d, %d, %d, %d] %s in [%d, %d]; bias I32 in [%d, %d]; multiplier in [%d, %d]; "
            "shift in [%d, %d]; input 0..%d, output clamp 0..%d",
        i + 1, l->out_c, l->in_c, l->k, l->k, l->weight_dtype == ESPCN_WEIGHT_I8 ? "I8" : "I16", wlo, whi, blo, bhi,
        mlo, mhi, slo, shi, l->in_max, l->out_max);
    if (l->weight_scale != NULL) {
      float lo = INFINITY, hi = -INFINITY;
      for (int c = 0; c < l->out_c; c++) {
        lo = fminf (lo, l->weight_scale[c]);
        hi = fmaxf (hi, l->weight_scale[c]);
      }
      printf ("; weight_scale in [%.4g, %.4g]", lo, hi);
    }
    if (l->act_scale > 0)
      printf ("; act_scale %.4g", l->act_scale);
    printf ("\n");
  }
}

static void
print_checkpoint (const char *path, const EspcnSafetensors *st)
{
  printf ("%s: float training checkpoint\nmetadata:\n", path);
  const char *const *keys = espcn_safetensors_get_metadata_keys (st);
  for (int i = 0; keys[i] != NULL; i++)
    printf ("  %s = %s\n", keys[i], espcn_safetensors_get_metadata (st, keys[i]));
  for (guint i = 0; i < espcn_safetensors_n_tensors (st); i++) {
    const EspcnTensor *t = espcn_safetensors_get_nth (st, i);
    if (g_str_has_prefix (t->name, "adam."))
      continue;  /* optimizer moments: not part of the model */
    printf ("%s: %s [", t->name, espcn_dtype_name (t->dtype));
    for (int d = 0; d < t->ndim; d++)
      printf ("%s%" G_GINT64_FORMAT, d ? ", " : "", t->shape[d]);
    printf ("]");
    /* Checkpoints store conv weights flat; show the conv shape they hold. */
    gint64 sc = 0, f = 0;
    const char *ss = espcn_safetensors_get_metadata (st, "scale"), *fs = espcn_safetensors_get_metadata (st, "features");
    int layer = 0;
    if (ss != NULL && fs != NULL && g_ascii_string_to_signed (ss, 10, 2, 4, &sc, NULL) &&
        g_ascii_string_to_signed (fs, 10, 2, 4096, &f, NULL) && sscanf (t->name, "conv%d.weight", &layer) == 1 &&
        g_str_has_suffix (t->name, ".weight") && layer >= 1 && layer <= 3) {
      const gint64 o[3] = { f, f / 2, 3 * sc * sc }, in[3] = { 3, f, f / 2 }, k[3] = { 5, 3, 3 };
      printf (" = [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
          o[layer - 1], in[layer - 1], k[layer - 1], k[layer - 1]);
    }
    if (t->dtype == ESPCN_DTYPE_F32 && t->nbytes >= 4) {
      const float *v = t->data;
      float lo = INFINITY, hi = -INFINITY;
      for (gsize j = 0; j < t->nbytes / 4; j++) {
        lo = fminf (lo, v[j]);
        hi = fmaxf (hi, v[j]);
      }
      printf (" in [%.5g, %.5g]", lo, hi);
    }
    printf ("\n");
  }
}

/* Per layer: RMS of w_float - w_int * s_w[c], and the histogram SVG panel. */
typedef struct {
  double rms;
  int best_c;  /* channel with the largest step */
} LayerError;

static gboolean
layer_error (const EspcnInt8Layer *l, const float *wf, LayerError *e, GError **error)
{
  if (l->weight_scale == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the INT8 model has no weight_scale tensors: the quantization error cannot be computed");
    return FALSE;
  }
  const int per = l->in_c * l->k * l->k;
  double sum = 0;
  e->best_c = 0;
  for (int c = 0; c < l->out_c; c++) {
    if (l->weight_scale[c] > l->weight_scale[e->best_c])
      e->best_c = c;
    for (int j = 0; j < per; j++) {
      double d = wf[c * per + j] - (double) l->weight[c * per + j] * l->weight_scale[c];
      sum += d * d;
    }
  }
  e->rms = sqrt (sum / ((double) l->out_c * per));
  return TRUE;
}

#define PW 560
#define PH 220
#define BINS 120

static void
svg_panel (GString *s, int layer, const EspcnInt8Layer *l, const float *wf, const LayerError *e, int y0)
{
  const int n = l->out_c * l->in_c * l->k * l->k, per = l->in_c * l->k * l->k;
  float lo = INFINITY, hi = -INFINITY;
  for (int j = 0; j < n; j++) {
    lo = fminf (lo, wf[j]);
    hi = fmaxf (hi, wf[j]);
  }
  float lim = fmaxf (fabsf (lo), fabsf (hi));
  if (!(lim > 0))
    lim = 1;
  guint hist[BINS] = { 0 };
  guint peak = 1;
  for (int j = 0; j < n; j++) {
    int b = (int) ((wf[j] + lim) / (2 * lim) * BINS);
    b = CLAMP (b, 0, BINS - 1);
    peak = MAX (peak, ++hist[b]);
  }
  const int x0 = 60, ph = PH - 60;
  g_string_append_printf (s, "<g transform=\"translate(0,%d)\">\n", y0);
  g_string_append_printf (s, "<text x=\"%d\" y=\"16\" font-size=\"13\">conv%d: %d float weights in [%.4g, %.4g]; "
      "RMS(w_float - w_int*s_w) = %.4g; ticks: levels of channel %d (step %.4g)</text>\n",
      x0, layer + 1, n, lo, hi, e->rms, e->best_c, l->weight_scale[e->best_c]);
  g_string_append_printf (s, "<rect x=\"%d\" y=\"30\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n",
      x0, PW, ph);
  const double bw = (double) PW / BINS;
  for (int b = 0; b < BINS; b++) {
    double h = (double) hist[b] / peak * (ph - 4);
    g_string_append_printf (s, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#4a7fc1\"/>\n",
        x0 + b * bw, 30 + ph - h, bw, h);
  }
  /* The quantization levels the chosen channel uses, as vertical ticks. */
  GHashTable *seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (int j = 0; j < per; j++) {
    int q = l->weight[e->best_c * per + j];
    if (g_hash_table_contains (seen, GINT_TO_POINTER (q)))
      continue;
    g_hash_table_add (seen, GINT_TO_POINTER (q));
    double v = q * (double) l->weight_scale[e->best_c];
    if (fabs (v) > lim)
      continue;
    double x = x0 + (v + lim) / (2 * lim) * PW;
    g_string_append_printf (s, "<line x1=\"%.2f\" y1=\"30\" x2=\"%.2f\" y2=\"%d\" stroke=\"#d03030\" "
        "stroke-width=\"0.6\" stroke-opacity=\"0.7\"/>\n", x, x, 30 + ph);
  }
  g_hash_table_destroy (seen);
  g_string_append_printf (s, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%.4g</text>\n", x0 - 10, 30 + ph + 14, -lim);
  g_string_append_printf (s, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%.4g</text>\n", x0 + PW,
      30 + ph + 14, lim);
  g_string_append (s, "</g>\n");
}

static gboolean
compare_float (const char *ckpt, const EspcnInt8Model *m, const char *svg, GError **error)
{
  g_autoptr (EspcnEvalCheckpoint) ck = espcn_eval_checkpoint_load (ckpt, error);
  if (ck == NULL)
    return FALSE;
  if (ck->model->config.scale != espcn_int8_model_get_scale (m) ||
      ck->model->config.features != espcn_int8_model_get_features (m)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s is x%d with %d features, the INT8 model x%d with %d features", ckpt, ck->model->config.scale,
        ck->model->config.features, espcn_int8_model_get_scale (m), espcn_int8_model_get_features (m));
    return FALSE;
  }
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", PW + 80,
      3 * PH + 10);
  for (int i = 0; i < ESPCN_INT8_N_LAYERS; i++) {
    const EspcnInt8Layer *l = espcn_int8_model_get_layer (m, i);
    LayerError e;
    if (!layer_error (l, ck->model->weight[i], &e, error)) {
      g_string_free (s, TRUE);
      return FALSE;
    }
    printf ("conv%d: quantization error RMS(w_float - w_int * s_w) = %.5g (float weights of %s)\n", i + 1, e.rms,
        ckpt);
    svg_panel (s, i, l, ck->model->weight[i], &e, i * PH + 10);
  }
  g_string_append (s, "</svg>\n");
  gboolean ok = svg == NULL || g_file_set_contents (svg, s->str, (gssize) s->len, error);
  g_string_free (s, TRUE);
  if (ok && svg != NULL)
    printf ("histograms written to %s\n", svg);
  return ok;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_autofree char *float_ckpt = NULL, *svg = NULL;
  GOptionEntry entries[] = {
    { "float", 'f', 0, G_OPTION_ARG_FILENAME, &float_ckpt, "The float checkpoint the INT8 model came from", "CKPT" },
    { "svg", 0, 0, G_OPTION_ARG_FILENAME, &svg, "Write weight histograms with quantization levels (needs --float)", "OUT.svg" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("FILE - show an INT8 model or a float checkpoint");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnSafetensors) st = NULL;
  g_autoptr (EspcnInt8Model) m = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    goto fail;
  if (argc != 2) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "usage: espcn-inspect FILE [--float CKPT] [--svg OUT.svg]");
    goto fail;
  }
  if (svg != NULL && float_ckpt == NULL) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "--svg needs --float CKPT (the float weights)");
    goto fail;
  }
  st = espcn_safetensors_load_file (argv[1], &error);
  if (st == NULL)
    goto fail;
  const char *format = espcn_safetensors_get_metadata (st, "format");
  if (g_strcmp0 (format, ESPCN_INT8_FORMAT) == 0) {
    m = espcn_int8_model_load (argv[1], &error);
    if (m == NULL)
      goto fail;
    print_int8 (argv[1], m);
    if (float_ckpt != NULL && !compare_float (float_ckpt, m, svg, &error))
      goto fail;
  } else if (g_strcmp0 (format, "espcn-float-checkpoint") == 0) {
    if (float_ckpt != NULL) {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "--float compares an INT8 model: give the INT8 model as FILE");
      goto fail;
    }
    print_checkpoint (argv[1], st);
  } else {
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s is neither an INT8 model nor a float checkpoint (metadata format is %s)", argv[1], format ? format : "missing");
    goto fail;
  }
  return 0;
fail:
  fprintf (stderr, "espcn-inspect: %s\n", error->message);
  return 1;
}
