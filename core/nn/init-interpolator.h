/* espcn-gst: the interpolator start -- an untrained ESPCN that already upscales.
 *
 * Without changing the layers, the network is set so that it computes a learned
 * 3x3 interpolation of its input, and training refines it from there instead of
 * first rediscovering what bicubic gets for free:
 *
 *  - conv1 channels 0..C-1 copy the input channels (R, G, B, or Y for a luma
 *    model: channel 0 only), centre tap 1, bias 0, and conv2 channels 0..C-1 copy those: their ReLUs pass the pixels unchanged, inputs being in [0, 1];
 *  - every other conv1 / conv2 channel keeps its usual initialisation;
 *  - in conv3 each output phase (c, dy, dx) reads colour c's identity channel with
 *    a 3x3 filter and a bias fitted by least squares to training pairs (one filter
 *    per phase, shared by the three colours); its weights from the other channels
 *    are the usual ones times ESPCN_INTERP_RESIDUAL_GAIN, small enough not to
 *    disturb the interpolation and non-zero so the other channels get gradients.
 *
 * The fit accumulates normal equations over every interior LR pixel of the pairs
 * given (a 10x10 system per phase) and solves them in double precision. */
#pragma once

#include <glib.h>

#include "nn/model.h"

G_BEGIN_DECLS

/* conv3's weights outside the identity path, relative to their usual initialisation. */
#define ESPCN_INTERP_RESIDUAL_GAIN 0.01f

/* How a training run initialises the network. */
typedef enum {
  ESPCN_START_INTERP = 0, /* the interpolator start (default) */
  ESPCN_START_PLAIN,      /* PyTorch's Conv2d default everywhere */
} EspcnStart;

/* "interp" / "plain". */
const char *espcn_start_name (EspcnStart start);
gboolean espcn_start_from_name (const char *name, EspcnStart *out, GError **error);

/* Least-squares fit of the per-phase interpolation filters. */
typedef struct _EspcnInterpFit EspcnInterpFit;

/* channels: 3 (RGB pairs) or 1 (luma pairs). */
EspcnInterpFit *espcn_interp_fit_new (int scale, int channels);
void espcn_interp_fit_free (EspcnInterpFit *fit);

/* Adds n pairs, planar in [0, 1]: lr[n][C][h][w], hr[n][C][h*s][w*s].  Pixels
 * in the LR border (whose 3x3 window leaves the image) are not used. */
void espcn_interp_fit_add (EspcnInterpFit *fit, const float *lr, const float *hr, int n, int h, int w);

/* Solves the fit: weights[p][9] (row-major 3x3 over the LR neighbourhood) and
 * bias[p] for phase p = dy * s + dx.  FALSE with an error when no pixel was added
 * or the system is singular (e.g. only flat images). */
gboolean espcn_interp_fit_solve (const EspcnInterpFit *fit, float weights[][9], float *bias, GError **error);

/* Sets the model as described above from the fitted filters (weights[s*s][9],
 * bias[s*s]); the channels outside the identity path keep their current values,
 * except conv3's, which are scaled by ESPCN_INTERP_RESIDUAL_GAIN.  Needs conv2 to
 * have at least C channels (features >= 2 C): FALSE with an error otherwise. */
gboolean espcn_float_model_set_interpolator (EspcnFloatModel *model, const float weights[][9], const float *bias,
                                             GError **error);

/* Fits on the pairs of `n_batches` batches of `batch` pairs, then sets the model:
 * `make_batch` writes batch pairs (lr[batch][C][p/s][p/s], hr[batch][C][p][p]) for
 * batch number b; the buffers have room for 3 channels. */
typedef gboolean (*EspcnPairBatchFunc) (gpointer user_data, int b, float *lr, float *hr, GError **error);
gboolean espcn_float_model_start_as_interpolator (EspcnFloatModel *model, int patch, int batch, int n_batches,
                                                  EspcnPairBatchFunc make_batch, gpointer user_data, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnInterpFit, espcn_interp_fit_free)

G_END_DECLS
