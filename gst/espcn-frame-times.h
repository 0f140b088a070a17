/* espcn-gst: the element's recent processing times, for its latency estimate. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define ESPCN_FRAME_TIMES_WINDOW 16

/* The last ESPCN_FRAME_TIMES_WINDOW processing times of one negotiated size,
 * model and thread count (the caller resets it when one of them changes). */
typedef struct {
  GstClockTime times[ESPCN_FRAME_TIMES_WINDOW];
  guint n, next;
} EspcnFrameTimes;

void espcn_frame_times_reset (EspcnFrameTimes *ft);
void espcn_frame_times_add (EspcnFrameTimes *ft, GstClockTime t);
/* The maximum over the window (a conservative latency); 0 when it is empty. */
GstClockTime espcn_frame_times_max (const EspcnFrameTimes *ft);

G_END_DECLS
