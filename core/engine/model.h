/* espcn-gst: an INT8 ESPCN model, as the integer engine runs it.
 *
 * Immutable once built or loaded and reference counted (atomically), so one
 * model can be shared by any number of threads and runners.  Every model that
 * exists has passed the full validation of docs/model-format.md ("INT8 model
 * tensors"): layer chain 3 -> F -> F/2 -> 3*s^2, kernels 5/3/3, weights,
 * multipliers, shifts and clamps in range, and the int32 accumulator bound of
 * docs/integer-grid.md for every output channel. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ESPCN_INT8_FORMAT "espcn-int8"
/* The version the writer emits; the loader also reads version 1 (RGB only,
 * no `channels` key). */
#define ESPCN_INT8_FORMAT_VERSION "2"

#define ESPCN_INT8_N_LAYERS 3
#define ESPCN_INT8_WEIGHT_I16_MAX 4095    /* |w| bound of int16 weights (APoT, DoReFa) */
#define ESPCN_INT8_BIAS_MAX (1 << 30)     /* |b| bound of every bias */
#define ESPCN_INT8_FEATURES_MIN 2
#define ESPCN_INT8_FEATURES_MAX 256

typedef enum {
  ESPCN_WEIGHT_I8 = 1,   /* stored as int8, values in [-127, 127] */
  ESPCN_WEIGHT_I16 = 2,  /* stored as int16, |values| <= 4095 */
} EspcnWeightDtype;

/* One convolution, stride 1, zero padding k/2, per output channel requantization
 * onto [0, out_max].  All arrays are owned by the model (when read from one) or by
 * the caller (when passed to espcn_int8_model_new(), which copies them). */
typedef struct {
  int out_c, in_c, k;
  EspcnWeightDtype weight_dtype;  /* how the file stores the weights (decides the SIMD path) */
  const gint16 *weight;           /* out_c * in_c * k * k, layout [out][in][ky][kx] */
  const gint32 *bias;             /* out_c, on the accumulator grid s_w[c] * s_in */
  const gint32 *multiplier;       /* out_c, in [2^30, 2^31) */
  const gint32 *shift;            /* out_c, in [1, 62] */
  gint32 out_max;                 /* output clamp: 127 or 255 for conv1/conv2, 255 for conv3 */
  gint32 in_max;                  /* largest input level: 255 for conv1, the previous out_max otherwise */
  const float *weight_scale;      /* informational, out_c values or NULL */
  float act_scale;                /* informational, real value of one output step, 0 if unknown */
} EspcnInt8Layer;

typedef struct _EspcnInt8Model EspcnInt8Model;

/* Build a model from layers in memory (copied) and metadata strings (copied; may be
 * NULL; "method" is required, "scale", "features" and "channels", when present, must
 * agree with the layers).  conv1's input channels C (1: luma, 3: RGB) decide the
 * model's channels; conv3 must then have C*s^2 outputs.  `in_max` of each layer is ignored and derived from the chain.
 * Runs the full validation; fails with a message naming the layer and the fault. */
EspcnInt8Model *espcn_int8_model_new (const EspcnInt8Layer layers[ESPCN_INT8_N_LAYERS],
                                      GHashTable *metadata, GError **error);

/* Load an INT8 checkpoint (safetensors, docs/model-format.md).  Trusts nothing:
 * every failure is a GError naming the tensor or key and what is wrong. */
EspcnInt8Model *espcn_int8_model_load (const char *path, GError **error);
/* The same from bytes in memory (the data is not kept). */
EspcnInt8Model *espcn_int8_model_load_from_data (const guint8 *data, gsize len, GError **error);

/* Write the model as an INT8 checkpoint (atomically: a complete file or none). */
gboolean espcn_int8_model_save (const EspcnInt8Model *m, const char *path, GError **error);
/* The same file's bytes. */
GBytes *espcn_int8_model_save_to_bytes (const EspcnInt8Model *m, GError **error);

EspcnInt8Model *espcn_int8_model_ref (EspcnInt8Model *m);
void espcn_int8_model_unref (EspcnInt8Model *m);

/* Upscale factor s (2, 3 or 4). */
int espcn_int8_model_get_scale (const EspcnInt8Model *m);
/* F, conv1's output channels. */
int espcn_int8_model_get_features (const EspcnInt8Model *m);
/* C, the image channels the model reads and writes: 3 (RGB) or 1 (luma, Y).
 * A luma model runs on ESPCN_PIXEL_LAYOUT_Y8 frames (engine/engine.h). */
int espcn_int8_model_get_channels (const EspcnInt8Model *m);
/* The quantization method that produced the model ("lsq", ...). */
const char *espcn_int8_model_get_method (const EspcnInt8Model *m);
/* A metadata string, or NULL when absent. */
const char *espcn_int8_model_get_metadata (const EspcnInt8Model *m, const char *key);
/* All metadata keys, sorted, NULL-terminated; free with g_free() (not the strings). */
const char **espcn_int8_model_get_metadata_keys (const EspcnInt8Model *m);
/* Layer i in 0..2 (conv1..conv3); owned by the model. */
const EspcnInt8Layer *espcn_int8_model_get_layer (const EspcnInt8Model *m, int i);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnInt8Model, espcn_int8_model_unref)

G_END_DECLS
