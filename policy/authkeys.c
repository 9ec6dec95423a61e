/* OpenSSH authorized_keys lines, split into type, base64 and comment. A
 * bounded parser over (buffer, length, position) that never decodes the key:
 * sftpdrop-admin hands the base64 to libssh afterwards. */
#include "policy.h"

#include <string.h>

static const char *const key_types[] = {
	"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
	"ssh-rsa",
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool known_type(const char *p, size_t n)
{
	for (size_t i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (strlen(key_types[i]) == n && memcmp(key_types[i], p, n) == 0)
			return true;
	return false;
}

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Base64 with at most two '=' at the end and a length that is a multiple of 4. */
static bool b64_valid(const char *p, size_t n)
{
	size_t pad = 0;

	if (n == 0 || n % 4 != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '=') {
			pad++;
			continue;
		}
		if (pad || !b64_char(p[i]))
			return false;
	}
	return pad <= 2;
}

/* The next whitespace-separated word from *pos (quotes keep spaces, as in
 * options). false at the end of the line. */
static bool next_word(const char *buf, size_t len, size_t *pos, size_t *off, size_t *n)
{
	size_t i = *pos;
	bool quoted = false;

	while (i < len && is_space(buf[i]))
		i++;
	if (i >= len)
		return false;
	*off = i;
	for (; i < len && (quoted || !is_space(buf[i])); i++) {
		if (buf[i] == '\\' && quoted && i + 1 < len)
			i++;
		else if (buf[i] == '"')
			quoted = !quoted;
	}
	*n = i - *off;
	*pos = i;
	return true;
}

enum policy_authkey_status policy_authkey_parse(const char *buf, size_t len, size_t pos,
						struct policy_authkey *out)
{
	struct policy_authkey k = { 0 };
	size_t off, n, p;

	if (pos > len)
		return POLICY_AUTHKEY_EMPTY;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len - pos > POLICY_AUTHKEY_LINE_MAX)
		return POLICY_AUTHKEY_TOO_LONG;
	for (size_t i = pos; i < len; i++)
		if (buf[i] == '\0' || buf[i] == '\n')
			return POLICY_AUTHKEY_BAD_COMMENT;
	p = pos;
	if (!next_word(buf, len, &p, &off, &n) || buf[off] == '#')
		return POLICY_AUTHKEY_EMPTY;
	if (!known_type(buf + off, n)) {
		/* Options come first; a known type further on says that is what this was. */
		while (next_word(buf, len, &p, &off, &n))
			if (known_type(buf + off, n))
				return POLICY_AUTHKEY_OPTIONS;
		return POLICY_AUTHKEY_BAD_TYPE;
	}
	k.type_off = off;
	k.type_len = n;
	if (!next_word(buf, len, &p, &off, &n))
		return POLICY_AUTHKEY_NO_KEY;
	if (!b64_valid(buf + off, n))
		return POLICY_AUTHKEY_BAD_BASE64;
	k.b64_off = off;
	k.b64_len = n;
	/* The comment is the rest of the line, trimmed. */
	while (p < len && is_space(buf[p]))
		p++;
	while (len > p && is_space(buf[len - 1]))
		len--;
	for (size_t i = p; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			return POLICY_AUTHKEY_BAD_COMMENT;
	if (len - p > POLICY_AUTHKEY_COMMENT_MAX)
		return POLICY_AUTHKEY_TOO_LONG;
	k.comment_off = p;
	k.comment_len = len - p;
	*out = k;
	return POLICY_AUTHKEY_OK;
}

const char *policy_authkey_error(enum policy_authkey_status st)
{
	switch (st) {
	case POLICY_AUTHKEY_OK:
		return "ok";
	case POLICY_AUTHKEY_EMPTY:
		return "no key on this line";
	case POLICY_AUTHKEY_OPTIONS:
		return "options before the key type (from=, command=, ...) are not supported; "
		       "use --from on the account instead";
	case POLICY_AUTHKEY_BAD_TYPE:
		return "unsupported key type (use ssh-ed25519, ecdsa-sha2-nistp256/384/521 or "
		       "ssh-rsa)";
	case POLICY_AUTHKEY_NO_KEY:
		return "no key after the key type";
	case POLICY_AUTHKEY_BAD_BASE64:
		return "the key is not valid base64";
	case POLICY_AUTHKEY_BAD_COMMENT:
		return "control characters in the line";
	case POLICY_AUTHKEY_TOO_LONG:
		return "line or comment too long";
	}
	return "invalid line";
}
