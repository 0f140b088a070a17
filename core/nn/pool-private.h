/* espcn-gst: a persistent pool of worker threads for core/nn (not installed).
 *
 * espcn_pool_run() runs fn(data, chunk) for chunk = 0 .. n_chunks-1 and returns when
 * all are done.  Chunk c always runs on thread c % n_threads (the caller is thread
 * 0), so which thread does what never depends on timing. */
#pragma once

typedef struct _EspcnPool EspcnPool;
typedef void (*EspcnPoolFunc) (void *data, int chunk);

/* n_threads >= 1 counts the caller; n_threads - 1 workers are started. */
EspcnPool *espcn_pool_new (int n_threads);
void espcn_pool_free (EspcnPool *pool);
int espcn_pool_n_threads (const EspcnPool *pool);
void espcn_pool_run (EspcnPool *pool, int n_chunks, EspcnPoolFunc fn, void *data);
