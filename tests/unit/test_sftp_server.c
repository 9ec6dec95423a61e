/* Drives the real SFTP engine (srv_sftp_serve) over a socketpair, with the
 * engine in a thread and a temp directory as the relation root, and checks
 * the drop box behaviour a client and the ingest watcher rely on: staging
 * until CLOSE, confinement beneath the root, refusals with clear statuses.
 * Escape attempts aim at a decoy file beside the root, never at /etc. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "defs.h"
#include "log.h"
#include "sftp.h"
#include "sftp_codec.h"
#include "sftp_jail.h"
#include "sftp_pkt.h"

#define REPLY_MAX (1024 * 1024)

/* ---- client-side packet building (the basics in sftp_pkt.h) ---- */

static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t g64(const uint8_t *p)
{
	return (uint64_t)g32(p) << 32 | g32(p + 4);
}

/* ---- test environment: temp tree, engine thread, socketpair ---- */

struct env {
	char base[PATH_MAX];
	char root[PATH_MAX + 8];
	char outside[PATH_MAX + 8]; /* decoy: must never change */
	int rootfd;
	int sv[2];
	pthread_t th;
	bool running;
	struct srv_sftp_limits lim;
	struct srv_sftp_io io;
	int serve_rc;
	uint32_t next_id;
	/* published() records, under mu */
	pthread_mutex_t mu;
	int pub_count;
	char pub_path[PATH_MAX];
	uint64_t pub_size, pub_dev, pub_ino;
	bool pub_name_existed; /* the final name existed when published() ran */
	int pub_fail;          /* published() returns this */
	int wait_fail;         /* published_wait() returns this */
	int waits;             /* published_wait() calls */
	int unpub_count;
	/* last reply */
	uint8_t *rx;
	size_t rx_len;
	char msg[512];
};

struct handle {
	uint8_t b[256];
	size_t n;
};

static ssize_t io_read(void *ctx, void *buf, size_t len)
{
	struct env *e = ctx;
	ssize_t n;

	do
		n = read(e->sv[1], buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static int io_write(void *ctx, const void *buf, size_t len)
{
	struct env *e = ctx;
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(e->sv[1], p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int io_published(void *ctx, const char *path, uint64_t size,
			uint64_t dev, uint64_t ino)
{
	struct env *e = ctx;
	struct stat st;

	pthread_mutex_lock(&e->mu);
	if (e->pub_fail) {
		pthread_mutex_unlock(&e->mu);
		return e->pub_fail;
	}
	e->pub_name_existed = fstatat(e->rootfd, path, &st, 0) == 0 && st.st_ino == ino;
	e->pub_count++;
	snprintf(e->pub_path, sizeof(e->pub_path), "%s", path);
	e->pub_size = size;
	e->pub_dev = dev;
	e->pub_ino = ino;
	pthread_mutex_unlock(&e->mu);
	return 0;
}

static int io_published_wait(void *ctx)
{
	struct env *e = ctx;
	int r;

	pthread_mutex_lock(&e->mu);
	e->waits++;
	r = e->wait_fail;
	pthread_mutex_unlock(&e->mu);
	return r;
}

static void io_unpublished(void *ctx, uint64_t dev, uint64_t ino)
{
	struct env *e = ctx;

	(void)dev;
	(void)ino;
	pthread_mutex_lock(&e->mu);
	e->unpub_count++;
	pthread_mutex_unlock(&e->mu);
}

static void *serve_thread(void *arg)
{
	struct env *e = arg;

	e->serve_rc = srv_sftp_serve(e->rootfd, &e->lim, &e->io);
	/* The client sees EOF once the session is over. */
	close(e->sv[1]);
	e->sv[1] = -1;
	return NULL;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct timeval tv = { .tv_sec = 20 };
	int fd;

	if (!e)
		return -1;
	snprintf(e->base, sizeof(e->base), "/tmp/sftpdrop-test.XXXXXX");
	if (!mkdtemp(e->base))
		return -1;
	snprintf(e->root, sizeof(e->root), "%s/root", e->base);
	snprintf(e->outside, sizeof(e->outside), "%s/outside", e->base);
	if (mkdir(e->root, 0700) < 0 || mkdir(e->outside, 0700) < 0)
		return -1;
	{
		char p[PATH_MAX + 32];

		snprintf(p, sizeof(p), "%s/secret", e->outside);
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, "decoy", 5) != 5)
			return -1;
		close(fd);
	}
	e->rootfd = open(e->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (e->rootfd < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, e->sv) < 0)
		return -1;
	/* A hung engine fails the test instead of hanging it. */
	setsockopt(e->sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pthread_mutex_init(&e->mu, NULL);
	e->lim = (struct srv_sftp_limits){ .max_packet = 256 * 1024,
					   .max_handles = 8,
					   .allow_download = false,
					   .sync_on_close = true,
					   .max_file_size = 1 << 20,
					   .max_path = 256,
					   .max_depth = 4 };
	e->io = (struct srv_sftp_io){ .ctx = e,
				      .read = io_read,
				      .write = io_write,
				      .published = io_published,
				      .published_wait = io_published_wait,
				      .unpublished = io_unpublished };
	e->rx = malloc(REPLY_MAX);
	e->next_id = 1;
	*state = e;
	return e->rx ? 0 : -1;
}

static int rm_cb(const char *path, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* End the session (client EOF) and return what srv_sftp_serve returned. */
static int stop(struct env *e)
{
	if (!e->running)
		return e->serve_rc;
	shutdown(e->sv[0], SHUT_WR);
	pthread_join(e->th, NULL);
	e->running = false;
	return e->serve_rc;
}

static int teardown(void **state)
{
	struct env *e = *state;

	stop(e);
	close(e->sv[0]);
	if (e->sv[1] >= 0)
		close(e->sv[1]);
	close(e->rootfd);
	nftw(e->base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	pthread_mutex_destroy(&e->mu);
	free(e->rx);
	free(e);
	return 0;
}

static void send_raw(struct env *e, const void *b, size_t n)
{
	const uint8_t *p = b;

	while (n > 0) {
		ssize_t w = write(e->sv[0], p, n);

		assert_true(w > 0);
		p += w;
		n -= (size_t)w;
	}
}

/* Send one packet as a frame; returns its request id. */
static uint32_t send_pkt(struct env *e, const struct pkt *p)
{
	uint8_t len[4] = { (uint8_t)(p->n >> 24), (uint8_t)(p->n >> 16),
			   (uint8_t)(p->n >> 8), (uint8_t)p->n };

	send_raw(e, len, 4);
	send_raw(e, p->b, p->n);
	return p->n >= 5 ? g32(p->b + 1) : 0;
}

static void head(struct env *e, struct pkt *p, uint8_t type)
{
	p->n = 0;
	p_u8(p, type);
	p_u32(p, e->next_id++);
}

static int read_full(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Receive one reply frame into e->rx (type byte first). */
static uint8_t rx(struct env *e)
{
	uint8_t hdr[4];
	uint32_t n;

	if (read_full(e->sv[0], hdr, 4) < 0)
		fail_msg("expected a reply, the session ended or hung");
	n = g32(hdr);
	assert_true(n >= 1 && n <= REPLY_MAX);
	assert_int_equal(read_full(e->sv[0], e->rx, n), 0);
	e->rx_len = n;
	return e->rx[0];
}

/* Next reply must be for id; returns its type. STATUS messages go to
 * e->msg. */
static uint8_t rx_for(struct env *e, uint32_t id)
{
	uint8_t t = rx(e);

	assert_true(e->rx_len >= 5);
	assert_int_equal(g32(e->rx + 1), id);
	e->msg[0] = '\0';
	if (t == SRV_FXP_STATUS) {
		uint32_t ml;

		assert_true(e->rx_len >= 13);
		ml = g32(e->rx + 9);
		assert_true(13 + ml + 4 <= e->rx_len);
		snprintf(e->msg, sizeof(e->msg), "%.*s", (int)ml, e->rx + 13);
	}
	return t;
}

/* Status code of the reply to id (fails if it is not a STATUS). */
static uint32_t status(struct env *e, uint32_t id)
{
	uint8_t t = rx_for(e, id);

	if (t != SRV_FXP_STATUS)
		fail_msg("expected STATUS, got type %u", t);
	return g32(e->rx + 5);
}

static void start(struct env *e)
{
	struct pkt p = { .n = 0 };

	assert_int_equal(pthread_create(&e->th, NULL, serve_thread, e), 0);
	e->running = true;
	p_u8(&p, SRV_FXP_INIT);
	p_u32(&p, 3);
	send_pkt(e, &p);
	assert_int_equal(rx(e), SRV_FXP_VERSION);
	assert_int_equal(g32(e->rx + 1), 3);
}

static void start_no_init(struct env *e)
{
	assert_int_equal(pthread_create(&e->th, NULL, serve_thread, e), 0);
	e->running = true;
}

/* The session must be over: the next read sees EOF. */
static void expect_session_end(struct env *e)
{
	uint8_t b;

	assert_int_equal(read(e->sv[0], &b, 1), 0);
}

/* ---- request helpers: each returns the STATUS code, or SRV_FX_OK for a
 * non-status success reply (whose body is left in e->rx) ---- */

static uint32_t c_open(struct env *e, const char *path, uint32_t flags,
		       struct handle *h)
{
	struct pkt p;
	uint32_t id;

	head(e, &p, SRV_FXP_OPEN);
	p_str(&p, path);
	p_u32(&p, flags);
	p_u32(&p, 0);
	id = send_pkt(e, &p);
	if (rx_for(e, id) == SRV_FXP_HANDLE) {
		h->n = g32(e->rx + 5);
		assert_true(h->n <= sizeof(h->b));
		memcpy(h->b, e->rx + 9, h->n);
		return SRV_FX_OK;
	}
	assert_int_equal(e->rx[0], SRV_FXP_STATUS);
	return g32(e->rx + 5);
}

static uint32_t c_opendir(struct env *e, const char *path, struct handle *h)
{
	struct pkt p;
	uint32_t id;

	head(e, &p, SRV_FXP_OPENDIR);
	p_str(&p, path);
	id = send_pkt(e, &p);
	if (rx_for(e, id) == SRV_FXP_HANDLE) {
		h->n = g32(e->rx + 5);
		memcpy(h->b, e->rx + 9, h->n);
		return SRV_FX_OK;
	}
	return g32(e->rx + 5);
}

static uint32_t c_write(struct env *e, const struct handle *h, uint64_t off,
			const void *data, size_t len)
{
	struct pkt p;

	head(e, &p, SRV_FXP_WRITE);
	p_strn(&p, h->b, h->n);
	p_u64(&p, off);
	p_strn(&p, data, len);
	return status(e, send_pkt(e, &p));
}

static uint32_t c_handle_op(struct env *e, uint8_t type, const struct handle *h)
{
	struct pkt p;

	head(e, &p, type);
	p_strn(&p, h->b, h->n);
	return status(e, send_pkt(e, &p));
}

static uint32_t c_close(struct env *e, const struct handle *h)
{
	return c_handle_op(e, SRV_FXP_CLOSE, h);
}

/* REMOVE, RMDIR (path only) and MKDIR (path + empty attrs). */
static uint32_t c_path_op(struct env *e, uint8_t type, const char *path)
{
	struct pkt p;

	head(e, &p, type);
	p_str(&p, path);
	if (type == SRV_FXP_MKDIR)
		p_u32(&p, 0);
	return status(e, send_pkt(e, &p));
}

/* STAT/LSTAT: fills *a on success. */
static uint32_t c_stat(struct env *e, uint8_t type, const char *path,
		       struct srv_sftp_attrs *a)
{
	struct pkt p;
	uint32_t id;

	head(e, &p, type);
	p_str(&p, path);
	id = send_pkt(e, &p);
	if (rx_for(e, id) == SRV_FXP_ATTRS) {
		memset(a, 0, sizeof(*a));
		a->flags = g32(e->rx + 5);
		assert_int_equal(a->flags, SRV_ATTR_SIZE | SRV_ATTR_UIDGID |
						   SRV_ATTR_PERMISSIONS |
						   SRV_ATTR_ACMODTIME);
		a->size = g64(e->rx + 9);
		a->uid = g32(e->rx + 17);
		a->gid = g32(e->rx + 21);
		a->perm = g32(e->rx + 25);
		a->atime = g32(e->rx + 29);
		a->mtime = g32(e->rx + 33);
		return SRV_FX_OK;
	}
	return g32(e->rx + 5);
}

static uint32_t c_rename(struct env *e, const char *from, const char *to,
			 bool posix)
{
	struct pkt p;

	if (posix) {
		head(e, &p, SRV_FXP_EXTENDED);
		p_str(&p, "posix-rename@openssh.com");
	} else {
		head(e, &p, SRV_FXP_RENAME);
	}
	p_str(&p, from);
	p_str(&p, to);
	return status(e, send_pkt(e, &p));
}

static uint32_t c_setstat(struct env *e, const char *path,
			  const struct handle *h, uint32_t flags, uint64_t size,
			  uint32_t uid, uint32_t mtime)
{
	struct pkt p;

	head(e, &p, h ? SRV_FXP_FSETSTAT : SRV_FXP_SETSTAT);
	if (h)
		p_strn(&p, h->b, h->n);
	else
		p_str(&p, path);
	p_u32(&p, flags);
	if (flags & SRV_ATTR_SIZE)
		p_u64(&p, size);
	if (flags & SRV_ATTR_UIDGID) {
		p_u32(&p, uid);
		p_u32(&p, uid);
	}
	if (flags & SRV_ATTR_PERMISSIONS)
		p_u32(&p, 0777);
	if (flags & SRV_ATTR_ACMODTIME) {
		p_u32(&p, mtime);
		p_u32(&p, mtime);
	}
	return status(e, send_pkt(e, &p));
}

/* Upload data to path with WRITE|CREAT|TRUNC and CLOSE; returns CLOSE's
 * status. */
static uint32_t upload(struct env *e, const char *path, const char *data)
{
	struct handle h;

	assert_int_equal(c_open(e, path, SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	if (*data)
		assert_int_equal(c_write(e, &h, 0, data, strlen(data)), SRV_FX_OK);
	return c_close(e, &h);
}

/* Names of one READDIR batch appended to names (newline separated);
 * returns the entry count, or -1 at EOF. */
static int c_readdir(struct env *e, const struct handle *h, char *names,
		     size_t sz)
{
	struct pkt p;
	uint32_t id, count;
	size_t off = 9;

	head(e, &p, SRV_FXP_READDIR);
	p_strn(&p, h->b, h->n);
	id = send_pkt(e, &p);
	if (rx_for(e, id) == SRV_FXP_STATUS) {
		assert_int_equal(g32(e->rx + 5), SRV_FX_EOF);
		return -1;
	}
	assert_int_equal(e->rx[0], SRV_FXP_NAME);
	count = g32(e->rx + 5);
	for (uint32_t i = 0; i < count; i++) {
		uint32_t nl = g32(e->rx + off), ll, fl;
		size_t used = strlen(names);

		snprintf(names + used, sz - used, "%.*s\n", (int)nl, e->rx + off + 4);
		off += 4 + nl;
		ll = g32(e->rx + off);
		off += 4 + ll;
		fl = g32(e->rx + off);
		assert_int_equal(fl, SRV_ATTR_SIZE | SRV_ATTR_UIDGID |
					     SRV_ATTR_PERMISSIONS | SRV_ATTR_ACMODTIME);
		off += 4 + 8 + 4 + 4 + 4 + 4 + 4;
		assert_true(off <= e->rx_len);
	}
	assert_int_equal(off, e->rx_len);
	return (int)count;
}

static void list_dir(struct env *e, const char *path, char *names, size_t sz)
{
	struct handle h;

	names[0] = '\0';
	assert_int_equal(c_opendir(e, path, &h), SRV_FX_OK);
	while (c_readdir(e, &h, names, sz) >= 0)
		;
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
}

static bool on_disk(struct env *e, const char *rel)
{
	struct stat st;

	return fstatat(e->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void read_disk(struct env *e, const char *rel, char *buf, size_t sz)
{
	int fd = openat(e->rootfd, rel, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sz - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

static int count_staging(struct env *e, const char *rel)
{
	int fd = openat(e->rootfd, rel, O_RDONLY | O_DIRECTORY);
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strncmp(de->d_name, SD_STAGING_PREFIX, strlen(SD_STAGING_PREFIX)) == 0)
			n++;
	closedir(d);
	return n;
}

static void decoy_untouched(struct env *e)
{
	char p[PATH_MAX + 32], buf[64] = "";
	int fd;

	snprintf(p, sizeof(p), "%s/secret", e->outside);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 5);
	close(fd);
	assert_string_equal(buf, "decoy");
	/* Nothing new appeared beside it either. */
	{
		DIR *d = opendir(e->outside);
		struct dirent *de;
		int n = 0;

		while ((de = readdir(d)))
			n++;
		closedir(d);
		assert_int_equal(n, 3);
	}
}

/* ---- tests ---- */

static void test_init_advertises_exactly_the_supported_extensions(void **state)
{
	struct env *e = *state;
	static const char *const want[][2] = {
		{ "posix-rename@openssh.com", "1" }, { "statvfs@openssh.com", "2" },
		{ "fstatvfs@openssh.com", "2" },     { "fsync@openssh.com", "1" },
		{ "limits@openssh.com", "1" },
	};
	size_t off = 5, n = 0;

	start(e);
	while (off < e->rx_len) {
		uint32_t l1 = g32(e->rx + off), l2;

		assert_true(n < 5);
		assert_int_equal(l1, strlen(want[n][0]));
		assert_memory_equal(e->rx + off + 4, want[n][0], l1);
		off += 4 + l1;
		l2 = g32(e->rx + off);
		assert_int_equal(l2, strlen(want[n][1]));
		assert_memory_equal(e->rx + off + 4, want[n][1], l2);
		off += 4 + l2;
		n++;
	}
	assert_int_equal(n, 5);
	assert_int_equal(stop(e), 0);
}

static void test_request_before_init_ends_session(void **state)
{
	struct env *e = *state;
	struct pkt p;

	start_no_init(e);
	head(e, &p, SRV_FXP_STAT);
	p_str(&p, "/");
	send_pkt(e, &p);
	expect_session_end(e);
	assert_int_equal(stop(e), -EPROTO);
}

static void test_second_init_ends_session(void **state)
{
	struct env *e = *state;
	struct pkt p = { .n = 0 };

	start(e);
	p_u8(&p, SRV_FXP_INIT);
	p_u32(&p, 3);
	send_pkt(e, &p);
	expect_session_end(e);
	assert_int_equal(stop(e), -EPROTO);
}

static void test_upload_is_published_only_by_clean_close(void **state)
{
	struct env *e = *state;
	struct srv_sftp_attrs a;
	struct handle h;
	char names[4096], buf[128];
	struct stat st;

	start(e);
	assert_int_equal(c_open(e, "/up.txt", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	assert_int_equal(h.n, 16);
	assert_int_equal(c_write(e, &h, 0, "hello ", 6), SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 6, "world", 5), SRV_FX_OK);

	/* Before CLOSE: no final name, a staging file nobody can see. */
	assert_false(on_disk(e, "up.txt"));
	assert_int_equal(count_staging(e, "."), 1);
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "up.txt", &a), SRV_FX_NO_SUCH_FILE);
	list_dir(e, "/", names, sizeof(names));
	assert_string_equal(names, "");
	pthread_mutex_lock(&e->mu);
	assert_int_equal(e->pub_count, 0);
	pthread_mutex_unlock(&e->mu);

	assert_int_equal(c_close(e, &h), SRV_FX_OK);

	/* The callback ran before OK was sent, and before the name existed. */
	pthread_mutex_lock(&e->mu);
	assert_int_equal(e->pub_count, 1);
	assert_false(e->pub_name_existed);
	assert_string_equal(e->pub_path, "up.txt");
	assert_int_equal(e->pub_size, 11);
	pthread_mutex_unlock(&e->mu);
	assert_int_equal(fstatat(e->rootfd, "up.txt", &st, 0), 0);
	assert_int_equal(e->pub_ino, st.st_ino);
	assert_int_equal(e->pub_dev, st.st_dev);
	assert_int_equal(st.st_mode & 07777, 0640);
	read_disk(e, "up.txt", buf, sizeof(buf));
	assert_string_equal(buf, "hello world");
	assert_int_equal(count_staging(e, "."), 0);
	list_dir(e, "/", names, sizeof(names));
	assert_string_equal(names, "up.txt\n");
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "up.txt", &a), SRV_FX_OK);
	assert_true(a.size == 11);
	assert_true((a.perm & S_IFMT) == S_IFREG);
	/* The handle is gone after CLOSE. */
	assert_int_equal(c_close(e, &h), SRV_FX_FAILURE);
	assert_int_equal(stop(e), 0);
}

static void test_upload_in_subdir_publishes_relative_path(void **state)
{
	struct env *e = *state;

	start(e);
	assert_int_equal(c_path_op(e, SRV_FXP_MKDIR, "/in"), SRV_FX_OK);
	assert_int_equal(upload(e, "/in/./x.csv", "1,2\n"), SRV_FX_OK);
	pthread_mutex_lock(&e->mu);
	assert_string_equal(e->pub_path, "in/x.csv");
	assert_int_equal(e->pub_size, 4);
	pthread_mutex_unlock(&e->mu);
	assert_true(on_disk(e, "in/x.csv"));
	assert_int_equal(stop(e), 0);
}

static void test_utf8_names_are_stored_byte_exact(void **state)
{
	struct env *e = *state;
	static const char name[] = "-rapport 2024 \xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.pdf";
	char names[4096];

	start(e);
	assert_int_equal(upload(e, name, "x"), SRV_FX_OK);
	assert_true(on_disk(e, name));
	list_dir(e, ".", names, sizeof(names));
	assert_memory_equal(names, name, strlen(name));
	assert_int_equal(stop(e), 0);
}

static void test_dotdot_and_absolute_paths_stay_inside_root(void **state)
{
	struct env *e = *state;
	struct srv_sftp_attrs a;
	struct handle h;
	char esc[PATH_MAX + 64];

	start(e);
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "../../etc/passwd", &a),
			 SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "/etc/passwd", &a),
			 SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_stat(e, SRV_FXP_LSTAT, "/../../../etc/passwd", &a),
			 SRV_FX_NO_SUCH_FILE);
	/* ".." at the root is the root. */
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "/..", &a), SRV_FX_OK);
	assert_true((a.perm & S_IFMT) == S_IFDIR);

	assert_int_equal(c_open(e, "../outside/secret",
				SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_NO_SUCH_FILE);
	snprintf(esc, sizeof(esc), "%s/secret", e->outside);
	assert_int_equal(c_open(e, esc, SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_rename(e, "../outside/secret", "stolen", false),
			 SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_path_op(e, SRV_FXP_REMOVE, "../outside/secret"),
			 SRV_FX_NO_SUCH_FILE);
	decoy_untouched(e);
	assert_int_equal(stop(e), 0);
}

static void test_symlinks_inside_root_do_not_reach_outside(void **state)
{
	struct env *e = *state;
	struct srv_sftp_attrs a;
	struct handle h;
	char target[PATH_MAX + 32];

	assert_int_equal(symlinkat("/etc", e->rootfd, "etc_link"), 0);
	assert_int_equal(symlinkat(e->outside, e->rootfd, "evil"), 0);
	snprintf(target, sizeof(target), "%s/secret", e->outside);
	assert_int_equal(symlinkat(target, e->rootfd, "pw"), 0);
	assert_int_equal(symlinkat("../outside", e->rootfd, "rel"), 0);
	e->lim.allow_download = true;
	start(e);

	assert_int_equal(c_stat(e, SRV_FXP_STAT, "etc_link/passwd", &a),
			 SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_open(e, "etc_link/passwd", SRV_FXF_READ, &h),
			 SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "evil/secret", &a),
			 SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "rel/secret", &a),
			 SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_open(e, "evil/secret",
				SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_open(e, "evil/secret", SRV_FXF_READ, &h),
			 SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_open(e, "pw", SRV_FXF_READ, &h), SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "pw", &a), SRV_FX_NO_SUCH_FILE);
	/* The link itself is visible to LSTAT, but not writable through. */
	assert_int_equal(c_stat(e, SRV_FXP_LSTAT, "pw", &a), SRV_FX_OK);
	assert_true((a.perm & S_IFMT) == S_IFLNK);
	assert_int_equal(c_open(e, "pw", SRV_FXF_WRITE | SRV_FXF_CREAT, &h),
			 SRV_FX_FAILURE);
	assert_int_equal(c_open(e, "pw", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_FAILURE);
	assert_int_equal(c_setstat(e, "evil/secret", NULL, SRV_ATTR_ACMODTIME, 0, 0, 1),
			 SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_rename(e, "evil/secret", "got", true), SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_rename(e, "pw", "evil/new", false), SRV_FX_NO_SUCH_FILE);
	decoy_untouched(e);
	assert_int_equal(stop(e), 0);
}

static void test_rename_never_overwrites_posix_rename_replaces(void **state)
{
	struct env *e = *state;
	char buf[64];

	start(e);
	assert_int_equal(upload(e, "a", "AAA"), SRV_FX_OK);
	assert_int_equal(upload(e, "b", "BBB"), SRV_FX_OK);
	assert_int_equal(c_rename(e, "a", "b", false), SRV_FX_FAILURE);
	assert_string_equal(e->msg, "file exists");
	read_disk(e, "b", buf, sizeof(buf));
	assert_string_equal(buf, "BBB");
	assert_int_equal(c_rename(e, "a", "c", false), SRV_FX_OK);
	assert_false(on_disk(e, "a"));
	assert_int_equal(c_rename(e, "c", "b", true), SRV_FX_OK);
	read_disk(e, "b", buf, sizeof(buf));
	assert_string_equal(buf, "AAA");
	assert_false(on_disk(e, "c"));
	assert_int_equal(c_rename(e, "missing", "x", false), SRV_FX_NO_SUCH_FILE);
	assert_int_equal(stop(e), 0);
}

static void test_unknown_requests_get_op_unsupported_session_continues(void **state)
{
	struct env *e = *state;
	struct srv_sftp_attrs a;
	struct pkt p;

	start(e);
	head(e, &p, 99);
	p_str(&p, "junk");
	assert_int_equal(status(e, send_pkt(e, &p)), SRV_FX_OP_UNSUPPORTED);
	head(e, &p, SRV_FXP_EXTENDED);
	p_str(&p, "copy-data");
	p_str(&p, "whatever");
	assert_int_equal(status(e, send_pkt(e, &p)), SRV_FX_OP_UNSUPPORTED);
	/* Server-to-client types from a client are unknown requests too. */
	head(e, &p, SRV_FXP_STATUS);
	assert_int_equal(status(e, send_pkt(e, &p)), SRV_FX_OP_UNSUPPORTED);
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "/", &a), SRV_FX_OK);
	assert_int_equal(stop(e), 0);
}

static void test_links_are_refused(void **state)
{
	struct env *e = *state;
	struct pkt p;

	start(e);
	assert_int_equal(upload(e, "f", "x"), SRV_FX_OK);
	head(e, &p, SRV_FXP_SYMLINK);
	p_str(&p, "/etc/passwd");
	p_str(&p, "l");
	assert_int_equal(status(e, send_pkt(e, &p)), SRV_FX_PERMISSION_DENIED);
	head(e, &p, SRV_FXP_READLINK);
	p_str(&p, "f");
	assert_int_equal(status(e, send_pkt(e, &p)), SRV_FX_PERMISSION_DENIED);
	head(e, &p, SRV_FXP_EXTENDED);
	p_str(&p, "hardlink@openssh.com");
	p_str(&p, "f");
	p_str(&p, "g");
	assert_int_equal(status(e, send_pkt(e, &p)), SRV_FX_PERMISSION_DENIED);
	assert_string_equal(e->msg, "hard links are not allowed");
	assert_false(on_disk(e, "l"));
	assert_false(on_disk(e, "g"));
	assert_int_equal(stop(e), 0);
}

static void test_file_size_limit_at_the_bound(void **state)
{
	struct env *e = *state;
	struct handle h;

	start(e);
	assert_int_equal(c_open(e, "big", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	/* exactly max_file_size bytes: fine */
	assert_int_equal(c_write(e, &h, (1 << 20) - 1, "x", 1), SRV_FX_OK);
	/* one byte past it, even as a hole: refused, and never published */
	assert_int_equal(c_write(e, &h, 1 << 20, "x", 1), SRV_FX_FAILURE);
	assert_string_equal(e->msg, "file too large");
	assert_int_equal(c_write(e, &h, (uint64_t)1 << 43, "x", 1), SRV_FX_FAILURE);
	assert_int_equal(c_close(e, &h), SRV_FX_FAILURE);
	assert_false(on_disk(e, "big"));
	assert_int_equal(count_staging(e, "."), 0);
	assert_int_equal(stop(e), 0);
}

static void test_path_length_and_depth_limits_at_the_bound(void **state)
{
	struct env *e = *state;
	char name[300];
	struct handle h;

	start(e);
	/* max_depth 4 components: a/b/c/f is allowed, a/b/c/d/f is not */
	assert_int_equal(c_path_op(e, SRV_FXP_MKDIR, "a"), SRV_FX_OK);
	assert_int_equal(c_path_op(e, SRV_FXP_MKDIR, "a/b"), SRV_FX_OK);
	assert_int_equal(c_path_op(e, SRV_FXP_MKDIR, "a/b/c"), SRV_FX_OK);
	assert_int_equal(c_open(e, "a/b/c/f", SRV_FXF_WRITE | SRV_FXF_CREAT, &h), SRV_FX_OK);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	assert_int_equal(c_path_op(e, SRV_FXP_MKDIR, "a/b/c/d"), SRV_FX_OK);
	assert_int_equal(c_open(e, "a/b/c/d/f", SRV_FXF_WRITE | SRV_FXF_CREAT, &h),
			 SRV_FX_FAILURE);
	assert_string_equal(e->msg, "too many directory levels");
	assert_int_equal(c_path_op(e, SRV_FXP_MKDIR, "a/b/c/d/e"), SRV_FX_FAILURE);
	/* max_path 256: "/" + 255 bytes is the longest name */
	memset(name, 'n', sizeof(name));
	name[255] = '\0';
	assert_int_equal(c_open(e, name, SRV_FXF_WRITE | SRV_FXF_CREAT, &h), SRV_FX_OK);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	/* "/a/" + 254 bytes = 257 */
	memcpy(name, "a/", 2);
	name[255] = 'n';
	name[256] = '\0';
	assert_int_equal(c_open(e, name, SRV_FXF_WRITE | SRV_FXF_CREAT, &h), SRV_FX_FAILURE);
	assert_string_equal(e->msg, "name too long");
	assert_int_equal(stop(e), 0);
}

/* Upload 4 bytes as name; CLOSE answers want (and the message, if FAILURE,
 * is that of an unrecorded upload). */
static void upload_closes(struct env *e, const char *name, uint32_t want)
{
	struct handle h;

	assert_int_equal(c_open(e, name, SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, "data", 4), SRV_FX_OK);
	assert_int_equal(c_close(e, &h), want);
	if (want == SRV_FX_FAILURE)
		assert_string_equal(e->msg, "upload could not be recorded; try again");
	assert_int_equal(on_disk(e, name), want == SRV_FX_OK);
}

static void test_unrecorded_upload_is_not_published(void **state)
{
	struct env *e = *state;

	e->pub_fail = -EIO;
	start(e);
	upload_closes(e, "r.txt", SRV_FX_FAILURE);
	assert_int_equal(count_staging(e, "."), 0);
	assert_int_equal(stop(e), 0);
}

/* The record's answer comes after the data sync (published_wait): a
 * refusal there publishes nothing either, and nothing is left to forget. */
static void test_upload_refused_at_the_answer_is_not_published(void **state)
{
	struct env *e = *state;

	e->wait_fail = -EIO;
	start(e);
	upload_closes(e, "w.txt", SRV_FX_FAILURE);
	assert_int_equal(e->pub_count, 1);
	assert_int_equal(e->waits, 1);
	assert_int_equal(e->unpub_count, 0);
	e->wait_fail = 0;
	upload_closes(e, "w.txt", SRV_FX_OK);
	assert_int_equal(e->waits, 2);
	assert_int_equal(stop(e), 0);
}

static void test_too_many_handles_refused(void **state)
{
	struct env *e = *state;
	struct handle h1, h2, h3;

	e->lim.max_handles = 2;
	start(e);
	assert_int_equal(c_opendir(e, "/", &h1), SRV_FX_OK);
	assert_int_equal(c_open(e, "f", SRV_FXF_WRITE | SRV_FXF_CREAT, &h2), SRV_FX_OK);
	assert_memory_not_equal(h1.b, h2.b, 16);
	assert_int_equal(c_opendir(e, "/", &h3), SRV_FX_FAILURE);
	assert_string_equal(e->msg, "too many open handles");
	assert_int_equal(c_open(e, "g", SRV_FXF_WRITE | SRV_FXF_CREAT, &h3),
			 SRV_FX_FAILURE);
	assert_int_equal(count_staging(e, "."), 1);
	assert_int_equal(c_close(e, &h1), SRV_FX_OK);
	assert_int_equal(c_opendir(e, "/", &h3), SRV_FX_OK);
	assert_int_equal(stop(e), 0);
}

static void test_control_characters_in_names_refused(void **state)
{
	struct env *e = *state;
	struct handle h;
	struct pkt p;

	start(e);
	assert_int_equal(c_open(e, "bad\nname", SRV_FXF_WRITE | SRV_FXF_CREAT, &h),
			 SRV_FX_FAILURE);
	assert_string_equal(e->msg, "name contains control characters");
	assert_int_equal(c_path_op(e, SRV_FXP_MKDIR, "dir\x1b[31m"), SRV_FX_FAILURE);
	assert_int_equal(c_rename(e, "x", "y\x7f", false), SRV_FX_FAILURE);
	/* An embedded NUL must not cut the name short to "a". */
	head(e, &p, SRV_FXP_OPEN);
	p_strn(&p, "a\0b", 3);
	p_u32(&p, SRV_FXF_WRITE | SRV_FXF_CREAT);
	p_u32(&p, 0);
	assert_int_equal(status(e, send_pkt(e, &p)), SRV_FX_FAILURE);
	assert_int_equal(count_staging(e, "."), 0);
	assert_false(on_disk(e, "a"));
	assert_int_equal(stop(e), 0);
}

static void test_staging_names_cannot_be_addressed(void **state)
{
	struct env *e = *state;
	struct srv_sftp_attrs a;
	struct handle h, h2;

	start(e);
	assert_int_equal(c_open(e, "f", SRV_FXF_WRITE | SRV_FXF_CREAT, &h), SRV_FX_OK);
	assert_int_equal(c_open(e, SD_STAGING_PREFIX "x",
				SRV_FXF_WRITE | SRV_FXF_CREAT, &h2),
			 SRV_FX_PERMISSION_DENIED);
	assert_string_equal(e->msg, "name is reserved");
	assert_int_equal(c_stat(e, SRV_FXP_LSTAT, "/" SD_STAGING_PREFIX "abc", &a),
			 SRV_FX_PERMISSION_DENIED);
	assert_int_equal(c_path_op(e, SRV_FXP_MKDIR, SD_STAGING_PREFIX "d/"),
			 SRV_FX_PERMISSION_DENIED);
	assert_int_equal(stop(e), 0);
}

static void test_reads_refused_when_downloads_disabled(void **state)
{
	struct env *e = *state;
	struct handle h;
	struct pkt p;

	start(e);
	assert_int_equal(upload(e, "f", "secret data"), SRV_FX_OK);
	assert_int_equal(c_open(e, "f", SRV_FXF_READ, &h), SRV_FX_PERMISSION_DENIED);
	assert_string_equal(e->msg, "downloads are disabled");
	/* Not through a write handle either. */
	assert_int_equal(c_open(e, "f", SRV_FXF_READ | SRV_FXF_WRITE, &h), SRV_FX_OK);
	head(e, &p, SRV_FXP_READ);
	p_strn(&p, h.b, h.n);
	p_u64(&p, 0);
	p_u32(&p, 100);
	assert_int_equal(status(e, send_pkt(e, &p)), SRV_FX_PERMISSION_DENIED);
	assert_int_equal(stop(e), 0);
}

static void test_download_when_enabled_reads_then_eof(void **state)
{
	struct env *e = *state;
	struct handle h;
	struct pkt p;
	uint32_t id;

	e->lim.allow_download = true;
	start(e);
	assert_int_equal(upload(e, "f", "0123456789"), SRV_FX_OK);
	assert_int_equal(c_open(e, "f", SRV_FXF_READ, &h), SRV_FX_OK);
	head(e, &p, SRV_FXP_READ);
	p_strn(&p, h.b, h.n);
	p_u64(&p, 4);
	p_u32(&p, 1000);
	id = send_pkt(e, &p);
	assert_int_equal(rx_for(e, id), SRV_FXP_DATA);
	assert_int_equal(g32(e->rx + 5), 6);
	assert_memory_equal(e->rx + 9, "456789", 6);
	head(e, &p, SRV_FXP_READ);
	p_strn(&p, h.b, h.n);
	p_u64(&p, 10);
	p_u32(&p, 1000);
	assert_int_equal(status(e, send_pkt(e, &p)), SRV_FX_EOF);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	/* Directories cannot be opened as files. */
	assert_int_equal(c_open(e, "/", SRV_FXF_READ, &h), SRV_FX_FAILURE);
	assert_int_equal(stop(e), 0);
}

static void test_malformed_request_gets_bad_message_session_continues(void **state)
{
	struct env *e = *state;
	struct srv_sftp_attrs a;
	struct pkt p;

	start(e);
	head(e, &p, SRV_FXP_OPEN);
	p_u32(&p, 1000); /* string longer than the packet */
	p_u8(&p, 'x');
	assert_int_equal(status(e, send_pkt(e, &p)), SRV_FX_BAD_MESSAGE);
	head(e, &p, SRV_FXP_EXTENDED);
	p_str(&p, "posix-rename@openssh.com");
	p_str(&p, "only-one-arg");
	assert_int_equal(status(e, send_pkt(e, &p)), SRV_FX_BAD_MESSAGE);
	assert_int_equal(c_stat(e, SRV_FXP_STAT, ".", &a), SRV_FX_OK);
	/* Without even an id there is nobody to answer: session over. */
	p.n = 0;
	p_u8(&p, SRV_FXP_STAT);
	p_u8(&p, 0);
	send_pkt(e, &p);
	expect_session_end(e);
	assert_int_equal(stop(e), -EBADMSG);
}

static void test_oversized_frame_ends_session(void **state)
{
	struct env *e = *state;
	uint8_t hdr[5] = { 0, 0x04, 0, 1, SRV_FXP_WRITE }; /* 256 KiB + 1 */

	start(e);
	send_raw(e, hdr, sizeof(hdr));
	expect_session_end(e);
	assert_int_equal(stop(e), -EMSGSIZE);
}

static void test_open_flags_follow_the_draft(void **state)
{
	struct env *e = *state;
	struct handle h;

	start(e);
	assert_int_equal(upload(e, "exists", "x"), SRV_FX_OK);
	assert_int_equal(c_open(e, "exists",
				SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_EXCL, &h),
			 SRV_FX_FAILURE);
	assert_string_equal(e->msg, "file exists");
	assert_int_equal(c_open(e, "missing", SRV_FXF_WRITE | SRV_FXF_TRUNC, &h),
			 SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_open(e, "nodir/f", SRV_FXF_WRITE | SRV_FXF_CREAT, &h),
			 SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_path_op(e, SRV_FXP_MKDIR, "d"), SRV_FX_OK);
	assert_int_equal(c_open(e, "d", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_FAILURE);
	assert_string_equal(e->msg, "is a directory");
	assert_int_equal(c_open(e, "/", SRV_FXF_WRITE | SRV_FXF_CREAT, &h),
			 SRV_FX_PERMISSION_DENIED);
	assert_int_equal(c_open(e, "exists/f", SRV_FXF_WRITE | SRV_FXF_CREAT, &h),
			 SRV_FX_NO_SUCH_FILE);
	assert_int_equal(count_staging(e, "."), 0);
	/* EXCL on a new name works and is published. */
	assert_int_equal(c_open(e, "new", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_EXCL, &h),
			 SRV_FX_OK);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	assert_true(on_disk(e, "new"));
	assert_int_equal(stop(e), 0);
}

static void test_excl_upload_does_not_replace_a_name_created_meanwhile(void **state)
{
	struct env *e = *state;
	struct handle h;
	char buf[32];

	start(e);
	assert_int_equal(c_open(e, "race", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_EXCL, &h),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, "mine", 4), SRV_FX_OK);
	assert_int_equal(upload(e, "race", "theirs"), SRV_FX_OK);
	assert_int_equal(c_close(e, &h), SRV_FX_FAILURE);
	assert_string_equal(e->msg, "file exists");
	read_disk(e, "race", buf, sizeof(buf));
	assert_string_equal(buf, "theirs");
	assert_int_equal(count_staging(e, "."), 0);
	assert_int_equal(stop(e), 0);
}

static void test_resume_and_append_never_change_published_file_in_place(void **state)
{
	struct env *e = *state;
	struct stat before, during, after;
	struct handle h;
	char buf[64];

	start(e);
	assert_int_equal(upload(e, "f", "hello world"), SRV_FX_OK);
	assert_int_equal(fstatat(e->rootfd, "f", &before, 0), 0);

	/* Offset write without TRUNC (resume): starts from a copy. */
	assert_int_equal(c_open(e, "f", SRV_FXF_WRITE | SRV_FXF_CREAT, &h), SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, "HELLO", 5), SRV_FX_OK);
	read_disk(e, "f", buf, sizeof(buf));
	assert_string_equal(buf, "hello world");
	assert_int_equal(fstatat(e->rootfd, "f", &during, 0), 0);
	assert_int_equal(during.st_ino, before.st_ino);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	read_disk(e, "f", buf, sizeof(buf));
	assert_string_equal(buf, "HELLO world");
	assert_int_equal(fstatat(e->rootfd, "f", &after, 0), 0);
	assert_int_not_equal(after.st_ino, before.st_ino);

	/* APPEND: data goes to the end whatever the offset says. */
	assert_int_equal(c_open(e, "f", SRV_FXF_WRITE | SRV_FXF_APPEND, &h), SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, "!!", 2), SRV_FX_OK);
	read_disk(e, "f", buf, sizeof(buf));
	assert_string_equal(buf, "HELLO world");
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	read_disk(e, "f", buf, sizeof(buf));
	assert_string_equal(buf, "HELLO world!!");
	pthread_mutex_lock(&e->mu);
	assert_int_equal(e->pub_count, 3);
	assert_int_equal(e->pub_size, 13);
	pthread_mutex_unlock(&e->mu);
	assert_int_equal(stop(e), 0);
}

static void test_setstat_times_apply_owner_and_resize_refused(void **state)
{
	struct env *e = *state;
	struct srv_sftp_attrs a;
	struct handle h;
	struct stat st;

	start(e);
	/* FSETSTAT times before CLOSE survive later writes and the publish. */
	assert_int_equal(c_open(e, "f", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, "abc", 3), SRV_FX_OK);
	assert_int_equal(c_setstat(e, NULL, &h, SRV_ATTR_ACMODTIME | SRV_ATTR_PERMISSIONS,
				   0, 0, 1000000000),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 3, "def", 3), SRV_FX_OK);
	/* SIZE on an upload in staging truncates it. */
	assert_int_equal(c_setstat(e, NULL, &h, SRV_ATTR_SIZE, 5, 0, 0), SRV_FX_OK);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	assert_int_equal(fstatat(e->rootfd, "f", &st, 0), 0);
	assert_int_equal(st.st_mtime, 1000000000);
	assert_int_equal(st.st_size, 5);

	/* SETSTAT by path: times (WinSCP after every upload). */
	assert_int_equal(c_setstat(e, "f", NULL, SRV_ATTR_ACMODTIME, 0, 0, 1500000000),
			 SRV_FX_OK);
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "f", &a), SRV_FX_OK);
	assert_int_equal(a.mtime, 1500000000);
	/* Permissions accepted and ignored. */
	assert_int_equal(c_setstat(e, "f", NULL, SRV_ATTR_PERMISSIONS, 0, 0, 0), SRV_FX_OK);
	assert_int_equal(fstatat(e->rootfd, "f", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* Owner: only "unchanged" is accepted. */
	assert_int_equal(c_setstat(e, "f", NULL, SRV_ATTR_UIDGID, 0, st.st_uid + 1, 0),
			 SRV_FX_PERMISSION_DENIED);
	/* Resizing a published file would change it in place. */
	assert_int_equal(c_setstat(e, "f", NULL, SRV_ATTR_SIZE, 1, 0, 0),
			 SRV_FX_PERMISSION_DENIED);
	assert_int_equal(c_setstat(e, "f", NULL, SRV_ATTR_SIZE, 5, 0, 0), SRV_FX_OK);
	assert_int_equal(c_setstat(e, "/", NULL, SRV_ATTR_ACMODTIME, 0, 0, 1500000000),
			 SRV_FX_OK);
	assert_int_equal(c_setstat(e, "nope", NULL, SRV_ATTR_ACMODTIME, 0, 0, 1),
			 SRV_FX_NO_SUCH_FILE);
	assert_int_equal(stop(e), 0);
}

static void test_failed_write_is_never_published(void **state)
{
	struct env *e = *state;
	struct handle h;

	start(e);
	assert_int_equal(c_open(e, "big", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, "ok", 2), SRV_FX_OK);
	assert_int_equal(c_write(e, &h, UINT64_MAX - 1, "xx", 2), SRV_FX_FAILURE);
	assert_string_equal(e->msg, "file too large");
	/* Later writes are refused too: the upload is doomed. */
	assert_int_equal(c_write(e, &h, 2, "ok", 2), SRV_FX_FAILURE);
	assert_int_equal(c_close(e, &h), SRV_FX_FAILURE);
	assert_string_equal(e->msg, "upload incomplete: an earlier write failed");
	assert_false(on_disk(e, "big"));
	assert_int_equal(count_staging(e, "."), 0);
	pthread_mutex_lock(&e->mu);
	assert_int_equal(e->pub_count, 0);
	pthread_mutex_unlock(&e->mu);
	assert_int_equal(stop(e), 0);
}

static void test_eof_with_open_upload_publishes_nothing_keeps_partial(void **state)
{
	struct env *e = *state;
	struct handle h;

	start(e);
	assert_int_equal(c_path_op(e, SRV_FXP_MKDIR, "d"), SRV_FX_OK);
	assert_int_equal(c_open(e, "d/f", SRV_FXF_WRITE | SRV_FXF_CREAT, &h), SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, "partial", 7), SRV_FX_OK);
	assert_int_equal(count_staging(e, "d"), 1);
	assert_int_equal(stop(e), 0);
	/* Kept for resume (sftpdrop-ingest removes it after
	 * partial_retention), never published. */
	assert_int_equal(count_staging(e, "d"), 1);
	assert_false(on_disk(e, "d/f"));
	pthread_mutex_lock(&e->mu);
	assert_int_equal(e->pub_count, 0);
	pthread_mutex_unlock(&e->mu);
}

static void test_realpath_is_lexical_and_accepts_missing_paths(void **state)
{
	struct env *e = *state;
	static const char *const cases[][2] = {
		{ ".", "/" },		  { "", "/" },
		{ "/", "/" },		  { "a/../../b/./c/", "/b/c" },
		{ "//x//y", "/x/y" },	  { "does/not/exist", "/does/not/exist" },
		{ "../../..", "/" },
	};
	struct pkt p;

	start(e);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t id, nl;

		head(e, &p, SRV_FXP_REALPATH);
		p_str(&p, cases[i][0]);
		id = send_pkt(e, &p);
		assert_int_equal(rx_for(e, id), SRV_FXP_NAME);
		assert_int_equal(g32(e->rx + 5), 1);
		nl = g32(e->rx + 9);
		assert_int_equal(nl, strlen(cases[i][1]));
		assert_memory_equal(e->rx + 13, cases[i][1], nl);
	}
	assert_int_equal(stop(e), 0);
}

static void test_readdir_comes_in_bounded_batches(void **state)
{
	struct env *e = *state;
	static char names[64 * 1024];
	struct handle h;
	int batch, total = 0, batches = 0;

	for (int i = 0; i < 250; i++) {
		char n[32];
		int fd;

		snprintf(n, sizeof(n), "file-%03d", i);
		fd = openat(e->rootfd, n, O_WRONLY | O_CREAT, 0644);
		assert_true(fd >= 0);
		close(fd);
	}
	/* A staging file from another session is not listed. */
	close(openat(e->rootfd, SD_STAGING_PREFIX "0000", O_WRONLY | O_CREAT, 0600));
	start(e);
	names[0] = '\0';
	assert_int_equal(c_opendir(e, "/", &h), SRV_FX_OK);
	while ((batch = c_readdir(e, &h, names, sizeof(names))) >= 0) {
		assert_true(batch >= 1 && batch <= 100);
		assert_true(e->rx_len <= 64 * 1024);
		total += batch;
		batches++;
	}
	assert_int_equal(total, 250);
	assert_int_equal(batches, 3);
	assert_null(strstr(names, SD_STAGING_PREFIX));
	/* Still EOF when asked again. */
	assert_int_equal(c_readdir(e, &h, names, sizeof(names)), -1);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	assert_int_equal(c_opendir(e, "file-000", &h), SRV_FX_NO_SUCH_FILE);
	assert_int_equal(stop(e), 0);
}

static void test_readdir_longname_is_ls_style(void **state)
{
	struct env *e = *state;
	struct handle h;
	struct pkt p;
	uint32_t id, nl, ll;
	char ln[256];

	start(e);
	assert_int_equal(upload(e, "report.txt", "12345"), SRV_FX_OK);
	assert_int_equal(c_opendir(e, "/", &h), SRV_FX_OK);
	head(e, &p, SRV_FXP_READDIR);
	p_strn(&p, h.b, h.n);
	id = send_pkt(e, &p);
	assert_int_equal(rx_for(e, id), SRV_FXP_NAME);
	assert_int_equal(g32(e->rx + 5), 1);
	nl = g32(e->rx + 9);
	ll = g32(e->rx + 13 + nl);
	snprintf(ln, sizeof(ln), "%.*s", (int)ll, e->rx + 17 + nl);
	assert_memory_equal(ln, "-rw-r-----    1 ", 16);
	assert_non_null(strstr(ln, "        5 "));
	assert_non_null(strstr(ln, " report.txt"));
	assert_int_equal(stop(e), 0);
}

static void test_remove_mkdir_rmdir(void **state)
{
	struct env *e = *state;

	start(e);
	assert_int_equal(c_path_op(e, SRV_FXP_MKDIR, "d"), SRV_FX_OK);
	assert_int_equal(c_path_op(e, SRV_FXP_MKDIR, "d"), SRV_FX_FAILURE);
	assert_string_equal(e->msg, "file exists");
	assert_int_equal(upload(e, "d/f", "x"), SRV_FX_OK);
	assert_int_equal(c_path_op(e, SRV_FXP_RMDIR, "d"), SRV_FX_FAILURE);
	assert_string_equal(e->msg, "directory not empty");
	assert_int_equal(c_path_op(e, SRV_FXP_REMOVE, "d"), SRV_FX_FAILURE);
	assert_int_equal(c_path_op(e, SRV_FXP_REMOVE, "d/f"), SRV_FX_OK);
	assert_int_equal(c_path_op(e, SRV_FXP_REMOVE, "d/f"), SRV_FX_NO_SUCH_FILE);
	assert_int_equal(c_path_op(e, SRV_FXP_RMDIR, "d"), SRV_FX_OK);
	assert_false(on_disk(e, "d"));
	assert_int_equal(c_path_op(e, SRV_FXP_RMDIR, "/"), SRV_FX_PERMISSION_DENIED);
	assert_int_equal(c_path_op(e, SRV_FXP_REMOVE, "/.."), SRV_FX_PERMISSION_DENIED);
	assert_int_equal(stop(e), 0);
}

static void test_statvfs_fstatvfs_fsync_limits(void **state)
{
	struct env *e = *state;
	struct handle h;
	struct pkt p;
	uint32_t id;

	start(e);
	head(e, &p, SRV_FXP_EXTENDED);
	p_str(&p, "statvfs@openssh.com");
	p_str(&p, "/");
	id = send_pkt(e, &p);
	assert_int_equal(rx_for(e, id), SRV_FXP_EXTENDED_REPLY);
	assert_int_equal(e->rx_len, 5 + 11 * 8);
	assert_true(g64(e->rx + 5) > 0); /* f_bsize */

	assert_int_equal(c_open(e, "f", SRV_FXF_WRITE | SRV_FXF_CREAT, &h), SRV_FX_OK);
	head(e, &p, SRV_FXP_EXTENDED);
	p_str(&p, "fstatvfs@openssh.com");
	p_strn(&p, h.b, h.n);
	id = send_pkt(e, &p);
	assert_int_equal(rx_for(e, id), SRV_FXP_EXTENDED_REPLY);
	assert_int_equal(e->rx_len, 5 + 11 * 8);

	head(e, &p, SRV_FXP_EXTENDED);
	p_str(&p, "fsync@openssh.com");
	p_strn(&p, h.b, h.n);
	assert_int_equal(status(e, send_pkt(e, &p)), SRV_FX_OK);

	head(e, &p, SRV_FXP_EXTENDED);
	p_str(&p, "limits@openssh.com");
	id = send_pkt(e, &p);
	assert_int_equal(rx_for(e, id), SRV_FXP_EXTENDED_REPLY);
	assert_int_equal(e->rx_len, 5 + 4 * 8);
	assert_true(g64(e->rx + 5) == 256 * 1024);
	assert_true(g64(e->rx + 13) > 32768 && g64(e->rx + 13) < 256 * 1024);
	assert_true(g64(e->rx + 21) > 32768 && g64(e->rx + 21) < 256 * 1024);
	assert_true(g64(e->rx + 29) == 8);
	assert_int_equal(stop(e), 0);
}

static void test_pipelined_requests_answered_in_order(void **state)
{
	struct env *e = *state;
	static uint8_t all[16 * 33 * 1024];
	static struct pkt one;
	size_t n_all = 0;
	struct handle h;
	uint32_t first;
	char big[32768];

	start(e);
	assert_int_equal(c_open(e, "pipe", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	memset(big, 'p', sizeof(big));
	/* 16 WRITEs of 32 KiB in one send, as OpenSSH's client pipelines;
	 * the replies are small, so the socket cannot deadlock. */
	first = e->next_id;
	for (int i = 0; i < 16; i++) {
		size_t n;

		head(e, &one, SRV_FXP_WRITE);
		p_strn(&one, h.b, h.n);
		p_u64(&one, (uint64_t)i * sizeof(big));
		p_strn(&one, big, sizeof(big));
		n = one.n;
		all[n_all++] = (uint8_t)(n >> 24);
		all[n_all++] = (uint8_t)(n >> 16);
		all[n_all++] = (uint8_t)(n >> 8);
		all[n_all++] = (uint8_t)n;
		memcpy(all + n_all, one.b, n);
		n_all += n;
	}
	send_raw(e, all, n_all);
	for (uint32_t i = 0; i < 16; i++)
		assert_int_equal(status(e, first + i), SRV_FX_OK);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	pthread_mutex_lock(&e->mu);
	assert_int_equal(e->pub_size, 16 * sizeof(big));
	pthread_mutex_unlock(&e->mu);
	assert_int_equal(stop(e), 0);
}

static void test_requests_split_across_reads_are_reassembled(void **state)
{
	struct env *e = *state;
	struct pkt p;
	uint8_t frame[64];
	uint32_t id;

	start(e);
	assert_int_equal(upload(e, "drip", "x"), SRV_FX_OK);
	head(e, &p, SRV_FXP_STAT);
	p_str(&p, "/drip");
	id = g32(p.b + 1);
	frame[0] = 0;
	frame[1] = 0;
	frame[2] = 0;
	frame[3] = (uint8_t)p.n;
	memcpy(frame + 4, p.b, p.n);
	/* One byte per read on the engine's side, header bytes included. */
	for (size_t i = 0; i < 4 + p.n; i++) {
		send_raw(e, frame + i, 1);
		usleep(500);
	}
	assert_int_equal(rx_for(e, id), SRV_FXP_ATTRS);
	assert_true(g64(e->rx + 9) == 1);
	assert_int_equal(stop(e), 0);
}

static void test_invalid_handles_and_limits(void **state)
{
	struct env *e = *state;
	struct handle bogus = { .n = 16 };
	struct srv_sftp_limits bad = { .max_packet = 1000, .max_handles = 8 };

	assert_int_equal(srv_sftp_serve(e->rootfd, &bad, &e->io), -EINVAL);
	bad.max_packet = 256 * 1024;
	bad.max_handles = 0;
	assert_int_equal(srv_sftp_serve(e->rootfd, &bad, &e->io), -EINVAL);
	start(e);
	memset(bogus.b, 0x41, 16);
	assert_int_equal(c_close(e, &bogus), SRV_FX_FAILURE);
	assert_string_equal(e->msg, "invalid handle");
	assert_int_equal(c_write(e, &bogus, 0, "x", 1), SRV_FX_FAILURE);
	bogus.n = 3;
	assert_int_equal(c_handle_op(e, SRV_FXP_FSTAT, &bogus), SRV_FX_FAILURE);
	assert_int_equal(stop(e), 0);
}

/* ---- the lexical normaliser on its own ---- */

static void test_jail_clean_normalises_and_refuses(void **state)
{
	static const char *const ok[][2] = {
		{ "", "/" },	      { ".", "/" },	   { "/", "/" },
		{ "a", "/a" },	      { "/a/", "/a" },	   { "a//b", "/a/b" },
		{ "a/./b", "/a/b" },  { "a/../b", "/b" },  { "../..", "/" },
		{ "/../a/..", "/" },  { "a/b/../../c", "/c" }, { "...", "/..." },
		{ "-x y", "/-x y" },  { "a/.b", "/a/.b" },
	};
	char out[SRV_JAIL_PATH_MAX];
	char longc[300];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int r = srv_jail_clean((const uint8_t *)ok[i][0], strlen(ok[i][0]),
				       out, sizeof(out));

		assert_int_equal(r, strlen(ok[i][1]));
		assert_string_equal(out, ok[i][1]);
	}
	assert_int_equal(srv_jail_clean((const uint8_t *)"a\tb", 3, out, sizeof(out)),
			 -EILSEQ);
	assert_int_equal(srv_jail_clean((const uint8_t *)"a\0b", 3, out, sizeof(out)),
			 -EILSEQ);
	assert_int_equal(srv_jail_clean((const uint8_t *)"x/" SD_STAGING_PREFIX "1/y",
					strlen("x/" SD_STAGING_PREFIX "1/y"), out,
					sizeof(out)),
			 -EPERM);
	/* Every name of the service's own is reserved, the receipts too... */
	assert_int_equal(srv_jail_clean((const uint8_t *)SD_RECEIPTS_DIR "/x",
					strlen(SD_RECEIPTS_DIR "/x"), out, sizeof(out)),
			 -EPERM);
	/* ...but a prefix of the reserved prefix is an ordinary name. */
	assert_int_equal(srv_jail_clean((const uint8_t *)".sftpdrop", 9, out,
					sizeof(out)),
			 10);
	memset(longc, 'n', sizeof(longc));
	assert_int_equal(srv_jail_clean((const uint8_t *)longc, sizeof(longc), out,
					sizeof(out)),
			 -ENAMETOOLONG);
	assert_int_equal(srv_jail_clean((const uint8_t *)"abcdef", 6, out, 4),
			 -ENAMETOOLONG);
}

/* ---- an upload's life (issue 5): partials, resume, receipts ---- */

/* A second session on a fresh socketpair (the first one's was shut down). */
static void next_session(struct env *e)
{
	struct timeval tv = { .tv_sec = 20 };

	assert_int_equal(stop(e), 0);
	close(e->sv[0]);
	if (e->sv[1] >= 0)
		close(e->sv[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, e->sv), 0);
	setsockopt(e->sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	start(e);
}

static uint32_t c_read(struct env *e, const struct handle *h, uint64_t off, char *buf,
		       size_t sz)
{
	struct pkt p;
	uint32_t id, n;

	head(e, &p, SRV_FXP_READ);
	p_strn(&p, h->b, h->n);
	p_u64(&p, off);
	p_u32(&p, (uint32_t)sz - 1);
	id = send_pkt(e, &p);
	if (rx_for(e, id) != SRV_FXP_DATA)
		return g32(e->rx + 5);
	n = g32(e->rx + 5);
	memcpy(buf, e->rx + 9, n);
	buf[n] = '\0';
	return SRV_FX_OK;
}

static void test_interrupted_upload_is_resumed_by_stat_and_open_without_trunc(void **state)
{
	struct env *e = *state;
	struct srv_sftp_attrs a;
	struct handle h;
	char names[4096], buf[64];

	start(e);
	assert_int_equal(c_open(e, "r.bin", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, "hello ", 6), SRV_FX_OK);
	/* In progress: nobody sees it. */
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "r.bin", &a), SRV_FX_NO_SUCH_FILE);
	next_session(e); /* the connection dropped before CLOSE */
	assert_false(on_disk(e, "r.bin"));
	assert_int_equal(count_staging(e, "."), 1);
	/* Interrupted: STAT says how much arrived; it is not listed. */
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "r.bin", &a), SRV_FX_OK);
	assert_int_equal(a.size, 6);
	assert_int_equal(c_stat(e, SRV_FXP_LSTAT, "r.bin", &a), SRV_FX_OK);
	list_dir(e, "/", names, sizeof(names));
	assert_string_equal(names, "");
	/* OPEN without TRUNC continues it; CLOSE publishes the whole. */
	assert_int_equal(c_open(e, "r.bin", SRV_FXF_WRITE | SRV_FXF_CREAT, &h), SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 6, "world", 5), SRV_FX_OK);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	read_disk(e, "r.bin", buf, sizeof(buf));
	assert_string_equal(buf, "hello world");
	assert_int_equal(count_staging(e, "."), 0);
	assert_int_equal(stop(e), 0);
}

static void test_a_new_upload_supersedes_an_interrupted_one(void **state)
{
	struct env *e = *state;
	struct srv_sftp_attrs a;
	struct handle h;
	char buf[64];

	start(e);
	assert_int_equal(c_open(e, "s.txt", SRV_FXF_WRITE | SRV_FXF_CREAT, &h), SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, "old partial data", 16), SRV_FX_OK);
	next_session(e);
	assert_int_equal(upload(e, "s.txt", "new"), SRV_FX_OK);
	read_disk(e, "s.txt", buf, sizeof(buf));
	assert_string_equal(buf, "new");
	assert_int_equal(count_staging(e, "."), 0);
	/* Empty partials and failed uploads are not kept at all. */
	assert_int_equal(c_open(e, "empty", SRV_FXF_WRITE | SRV_FXF_CREAT, &h), SRV_FX_OK);
	next_session(e);
	assert_int_equal(count_staging(e, "."), 0);
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "empty", &a), SRV_FX_NO_SUCH_FILE);
	assert_int_equal(stop(e), 0);
}

static void test_two_uploads_of_one_name_at_once_the_last_close_wins(void **state)
{
	struct env *e = *state;
	struct handle h1, h2;
	char buf[64];

	start(e);
	assert_int_equal(c_open(e, "same", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h1),
			 SRV_FX_OK);
	assert_int_equal(c_open(e, "same", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h2),
			 SRV_FX_OK);
	assert_int_equal(count_staging(e, "."), 2);
	assert_int_equal(c_write(e, &h1, 0, "first", 5), SRV_FX_OK);
	assert_int_equal(c_write(e, &h2, 0, "second", 6), SRV_FX_OK);
	assert_int_equal(c_close(e, &h2), SRV_FX_OK);
	read_disk(e, "same", buf, sizeof(buf));
	assert_string_equal(buf, "second");
	assert_int_equal(c_close(e, &h1), SRV_FX_OK);
	read_disk(e, "same", buf, sizeof(buf));
	assert_string_equal(buf, "first");
	assert_int_equal(count_staging(e, "."), 0);
	pthread_mutex_lock(&e->mu);
	assert_int_equal(e->pub_count, 2);
	pthread_mutex_unlock(&e->mu);
	assert_int_equal(stop(e), 0);
}

/* A receipt as sftpdrop-ingest leaves it. */
static void put_receipt(struct env *e, const char *name, const char *doc)
{
	char p[PATH_MAX * 2];
	int fd;

	snprintf(p, sizeof(p), "%s/" SD_RECEIPTS_DIR, e->root);
	mkdir(p, 0750);
	snprintf(p, sizeof(p), "%s/" SD_RECEIPTS_DIR "/%s", e->root, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0440);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
	close(fd);
}

static void test_receipts_are_a_read_only_window_readable_without_downloads(void **state)
{
	struct env *e = *state;
	struct srv_sftp_attrs a;
	struct handle h;
	char names[4096], buf[128];
	struct pkt p;
	uint32_t id;

	put_receipt(e, "1-a.csv.json", "{\"id\": 1}\n");
	put_receipt(e, SD_RESERVED_PREFIX "tmp.2", "half");
	start(e);
	assert_int_equal(upload(e, "a.csv", "data"), SRV_FX_OK);
	list_dir(e, "/", names, sizeof(names));
	assert_non_null(strstr(names, SD_RECEIPTS_VIRTUAL "\n"));
	assert_null(strstr(names, SD_RECEIPTS_DIR));
	list_dir(e, "/" SD_RECEIPTS_VIRTUAL, names, sizeof(names));
	assert_string_equal(names, "1-a.csv.json\n");
	/* Readable although downloads are off; uploads are not. */
	assert_int_equal(c_open(e, "/.receipts/1-a.csv.json", SRV_FXF_READ, &h), SRV_FX_OK);
	assert_int_equal(c_read(e, &h, 0, buf, sizeof(buf)), SRV_FX_OK);
	assert_string_equal(buf, "{\"id\": 1}\n");
	/* Not even the times of an open receipt change. */
	assert_int_equal(c_setstat(e, NULL, &h, SRV_ATTR_ACMODTIME, 0, 0, 5),
			 SRV_FX_PERMISSION_DENIED);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	assert_int_equal(c_open(e, "a.csv", SRV_FXF_READ, &h), SRV_FX_PERMISSION_DENIED);
	/* Every change is refused. */
	assert_int_equal(c_open(e, "/.receipts/x", SRV_FXF_WRITE | SRV_FXF_CREAT, &h),
			 SRV_FX_PERMISSION_DENIED);
	assert_string_equal(e->msg, "receipts are read-only");
	assert_int_equal(c_path_op(e, SRV_FXP_REMOVE, "/.receipts/1-a.csv.json"),
			 SRV_FX_PERMISSION_DENIED);
	assert_int_equal(c_path_op(e, SRV_FXP_MKDIR, ".receipts/d"), SRV_FX_PERMISSION_DENIED);
	assert_int_equal(c_path_op(e, SRV_FXP_RMDIR, "/x/../.receipts"),
			 SRV_FX_PERMISSION_DENIED);
	assert_int_equal(c_rename(e, "a.csv", "/.receipts/a.json", false),
			 SRV_FX_PERMISSION_DENIED);
	assert_int_equal(c_rename(e, "a.csv", "/.receipts/1-a.csv.json", true),
			 SRV_FX_PERMISSION_DENIED);
	assert_int_equal(c_rename(e, "/.receipts/1-a.csv.json", "b", false),
			 SRV_FX_PERMISSION_DENIED);
	assert_int_equal(c_setstat(e, "/.receipts/1-a.csv.json", NULL, SRV_ATTR_ACMODTIME, 0, 0,
				   5),
			 SRV_FX_PERMISSION_DENIED);
	assert_true(on_disk(e, SD_RECEIPTS_DIR "/1-a.csv.json"));
	/* Under its real name it is reserved like every service name. */
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "/" SD_RECEIPTS_DIR, &a),
			 SRV_FX_PERMISSION_DENIED);
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "/.receipts", &a), SRV_FX_OK);
	/* REALPATH answers the name clients use. */
	head(e, &p, SRV_FXP_REALPATH);
	p_str(&p, "/.receipts/../.receipts/1-a.csv.json");
	id = send_pkt(e, &p);
	assert_int_equal(rx_for(e, id), SRV_FXP_NAME);
	assert_int_equal(g32(e->rx + 9), strlen("/.receipts/1-a.csv.json"));
	assert_memory_equal(e->rx + 13, "/.receipts/1-a.csv.json", g32(e->rx + 9));
	/* ".receipts" below the root is an ordinary name. */
	assert_int_equal(c_path_op(e, SRV_FXP_MKDIR, "d"), SRV_FX_OK);
	assert_int_equal(c_path_op(e, SRV_FXP_MKDIR, "d/.receipts"), SRV_FX_OK);
	assert_int_equal(stop(e), 0);
}

static void test_offsets_and_sizes_are_64_bit(void **state)
{
	struct env *e = *state;
	const uint64_t off = ((uint64_t)1 << 32) + 5; /* past 4 GiB: a hole before */
	struct srv_sftp_attrs a;
	struct handle h;
	struct pkt p;
	uint32_t id;

	e->lim.max_file_size = (uint64_t)1 << 40;
	start(e);
	assert_int_equal(c_open(e, "big", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, off, "z", 1), SRV_FX_OK);
	head(e, &p, SRV_FXP_FSTAT);
	p_strn(&p, h.b, h.n);
	id = send_pkt(e, &p);
	assert_int_equal(rx_for(e, id), SRV_FXP_ATTRS);
	assert_true(g64(e->rx + 9) == off + 1);
	/* fsync@openssh.com on the upload handle answers OK once synced */
	head(e, &p, SRV_FXP_EXTENDED);
	p_str(&p, "fsync@openssh.com");
	p_strn(&p, h.b, h.n);
	assert_int_equal(status(e, send_pkt(e, &p)), SRV_FX_OK);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	assert_int_equal(c_stat(e, SRV_FXP_STAT, "big", &a), SRV_FX_OK);
	assert_true(a.size == off + 1);
	pthread_mutex_lock(&e->mu);
	assert_true(e->pub_size == off + 1);
	pthread_mutex_unlock(&e->mu);
	assert_int_equal(stop(e), 0);
}

/* ---- the relation quota (issue 4) ---- */

static void put_file(struct env *e, const char *rel, size_t size)
{
	char p[PATH_MAX * 2];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", e->root, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

static void test_quota_at_the_bound_counts_files_staging_and_holes(void **state)
{
	struct env *e = *state;
	static char data[1000];
	struct handle h;

	memset(data, 'q', sizeof(data));
	e->lim.quota = 1000;
	/* 300 bytes already there (a sparse file counts its apparent size);
	 * receipts are the service's and do not count. */
	put_file(e, "old", 300);
	put_receipt(e, "r.json", "{\"a\": 1}");
	start(e);
	/* up to exactly the quota: fine */
	assert_int_equal(c_open(e, "a", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, data, 699), SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 699, data, 1), SRV_FX_OK);
	/* rewriting bytes already counted costs nothing */
	assert_int_equal(c_write(e, &h, 0, data, 700), SRV_FX_OK);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	assert_true(on_disk(e, "a"));
	/* one byte over: refused with a message that says so, never published */
	assert_int_equal(c_open(e, "b", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, data, 1), SRV_FX_FAILURE);
	assert_string_equal(e->msg, "quota exceeded");
	assert_int_equal(c_close(e, &h), SRV_FX_FAILURE);
	assert_false(on_disk(e, "b"));
	assert_int_equal(count_staging(e, "."), 0);
	/* the session stays usable: removing a file makes room */
	assert_int_equal(c_path_op(e, SRV_FXP_REMOVE, "old"), SRV_FX_OK);
	assert_int_equal(upload(e, "c", "0123456789"), SRV_FX_OK);
	/* a hole counts like data */
	assert_int_equal(c_open(e, "d", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 290, data, 1), SRV_FX_FAILURE);
	assert_string_equal(e->msg, "quota exceeded");
	assert_int_equal(c_close(e, &h), SRV_FX_FAILURE);
	/* exactly at the bound: 700 + 10 + 290 */
	assert_int_equal(c_open(e, "d", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 289, data, 1), SRV_FX_OK);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	/* a replacement needs room beside the file it replaces until CLOSE */
	assert_int_equal(c_open(e, "a", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, data, 100), SRV_FX_FAILURE);
	assert_int_equal(c_close(e, &h), SRV_FX_FAILURE);
	assert_int_equal(c_path_op(e, SRV_FXP_REMOVE, "d"), SRV_FX_OK);
	assert_int_equal(c_open(e, "a", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, data, 100), SRV_FX_OK);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	/* a new session counts what is on disk: 100 + 10, and an interrupted
	 * upload's staging file counts too */
	next_session(e);
	assert_int_equal(c_open(e, "p", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, data, 500), SRV_FX_OK);
	next_session(e); /* EOF: p's 500 bytes kept for resume */
	assert_int_equal(c_open(e, "q", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, data, 390), SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 390, data, 1), SRV_FX_FAILURE);
	assert_string_equal(e->msg, "quota exceeded");
	assert_int_equal(c_close(e, &h), SRV_FX_FAILURE);
	assert_int_equal(stop(e), 0);
}

static void test_quota_refuses_resize_and_copy_past_it(void **state)
{
	struct env *e = *state;
	struct srv_sftp_attrs a = { .flags = SRV_ATTR_SIZE };
	struct handle h;
	struct pkt p;

	e->lim.quota = 1000;
	start(e);
	assert_int_equal(upload(e, "f", "0123456789"), SRV_FX_OK);
	assert_int_equal(c_open(e, "g", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	/* FSETSTAT size grows the file by a hole: counted like a write */
	a.size = 991;
	head(e, &p, SRV_FXP_FSETSTAT);
	p_strn(&p, h.b, h.n);
	p_u32(&p, SRV_ATTR_SIZE);
	p_u64(&p, a.size);
	assert_int_equal(status(e, send_pkt(e, &p)), SRV_FX_FAILURE);
	assert_string_equal(e->msg, "quota exceeded");
	head(e, &p, SRV_FXP_FSETSTAT);
	p_strn(&p, h.b, h.n);
	p_u32(&p, SRV_ATTR_SIZE);
	p_u64(&p, 990);
	assert_int_equal(status(e, send_pkt(e, &p)), SRV_FX_OK);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	/* appending to f copies it into staging first: 10 more bytes than
	 * there is room for */
	assert_int_equal(c_open(e, "f", SRV_FXF_WRITE | SRV_FXF_APPEND, &h), SRV_FX_FAILURE);
	assert_string_equal(e->msg, "quota exceeded");
	assert_int_equal(stop(e), 0);
}

static void test_statvfs_reports_what_the_quota_leaves(void **state)
{
	struct env *e = *state;
	static char data[40960];
	struct handle h;
	struct pkt p;
	uint64_t frsize;
	uint32_t id;

	e->lim.quota = 100 * 4096;
	start(e);
	assert_int_equal(c_open(e, "f", SRV_FXF_WRITE | SRV_FXF_CREAT | SRV_FXF_TRUNC, &h),
			 SRV_FX_OK);
	assert_int_equal(c_write(e, &h, 0, data, sizeof(data)), SRV_FX_OK);
	head(e, &p, SRV_FXP_EXTENDED);
	p_str(&p, "statvfs@openssh.com");
	p_str(&p, "/");
	id = send_pkt(e, &p);
	assert_int_equal(rx_for(e, id), SRV_FXP_EXTENDED_REPLY);
	frsize = g64(e->rx + 5 + 8);
	assert_true(frsize > 0);
	/* blocks, bfree, bavail */
	assert_true(g64(e->rx + 5 + 16) <= 100 * 4096 / frsize);
	assert_true(g64(e->rx + 5 + 24) <= 90 * 4096 / frsize);
	assert_true(g64(e->rx + 5 + 32) <= 90 * 4096 / frsize);
	assert_true(g64(e->rx + 5 + 32) * frsize > 90 * 4096 - frsize);
	/* fstatvfs on the open upload says the same */
	head(e, &p, SRV_FXP_EXTENDED);
	p_str(&p, "fstatvfs@openssh.com");
	p_strn(&p, h.b, h.n);
	id = send_pkt(e, &p);
	assert_int_equal(rx_for(e, id), SRV_FXP_EXTENDED_REPLY);
	assert_true(g64(e->rx + 5 + 32) <= 90 * 4096 / frsize);
	assert_int_equal(c_close(e, &h), SRV_FX_OK);
	assert_int_equal(stop(e), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_init_advertises_exactly_the_supported_extensions),
		T(test_request_before_init_ends_session),
		T(test_second_init_ends_session),
		T(test_upload_is_published_only_by_clean_close),
		T(test_file_size_limit_at_the_bound),
		T(test_path_length_and_depth_limits_at_the_bound),
		T(test_unrecorded_upload_is_not_published),
		T(test_upload_refused_at_the_answer_is_not_published),
		T(test_upload_in_subdir_publishes_relative_path),
		T(test_utf8_names_are_stored_byte_exact),
		T(test_dotdot_and_absolute_paths_stay_inside_root),
		T(test_symlinks_inside_root_do_not_reach_outside),
		T(test_rename_never_overwrites_posix_rename_replaces),
		T(test_unknown_requests_get_op_unsupported_session_continues),
		T(test_links_are_refused),
		T(test_too_many_handles_refused),
		T(test_control_characters_in_names_refused),
		T(test_staging_names_cannot_be_addressed),
		T(test_reads_refused_when_downloads_disabled),
		T(test_download_when_enabled_reads_then_eof),
		T(test_malformed_request_gets_bad_message_session_continues),
		T(test_oversized_frame_ends_session),
		T(test_open_flags_follow_the_draft),
		T(test_excl_upload_does_not_replace_a_name_created_meanwhile),
		T(test_resume_and_append_never_change_published_file_in_place),
		T(test_setstat_times_apply_owner_and_resize_refused),
		T(test_failed_write_is_never_published),
		T(test_eof_with_open_upload_publishes_nothing_keeps_partial),
		T(test_interrupted_upload_is_resumed_by_stat_and_open_without_trunc),
		T(test_a_new_upload_supersedes_an_interrupted_one),
		T(test_two_uploads_of_one_name_at_once_the_last_close_wins),
		T(test_receipts_are_a_read_only_window_readable_without_downloads),
		T(test_realpath_is_lexical_and_accepts_missing_paths),
		T(test_readdir_comes_in_bounded_batches),
		T(test_readdir_longname_is_ls_style),
		T(test_remove_mkdir_rmdir),
		T(test_statvfs_fstatvfs_fsync_limits),
		T(test_pipelined_requests_answered_in_order),
		T(test_requests_split_across_reads_are_reassembled),
		T(test_invalid_handles_and_limits),
		T(test_offsets_and_sizes_are_64_bit),
		T(test_quota_at_the_bound_counts_files_staging_and_holes),
		T(test_quota_refuses_resize_and_copy_past_it),
		T(test_statvfs_reports_what_the_quota_leaves),
		cmocka_unit_test(test_jail_clean_normalises_and_refuses),
	};
#undef T

	/* Event lines to stderr, as in the foreground daemon. */
	log_init("test_sftp_server", true, false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
