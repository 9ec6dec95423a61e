/* Encoding and transport of monitor messages; bounds-checked both ways. */
#include "monproto.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void mon_buf_init(struct mon_buf *b, uint8_t type)
{
	b->len = 0;
	b->pos = 0;
	b->data[b->len++] = type;
}

static int put(struct mon_buf *b, const void *p, size_t n)
{
	if (n > MON_MSG_MAX - b->len)
		return -EMSGSIZE;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int mon_put_u8(struct mon_buf *b, uint8_t v)
{
	return put(b, &v, 1);
}

int mon_put_u64(struct mon_buf *b, uint64_t v)
{
	uint8_t be[8];

	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(v >> (56 - 8 * i));
	return put(b, be, 8);
}

int mon_put_str(struct mon_buf *b, const char *s, size_t len)
{
	uint8_t be[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			  (uint8_t)len };
	uint8_t nul = 0;

	if (len > MON_MSG_MAX || 5 + len > MON_MSG_MAX - b->len)
		return -EMSGSIZE;
	put(b, be, 4);
	put(b, s, len);
	return put(b, &nul, 1);
}

int mon_put_cstr(struct mon_buf *b, const char *s)
{
	return mon_put_str(b, s ? s : "", s ? strlen(s) : 0);
}

int mon_get_u8(struct mon_buf *b, uint8_t *v)
{
	if (b->len - b->pos < 1)
		return -EBADMSG;
	*v = b->data[b->pos++];
	return 0;
}

int mon_get_u64(struct mon_buf *b, uint64_t *v)
{
	uint64_t r = 0;

	if (b->len - b->pos < 8)
		return -EBADMSG;
	for (int i = 0; i < 8; i++)
		r = (r << 8) | b->data[b->pos + (size_t)i];
	b->pos += 8;
	*v = r;
	return 0;
}

int mon_get_str(struct mon_buf *b, const char **s, size_t *len)
{
	const uint8_t *p = b->data + b->pos;
	size_t n;

	if (b->len - b->pos < 4)
		return -EBADMSG;
	n = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
	if (n + 1 > b->len - b->pos - 4)
		return -EBADMSG;
	if (p[4 + n] != 0 || memchr(p + 4, 0, n))
		return -EBADMSG;
	*s = (const char *)p + 4;
	if (len)
		*len = n;
	b->pos += 4 + n + 1;
	return 0;
}

int mon_get_end(const struct mon_buf *b)
{
	return b->pos == b->len ? 0 : -EBADMSG;
}

int mon_send(int sock, const struct mon_buf *b, int passfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)b->data, .iov_len = b->len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (passfd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &passfd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == b->len ? 0 : -EIO;
}

int mon_recv(int sock, struct mon_buf *b, int *passfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = b->data, .iov_len = sizeof(b->data) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (passfd)
		*passfd = -1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int))) {
			int fd;

			memcpy(&fd, CMSG_DATA(c), sizeof(int));
			if (passfd && *passfd < 0)
				*passfd = fd;
			else
				close(fd); /* not asked for: never keep a stray fd */
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		return -EMSGSIZE;
	b->len = (size_t)n;
	b->pos = 1;
	return 0;
}

void mon_buf_wipe(struct mon_buf *b)
{
	explicit_bzero(b->data, sizeof(b->data));
	b->len = 0;
	b->pos = 0;
}
