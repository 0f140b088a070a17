/* espcn-gst: the safetensors container (read and write).
 *
 * Layout (docs/model-format.md, "Container"): an 8-byte little-endian u64 N, N
 * bytes of UTF-8 JSON mapping tensor name -> {"dtype", "shape", "data_offsets":
 * [begin, end]} (offsets relative to the data buffer that follows the header) plus
 * an optional "__metadata__" object of string -> string, then the raw
 * little-endian tensor data.
 *
 * The reader trusts nothing: every violation is a GError naming the tensor or
 * key and what is wrong; it never reads out of bounds.  The writer emits the
 * compact form of the reference implementation, header padded with spaces to a
 * multiple of 8 bytes, tensors in insertion order, deterministic bytes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ESPCN_SAFETENSORS_ERROR (espcn_safetensors_error_quark ())
GQuark espcn_safetensors_error_quark (void);

typedef enum {
  ESPCN_SAFETENSORS_ERROR_TRUNCATED,   /* the file ends before the header says it should */
  ESPCN_SAFETENSORS_ERROR_HEADER,      /* header length out of bounds, or not JSON / not an object */
  ESPCN_SAFETENSORS_ERROR_TENSOR,      /* a tensor entry is malformed (keys, dtype, shape, offsets) */
  ESPCN_SAFETENSORS_ERROR_LAYOUT,      /* tensors overlap, leave gaps, or miss the data buffer's end */
  ESPCN_SAFETENSORS_ERROR_METADATA,    /* "__metadata__" is not an object of strings */
  ESPCN_SAFETENSORS_ERROR_NOT_FOUND,   /* espcn_safetensors_get_typed(): no such tensor */
  ESPCN_SAFETENSORS_ERROR_MISMATCH,    /* espcn_safetensors_get_typed(): wrong dtype or shape */
  ESPCN_SAFETENSORS_ERROR_INVALID,     /* writer: invalid name, shape or metadata */
} EspcnSafetensorsError;

#define ESPCN_SAFETENSORS_MAX_DIMS 8
#define ESPCN_SAFETENSORS_MAX_HEADER (100u * 1000u * 1000u) /* bytes, as the reference */

typedef enum {
  ESPCN_DTYPE_INVALID = 0,
  ESPCN_DTYPE_BOOL,
  ESPCN_DTYPE_U8,
  ESPCN_DTYPE_I8,
  ESPCN_DTYPE_F8_E5M2,
  ESPCN_DTYPE_F8_E4M3,
  ESPCN_DTYPE_I16,
  ESPCN_DTYPE_U16,
  ESPCN_DTYPE_F16,
  ESPCN_DTYPE_BF16,
  ESPCN_DTYPE_I32,
  ESPCN_DTYPE_U32,
  ESPCN_DTYPE_F32,
  ESPCN_DTYPE_I64,
  ESPCN_DTYPE_U64,
  ESPCN_DTYPE_F64,
  ESPCN_DTYPE_N_TYPES  /* not a dtype */
} EspcnDType;

/* Bytes per element (0 for ESPCN_DTYPE_INVALID or out of range). */
gsize espcn_dtype_size (EspcnDType dtype);
/* The safetensors name ("F32", ...), or NULL for an invalid dtype. */
const char *espcn_dtype_name (EspcnDType dtype);
/* Exact, case-sensitive; ESPCN_DTYPE_INVALID for unknown names or NULL. */
EspcnDType espcn_dtype_from_name (const char *name);

/* One tensor, owned by its EspcnSafetensors.  `data` is 8-byte aligned (cast it
 * to the dtype's C type) and holds the values in host byte order; it is never
 * NULL, even when nbytes == 0.  ndim == 0 is a scalar (one element). */
typedef struct {
  const char *name;
  EspcnDType dtype;
  int ndim;
  gint64 shape[ESPCN_SAFETENSORS_MAX_DIMS];
  const void *data;
  gsize nbytes;
} EspcnTensor;

/* A loaded file; immutable, so any number of threads may read it at once. */
typedef struct _EspcnSafetensors EspcnSafetensors;

/* Read and validate a whole file. */
EspcnSafetensors *espcn_safetensors_load_file (const char *path, GError **error);
/* The same from memory; `data` is not kept (tensors are copied). */
EspcnSafetensors *espcn_safetensors_load_data (const guint8 *data, gsize len, GError **error);
void espcn_safetensors_free (EspcnSafetensors *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnSafetensors, espcn_safetensors_free)

/* Tensors in file order (ascending data offset; ties by name). */
guint espcn_safetensors_n_tensors (const EspcnSafetensors *st);
const EspcnTensor *espcn_safetensors_get_nth (const EspcnSafetensors *st, guint i);
/* NULL when absent. */
const EspcnTensor *espcn_safetensors_get (const EspcnSafetensors *st, const char *name);

/* The tensor `name` if it has `dtype`, `ndim` dimensions and, when expected_shape
 * is non-NULL, expected_shape[i] for every i with expected_shape[i] >= 0 (-1 =
 * any size).  ndim < 0 accepts any rank (expected_shape is then ignored).
 * Otherwise NULL and an error such as
 * "tensor 'conv2.weight': expected dtype I8, found F32". */
const EspcnTensor *espcn_safetensors_get_typed (const EspcnSafetensors *st, const char *name,
                                                EspcnDType dtype, int ndim,
                                                const gint64 *expected_shape, GError **error);

/* Copies the 1-D F32 tensor `name` of exactly n values into dst (the flat
 * tensors of training checkpoints); the error as for get_typed. */
gboolean espcn_safetensors_read_f32 (const EspcnSafetensors *st, const char *name, float *dst, gsize n,
                                     GError **error);

/* A "__metadata__" value, or NULL when absent. */
const char *espcn_safetensors_get_metadata (const EspcnSafetensors *st, const char *key);
/* All metadata keys, sorted (strcmp), NULL-terminated, owned by st. */
const char *const *espcn_safetensors_get_metadata_keys (const EspcnSafetensors *st);

/* Writer. */
typedef struct _EspcnSafetensorsWriter EspcnSafetensorsWriter;

EspcnSafetensorsWriter *espcn_safetensors_writer_new (void);
void espcn_safetensors_writer_free (EspcnSafetensorsWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EspcnSafetensorsWriter, espcn_safetensors_writer_free)

/* Add a tensor; `data` (host byte order, prod(shape) * espcn_dtype_size(dtype)
 * bytes; may be NULL only when that is 0) is copied.  Fails for a name that is
 * not UTF-8, is "__metadata__" or is already present; for an invalid dtype, ndim
 * outside [0, 8], a negative dimension or a byte size that overflows.  Tensors are
 * stored back to back in insertion order (no padding between them, as readers
 * reject gaps), so a tensor's offset in the file is 8-aligned only if the sizes
 * before it are multiples of 8; our reader copies into aligned memory anyway. */
gboolean espcn_safetensors_writer_add (EspcnSafetensorsWriter *w, const char *name,
                                       EspcnDType dtype, int ndim, const gint64 *shape,
                                       const void *data, GError **error);
/* Adds n floats as a 1-D F32 tensor. */
gboolean espcn_safetensors_writer_add_f32 (EspcnSafetensorsWriter *w, const char *name, const float *data, gsize n,
                                           GError **error);
/* Set (or replace) a metadata string; key and value must be UTF-8 without NUL. */
gboolean espcn_safetensors_writer_set_metadata (EspcnSafetensorsWriter *w, const char *key,
                                                const char *value, GError **error);
/* The complete file. */
GBytes *espcn_safetensors_writer_to_bytes (const EspcnSafetensorsWriter *w);
/* Write the file atomically (espcn_write_file_atomic): a complete file or none. */
gboolean espcn_safetensors_writer_write_file (const EspcnSafetensorsWriter *w, const char *path,
                                              GError **error);

G_END_DECLS
