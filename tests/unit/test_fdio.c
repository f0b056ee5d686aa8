/* fdio: whole reads and writes through a pipe, larger than the pipe buffer, and the size cap. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/fdio.h"

struct writer {
	int fd;
	const char *buf;
	size_t len;
	int ret;
};

static void *write_then_close(void *arg)
{
	struct writer *w = arg;

	w->ret = fd_write_all(w->fd, w->buf, w->len);
	close(w->fd);
	return NULL;
}

/* Write @len bytes from a thread and read them back with fd_read_all(@max). */
static int roundtrip(const char *buf, size_t len, size_t max, char **out)
{
	int p[2], ret;
	pthread_t t;
	struct writer w;

	assert_int_equal(pipe(p), 0);
	w = (struct writer){ .fd = p[1], .buf = buf, .len = len };
	assert_int_equal(pthread_create(&t, NULL, write_then_close, &w), 0);
	ret = fd_read_all(p[0], max, out);
	close(p[0]); /* a refused reader stops reading: the writer then gets EPIPE, not a hang */
	pthread_join(t, NULL);
	if (!ret)
		assert_int_equal(w.ret, 0);
	return ret;
}

static void test_large_roundtrip(void **state)
{
	size_t len = 1 << 20; /* 16 pipe buffers: many short writes and reads, several reallocs */
	char *buf = malloc(len), *out;

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)('a' + i % 26);
	assert_int_equal(roundtrip(buf, len, len, &out), 0);
	assert_int_equal(strlen(out), len);
	assert_memory_equal(out, buf, len);
	free(out);
	free(buf);
}

static void test_empty(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(roundtrip("", 0, 16, &out), 0);
	assert_string_equal(out, "");
	free(out);
}

static void test_cap(void **state)
{
	char buf[10000], *out = (char *)1;

	(void)state;
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(roundtrip(buf, sizeof(buf), sizeof(buf) - 1, &out), -EFBIG);
	assert_null(out);
	assert_int_equal(roundtrip(buf, 5000, 5000, &out), 0);
	assert_int_equal(strlen(out), 5000);
	free(out);
}

static void test_bad_fd(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(fd_write_all(-1, "x", 1), -EBADF);
	assert_int_equal(fd_read_all(-1, 16, &out), -EBADF);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_large_roundtrip),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_bad_fd),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
