/* store_etcd.c — the store on etcd v3, spoken through its JSON gRPC gateway with libcurl.
 *
 * etcd's gateway (https://etcd.io/docs/v3.4/dev-guide/api_grpc_gateway/) maps each gRPC call
 * to POST /v3/<service>/<method> with the protobuf message as JSON; keys and values are
 * base64 in both directions. Used here: kv/range (prefix = [key, key+1)), kv/put,
 * kv/deleterange, kv/txn (compare-and-swap), lease/grant and lease/keepalive (heartbeats),
 * and watch (a streaming response, one JSON object per event batch). The watch runs in its
 * own thread that only signals a pipe; everything else runs on the caller's thread. The
 * members, TLS and authentication are etcd_client.c's. A listing is read in pages of
 * bounded size; a value over STORE_VALUE_MAX is skipped by name, and not even downloaded
 * whole. */
#include "mesh/etcd_client.h"
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

#include "lib/log.h"

/* A page of a listing: this many keys at most, so that a reply stays far below what etcd
 * sends (--max-request-bytes, 1.5 MiB a value by default) times the keys of a large cluster.
 * The reply of a page may hold at most ETCD_PAGE_REPLY(keys) bytes: every value within
 * STORE_VALUE_MAX (base64 makes it 4/3) plus the JSON around it. A page that does not fit
 * is listed again by its keys only and fetched key by key, each within the bound of one
 * value: an oversized value is skipped by name (and not fetched again while it stays the
 * same), and every other key is still listed. */
#define ETCD_PAGE_KEYS 64
#define ETCD_PAGE_REPLY(keys) ((size_t)(keys) * (STORE_VALUE_MAX / 3 * 4 + 1024) + 4096)
/* Single-key calls (get, put, txn, lease): one value and their headers. */
#define ETCD_REPLY_MAX ETCD_PAGE_REPLY(1)

struct store_etcd {
	struct store base;
	struct etcd_client client;
	struct etcd_conn conn;		/* the caller's thread */
	int lease_ttl;
	char lease_id[32]; /* "" until granted */
	int pipe[2];
	pthread_t watcher;
	bool watcher_started;
	atomic_bool stop;
	atomic_bool watch_broken;
	/* Keys the last listing of each prefix skipped: logged once while they stay. */
	struct store_skips skips[STORE_SKIPS_PREFIXES];
};

static struct store_etcd *to_etcd(struct store *s) { return (struct store_etcd *)s; }

static int call(struct store_etcd *es, const char *path, cJSON *body, cJSON **json)
{
	return etcd_call(&es->client, &es->conn, path, body, json, ETCD_REPLY_MAX);
}

/* One listing being gathered. */
struct listing {
	struct store_etcd *es;
	const char *prefix;
	struct store_kv *out;
	size_t count, cap, total;
	char *skips;	/* "\nKEY@MOD_REVISION\n" per skipped key: becomes *logged */
	char **logged;	/* what the last listing of the prefix skipped */
};

/* "\nKEY@REV\n": a skipped key is known by its name and the revision of its last change,
 * so that it is logged once, and not fetched again until it changes. */
static char *skip_line(const char *key, const cJSON *item)
{
	const cJSON *rev = cJSON_GetObjectItemCaseSensitive(item, "mod_revision");
	char *line;

	if (asprintf(&line, "\n%s@%s\n", key, cJSON_IsString(rev) ? rev->valuestring : "?") < 0)
		return NULL;
	return line;
}

static bool skipped_before(const struct listing *l, const char *line)
{
	return *l->logged && strstr(*l->logged, line);
}

static void note_skip(struct listing *l, const char *key, const cJSON *item, const char *why)
{
	size_t have = l->skips ? strlen(l->skips) : 0, add;
	char *line = skip_line(key, item), *grown;

	if (!line)
		return;
	if (!skipped_before(l, line))
		log_warn("etcd: key %s skipped: %s", key, why);
	add = strlen(line);
	grown = realloc(l->skips, have + add + 1);
	if (grown) {
		memcpy(grown + have, line, add + 1);
		l->skips = grown;
	}
	free(line);
}

/* The range request of one page: [@from, @end_b64) at @revision ("" : the newest); without
 * @end_b64, the one key @from. */
static cJSON *range_request(const char *from, size_t from_len, const char *end_b64, const char *revision,
			    size_t limit, bool keys_only)
{
	cJSON *req = cJSON_CreateObject();
	char *from64 = etcd_b64(from, from_len);

	if (!req || !from64 || !cJSON_AddStringToObject(req, "key", from64) ||
	    (end_b64 && !cJSON_AddStringToObject(req, "range_end", end_b64)) ||
	    (limit && !cJSON_AddNumberToObject(req, "limit", (double)limit)) ||
	    (revision[0] && !cJSON_AddStringToObject(req, "revision", revision)) ||
	    (keys_only && !cJSON_AddTrueToObject(req, "keys_only"))) {
		cJSON_Delete(req);
		req = NULL;
	}
	free(from64);
	return req;
}

/* The next page starts right after @key: @key followed by a NUL byte is the least key
 * greater than it. */
static int start_after(char **from, size_t *from_len, const char *key, size_t len)
{
	char *next = malloc(len + 1);

	if (!next)
		return -ENOMEM;
	memcpy(next, key, len);
	next[len] = '\0';
	free(*from);
	*from = next;
	*from_len = len + 1;
	return 0;
}

/* Decode a range reply's key, refusing one that is not a usable store key. */
static int reply_key(const cJSON *item, char **key, size_t *len)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(item, "key");
	int ret;

	if (!cJSON_IsString(k) || strlen(k->valuestring) > STORE_KEY_MAX * 2)
		return -EBADMSG;
	ret = etcd_unb64(k->valuestring, key, len);
	if (!ret && strlen(*key) != *len) {
		free(*key);
		return -EBADMSG;
	}
	return ret;
}

/* Take one key of a range reply into the listing, or skip it by name. */
/* The store's own order, which no writer can set; int64 fields come as JSON strings from
 * the gateway. */
static uint64_t item_revision(const cJSON *item, const char *name)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(item, name);

	return cJSON_IsString(r) ? strtoull(r->valuestring, NULL, 10) : 0;
}

static int add_item(struct listing *l, const cJSON *item, const char *key, size_t klen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, "value");
	struct store_kv kv = { 0 };
	char why[64];

	snprintf(why, sizeof(why), "value larger than %u bytes", STORE_VALUE_MAX);
	/* An empty value has no "value" member at all in the gateway's JSON. */
	if (cJSON_IsString(v) && strlen(v->valuestring) > (STORE_VALUE_MAX + 2) / 3 * 4) {
		note_skip(l, key, item, why);
		return 0;
	}
	if (etcd_unb64(cJSON_IsString(v) ? v->valuestring : "", &kv.value, &kv.value_len) < 0) {
		note_skip(l, key, item, "value is not base64");
		return 0;
	}
	if (kv.value_len > STORE_VALUE_MAX) {
		note_skip(l, key, item, why);
		free(kv.value);
		return 0;
	}
	kv.created = item_revision(item, "create_revision");
	kv.revision = item_revision(item, "mod_revision");
	l->total += sizeof(kv) + klen + kv.value_len + 2;
	if (l->total > STORE_LIST_MAX) {
		log_err("etcd: the keys under %s hold more than %u bytes in all: not listed, the last applied mesh "
			"stays", l->prefix, STORE_LIST_MAX);
		free(kv.value);
		return -EFBIG;
	}
	if (l->count == l->cap) {
		struct store_kv *grown = realloc(l->out, (l->cap ? l->cap * 2 : 64) * sizeof(*l->out));

		if (!grown) {
			free(kv.value);
			return -ENOMEM;
		}
		l->out = grown;
		l->cap = l->cap ? l->cap * 2 : 64;
	}
	kv.key = strdup(key);
	if (!kv.key) {
		free(kv.value);
		return -ENOMEM;
	}
	l->out[l->count++] = kv;
	return 0;
}

/* A page that did not fit holds a value over the bound: list its keys only, and fetch
 * them one by one, each within the bound of one value. A key already skipped at the same
 * revision is not fetched again. *@last gets the page's last key. */
static int page_by_key(struct listing *l, const char *from, size_t from_len, const char *end_b64,
		       const char *revision, char **last, size_t *last_len, bool *more)
{
	struct store_etcd *es = l->es;
	cJSON *req = range_request(from, from_len, end_b64, revision, ETCD_PAGE_KEYS, true), *keys = NULL, *item;
	int ret;

	if (!req)
		return -ENOMEM;
	ret = etcd_call(&es->client, &es->conn, "/v3/kv/range", req, &keys, ETCD_PAGE_REPLY(1));
	cJSON_Delete(req);
	if (ret)
		return ret;
	*more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(keys, "more"));
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(keys, "kvs")) {
		cJSON *one = NULL, *got;
		char *key, *line;
		size_t klen;

		if (reply_key(item, &key, &klen))
			continue;
		free(*last);
		*last = key;
		*last_len = klen;
		line = skip_line(key, item);
		if (line && skipped_before(l, line)) {
			note_skip(l, key, item, "");
			free(line);
			continue;
		}
		free(line);
		req = range_request(key, klen, NULL, revision, 0, false);
		if (!req) {
			ret = -ENOMEM;
			break;
		}
		ret = etcd_call(&es->client, &es->conn, "/v3/kv/range", req, &one, ETCD_REPLY_MAX);
		cJSON_Delete(req);
		if (ret == -EMSGSIZE) {
			char why[64];

			snprintf(why, sizeof(why), "value larger than %u bytes", STORE_VALUE_MAX);
			note_skip(l, key, item, why);
			ret = 0;
			continue;
		}
		if (ret)
			break;
		got = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(one, "kvs"), 0);
		if (got)
			ret = add_item(l, got, key, klen);
		cJSON_Delete(one);
		if (ret)
			break;
	}
	cJSON_Delete(keys);
	return ret;
}

/* The least key that the last listing skipped and that is not below @from (the bytes
 * @from_len), or NULL: the page stops before it, so that an oversized value is not asked for
 * in a page again, and the key itself is looked at alone (page_by_key). Any key here only
 * splits a page: the listing is the same either way. */
static char *next_skipped(const struct listing *l, const char *from, size_t from_len)
{
	const char *p = *l->logged;
	char *best = NULL;

	while (p && *p == '\n' && p[1]) {
		const char *k = p + 1, *eol = strchr(k, '\n'), *at;
		size_t klen;

		if (!eol)
			break;
		at = memrchr(k, '@', (size_t)(eol - k));
		klen = at ? (size_t)(at - k) : (size_t)(eol - k);
		p = eol + 1;
		/* In the byte order of etcd's keys: k >= from, and k < best. */
		{
			size_t m = klen < from_len ? klen : from_len;
			int c = memcmp(k, from, m);

			if (c < 0 || (!c && klen < from_len))
				continue;
		}
		if (best) {
			size_t blen = strlen(best), m = klen < blen ? klen : blen;
			int c = memcmp(k, best, m);

			if (c > 0 || (!c && klen >= blen))
				continue;
		}
		free(best);
		best = strndup(k, klen);
		if (!best)
			return NULL;
	}
	return best;
}

/* All keys under @prefix, page by page, at the revision of the first page so that the
 * pages make one consistent listing. */
static int etcd_list(struct store *s, const char *prefix, struct store_kv **kvs, size_t *n)
{
	struct listing l = { .es = to_etcd(s), .prefix = prefix, .logged = store_skips_slot(to_etcd(s)->skips, prefix) };
	struct store_etcd *es = l.es;
	char *end = etcd_prefix_end_b64(prefix), *from = strdup(prefix), revision[32] = "";
	size_t from_len = strlen(prefix);
	bool more = true;
	int ret = 0;

	*kvs = NULL;
	*n = 0;
	if (!end || !from)
		ret = -ENOMEM;
	while (!ret && more) {
		char *stop = next_skipped(&l, from, from_len), *stop_b64 = stop ? etcd_b64(stop, strlen(stop)) : NULL;
		cJSON *req = range_request(from, from_len, stop_b64 ? stop_b64 : end, revision, ETCD_PAGE_KEYS, false);
		cJSON *reply = NULL, *item, *rev;
		char *last = NULL;
		size_t last_len = 0;

		if (!req || (stop && !stop_b64)) {
			cJSON_Delete(req);
			free(stop);
			free(stop_b64);
			ret = -ENOMEM;
			break;
		}
		ret = etcd_call(&es->client, &es->conn, "/v3/kv/range", req, &reply, ETCD_PAGE_REPLY(ETCD_PAGE_KEYS));
		cJSON_Delete(req);
		if (ret == -EMSGSIZE) {
			ret = page_by_key(&l, from, from_len, stop_b64 ? stop_b64 : end, revision, &last, &last_len, &more);
		} else if (!ret) {
			rev = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(reply, "header"), "revision");
			if (!revision[0] && cJSON_IsString(rev) && strlen(rev->valuestring) < sizeof(revision))
				snprintf(revision, sizeof(revision), "%s", rev->valuestring);
			more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "more"));
			cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(reply, "kvs")) {
				char *key;
				size_t klen;

				if (reply_key(item, &key, &klen))
					continue;
				ret = add_item(&l, item, key, klen);
				free(last);
				last = key;
				last_len = klen;
				if (ret)
					break;
			}
		}
		cJSON_Delete(reply);
		free(stop_b64);
		if (!ret && stop && !more) {
			/* Up to the key skipped last time: that key alone, then on after it. */
			size_t slen = strlen(stop);
			char *one_end = NULL, *past = malloc(slen + 1);
			bool ignored;

			if (past) {
				memcpy(past, stop, slen);
				past[slen] = '\0';
				one_end = etcd_b64(past, slen + 1);
			}
			free(last);
			last = NULL;
			ret = one_end ? page_by_key(&l, stop, slen, one_end, revision, &last, &last_len, &ignored) : -ENOMEM;
			if (!ret)
				ret = start_after(&from, &from_len, stop, slen);
			more = true;
			free(past);
			free(one_end);
		} else if (!ret && last) {
			ret = start_after(&from, &from_len, last, last_len);
		} else if (!last) {
			more = false;
		}
		free(stop);
		free(last);
	}
	if (!ret) {
		free(*l.logged);
		*l.logged = l.skips;
		*kvs = l.out;
		*n = l.count;
	} else {
		free(l.skips);
		store_kvs_free(l.out, l.count);
	}
	free(from);
	free(end);
	return ret;
}

static int etcd_get(struct store *s, const char *key, char **value, size_t *len)
{
	struct store_etcd *es = to_etcd(s);
	cJSON *req = cJSON_CreateObject(), *reply = NULL, *v;
	int ret;

	if (!req || etcd_add_b64(req, "key", key)) {
		cJSON_Delete(req);
		return -ENOMEM;
	}
	ret = call(es, "/v3/kv/range", req, &reply);
	cJSON_Delete(req);
	if (ret == -EMSGSIZE)
		ret = -EFBIG;
	if (ret)
		return ret;
	v = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(reply, "kvs"), 0);
	if (!v)
		ret = -ENOENT;
	else
		ret = etcd_unb64(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "value")) ?
				    cJSON_GetObjectItemCaseSensitive(v, "value")->valuestring : "",
			    value, len);
	if (!ret && len && *len > STORE_VALUE_MAX) {
		free(*value);
		*value = NULL;
		ret = -EFBIG;
	}
	cJSON_Delete(reply);
	return ret;
}

static int grant_lease(struct store_etcd *es, int ttl, char *lease_id, size_t len)
{
	cJSON *req = cJSON_CreateObject(), *reply = NULL, *id;
	int ret;

	if (!req)
		return -ENOMEM;
	cJSON_AddNumberToObject(req, "TTL", ttl);
	ret = call(es, "/v3/lease/grant", req, &reply);
	cJSON_Delete(req);
	if (ret)
		return ret;
	id = cJSON_GetObjectItemCaseSensitive(reply, "ID");
	if (cJSON_IsString(id))
		snprintf(lease_id, len, "%s", id->valuestring);
	else
		ret = -EPROTO;
	cJSON_Delete(reply);
	return ret;
}

static cJSON *put_request(const char *key, const char *value, const char *lease)
{
	cJSON *put = cJSON_CreateObject();

	if (!put || etcd_add_b64(put, "key", key) || etcd_add_b64(put, "value", value)) {
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

	if (strlen(value) > STORE_VALUE_MAX) /* no other node would list it */
		return -EFBIG;
	if (leased && es->lease_ttl > 0 && !es->lease_id[0]) {
		ret = grant_lease(es, es->lease_ttl, es->lease_id, sizeof(es->lease_id));
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

	if (!req || etcd_add_b64(req, "key", key)) {
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

	if (value && strlen(value) > STORE_VALUE_MAX) {
		ret = -EFBIG;
		goto out;
	}
	if (!req || !cmp || !op || etcd_add_b64(cmp, "key", key))
		goto out;
	if (expect) {
		cJSON_AddStringToObject(cmp, "target", "VALUE");
		cJSON_AddStringToObject(cmp, "result", "EQUAL");
		if (etcd_add_b64(cmp, "value", expect))
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

		if (!del || etcd_add_b64(del, "key", key)) {
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

/* A daemon that stops on purpose (a restart) moves its record to a lease of @seconds that
 * nobody keeps alive: the record outlives the restart, and still goes if the node never
 * comes back. The restarted daemon's first put moves it back to a lease it keeps. */
static int etcd_linger(struct store *s, const char *key, const char *value, int seconds)
{
	struct store_etcd *es = to_etcd(s);
	char lease_id[32];
	cJSON *req, *reply = NULL;
	int ret;

	if (es->lease_ttl <= 0 || seconds <= 0)
		return 0;
	if (strlen(value) > STORE_VALUE_MAX)
		return -EFBIG;
	ret = grant_lease(es, seconds, lease_id, sizeof(lease_id));
	if (ret)
		return ret;
	req = put_request(key, value, lease_id);
	if (!req)
		return -ENOMEM;
	ret = call(es, "/v3/kv/put", req, &reply);
	cJSON_Delete(req);
	cJSON_Delete(reply);
	return ret ? ret : 1;
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
 * watch broken (the caller relists) and reconnect, authenticating again when a user is set
 * (the token may have expired meanwhile). */
static void *watch_thread(void *arg)
{
	struct store_etcd *es = arg;
	const struct etcd_client *c = &es->client;
	const struct libcurl *lc = c->lc;
	unsigned int backoff_ms = 200;
	struct etcd_conn conn;
	char body[256];

	/* range [ "alloc/", "nodes0" ) covers both prefixes ('0' follows '/'). */
	snprintf(body, sizeof(body), "{\"create_request\":{\"key\":\"%s\",\"range_end\":\"%s\"}}",
		 "YWxsb2Mv", "bm9kZXMw");
	if (etcd_conn_init(c, &conn))
		return NULL;
	while (!atomic_load(&es->stop)) {
		struct curl_slist *hdrs = lc->slist_append(NULL, "Content-Type: application/json");

		etcd_conn_reauth(&conn);
		if (hdrs && !etcd_setup(c, &conn, conn.current, "/v3/watch", body, &hdrs)) {
			lc->easy_setopt(conn.curl, CURLOPT_WRITEFUNCTION, watch_data);
			lc->easy_setopt(conn.curl, CURLOPT_WRITEDATA, es);
			lc->easy_setopt(conn.curl, CURLOPT_NOPROGRESS, 0L);
			lc->easy_setopt(conn.curl, CURLOPT_XFERINFOFUNCTION, watch_progress);
			lc->easy_setopt(conn.curl, CURLOPT_XFERINFODATA, es);
			/* A dead member otherwise looks like a quiet stream forever. */
			lc->easy_setopt(conn.curl, CURLOPT_TCP_KEEPALIVE, 1L);
			lc->easy_setopt(conn.curl, CURLOPT_TCP_KEEPIDLE, 5L);
			lc->easy_setopt(conn.curl, CURLOPT_TCP_KEEPINTVL, 2L);
			lc->easy_perform(conn.curl);
		}
		if (hdrs)
			lc->slist_free_all(hdrs);
		if (atomic_load(&es->stop))
			break;
		atomic_store(&es->watch_broken, true);
		notify(es);
		conn.current = (conn.current + 1) % c->n_urls;
		for (unsigned int slept = 0; slept < backoff_ms && !atomic_load(&es->stop); slept += 50)
			usleep(50 * 1000);
		backoff_ms = backoff_ms < 5000 ? backoff_ms * 2 : 5000;
	}
	etcd_conn_free(c, &conn);
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
	if (es->client.lc)
		etcd_conn_free(&es->client, &es->conn);
	etcd_client_close(&es->client);
	if (es->pipe[0] >= 0)
		close(es->pipe[0]);
	if (es->pipe[1] >= 0)
		close(es->pipe[1]);
	store_skips_free(es->skips);
	free(es);
}

static const char *etcd_error(struct store *s) { return to_etcd(s)->conn.error; }

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
	.linger = etcd_linger,
	.close = etcd_close,
	.error = etcd_error,
};

int store_etcd_open(struct store **s, const char *location, int lease_ttl)
{
	struct store_etcd *es = calloc(1, sizeof(*es));
	int ret;

	*s = NULL;
	if (!es)
		return -ENOMEM;
	es->base.ops = &etcd_ops;
	es->pipe[0] = es->pipe[1] = -1;
	es->lease_ttl = lease_ttl;
	atomic_init(&es->stop, false);
	atomic_init(&es->watch_broken, false);
	ret = etcd_client_open(&es->client, location);
	if (ret)
		goto fail;
	ret = etcd_conn_init(&es->client, &es->conn);
	if (ret)
		goto fail;
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
