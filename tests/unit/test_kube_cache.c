/* The informer's cache of Nodes: a list in pages replaces the cache only when its last page
 * arrived (a bad page leaves it as it was); watch events add, change and remove Nodes, and
 * only changes of what podwire reads count as changes; bookmarks and events move the
 * resourceVersion the watch resumes from; a 410 ERROR event means list again. The stream is
 * framed by lines whatever its split: one byte at a time, many events at once, an event over
 * the size limit refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/kube_cache.h"
#include "mesh/kube_node.h"

static cJSON *page(const char *rv, const char *cont, const char *names)
{
	char text[4096], items[3000] = "", *copy = strdup(names), *save = NULL;
	cJSON *p;

	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		snprintf(items + strlen(items), sizeof(items) - strlen(items),
			 "%s{\"metadata\":{\"name\":\"%s\",\"resourceVersion\":\"%s\"}}", items[0] ? "," : "", t, rv);
	free(copy);
	snprintf(text, sizeof(text), "{\"kind\":\"NodeList\",\"metadata\":{\"resourceVersion\":\"%s\"%s%s%s},\"items\":[%s]}",
		 rv, cont ? ",\"continue\":\"" : "", cont ? cont : "", cont ? "\"" : "", items);
	p = cJSON_Parse(text);
	assert_non_null(p);
	return p;
}

static int feed_page(struct kube_cache *c, const char *rv, const char *cont, const char *names, char *next)
{
	cJSON *p = page(rv, cont, names);
	int ret = kube_cache_page(c, p, next, 256);

	cJSON_Delete(p);
	return ret;
}

static size_t count(const struct kube_cache *c) { return c->items ? (size_t)cJSON_GetArraySize(c->items) : 0; }

static void test_pages(void **state)
{
	struct kube_cache c;
	char next[256];
	cJSON *bad;

	kube_cache_init(&c);
	assert_int_equal(feed_page(&c, "10", "tok1", "a b", next), 1);
	assert_string_equal(next, "tok1");
	assert_null(c.items); /* nothing replaced before the last page */
	/* Later pages carry the first page's snapshot: its resourceVersion counts. */
	assert_int_equal(feed_page(&c, "10", "tok2", "c d", next), 1);
	assert_int_equal(feed_page(&c, "10", NULL, "e", next), 0);
	assert_int_equal(count(&c), 5);
	assert_string_equal(c.rv, "10");
	assert_non_null(kube_cache_node(&c, "e"));
	assert_null(kube_cache_node(&c, "f"));

	/* A new list cut by a page that is not a NodeList: the cache stays. */
	assert_int_equal(feed_page(&c, "20", "t", "x", next), 1);
	bad = cJSON_Parse("{\"kind\":\"Status\",\"items\":7}");
	assert_int_equal(kube_cache_page(&c, bad, next, sizeof(next)), -EPROTO);
	cJSON_Delete(bad);
	assert_int_equal(count(&c), 5);
	assert_null(c.pending);
	assert_string_equal(c.rv, "10");

	/* A list aborted (its continue token expired) and started over. */
	assert_int_equal(feed_page(&c, "30", "t", "x", next), 1);
	kube_cache_list_abort(&c);
	assert_int_equal(feed_page(&c, "31", NULL, "y z", next), 0);
	assert_int_equal(count(&c), 2);
	assert_null(kube_cache_node(&c, "x"));
	assert_string_equal(c.rv, "31");
	kube_cache_free(&c);
}

static unsigned int event(struct kube_cache *c, const char *type, const char *name, const char *rv, const char *extra)
{
	char text[2048];

	snprintf(text, sizeof(text), "{\"type\":\"%s\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\","
		 "\"resourceVersion\":\"%s\"%s}}}", type, name, rv, extra);
	return kube_cache_event(c, text);
}

static const char *rv_of(const cJSON *node)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(node, "metadata"), "resourceVersion")->valuestring;
}

static void test_events(void **state)
{
	struct kube_cache c;
	char next[256];

	kube_cache_init(&c);
	assert_int_equal(feed_page(&c, "5", NULL, "a b", next), 0);
	assert_int_equal(event(&c, "ADDED", "n3", "6", ""), KUBE_CACHE_CHANGED);
	assert_int_equal(count(&c), 3);
	assert_string_equal(c.rv, "6");
	/* A podwire annotation changes: a change. */
	assert_int_equal(event(&c, "MODIFIED", "a", "7", ",\"annotations\":{\"podwire.io/endpoint\":\"192.0.2.1:51820\"}"),
			 KUBE_CACHE_CHANGED);
	assert_string_equal(kube_node_annotation(kube_cache_node(&c, "a"), "podwire.io/endpoint"), "192.0.2.1:51820");
	/* kubelet's heartbeat, another writer's annotation: the cache follows, nobody is woken. */
	assert_int_equal(event(&c, "MODIFIED", "a", "8",
			       ",\"annotations\":{\"podwire.io/endpoint\":\"192.0.2.1:51820\",\"example.com/x\":\"1\"}"), 0);
	assert_string_equal(rv_of(kube_cache_node(&c, "a")), "8");
	assert_int_equal(count(&c), 3);
	assert_int_equal(event(&c, "DELETED", "b", "9", ""), KUBE_CACHE_CHANGED);
	assert_null(kube_cache_node(&c, "b"));
	assert_int_equal(event(&c, "DELETED", "b", "10", ""), 0); /* already gone */
	assert_int_equal(count(&c), 2);
	assert_int_equal(kube_cache_event(&c, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Node\",\"metadata\":"
					      "{\"resourceVersion\":\"42\"}}}"), 0);
	assert_string_equal(c.rv, "42");
	/* Garbage and unknown events change nothing. */
	assert_int_equal(kube_cache_event(&c, "{\"type\":\"MODIFIED\",\"object\":\"x\"}"), 0);
	assert_int_equal(kube_cache_event(&c, "not json"), 0);
	assert_int_equal(event(&c, "SOMETHING", "c", "50", ""), 0);
	assert_int_equal(count(&c), 2);
	assert_string_equal(c.rv, "42");
	/* Another ERROR ends the watch, keeping where it was; 410 means list again. */
	assert_int_equal(kube_cache_event(&c, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":500}}"),
			 KUBE_CACHE_ERROR);
	assert_string_equal(c.rv, "42");
	assert_int_equal(kube_cache_event(&c, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
					      "\"reason\":\"Expired\"}}"), KUBE_CACHE_EXPIRED);
	assert_string_equal(c.rv, "");
	assert_int_equal(count(&c), 2); /* the Nodes known stay until the new list is complete */
	kube_cache_free(&c);
}

static void test_framing(void **state)
{
	const char *stream = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"n1\",\"resourceVersion\":\"2\"}}}\n"
			     "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"3\"}}}\n"
			     "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"n2\",\"resourceVersion\":\"4\"}}}\n";
	struct kube_cache c;
	char next[256];
	unsigned int flags = 0;
	int ret;

	/* One byte at a time, as frames or TLS records may cut it. */
	kube_cache_init(&c);
	assert_int_equal(feed_page(&c, "1", NULL, "", next), 0);
	for (size_t i = 0; i < strlen(stream); i++) {
		ret = kube_cache_feed(&c, stream + i, 1);
		assert_true(ret >= 0);
		flags |= (unsigned int)ret;
		if (i == 40)
			assert_int_equal(count(&c), 0); /* half an event applies nothing */
	}
	assert_int_equal(flags, KUBE_CACHE_CHANGED);
	assert_int_equal(count(&c), 2);
	assert_string_equal(c.rv, "4");
	kube_cache_free(&c);

	/* All at once, and a half event dropped when a new watch starts. */
	kube_cache_init(&c);
	assert_int_equal(feed_page(&c, "1", NULL, "", next), 0);
	assert_int_equal(kube_cache_feed(&c, stream, strlen(stream)), KUBE_CACHE_CHANGED);
	{
		const char *half = "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"n1\"";

		assert_int_equal(kube_cache_feed(&c, half, strlen(half)), 0);
	}
	kube_cache_stream_reset(&c);
	assert_int_equal(kube_cache_feed(&c, "}}}\n", 4), 0);
	assert_int_equal(count(&c), 2);
	/* An ERROR stops the reading: the event after it is not applied. */
	{
		const char *two = "{\"type\":\"ERROR\",\"object\":{\"code\":410}}\n"
				  "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"n1\"}}}\n";

		ret = kube_cache_feed(&c, two, strlen(two));
	}
	assert_int_equal(ret, KUBE_CACHE_EXPIRED);
	assert_int_equal(count(&c), 2);
	kube_cache_free(&c);
}

static void test_oversized(void **state)
{
	struct kube_cache c;
	char next[256], *big = malloc(1U << 20);

	assert_non_null(big);
	memset(big, 'x', 1U << 20);
	kube_cache_init(&c);
	assert_int_equal(feed_page(&c, "1", NULL, "a", next), 0);
	for (unsigned int sent = 0; sent < KUBE_EVENT_MAX; sent += 1U << 20)
		assert_int_equal(kube_cache_feed(&c, big, 1U << 20), 0);
	assert_int_equal(kube_cache_feed(&c, big, 1), -E2BIG);
	assert_int_equal(count(&c), 1);
	free(big);
	kube_cache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_oversized),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
