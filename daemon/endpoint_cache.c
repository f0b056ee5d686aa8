/* endpoint_cache.c — record endpoints resolved in the background (see endpoint_cache.h). */
#include "daemon/endpoint_cache.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/ipaddr.h"
#include "lib/log.h"

struct entry {
	char *endpoint;			/* "host:port" as the record has it: the cache key */
	char host[256], port[8];
	/* The request getaddrinfo_a() works on: it must not move while in flight. */
	struct gaicb req;
	struct addrinfo hints;
	bool in_flight;
	wg_endpoint addr;
	bool has_addr;
	double resolved_at, failed_at, used_at;
};

struct endpoint_cache {
	struct entry **v;		/* sorted by endpoint */
	size_t n;
	double ttl, budget_left;
	bool full_logged;
};

/* Requests that could not be cancelled at exit: glibc's resolver thread still writes into
 * them, so they are never freed, and stay reachable. */
static struct entry *abandoned[64];
static size_t n_abandoned;

static double monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int endpoint_cache_new(struct endpoint_cache **c, unsigned int ttl_seconds)
{
	*c = calloc(1, sizeof(**c));
	if (!*c)
		return -ENOMEM;
	(*c)->ttl = ttl_seconds ? ttl_seconds : 30;
	(*c)->budget_left = ENDPOINT_CACHE_BUDGET_MS / 1000.0;
	return 0;
}

static void entry_free(struct entry *e)
{
	if (e->in_flight && gai_cancel(&e->req) == EAI_NOTCANCELED) {
		const struct gaicb *list[1] = { &e->req };
		struct timespec wait = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };

		if (gai_suspend(list, 1, &wait) != 0 && gai_error(&e->req) == EAI_INPROGRESS) {
			if (n_abandoned < sizeof(abandoned) / sizeof(abandoned[0]))
				abandoned[n_abandoned++] = e;
			return;
		}
	}
	if (e->in_flight && gai_error(&e->req) == 0)
		freeaddrinfo(e->req.ar_result);
	free(e->endpoint);
	free(e);
}

void endpoint_cache_free(struct endpoint_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		entry_free(c->v[i]);
	free(c->v);
	free(c);
}

void endpoint_cache_begin_pass(struct endpoint_cache *c)
{
	double now = monotonic();
	size_t k = 0;

	c->budget_left = ENDPOINT_CACHE_BUDGET_MS / 1000.0;
	/* Names no record has used for a while go: a writer's churn of names stays bounded. */
	for (size_t i = 0; i < c->n; i++) {
		struct entry *e = c->v[i];

		if (!e->in_flight && now - e->used_at > 3 * c->ttl)
			entry_free(e);
		else
			c->v[k++] = e;
	}
	c->n = k;
}

static int to_endpoint(const struct addrinfo *ai, wg_endpoint *out)
{
	for (; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(out->addr4)) {
			memset(out, 0, sizeof(*out));
			memcpy(&out->addr4, ai->ai_addr, sizeof(out->addr4));
			return 0;
		}
		if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(out->addr6)) {
			memset(out, 0, sizeof(*out));
			memcpy(&out->addr6, ai->ai_addr, sizeof(out->addr6));
			return 0;
		}
	}
	return -EAFNOSUPPORT;
}

/* An IP literal needs no DNS: AI_NUMERICHOST never blocks. 1: not a literal. */
static int resolve_literal(const char *host, const char *port, wg_endpoint *out)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_protocol = IPPROTO_UDP,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int ret;

	if (getaddrinfo(host, port, &hints, &res))
		return 1;
	ret = to_endpoint(res, out);
	freeaddrinfo(res);
	return ret;
}

static int cmp_entry(const void *key, const void *elem)
{
	return strcmp(key, (*(struct entry *const *)elem)->endpoint);
}

static struct entry *find_or_add(struct endpoint_cache *c, const char *endpoint, const char *host, const char *port)
{
	struct entry **hit = c->n ? bsearch(endpoint, c->v, c->n, sizeof(*c->v), cmp_entry) : NULL, *e, **grown;
	size_t at = 0;

	if (hit)
		return *hit;
	if (c->n >= ENDPOINT_CACHE_MAX) {
		if (!c->full_logged)
			log_warn("endpoint %s: not resolved: %d DNS names are cached already", endpoint,
				 ENDPOINT_CACHE_MAX);
		c->full_logged = true;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	grown = realloc(c->v, (c->n + 1) * sizeof(*c->v));
	if (grown)
		c->v = grown;
	if (!e || !grown || !(e->endpoint = strdup(endpoint))) {
		free(e);
		return NULL;
	}
	snprintf(e->host, sizeof(e->host), "%s", host);
	snprintf(e->port, sizeof(e->port), "%s", port);
	while (at < c->n && strcmp(c->v[at]->endpoint, endpoint) < 0)
		at++;
	memmove(c->v + at + 1, c->v + at, (c->n - at) * sizeof(*c->v));
	c->v[at] = e;
	c->n++;
	return e;
}

/* Take the answer of a finished request. */
static void collect(struct entry *e, double now)
{
	int err = gai_error(&e->req);

	if (err == EAI_INPROGRESS)
		return;
	e->in_flight = false;
	if (!err && !to_endpoint(e->req.ar_result, &e->addr)) {
		e->has_addr = true;
		e->resolved_at = now;
	} else {
		/* The last address, if any, stays in use until a lookup succeeds again. */
		e->failed_at = now;
		log_debug("endpoint %s: cannot resolve %s: %s", e->endpoint, e->host,
			  err == EAI_SYSTEM ? strerror(errno) : gai_strerror(err));
	}
	if (!err)
		freeaddrinfo(e->req.ar_result);
	e->req.ar_result = NULL;
}

static void start(struct entry *e)
{
	struct gaicb *list[1] = { &e->req };

	memset(&e->req, 0, sizeof(e->req));
	e->hints = (struct addrinfo){ .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_protocol = IPPROTO_UDP,
				      .ai_flags = AI_NUMERICSERV };
	e->req.ar_name = e->host;
	e->req.ar_service = e->port;
	e->req.ar_request = &e->hints;
	if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) == 0)
		e->in_flight = true;
	else
		e->failed_at = monotonic();
}

/* Wait for @e's answer, within what is left of this pass's budget. */
static void wait_within_budget(struct endpoint_cache *c, struct entry *e)
{
	const struct gaicb *list[1] = { &e->req };
	double t0 = monotonic(), spent;
	struct timespec wait;

	if (gai_error(&e->req) != EAI_INPROGRESS || c->budget_left <= 0)
		return;
	wait.tv_sec = (time_t)c->budget_left;
	wait.tv_nsec = (long)((c->budget_left - (double)wait.tv_sec) * 1e9);
	gai_suspend(list, 1, &wait);
	spent = monotonic() - t0;
	c->budget_left = spent >= c->budget_left ? 0 : c->budget_left - spent;
}

int endpoint_cache_resolve(const char *endpoint, wg_endpoint *out, void *ctx)
{
	struct endpoint_cache *c = ctx;
	char host[256], port[8];
	uint16_t portnum;
	struct entry *e;
	double now;
	int ret;

	if (endpoint_split(endpoint, host, sizeof(host), &portnum))
		return -EINVAL;
	snprintf(port, sizeof(port), "%u", portnum);
	ret = resolve_literal(host, port, out);
	if (ret <= 0)
		return ret;
	e = find_or_add(c, endpoint, host, port);
	if (!e)
		return -EAGAIN;
	now = monotonic();
	e->used_at = now;
	if (!e->in_flight && (!e->has_addr || now - e->resolved_at >= c->ttl) &&
	    (!e->failed_at || now - e->failed_at >= ENDPOINT_CACHE_NEGATIVE_SECONDS))
		start(e);
	if (e->in_flight) {
		wait_within_budget(c, e);
		collect(e, monotonic());
	}
	if (!e->has_addr)
		return e->in_flight ? -EAGAIN : -EHOSTUNREACH;
	*out = e->addr;
	return 0;
}
