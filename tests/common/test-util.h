/* Helpers shared by the test programs. */
#pragma once

#include <glib.h>

/* Names and bytes of every tensor of a safetensors file, in file order: equal iff
 * weights, Adam state and quantizer state are equal bit for bit. */
GBytes *espcn_test_tensor_bytes (const char *path);
