/* Private helpers shared by model.c and model-io.c. */
#pragma once

#include "engine/model.h"

G_BEGIN_DECLS

/* A whole-string decimal integer in [0, max], no sign, no spaces. */
gboolean espcn_int8_parse_int (const char *s, int max, int *out);

/* Checks kernels and the channel chain C -> F -> F/2 -> C*s^2 with C in {1, 3};
 * sets *scale_out and *channels_out. */
gboolean espcn_int8_check_chain (const int out_c[ESPCN_INT8_N_LAYERS], const int in_c[ESPCN_INT8_N_LAYERS],
                                 const int k[ESPCN_INT8_N_LAYERS], int *scale_out, int *channels_out,
                                 GError **error);

G_END_DECLS
