#include "eval/eval-model.h"

#include <gio/gio.h>
#include <string.h>

#include "data/dataset.h"
#include "engine/engine.h"
#include "eval/loadmodel.h"
#include "image/luma-merge.h"
#include "io/safetensors.h"

struct _EspcnEvalModel {
  EspcnEvalKind kind;
  char *name;
  char *dir_name;
  int scale;
  char *method;
  EspcnEvalCheckpoint *ck;   /* float / fake-quant: shared by both entries of one file */
  gint *ck_refs;             /* how many entries share ck */
  EspcnInt8Model *int8;
  EspcnRunner *runner;
};

EspcnEvalModel *
espcn_eval_model_new_bicubic (int scale)
{
  EspcnEvalModel *m = g_new0 (EspcnEvalModel, 1);
  m->kind = ESPCN_EVAL_BICUBIC;
  m->name = g_strdup ("bicubic");
  m->dir_name = g_strdup ("bicubic");
  m->scale = scale;
  return m;
}

void
espcn_eval_model_free (EspcnEvalModel *m)
{
  if (m == NULL)
    return;
  if (m->ck_refs != NULL && --*m->ck_refs == 0) {
    espcn_eval_checkpoint_free (m->ck);
    g_free (m->ck_refs);
  }
  espcn_runner_free (m->runner);
  if (m->int8 != NULL)
    espcn_int8_model_unref (m->int8);
  g_free (m->name);
  g_free (m->dir_name);
  g_free (m->method);
  g_free (m);
}

static char *
file_stem (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  char *dot = strrchr (base, '.');
  if (dot != NULL && dot != base)
    *dot = '\0';
  return g_strdup (base);
}

gboolean
espcn_eval_models_open (const char *path, int threads, GPtrArray *out, GError **error)
{
  /* The container is read once to see what the file is; the typed loaders then
   * validate everything. */
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_file (path, error);
  if (st == NULL)
    return FALSE;
  const char *format = espcn_safetensors_get_metadata (st, "format");
  g_autofree char *stem = file_stem (path);

  if (g_strcmp0 (format, ESPCN_INT8_FORMAT) == 0) {
    EspcnInt8Model *im = espcn_int8_model_load (path, error);
    if (im == NULL)
      return FALSE;
    EspcnEvalModel *m = g_new0 (EspcnEvalModel, 1);
    m->kind = ESPCN_EVAL_INT8;
    m->int8 = im;
    m->name = g_strdup (path);
    m->dir_name = g_strdup (stem);
    m->scale = espcn_int8_model_get_scale (im);
    m->method = g_strdup (espcn_int8_model_get_method (im));
    m->runner = espcn_runner_new (im, MAX (threads, 1), error);
    if (m->runner == NULL) {
      espcn_eval_model_free (m);
      return FALSE;
    }
    g_ptr_array_add (out, m);
    return TRUE;
  }
  if (g_strcmp0 (format, "espcn-float-checkpoint") != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s is neither an INT8 model nor a float training checkpoint (metadata format is %s)", path,
        format ? format : "missing");
    return FALSE;
  }

  EspcnEvalCheckpoint *ck = espcn_eval_checkpoint_load (path, error);
  if (ck == NULL)
    return FALSE;
  espcn_float_model_set_threads (ck->model, MAX (threads, 1));
  gint *refs = g_new0 (gint, 1);
  gboolean fq = espcn_eval_checkpoint_has_quant (ck);
  for (int k = 0; k < (fq ? 2 : 1); k++) {
    EspcnEvalModel *m = g_new0 (EspcnEvalModel, 1);
    m->kind = k == 0 ? ESPCN_EVAL_FLOAT : ESPCN_EVAL_FAKE_QUANT;
    m->ck = ck;
    m->ck_refs = refs;
    (*refs)++;
    m->name = g_strdup_printf ("%s (%s)", path, k == 0 ? "float" : "fake-quant");
    m->dir_name = g_strdup_printf ("%s-%s", stem, k == 0 ? "float" : "fakequant");
    m->scale = ck->model->config.scale;
    m->method = g_strdup (ck->method);
    g_ptr_array_add (out, m);
  }
  return TRUE;
}

const char *
espcn_eval_model_get_name (const EspcnEvalModel *m)
{
  return m->name;
}

const char *
espcn_eval_model_get_dir_name (const EspcnEvalModel *m)
{
  return m->dir_name;
}

EspcnEvalKind
espcn_eval_model_get_kind (const EspcnEvalModel *m)
{
  return m->kind;
}

int
espcn_eval_model_get_scale (const EspcnEvalModel *m)
{
  return m->scale;
}

const char *
espcn_eval_model_get_method (const EspcnEvalModel *m)
{
  return m->method;
}

/* A luma model on an RGB image: the 8-bit Y plane through the model (float or
 * integer engine), merged with the bicubic upscale's chroma. */
static EspcnImage *
upscale_luma (EspcnEvalModel *m, const EspcnImage *lr, GError **error)
{
  const int W = lr->width * m->scale, H = lr->height * m->scale;
  gsize n_lr = (gsize) lr->width * lr->height, n_sr = (gsize) W * H;
  g_autoptr (EspcnImage) bic = espcn_bicubic_upscale (lr, m->scale);
  if (bic == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "bicubic upscaling of a %dx%d image failed", lr->width,
        lr->height);
    return NULL;
  }
  g_autofree float *y_sr = g_new (float, n_sr);
  if (m->kind == ESPCN_EVAL_INT8) {
    g_autofree guint8 *y_lr = g_new (guint8, n_lr);
    g_autofree guint8 *y8_sr = g_new (guint8, n_sr);
    espcn_image_to_y8 (lr, y_lr);
    if (!espcn_runner_process (m->runner, y_lr, (gsize) lr->width, &ESPCN_PIXEL_LAYOUT_Y8, lr->width, lr->height,
            y8_sr, (gsize) W, &ESPCN_PIXEL_LAYOUT_Y8, error))
      return NULL;
    for (gsize i = 0; i < n_sr; i++)
      y_sr[i] = y8_sr[i] / 255.0f;
  } else {
    g_autofree float *y_lr = g_new (float, n_lr);
    espcn_image_to_y01 (lr, y_lr);
    espcn_eval_checkpoint_set_fake_quant (m->ck, m->kind == ESPCN_EVAL_FAKE_QUANT);
    espcn_float_model_forward (m->ck->model, y_lr, 1, lr->height, lr->width, y_sr);
    espcn_eval_checkpoint_set_fake_quant (m->ck, FALSE);
  }
  EspcnImage *sr = espcn_image_new (W, H);
  espcn_image_merge_luma (sr, y_sr, bic);
  sr->gray = lr->gray;
  return sr;
}

EspcnImage *
espcn_eval_model_upscale (EspcnEvalModel *m, const EspcnImage *lr, GError **error)
{
  const int W = lr->width * m->scale, H = lr->height * m->scale;
  EspcnImage *sr = NULL;
  switch (m->kind) {
  case ESPCN_EVAL_BICUBIC:
    sr = espcn_bicubic_upscale (lr, m->scale);
    if (sr == NULL)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "bicubic upscaling of a %dx%d image failed", lr->width,
          lr->height);
    return sr;
  case ESPCN_EVAL_FLOAT:
  case ESPCN_EVAL_FAKE_QUANT: {
    if (m->ck->model->config.channels == 1)
      return upscale_luma (m, lr, error);
    espcn_eval_checkpoint_set_fake_quant (m->ck, m->kind == ESPCN_EVAL_FAKE_QUANT);
    g_autofree float *in = g_new (float, 3 * (gsize) lr->width * lr->height);
    g_autofree float *out = g_new (float, 3 * (gsize) W * H);
    espcn_image_to_planar_f32 (lr, in);
    espcn_float_model_forward (m->ck->model, in, 1, lr->height, lr->width, out);
    espcn_eval_checkpoint_set_fake_quant (m->ck, FALSE);
    sr = espcn_image_new (W, H);
    espcn_image_from_planar_f32 (sr, out);
    break;
  }
  case ESPCN_EVAL_INT8:
    if (espcn_int8_model_get_channels (m->int8) == 1)
      return upscale_luma (m, lr, error);
    sr = espcn_image_new (W, H);
    if (!espcn_runner_process (m->runner, lr->data, 3 * (gsize) lr->width, &ESPCN_PIXEL_LAYOUT_RGB, lr->width,
            lr->height, sr->data, 3 * (gsize) W, &ESPCN_PIXEL_LAYOUT_RGB, error)) {
      espcn_image_free (sr);
      return NULL;
    }
    break;
  }
  sr->gray = lr->gray;
  return sr;
}
