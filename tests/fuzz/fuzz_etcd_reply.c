/* libFuzzer target for what etcd's JSON gateway answers (mesh/store_etcd.c, etcd_client.c):
 * range replies with base64 keys and values, revisions, "more" and paging, txn, lease grant
 * and keepalive answers, the auth token, and error bodies of any status. A member on the path
 * of an http:// cluster, or a broken proxy, answers anything, so none of it may crash, leak,
 * loop, or hand the daemon a listing outside the store's bounds.
 *
 * The store runs whole (store_etcd_open, its watch thread included) against a stand-in for
 * libcurl: this file defines libcurl_get(), so the linker takes it instead of
 * mesh/libcurl.c's, which would load the real one (mesh/libcurl.h is that seam; nothing in
 * production changes). Its easy_perform() answers each POST with the next reply of the
 * input; when they run out, the members are unreachable. The watch thread gets none of them:
 * its stream just waits until the store is closed (after a fixed token when a user is set).
 *
 * Input: byte 0 picks the location (user and password, one or two members) and byte 1 the
 * four calls (2 bits each: list, get, put with a lease then heartbeat, cas); then replies,
 * each [status byte][length, 2 bytes LE][body]: status byte % 8 is 200 mostly, or 401, 403,
 * 404, 500, "no answer", or an answer larger than any call accepts. Checked: every call
 * returns 0 or a negative errno; a listing holds keys and NUL-terminated values within
 * STORE_VALUE_MAX and nothing on failure; a value read has at most STORE_VALUE_MAX bytes. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "mesh/etcd_client.h"
#include "mesh/libcurl.h"
#include "mesh/store.h"
#include "tests/fuzz/fuzz_logs.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Larger than any reply etcd_call() accepts (ETCD_PAGE_REPLY(64) is about 5.6 MB). */
#define OVERSIZE (8u << 20)

struct fake_curl {
	char url[512];
	curl_write_callback write;
	void *write_data;
	curl_xferinfo_callback xferinfo;
	void *xferinfo_data;
	long status;
};

/* The replies still to give, read by the caller's thread only (the watch never takes one). */
static const uint8_t *script;
static size_t script_left;
static char *oversize;
static pthread_t caller;

static CURLcode fake_global_init(long flags)
{
	return CURLE_OK;
}

static CURL *fake_easy_init(void)
{
	return calloc(1, sizeof(struct fake_curl));
}

static void fake_easy_cleanup(CURL *curl)
{
	free(curl);
}

static void fake_easy_reset(CURL *curl)
{
	memset(curl, 0, sizeof(struct fake_curl));
}

static CURLcode fake_easy_setopt(CURL *curl, CURLoption option, ...)
{
	struct fake_curl *c = curl;
	va_list ap;

	va_start(ap, option);
	switch (option) {
	case CURLOPT_URL:
		snprintf(c->url, sizeof(c->url), "%s", va_arg(ap, const char *));
		break;
	case CURLOPT_WRITEFUNCTION:
		c->write = va_arg(ap, curl_write_callback);
		break;
	case CURLOPT_WRITEDATA:
		c->write_data = va_arg(ap, void *);
		break;
	case CURLOPT_XFERINFOFUNCTION:
		c->xferinfo = va_arg(ap, curl_xferinfo_callback);
		break;
	case CURLOPT_XFERINFODATA:
		c->xferinfo_data = va_arg(ap, void *);
		break;
	default:
		break;
	}
	va_end(ap);
	return CURLE_OK;
}

static uint8_t take_u8(void)
{
	if (!script_left)
		return 0;
	script_left--;
	return *script++;
}

static CURLcode fake_easy_perform(CURL *curl)
{
	static const long statuses[] = { 200, 200, 200, 401, 403, 500, 0, 200 };
	struct fake_curl *c = curl;
	size_t len, half;
	uint8_t sel;

	c->status = 0;
	if (!pthread_equal(pthread_self(), caller)) {
		/* The watch thread: it authenticates (when a user is set) on its own connection;
		 * the input is the caller's alone, so that an input replays the same way. */
		static const char token[] = "{\"token\":\"watch.1\"}";

		if (strstr(c->url, "/v3/auth/authenticate")) {
			c->status = 200;
			c->write((char *)token, 1, sizeof(token) - 1, c->write_data);
			return CURLE_OK;
		}
	}
	if (strstr(c->url, "/v3/watch")) {
		/* A quiet stream until the store closes (the progress callback says stop). */
		const struct timespec ms = { 0, 1000000 };

		while (!c->xferinfo || !c->xferinfo(c->xferinfo_data, 0, 0, 0, 0))
			nanosleep(&ms, NULL);
		return CURLE_ABORTED_BY_CALLBACK;
	}
	if (!script_left)
		return CURLE_COULDNT_CONNECT;
	sel = take_u8();
	len = take_u8();
	len |= (size_t)take_u8() << 8;
	if (len > script_left)
		len = script_left;
	if (sel % 8 == 6) {
		script += len;
		script_left -= len;
		return CURLE_OPERATION_TIMEDOUT;
	}
	c->status = statuses[sel % 8];
	if (sel % 8 == 7) {
		script += len;
		script_left -= len;
		/* curl stops the transfer when the callback takes less than it was given. */
		return c->write(oversize, 1, OVERSIZE, c->write_data) == OVERSIZE ? CURLE_OK : CURLE_WRITE_ERROR;
	}
	if (sel & 0x80)
		c->status = 404;
	/* In two pieces, as curl may deliver a body. */
	half = len / 2;
	if (half && c->write((char *)script, 1, half, c->write_data) != half)
		return CURLE_WRITE_ERROR;
	if (len - half && c->write((char *)script + half, 1, len - half, c->write_data) != len - half)
		return CURLE_WRITE_ERROR;
	script += len;
	script_left -= len;
	return CURLE_OK;
}

static CURLcode fake_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	va_list ap;

	va_start(ap, info);
	if (info == CURLINFO_RESPONSE_CODE)
		*va_arg(ap, long *) = ((struct fake_curl *)curl)->status;
	va_end(ap);
	return CURLE_OK;
}

static const char *fake_easy_strerror(CURLcode code)
{
	return "fake libcurl error";
}

static struct curl_slist *fake_slist_append(struct curl_slist *list, const char *s)
{
	struct curl_slist *n = calloc(1, sizeof(*n)), *last;

	if (!n || !(n->data = strdup(s))) {
		free(n);
		return NULL;
	}
	if (!list)
		return n;
	for (last = list; last->next; last = last->next)
		;
	last->next = n;
	return list;
}

static void fake_slist_free_all(struct curl_slist *list)
{
	while (list) {
		struct curl_slist *next = list->next;

		free(list->data);
		free(list);
		list = next;
	}
}

static const struct libcurl fake_libcurl = {
	fake_global_init,  fake_easy_init,     fake_easy_cleanup,  fake_easy_reset,   fake_easy_setopt,
	fake_easy_perform, fake_easy_getinfo,  fake_easy_strerror, fake_slist_append, fake_slist_free_all,
};

/* Instead of mesh/libcurl.c's (see the top of this file). */
const struct libcurl *libcurl_get(char *err, size_t err_len)
{
	return &fake_libcurl;
}

static void check_errno(int ret)
{
	if (ret > 0 || ret < -4095)
		abort();
}

static void do_list(struct store *s, const char *prefix)
{
	struct store_kv *kvs = (struct store_kv *)1;
	size_t n = 1;
	int ret = store_list(s, prefix, &kvs, &n);

	check_errno(ret);
	if (ret) {
		if (kvs || n)
			abort(); /* a failed listing gives nothing */
		return;
	}
	if (n && !kvs)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (!kvs[i].key || !kvs[i].value || kvs[i].value_len > STORE_VALUE_MAX ||
		    kvs[i].value[kvs[i].value_len] != '\0' || strlen(kvs[i].key) > STORE_KEY_MAX * 2)
			abort();
	}
	store_kvs_free(kvs, n);
}

static void do_get(struct store *s)
{
	char *value = NULL;
	size_t len = 0;
	int ret = store_get(s, "nodes/fuzz", &value, &len);

	check_errno(ret);
	if (!ret) {
		if (!value || len > STORE_VALUE_MAX || value[len] != '\0')
			abort();
		free(value);
	} else if (value) {
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_logs_to_null();
	log_set_level(LOG_LEVEL_DEBUG); /* the debug lines quote replies: build them too */
	setenv(ETCD_PASSWORD_ENV, "fuzz-password", 1);
	oversize = malloc(OVERSIZE);
	if (!oversize)
		abort();
	memset(oversize, '{', OVERSIZE);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *locations[] = { "http://192.0.2.1:2379", "http://192.0.2.1:2379;user=fuzz",
					   "http://192.0.2.1:2379,http://192.0.2.2:2379",
					   "http://192.0.2.1:2379,http://192.0.2.2:2379;user=fuzz" };
	struct store *s;
	uint8_t loc, calls;

	if (size < 2)
		return 0;
	caller = pthread_self();
	loc = data[0];
	calls = data[1];
	script = data + 2;
	script_left = size - 2;
	if (store_etcd_open(&s, locations[loc % 4], loc & 4 ? 60 : 0))
		abort();
	for (int i = 0; i < 4; i++) {
		switch ((calls >> (2 * i)) & 3) {
		case 0:
			do_list(s, i & 1 ? STORE_ALLOC_PREFIX : STORE_NODES_PREFIX);
			break;
		case 1:
			do_get(s);
			break;
		case 2:
			check_errno(store_put(s, "nodes/fuzz", "record", true));
			check_errno(store_heartbeat(s));
			check_errno(store_del(s, "nodes/fuzz"));
			break;
		default:
			check_errno(store_cas(s, "alloc/10.244.1.0-24", i & 1 ? "fuzz" : NULL, "fuzz"));
			break;
		}
	}
	store_close(s);
	script = NULL;
	script_left = 0;
	return 0;
}
