#include "nn/pool-private.h"

#include <glib.h>

struct _EspcnPool {
  int n_threads;
  GThread **workers;
  GMutex lock;
  GCond wake, done;
  guint64 generation; /* bumped per job */
  int pending;        /* workers still running the current job */
  gboolean quit;
  EspcnPoolFunc fn;
  void *data;
  int n_chunks;
};

typedef struct {
  EspcnPool *pool;
  int index;
} WorkerArg;

static void
run_share (EspcnPool *p, int index, EspcnPoolFunc fn, void *data, int n_chunks)
{
  for (int c = index; c < n_chunks; c += p->n_threads)
    fn (data, c);
}

static gpointer
worker_main (gpointer arg)
{
  WorkerArg *wa = arg;
  EspcnPool *p = wa->pool;
  int index = wa->index;
  g_free (wa);
  guint64 seen = 0;
  g_mutex_lock (&p->lock);
  for (;;) {
    while (!p->quit && p->generation == seen)
      g_cond_wait (&p->wake, &p->lock);
    if (p->quit)
      break;
    seen = p->generation;
    EspcnPoolFunc fn = p->fn;
    void *data = p->data;
    int n_chunks = p->n_chunks;
    g_mutex_unlock (&p->lock);
    run_share (p, index, fn, data, n_chunks);
    g_mutex_lock (&p->lock);
    if (--p->pending == 0)
      g_cond_signal (&p->done);
  }
  g_mutex_unlock (&p->lock);
  return NULL;
}

EspcnPool *
espcn_pool_new (int n_threads)
{
  EspcnPool *p = g_new0 (EspcnPool, 1);
  p->n_threads = MAX (1, n_threads);
  g_mutex_init (&p->lock);
  g_cond_init (&p->wake);
  g_cond_init (&p->done);
  p->workers = g_new0 (GThread *, p->n_threads);
  for (int i = 1; i < p->n_threads; i++) {
    WorkerArg *wa = g_new (WorkerArg, 1);
    wa->pool = p;
    wa->index = i;
    p->workers[i] = g_thread_new ("espcn-nn", worker_main, wa);
  }
  return p;
}

void
espcn_pool_free (EspcnPool *p)
{
  if (!p)
    return;
  g_mutex_lock (&p->lock);
  p->quit = TRUE;
  g_cond_broadcast (&p->wake);
  g_mutex_unlock (&p->lock);
  for (int i = 1; i < p->n_threads; i++)
    g_thread_join (p->workers[i]);
  g_free (p->workers);
  g_mutex_clear (&p->lock);
  g_cond_clear (&p->wake);
  g_cond_clear (&p->done);
  g_free (p);
}

int
espcn_pool_n_threads (const EspcnPool *p)
{
  return p->n_threads;
}

void
espcn_pool_run (EspcnPool *p, int n_chunks, EspcnPoolFunc fn, void *data)
{
  if (p->n_threads == 1 || n_chunks <= 1) {
    run_share (p, 0, fn, data, n_chunks);
    return;
  }
  g_mutex_lock (&p->lock);
  p->fn = fn;
  p->data = data;
  p->n_chunks = n_chunks;
  p->pending = p->n_threads - 1;
  p->generation++;
  g_cond_broadcast (&p->wake);
  g_mutex_unlock (&p->lock);
  run_share (p, 0, fn, data, n_chunks);
  g_mutex_lock (&p->lock);
  while (p->pending > 0)
    g_cond_wait (&p->done, &p->lock);
  g_mutex_unlock (&p->lock);
}
