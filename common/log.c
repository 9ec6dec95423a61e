/* Event logging to syslog (LOG_DAEMON / LOG_AUTHPRIV) or stderr, with quoting of
 * untrusted values so that a client cannot forge or split a log line. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A logged value longer than this is cut with "..." (keeps lines bounded). */
#define LOG_VALUE_MAX 128
#define LOG_QBUFS 8

static bool log_fg;
static bool log_dbg;
static const char *log_ident = "sftpdrop";
static char log_ctx[256];

void log_set_context(const char *ctx)
{
	snprintf(log_ctx, sizeof(log_ctx), "%s", ctx ? ctx : "");
}

void log_init(const char *ident, bool foreground, bool debug)
{
	log_ident = ident;
	log_fg = foreground;
	log_dbg = debug;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_event(int prio, const char *event, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	if ((prio & LOG_PRIMASK) == LOG_DEBUG && !log_dbg)
		return;
	n = snprintf(line, sizeof(line), "event=%s ", event);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (log_ctx[0]) {
		size_t used = strlen(line);

		snprintf(line + used, sizeof(line) - used, " %s", log_ctx);
	}
	if (log_fg) {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s[%d]: %s\n", when, ts.tv_nsec / 1000000L,
			log_ident, (int)getpid(), line);
		fflush(stderr);
	} else {
		syslog(prio, "%s", line);
	}
}

const char *log_qn(const char *s, size_t len)
{
	static char bufs[LOG_QBUFS][LOG_VALUE_MAX * 4 + 8];
	static unsigned next;
	char *out = bufs[next++ % LOG_QBUFS];
	size_t o = 0;

	if (!s)
		return "-";
	out[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == LOG_VALUE_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)sprintf(out + o, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

const char *log_q(const char *s)
{
	return log_qn(s, s ? strlen(s) : 0);
}
