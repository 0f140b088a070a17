/* Fuzz target: the safetensors container reader and the INT8 model loader.
 *
 * Properties, for any bytes: both readers return a value or a GError with a
 * message, never crash, read out of bounds or warn; a loaded container's tensors
 * are readable to their last byte; a model that loads saves to bytes that load to
 * a model saving to the same bytes; and it runs a small frame with the fast runner
 * and the reference giving the same bytes (the loader's accumulator bound is what
 * keeps UBSan quiet about int32 overflow there). */
#include <string.h>

#include "engine/engine.h"
#include "engine/model.h"
#include "io/safetensors.h"

#include "fuzz-common.h"

static void
check_container (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_data (data, size, &error);
  if (st == NULL) {
    FUZZ_CHECK (error != NULL && error->message[0] != '\0', "NULL without an error");
    return;
  }
  FUZZ_CHECK (error == NULL, "a container and an error");
  guint8 x = 0;
  for (guint i = 0; i < espcn_safetensors_n_tensors (st); i++) {
    const EspcnTensor *t = espcn_safetensors_get_nth (st, i);
    FUZZ_CHECK (t->data != NULL && t->name != NULL, "tensor %u", i);
    FUZZ_CHECK (espcn_safetensors_get (st, t->name) == t, "lookup of '%s'", t->name);
    gsize elems = 1;
    for (int d = 0; d < t->ndim; d++)
      elems *= (gsize) t->shape[d];
    FUZZ_CHECK (elems * espcn_dtype_size (t->dtype) == t->nbytes, "size of '%s'", t->name);
    for (gsize b = 0; b < t->nbytes; b++)
      x ^= ((const guint8 *) t->data)[b];
  }
  const char *const *keys = espcn_safetensors_get_metadata_keys (st);
  for (guint i = 0; keys[i] != NULL; i++)
    FUZZ_CHECK (espcn_safetensors_get_metadata (st, keys[i]) != NULL, "metadata '%s'", keys[i]);
  g_autoptr (GError) typed_error = NULL;
  const gint64 any[4] = { -1, -1, -1, -1 };
  if (espcn_safetensors_get_typed (st, "conv1.weight", ESPCN_DTYPE_I8, 4, any, &typed_error) == NULL)
    FUZZ_CHECK (typed_error != NULL, "get_typed: NULL without an error");
  (void) x;
}

static void
check_model_runs (EspcnInt8Model *m)
{
  const int w = 3, h = 2, s = espcn_int8_model_get_scale (m);
  /* A luma model runs on Y planes, an RGB one on RGB pixels. */
  const EspcnPixelLayout rgb = espcn_int8_model_get_channels (m) == 1 ? ESPCN_PIXEL_LAYOUT_Y8
      : ESPCN_PIXEL_LAYOUT_RGB;
  const int bpp = rgb.bpp;
  guint8 in[3 * 2 * 3];
  for (guint i = 0; i < sizeof in; i++)
    in[i] = (guint8) (i * 37 + 11);
  in[0] = 0;
  in[1] = 255;
  gsize out_len = (gsize) w * s * h * s * bpp;
  g_autofree guint8 *a = g_malloc0 (out_len);
  g_autofree guint8 *b = g_malloc0 (out_len);
  g_autoptr (GError) error = NULL;
  FUZZ_CHECK (espcn_engine_process_reference (m, in, w * bpp, &rgb, w, h, b, (gsize) w * s * bpp, &rgb, &error), "%s",
      error->message);
  g_autoptr (EspcnRunner) r = espcn_runner_new (m, 1, &error);
  FUZZ_CHECK (r != NULL, "%s", error->message);
  FUZZ_CHECK (espcn_runner_process (r, in, w * bpp, &rgb, w, h, a, (gsize) w * s * bpp, &rgb, &error), "%s",
      error->message);
  FUZZ_CHECK (memcmp (a, b, out_len) == 0, "runner and reference differ on a loaded model");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_glib_init ();
  check_container (data, size);

  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnInt8Model) m = espcn_int8_model_load_from_data (data, size, &error);
  if (m == NULL) {
    FUZZ_CHECK (error != NULL && error->message[0] != '\0', "NULL without an error");
    return 0;
  }
  FUZZ_CHECK (error == NULL, "a model and an error");
  g_autoptr (GBytes) saved = espcn_int8_model_save_to_bytes (m, &error);
  FUZZ_CHECK (saved != NULL, "save: %s", error->message);
  gsize len;
  const guint8 *bytes = g_bytes_get_data (saved, &len);
  g_autoptr (EspcnInt8Model) again = espcn_int8_model_load_from_data (bytes, len, &error);
  FUZZ_CHECK (again != NULL, "a saved model does not load: %s", error->message);
  g_autoptr (GBytes) saved2 = espcn_int8_model_save_to_bytes (again, &error);
  FUZZ_CHECK (saved2 != NULL && g_bytes_equal (saved, saved2), "save -> load -> save changes the bytes");
  check_model_runs (m);
  return 0;
}
