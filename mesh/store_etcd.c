/* store_etcd.c — the store on etcd v3, spoken through its JSON gRPC gateway with libcurl.
 *
 * etcd's gateway (https://etcd.io/docs/v3.4/dev-guide/api_grpc_gateway/) maps each gRPC call
 * to POST /v3/<service>/<method> with the protobuf message as JSON; keys and values are
 * base64 in both directions. Used here: kv/range (prefix = [key, key+1)), kv/put,
 * kv/deleterange, kv/txn (compare-and-swap), lease/grant and lease/keepalive (heartbeats),
 * and watch (a streaming response, one JSON object per event batch). The watch runs in its
 * own thread that only signals a pipe; everything else runs on the caller's thread. */
#include "mesh/libcurl.h"
#include "mesh/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <sodium.h>

#include "lib/log.h"

/* A reply larger than this is not something this store holds. */
#define ETCD_REPLY_MAX (64U << 20)

struct store_etcd {
	struct store base;
	char **urls;
	size_t n_urls, current;
	const struct libcurl *lc;
	CURL *curl;
	int lease_ttl;
	char lease_id[32]; /* "" until granted */
	int pipe[2];
	pthread_t watcher;
	bool watcher_started;
	atomic_bool stop;
	atomic_bool watch_broken;
};

struct reply {
	char *data;
	size_t len;
};

static struct store_etcd *to_etcd(struct store *s) { return (struct store_etcd *)s; }

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct reply *r = userdata;
	size_t n = size * nmemb;
	char *grown;

	if (r->len + n > ETCD_REPLY_MAX)
		return 0;
	grown = realloc(r->data, r->len + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + r->len, ptr, n);
	r->data = grown;
	r->len += n;
	r->data[r->len] = '\0';
	return n;
}

static char *b64(const char *s, size_t len)
{
	size_t out_len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(out_len);

	if (out)
		sodium_bin2base64(out, out_len, (const unsigned char *)s, len, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

static int unb64(const char *in, char **out, size_t *out_len)
{
	size_t in_len = strlen(in), len = 0;
	char *buf = malloc(in_len + 1);

	if (!buf)
		return -ENOMEM;
	if (sodium_base642bin((unsigned char *)buf, in_len, in, in_len, NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL)) {
		free(buf);
		return -EBADMSG;
	}
	buf[len] = '\0';
	*out = buf;
	if (out_len)
		*out_len = len;
	return 0;
}

/* [key, key+1): every key starting with @prefix (etcd's "range_end" convention). */
static char *prefix_end_b64(const char *prefix)
{
	size_t len = strlen(prefix);
	char *end = strdup(prefix), *out;

	if (!end)
		return NULL;
	end[len - 1]++;
	out = b64(end, len);
	free(end);
	return out;
}

static void setup_common(const struct libcurl *lc, CURL *curl, const char *url, const char *body,
			 struct curl_slist *hdrs)
{
	lc->easy_reset(curl);
	lc->easy_setopt(curl, CURLOPT_URL, url);
	lc->easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	lc->easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	lc->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	lc->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 1500L);
	lc->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
}

/* POST @body to @path on the current member; on failure try the next one. The parsed
 * reply is returned in *json. */
static int call(struct store_etcd *es, const char *path, cJSON *body, cJSON **json)
{
	struct curl_slist *hdrs = es->lc->slist_append(NULL, "Content-Type: application/json");
	char *text = cJSON_PrintUnformatted(body);
	int ret = -EIO;

	*json = NULL;
	if (!text || !hdrs) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t tries = 0; tries < es->n_urls; tries++) {
		struct reply r = { 0 };
		char url[512];
		long status = 0;
		CURLcode rc;

		snprintf(url, sizeof(url), "%s%s", es->urls[es->current], path);
		setup_common(es->lc, es->curl, url, text, hdrs);
		es->lc->easy_setopt(es->curl, CURLOPT_TIMEOUT_MS, 5000L);
		es->lc->easy_setopt(es->curl, CURLOPT_WRITEFUNCTION, collect);
		es->lc->easy_setopt(es->curl, CURLOPT_WRITEDATA, &r);
		rc = es->lc->easy_perform(es->curl);
		es->lc->easy_getinfo(es->curl, CURLINFO_RESPONSE_CODE, &status);
		if (rc != CURLE_OK) {
			free(r.data);
			log_debug("etcd: %s: %s", url, es->lc->easy_strerror(rc));
			es->current = (es->current + 1) % es->n_urls;
			ret = -EHOSTUNREACH;
			continue;
		}
		*json = r.data ? cJSON_Parse(r.data) : NULL;
		if (status != 200 || !*json) {
			log_debug("etcd: %s: HTTP %ld: %.200s", url, status, r.data ? r.data : "");
			free(r.data);
			cJSON_Delete(*json);
			*json = NULL;
			ret = -EPROTO;
			break;
		}
		free(r.data);
		ret = 0;
		break;
	}
out:
	free(text);
	es->lc->slist_free_all(hdrs);
	return ret;
}

static int add_b64(cJSON *obj, const char *name, const char *s)
{
	char *enc = b64(s, strlen(s));

	if (!enc)
		return -ENOMEM;
	cJSON_AddStringToObject(obj, name, enc);
	free(enc);
	return 0;
}

static int etcd_list(struct store *s, const char *prefix, struct store_kv **kvs, size_t *n)
{
	struct store_etcd *es = to_etcd(s);
	cJSON *req = cJSON_CreateObject(), *reply = NULL, *arr, *item;
	struct store_kv *out = NULL;
	char *end = prefix_end_b64(prefix);
	size_t count = 0;
	int ret;

	*kvs = NULL;
	*n = 0;
	if (!req || !end || add_b64(req, "key", prefix)) {
		ret = -ENOMEM;
		goto out;
	}
	cJSON_AddStringToObject(req, "range_end", end);
	/* Sorted by key ascending is etcd's default for a range. */
	ret = call(es, "/v3/kv/range", req, &reply);
	if (ret)
		goto out;
	arr = cJSON_GetObjectItemCaseSensitive(reply, "kvs");
	out = calloc(cJSON_GetArraySize(arr) + 1, sizeof(*out));
	if (!out) {
		ret = -ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(item, arr) {
		cJSON *k = cJSON_GetObjectItemCaseSensitive(item, "key");
		cJSON *v = cJSON_GetObjectItemCaseSensitive(item, "value");
		cJSON *cr = cJSON_GetObjectItemCaseSensitive(item, "create_revision");
		cJSON *mr = cJSON_GetObjectItemCaseSensitive(item, "mod_revision");

		if (!cJSON_IsString(k))
			continue;
		if (unb64(k->valuestring, &out[count].key, NULL) < 0)
			continue;
		/* An empty value has no "value" member at all in the gateway's JSON. */
		if (unb64(cJSON_IsString(v) ? v->valuestring : "", &out[count].value, &out[count].value_len) < 0) {
			free(out[count].key);
			out[count].key = NULL;
			continue;
		}
		/* int64 fields come as JSON strings from the gateway. */
		if (cJSON_IsString(cr))
			out[count].created = strtoull(cr->valuestring, NULL, 10);
		if (cJSON_IsString(mr))
			out[count].revision = strtoull(mr->valuestring, NULL, 10);
		count++;
	}
	*kvs = out;
	*n = count;
	out = NULL;
out:
	store_kvs_free(out, count);
	free(end);
	cJSON_Delete(req);
	cJSON_Delete(reply);
	return ret;
}

static int etcd_get(struct store *s, const char *key, char **value, size_t *len)
{
	struct store_etcd *es = to_etcd(s);
	cJSON *req = cJSON_CreateObject(), *reply = NULL, *v;
	int ret;

	if (!req || add_b64(req, "key", key)) {
		cJSON_Delete(req);
		return -ENOMEM;
	}
	ret = call(es, "/v3/kv/range", req, &reply);
	cJSON_Delete(req);
	if (ret)
		return ret;
	v = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(reply, "kvs"), 0);
	if (!v)
		ret = -ENOENT;
	else
		ret = unb64(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "value")) ?
				    cJSON_GetObjectItemCaseSensitive(v, "value")->valuestring : "",
			    value, len);
	cJSON_Delete(reply);
	return ret;
}

static int grant_lease(struct store_etcd *es)
{
	cJSON *req = cJSON_CreateObject(), *reply = NULL, *id;
	int ret;

	if (!req)
		return -ENOMEM;
	cJSON_AddNumberToObject(req, "TTL", es->lease_ttl);
	ret = call(es, "/v3/lease/grant", req, &reply);
	cJSON_Delete(req);
	if (ret)
		return ret;
	id = cJSON_GetObjectItemCaseSensitive(reply, "ID");
	if (cJSON_IsString(id))
		snprintf(es->lease_id, sizeof(es->lease_id), "%s", id->valuestring);
	else
		ret = -EPROTO;
	cJSON_Delete(reply);
	return ret;
}

static cJSON *put_request(const char *key, const char *value, const char *lease)
{
	cJSON *put = cJSON_CreateObject();

	if (!put || add_b64(put, "key", key) || add_b64(put, "value", value)) {
		cJSON_Delete(put);
		return NULL;
	}
	if (lease && lease[0])
		cJSON_AddStringToObject(put, "lease", lease);
	return put;
}

static int etcd_put(struct store *s, const char *key, const char *value, bool leased)
{
	struct store_etcd *es = to_etcd(s);
	cJSON *req, *reply = NULL;
	int ret;

	if (leased && es->lease_ttl > 0 && !es->lease_id[0]) {
		ret = grant_lease(es);
		if (ret)
			return ret;
	}
	req = put_request(key, value, leased ? es->lease_id : NULL);
	if (!req)
		return -ENOMEM;
	ret = call(es, "/v3/kv/put", req, &reply);
	cJSON_Delete(req);
	cJSON_Delete(reply);
	/* The lease may have expired while etcd was away: take a fresh one next time. */
	if (ret == -EPROTO && leased)
		es->lease_id[0] = '\0';
	return ret;
}

static int etcd_del(struct store *s, const char *key)
{
	cJSON *req = cJSON_CreateObject(), *reply = NULL;
	int ret;

	if (!req || add_b64(req, "key", key)) {
		cJSON_Delete(req);
		return -ENOMEM;
	}
	ret = call(to_etcd(s), "/v3/kv/deleterange", req, &reply);
	cJSON_Delete(req);
	cJSON_Delete(reply);
	return ret;
}

static int etcd_cas(struct store *s, const char *key, const char *expect, const char *value)
{
	cJSON *req = cJSON_CreateObject(), *cmp = cJSON_CreateObject(), *op = cJSON_CreateObject();
	cJSON *reply = NULL, *ok;
	int ret = -ENOMEM;

	if (!req || !cmp || !op || add_b64(cmp, "key", key))
		goto out;
	if (expect) {
		cJSON_AddStringToObject(cmp, "target", "VALUE");
		cJSON_AddStringToObject(cmp, "result", "EQUAL");
		if (add_b64(cmp, "value", expect))
			goto out;
	} else {
		/* Absent key: its create revision is 0. */
		cJSON_AddStringToObject(cmp, "target", "CREATE");
		cJSON_AddStringToObject(cmp, "result", "EQUAL");
		cJSON_AddStringToObject(cmp, "create_revision", "0");
	}
	if (value) {
		cJSON *put = put_request(key, value, NULL);

		if (!put)
			goto out;
		cJSON_AddItemToObject(op, "request_put", put);
	} else {
		cJSON *del = cJSON_CreateObject();

		if (!del || add_b64(del, "key", key)) {
			cJSON_Delete(del);
			goto out;
		}
		cJSON_AddItemToObject(op, "request_delete_range", del);
	}
	cJSON_AddItemToArray(cJSON_AddArrayToObject(req, "compare"), cmp);
	cmp = NULL;
	cJSON_AddItemToArray(cJSON_AddArrayToObject(req, "success"), op);
	op = NULL;
	ret = call(to_etcd(s), "/v3/kv/txn", req, &reply);
	if (ret)
		goto out;
	ok = cJSON_GetObjectItemCaseSensitive(reply, "succeeded");
	ret = cJSON_IsTrue(ok) ? 0 : -ECANCELED;
out:
	cJSON_Delete(cmp);
	cJSON_Delete(op);
	cJSON_Delete(req);
	cJSON_Delete(reply);
	return ret;
}

static int etcd_heartbeat(struct store *s)
{
	struct store_etcd *es = to_etcd(s);
	cJSON *req, *reply = NULL, *result, *ttl;
	int ret;

	if (es->lease_ttl <= 0 || !es->lease_id[0])
		return 0;
	req = cJSON_CreateObject();
	if (!req)
		return -ENOMEM;
	cJSON_AddStringToObject(req, "ID", es->lease_id);
	ret = call(es, "/v3/lease/keepalive", req, &reply);
	cJSON_Delete(req);
	if (ret)
		return ret;
	/* A keepalive for an expired lease answers TTL 0 (or none): the caller must re-put. */
	result = cJSON_GetObjectItemCaseSensitive(reply, "result");
	ttl = cJSON_GetObjectItemCaseSensitive(result, "TTL");
	if (!ttl || (cJSON_IsString(ttl) && !strcmp(ttl->valuestring, "0")) ||
	    (cJSON_IsNumber(ttl) && ttl->valuedouble <= 0)) {
		es->lease_id[0] = '\0';
		ret = -ENOENT;
	}
	cJSON_Delete(reply);
	return ret;
}

static void notify(struct store_etcd *es)
{
	char c = 1;

	if (write(es->pipe[1], &c, 1) < 0) {
		/* Pipe full: a notification is already pending, which is all we need. */
	}
}

static size_t watch_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	notify(userdata);
	return size * nmemb;
}

static int watch_progress(void *userdata, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct store_etcd *es = userdata;

	return atomic_load(&es->stop) ? 1 : 0;
}

/* One long-lived watch on the whole keyspace under "nodes/" and "alloc/"; any event
 * just wakes the daemon, which then lists again. On a broken stream: back off, mark the
 * watch broken (the caller relists) and reconnect. */
static void *watch_thread(void *arg)
{
	struct store_etcd *es = arg;
	struct curl_slist *hdrs = es->lc->slist_append(NULL, "Content-Type: application/json");
	CURL *curl = es->lc->easy_init();
	unsigned int backoff_ms = 200;
	char body[256];
	size_t current = 0;

	/* range [ "alloc/", "nodes0" ) covers both prefixes ('0' follows '/'). */
	snprintf(body, sizeof(body), "{\"create_request\":{\"key\":\"%s\",\"range_end\":\"%s\"}}",
		 "YWxsb2Mv", "bm9kZXMw");
	while (curl && hdrs && !atomic_load(&es->stop)) {
		char url[512];

		snprintf(url, sizeof(url), "%s/v3/watch", es->urls[current]);
		setup_common(es->lc, curl, url, body, hdrs);
		es->lc->easy_setopt(curl, CURLOPT_WRITEFUNCTION, watch_data);
		es->lc->easy_setopt(curl, CURLOPT_WRITEDATA, es);
		es->lc->easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
		es->lc->easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, watch_progress);
		es->lc->easy_setopt(curl, CURLOPT_XFERINFODATA, es);
		/* A dead member otherwise looks like a quiet stream forever. */
		es->lc->easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
		es->lc->easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 5L);
		es->lc->easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 2L);
		es->lc->easy_perform(curl);
		if (atomic_load(&es->stop))
			break;
		atomic_store(&es->watch_broken, true);
		notify(es);
		current = (current + 1) % es->n_urls;
		for (unsigned int slept = 0; slept < backoff_ms && !atomic_load(&es->stop); slept += 50)
			usleep(50 * 1000);
		backoff_ms = backoff_ms < 5000 ? backoff_ms * 2 : 5000;
	}
	es->lc->slist_free_all(hdrs);
	if (curl)
		es->lc->easy_cleanup(curl);
	return NULL;
}

static int etcd_watch_fd(struct store *s) { return to_etcd(s)->pipe[0]; }

static int etcd_watch_drain(struct store *s)
{
	struct store_etcd *es = to_etcd(s);
	char buf[256];
	int changed = 0;

	while (read(es->pipe[0], buf, sizeof(buf)) > 0)
		changed = 1;
	if (atomic_exchange(&es->watch_broken, false))
		return -EPIPE;
	return changed;
}

static void etcd_close(struct store *s)
{
	struct store_etcd *es = to_etcd(s);

	atomic_store(&es->stop, true);
	if (es->watcher_started)
		pthread_join(es->watcher, NULL);
	for (size_t i = 0; i < es->n_urls; i++)
		free(es->urls[i]);
	free(es->urls);
	if (es->curl)
		es->lc->easy_cleanup(es->curl);
	if (es->pipe[0] >= 0)
		close(es->pipe[0]);
	if (es->pipe[1] >= 0)
		close(es->pipe[1]);
	free(es);
}

static const struct store_ops etcd_ops = {
	.name = "etcd",
	.list = etcd_list,
	.get = etcd_get,
	.put = etcd_put,
	.del = etcd_del,
	.cas = etcd_cas,
	.watch_fd = etcd_watch_fd,
	.watch_drain = etcd_watch_drain,
	.heartbeat = etcd_heartbeat,
	.close = etcd_close,
};

static int parse_urls(struct store_etcd *es, const char *endpoints)
{
	char *copy = strdup(endpoints), *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char **grown;
		size_t len = strlen(tok);

		if (strncmp(tok, "http://", 7) && strncmp(tok, "https://", 8)) {
			free(copy);
			return -EINVAL;
		}
		while (len && tok[len - 1] == '/')
			tok[--len] = '\0';
		grown = realloc(es->urls, (es->n_urls + 1) * sizeof(*grown));
		if (!grown || !(grown[es->n_urls] = strdup(tok))) {
			if (grown)
				es->urls = grown;
			free(copy);
			return -ENOMEM;
		}
		es->urls = grown;
		es->n_urls++;
	}
	free(copy);
	return es->n_urls ? 0 : -EINVAL;
}

int store_etcd_open(struct store **s, const char *endpoints, int lease_ttl)
{
	struct store_etcd *es = calloc(1, sizeof(*es));
	char err[256];
	int ret;

	*s = NULL;
	if (!es)
		return -ENOMEM;
	es->base.ops = &etcd_ops;
	es->pipe[0] = es->pipe[1] = -1;
	es->lease_ttl = lease_ttl;
	atomic_init(&es->stop, false);
	atomic_init(&es->watch_broken, false);
	ret = parse_urls(es, endpoints);
	if (ret)
		goto fail;
	es->lc = libcurl_get(err, sizeof(err));
	if (!es->lc) {
		log_err("etcd store: %s", err);
		ret = -ELIBACC;
		goto fail;
	}
	es->curl = es->lc->easy_init();
	if (!es->curl) {
		ret = -ENOMEM;
		goto fail;
	}
	if (pipe2(es->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = -pthread_create(&es->watcher, NULL, watch_thread, es);
	if (ret)
		goto fail;
	es->watcher_started = true;
	*s = &es->base;
	return 0;
fail:
	etcd_close(&es->base);
	return ret;
}
