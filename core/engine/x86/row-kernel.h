/* espcn-gst: the row loop shared by the x86 convolution kernels (not installed).
 *
 * Each ISA file defines a `tile (p, rows, x, dst, P, OBB, ob0)` that computes P
 * pixels from x for OBB blocks of 8 output channels from ob0, with P and OBB
 * compile-time constants; these macros walk a row with it.  They are macros, not
 * functions, so every tile shape is inlined and compiled with its file's ISA flags. */
#pragma once

/* All blocks of output channels for P pixels from x, OBB blocks at a time; the
 * last n_ob % OBB blocks in one tile of their own (OBB is at most 4). */
#define TILE_ALL_BLOCKS(tile, P, OBB)                                                                     \
  do {                                                                                                    \
    int ob = 0;                                                                                           \
    for (; ob + OBB <= p->n_ob; ob += OBB)                                                                \
      tile (p, rows, x, dst, P, OBB, ob);                                                                 \
    switch (p->n_ob - ob) {                                                                               \
      case 3: tile (p, rows, x, dst, P, 3, ob); break;                                                    \
      case 2: tile (p, rows, x, dst, P, 2, ob); break;                                                    \
      case 1: tile (p, rows, x, dst, P, 1, ob); break;                                                    \
      default: break;                                                                                     \
    }                                                                                                     \
  } while (0)

/* Pixel-outer: one pixel group's input window and all the layer's weights stay
 * in L1 while every block of output channels is computed; PM pixels at a time,
 * then the row's last pixels one by one. */
#define ROW_KERNEL(name, tile, PM, OBBM)                                                                  \
  static void name (const EspcnConvPacked *p, const guint8 *const *rows, int width, guint8 *dst)          \
  {                                                                                                       \
    int x = 0;                                                                                            \
    for (; x + PM <= width; x += PM)                                                                      \
      TILE_ALL_BLOCKS (tile, PM, OBBM);                                                                   \
    for (; x < width; x++)                                                                                \
      TILE_ALL_BLOCKS (tile, 1, OBBM);                                                                    \
  }
