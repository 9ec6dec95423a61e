/* Source address ranges of batch accounts: "10.0.0.0/8,2001:db8::/32".
 * Pure: the address comes in as the text the daemon logs (IPv4 dotted or
 * IPv6), ranges as the text stored for the account. */
#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One range: family, network bytes and prefix length. */
struct cidr {
	int family;
	uint8_t addr[16];
	unsigned bits;
};

/* Parse an address (without prefix) of either family. */
static int parse_addr(const char *s, size_t len, int *family, uint8_t out[16])
{
	char buf[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(out, 0, 16);
	if (inet_pton(AF_INET, buf, out) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/* "ADDR/BITS" or a bare address (all bits) in s[0..len). Host bits must be 0. */
static int parse_cidr(const char *s, size_t len, struct cidr *c)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	unsigned max, bits = 0;
	int r = parse_addr(s, alen, &c->family, c->addr);

	if (r < 0)
		return r;
	max = c->family == AF_INET ? 32 : 128;
	if (!slash) {
		bits = max;
	} else {
		const char *p = slash + 1, *end = s + len;

		if (p == end || end - p > 3)
			return -EINVAL;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			bits = bits * 10 + (unsigned)(*p - '0');
		}
		if (slash[1] == '0' && len - alen > 2)
			return -EINVAL; /* no leading zeros: "/08" */
		if (bits > max)
			return -EINVAL;
	}
	c->bits = bits;
	/* 10.1.2.3/8 is most likely a typo for something: refuse it. */
	for (unsigned i = bits; i < max; i++)
		if (c->addr[i / 8] & (0x80u >> (i % 8)))
			return -EINVAL;
	return 0;
}

static bool in_cidr(const struct cidr *c, int family, const uint8_t a[16])
{
	unsigned full = c->bits / 8, rest = c->bits % 8;

	if (family != c->family)
		return false;
	if (memcmp(a, c->addr, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xffu << (8 - rest));

		if ((a[full] & mask) != (c->addr[full] & mask))
			return false;
	}
	return true;
}

/* Call fn for each range of list; stops at the first negative or positive
 * return. Empty items are invalid. */
static int each_cidr(const char *list, int (*fn)(const struct cidr *c, void *ud), void *ud)
{
	const char *p = list;
	unsigned n = 0;

	if (!list || !*list)
		return -EINVAL;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		struct cidr c;
		int r;

		if (++n > POLICY_CIDR_LIST_MAX || parse_cidr(p, len, &c) < 0)
			return -EINVAL;
		r = fn(&c, ud);
		if (r != 0)
			return r;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int accept_any(const struct cidr *c, void *ud)
{
	(void)c;
	(void)ud;
	return 0;
}

int policy_cidr_list_check(const char *list)
{
	if (list && strlen(list) > POLICY_CIDR_TEXT_MAX)
		return -EINVAL;
	return each_cidr(list, accept_any, NULL);
}

struct match {
	int family;
	uint8_t addr[16];
};

static int match_one(const struct cidr *c, void *ud)
{
	const struct match *m = ud;

	return in_cidr(c, m->family, m->addr) ? 1 : 0;
}

int policy_cidr_list_match(const char *list, const char *addr)
{
	struct match m;

	if (!addr || parse_addr(addr, strlen(addr), &m.family, m.addr) < 0)
		return -EINVAL;
	if (policy_cidr_list_check(list) < 0)
		return -EINVAL;
	return each_cidr(list, match_one, &m);
}
