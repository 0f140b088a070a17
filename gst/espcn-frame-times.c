/* Recent processing times (see espcn-frame-times.h). */
#include "espcn-frame-times.h"

void
espcn_frame_times_reset (EspcnFrameTimes *ft)
{
  ft->n = ft->next = 0;
}

void
espcn_frame_times_add (EspcnFrameTimes *ft, GstClockTime t)
{
  ft->times[ft->next] = t;
  ft->next = (ft->next + 1) % ESPCN_FRAME_TIMES_WINDOW;
  if (ft->n < ESPCN_FRAME_TIMES_WINDOW)
    ft->n++;
}

GstClockTime
espcn_frame_times_max (const EspcnFrameTimes *ft)
{
  GstClockTime m = 0;
  for (guint i = 0; i < ft->n; i++)
    m = MAX (m, ft->times[i]);
  return m;
}
