/* Logging: one line per event, "event=NAME key=value ...", to syslog or, in the
 * foreground, to stderr. User-supplied values go through log_q(). */
#ifndef SFTPDROP_LOG_H
#define SFTPDROP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

/* ident is kept by pointer (static string). foreground: stderr instead of syslog. */
void log_init(const char *ident, bool foreground, bool debug);

/* Log one event line: "event=EVENT " followed by the formatted key=value text.
 * prio is a syslog priority, optionally or-ed with LOG_AUTHPRIV. */
void log_event(int prio, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set key=value text appended to every following event line of this process
 * (e.g. "sid=... relation=... user=..."); NULL clears it. Copied. */
void log_set_context(const char *ctx);

/* Quote a user-supplied value for a log line: double quotes, control
 * characters, quotes and backslashes escaped, capped at 128 bytes. Returns a
 * pointer into one of 8 rotating static buffers (valid for the next 7 calls). */
const char *log_q(const char *s);
/* Same for a byte string that is not NUL-terminated. */
const char *log_qn(const char *s, size_t len);

#endif
