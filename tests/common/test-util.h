/* Helpers shared by the test programs. */
#pragma once

#include <glib.h>

#include "image/image.h"
#include "util/rng.h"

/* Names and bytes of every tensor of a safetensors file, in file order: equal iff
 * weights, Adam state and quantizer state are equal bit for bit. */
GBytes *espcn_test_tensor_bytes (const char *path);

/* Creates a fresh directory from tmpl (a g_dir_make_tmp() template such as
 * "espcn-train-XXXXXX") in the temporary folder and removes it, with everything in
 * it, when the test program exits normally. A failed assertion aborts, so the
 * directories of a failing run stay; ESPCN_TEST_KEEP_TMP=1 keeps them always, to
 * look at. Fails the test if the directory can't be made. Free with g_free(). */
char *espcn_test_make_tmp_dir (const char *tmpl);

/* Removes path and everything under it, never following symbolic links; a missing
 * path is fine. Returns FALSE if something could not be removed. */
gboolean espcn_test_rm_rf (const char *path);

/* A photograph-like w x h test image drawn from rng: smooth shading, three
 * sinusoidal textures of random frequency and direction, and six antialiased
 * discs with hard edges. */
EspcnImage *espcn_test_photo_like (EspcnRng *rng, int w, int h);
