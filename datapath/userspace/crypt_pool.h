/* crypt_pool.h — worker threads that seal or open one batch of transport packets in
 * parallel. The event thread fills a batch, the workers and the event thread itself take
 * jobs from it, and the event thread waits for all of them: packets leave (or reach TUN)
 * in batch order, so per-peer order is kept without per-peer queues (fork-join per
 * batch). */
#ifndef PODWIRE_US_CRYPT_POOL_H
#define PODWIRE_US_CRYPT_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPT_POOL_MAX_THREADS 16

struct crypt_job {
	bool encrypt;          /* seal (TUN->UDP) or open (UDP->TUN) */
	bool ok;               /* open: authenticated */
	const uint8_t *key;    /* 32-byte ChaCha20-Poly1305 key */
	uint64_t counter;      /* nonce */
	uint8_t *data;         /* in place: plaintext (seal) or ciphertext with tag (open) */
	size_t len;            /* plaintext length (seal, padded) or ciphertext length (open) */
	size_t out_len;        /* result length */
};

struct crypt_pool {
	pthread_t threads[CRYPT_POOL_MAX_THREADS];
	unsigned int nthreads;
	pthread_mutex_t lock;
	pthread_cond_t work, idle;
	uint64_t generation;
	bool stop;
	struct crypt_job *jobs;
	size_t njobs;
	atomic_size_t next, done;
	unsigned int busy; /* workers inside the current generation */
};

/* Run one job in the calling thread. */
void crypt_job_run(struct crypt_job *job);
/* Start @nthreads workers (0: everything runs in the caller). Returns 0 or -errno. */
int crypt_pool_start(struct crypt_pool *p, unsigned int nthreads);
/* Run all @n jobs, spread over the workers and the caller; returns when all are done. */
void crypt_pool_run(struct crypt_pool *p, struct crypt_job *jobs, size_t n);
void crypt_pool_stop(struct crypt_pool *p);

#endif
