/* crypt_pool.c — fork-join crypto for a batch of packets. */
#include "datapath/userspace/crypt_pool.h"

#include <endian.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>

/* Below this many jobs, waking workers costs more than it saves. */
#define CRYPT_POOL_MIN_PARALLEL 4

void crypt_job_run(struct crypt_job *job)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = { 0 };
	unsigned long long out;
	uint64_t le = htole64(job->counter);

	/* RFC 8439 nonce: 32 zero bits, then the 64-bit little-endian counter (paper §5.4.6). */
	memcpy(nonce + 4, &le, sizeof(le));
	if (job->encrypt) {
		crypto_aead_chacha20poly1305_ietf_encrypt(job->data, &out, job->data, job->len, NULL, 0,
							  NULL, nonce, job->key);
		job->ok = true;
	} else {
		job->ok = !crypto_aead_chacha20poly1305_ietf_decrypt(job->data, &out, NULL, job->data,
								    job->len, NULL, 0, nonce, job->key);
	}
	job->out_len = job->ok ? (size_t)out : 0;
}

static void drain(struct crypt_pool *p, struct crypt_job *jobs, size_t n)
{
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < n) {
		crypt_job_run(&jobs[i]);
		atomic_fetch_add(&p->done, 1);
	}
}

static void *worker(void *arg)
{
	struct crypt_pool *p = arg;
	struct crypt_job *jobs;
	uint64_t seen = 0;
	size_t n;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stop && p->generation == seen)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stop)
			break;
		/* Snapshot the batch under the lock; the next batch is only set up once every
		 * worker has left this one (busy == 0). */
		seen = p->generation;
		jobs = p->jobs;
		n = p->njobs;
		p->busy++;
		pthread_mutex_unlock(&p->lock);
		drain(p, jobs, n);
		pthread_mutex_lock(&p->lock);
		if (--p->busy == 0)
			pthread_cond_signal(&p->idle);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int crypt_pool_start(struct crypt_pool *p, unsigned int nthreads)
{
	unsigned int i;
	int ret;

	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	if (nthreads > CRYPT_POOL_MAX_THREADS)
		nthreads = CRYPT_POOL_MAX_THREADS;
	for (i = 0; i < nthreads; i++) {
		ret = pthread_create(&p->threads[i], NULL, worker, p);
		if (ret) {
			crypt_pool_stop(p);
			return -ret;
		}
		p->nthreads++;
	}
	return 0;
}

void crypt_pool_run(struct crypt_pool *p, struct crypt_job *jobs, size_t n)
{
	size_t i;

	if (p->nthreads == 0 || n < CRYPT_POOL_MIN_PARALLEL) {
		for (i = 0; i < n; i++)
			crypt_job_run(&jobs[i]);
		return;
	}
	pthread_mutex_lock(&p->lock);
	while (p->busy) /* a worker woke late for the previous batch */
		pthread_cond_wait(&p->idle, &p->lock);
	p->jobs = jobs;
	p->njobs = n;
	atomic_store(&p->next, 0);
	atomic_store(&p->done, 0);
	p->generation++;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);

	drain(p, jobs, n);
	/* Wait for the jobs still in workers' hands, and for every worker to leave this
	 * generation before the job array is reused. */
	pthread_mutex_lock(&p->lock);
	while (atomic_load(&p->done) < n || p->busy)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void crypt_pool_stop(struct crypt_pool *p)
{
	unsigned int i;

	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	p->nthreads = 0;
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->idle);
	pthread_mutex_destroy(&p->lock);
}
