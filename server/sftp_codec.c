/* SFTP v3 codec: a bounds-checked reader over one request payload and a
 * writer that appends whole reply frames to a buffer. Nothing here trusts a
 * length field before checking it against the bytes that are really there. */
#include "sftp_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading ---------------------------------------------------------- */

struct rd {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	       (uint32_t)p[3];
}

static int rd_u8(struct rd *r, uint8_t *v)
{
	if (r->len - r->pos < 1)
		return -EBADMSG;
	*v = r->p[r->pos++];
	return 0;
}

static int rd_u32(struct rd *r, uint32_t *v)
{
	if (r->len - r->pos < 4)
		return -EBADMSG;
	*v = be32(r->p + r->pos);
	r->pos += 4;
	return 0;
}

static int rd_u64(struct rd *r, uint64_t *v)
{
	uint32_t hi, lo;

	if (r->len - r->pos < 8)
		return -EBADMSG;
	hi = be32(r->p + r->pos);
	lo = be32(r->p + r->pos + 4);
	r->pos += 8;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

static int rd_str(struct rd *r, struct srv_sftp_str *s)
{
	uint32_t n;

	if (rd_u32(r, &n) < 0 || r->len - r->pos < n)
		return -EBADMSG;
	s->p = r->p + r->pos;
	s->len = n;
	r->pos += n;
	return 0;
}

static int rd_attrs(struct rd *r, struct srv_sftp_attrs *a)
{
	memset(a, 0, sizeof(*a));
	if (rd_u32(r, &a->flags) < 0)
		return -EBADMSG;
	if ((a->flags & SRV_ATTR_SIZE) && rd_u64(r, &a->size) < 0)
		return -EBADMSG;
	if ((a->flags & SRV_ATTR_UIDGID) &&
	    (rd_u32(r, &a->uid) < 0 || rd_u32(r, &a->gid) < 0))
		return -EBADMSG;
	if ((a->flags & SRV_ATTR_PERMISSIONS) && rd_u32(r, &a->perm) < 0)
		return -EBADMSG;
	if ((a->flags & SRV_ATTR_ACMODTIME) &&
	    (rd_u32(r, &a->atime) < 0 || rd_u32(r, &a->mtime) < 0))
		return -EBADMSG;
	if (a->flags & SRV_ATTR_EXTENDED) {
		uint32_t n;

		if (rd_u32(r, &n) < 0 || n > SRV_SFTP_ATTR_EXT_MAX)
			return -EBADMSG;
		for (uint32_t i = 0; i < n; i++) {
			struct srv_sftp_str type, data;

			if (rd_str(r, &type) < 0 || rd_str(r, &data) < 0)
				return -EBADMSG;
		}
		a->ext_count = n;
	}
	return 0;
}

int srv_sftp_frame(const uint8_t *buf, size_t len, uint32_t max_packet,
		   size_t *frame_len)
{
	uint32_t n;

	if (len < SRV_SFTP_FRAME_HDR)
		return 0;
	n = be32(buf);
	/* Checked before waiting for the body: a client must not make us
	 * buffer a frame we are going to refuse anyway. */
	if (n > max_packet)
		return -EMSGSIZE;
	if (n == 0)
		return -EBADMSG;
	if (len - SRV_SFTP_FRAME_HDR < n)
		return 0;
	*frame_len = (size_t)n + SRV_SFTP_FRAME_HDR;
	return 1;
}

int srv_sftp_peek(const uint8_t *buf, size_t len, uint8_t *type, uint32_t *id)
{
	if (!buf || len < 5 || buf[0] == SRV_FXP_INIT)
		return -EBADMSG;
	*type = buf[0];
	*id = be32(buf + 1);
	return 0;
}

/* Field layout per request type; one switch so that a reviewer can compare
 * it line by line with the draft. */
static int decode_body(struct rd *r, struct srv_sftp_req *q)
{
	switch (q->type) {
	case SRV_FXP_OPEN:
		if (rd_str(r, &q->path) < 0 || rd_u32(r, &q->pflags) < 0)
			return -EBADMSG;
		return rd_attrs(r, &q->attrs);
	case SRV_FXP_CLOSE:
	case SRV_FXP_FSTAT:
	case SRV_FXP_READDIR:
		return rd_str(r, &q->handle);
	case SRV_FXP_READ:
		if (rd_str(r, &q->handle) < 0 || rd_u64(r, &q->offset) < 0)
			return -EBADMSG;
		return rd_u32(r, &q->len);
	case SRV_FXP_WRITE:
		if (rd_str(r, &q->handle) < 0 || rd_u64(r, &q->offset) < 0)
			return -EBADMSG;
		return rd_str(r, &q->data);
	case SRV_FXP_LSTAT:
	case SRV_FXP_STAT:
	case SRV_FXP_OPENDIR:
	case SRV_FXP_REMOVE:
	case SRV_FXP_RMDIR:
	case SRV_FXP_REALPATH:
	case SRV_FXP_READLINK:
		return rd_str(r, &q->path);
	case SRV_FXP_SETSTAT:
	case SRV_FXP_MKDIR:
		if (rd_str(r, &q->path) < 0)
			return -EBADMSG;
		return rd_attrs(r, &q->attrs);
	case SRV_FXP_FSETSTAT:
		if (rd_str(r, &q->handle) < 0)
			return -EBADMSG;
		return rd_attrs(r, &q->attrs);
	case SRV_FXP_RENAME:
	case SRV_FXP_SYMLINK:
		if (rd_str(r, &q->path) < 0)
			return -EBADMSG;
		return rd_str(r, &q->path2);
	case SRV_FXP_EXTENDED:
		if (rd_str(r, &q->ext_name) < 0)
			return -EBADMSG;
		q->data.p = r->p + r->pos;
		q->data.len = (uint32_t)(r->len - r->pos);
		r->pos = r->len;
		return 0;
	default:
		/* Unknown (or server-to-client) type: id only, so that the
		 * engine can answer OP_UNSUPPORTED. */
		return 0;
	}
}

int srv_sftp_decode(const uint8_t *buf, size_t len, struct srv_sftp_req *req)
{
	struct rd r = { .p = buf, .len = len, .pos = 0 };
	struct srv_sftp_req q;

	/* Payloads come from frames, whose length is a uint32. */
	if (!buf || len > UINT32_MAX)
		return -EBADMSG;
	memset(&q, 0, sizeof(q));
	if (rd_u8(&r, &q.type) < 0)
		return -EBADMSG;
	if (q.type == SRV_FXP_INIT) {
		/* INIT carries the version where others have an id; any
		 * extension pairs after it are ignored. */
		if (rd_u32(&r, &q.version) < 0)
			return -EBADMSG;
		*req = q;
		return 0;
	}
	if (rd_u32(&r, &q.id) < 0 || decode_body(&r, &q) < 0)
		return -EBADMSG;
	*req = q;
	return 0;
}

int srv_sftp_decode_strings(const struct srv_sftp_str *data, size_t n,
			    struct srv_sftp_str *out)
{
	struct rd r;
	struct srv_sftp_str tmp[4];

	if (!data || n > sizeof(tmp) / sizeof(tmp[0]) || (n > 0 && !data->p))
		return -EBADMSG;
	r = (struct rd){ .p = data->p, .len = data->len, .pos = 0 };
	for (size_t i = 0; i < n; i++)
		if (rd_str(&r, &tmp[i]) < 0)
			return -EBADMSG;
	memcpy(out, tmp, n * sizeof(tmp[0]));
	return 0;
}

/* ---- writing ---------------------------------------------------------- */

int srv_sftp_buf_init(struct srv_sftp_buf *b, size_t initial, size_t max)
{
	memset(b, 0, sizeof(*b));
	if (initial > max)
		initial = max;
	if (initial == 0)
		initial = 1;
	b->p = malloc(initial);
	if (!b->p)
		return -ENOMEM;
	b->cap = initial;
	b->max = max;
	b->owned = true;
	return 0;
}

void srv_sftp_buf_fixed(struct srv_sftp_buf *b, void *mem, size_t size)
{
	memset(b, 0, sizeof(*b));
	b->p = mem;
	b->cap = size;
	b->max = size;
}

void srv_sftp_buf_free(struct srv_sftp_buf *b)
{
	if (!b)
		return;
	if (b->owned)
		free(b->p);
	memset(b, 0, sizeof(*b));
}

void srv_sftp_buf_consume(struct srv_sftp_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

/* Make room for n more bytes; sets the sticky error instead of returning it
 * so that a frame can be built without checking every field. */
static uint8_t *reserve(struct srv_sftp_buf *b, size_t n)
{
	size_t need, ncap;
	uint8_t *np;

	if (b->err)
		return NULL;
	if (n > b->max || b->len > b->max - n) {
		b->err = -ENOSPC;
		return NULL;
	}
	need = b->len + n;
	if (need > b->cap) {
		if (!b->owned) {
			b->err = -ENOSPC;
			return NULL;
		}
		ncap = b->cap;
		while (ncap < need)
			ncap = ncap > b->max / 2 ? b->max : ncap * 2;
		np = realloc(b->p, ncap);
		if (!np) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->p = np;
		b->cap = ncap;
	}
	np = b->p + b->len;
	b->len += n;
	return np;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void srv_sftp_add_u32(struct srv_sftp_buf *b, uint32_t v)
{
	uint8_t *p = reserve(b, 4);

	if (p)
		put_be32(p, v);
}

void srv_sftp_add_u64(struct srv_sftp_buf *b, uint64_t v)
{
	uint8_t *p = reserve(b, 8);

	if (p) {
		put_be32(p, (uint32_t)(v >> 32));
		put_be32(p + 4, (uint32_t)v);
	}
}

void srv_sftp_add_string(struct srv_sftp_buf *b, const void *s, size_t len)
{
	uint8_t *p;

	if (len > UINT32_MAX) {
		if (!b->err)
			b->err = -ENOSPC;
		return;
	}
	p = reserve(b, 4 + len);
	if (!p)
		return;
	put_be32(p, (uint32_t)len);
	if (len)
		memcpy(p + 4, s, len);
}

void srv_sftp_add_attrs(struct srv_sftp_buf *b, const struct srv_sftp_attrs *a)
{
	/* We never send extended attributes. */
	uint32_t flags = a->flags & ~SRV_ATTR_EXTENDED;

	srv_sftp_add_u32(b, flags);
	if (flags & SRV_ATTR_SIZE)
		srv_sftp_add_u64(b, a->size);
	if (flags & SRV_ATTR_UIDGID) {
		srv_sftp_add_u32(b, a->uid);
		srv_sftp_add_u32(b, a->gid);
	}
	if (flags & SRV_ATTR_PERMISSIONS)
		srv_sftp_add_u32(b, a->perm);
	if (flags & SRV_ATTR_ACMODTIME) {
		srv_sftp_add_u32(b, a->atime);
		srv_sftp_add_u32(b, a->mtime);
	}
}

uint8_t *srv_sftp_add_space(struct srv_sftp_buf *b, size_t n)
{
	return reserve(b, n);
}

void srv_sftp_begin(struct srv_sftp_buf *b, uint8_t type, bool has_id,
		    uint32_t id, size_t *mark)
{
	uint8_t *p;

	*mark = b->len;
	p = reserve(b, has_id ? 9 : 5);
	if (!p)
		return;
	put_be32(p, 0);
	p[4] = type;
	if (has_id)
		put_be32(p + 5, id);
}

int srv_sftp_end(struct srv_sftp_buf *b, size_t mark)
{
	int r = b->err;
	size_t n;

	if (r == 0 && (mark > b->len || b->len - mark < 5))
		r = -EINVAL;
	if (r == 0) {
		n = b->len - mark - SRV_SFTP_FRAME_HDR;
		if (n > UINT32_MAX)
			r = -ENOSPC;
		else
			put_be32(b->p + mark, (uint32_t)n);
	}
	if (r < 0) {
		if (mark <= b->len)
			b->len = mark;
		b->err = 0;
	}
	return r;
}

void srv_sftp_cancel(struct srv_sftp_buf *b, size_t mark)
{
	if (mark <= b->len)
		b->len = mark;
	b->err = 0;
}

int srv_sftp_put_version(struct srv_sftp_buf *b, uint32_t version,
			 const struct srv_sftp_ext *ext, size_t n_ext)
{
	size_t mark;

	srv_sftp_begin(b, SRV_FXP_VERSION, false, 0, &mark);
	srv_sftp_add_u32(b, version);
	for (size_t i = 0; i < n_ext; i++) {
		srv_sftp_add_string(b, ext[i].name, strlen(ext[i].name));
		srv_sftp_add_string(b, ext[i].data, strlen(ext[i].data));
	}
	return srv_sftp_end(b, mark);
}

int srv_sftp_put_status(struct srv_sftp_buf *b, uint32_t id, uint32_t code,
			const char *msg)
{
	size_t mark;

	if (!msg)
		msg = "";
	srv_sftp_begin(b, SRV_FXP_STATUS, true, id, &mark);
	srv_sftp_add_u32(b, code);
	srv_sftp_add_string(b, msg, strlen(msg));
	srv_sftp_add_string(b, "", 0); /* language tag */
	return srv_sftp_end(b, mark);
}

int srv_sftp_put_handle(struct srv_sftp_buf *b, uint32_t id, const void *h,
			size_t len)
{
	size_t mark;

	srv_sftp_begin(b, SRV_FXP_HANDLE, true, id, &mark);
	srv_sftp_add_string(b, h, len);
	return srv_sftp_end(b, mark);
}

int srv_sftp_put_data(struct srv_sftp_buf *b, uint32_t id, const void *data,
		      size_t len)
{
	size_t mark;

	srv_sftp_begin(b, SRV_FXP_DATA, true, id, &mark);
	srv_sftp_add_string(b, data, len);
	return srv_sftp_end(b, mark);
}

int srv_sftp_put_attrs(struct srv_sftp_buf *b, uint32_t id,
		       const struct srv_sftp_attrs *a)
{
	size_t mark;

	srv_sftp_begin(b, SRV_FXP_ATTRS, true, id, &mark);
	srv_sftp_add_attrs(b, a);
	return srv_sftp_end(b, mark);
}

int srv_sftp_put_ext_reply(struct srv_sftp_buf *b, uint32_t id,
			   const void *payload, size_t len)
{
	size_t mark;
	uint8_t *p;

	srv_sftp_begin(b, SRV_FXP_EXTENDED_REPLY, true, id, &mark);
	p = reserve(b, len);
	if (p && len)
		memcpy(p, payload, len);
	return srv_sftp_end(b, mark);
}

int srv_sftp_put_name1(struct srv_sftp_buf *b, uint32_t id, const char *name,
		       const char *longname, const struct srv_sftp_attrs *a)
{
	size_t mark;

	srv_sftp_begin(b, SRV_FXP_NAME, true, id, &mark);
	srv_sftp_add_u32(b, 1);
	srv_sftp_add_string(b, name, strlen(name));
	srv_sftp_add_string(b, longname, strlen(longname));
	srv_sftp_add_attrs(b, a);
	return srv_sftp_end(b, mark);
}

int srv_sftp_data_begin(struct srv_sftp_buf *b, uint32_t id, size_t max,
			uint8_t **dst, size_t *mark)
{
	uint8_t *p;
	int r;

	if (max > UINT32_MAX)
		return -EINVAL;
	srv_sftp_begin(b, SRV_FXP_DATA, true, id, mark);
	p = reserve(b, 4 + max);
	if (!p) {
		r = b->err;
		b->len = *mark;
		b->err = 0;
		return r;
	}
	*dst = p + 4;
	return 0;
}

int srv_sftp_data_commit(struct srv_sftp_buf *b, size_t mark, size_t n)
{
	/* The frame is type(1) id(4) len(4) data: data starts 13 bytes in. */
	size_t data_at = mark + SRV_SFTP_FRAME_HDR + 9;

	if (mark > b->len || b->len - mark < 13 || n > b->len - data_at) {
		b->err = 0;
		if (mark <= b->len)
			b->len = mark;
		return -EINVAL;
	}
	put_be32(b->p + data_at - 4, (uint32_t)n);
	b->len = data_at + n;
	return srv_sftp_end(b, mark);
}

void srv_sftp_names_begin(struct srv_sftp_buf *b, uint32_t id,
			  struct srv_sftp_names *nm)
{
	nm->count = 0;
	srv_sftp_begin(b, SRV_FXP_NAME, true, id, &nm->mark);
	srv_sftp_add_u32(b, 0); /* count, patched by names_end */
}

int srv_sftp_names_add(struct srv_sftp_buf *b, struct srv_sftp_names *nm,
		       const char *name, size_t name_len, const char *longname,
		       const struct srv_sftp_attrs *a)
{
	size_t before = b->len;
	int r;

	if (b->err)
		return b->err;
	srv_sftp_add_string(b, name, name_len);
	srv_sftp_add_string(b, longname, strlen(longname));
	srv_sftp_add_attrs(b, a);
	r = b->err;
	if (r < 0) {
		/* Leave the batch as it was: the caller ends it here. */
		b->len = before;
		b->err = 0;
		return r;
	}
	nm->count++;
	return 0;
}

int srv_sftp_names_end(struct srv_sftp_buf *b, const struct srv_sftp_names *nm)
{
	if (!b->err && nm->mark <= b->len && b->len - nm->mark >= 13)
		put_be32(b->p + nm->mark + 9, nm->count);
	return srv_sftp_end(b, nm->mark);
}
