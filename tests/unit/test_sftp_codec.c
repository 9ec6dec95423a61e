/* Unit tests of the SFTP v3 codec: every request type decodes to the right
 * fields, every truncation of a good request is refused without reading out
 * of bounds (each prefix lives in its own exact-size heap block, so ASan sees
 * any over-read), framing refuses oversized lengths early, and the encoders
 * produce frames a client can parse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sftp_codec.h"
#include "sftp_pkt.h"

/* ---- a tiny request builder (client side; the basics in sftp_pkt.h) ---- */

static void p_head(struct pkt *p, uint8_t type, uint32_t id)
{
	p->n = 0;
	p_u8(p, type);
	p_u32(p, id);
}

static void p_full_attrs(struct pkt *p)
{
	p_u32(p, SRV_ATTR_SIZE | SRV_ATTR_UIDGID | SRV_ATTR_PERMISSIONS |
			 SRV_ATTR_ACMODTIME | SRV_ATTR_EXTENDED);
	p_u64(p, 0x123456789abcdefULL);
	p_u32(p, 1000);
	p_u32(p, 1001);
	p_u32(p, 0100644);
	p_u32(p, 1700000000);
	p_u32(p, 1700000001);
	p_u32(p, 2);
	p_str(p, "a@x");
	p_str(p, "1");
	p_str(p, "b@x");
	p_str(p, "");
}

static bool str_is(const struct srv_sftp_str *s, const char *want)
{
	return s->len == strlen(want) && memcmp(s->p, want, s->len) == 0;
}

/* Decode from a heap copy of exactly len bytes, so over-reads trap. */
static int decode_copy(const uint8_t *b, size_t len, struct srv_sftp_req *q)
{
	uint8_t *c = malloc(len ? len : 1);
	int r;

	assert_non_null(c);
	memcpy(c, b, len);
	r = srv_sftp_decode(c, len, q);
	free(c);
	return r;
}

/* ---- good requests of every type ---- */

static void test_decode_init_reads_version(void **state)
{
	struct pkt p = { .n = 0 };
	struct srv_sftp_req q;

	(void)state;
	p_u8(&p, SRV_FXP_INIT);
	p_u32(&p, 3);
	p_str(&p, "ext@x"); /* extension pairs after the version are ignored */
	p_str(&p, "1");
	assert_int_equal(srv_sftp_decode(p.b, p.n, &q), 0);
	assert_int_equal(q.type, SRV_FXP_INIT);
	assert_int_equal(q.version, 3);
}

static void test_decode_open_with_all_attrs(void **state)
{
	struct pkt p;
	struct srv_sftp_req q;

	(void)state;
	p_head(&p, SRV_FXP_OPEN, 7);
	p_str(&p, "/dir/file name é.txt");
	p_u32(&p, SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC);
	p_full_attrs(&p);
	assert_int_equal(srv_sftp_decode(p.b, p.n, &q), 0);
	assert_int_equal(q.type, SRV_FXP_OPEN);
	assert_int_equal(q.id, 7);
	assert_true(str_is(&q.path, "/dir/file name é.txt"));
	assert_int_equal(q.pflags, SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC);
	assert_true(q.attrs.size == 0x123456789abcdefULL);
	assert_int_equal(q.attrs.uid, 1000);
	assert_int_equal(q.attrs.gid, 1001);
	assert_int_equal(q.attrs.perm, 0100644);
	assert_int_equal(q.attrs.atime, 1700000000);
	assert_int_equal(q.attrs.mtime, 1700000001);
	assert_int_equal(q.attrs.ext_count, 2);
}

static void test_decode_read_write_64bit_offsets(void **state)
{
	struct pkt p;
	struct srv_sftp_req q;
	uint8_t data[300];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i; /* includes NUL bytes: never truncated */
	p_head(&p, SRV_FXP_WRITE, 9);
	p_str(&p, "0123456789abcdef");
	p_u64(&p, 0x100000000ULL + 5);
	p_strn(&p, data, sizeof(data));
	assert_int_equal(srv_sftp_decode(p.b, p.n, &q), 0);
	assert_true(str_is(&q.handle, "0123456789abcdef"));
	assert_true(q.offset == 0x100000005ULL);
	assert_int_equal(q.data.len, sizeof(data));
	assert_memory_equal(q.data.p, data, sizeof(data));

	p_head(&p, SRV_FXP_READ, 10);
	p_str(&p, "h");
	p_u64(&p, UINT64_MAX);
	p_u32(&p, 32768);
	assert_int_equal(srv_sftp_decode(p.b, p.n, &q), 0);
	assert_true(q.offset == UINT64_MAX);
	assert_int_equal(q.len, 32768);
}

static void test_decode_path_and_handle_requests(void **state)
{
	static const uint8_t path_types[] = { SRV_FXP_LSTAT, SRV_FXP_STAT,
					      SRV_FXP_OPENDIR, SRV_FXP_REMOVE,
					      SRV_FXP_RMDIR, SRV_FXP_REALPATH,
					      SRV_FXP_READLINK };
	static const uint8_t handle_types[] = { SRV_FXP_CLOSE, SRV_FXP_FSTAT,
						SRV_FXP_READDIR };
	struct pkt p;
	struct srv_sftp_req q;

	(void)state;
	for (size_t i = 0; i < sizeof(path_types); i++) {
		p_head(&p, path_types[i], (uint32_t)i + 100);
		p_str(&p, "a/b/c");
		assert_int_equal(srv_sftp_decode(p.b, p.n, &q), 0);
		assert_int_equal(q.type, path_types[i]);
		assert_int_equal(q.id, i + 100);
		assert_true(str_is(&q.path, "a/b/c"));
	}
	for (size_t i = 0; i < sizeof(handle_types); i++) {
		p_head(&p, handle_types[i], 5);
		p_str(&p, "HANDLE");
		assert_int_equal(srv_sftp_decode(p.b, p.n, &q), 0);
		assert_true(str_is(&q.handle, "HANDLE"));
	}
}

static void test_decode_setstat_mkdir_fsetstat(void **state)
{
	struct pkt p;
	struct srv_sftp_req q;

	(void)state;
	p_head(&p, SRV_FXP_SETSTAT, 1);
	p_str(&p, "f");
	p_u32(&p, SRV_ATTR_ACMODTIME);
	p_u32(&p, 11);
	p_u32(&p, 22);
	assert_int_equal(srv_sftp_decode(p.b, p.n, &q), 0);
	assert_int_equal(q.attrs.flags, SRV_ATTR_ACMODTIME);
	assert_int_equal(q.attrs.atime, 11);
	assert_int_equal(q.attrs.mtime, 22);

	p_head(&p, SRV_FXP_MKDIR, 2);
	p_str(&p, "d");
	p_u32(&p, SRV_ATTR_PERMISSIONS);
	p_u32(&p, 0755);
	assert_int_equal(srv_sftp_decode(p.b, p.n, &q), 0);
	assert_true(str_is(&q.path, "d"));
	assert_int_equal(q.attrs.perm, 0755);

	p_head(&p, SRV_FXP_FSETSTAT, 3);
	p_str(&p, "h");
	p_u32(&p, SRV_ATTR_SIZE);
	p_u64(&p, 42);
	assert_int_equal(srv_sftp_decode(p.b, p.n, &q), 0);
	assert_true(str_is(&q.handle, "h"));
	assert_true(q.attrs.size == 42);
}

static void test_decode_rename_symlink_two_paths(void **state)
{
	struct pkt p;
	struct srv_sftp_req q;

	(void)state;
	p_head(&p, SRV_FXP_RENAME, 4);
	p_str(&p, "old");
	p_str(&p, "new");
	assert_int_equal(srv_sftp_decode(p.b, p.n, &q), 0);
	assert_true(str_is(&q.path, "old"));
	assert_true(str_is(&q.path2, "new"));
	p_head(&p, SRV_FXP_SYMLINK, 5);
	p_str(&p, "target");
	p_str(&p, "link");
	assert_int_equal(srv_sftp_decode(p.b, p.n, &q), 0);
	assert_true(str_is(&q.path, "target"));
	assert_true(str_is(&q.path2, "link"));
}

static void test_decode_extended_name_and_args(void **state)
{
	struct pkt p;
	struct srv_sftp_req q;
	struct srv_sftp_str args[2];

	(void)state;
	p_head(&p, SRV_FXP_EXTENDED, 6);
	p_str(&p, "posix-rename@openssh.com");
	p_str(&p, "a");
	p_str(&p, "b");
	assert_int_equal(srv_sftp_decode(p.b, p.n, &q), 0);
	assert_true(str_is(&q.ext_name, "posix-rename@openssh.com"));
	assert_int_equal(q.data.len, 10);
	assert_int_equal(srv_sftp_decode_strings(&q.data, 2, args), 0);
	assert_true(str_is(&args[0], "a"));
	assert_true(str_is(&args[1], "b"));
	/* Asking for more strings than there are is an error. */
	assert_int_equal(srv_sftp_decode_strings(&q.data, 3, args), -EBADMSG);
	/* Zero strings always decode (limits@openssh.com). */
	assert_int_equal(srv_sftp_decode_strings(&q.data, 0, args), 0);
}

static void test_decode_unknown_type_is_generic(void **state)
{
	struct pkt p;
	struct srv_sftp_req q;

	(void)state;
	p_head(&p, 99, 0xdeadbeef);
	p_str(&p, "whatever follows");
	assert_int_equal(srv_sftp_decode(p.b, p.n, &q), 0);
	assert_int_equal(q.type, 99);
	assert_int_equal(q.id, 0xdeadbeef);
	/* Server-to-client types from a client are "unknown" too. */
	p_head(&p, SRV_FXP_STATUS, 1);
	assert_int_equal(srv_sftp_decode(p.b, p.n, &q), 0);
	assert_int_equal(q.type, SRV_FXP_STATUS);
}

/* ---- truncation at every length ---- */

struct good {
	struct pkt p;
	size_t min_ok; /* shortest prefix that is still a valid request */
};

static size_t build_goods(struct good *g)
{
	size_t n = 0;

	p_head(&g[n].p, SRV_FXP_OPEN, 1);
	p_str(&g[n].p, "file");
	p_u32(&g[n].p, SRV_FXF_WRITE);
	p_full_attrs(&g[n].p);
	g[n].min_ok = g[n].p.n;
	n++;
	p_head(&g[n].p, SRV_FXP_WRITE, 2);
	p_str(&g[n].p, "0123456789abcdef");
	p_u64(&g[n].p, 7);
	p_str(&g[n].p, "payload");
	g[n].min_ok = g[n].p.n;
	n++;
	p_head(&g[n].p, SRV_FXP_READ, 3);
	p_str(&g[n].p, "0123456789abcdef");
	p_u64(&g[n].p, 7);
	p_u32(&g[n].p, 100);
	g[n].min_ok = g[n].p.n;
	n++;
	p_head(&g[n].p, SRV_FXP_RENAME, 4);
	p_str(&g[n].p, "a");
	p_str(&g[n].p, "b");
	g[n].min_ok = g[n].p.n;
	n++;
	p_head(&g[n].p, SRV_FXP_FSETSTAT, 5);
	p_str(&g[n].p, "h");
	p_full_attrs(&g[n].p);
	g[n].min_ok = g[n].p.n;
	n++;
	p_head(&g[n].p, SRV_FXP_STAT, 6);
	p_str(&g[n].p, "/x");
	g[n].min_ok = g[n].p.n;
	n++;
	p_head(&g[n].p, SRV_FXP_EXTENDED, 7);
	p_str(&g[n].p, "statvfs@openssh.com");
	g[n].min_ok = g[n].p.n; /* the rest is a raw remainder */
	p_str(&g[n].p, "/");
	n++;
	g[n].p.n = 0;
	p_u8(&g[n].p, SRV_FXP_INIT);
	p_u32(&g[n].p, 3);
	g[n].min_ok = g[n].p.n;
	n++;
	p_head(&g[n].p, 77, 8);
	g[n].min_ok = g[n].p.n;
	n++;
	return n;
}

static void test_decode_every_truncation_refused(void **state)
{
	static struct good goods[16];
	size_t n = build_goods(goods);
	struct srv_sftp_req q;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const struct pkt *p = &goods[i].p;

		for (size_t len = 0; len <= p->n; len++) {
			int r = decode_copy(p->b, len, &q);

			if (len < goods[i].min_ok && r != -EBADMSG)
				fail_msg("packet %zu (type %u) prefix %zu/%zu: "
					 "expected -EBADMSG, got %d",
					 i, p->b[0], len, p->n, r);
			if (len >= goods[i].min_ok && r != 0)
				fail_msg("packet %zu prefix %zu: expected 0, got %d",
					 i, len, r);
		}
	}
}

static void test_peek_recovers_id_of_truncated_request(void **state)
{
	struct pkt p;
	uint8_t type;
	uint32_t id;

	(void)state;
	p_head(&p, SRV_FXP_OPEN, 4242);
	p_u32(&p, 100); /* string length longer than what follows */
	assert_int_equal(srv_sftp_decode(p.b, p.n, &(struct srv_sftp_req){ 0 }),
			 -EBADMSG);
	assert_int_equal(srv_sftp_peek(p.b, p.n, &type, &id), 0);
	assert_int_equal(type, SRV_FXP_OPEN);
	assert_int_equal(id, 4242);
	assert_int_equal(srv_sftp_peek(p.b, 4, &type, &id), -EBADMSG);
	assert_int_equal(srv_sftp_peek(NULL, 0, &type, &id), -EBADMSG);
}

/* ---- attrs bounds ---- */

static void test_attrs_huge_extended_count_refused(void **state)
{
	struct pkt p;
	struct srv_sftp_req q;

	(void)state;
	p_head(&p, SRV_FXP_SETSTAT, 1);
	p_str(&p, "f");
	p_u32(&p, SRV_ATTR_EXTENDED);
	p_u32(&p, 0xffffffffu);
	assert_int_equal(decode_copy(p.b, p.n, &q), -EBADMSG);

	/* Exactly the cap, with real pairs: fine. */
	p_head(&p, SRV_FXP_SETSTAT, 1);
	p_str(&p, "f");
	p_u32(&p, SRV_ATTR_EXTENDED);
	p_u32(&p, SRV_SFTP_ATTR_EXT_MAX);
	for (int i = 0; i < SRV_SFTP_ATTR_EXT_MAX; i++) {
		p_str(&p, "t");
		p_str(&p, "d");
	}
	assert_int_equal(decode_copy(p.b, p.n, &q), 0);
	assert_int_equal(q.attrs.ext_count, SRV_SFTP_ATTR_EXT_MAX);

	/* One above the cap, even with the bytes present: refused. */
	p_head(&p, SRV_FXP_SETSTAT, 1);
	p_str(&p, "f");
	p_u32(&p, SRV_ATTR_EXTENDED);
	p_u32(&p, SRV_SFTP_ATTR_EXT_MAX + 1);
	for (int i = 0; i <= SRV_SFTP_ATTR_EXT_MAX; i++) {
		p_str(&p, "t");
		p_str(&p, "d");
	}
	assert_int_equal(decode_copy(p.b, p.n, &q), -EBADMSG);

	/* Count says 2, one pair present. */
	p_head(&p, SRV_FXP_SETSTAT, 1);
	p_str(&p, "f");
	p_u32(&p, SRV_ATTR_EXTENDED);
	p_u32(&p, 2);
	p_str(&p, "t");
	p_str(&p, "d");
	assert_int_equal(decode_copy(p.b, p.n, &q), -EBADMSG);
}

static void test_string_length_beyond_packet_refused(void **state)
{
	struct pkt p;
	struct srv_sftp_req q;

	(void)state;
	p_head(&p, SRV_FXP_STAT, 1);
	p_u32(&p, 0xfffffff0u);
	p_u8(&p, 'x');
	assert_int_equal(decode_copy(p.b, p.n, &q), -EBADMSG);
}

/* ---- framing ---- */

static void test_frame_needs_more_complete_and_too_large(void **state)
{
	uint8_t b[16] = { 0, 0, 0, 5, SRV_FXP_INIT, 0, 0, 0, 3, 0xaa };
	size_t flen = 0;

	(void)state;
	for (size_t len = 0; len < 9; len++)
		assert_int_equal(srv_sftp_frame(b, len, 34000, &flen), 0);
	assert_int_equal(srv_sftp_frame(b, 9, 34000, &flen), 1);
	assert_int_equal(flen, 9);
	assert_int_equal(srv_sftp_frame(b, 10, 34000, &flen), 1);
	assert_int_equal(flen, 9);

	/* Too large is known from the 4 length bytes alone. */
	b[0] = 0;
	b[1] = 0;
	b[2] = 0x84;
	b[3] = 0xd1; /* 34001 */
	assert_int_equal(srv_sftp_frame(b, 4, 34000, &flen), -EMSGSIZE);
	assert_int_equal(srv_sftp_frame(b, 4, 34001, &flen), 0);
	memset(b, 0xff, 4);
	assert_int_equal(srv_sftp_frame(b, 4, 34000, &flen), -EMSGSIZE);
	memset(b, 0, 4);
	assert_int_equal(srv_sftp_frame(b, 4, 34000, &flen), -EBADMSG);
}

/* ---- encoders ---- */

static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_encode_status_frame(void **state)
{
	struct srv_sftp_buf b;
	static const uint8_t want[] = { 0, 0, 0, 24, SRV_FXP_STATUS, 0, 0, 0, 9,
					0, 0, 0, 2, 0, 0, 0, 7, 'n', 'o', ' ',
					'f', 'i', 'l', 'e', 0, 0, 0, 0 };

	(void)state;
	assert_int_equal(srv_sftp_buf_init(&b, 8, 1024), 0);
	assert_int_equal(srv_sftp_put_status(&b, 9, SRV_FX_NO_SUCH_FILE, "no file"), 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.p, want, sizeof(want));
	srv_sftp_buf_free(&b);
	srv_sftp_buf_free(&b); /* idempotent */
	srv_sftp_buf_free(NULL);
}

static void test_encode_fixed_buffer_overflow_leaves_nothing(void **state)
{
	uint8_t mem[24]; /* a 17-byte HANDLE, then room for a 21-byte STATUS */
	struct srv_sftp_buf b;

	(void)state;
	srv_sftp_buf_fixed(&b, mem, sizeof(mem));
	assert_int_equal(srv_sftp_put_handle(&b, 1, "0123", 4), 0);
	assert_int_equal(b.len, 17);
	assert_int_equal(srv_sftp_put_status(&b, 2, 0, "x"), -ENOSPC);
	assert_int_equal(b.len, 17);
	/* The sticky error was cleared with the partial frame. */
	srv_sftp_buf_consume(&b, 17);
	assert_int_equal(srv_sftp_put_status(&b, 2, 0, ""), 0);
	assert_int_equal(g32(b.p), b.len - 4);
}

static void test_encode_growable_respects_max(void **state)
{
	struct srv_sftp_buf b;
	uint8_t big[5000];

	(void)state;
	memset(big, 'z', sizeof(big));
	assert_int_equal(srv_sftp_buf_init(&b, 16, 4096), 0);
	assert_int_equal(srv_sftp_put_data(&b, 1, big, sizeof(big)), -ENOSPC);
	assert_int_equal(b.len, 0);
	assert_int_equal(srv_sftp_put_data(&b, 1, big, 4000), 0);
	assert_int_equal(g32(b.p), 4009);
	assert_int_equal(g32(b.p + 9), 4000);
	srv_sftp_buf_free(&b);
}

static void test_encode_version_lists_extensions(void **state)
{
	static const struct srv_sftp_ext ext[] = { { "a@x", "1" },
						   { "limits@openssh.com", "1" } };
	struct srv_sftp_buf b;

	(void)state;
	assert_int_equal(srv_sftp_buf_init(&b, 64, 1024), 0);
	assert_int_equal(srv_sftp_put_version(&b, 3, ext, 2), 0);
	assert_int_equal(g32(b.p), b.len - 4);
	assert_int_equal(b.p[4], SRV_FXP_VERSION);
	assert_int_equal(g32(b.p + 5), 3);
	assert_int_equal(g32(b.p + 9), 3);
	assert_memory_equal(b.p + 13, "a@x", 3);
	srv_sftp_buf_free(&b);
}

static void test_encode_attrs_name_and_ext_reply(void **state)
{
	struct srv_sftp_attrs a = { .flags = SRV_ATTR_SIZE | SRV_ATTR_ACMODTIME |
					    SRV_ATTR_EXTENDED,
				    .size = 0x100000000ULL,
				    .atime = 1,
				    .mtime = 2 };
	struct srv_sftp_buf b;
	struct srv_sftp_names nm;
	size_t mark;
	uint8_t *dst;

	(void)state;
	assert_int_equal(srv_sftp_buf_init(&b, 1, 1 << 20), 0);
	assert_int_equal(srv_sftp_put_attrs(&b, 5, &a), 0);
	/* EXTENDED never goes out: flags without it, 8+4+4 bytes of fields. */
	assert_int_equal(g32(b.p), 1 + 4 + 4 + 8 + 8);
	assert_int_equal(g32(b.p + 9), SRV_ATTR_SIZE | SRV_ATTR_ACMODTIME);
	srv_sftp_buf_consume(&b, b.len);

	srv_sftp_names_begin(&b, 6, &nm);
	assert_int_equal(srv_sftp_names_add(&b, &nm, "f1", 2, "-rw f1", &a), 0);
	assert_int_equal(srv_sftp_names_add(&b, &nm, "f2", 2, "-rw f2", &a), 0);
	assert_int_equal(srv_sftp_names_end(&b, &nm), 0);
	assert_int_equal(b.p[4], SRV_FXP_NAME);
	assert_int_equal(g32(b.p + 9), 2);
	assert_int_equal(g32(b.p), b.len - 4);
	srv_sftp_buf_consume(&b, b.len);

	assert_int_equal(srv_sftp_put_name1(&b, 7, "/a", "/a", &a), 0);
	assert_int_equal(g32(b.p + 9), 1);
	srv_sftp_buf_consume(&b, b.len);

	assert_int_equal(srv_sftp_put_ext_reply(&b, 8, "\0\0\0\1", 4), 0);
	assert_int_equal(b.p[4], SRV_FXP_EXTENDED_REPLY);
	assert_int_equal(g32(b.p), 1 + 4 + 4);
	srv_sftp_buf_consume(&b, b.len);

	assert_int_equal(srv_sftp_data_begin(&b, 9, 1000, &dst, &mark), 0);
	memcpy(dst, "hello", 5);
	assert_int_equal(srv_sftp_data_commit(&b, mark, 5), 0);
	assert_int_equal(b.len, 4 + 9 + 5);
	assert_int_equal(g32(b.p), 14);
	assert_int_equal(g32(b.p + 9), 5);
	assert_memory_equal(b.p + 13, "hello", 5);
	srv_sftp_buf_free(&b);
}

static void test_encode_names_add_that_does_not_fit_is_undone(void **state)
{
	uint8_t mem[64];
	struct srv_sftp_buf b;
	struct srv_sftp_names nm;
	struct srv_sftp_attrs a = { 0 };
	size_t before;

	(void)state;
	srv_sftp_buf_fixed(&b, mem, sizeof(mem));
	srv_sftp_names_begin(&b, 1, &nm);
	assert_int_equal(srv_sftp_names_add(&b, &nm, "a", 1, "a", &a), 0);
	before = b.len;
	assert_int_equal(srv_sftp_names_add(&b, &nm,
					    "a-name-much-too-long-for-this-buffer", 36,
					    "x", &a),
			 -ENOSPC);
	assert_int_equal(b.len, before);
	assert_int_equal(srv_sftp_names_end(&b, &nm), 0);
	assert_int_equal(g32(b.p + 9), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_init_reads_version),
		cmocka_unit_test(test_decode_open_with_all_attrs),
		cmocka_unit_test(test_decode_read_write_64bit_offsets),
		cmocka_unit_test(test_decode_path_and_handle_requests),
		cmocka_unit_test(test_decode_setstat_mkdir_fsetstat),
		cmocka_unit_test(test_decode_rename_symlink_two_paths),
		cmocka_unit_test(test_decode_extended_name_and_args),
		cmocka_unit_test(test_decode_unknown_type_is_generic),
		cmocka_unit_test(test_decode_every_truncation_refused),
		cmocka_unit_test(test_peek_recovers_id_of_truncated_request),
		cmocka_unit_test(test_attrs_huge_extended_count_refused),
		cmocka_unit_test(test_string_length_beyond_packet_refused),
		cmocka_unit_test(test_frame_needs_more_complete_and_too_large),
		cmocka_unit_test(test_encode_status_frame),
		cmocka_unit_test(test_encode_fixed_buffer_overflow_leaves_nothing),
		cmocka_unit_test(test_encode_growable_respects_max),
		cmocka_unit_test(test_encode_version_lists_extensions),
		cmocka_unit_test(test_encode_attrs_name_and_ext_reply),
		cmocka_unit_test(test_encode_names_add_that_does_not_fit_is_undone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
