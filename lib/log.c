#include "lib/log.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

/* Process-wide by nature: there is one stderr and one program name. */
static struct {
	const char *prog;
	enum log_level level;
	enum log_format format;
	FILE *file;
	pthread_mutex_t lock;
} logger = { "podwire", LOG_LEVEL_INFO, LOG_FORMAT_TEXT, NULL, PTHREAD_MUTEX_INITIALIZER };

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_init(const char *prog, enum log_level level)
{
	const char *slash = strrchr(prog, '/');

	logger.prog = slash ? slash + 1 : prog;
	logger.level = level;
}

void log_set_level(enum log_level level) { logger.level = level; }
void log_set_file(FILE *f) { logger.file = f; }
void log_set_format(enum log_format format) { logger.format = format; }
const char *log_prog(void) { return logger.prog; }

int log_format_parse(const char *s)
{
	if (!strcmp(s, "text"))
		return LOG_FORMAT_DAEMON;
	if (!strcmp(s, "json"))
		return LOG_FORMAT_JSON;
	return -1;
}

/* One message, one line, nothing a terminal acts on: a newline inside (say, from a pod name or
 * a peer-supplied string) would forge a second log line with a level of its own, and ESC or
 * other control bytes would rewrite what `tail -f` shows. Each such byte becomes a visible
 * escape: \n, \r, \t, or \xHH (DEL included); everything else is copied. */
void log_escape(char *out, size_t len, const char *msg)
{
	size_t n = 0;

	if (!len)
		return;
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		char esc[5];
		size_t k;

		if (*p == '\n')
			k = (size_t)snprintf(esc, sizeof(esc), "\\n");
		else if (*p == '\r')
			k = (size_t)snprintf(esc, sizeof(esc), "\\r");
		else if (*p == '\t')
			k = (size_t)snprintf(esc, sizeof(esc), "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			k = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *p);
		else
			esc[0] = (char)*p, k = 1;
		if (n + k >= len)
			break;
		memcpy(out + n, esc, k);
		n += k;
	}
	out[n] = '\0';
}

int log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (!strcasecmp(s, level_names[i]))
			return (int)i;
	return -1;
}

static void json_print_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	FILE *f;
	char raw[2048], escaped[4 * sizeof(raw)], *msg = raw;

	if (level > logger.level)
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	/* JSON escapes control characters itself (json_print_string). */
	if (logger.format != LOG_FORMAT_JSON) {
		log_escape(escaped, sizeof(escaped), raw);
		msg = escaped;
	}
	pthread_mutex_lock(&logger.lock);
	f = logger.file ? logger.file : stderr;
	if (logger.format == LOG_FORMAT_JSON) {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(f, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"prog\":", when,
			ts.tv_nsec / 1000000, level_names[level]);
		json_print_string(f, logger.prog);
		fputs(",\"msg\":", f);
		json_print_string(f, msg);
		fputs("}\n", f);
	} else if (logger.file) {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(f, "%s %s: %s: %s\n", when, logger.prog, level_names[level], msg);
	} else if (logger.format == LOG_FORMAT_DAEMON) {
		fprintf(f, "%s: %s: %s\n", logger.prog, level_names[level], msg);
	} else {
		fprintf(f, "%s: %s\n", logger.prog, msg);
	}
	fflush(f);
	pthread_mutex_unlock(&logger.lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
