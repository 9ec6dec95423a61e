/* Table-driven configuration parser: inih splits lines, this file knows keys,
 * types, defaults and bounds, and reports errors with file, line and key. */
#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <ini.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum conf_type { CT_STR, CT_LIST, CT_INT, CT_BOOL };

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off;      /* offset of the field in struct conf */
	size_t count_off; /* CT_LIST: offset of the counter */
	unsigned max_items;
	const char *def; /* NULL: required */
	int64_t min, max;
};

static const char *check_listen(const char *v)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return conf_parse_listen(v, &ss, &len) < 0
		       ? "expected ADDR:PORT or [ADDR6]:PORT (comments must be on lines of their own)"
		       : NULL;
}

static const char *check_language(const char *v)
{
	return strcmp(v, "nl") && strcmp(v, "en") ? "must be nl or en" : NULL;
}

static const char *check_command(const char *v)
{
	return v[0] != '/' ? "must start with an absolute program path" : NULL;
}

/* A program run without a shell: "" (none) or an absolute path, no arguments. */
static const char *check_program(const char *v)
{
	return v[0] && v[0] != '/' ? "must be empty or an absolute program path (no arguments)"
				   : NULL;
}

#define F(field) offsetof(struct conf, field)
#define DAY 86400

static const struct conf_key conf_keys[] = {
	{ "listen", CT_LIST, F(listen), F(n_listen), CONF_MAX_LISTEN, "127.0.0.1:2222", 0, 0 },
	{ "host_key", CT_LIST, F(host_key), F(n_host_key), CONF_MAX_HOSTKEYS, NULL, 0, 0 },
	{ "database", CT_STR, F(database), 0, 0, NULL, 0, 0 },
	{ "upload_root", CT_STR, F(upload_root), 0, 0, NULL, 0, 0 },
	{ "spool_dir", CT_STR, F(spool_dir), 0, 0, NULL, 0, 0 },
	/* argon2id: RFC 9106 second recommendation is t=3, m=64 MiB. */
	{ "argon2_t_cost", CT_INT, F(argon2_t_cost), 0, 0, "3", 1, 16 },
	{ "argon2_m_cost_kib", CT_INT, F(argon2_m_cost_kib), 0, 0, "65536", 8192, 4194304 },
	{ "argon2_parallelism", CT_INT, F(argon2_parallelism), 0, 0, "1", 1, 16 },
	{ "totp_window", CT_INT, F(totp_window), 0, 0, "1", 0, 3 },
	{ "login_grace_time", CT_INT, F(login_grace_time), 0, 0, "60", 5, 600 },
	{ "idle_timeout", CT_INT, F(idle_timeout), 0, 0, "900", 10, DAY },
	{ "auth_fail_delay_ms", CT_INT, F(auth_fail_delay_ms), 0, 0, "1000", 0, 10000 },
	{ "max_auth_tries", CT_INT, F(max_auth_tries), 0, 0, "6", 1, 100 },
	{ "max_connections", CT_INT, F(max_connections), 0, 0, "256", 1, 100000 },
	{ "max_unauthenticated", CT_INT, F(max_unauthenticated), 0, 0, "64", 1, 10000 },
	{ "max_unauthenticated_per_source", CT_INT, F(max_unauthenticated_per_source), 0, 0, "10", 1, 10000 },
	/* 256 KiB of data plus headers: what OpenSSH's sftp-server accepts. */
	{ "sftp_max_packet", CT_INT, F(sftp_max_packet), 0, 0, "263168", 34000, 4194304 },
	{ "sftp_max_handles", CT_INT, F(sftp_max_handles), 0, 0, "64", 1, 4096 },
	/* Ingest follows at most 32 levels and PATH_MAX bytes from the root. */
	{ "sftp_max_path", CT_INT, F(sftp_max_path), 0, 0, "1024", 64, 3072 },
	{ "sftp_max_depth", CT_INT, F(sftp_max_depth), 0, 0, "16", 1, 30 },
	/* 64 GiB: above real deliveries; bounds what one (sparse) upload costs
	 * ingest to hash. */
	{ "max_file_size", CT_INT, F(max_file_size), 0, 0, "68719476736", 1, 70368744177664 },
	/* Bytes a relation may keep in its upload directory; 0: no quota. */
	{ "relation_quota", CT_INT, F(relation_quota), 0, 0, "0", 0, INT64_MAX },
	/* SFTP channels on one connection (OpenSSH ControlMaster, WinSCP);
	 * the worker serves at most 16. */
	{ "max_sessions_per_connection", CT_INT, F(max_sessions_per_connection), 0, 0, "4", 1, 16 },
	{ "allow_download", CT_BOOL, F(allow_download), 0, 0, "no", 0, 0 },
	{ "sync_on_close", CT_BOOL, F(sync_on_close), 0, 0, "yes", 0, 0 },
	{ "language", CT_STR, F(language), 0, 0, "nl", 0, 0 },
	{ "password_min_length", CT_INT, F(password_min_length), 0, 0, "12", 8, 128 },
	{ "password_min_classes", CT_INT, F(password_min_classes), 0, 0, "3", 1, 4 },
	{ "password_history", CT_INT, F(password_history), 0, 0, "12", 1, 100 },
	{ "password_max_age_days", CT_INT, F(password_max_age_days), 0, 0, "180", 1, 3650 },
	{ "password_warn_days", CT_INT, F(password_warn_days), 0, 0, "30", 0, 365 },
	{ "password_change_tries", CT_INT, F(password_change_tries), 0, 0, "3", 1, 10 },
	{ "lockout_threshold", CT_INT, F(lockout_threshold), 0, 0, "5", 1, 100 },
	{ "lockout_seconds", CT_INT, F(lockout_seconds), 0, 0, "900", 1, 31 * DAY },
	{ "ban_threshold", CT_INT, F(ban_threshold), 0, 0, "20", 1, 100000 },
	{ "ban_window", CT_INT, F(ban_window), 0, 0, "600", 1, DAY },
	{ "ban_seconds", CT_INT, F(ban_seconds), 0, 0, "3600", 1, 31 * DAY },
	{ "sendmail_command", CT_STR, F(sendmail_command), 0, 0, "/usr/sbin/sendmail -t -i", 0, 0 },
	{ "mail_from", CT_STR, F(mail_from), 0, 0, "sftpdrop@localhost", 0, 0 },
	{ "ingest_settle_ms", CT_INT, F(ingest_settle_ms), 0, 0, "1000", 0, 600000 },
	{ "ingest_skip_patterns", CT_STR, F(ingest_skip_patterns), 0, 0, "*.filepart,*.part,*.tmp,~*", 0, 0 },
	/* What happens to an upload after CLOSE (docs/ingest.md). */
	{ "partial_retention", CT_INT, F(partial_retention), 0, 0, "86400", 0, 30 * DAY },
	{ "upload_retention", CT_INT, F(upload_retention), 0, 0, "604800", 0, 3660 * DAY },
	{ "receipt_retention", CT_INT, F(receipt_retention), 0, 0, "7776000", 0, 3660 * DAY },
	{ "ingest_hook", CT_STR, F(ingest_hook), 0, 0, "", 0, 0 },
	{ "ingest_hook_timeout", CT_INT, F(ingest_hook_timeout), 0, 0, "60", 1, 3600 },
	{ "debug", CT_BOOL, F(debug), 0, 0, "no", 0, 0 },
};

#define N_KEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

/* Keys whose string values need more than a type: NULL if fine, else why not. */
static const struct {
	const char *name;
	const char *(*check)(const char *v);
} conf_checks[] = {
	{ "listen", check_listen },
	{ "language", check_language },
	{ "ingest_hook", check_program },
	{ "sendmail_command", check_command },
};

static const char *check_value(const char *name, const char *v)
{
	for (size_t i = 0; i < sizeof(conf_checks) / sizeof(conf_checks[0]); i++)
		if (!strcmp(conf_checks[i].name, name))
			return conf_checks[i].check(v);
	return NULL;
}

/* Line source for inih that counts lines, so that the handler knows where it is. */
struct line_src {
	FILE *f;          /* a file, or */
	const char *text; /* a string */
	int line;
};

struct parse_state {
	struct conf *c;
	const char *name;
	bool seen[N_KEYS];
	char *err;
	size_t errlen;
	bool failed;
	int line; /* line of the first error */
	struct line_src *src;
};

static char **str_field(struct conf *c, const struct conf_key *k)
{
	return (char **)((char *)c + k->off);
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

/* Assign one value to one key; on a bad value write the reason into why. */
static int set_value(struct conf *c, const struct conf_key *k, const char *v,
		     char *why, size_t whylen)
{
	switch (k->type) {
	case CT_STR: {
		char **f = str_field(c, k);
		char *dup = strdup(v);

		if (!dup)
			return -ENOMEM;
		free(*f);
		*f = dup;
		return 0;
	}
	case CT_LIST: {
		char **arr = str_field(c, k);
		unsigned *n = (unsigned *)((char *)c + k->count_off);

		if (*n >= k->max_items) {
			snprintf(why, whylen, "at most %u values allowed", k->max_items);
			return -EINVAL;
		}
		arr[*n] = strdup(v);
		if (!arr[*n])
			return -ENOMEM;
		(*n)++;
		return 0;
	}
	case CT_INT: {
		int64_t *f = (int64_t *)((char *)c + k->off);
		int r = util_parse_i64(v, k->min, k->max, f);

		if (r < 0)
			snprintf(why, whylen, "'%s' is not an integer in [%lld, %lld]", v,
				 (long long)k->min, (long long)k->max);
		return r;
	}
	case CT_BOOL: {
		bool *f = (bool *)((char *)c + k->off);
		int r = parse_bool(v, f);

		if (r < 0)
			snprintf(why, whylen, "'%s' is not yes or no", v);
		return r;
	}
	}
	return -EINVAL;
}

/* Record the first error: "FILE:LINE: key 'K': what" (line < 0: the line being
 * parsed; 0: no line). Returns 0, which tells inih the line failed. */
static int fail(struct parse_state *st, int line, const char *key, const char *msg)
{
	char where[32] = "";

	if (st->failed)
		return 0;
	if (line < 0)
		line = st->src ? st->src->line : 0;
	if (line > 0)
		snprintf(where, sizeof(where), ":%d", line);
	if (key)
		snprintf(st->err, st->errlen, "%s%s: key '%s': %s", st->name, where, key, msg);
	else
		snprintf(st->err, st->errlen, "%s%s: %s", st->name, where, msg);
	st->failed = true;
	st->line = line;
	return 0;
}

/* inih callback; returning 0 makes inih report this line as the error line. */
static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	char why[160] = "";

	if (section && *section)
		return fail(st, -1, name, "sections are not supported");
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (strcmp(k->name, name))
			continue;
		if (st->seen[i] && k->type != CT_LIST)
			return fail(st, -1, name, "given more than once");
		if (!st->seen[i] && k->type == CT_LIST) {
			/* The first explicit value replaces the default list. */
			char **arr = str_field(st->c, k);
			unsigned *n = (unsigned *)((char *)st->c + k->count_off);

			for (unsigned j = 0; j < *n; j++) {
				free(arr[j]);
				arr[j] = NULL;
			}
			*n = 0;
		}
		st->seen[i] = true;
		if (check_value(name, value)) {
			char msg[400];

			snprintf(msg, sizeof(msg), "'%s': %s", value, check_value(name, value));
			return fail(st, -1, name, msg);
		}
		if (set_value(st->c, k, value, why, sizeof(why)) < 0)
			return fail(st, -1, name, why[0] ? why : "out of memory");
		return 1;
	}
	return fail(st, -1, name, "unknown key");
}

static int fill_defaults(struct parse_state *st)
{
	char why[160];

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (st->seen[i])
			continue;
		if (!k->def) {
			fail(st, 0, k->name, "required but not set");
			return -EINVAL;
		}
		if (set_value(st->c, k, k->def, why, sizeof(why)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int validate(struct parse_state *st)
{
	struct conf *c = st->c;
	const char *paths[] = { c->database, c->upload_root, c->spool_dir };
	const char *names[] = { "database", "upload_root", "spool_dir" };

	for (size_t i = 0; i < 3; i++) {
		if (paths[i][0] == '\0') {
			fail(st, 0, names[i], "must not be empty");
			return -EINVAL;
		}
	}
	for (unsigned i = 0; i < c->n_host_key; i++) {
		if (c->host_key[i][0] == '\0') {
			fail(st, 0, "host_key", "must not be empty");
			return -EINVAL;
		}
	}
	if (c->password_warn_days >= c->password_max_age_days) {
		fail(st, 0, "password_warn_days", "must be less than password_max_age_days");
		return -EINVAL;
	}
	if (c->max_unauthenticated_per_source > c->max_unauthenticated) {
		fail(st, 0, "max_unauthenticated_per_source",
		     "must not exceed max_unauthenticated");
		return -EINVAL;
	}
	return 0;
}

static char *read_line(char *str, int num, void *stream)
{
	struct line_src *src = stream;
	size_t n = 0;

	if (src->f) {
		if (!fgets(str, num, src->f))
			return NULL;
	} else {
		if (*src->text == '\0')
			return NULL;
		while (src->text[n] && src->text[n] != '\n' && n + 2 < (size_t)num)
			n++;
		if (src->text[n] == '\n')
			n++;
		memcpy(str, src->text, n);
		str[n] = '\0';
		src->text += n;
	}
	src->line++;
	/* inih would take "[name]" as a section and say nothing: this format has
	 * none, so make it a syntax error on its own line. */
	if (str[strspn(str, " \t")] == '[')
		snprintf(str, (size_t)num, "%s", "[\n");
	return str;
}

static int load(struct line_src *src, const char *name, struct conf *c, char *err,
		size_t errlen)
{
	struct parse_state st = { .c = c, .name = name, .err = err, .errlen = errlen,
				  .src = src };
	int line;
	int r;

	memset(c, 0, sizeof(*c));
	err[0] = '\0';
	line = ini_parse_stream(read_line, src, on_pair, &st);
	if (line > 0 && (!st.failed || line < st.line)) {
		st.failed = false;
		fail(&st, line, NULL, "syntax error (expected key = value; no [sections])");
	}
	if (line != 0 || st.failed) {
		conf_free(c);
		return -EINVAL;
	}
	r = fill_defaults(&st);
	if (r == 0)
		r = validate(&st);
	if (r < 0) {
		conf_free(c);
		return r;
	}
	return 0;
}

int conf_load(const char *path, struct conf *c, char *err, size_t errlen)
{
	struct line_src src = { 0 };
	int r;

	src.f = fopen(path, "re");
	if (!src.f) {
		r = -errno;
		memset(c, 0, sizeof(*c));
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-r));
		return r;
	}
	r = load(&src, path, c, err, errlen);
	fclose(src.f);
	return r;
}

int conf_load_string(const char *text, const char *name, struct conf *c, char *err,
		     size_t errlen)
{
	struct line_src src = { .text = text };

	return load(&src, name, c, err, errlen);
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (k->type == CT_STR) {
			char **f = str_field(c, k);

			free(*f);
			*f = NULL;
		} else if (k->type == CT_LIST) {
			char **arr = str_field(c, k);
			unsigned *n = (unsigned *)((char *)c + k->count_off);

			for (unsigned j = 0; j < *n; j++) {
				free(arr[j]);
				arr[j] = NULL;
			}
			*n = 0;
		}
	}
}

void conf_print(const struct conf *c, FILE *f)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		const char *base = (const char *)c + k->off;

		switch (k->type) {
		case CT_STR:
			fprintf(f, "%s = %s\n", k->name, *(char *const *)base);
			break;
		case CT_LIST: {
			unsigned n = *(const unsigned *)((const char *)c + k->count_off);

			for (unsigned j = 0; j < n; j++)
				fprintf(f, "%s = %s\n", k->name, ((char *const *)base)[j]);
			break;
		}
		case CT_INT:
			fprintf(f, "%s = %lld\n", k->name, (long long)*(const int64_t *)base);
			break;
		case CT_BOOL:
			fprintf(f, "%s = %s\n", k->name, *(const bool *)base ? "yes" : "no");
			break;
		}
	}
}

int conf_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon;
	const char *port_s;
	int64_t port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hl = (size_t)(close - s - 1);
		if (hl == 0 || hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		port_s = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
		if (hl == 0 || hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = '\0';
		port_s = colon + 1;
	}
	if (util_parse_i64(port_s, 0, 65535, &port) < 0)
		return -EINVAL;
	if (s[0] != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
	}
	return 0;
}

bool conf_name_matches(const char *patterns, const char *name)
{
	const char *p = patterns;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char glob[128];

		if (n > 0 && n < sizeof(glob)) {
			memcpy(glob, p, n);
			glob[n] = '\0';
			if (fnmatch(glob, name, 0) == 0)
				return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}
