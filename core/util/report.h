/* espcn-gst: how core/ tells its caller what is happening.
 *
 * core/ prints nothing.  A long job (opening a dataset, a training run, an
 * evaluation) takes a callback and reports one-line notices through it; the
 * tools decide how to show them (terminal, log file, nothing).  Jobs with
 * progress to show add their own structured events on top (trainer.h,
 * evaluate.h). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  ESPCN_NOTICE_INFO,     /* what the job is doing (quantization turns on, resumed at ...) */
  ESPCN_NOTICE_WARNING,  /* something was skipped or adjusted (an unreadable image, a short split) */
} EspcnNoticeLevel;

/* One complete line of text, without a trailing newline. */
typedef void (*EspcnNoticeFunc) (EspcnNoticeLevel level, const char *message, gpointer user_data);

/* Formats the message and calls fn; nothing when fn is NULL. */
void espcn_notice (EspcnNoticeFunc fn, gpointer user_data, EspcnNoticeLevel level, const char *fmt, ...)
    G_GNUC_PRINTF (4, 5);

G_END_DECLS
