/* Weight packing, the `_c` reference kernels and the kernel table. */
#include "engine/kernels.h"
#include "engine/requant.h"
#include "cpu/cpu.h"

#include <string.h>

void
espcn_conv_pack (EspcnConvPacked *p, const EspcnInt8Layer *l, int in_cs, const int *oc_perm, gboolean force_wide)
{
  g_return_if_fail (in_cs >= l->in_c && (in_cs % 4 == 0 || in_cs == 1));
  memset (p, 0, sizeof *p);
  int k = l->k;
  /* Taps per kernel row, rounded up to whole 4-byte groups. */
  int row_taps = (k * in_cs + 3) / 4 * 4;
  gsize per_oc = (gsize) l->in_c * k * k;
  gboolean small = l->in_max <= 127;  /* u7 activations (docs/integer-grid.md) */
  for (gsize i = 0; small && i < per_oc * l->out_c; i++)
    small = l->weight[i] >= -127 && l->weight[i] <= 127;
  p->kind = small && !force_wide ? ESPCN_CONV_U7S8 : ESPCN_CONV_WIDE;
  p->k = k;
  p->in_cs = in_cs;
  p->row_steps = row_taps / 4;
  p->out_c = l->out_c;
  p->n_ob = (l->out_c + ESPCN_OC_BLOCK - 1) / ESPCN_OC_BLOCK;
  p->out_cs = p->n_ob * ESPCN_OC_BLOCK;
  p->qmax = l->out_max;
  int tap_bytes = p->kind == ESPCN_CONV_U7S8 ? 1 : 2;
  p->ob_bytes = (gsize) k * row_taps * ESPCN_OC_BLOCK * tap_bytes;
  /* 32-byte aligned blocks for the vector loads. */
  p->w = g_aligned_alloc0 (p->n_ob, p->ob_bytes, 32);
  p->bias = g_new0 (gint32, p->out_cs);
  p->mult = g_new0 (gint32, p->out_cs);
  p->shift = g_new0 (gint32, p->out_cs);
  p->rq = g_aligned_alloc0 ((gsize) p->n_ob * 16, sizeof (gint64), 32);

  for (int j = 0; j < p->out_cs; j++) {
    int ob = j / ESPCN_OC_BLOCK, lane = j % ESPCN_OC_BLOCK;
    int oc = j < l->out_c ? (oc_perm ? oc_perm[j] : j) : -1;
    p->mult[j] = oc >= 0 ? l->multiplier[oc] : 1 << 30;
    p->shift[j] = oc >= 0 ? l->shift[oc] : 1;
    p->bias[j] = oc >= 0 ? l->bias[oc] : 0;
    gint64 *rq = p->rq + (gsize) ob * 16;
    int half = lane % 2 ? 4 : 0;
    rq[half + lane / 2] = G_GINT64_CONSTANT (1) << (p->shift[j] - 1);
    rq[8 + half + lane / 2] = p->shift[j];
    if (oc < 0)
      continue;
    for (int ky = 0; ky < k; ky++)
      for (int kx = 0; kx < k; kx++)
        for (int ic = 0; ic < l->in_c; ic++) {
          gint16 v = l->weight[(((gsize) oc * l->in_c + ic) * k + ky) * k + kx];
          /* t: the tap's byte offset within the row_taps contiguous input bytes of row ky. */
          gsize t = (gsize) kx * in_cs + ic;
          guint8 *blk = p->w + ob * p->ob_bytes + (gsize) ky * row_taps * ESPCN_OC_BLOCK * tap_bytes;
          if (p->kind == ESPCN_CONV_U7S8)
            blk[(t / 4 * ESPCN_OC_BLOCK + lane) * 4 + t % 4] = (guint8) (gint8) v;
          else
            ((gint16 *) blk)[(t / 2 * ESPCN_OC_BLOCK + lane) * 2 + t % 2] = v;
        }
  }
}

int
espcn_conv_row_overread (int k, int in_cs)
{
  return (k * in_cs + 3) / 4 * 4 - k * in_cs;
}

void
espcn_conv_packed_clear (EspcnConvPacked *p)
{
  g_aligned_free (p->w);
  g_free (p->bias);
  g_free (p->mult);
  g_free (p->shift);
  g_aligned_free (p->rq);
  memset (p, 0, sizeof *p);
}

/* The kernels below sum in plain int32, which is exact: the model's
 * accumulator bound (|bias| + in_max * sum |w| < 2^31) covers every partial sum
 * in any order. */
static inline guint8
finish (const EspcnConvPacked *p, int j, gint32 acc)
{
  return (guint8) espcn_requantize (acc, p->mult[j], p->shift[j], p->qmax);
}

void
espcn_conv_row_u7s8_c (const EspcnConvPacked *p, const guint8 *const *rows, int width, guint8 *dst)
{
  int k = p->k, span = 4 * p->row_steps;
  for (int x = 0; x < width; x++)
    for (int j = 0; j < p->out_cs; j++) {
      int ob = j / ESPCN_OC_BLOCK, lane = j % ESPCN_OC_BLOCK;
      gint32 acc = p->bias[j];
      for (int ky = 0; ky < k; ky++) {
        const guint8 *src = rows[ky] + (gsize) x * p->in_cs;
        const gint8 *w = (const gint8 *) (p->w + ob * p->ob_bytes + (gsize) ky * span * ESPCN_OC_BLOCK);
        for (int t = 0; t < span; t++)
          acc += (gint32) w[(t / 4 * ESPCN_OC_BLOCK + lane) * 4 + t % 4] * src[t];
      }
      dst[(gsize) x * p->out_cs + j] = finish (p, j, acc);
    }
}

void
espcn_conv_row_wide_c (const EspcnConvPacked *p, const guint8 *const *rows, int width, guint8 *dst)
{
  int k = p->k, span = 4 * p->row_steps;
  for (int x = 0; x < width; x++)
    for (int j = 0; j < p->out_cs; j++) {
      int ob = j / ESPCN_OC_BLOCK, lane = j % ESPCN_OC_BLOCK;
      gint32 acc = p->bias[j];
      for (int ky = 0; ky < k; ky++) {
        const guint8 *src = rows[ky] + (gsize) x * p->in_cs;
        const gint16 *w = (const gint16 *) (p->w + ob * p->ob_bytes) + (gsize) ky * span * ESPCN_OC_BLOCK;
        for (int t = 0; t < span; t++)
          acc += (gint32) w[(t / 2 * ESPCN_OC_BLOCK + lane) * 2 + t % 2] * src[t];
      }
      dst[(gsize) x * p->out_cs + j] = finish (p, j, acc);
    }
}

void
espcn_shuffle_y_c (const guint8 *c3, int cs, int width, int s, guint8 *out, gsize out_stride)
{
  for (int i = 0; i < s; i++) {
    guint8 *dst = out + (gsize) i * out_stride;
    for (int x = 0; x < width; x++)
      for (int j = 0; j < s; j++)
        dst[(gsize) x * s + j] = c3[(gsize) x * cs + i * s + j];
  }
}

/* The CPU feature each instruction set needs (cpu/cpu.h). */
static guint
isa_cpu_flag (EspcnKernelIsa isa)
{
  switch (isa) {
    case ESPCN_KERNELS_SSE41:
      return ESPCN_CPU_SSE41;
    case ESPCN_KERNELS_AVX2:
      return ESPCN_CPU_AVX2;
    case ESPCN_KERNELS_NEON:
      return ESPCN_CPU_NEON;
    default:
      return 0;
  }
}

static gboolean
isa_built (EspcnKernelIsa isa)
{
  switch (isa) {
    case ESPCN_KERNELS_C:
      return TRUE;
#ifdef ESPCN_HAVE_SSE41
    case ESPCN_KERNELS_SSE41:
      return TRUE;
#endif
#ifdef ESPCN_HAVE_AVX2
    case ESPCN_KERNELS_AVX2:
      return TRUE;
#endif
#ifdef ESPCN_HAVE_NEON
    case ESPCN_KERNELS_NEON:
      return TRUE;
#endif
    default:
      return FALSE;
  }
}

gboolean
espcn_kernels_isa_supported (EspcnKernelIsa isa)
{
  return isa_built (isa) && (espcn_cpu_detected_flags () & isa_cpu_flag (isa)) == isa_cpu_flag (isa);
}

EspcnKernelIsa
espcn_kernels_isa_best_for (guint allowed)
{
  /* The table lists instruction sets from the slowest up. */
  for (EspcnKernelIsa isa = ESPCN_KERNELS_N - 1; isa > ESPCN_KERNELS_C; isa--)
    if (espcn_kernels_isa_supported (isa) && (allowed & isa_cpu_flag (isa)) == isa_cpu_flag (isa))
      return isa;
  return ESPCN_KERNELS_C;
}

EspcnKernelIsa
espcn_kernels_isa_best (void)
{
  return espcn_kernels_isa_best_for (espcn_cpu_flags ());
}

void
espcn_kernels_init (EspcnKernels *k, EspcnKernelIsa isa)
{
  k->name = "c";
  k->conv_row[ESPCN_CONV_U7S8] = espcn_conv_row_u7s8_c;
  k->conv_row[ESPCN_CONV_WIDE] = espcn_conv_row_wide_c;
  k->shuffle_y = espcn_shuffle_y_c;
  g_return_if_fail (espcn_kernels_isa_supported (isa));
#ifdef ESPCN_HAVE_SSE41
  if (isa == ESPCN_KERNELS_SSE41)
    espcn_kernels_init_sse41 (k);
#endif
#ifdef ESPCN_HAVE_AVX2
  if (isa == ESPCN_KERNELS_AVX2)
    espcn_kernels_init_avx2 (k);
#endif
#ifdef ESPCN_HAVE_NEON
  if (isa == ESPCN_KERNELS_NEON)
    espcn_kernels_init_neon (k);
#endif
}
