/* Helpers shared by the test programs. */
#pragma once

#include <glib.h>

/* ESPCN_TEST_UNDER_ASAN is defined in AddressSanitizer builds (gcc or clang),
 * for the tests that cannot run there (memory limits, allocation failures). */
#if defined(__SANITIZE_ADDRESS__)
#define ESPCN_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ESPCN_TEST_UNDER_ASAN 1
#endif
#endif

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

/* Runs this test program again with `arg` as its only argument and ESPCN_CPU set to
 * `cpu` (NULL: unset), and returns its standard output without the trailing newline
 * (the CPU policy is read once per process, so each setting needs a process of its
 * own).  In a cross build the child runs through meson's MESON_EXE_WRAPPER (qemu).
 * Fails the test if the child cannot start or does not exit with 0. */
char *espcn_test_run_self_with_cpu (const char *cpu, const char *arg);
