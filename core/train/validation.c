#include "train/validation.h"

#include "image/luma-merge.h"
#include "metrics/metrics.h"

void
espcn_val_set_clear (EspcnValSet *v)
{
  for (guint i = 0; i < v->n; i++) {
    espcn_image_free (v->hr[i]);
    g_free (v->lr[i]);
    if (v->bic != NULL)
      espcn_image_free (v->bic[i]);
  }
  g_free (v->bic);
  g_free (v->hr);
  g_free (v->lr);
  g_free (v->lr_w);
  g_free (v->lr_h);
}

gboolean
espcn_val_set_build (const EspcnDataset *ds, int scale, int channels, EspcnValSet *v, double bicubic[3],
                     GError **error)
{
  v->n = espcn_dataset_num_val (ds);
  v->channels = channels;
  if (channels == 1)
    v->bic = g_new0 (EspcnImage *, v->n);
  v->hr = g_new0 (EspcnImage *, v->n);
  v->lr = g_new0 (float *, v->n);
  v->lr_w = g_new0 (int, v->n);
  v->lr_h = g_new0 (int, v->n);
  bicubic[0] = bicubic[1] = bicubic[2] = 0;
  for (guint i = 0; i < v->n; i++) {
    EspcnImage *hr = NULL, *lr = NULL;
    if (!espcn_dataset_val_pair (ds, i, scale, &hr, &lr, error))
      return FALSE;
    g_autoptr (EspcnImage) bic = espcn_bicubic_upscale (lr, scale);
    bicubic[0] += espcn_psnr_y (bic, hr, scale);
    bicubic[1] += espcn_psnr_rgb (bic, hr, scale);
    bicubic[2] += espcn_ssim_y (bic, hr, scale);
    v->hr[i] = hr;
    v->lr_w[i] = lr->width;
    v->lr_h[i] = lr->height;
    v->lr[i] = g_new (float, (gsize) channels * lr->width * lr->height);
    if (channels == 1) {
      espcn_image_to_y01 (lr, v->lr[i]);
      v->bic[i] = g_steal_pointer (&bic);
    } else {
      espcn_image_to_planar_f32 (lr, v->lr[i]);
    }
    espcn_image_free (lr);
  }
  for (int k = 0; k < 3; k++)
    bicubic[k] /= v->n;
  return TRUE;
}

void
espcn_val_set_score (const EspcnValSet *v, EspcnQatModel *qm, int scale, double out[3])
{
  espcn_qat_model_set_training (qm, FALSE);
  out[0] = out[1] = out[2] = 0;
  for (guint i = 0; i < v->n; i++) {
    const EspcnImage *hr = v->hr[i];
    g_autofree float *sr = g_new (float, (gsize) v->channels * hr->width * hr->height);
    espcn_float_model_forward (qm->model, v->lr[i], 1, v->lr_h[i], v->lr_w[i], sr);
    g_autoptr (EspcnImage) img = espcn_image_new (hr->width, hr->height);
    if (v->channels == 1)
      espcn_image_merge_luma (img, sr, v->bic[i]);
    else
      espcn_image_from_planar_f32 (img, sr);
    out[0] += espcn_psnr_y (img, hr, scale);
    out[1] += espcn_psnr_rgb (img, hr, scale);
    out[2] += espcn_ssim_y (img, hr, scale);
  }
  for (int k = 0; k < 3; k++)
    out[k] /= v->n;
  espcn_qat_model_set_training (qm, TRUE);
}
