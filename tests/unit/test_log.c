/* log: each daemon message is one line with a level, in text and in JSON, whatever the
 * message holds (a newline from a store record's name must not forge a second line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/log.h"

/* Run one log_msg with stderr on a temporary file; return what was written (malloc'd). */
static char *capture(enum log_level level, const char *msg)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	long n;
	char *out;

	assert_non_null(f);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	log_msg(level, "%s", msg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = ftell(f);
	assert_true(n >= 0);
	out = calloc(1, (size_t)n + 1);
	assert_non_null(out);
	rewind(f);
	assert_int_equal(fread(out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return out;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_daemon_text(void **state)
{
	char *out;

	(void)state;
	log_init("/usr/bin/podwired", LOG_LEVEL_INFO);
	log_set_format(LOG_FORMAT_DAEMON);
	out = capture(LOG_LEVEL_WARN, "store record nodes/a skipped: bad key");
	assert_string_equal(out, "podwired: warn: store record nodes/a skipped: bad key\n");
	free(out);
	out = capture(LOG_LEVEL_WARN, "store record nodes/evil\npodwired: error: forged skipped");
	assert_int_equal(count_lines(out), 1);
	assert_string_equal(out, "podwired: warn: store record nodes/evil\\npodwired: error: forged skipped\n");
	free(out);
	out = capture(LOG_LEVEL_DEBUG, "below the level");
	assert_string_equal(out, "");
	free(out);
}

static void test_json(void **state)
{
	char *out;

	(void)state;
	log_init("podwired", LOG_LEVEL_DEBUG);
	log_set_format(LOG_FORMAT_JSON);
	out = capture(LOG_LEVEL_ERROR, "a \"quoted\"\nsecond\\line\t");
	assert_int_equal(count_lines(out), 1);
	assert_true(strncmp(out, "{\"time\":\"", 9) == 0);
	assert_non_null(strstr(out, "\",\"level\":\"error\",\"prog\":\"podwired\","
				    "\"msg\":\"a \\\"quoted\\\"\\u000asecond\\\\line\\u0009\"}\n"));
	free(out);
	log_set_format(LOG_FORMAT_TEXT);
}

/* A pod name or config value with control characters stays one visible line: newline, CR,
 * tab, ESC (terminal escape sequences), other C0 bytes and DEL are escaped, the rest kept. */
static void test_escape(void **state)
{
	char out[64], small[8];
	char *line;

	(void)state;
	log_escape(out, sizeof(out), "pod\nx\r\ty\033[2Jz\001\177\xc3\xa9\\");
	assert_string_equal(out, "pod\\nx\\r\\ty\\x1b[2Jz\\x01\\x7f\xc3\xa9\\");
	/* Cut at a whole escape, always terminated. */
	log_escape(small, sizeof(small), "ab\033cdef");
	assert_string_equal(small, "ab\\x1bc");
	log_escape(small, sizeof(small), "abcdef\n");
	assert_string_equal(small, "abcdef");
	log_escape(out, 1, "abc");
	assert_string_equal(out, "");

	/* Through log_msg, in both text formats (commands and the CNI plugin's file use them). */
	log_init("podwire", LOG_LEVEL_INFO);
	log_set_format(LOG_FORMAT_TEXT);
	line = capture(LOG_LEVEL_ERROR, "ADD pod\033]0;owned\007\npodwire: forged");
	assert_string_equal(line, "podwire: ADD pod\\x1b]0;owned\\x07\\npodwire: forged\n");
	assert_int_equal(count_lines(line), 1);
	free(line);
}

static void test_format_parse(void **state)
{
	(void)state;
	assert_int_equal(log_format_parse("text"), LOG_FORMAT_DAEMON);
	assert_int_equal(log_format_parse("json"), LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("JSON"), -1);
	assert_int_equal(log_format_parse(""), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_daemon_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_format_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
