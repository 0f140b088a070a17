/* espcn-export: a quantization-aware trained float checkpoint to an INT8 model. */
#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "export/export.h"
#include "eval/loadmodel.h"
#include "train/checkpoint.h"

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_autoptr (GOptionContext) ctx = g_option_context_new ("FLOAT_CHECKPOINT OUT.bin - export a QAT checkpoint to INT8");
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnEvalCheckpoint) ck = NULL;
  g_autoptr (GHashTable) meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (GStrv) extra = NULL;
  const GOptionEntry entries[] = {
    { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &extra,
      "Also store metadata KEY=VALUE (repeatable; e.g. train_data=sample-data)", "KEY=VALUE" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    goto fail;
  if (argc != 3) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "usage: espcn-export FLOAT_CHECKPOINT OUT.bin");
    goto fail;
  }
  ck = espcn_eval_checkpoint_load (argv[1], &error);
  if (ck == NULL)
    goto fail;
  if (!ck->qat->method->quantized) {
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s was trained in float (method none): only a quantization-aware checkpoint can be exported", argv[1]);
    goto fail;
  }
  if (!espcn_eval_checkpoint_has_quant (ck)) {
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s stopped before quantization started (still in its float warm-up): nothing to export", argv[1]);
    goto fail;
  }
  const char *data = g_hash_table_lookup (ck->metadata, "train_data");
  if (data == NULL)
    data = g_hash_table_lookup (ck->metadata, "data");
  if (data != NULL)
    g_hash_table_insert (meta, g_strdup ("train_data"), g_strdup (data));
  const char *recipe = g_hash_table_lookup (ck->metadata, "recipe");
  g_hash_table_insert (meta, g_strdup ("recipe"),
      recipe ? g_strdup (recipe) : espcn_checkpoint_recipe_from_metadata (ck->metadata));
  const char *init = g_hash_table_lookup (ck->metadata, "init");
  char *init_recipe = init != NULL && *init != '\0' ? espcn_checkpoint_recipe (init) : NULL;
  if (init_recipe != NULL)
    g_hash_table_insert (meta, g_strdup ("init_recipe"), init_recipe);
  for (gsize i = 0; extra != NULL && extra[i] != NULL; i++) {
    const char *eq = strchr (extra[i], '=');
    if (eq == NULL || eq == extra[i]) {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--set '%s': expected KEY=VALUE", extra[i]);
      goto fail;
    }
    g_hash_table_insert (meta, g_strndup (extra[i], (gsize) (eq - extra[i])), g_strdup (eq + 1));
  }
  if (!espcn_export_int8 (ck->qat, meta, argv[2], &error))
    goto fail;
  printf ("%s (%s, x%d, %d features) -> %s\n", argv[1], ck->method, ck->model->config.scale,
      ck->model->config.features, argv[2]);
  return 0;
fail:
  fprintf (stderr, "espcn-export: %s\n", error->message);
  return 1;
}
