/* Placeholder until the method lands: refuses clearly instead of pretending. */
#include "quant/methods.h"
#include <gio/gio.h>

gboolean
espcn_quant_lsq_setup (EspcnQuantizer *q, size_t n, GError **error)
{
  (void) q;
  (void) n;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "quantization method 'lsq' is not implemented yet");
  return FALSE;
}
