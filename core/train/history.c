#include "train/history.h"

#include <json-glib/json-glib.h>
#include <math.h>

#include "util/atomic-file.h"

/* Epochs without validation (--val-every) have no metrics: null, not NaN. */
static void
add_metric (JsonBuilder *b, double v)
{
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

gboolean
espcn_train_history_write (const EspcnTrainConfig *cfg, const EspcnTrainResult *res, const char *path, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, cfg->method);
  json_builder_set_member_name (b, "scale");
  json_builder_add_int_value (b, cfg->scale);
  json_builder_set_member_name (b, "features");
  json_builder_add_int_value (b, cfg->features);
  json_builder_set_member_name (b, "channels");
  json_builder_add_string_value (b, cfg->channels == 1 ? "y" : "rgb");
  json_builder_set_member_name (b, "epochs");
  json_builder_add_int_value (b, cfg->epochs);
  json_builder_set_member_name (b, "batch");
  json_builder_add_int_value (b, cfg->batch);
  json_builder_set_member_name (b, "patch");
  json_builder_add_int_value (b, cfg->patch);
  json_builder_set_member_name (b, "lr");
  json_builder_add_double_value (b, cfg->lr);
  json_builder_set_member_name (b, "weight_decay");
  json_builder_add_double_value (b, cfg->weight_decay);
  if (espcn_train_config_act_bits (cfg) != 0) {
    json_builder_set_member_name (b, "act_bits");
    json_builder_add_int_value (b, espcn_train_config_act_bits (cfg));
  }
  json_builder_set_member_name (b, "dihedral");
  json_builder_add_boolean_value (b, cfg->augment.dihedral);
  json_builder_set_member_name (b, "zoom_min");
  json_builder_add_double_value (b, cfg->augment.zoom_min);
  json_builder_set_member_name (b, "balance_classes");
  json_builder_add_boolean_value (b, cfg->augment.balance_classes);
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, (gint64) cfg->seed);
  json_builder_set_member_name (b, "start");
  json_builder_add_string_value (b, cfg->init ? "init" : espcn_start_name (cfg->start));
  json_builder_set_member_name (b, "loss");
  json_builder_add_string_value (b, espcn_loss_name (cfg->loss));
  json_builder_set_member_name (b, "data");
  json_builder_add_string_value (b, cfg->data_dir);
  json_builder_set_member_name (b, "bicubic_psnr_y");
  json_builder_add_double_value (b, res->bicubic_psnr_y);
  json_builder_set_member_name (b, "bicubic_psnr_rgb");
  json_builder_add_double_value (b, res->bicubic_psnr_rgb);
  json_builder_set_member_name (b, "bicubic_ssim");
  json_builder_add_double_value (b, res->bicubic_ssim);
  json_builder_set_member_name (b, "history");
  json_builder_begin_array (b);
  for (guint i = 0; i < res->history->len; i++) {
    const EspcnEpochMetrics *m = &g_array_index (res->history, EspcnEpochMetrics, i);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "epoch");
    json_builder_add_int_value (b, m->epoch);
    json_builder_set_member_name (b, "train_loss");
    json_builder_add_double_value (b, m->train_loss);
    json_builder_set_member_name (b, "val_psnr_y");
    add_metric (b, m->val_psnr_y);
    json_builder_set_member_name (b, "val_psnr_rgb");
    add_metric (b, m->val_psnr_rgb);
    json_builder_set_member_name (b, "val_ssim");
    add_metric (b, m->val_ssim);
    json_builder_set_member_name (b, "seconds");
    json_builder_add_double_value (b, m->seconds);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "final_psnr_y");
  json_builder_add_double_value (b, res->final_psnr_y);
  json_builder_set_member_name (b, "final_psnr_rgb");
  json_builder_add_double_value (b, res->final_psnr_rgb);
  json_builder_set_member_name (b, "final_ssim");
  json_builder_add_double_value (b, res->final_ssim);
  json_builder_set_member_name (b, "train_seconds");
  json_builder_add_double_value (b, res->train_seconds);
  json_builder_end_object (b);

  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  gsize len;
  g_autofree char *text = json_generator_to_data (gen, &len);
  return espcn_write_file_atomic (path, text, len, error);
}

void
espcn_train_history_load (const char *path, int up_to_epoch, GArray *history)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_file (parser, path, NULL))
    return;
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  JsonArray *a = o && json_object_has_member (o, "history") ? json_object_get_array_member (o, "history") : NULL;
  for (guint i = 0; a != NULL && i < json_array_get_length (a); i++) {
    JsonObject *e = json_array_get_object_element (a, i);
    EspcnEpochMetrics m = { 0 };
    m.epoch = (int) json_object_get_int_member_with_default (e, "epoch", 0);
    if (m.epoch < 1 || m.epoch > up_to_epoch)
      continue;
    m.train_loss = json_object_get_double_member_with_default (e, "train_loss", 0);
    m.val_psnr_y = json_object_get_double_member_with_default (e, "val_psnr_y", NAN);
    m.val_psnr_rgb = json_object_get_double_member_with_default (e, "val_psnr_rgb", NAN);
    m.val_ssim = json_object_get_double_member_with_default (e, "val_ssim", NAN);
    m.seconds = json_object_get_double_member_with_default (e, "seconds", 0);
    g_array_append_val (history, m);
  }
}
