/* Kernel cases in the spirit of dav1d's checkasm, shared by
 * tests/engine/test-checkasm.c (native build) and the standalone cross checker
 * tools/cross/checkasm/ (aarch64 under qemu): one kernel variant against the
 * `_c` reference kernel on random and extreme layers and input rows.  Outputs
 * must be identical to the byte, and nothing may be written past the row.
 *
 * Depends only on engine/kernels.h (with engine/model.h) and util/rng.h, since
 * the cross build compiles just the kernels, the packing and the RNG. */
#pragma once

#include "engine/kernels.h"
#include "util/rng.h"

G_BEGIN_DECLS

/* Each check runs `isa` on its cases and returns FALSE at the first case that
 * differs from ESPCN_KERNELS_C, after a g_test_message() naming the case and
 * the byte; `*n_cases` (if not NULL) is increased by the cases compared.  The
 * cases depend only on `seed`, so every variant sees the same ones. */

/* n random layers: k 1/3/5, 1..64 input channels at strides 4..64, 1..64 outputs,
 * widths 1..70, int8 and int16 weights, any requantization the model loader
 * accepts, rows at odd addresses; every int8 case also through the widening
 * kernel, which conv1 uses for 255-level pixels. */
gboolean checkasm_random_layers (EspcnKernelIsa isa, guint64 seed, int n, int *n_cases);

/* Every width 1..70, around the kernels' pixel tiles, int8 and int16. */
gboolean checkasm_every_width (EspcnKernelIsa isa, guint64 seed, int *n_cases);

/* Weights all at +max, -max or alternating, inputs at their maximum,
 * accumulators at the int32 bound, and unit resolution (y = acc) so that an
 * accumulator off by one changes an output. */
gboolean checkasm_extremes (EspcnKernelIsa isa, guint64 seed, int *n_cases);

/* One-channel input rows (a luma model's conv1: in_cs 1, 5x5x1 taps read as
 * two 4-byte groups per kernel row, the bytes past the padding random): every
 * width 1..70, int8 and int16 weights, 255- and 127-level inputs, any
 * requantization, and weights and inputs at their extremes. */
gboolean checkasm_one_channel (EspcnKernelIsa isa, guint64 seed, int *n_cases);

/* The luma output stage (EspcnKernels.shuffle_y) at x2, x3 and x4, every width
 * 1..70, odd strides and addresses; nothing written past the rows' pixels. */
gboolean checkasm_shuffle_y (EspcnKernelIsa isa, guint64 seed, int *n_cases);

/* Plain arithmetic rather than agreement with the C kernel: 8 channels of one
 * pixel with every product at its largest (int8 and int16), y = 100 + c
 * exactly.  Asserts. */
void checkasm_assert_extreme_sums_exact (EspcnKernelIsa isa);

G_END_DECLS
