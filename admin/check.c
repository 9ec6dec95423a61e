/* Validation of the values an operator types. Relation numbers and user names
 * use policy's rules, so that the daemon accepts every login this tool creates;
 * free text must be valid UTF-8 without control characters because it ends up
 * in JSON, in tables on a terminal and in log lines. */
#include "check.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>

#include "conf.h"
#include "defs.h"
#include "policy.h"
#include "store.h"
#include "utf8.h"
#include "util.h"

/* RFC 5321 limits: 64 bytes of local part, 254 of address. */
#define CHECK_EMAIL_LOCAL_MAX 64
#define CHECK_EMAIL_MAX 254

/* Valid UTF-8 without C0/C1 control characters or DEL. */
static bool clean_utf8(const char *s)
{
	const char *p = s;

	while (*p) {
		uint32_t cp;
		size_t n = admin_utf8_next(p, &cp);

		if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return false;
		p += n;
	}
	return true;
}

static int check_text(const char *v, char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (n == 0) {
		snprintf(why, whylen, "must not be empty");
		return -EINVAL;
	}
	if (n >= STORE_NAME_MAX) {
		snprintf(why, whylen, "is longer than %d bytes", STORE_NAME_MAX - 1);
		return -EINVAL;
	}
	if (!clean_utf8(v)) {
		snprintf(why, whylen, "must be UTF-8 text without control characters");
		return -EINVAL;
	}
	if (v[0] == ' ' || v[n - 1] == ' ') {
		snprintf(why, whylen, "must not start or end with a space");
		return -EINVAL;
	}
	return 0;
}

static bool email_local_char(char c)
{
	/* Printable ASCII minus what needs quoting in an address (RFC 5322 specials). */
	return c > ' ' && c < 0x7f && !strchr("\"(),:;<>@[\\]", c);
}

static bool email_domain_char(char c)
{
	/* Host names; internationalised domains come in their xn-- form. */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

static int check_email(const char *v, char *why, size_t whylen)
{
	const char *at = strchr(v, '@');
	const char *dom;
	size_t n = strlen(v);
	size_t local;

	if (n > CHECK_EMAIL_MAX || n >= STORE_EMAIL_MAX) {
		snprintf(why, whylen, "is longer than %d bytes", CHECK_EMAIL_MAX);
		return -EINVAL;
	}
	if (!at || strchr(at + 1, '@'))
		goto bad;
	local = (size_t)(at - v);
	dom = at + 1;
	if (local == 0 || local > CHECK_EMAIL_LOCAL_MAX)
		goto bad;
	for (size_t i = 0; i < local; i++)
		if (!email_local_char(v[i]))
			goto bad;
	if (dom[0] == '\0' || dom[0] == '.' || dom[0] == '-' || dom[strlen(dom) - 1] == '.' ||
	    !strchr(dom, '.') || strstr(dom, ".."))
		goto bad;
	for (const char *c = dom; *c; c++)
		if (!email_domain_char(*c))
			goto bad;
	return 0;
bad:
	snprintf(why, whylen, "is not an e-mail address of the form name@example.org");
	return -EINVAL;
}

/* n digits at s as a number; false if any is not a digit. */
static bool digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int admin_parse_time(const char *value, int64_t *out)
{
	struct tm tm = { 0 }, back;
	int y, mo, d, h = 0, mi = 0, se = 0;
	size_t n = strlen(value);
	time_t t;

	/* Epoch seconds: all digits (a date always has dashes). */
	if (n > 0 && strspn(value, "0123456789") == n)
		return util_parse_i64(value, 0, INT64_MAX / 2, out) < 0 ? -EINVAL : 0;
	if (n != 10 && n != 20)
		return -EINVAL;
	if (!digits(value, 4, &y) || value[4] != '-' || !digits(value + 5, 2, &mo) ||
	    value[7] != '-' || !digits(value + 8, 2, &d))
		return -EINVAL;
	if (n == 20 && (value[10] != 'T' || !digits(value + 11, 2, &h) || value[13] != ':' ||
			!digits(value + 14, 2, &mi) || value[16] != ':' ||
			!digits(value + 17, 2, &se) || value[19] != 'Z'))
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	/* timegm normalises 2026-02-31 to March: a date that does not come back
	 * the same does not exist. */
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d ||
	    back.tm_mon != mo - 1)
		return -EINVAL;
	*out = (int64_t)t;
	return 0;
}

int admin_canonical_address(const char *value, char *out, size_t outsz)
{
	unsigned char a[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, value, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)outsz) ? 0 : -EINVAL;
	if (inet_pton(AF_INET6, value, a) != 1)
		return -EINVAL;
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a))
		return inet_ntop(AF_INET, a + 12, out, (socklen_t)outsz) ? 0 : -EINVAL;
	return inet_ntop(AF_INET6, a, out, (socklen_t)outsz) ? 0 : -EINVAL;
}

int admin_fold_username(const char *in, char *out, size_t outsz)
{
	size_t n = strlen(in);

	if (n >= outsz)
		return -ENAMETOOLONG;
	for (size_t i = 0; i <= n; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
	return 0;
}

/* "SHA256:" and the unpadded base64 of 32 bytes. */
static bool check_fingerprint(const char *v)
{
	if (strncmp(v, "SHA256:", 7) != 0 || strlen(v) != 7 + 43)
		return false;
	for (const char *p = v + 7; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '+' || *p == '/'))
			return false;
	return true;
}

int admin_check_arg(enum admin_arg_kind kind, const char *value, char *why, size_t whylen)
{
	char user[SD_USERNAME_MAX + 1];
	char addr[STORE_SRC_MAX];
	struct sockaddr_storage ss;
	int64_t t;
	socklen_t sl;

	switch (kind) {
	case ADMIN_ARG_RELATION:
		if (policy_relation_valid(value))
			return 0;
		snprintf(why, whylen, "must be 1 to %d digits (0-9)", SD_RELATION_MAX);
		return -EINVAL;
	case ADMIN_ARG_USERNAME:
		if (admin_fold_username(value, user, sizeof(user)) == 0 &&
		    policy_username_valid(user))
			return 0;
		snprintf(why, whylen,
			 "must be 1 to %d characters of a-z, 0-9, '.', '_' and '-', "
			 "starting with a letter or digit",
			 SD_USERNAME_MAX);
		return -EINVAL;
	case ADMIN_ARG_TEXT:
		return check_text(value, why, whylen);
	case ADMIN_ARG_EMAIL:
		return check_email(value, why, whylen);
	case ADMIN_ARG_LISTEN:
		if (conf_parse_listen(value, &ss, &sl) == 0)
			return 0;
		snprintf(why, whylen, "must be ADDR:PORT or [ADDR6]:PORT with a numeric address");
		return -EINVAL;
	case ADMIN_ARG_PATH:
		if (value[0] == '\0' || strlen(value) >= PATH_MAX) {
			snprintf(why, whylen, "must be a path of 1 to %d bytes", PATH_MAX - 1);
			return -EINVAL;
		}
		if (!clean_utf8(value)) {
			snprintf(why, whylen, "must be UTF-8 without control characters");
			return -EINVAL;
		}
		return 0;
	case ADMIN_ARG_TIME:
		if (admin_parse_time(value, &t) == 0)
			return 0;
		snprintf(why, whylen,
			 "must be a date (2026-06-01), a UTC time (2026-06-01T10:00:00Z) "
			 "or seconds since 1970");
		return -EINVAL;
	case ADMIN_ARG_ADDRESS:
		if (admin_canonical_address(value, addr, sizeof(addr)) == 0)
			return 0;
		snprintf(why, whylen, "must be a numeric IPv4 or IPv6 address");
		return -EINVAL;
	case ADMIN_ARG_CIDRS:
		if (policy_cidr_list_check(value) == 0)
			return 0;
		snprintf(why, whylen,
			 "must be ranges like 192.0.2.0/24 or 2001:db8::/32, separated by commas "
			 "without spaces, with no bits set after the prefix (at most %d)",
			 POLICY_CIDR_LIST_MAX);
		return -EINVAL;
	case ADMIN_ARG_FINGERPRINT:
		if (check_fingerprint(value))
			return 0;
		snprintf(why, whylen, "must be SHA256: and 43 base64 characters "
				      "(as ssh-keygen -l and 'key list' print it)");
		return -EINVAL;
	}
	snprintf(why, whylen, "is not valid");
	return -EINVAL;
}
