/* kube_watch.c — following the Nodes: list, then watch from the list's resourceVersion
 * (see kube_watch.h). */
#include "mesh/kube_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/kube_node.h"
#include "lib/log.h"

#define WATCH_TIMEOUT_SECONDS 300
#define WATCH_LINE_MAX (8U << 20)

const char *kube_resource_version(const cJSON *obj)
{
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
							   "resourceVersion");

	return cJSON_IsString(rv) ? rv->valuestring : NULL;
}

static void notify(struct kube_watch *ks)
{
	char c = 1;

	if (write(ks->pipe[1], &c, 1) < 0) {
		/* Pipe full: a wake-up is pending already. */
	}
}

/* The watch thread: fingerprints of what podwire reads from each Node. */
static void fingerprints_clear(struct kube_watch *ks)
{
	for (size_t i = 0; i < ks->n_fps; i++)
		free(ks->fps[i].name);
	free(ks->fps);
	ks->fps = NULL;
	ks->n_fps = 0;
}

/* Record @node's fingerprint (@deleted: forget it). True when that changes anything. */
static bool fingerprint_update(struct kube_watch *ks, const cJSON *node, bool deleted)
{
	const char *name = kube_node_name(node);
	uint64_t digest = kube_node_fingerprint(node);
	struct kube_fingerprint *grown;

	if (!name)
		return false;
	for (size_t i = 0; i < ks->n_fps; i++) {
		if (strcmp(ks->fps[i].name, name))
			continue;
		if (deleted) {
			free(ks->fps[i].name);
			ks->fps[i] = ks->fps[--ks->n_fps];
			return true;
		}
		if (ks->fps[i].digest == digest)
			return false;
		ks->fps[i].digest = digest;
		return true;
	}
	if (deleted)
		return true;
	grown = realloc(ks->fps, (ks->n_fps + 1) * sizeof(*grown));
	if (!grown)
		return true;
	ks->fps = grown;
	grown[ks->n_fps].name = strdup(name);
	grown[ks->n_fps].digest = digest;
	if (grown[ks->n_fps].name)
		ks->n_fps++;
	return true;
}

static void set_rv(struct kube_watch *ks, const cJSON *obj)
{
	const char *rv = kube_resource_version(obj);

	if (rv && strlen(rv) < sizeof(ks->rv))
		snprintf(ks->rv, sizeof(ks->rv), "%s", rv);
}

/* One watch event (a line of the stream). */
static void watch_event(struct kube_watch *ks, const char *line)
{
	cJSON *ev = cJSON_Parse(line);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");

	if (!cJSON_IsString(type) || !cJSON_IsObject(obj)) {
		log_debug("kubernetes: watch: not an event: %.100s", line);
	} else if (!strcmp(type->valuestring, "ERROR")) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");

		if (cJSON_IsNumber(code) && code->valueint == 410) {
			log_info("kubernetes: watch: resourceVersion %s expired (410 Gone): listing Nodes again", ks->rv);
			ks->rv[0] = '\0';
		} else {
			log_warn("kubernetes: watch: error event: %.200s", line);
		}
		ks->expired = true;
	} else if (!strcmp(type->valuestring, "BOOKMARK")) {
		set_rv(ks, obj);
	} else {
		set_rv(ks, obj);
		if (fingerprint_update(ks, obj, !strcmp(type->valuestring, "DELETED")))
			ks->changed = true;
	}
	cJSON_Delete(ev);
}

static size_t watch_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct kube_watch *ks = userdata;
	size_t n = size * nmemb, start = 0;
	char *grown;

	if (ks->line_len + n > WATCH_LINE_MAX)
		return 0;
	grown = realloc(ks->line, ks->line_len + n + 1);
	if (!grown)
		return 0;
	ks->line = grown;
	memcpy(ks->line + ks->line_len, ptr, n);
	ks->line_len += n;
	ks->line[ks->line_len] = '\0';
	for (char *nl; (nl = memchr(ks->line + start, '\n', ks->line_len - start)); start = (size_t)(nl - ks->line) + 1) {
		*nl = '\0';
		if (nl > ks->line + start)
			watch_event(ks, ks->line + start);
		if (ks->expired)
			break;
	}
	memmove(ks->line, ks->line + start, ks->line_len - start);
	ks->line_len -= start;
	if (ks->changed) {
		ks->changed = false;
		notify(ks);
	}
	return ks->expired ? 0 : n; /* 0 ends the transfer: the server is done with this watch */
}

static int watch_progress(void *userdata, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	return atomic_load(&((struct kube_watch *)userdata)->stop) ? 1 : 0;
}

/* List all Nodes with the thread's own connection: the starting point of a watch. */
static int watch_list(struct kube_watch *ks, CURL *curl)
{
	struct kube_reply r;
	const cJSON *item;
	int ret = kube_client_request(ks->kc, curl, "GET", "/api/v1/nodes", NULL, NULL, &r);

	if (ret)
		return ret;
	ks->watch_status = r.status;
	if (r.status != 200 || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r.json, "items"))) {
		if (r.status != 401 && r.status != 403)
			log_debug("kubernetes: watch: list: HTTP %ld: %.200s", r.status, kube_reply_message(&r));
		kube_reply_free(&r);
		return -EPROTO;
	}
	fingerprints_clear(ks);
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(r.json, "items"))
		fingerprint_update(ks, item, false);
	set_rv(ks, r.json);
	kube_reply_free(&r);
	return 0;
}

static int watch_once(struct kube_watch *ks, CURL *curl)
{
	const struct libcurl *lc = ks->kc->lc;
	struct curl_slist *hdrs = NULL;
	char path[256];
	CURLcode rc;
	int ret;

	snprintf(path, sizeof(path), "/api/v1/nodes?watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%d",
		 ks->rv, WATCH_TIMEOUT_SECONDS);
	lc->easy_reset(curl);
	ret = kube_client_setup(ks->kc, curl, path, NULL, &hdrs);
	if (ret) {
		lc->slist_free_all(hdrs);
		return ret;
	}
	ks->expired = false;
	ks->line_len = 0;
	lc->easy_setopt(curl, CURLOPT_WRITEFUNCTION, watch_data);
	lc->easy_setopt(curl, CURLOPT_WRITEDATA, ks);
	lc->easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	lc->easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, watch_progress);
	lc->easy_setopt(curl, CURLOPT_XFERINFODATA, ks);
	/* A dead API server otherwise looks like a quiet watch forever. */
	lc->easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
	lc->easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 5L);
	lc->easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 2L);
	rc = lc->easy_perform(curl);
	lc->slist_free_all(hdrs);
	ks->watch_status = 0;
	lc->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ks->watch_status);
	if (ks->expired || ks->watch_status == 410) {
		if (ks->watch_status == 410)
			log_info("kubernetes: watch: resourceVersion %s expired (HTTP 410 Gone): listing Nodes again", ks->rv);
		ks->rv[0] = '\0';
		return 0;
	}
	if (ks->watch_status == 401)
		kube_client_token_refused(ks->kc);
	if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR)
		return -EHOSTUNREACH;
	return ks->watch_status == 200 ? 0 : -EPROTO;
}

static void *watch_thread(void *arg)
{
	struct kube_watch *ks = arg;
	CURL *curl = ks->kc->lc->easy_init();
	unsigned int backoff_ms = 200;

	while (curl && !atomic_load(&ks->stop)) {
		bool listed = !ks->rv[0];
		int ret = listed ? watch_list(ks, curl) : watch_once(ks, curl);

		if (atomic_load(&ks->stop))
			break;
		if (!ret) {
			if (ks->watch_down_logged)
				log_info("kubernetes: watch: API server answers again");
			ks->watch_down_logged = false;
			backoff_ms = 200;
			if (listed) { /* a new starting point: the daemon lists everything */
				atomic_store(&ks->broken, true);
				notify(ks);
			}
			continue;
		}
		if (!ks->watch_down_logged)
		{
			char why[128];

			if (ret == -EHOSTUNREACH)
				snprintf(why, sizeof(why), "unreachable");
			else
				snprintf(why, sizeof(why), "HTTP %ld%s", ks->watch_status,
					 ks->watch_status == 401 ? ", token refused: the token file is read again" :
					 ks->watch_status == 403 ? ", forbidden: the ClusterRole must allow nodes list/watch" : "");
			log_warn("kubernetes: watch of Nodes at %s failed (%s): retrying with backoff", ks->kc->server, why);
		}
		ks->watch_down_logged = true;
		for (unsigned int slept = 0; slept < backoff_ms && !atomic_load(&ks->stop); slept += 50)
			usleep(50 * 1000);
		backoff_ms = backoff_ms < 5000 ? backoff_ms * 2 : 5000;
	}
	if (curl)
		ks->kc->lc->easy_cleanup(curl);
	return NULL;
}

int kube_watch_start(struct kube_watch *w, struct kube_client *kc)
{
	int ret;

	w->kc = kc;
	atomic_init(&w->stop, false);
	atomic_init(&w->broken, false);
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

void kube_watch_stop(struct kube_watch *w)
{
	atomic_store(&w->stop, true);
	if (w->started)
		pthread_join(w->thread, NULL);
	w->started = false;
	fingerprints_clear(w);
	free(w->line);
	w->line = NULL;
	if (w->pipe[0] >= 0)
		close(w->pipe[0]);
	if (w->pipe[1] >= 0)
		close(w->pipe[1]);
	w->pipe[0] = w->pipe[1] = -1;
}
