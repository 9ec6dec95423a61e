/* Client-side SFTP packet building for the unit tests of the codec and the
 * server engine: big-endian integers and length-prefixed strings appended to
 * a fixed buffer (the tests size what they build). */
#ifndef SFTPDROP_TEST_SFTP_PKT_H
#define SFTPDROP_TEST_SFTP_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pkt {
	uint8_t b[64 * 1024];
	size_t n;
};

static inline void p_u8(struct pkt *p, uint8_t v)
{
	p->b[p->n++] = v;
}

static inline void p_u32(struct pkt *p, uint32_t v)
{
	p_u8(p, (uint8_t)(v >> 24));
	p_u8(p, (uint8_t)(v >> 16));
	p_u8(p, (uint8_t)(v >> 8));
	p_u8(p, (uint8_t)v);
}

static inline void p_u64(struct pkt *p, uint64_t v)
{
	p_u32(p, (uint32_t)(v >> 32));
	p_u32(p, (uint32_t)v);
}

static inline void p_strn(struct pkt *p, const void *s, size_t n)
{
	p_u32(p, (uint32_t)n);
	memcpy(p->b + p->n, s, n);
	p->n += n;
}

static inline void p_str(struct pkt *p, const char *s)
{
	p_strn(p, s, strlen(s));
}

#endif
