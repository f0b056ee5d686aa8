/* kube_watch.c — the informer: list in pages, then watch from the list's resourceVersion,
 * into the cache of Nodes (see kube_watch.h). */
#include "mesh/kube_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/log.h"

#define WATCH_TIMEOUT_SECONDS 300
#define BACKOFF_BASE_MS 200
#define BACKOFF_MAX_MS 30000

const char *kube_resource_version(const cJSON *obj)
{
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
							   "resourceVersion");

	return cJSON_IsString(rv) ? rv->valuestring : NULL;
}

static void notify(struct kube_watch *w)
{
	char c = 1;

	if (write(w->pipe[1], &c, 1) < 0) {
		/* Pipe full: a wake-up is pending already. */
	}
}

static void outcome_of(struct kube_outcome *out, const struct kube_reply *r, int ret)
{
	out->status = r->status;
	out->cause = ret == -EHOSTUNREACH ? 1000 + r->curl_code : r->status == 200 ? 1 : (int)r->status;
	out->retry_after_ms = (unsigned int)r->retry_after * 1000U;
	if (ret == -EHOSTUNREACH)
		snprintf(out->why, sizeof(out->why), "%.150s", r->error[0] ? r->error : "no answer");
	else if (r->status == 200)
		snprintf(out->why, sizeof(out->why), "the reply is not a NodeList");
	else
		snprintf(out->why, sizeof(out->why), "HTTP %ld%s%s", r->status,
			 r->status == 401 ? ", token refused: the token file is read again" :
			 r->status == 403 ? ", forbidden: the ClusterRole must allow nodes list/watch" :
			 r->status == 429 ? ", too many requests" : "",
			 r->retry_after ? " (Retry-After)" : "");
}

int kube_list_nodes(struct kube_client *kc, CURL *curl, struct kube_cache *c, unsigned int limit,
		    struct kube_outcome *out)
{
	char cont[4096] = "", path[4400];
	bool restarted = false;
	int ret;

	memset(out, 0, sizeof(*out));
	kube_cache_list_abort(c);
	for (;;) {
		struct kube_reply r;
		char *esc = NULL;

		if (cont[0]) {
			/* The token is opaque base64: only '+', '/' and '=' need escaping. */
			size_t j = 0;

			esc = malloc(strlen(cont) * 3 + 1);
			if (!esc) {
				snprintf(out->why, sizeof(out->why), "out of memory");
				out->cause = 5;
				return -ENOMEM;
			}
			for (const char *p = cont; *p; p++)
				j += (size_t)(strchr("+/=&%#?", *p) ? sprintf(esc + j, "%%%02X", (unsigned char)*p) :
								      sprintf(esc + j, "%c", *p));
		}
		snprintf(path, sizeof(path), "/api/v1/nodes?limit=%u%s%s", limit, esc ? "&continue=" : "", esc ? esc : "");
		free(esc);
		ret = kube_client_request(kc, curl, "GET", path, NULL, NULL, &r);
		if (ret) {
			outcome_of(out, &r, ret);
			kube_cache_list_abort(c);
			return ret;
		}
		if (r.status == 410 && cont[0] && !restarted) {
			/* The snapshot the pages come from was compacted away: start over. */
			log_info("kubernetes: list of Nodes: continue token expired (410 Gone): listing from the start");
			kube_reply_free(&r);
			kube_cache_list_abort(c);
			cont[0] = '\0';
			restarted = true;
			continue;
		}
		if (r.status != 200) {
			outcome_of(out, &r, -EPROTO);
			kube_reply_free(&r);
			kube_cache_list_abort(c);
			return -EPROTO;
		}
		ret = kube_cache_page(c, r.json, cont, sizeof(cont));
		if (ret < 0)
			outcome_of(out, &r, -EPROTO);
		kube_reply_free(&r);
		if (ret <= 0) {
			out->status = 200;
			return ret < 0 ? -EPROTO : 0;
		}
	}
}

static size_t watch_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct kube_watch *w = userdata;
	size_t n = size * nmemb;
	int flags;

	pthread_mutex_lock(&w->lock);
	flags = kube_cache_feed(&w->cache, ptr, n);
	pthread_mutex_unlock(&w->lock);
	if (flags < 0) {
		w->stream_err = flags;
		return 0;
	}
	w->stream_flags |= (unsigned int)flags;
	if (flags & KUBE_CACHE_CHANGED)
		notify(w);
	/* 0 ends the transfer: after an ERROR event the server is done with this watch. */
	return flags & (KUBE_CACHE_EXPIRED | KUBE_CACHE_ERROR) ? 0 : n;
}

static int watch_progress(void *userdata, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	return atomic_load(&((struct kube_watch *)userdata)->stop) ? 1 : 0;
}

/* One watch request, until the server ends it. 0: ended normally or expired (w->cache.rv
 * then is ""); < 0: failed, @out says why. */
static int watch_once(struct kube_watch *w, CURL *curl, struct kube_outcome *out)
{
	const struct libcurl *lc = w->kc->lc;
	struct curl_slist *hdrs = NULL;
	char path[256], errbuf[CURL_ERROR_SIZE] = "", rv[64];
	curl_off_t ra = 0;
	CURLcode rc;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ra = kube_client_retry_left(w->kc))) { /* another request of this client was told to wait */
		out->status = out->cause = 429;
		out->retry_after_ms = (unsigned int)ra * 1000U;
		snprintf(out->why, sizeof(out->why), "HTTP 429, too many requests (Retry-After)");
		return -EPROTO;
	}
	pthread_mutex_lock(&w->lock);
	memcpy(rv, w->cache.rv, sizeof(rv));
	kube_cache_stream_reset(&w->cache);
	pthread_mutex_unlock(&w->lock);
	snprintf(path, sizeof(path), "/api/v1/nodes?watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%d",
		 rv, WATCH_TIMEOUT_SECONDS);
	lc->easy_reset(curl);
	ret = kube_client_setup(w->kc, curl, path, NULL, &hdrs);
	if (ret) {
		lc->slist_free_all(hdrs);
		snprintf(out->why, sizeof(out->why), "%s", strerror(-ret));
		out->cause = 2;
		return ret;
	}
	w->stream_flags = 0;
	w->stream_err = 0;
	lc->easy_setopt(curl, CURLOPT_WRITEFUNCTION, watch_data);
	lc->easy_setopt(curl, CURLOPT_WRITEDATA, w);
	lc->easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	lc->easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	lc->easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, watch_progress);
	lc->easy_setopt(curl, CURLOPT_XFERINFODATA, w);
	/* A dead API server otherwise looks like a quiet watch forever. */
	lc->easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
	lc->easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 5L);
	lc->easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 2L);
	rc = lc->easy_perform(curl);
	lc->slist_free_all(hdrs);
	lc->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	if (lc->easy_getinfo(curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0) {
		out->retry_after_ms = (unsigned int)(ra > 3600 ? 3600 : ra) * 1000U;
		if (out->status == 429 || out->status == 503)
			kube_client_retry_after(w->kc, (long)(ra > 3600 ? 3600 : ra));
	}
	lc->easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
	if ((w->stream_flags & KUBE_CACHE_EXPIRED) || out->status == 410) {
		log_info("kubernetes: watch: resourceVersion %s expired (410 Gone): listing Nodes again", rv);
		pthread_mutex_lock(&w->lock);
		w->cache.rv[0] = '\0';
		pthread_mutex_unlock(&w->lock);
		return 0;
	}
	if (out->status == 401)
		kube_client_token_refused(w->kc);
	if (w->stream_flags & KUBE_CACHE_ERROR) {
		snprintf(out->why, sizeof(out->why), "an ERROR event");
		out->cause = 3;
		return -EPROTO;
	}
	if (w->stream_err) {
		snprintf(out->why, sizeof(out->why), "%s", w->stream_err == -E2BIG ? "an event over 8 MiB" : strerror(-w->stream_err));
		out->cause = 4;
		return w->stream_err;
	}
	if (out->status && out->status != 200) {
		snprintf(out->why, sizeof(out->why), "HTTP %ld%s%s", out->status,
			 out->status == 401 ? ", token refused: the token file is read again" :
			 out->status == 403 ? ", forbidden: the ClusterRole must allow nodes list/watch" :
			 out->status == 429 ? ", too many requests" : "",
			 out->retry_after_ms ? " (Retry-After)" : "");
		out->cause = (int)out->status;
		return -EPROTO;
	}
	if (rc != CURLE_OK) {
		out->cause = 1000 + (int)rc;
		/* Unreachable, or the stream cut in the middle of a chunk or an event. */
		snprintf(out->why, sizeof(out->why), "%.150s", errbuf[0] ? errbuf : lc->easy_strerror(rc));
		return -EHOSTUNREACH;
	}
	return 0;
}

static void watch_wait(struct kube_watch *w, unsigned int ms)
{
	for (unsigned int slept = 0; slept < ms && !atomic_load(&w->stop); slept += 50)
		usleep(50 * 1000);
}

static void *watch_thread(void *arg)
{
	struct kube_watch *w = arg;
	CURL *curl = w->kc->lc->easy_init();

	backoff_init(&w->backoff, BACKOFF_BASE_MS, BACKOFF_MAX_MS);
	while (curl && !atomic_load(&w->stop)) {
		struct kube_outcome out;
		bool listing;
		unsigned int wait;
		int ret;

		pthread_mutex_lock(&w->lock);
		listing = !w->cache.rv[0];
		pthread_mutex_unlock(&w->lock);
		if (listing) {
			struct kube_cache fresh;

			/* The list builds a new cache; the old one serves the daemon meanwhile. */
			kube_cache_init(&fresh);
			ret = kube_list_nodes(w->kc, curl, &fresh, KUBE_LIST_LIMIT, &out);
			if (!ret) {
				pthread_mutex_lock(&w->lock);
				kube_cache_free(&w->cache);
				w->cache = fresh;
				w->synced = true;
				pthread_mutex_unlock(&w->lock);
			} else {
				kube_cache_free(&fresh);
			}
		} else {
			struct timespec t0, t1;

			clock_gettime(CLOCK_MONOTONIC, &t0);
			ret = watch_once(w, curl, &out);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			/* A watch the server ends at once, again and again, must not spin. */
			if (!ret && t1.tv_sec - t0.tv_sec < 1 && w->cache.rv[0])
				watch_wait(w, backoff_next(&w->backoff, randombytes_random(), 0));
		}
		if (atomic_load(&w->stop))
			break;
		if (!ret) {
			if (w->cause)
				log_info("kubernetes: watch of Nodes: API server answers again");
			w->cause = 0;
			if (listing)
				backoff_reset(&w->backoff);
			if (listing) { /* a new starting point: the daemon looks at everything */
				atomic_store(&w->broken, true);
				notify(w);
			}
			continue;
		}
		/* Logged once per cause: a server answering 429 for an hour says so once. */
		if (w->cause != out.cause) {
			log_warn("kubernetes: %s of Nodes at %s failed (%s): keeping the Nodes known, retrying with backoff",
				 listing ? "list" : "watch", w->kc->server, out.why);
			w->cause = out.cause;
		}
		wait = backoff_next(&w->backoff, randombytes_random(), out.retry_after_ms);
		log_debug("kubernetes: watch: next try in %u ms", wait);
		watch_wait(w, wait);
	}
	if (curl)
		w->kc->lc->easy_cleanup(curl);
	return NULL;
}

int kube_watch_start(struct kube_watch *w, struct kube_client *kc)
{
	int ret;

	w->kc = kc;
	atomic_init(&w->stop, false);
	atomic_init(&w->broken, false);
	pthread_mutex_init(&w->lock, NULL);
	kube_cache_init(&w->cache);
	if (pipe2(w->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	ret = -pthread_create(&w->thread, NULL, watch_thread, w);
	if (!ret)
		w->started = true;
	return ret;
}

int kube_watch_drain(struct kube_watch *w)
{
	char buf[256];
	int changed = 0;

	while (read(w->pipe[0], buf, sizeof(buf)) > 0)
		changed = 1;
	if (atomic_exchange(&w->broken, false))
		return -EPIPE;
	return changed;
}

int kube_watch_read(struct kube_watch *w, int (*fn)(const cJSON *items, void *ctx), void *ctx)
{
	int ret = -EAGAIN;

	if (!w->started)
		return ret;
	pthread_mutex_lock(&w->lock);
	if (w->synced)
		ret = fn(w->cache.items, ctx);
	pthread_mutex_unlock(&w->lock);
	return ret;
}

void kube_watch_stop(struct kube_watch *w)
{
	bool started = w->started;

	atomic_store(&w->stop, true);
	if (started)
		pthread_join(w->thread, NULL);
	w->started = false;
	if (w->kc) {
		kube_cache_free(&w->cache);
		pthread_mutex_destroy(&w->lock);
		w->kc = NULL;
	}
	if (w->pipe[0] >= 0)
		close(w->pipe[0]);
	if (w->pipe[1] >= 0)
		close(w->pipe[1]);
	w->pipe[0] = w->pipe[1] = -1;
}
