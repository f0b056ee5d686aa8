/* log.h — messages to stderr as "prog: context: reason", with levels.
 * Never pass key material to these functions: there is no redaction layer. */
#ifndef PODWIRE_LOG_H
#define PODWIRE_LOG_H

#include <stdarg.h>
#include <stdio.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };
/* TEXT: "prog: msg" (commands). DAEMON: "prog: level: msg". JSON: one object per line.
 * Every format prints one line per message: control characters inside a message (newline,
 * ESC, ...) are escaped (log_escape in text, \uXXXX in JSON), so no input can forge a line. */
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_DAEMON, LOG_FORMAT_JSON };

/* Set the program name printed before each message, and the minimum level shown. */
void log_init(const char *prog, enum log_level level);
void log_set_level(enum log_level level);
/* Send messages to @f instead of stderr (e.g. a plugin's log file); NULL restores stderr. */
void log_set_file(FILE *f);
/* LOG_FORMAT_JSON prints one JSON object per line (structured logs for daemons). */
void log_set_format(enum log_format format);
/* "text" (DAEMON) or "json": what a daemon's --log-format and PODWIRE_LOG_FORMAT take;
 * -1 if unknown. */
int log_format_parse(const char *s);
/* Parse "error|warn|info|debug"; returns -1 if unknown. */
int log_level_parse(const char *s);
const char *log_prog(void);

/* Copy @msg into @out (@len bytes, always NUL-terminated, cut if too long) with newline, CR
 * and tab as \n \r \t and every other control byte (below 0x20, and DEL) as \xHH. */
void log_escape(char *out, size_t len, const char *msg);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap);

#define log_err(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
