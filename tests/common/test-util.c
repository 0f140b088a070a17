#include "test-util.h"

#include <string.h>

#include "io/safetensors.h"

GBytes *
espcn_test_tensor_bytes (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EspcnSafetensors) st = espcn_safetensors_load_file (path, &error);
  g_assert_no_error (error);
  GByteArray *all = g_byte_array_new ();
  for (guint i = 0; i < espcn_safetensors_n_tensors (st); i++) {
    const EspcnTensor *t = espcn_safetensors_get_nth (st, i);
    g_byte_array_append (all, (const guint8 *) t->name, (guint) strlen (t->name) + 1);
    g_byte_array_append (all, t->data, (guint) t->nbytes);
  }
  return g_byte_array_free_to_bytes (all);
}
