/* The generated implementation of espcn-yuv-orc.orc (orcc's output, or the
 * committed espcn-yuv-orc-dist.c without orcc), compiled from here so that
 * the helper source list alone carries it.  Generated code: the unused
 * variables it leaves are not held to the project's warning flags. */
#include "espcn-yuv-orc-config.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "espcn-yuv-orc-impl.h"
#pragma GCC diagnostic pop
