#include "util/report.h"

void
espcn_notice (EspcnNoticeFunc fn, gpointer user_data, EspcnNoticeLevel level, const char *fmt, ...)
{
  if (fn == NULL)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fn (level, msg, user_data);
}
