/* SFTP request handlers. Each one checks and resolves all of its inputs
 * first, touches the file system only beneath the root fd (sftp_jail), and
 * queues exactly one reply. Uploads go to a private staging file that a clean
 * CLOSE renames onto the final name, so a reader never sees a partial file. */
#include "sftp_handlers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "defs.h"
#include "fault.h"
#include "log.h"
#include "staging.h"
#include "util.h"

/* Staging files are private to this session until published. */
#define SFTP_STAGING_MODE 0600
/* A published file: readable by the group, so that sftpdrop-ingest can take
 * its copy when it runs under another uid in the relation's group. */
#define SFTP_PUBLISH_MODE 0640
/* New directories: same reasoning as SFTP_PUBLISH_MODE. */
#define SFTP_MKDIR_MODE 0750
/* Staging name collisions need 64 equal random bits for the same target; a
 * few tries make an EEXIST loop impossible without looping forever. */
#define SFTP_STAGING_TRIES 4
/* READDIR batches: OpenSSH refuses replies above 256 KiB; these keep a
 * batch well under that and under any max_packet we accept. */
#define SFTP_READDIR_MAX_ENTRIES 100
#define SFTP_READDIR_MAX_BYTES (64 * 1024)
/* Upper bound of one NAME entry: name (255) + longname + attrs. */
#define SFTP_READDIR_ENTRY_MAX 1024
#define SFTP_LONGNAME_MAX 600
/* Bytes per copy_file_range call when resuming onto an existing file. */
#define SFTP_COPY_CHUNK (1u << 30)
/* Buffer of the read/write fallback when copy_file_range is unavailable. */
#define SFTP_COPY_BUF (128 * 1024)

/* ---- helpers ---------------------------------------------------------- */

/* ---- the receipts window ---------------------------------------------
 * sftpdrop-ingest writes a relation's receipts into SD_RECEIPTS_DIR in its
 * upload directory. Clients see that directory as /SD_RECEIPTS_VIRTUAL,
 * read-only (the permission check in sftp_server.c refuses every change
 * there and allows reading even when downloads are off); under its real
 * name it is reserved like every SD_RESERVED_PREFIX name. */

static bool in_receipts(const char *path)
{
	size_t n = strlen(SD_RECEIPTS_VIRTUAL);

	return path[0] == '/' && strncmp(path + 1, SD_RECEIPTS_VIRTUAL, n) == 0 &&
	       (path[1 + n] == '\0' || path[1 + n] == '/');
}

bool sftp_path_in_receipts(const struct srv_sftp_str *raw)
{
	char buf[SRV_JAIL_PATH_MAX];

	if (!raw->p)
		return false;
	if (srv_jail_normalize((const char *)raw->p, raw->len, buf, sizeof(buf)) < 0)
		return false;
	return in_receipts(buf);
}

/* A normalised path in the window becomes its path on disk. 1 if it was in
 * the window, 0 if not, -ENAMETOOLONG. */
static int map_receipts(char *path)
{
	size_t vn = strlen(SD_RECEIPTS_VIRTUAL), dn = strlen(SD_RECEIPTS_DIR);
	size_t len = strlen(path);

	if (!in_receipts(path))
		return 0;
	if (len - vn + dn >= SRV_JAIL_PATH_MAX)
		return -ENAMETOOLONG;
	memmove(path + 1 + dn, path + 1 + vn, len - vn); /* with the NUL */
	memcpy(path + 1, SD_RECEIPTS_DIR, dn);
	return 1;
}

/* The reverse, for names shown to the client (REALPATH). */
static void unmap_receipts(char *path)
{
	size_t vn = strlen(SD_RECEIPTS_VIRTUAL), dn = strlen(SD_RECEIPTS_DIR);

	if (path[0] != '/' || strncmp(path + 1, SD_RECEIPTS_DIR, dn) != 0 ||
	    (path[1 + dn] != '\0' && path[1 + dn] != '/'))
		return;
	memmove(path + 1 + vn, path + 1 + dn, strlen(path + 1 + dn) + 1);
	memcpy(path + 1, SD_RECEIPTS_VIRTUAL, vn);
}

/* Check and normalise a client path into out (SRV_JAIL_PATH_MAX bytes);
 * a path in the receipts window comes out as its path on disk. 1 if it is
 * in the window, 0 if not, or -errno. */
static int client_path(const struct sftp_session *s, const struct srv_sftp_str *p, char *out)
{
	int r = srv_jail_clean(p->p, p->len, out, SRV_JAIL_PATH_MAX);
	unsigned depth = 0;

	if (r == -EILSEQ)
		return -SFTP_E_CTRLCHAR;
	if (r == -EPERM)
		return -SFTP_E_RESERVED;
	if (r < 0)
		return r;
	/* Bounds that the ingest watcher and the spool must be able to follow. */
	if ((uint32_t)r > s->lim->max_path)
		return -ENAMETOOLONG;
	/* Components below the root: "/a/b/f" is 3. */
	for (const char *c = out; *c; c++)
		depth += c[0] == '/' && c[1] != '\0';
	if (depth > s->lim->max_depth)
		return -SFTP_E_DEPTH;
	return map_receipts(out);
}

/* Parent directory fd for an operation on the last component of path. */
static int parent_of(int rootfd, const char *path, const char **name)
{
	if (strcmp(path, "/") == 0)
		return -SFTP_E_ROOT;
	return srv_jail_open_parent(rootfd, path, name);
}

/* Like parent_of, but "/" gives (a duplicate of) the root and ".", for
 * operations that make sense on the upload directory too (lstat, setstat). */
static int target_at(int rootfd, const char *path, const char **name)
{
	int fd;

	if (strcmp(path, "/") != 0)
		return srv_jail_open_parent(rootfd, path, name);
	fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	*name = ".";
	return fd;
}

static uint32_t time32(time_t t)
{
	/* v3 times are uint32: clamp rather than wrap. */
	if (t < 0)
		return 0;
	if ((unsigned long long)t > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)t;
}

static void attrs_from_stat(const struct stat *st, struct srv_sftp_attrs *a)
{
	memset(a, 0, sizeof(*a));
	a->flags = SRV_ATTR_SIZE | SRV_ATTR_UIDGID | SRV_ATTR_PERMISSIONS |
		   SRV_ATTR_ACMODTIME;
	a->size = st->st_size < 0 ? 0 : (uint64_t)st->st_size;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->perm = st->st_mode; /* with the S_IF* type bits, as clients expect */
	a->atime = time32(st->st_atime);
	a->mtime = time32(st->st_mtime);
}

static int reply_stat(struct sftp_session *s, uint32_t id, const struct stat *st)
{
	struct srv_sftp_attrs a;

	attrs_from_stat(st, &a);
	return sftp_sent(s, id, srv_sftp_put_attrs(&s->out, id, &a));
}

static int reply_handle(struct sftp_session *s, uint32_t id,
			const struct sftp_handle *h)
{
	return sftp_sent(s, id,
			 srv_sftp_put_handle(&s->out, id, h->id, SFTP_HANDLE_LEN));
}

/* fd to stat or sync for a handle of any kind. */
static int handle_fd(const struct sftp_handle *h)
{
	return h->dir ? dirfd(h->dir) : h->fd;
}

static bool hidden_name(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	       strncmp(name, SD_RESERVED_PREFIX, strlen(SD_RESERVED_PREFIX)) == 0;
}

/* STAT of a name that is not there: an interrupted upload of it (its
 * resumable staging file, while nobody writes it) answers instead, so that
 * a client can see how much arrived and resume (docs/ingest.md). An upload
 * still in progress stays invisible. 0 and *st, or -ENOENT. */
static int partial_stat(int rootfd, const char *path, struct stat *st)
{
	char slot[SFTP_STAGING_NAME_MAX];
	const char *name = NULL;
	int pfd, fd = -1, r;

	if (strcmp(path, "/") == 0)
		return -ENOENT;
	pfd = srv_jail_open_parent(rootfd, path, &name);
	if (pfd < 0)
		return -ENOENT;
	r = staging_name_resume(name, slot);
	if (r >= 0) {
		fd = openat(pfd, slot, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		r = fd < 0 ? -errno : 0;
	}
	if (r == 0 && (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || staging_locked(fd) != 0))
		r = -ENOENT;
	if (fd >= 0)
		close(fd);
	close(pfd);
	return r == 0 ? 0 : -ENOENT;
}

/* ---- OPEN ------------------------------------------------------------- */

/* A new staging file for target under a random name (staging.h), locked
 * for writing. fd, or -errno. */
static int create_staging(int pfd, const char *target, char name[SFTP_STAGING_NAME_MAX])
{
	uint8_t rnd[STAGING_RANDOM_LEN];
	int fd, r;

	for (int i = 0; i < SFTP_STAGING_TRIES; i++) {
		r = util_random(rnd, sizeof(rnd));
		if (r < 0)
			return r;
		r = staging_name_random(target, rnd, name);
		if (r < 0)
			return r;
		fd = openat(pfd, name,
			    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    SFTP_STAGING_MODE);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return -errno;
		/* Only a watcher looking at it can hold a lock on a file
		 * this new, and only for a moment: wait for it. */
		r = staging_lock(fd, true, true);
		if (r < 0) {
			unlinkat(pfd, name, 0);
			close(fd);
			return r;
		}
		return fd;
	}
	return -EEXIST;
}

/* The resumable staging file of target, locked for writing: an interrupted
 * upload of that name (*len its length), or with create a new empty one.
 * -EAGAIN while another session writes it, -ENAMETOOLONG if target is too
 * long to have one, -ENOENT. */
static int open_slot(int pfd, const char *target, bool create,
		     char name[SFTP_STAGING_NAME_MAX], off_t *len)
{
	struct stat st, now;
	int fd, r;

	r = staging_name_resume(target, name);
	if (r < 0)
		return r;
	fd = openat(pfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0),
		    SFTP_STAGING_MODE);
	if (fd < 0)
		return -errno;
	r = staging_lock(fd, true, false);
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	/* The watcher removes an expired partial only while it holds a lock
	 * on it: if that happened between our open and our lock, this inode
	 * has no name any more and must not be written to. */
	if (r == 0 && (!S_ISREG(st.st_mode) || st.st_nlink == 0 ||
		       fstatat(pfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
		       now.st_ino != st.st_ino || now.st_dev != st.st_dev))
		r = -EAGAIN;
	if (r < 0) {
		close(fd);
		return r;
	}
	*len = st.st_size;
	return fd;
}

/* After a publish: an interrupted upload of the same name that nobody is
 * resuming is superseded by it. */
static void drop_superseded(struct sftp_session *s, int pfd, const char *target,
			    const char *ours, const char *path)
{
	char slot[SFTP_STAGING_NAME_MAX];
	off_t len = 0;
	int fd = open_slot(pfd, target, false, slot, &len);

	if (fd < 0)
		return;
	if (strcmp(slot, ours) != 0 && unlinkat(pfd, slot, 0) == 0) {
		sftp_quota_free(s, (uint64_t)len);
		log_event(LOG_INFO, "sftp_discard", "path=%s size=%lld reason=superseded",
			  log_q(path), (long long)len);
	}
	close(fd);
}

static int copy_rw(int src, int dst)
{
	uint8_t *buf = malloc(SFTP_COPY_BUF);
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(src, buf, SFTP_COPY_BUF);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		r = util_write_all(dst, buf, (size_t)n);
		if (r < 0)
			goto out;
	}
out:
	free(buf);
	return r;
}

/* Copy an existing target into the fresh staging file, so that resuming
 * or appending never changes the published file in place. */
static int copy_target(int pfd, const char *name, int dst)
{
	struct stat st;
	int src, r = 0;

	src = openat(pfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (src < 0)
		return -errno;
	if (fstat(src, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -SFTP_E_NOTREG;
		goto out;
	}
	for (;;) {
		/* In-kernel copy (reflink on file systems that can); both
		 * file offsets advance, so a fallback continues from there. */
		ssize_t n = copy_file_range(src, NULL, dst, NULL,
					    SFTP_COPY_CHUNK, 0);

		if (n > 0)
			continue;
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
		    errno == EOPNOTSUPP || errno == EPERM) {
			r = copy_rw(src, dst);
			break;
		}
		r = -errno;
		break;
	}
out:
	close(src);
	return r;
}

static int open_write(struct sftp_session *s, const struct srv_sftp_req *q)
{
	char *path = s->path_a;
	char staging[SFTP_STAGING_NAME_MAX] = "";
	struct sftp_handle *h;
	const char *name = NULL;
	const char *how = "new";
	struct stat st;
	bool exists = false, resume, keep_staging = false;
	off_t partial = 0;
	int pfd = -1, fd = -1, r;

	r = client_path(s, &q->path, path);
	if (r < 0)
		return sftp_fail_str(s, q->id, r, "open", &q->path);
	h = sftp_handle_new(s, &r);
	if (!h)
		return sftp_fail(s, q->id, r, "open", path);
	pfd = parent_of(s->rootfd, path, &name);
	if (pfd < 0) {
		r = pfd;
		goto fail;
	}
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		exists = true;
	} else if (errno != ENOENT) {
		r = -errno;
		goto fail;
	}
	if (exists && (q->pflags & SRV_FXF_EXCL))
		r = -EEXIST;
	else if (exists && S_ISDIR(st.st_mode))
		r = -EISDIR;
	else if (exists && !S_ISREG(st.st_mode))
		r = -SFTP_E_NOTREG;
	if (r < 0)
		goto fail;
	/* Without a published file, what an interrupted upload of this name
	 * left is continued unless the client asks for a new file: that is
	 * how OpenSSH's reput and WinSCP resume (STAT shows its size). */
	resume = !exists && !(q->pflags & (SRV_FXF_TRUNC | SRV_FXF_EXCL));
	fd = open_slot(pfd, name, exists || (q->pflags & SRV_FXF_CREAT), staging, &partial);
	if (fd == -ENOENT && !exists && !(q->pflags & SRV_FXF_CREAT)) {
		r = -ENOENT;
		goto fail;
	}
	if (fd == -EAGAIN && !exists && !(q->pflags & SRV_FXF_CREAT)) {
		r = -EBUSY; /* being uploaded by another session */
		goto fail;
	}
	if (fd >= 0 && partial > 0 && resume) {
		how = "resume";
		keep_staging = true;
	} else if (fd >= 0 && partial > 0) {
		/* The client starts over (or from the published file): what
		 * the interrupted upload left is superseded. */
		if (ftruncate(fd, 0) < 0) {
			r = -errno;
			goto fail;
		}
		sftp_quota_free(s, (uint64_t)partial);
		log_event(LOG_INFO, "sftp_discard", "path=%s size=%lld reason=superseded",
			  log_q(path), (long long)partial);
	} else if (fd == -EAGAIN || fd == -ENAMETOOLONG) {
		/* Another session uploads the same name, or it is too long to
		 * have a resumable slot: a staging file of our own. */
		staging[0] = '\0';
		fd = create_staging(pfd, name, staging);
	}
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	if (exists && !(q->pflags & SRV_FXF_TRUNC)) {
		/* The copy is a second file until it replaces the first. */
		uint64_t size = (uint64_t)st.st_size;

		how = "copy";
		if (s->lim->quota &&
		    (size > s->lim->quota || s->usage->used > s->lim->quota - size)) {
			r = -EDQUOT;
			goto fail;
		}
		r = copy_target(pfd, name, fd);
		if (r < 0)
			goto fail;
		s->usage->used += size;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (q->pflags & SRV_FXF_APPEND) {
		/* Set after the copy: copy_file_range refuses O_APPEND. On
		 * Linux pwrite on an O_APPEND fd appends, as APPEND asks. */
		int fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_APPEND) < 0) {
			r = -errno;
			goto fail;
		}
	}
	h->path = strdup(path);
	if (!h->path) {
		r = -ENOMEM;
		goto fail;
	}
	h->name = h->path + (name - path);
	memcpy(h->staging, staging, sizeof(h->staging));
	h->fd = fd;
	h->parentfd = pfd;
	h->pflags = q->pflags;
	h->size = (uint64_t)st.st_size;
	h->kind = SFTP_H_WRITE;
	if (keep_staging)
		log_event(LOG_INFO, "sftp_resume", "path=%s offset=%lld", log_q(path),
			  (long long)partial);
	log_event(LOG_INFO, "sftp_open", "path=%s mode=write flags=0x%x exists=%s start=%s",
		  log_q(path), q->pflags, exists ? "yes" : "no", how);
	return reply_handle(s, q->id, h);
fail:
	if (fd >= 0) {
		/* An interrupted upload we were about to continue stays. */
		if (!keep_staging)
			unlinkat(pfd, staging, 0);
		close(fd);
	}
	if (pfd >= 0)
		close(pfd);
	return sftp_fail(s, q->id, r, "open", path);
}

static int open_read(struct sftp_session *s, const struct srv_sftp_req *q)
{
	char *path = s->path_a;
	struct sftp_handle *h;
	struct stat st;
	bool receipts;
	int fd = -1, r;

	r = client_path(s, &q->path, path);
	if (r < 0)
		return sftp_fail_str(s, q->id, r, "open", &q->path);
	receipts = r == 1;
	h = sftp_handle_new(s, &r);
	if (!h)
		return sftp_fail(s, q->id, r, "open", path);
	/* O_NONBLOCK: opening a FIFO someone placed here must not hang us. */
	fd = srv_jail_open(s->rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -SFTP_E_NOTREG;
		goto fail;
	}
	h->path = strdup(path);
	if (!h->path) {
		r = -ENOMEM;
		goto fail;
	}
	h->fd = fd;
	h->pflags = q->pflags;
	h->readonly = receipts;
	h->kind = SFTP_H_READ;
	log_event(LOG_INFO, "sftp_open", "path=%s mode=read flags=0x%x",
		  log_q(path), q->pflags);
	return reply_handle(s, q->id, h);
fail:
	if (fd >= 0)
		close(fd);
	return sftp_fail(s, q->id, r, "open", path);
}

int sftp_h_open(struct sftp_session *s, const struct srv_sftp_req *q)
{
	/* Any WRITE flag makes it an upload; the permission check has
	 * already required allow_download for everything else. */
	if (q->pflags & SRV_FXF_WRITE)
		return open_write(s, q);
	return open_read(s, q);
}

/* ---- CLOSE: publish --------------------------------------------------- */

static int publish(struct sftp_session *s, struct sftp_handle *h, uint32_t id)
{
	char ours[SFTP_STAGING_NAME_MAX];
	struct stat st, old;
	unsigned flags;
	bool synced = true;
	int dfd, r = 0;

	if (h->failed) {
		r = -SFTP_E_PARTIAL;
		goto fail;
	}
	/* Writes after FSETSTAT moved mtime again; the client's time wins. */
	if (h->times_set && futimens(h->fd, h->times) < 0) {
		r = -errno;
		goto fail;
	}
	if (fchmod(h->fd, SFTP_PUBLISH_MODE) < 0 || fstat(h->fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	/* On record first: the ingest watcher may act on the name as soon as
	 * it appears, and must then find who uploaded it. The data sync runs
	 * while the record is made. */
	if (s->io->published &&
	    s->io->published(s->io->ctx, h->path + 1, (uint64_t)st.st_size,
			     (uint64_t)st.st_dev, (uint64_t)st.st_ino) < 0) {
		r = -SFTP_E_RECORD;
		goto fail;
	}
	r = s->lim->sync_on_close && fdatasync(h->fd) < 0 ? -errno : 0;
	if (s->io->published && s->io->published_wait && s->io->published_wait(s->io->ctx) < 0) {
		r = -SFTP_E_RECORD;
		goto fail;
	}
	if (r < 0) {
		if (s->io->published && s->io->unpublished)
			s->io->unpublished(s->io->ctx, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
		goto fail;
	}
	/* A crash here leaves a record without a file: ingest marks it
	 * vanished, and the staging file stays for resume. */
	fault_point("publish_before_rename");
	/* EXCL promised the client we would not replace anything: keep that
	 * promise against a name that appeared while it was uploading. */
	flags = (h->pflags & SRV_FXF_EXCL) ? RENAME_NOREPLACE : 0;
	memcpy(ours, h->staging, sizeof(ours));
	if (fstatat(h->parentfd, h->name, &old, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(old.st_mode))
		old.st_size = 0;
	if (renameat2(h->parentfd, h->staging, h->parentfd, h->name, flags) < 0) {
		r = -errno;
		if (s->io->unpublished)
			s->io->unpublished(s->io->ctx, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
		goto fail;
	}
	h->staging[0] = '\0';
	sftp_quota_free(s, (uint64_t)old.st_size);
	drop_superseded(s, h->parentfd, h->name, ours, h->path);
	if (s->lim->sync_on_close) {
		dfd = openat(h->parentfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) < 0) {
			r = -errno;
			synced = false;
		}
		if (dfd >= 0)
			close(dfd);
	}
	log_event(LOG_INFO, "sftp_publish", "path=%s size=%llu synced=%s",
		  log_q(h->path), (unsigned long long)st.st_size,
		  s->lim->sync_on_close ? (synced ? "yes" : "failed") : "no");
	/* The name is visible now whatever the directory sync said; the
	 * client hears the truth. */
	if (!synced) {
		log_event(LOG_WARNING, "sftp_error",
			  "op=close path=%s reason=\"directory sync failed\" errno=%s",
			  log_q(h->path), strerrorname_np(-r) ? strerrorname_np(-r) : "?");
		sftp_handle_release(s, h, "closed");
		return sftp_status(s, id, SRV_FX_FAILURE,
				   "file stored but not synced to disk");
	}
	sftp_handle_release(s, h, "closed");
	return sftp_status(s, id, SRV_FX_OK, "");
fail:
	r = sftp_fail(s, id, r, "close", h->path);
	sftp_handle_release(s, h, "publish_failed");
	return r;
}

int sftp_h_close(struct sftp_session *s, const struct srv_sftp_req *q)
{
	struct sftp_handle *h = sftp_handle_get(s, &q->handle);

	if (!h)
		return sftp_fail(s, q->id, -SFTP_E_HANDLE, "close", NULL);
	if (h->kind == SFTP_H_WRITE)
		return publish(s, h, q->id);
	sftp_handle_release(s, h, "closed");
	return sftp_status(s, q->id, SRV_FX_OK, "");
}

/* ---- READ / WRITE ----------------------------------------------------- */

int sftp_h_read(struct sftp_session *s, const struct srv_sftp_req *q)
{
	struct sftp_handle *h = sftp_handle_get(s, &q->handle);
	size_t len, mark;
	uint8_t *dst;
	ssize_t n;
	int r;

	if (!h)
		return sftp_fail(s, q->id, -SFTP_E_HANDLE, "read", NULL);
	if (h->kind != SFTP_H_READ && h->kind != SFTP_H_WRITE)
		return sftp_fail(s, q->id, -SFTP_E_HKIND, "read", h->path);
	if (q->offset > (uint64_t)INT64_MAX)
		return sftp_status(s, q->id, SRV_FX_EOF, "end of file");
	/* A shorter reply than asked for is allowed; clients then ask again. */
	len = q->len < s->max_read ? q->len : s->max_read;
	r = srv_sftp_data_begin(&s->out, q->id, len, &dst, &mark);
	if (r < 0)
		return sftp_sent(s, q->id, r);
	do
		n = pread(h->fd, dst, len, (off_t)q->offset);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		r = n < 0 ? -errno : 0;
		srv_sftp_cancel(&s->out, mark);
		if (r < 0)
			return sftp_fail(s, q->id, r, "read", h->path);
		return sftp_status(s, q->id, SRV_FX_EOF, "end of file");
	}
	return sftp_sent(s, q->id, srv_sftp_data_commit(&s->out, mark, (size_t)n));
}

#define SFTP_WRITEBACK_CHUNK ((uint64_t)8 << 20)

int sftp_h_write(struct sftp_session *s, const struct srv_sftp_req *q)
{
	struct sftp_handle *h = sftp_handle_get(s, &q->handle);
	size_t done = 0;
	int r = 0;

	if (!h)
		return sftp_fail(s, q->id, -SFTP_E_HANDLE, "write", NULL);
	if (h->kind != SFTP_H_WRITE)
		return sftp_fail(s, q->id, -SFTP_E_HKIND, "write", h->path);
	/* Doomed already: do not fill the disk further, nor the log with a
	 * line for each of the WRITEs the client still has in flight. */
	if (h->failed)
		return sftp_status(s, q->id, SRV_FX_FAILURE,
				   "upload incomplete: an earlier write failed");
	if (q->offset > (uint64_t)INT64_MAX - q->data.len ||
	    q->offset + q->data.len > s->lim->max_file_size) {
		r = -EFBIG;
		goto out;
	}
	/* Counted before a byte lands: an upload past the quota fails here,
	 * whole, and is never published. APPEND writes at the end. */
	r = sftp_quota_grow(s, h, ((h->pflags & SRV_FXF_APPEND) ? h->size : q->offset) +
					  q->data.len);
	if (r < 0)
		goto out;
	/* Straight from the receive buffer: no copy, no allocation. */
	while (done < q->data.len) {
		ssize_t n = pwrite(h->fd, q->data.p + done, q->data.len - done,
				   (off_t)(q->offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -ENOSPC;
			goto out;
		}
		done += (size_t)n;
	}
	/* Durable CLOSE: start write-back of each 8 MiB as it fills, so that
	 * the fdatasync at CLOSE does not find the whole file still dirty.
	 * Asynchronous and only a hint: fdatasync still decides. */
	if (s->lim->sync_on_close && q->data.len > 0 &&
	    (q->offset + q->data.len) / SFTP_WRITEBACK_CHUNK > q->offset / SFTP_WRITEBACK_CHUNK) {
		uint64_t to = (q->offset + q->data.len) / SFTP_WRITEBACK_CHUNK * SFTP_WRITEBACK_CHUNK;

		(void)sync_file_range(h->fd, (off_t)(to - SFTP_WRITEBACK_CHUNK),
				      (off_t)SFTP_WRITEBACK_CHUNK, SYNC_FILE_RANGE_WRITE);
	}
out:
	if (r < 0) {
		/* The staging file now has a hole or a short tail: it must
		 * never be published, whatever the client does next. */
		h->failed = true;
		return sftp_fail(s, q->id, r, "write", h->path);
	}
	return sftp_status(s, q->id, SRV_FX_OK, "");
}

/* ---- STAT family ------------------------------------------------------ */

int sftp_h_stat(struct sftp_session *s, const struct srv_sftp_req *q)
{
	char *path = s->path_a;
	struct stat st;
	int fd, r;

	r = client_path(s, &q->path, path);
	if (r < 0)
		return sftp_fail_str(s, q->id, r, "stat", &q->path);
	/* Follows symlinks, but only ever to a place beneath the root. */
	fd = srv_jail_open(s->rootfd, path, O_PATH, 0);
	if (fd == -ENOENT && partial_stat(s->rootfd, path, &st) == 0)
		return reply_stat(s, q->id, &st);
	if (fd < 0)
		return sftp_fail(s, q->id, fd, "stat", path);
	r = fstat(fd, &st) < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return sftp_fail(s, q->id, r, "stat", path);
	return reply_stat(s, q->id, &st);
}

int sftp_h_lstat(struct sftp_session *s, const struct srv_sftp_req *q)
{
	char *path = s->path_a;
	const char *name = NULL;
	struct stat st;
	int dfd, r;

	r = client_path(s, &q->path, path);
	if (r < 0)
		return sftp_fail_str(s, q->id, r, "lstat", &q->path);
	dfd = target_at(s->rootfd, path, &name);
	if (dfd < 0)
		return sftp_fail(s, q->id, dfd, "lstat", path);
	r = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	close(dfd);
	if (r == -ENOENT && partial_stat(s->rootfd, path, &st) == 0)
		r = 0;
	if (r < 0)
		return sftp_fail(s, q->id, r, "lstat", path);
	return reply_stat(s, q->id, &st);
}

int sftp_h_fstat(struct sftp_session *s, const struct srv_sftp_req *q)
{
	struct sftp_handle *h = sftp_handle_get(s, &q->handle);
	struct stat st;

	if (!h)
		return sftp_fail(s, q->id, -SFTP_E_HANDLE, "fstat", NULL);
	if (fstat(handle_fd(h), &st) < 0)
		return sftp_fail(s, q->id, -errno, "fstat", h->path);
	return reply_stat(s, q->id, &st);
}

/* ---- SETSTAT ---------------------------------------------------------- */

/* What a drop box accepts: times always (WinSCP and `put -p` set them after
 * every upload and must not see an error); permissions accepted and ignored
 * (the service decides modes); owner only if unchanged; size only on an
 * upload still in staging, or unchanged, because resizing a published file
 * would change it in place behind ingest's back. */
static int check_setstat(const struct srv_sftp_attrs *a, const struct stat *st,
			 bool staging)
{
	if ((a->flags & SRV_ATTR_UIDGID) &&
	    (a->uid != st->st_uid || a->gid != st->st_gid))
		return -SFTP_E_OWNER;
	if (a->flags & SRV_ATTR_SIZE) {
		if (!staging && a->size != (uint64_t)st->st_size)
			return -SFTP_E_INPLACE;
		if (a->size > (uint64_t)INT64_MAX)
			return -EFBIG;
	}
	return 0;
}

static void attr_times(const struct srv_sftp_attrs *a, struct timespec ts[2])
{
	ts[0].tv_sec = (time_t)a->atime;
	ts[0].tv_nsec = 0;
	ts[1].tv_sec = (time_t)a->mtime;
	ts[1].tv_nsec = 0;
}

int sftp_h_setstat(struct sftp_session *s, const struct srv_sftp_req *q)
{
	char *path = s->path_a;
	const char *name = NULL;
	struct timespec ts[2];
	struct stat st;
	int dfd = -1, r;

	r = client_path(s, &q->path, path);
	if (r < 0)
		return sftp_fail_str(s, q->id, r, "setstat", &q->path);
	dfd = target_at(s->rootfd, path, &name);
	if (dfd < 0)
		return sftp_fail(s, q->id, dfd, "setstat", path);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		goto out;
	}
	r = check_setstat(&q->attrs, &st, false);
	if (r < 0)
		goto out;
	if (q->attrs.flags & SRV_ATTR_ACMODTIME) {
		attr_times(&q->attrs, ts);
		if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
			r = -errno;
	}
out:
	close(dfd);
	if (r < 0)
		return sftp_fail(s, q->id, r, "setstat", path);
	return sftp_status(s, q->id, SRV_FX_OK, "");
}

int sftp_h_fsetstat(struct sftp_session *s, const struct srv_sftp_req *q)
{
	struct sftp_handle *h = sftp_handle_get(s, &q->handle);
	bool staging;
	struct stat st;
	int fd, r;

	if (!h)
		return sftp_fail(s, q->id, -SFTP_E_HANDLE, "fsetstat", NULL);
	fd = handle_fd(h);
	staging = h->kind == SFTP_H_WRITE;
	if (fstat(fd, &st) < 0)
		return sftp_fail(s, q->id, -errno, "fsetstat", h->path);
	r = check_setstat(&q->attrs, &st, staging);
	if (r < 0)
		return sftp_fail(s, q->id, r, "fsetstat", h->path);
	if (staging && (q->attrs.flags & SRV_ATTR_SIZE) &&
	    q->attrs.size > s->lim->max_file_size)
		return sftp_fail(s, q->id, -EFBIG, "fsetstat", h->path);
	if (staging && (q->attrs.flags & SRV_ATTR_SIZE)) {
		/* A hole counts like data (apparent size). */
		uint64_t was = h->size;

		r = sftp_quota_grow(s, h, q->attrs.size);
		if (r < 0)
			return sftp_fail(s, q->id, r, "fsetstat", h->path);
		if (ftruncate(fd, (off_t)q->attrs.size) < 0)
			return sftp_fail(s, q->id, -errno, "fsetstat", h->path);
		if (q->attrs.size < was)
			sftp_quota_free(s, was - q->attrs.size);
		h->size = q->attrs.size;
	}
	if (q->attrs.flags & SRV_ATTR_ACMODTIME) {
		attr_times(&q->attrs, h->times);
		if (futimens(fd, h->times) < 0)
			return sftp_fail(s, q->id, -errno, "fsetstat", h->path);
		/* Re-applied at publish, after the last WRITE. */
		h->times_set = staging;
	}
	return sftp_status(s, q->id, SRV_FX_OK, "");
}

/* ---- directories ------------------------------------------------------ */

int sftp_h_opendir(struct sftp_session *s, const struct srv_sftp_req *q)
{
	char *path = s->path_a;
	struct sftp_handle *h;
	DIR *d = NULL;
	int fd, r;

	bool receipts;

	r = client_path(s, &q->path, path);
	if (r < 0)
		return sftp_fail_str(s, q->id, r, "opendir", &q->path);
	receipts = r == 1;
	h = sftp_handle_new(s, &r);
	if (!h)
		return sftp_fail(s, q->id, r, "opendir", path);
	fd = srv_jail_open(s->rootfd, path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return sftp_fail(s, q->id, fd, "opendir", path);
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return sftp_fail(s, q->id, r, "opendir", path);
	}
	h->path = strdup(path);
	if (!h->path) {
		closedir(d);
		return sftp_fail(s, q->id, -ENOMEM, "opendir", path);
	}
	h->dir = d;
	h->readonly = receipts;
	h->kind = SFTP_H_DIR;
	return reply_handle(s, q->id, h);
}

static void mode_string(mode_t m, char out[11])
{
	char t = '?';

	switch (m & S_IFMT) {
	case S_IFREG: t = '-'; break;
	case S_IFDIR: t = 'd'; break;
	case S_IFLNK: t = 'l'; break;
	case S_IFCHR: t = 'c'; break;
	case S_IFBLK: t = 'b'; break;
	case S_IFIFO: t = 'p'; break;
	case S_IFSOCK: t = 's'; break;
	default: break;
	}
	out[0] = t;
	out[1] = (m & S_IRUSR) ? 'r' : '-';
	out[2] = (m & S_IWUSR) ? 'w' : '-';
	out[3] = (m & S_ISUID) ? ((m & S_IXUSR) ? 's' : 'S') : ((m & S_IXUSR) ? 'x' : '-');
	out[4] = (m & S_IRGRP) ? 'r' : '-';
	out[5] = (m & S_IWGRP) ? 'w' : '-';
	out[6] = (m & S_ISGID) ? ((m & S_IXGRP) ? 's' : 'S') : ((m & S_IXGRP) ? 'x' : '-');
	out[7] = (m & S_IROTH) ? 'r' : '-';
	out[8] = (m & S_IWOTH) ? 'w' : '-';
	out[9] = (m & S_ISVTX) ? ((m & S_IXOTH) ? 't' : 'T') : ((m & S_IXOTH) ? 'x' : '-');
	out[10] = '\0';
}

/* ls -l style line; OpenSSH's client prints it verbatim. Owner and group
 * are numeric: the worker has no business loading NSS after lock-down.
 * Control characters (only an operator can create such names) become '?'
 * so that a listing cannot drive the client's terminal. */
static void longname(char *out, size_t sz, const struct stat *st,
		     const char *name, time_t now)
{
	char mode[11], when[32] = "", safe[256];
	struct tm tm;
	size_t i;

	mode_string(st->st_mode, mode);
	if (localtime_r(&st->st_mtime, &tm)) {
		/* ls: the time for the last six months, else the year. */
		if (st->st_mtime > now - 182 * 24 * 3600 &&
		    st->st_mtime <= now + 3600)
			strftime(when, sizeof(when), "%b %e %H:%M", &tm);
		else
			strftime(when, sizeof(when), "%b %e  %Y", &tm);
	}
	for (i = 0; name[i] && i < sizeof(safe) - 1; i++) {
		unsigned char c = (unsigned char)name[i];

		safe[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	safe[i] = '\0';
	snprintf(out, sz, "%s %4lu %-8u %-8u %8llu %s %s", mode,
		 (unsigned long)st->st_nlink, (unsigned)st->st_uid,
		 (unsigned)st->st_gid, (unsigned long long)st->st_size, when, safe);
}

int sftp_h_readdir(struct sftp_session *s, const struct srv_sftp_req *q)
{
	struct sftp_handle *h = sftp_handle_get(s, &q->handle);
	struct srv_sftp_names nm;
	char ln[SFTP_LONGNAME_MAX];
	time_t now = time(NULL);
	int r = 0;

	if (!h)
		return sftp_fail(s, q->id, -SFTP_E_HANDLE, "readdir", NULL);
	if (h->kind != SFTP_H_DIR)
		return sftp_fail(s, q->id, -SFTP_E_HKIND, "readdir", h->path);
	srv_sftp_names_begin(&s->out, q->id, &nm);
	while (nm.count < SFTP_READDIR_MAX_ENTRIES &&
	       s->out.len - nm.mark + SFTP_READDIR_ENTRY_MAX <= SFTP_READDIR_MAX_BYTES) {
		struct srv_sftp_attrs a;
		struct dirent *de;
		struct stat st;
		const char *shown;
		long where = telldir(h->dir);

		errno = 0;
		de = readdir(h->dir);
		if (!de) {
			r = errno ? -errno : 0;
			break;
		}
		shown = de->d_name;
		/* The receipts directory shows under the name clients use. */
		if (strcmp(h->path, "/") == 0 && strcmp(shown, SD_RECEIPTS_DIR) == 0)
			shown = SD_RECEIPTS_VIRTUAL;
		/* "." and ".." are left out: at the root ".." would describe
		 * the directory above it; clients supply their own "..".
		 * Staging files and the like are the service's own. */
		else if (hidden_name(shown))
			continue;
		if (fstatat(dirfd(h->dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* removed since readdir: not listed */
		attrs_from_stat(&st, &a);
		longname(ln, sizeof(ln), &st, shown, now);
		if (srv_sftp_names_add(&s->out, &nm, shown,
				       strlen(shown), ln, &a) < 0) {
			/* Cannot happen within the batch bound; if it does,
			 * the entry goes in the next batch, not lost. */
			if (where >= 0)
				seekdir(h->dir, where);
			break;
		}
	}
	if (nm.count == 0) {
		srv_sftp_cancel(&s->out, nm.mark);
		if (r < 0)
			return sftp_fail(s, q->id, r, "readdir", h->path);
		return sftp_status(s, q->id, SRV_FX_EOF, "end of directory");
	}
	return sftp_sent(s, q->id, srv_sftp_names_end(&s->out, &nm));
}

/* ---- name operations -------------------------------------------------- */

/* REMOVE, MKDIR, RMDIR differ in one call and one log event. */
enum name_op { NOP_REMOVE, NOP_MKDIR, NOP_RMDIR };

static int name_op(struct sftp_session *s, const struct srv_sftp_req *q,
		   enum name_op op)
{
	static const char *const ops[] = { "remove", "mkdir", "rmdir" };
	static const char *const events[] = { "sftp_remove", "sftp_mkdir",
					      "sftp_rmdir" };
	char *path = s->path_a;
	const char *name = NULL;
	struct stat st;
	int pfd, r = 0;

	r = client_path(s, &q->path, path);
	if (r < 0)
		return sftp_fail_str(s, q->id, r, ops[op], &q->path);
	pfd = parent_of(s->rootfd, path, &name);
	if (pfd < 0)
		return sftp_fail(s, q->id, pfd, ops[op], path);
	switch (op) {
	case NOP_REMOVE:
		/* Files only: unlinkat without AT_REMOVEDIR refuses dirs. */
		if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			st.st_size = 0;
		r = unlinkat(pfd, name, 0);
		if (r == 0)
			sftp_quota_free(s, (uint64_t)st.st_size);
		break;
	case NOP_MKDIR:
		/* The mode the client asks for is ignored, like SETSTAT's. */
		r = mkdirat(pfd, name, SFTP_MKDIR_MODE);
		break;
	case NOP_RMDIR:
		r = unlinkat(pfd, name, AT_REMOVEDIR);
		break;
	}
	r = r < 0 ? -errno : 0;
	close(pfd);
	if (r < 0)
		return sftp_fail(s, q->id, r, ops[op], path);
	log_event(LOG_INFO, events[op], "path=%s", log_q(path));
	return sftp_status(s, q->id, SRV_FX_OK, "");
}

int sftp_h_remove(struct sftp_session *s, const struct srv_sftp_req *q)
{
	return name_op(s, q, NOP_REMOVE);
}

int sftp_h_mkdir(struct sftp_session *s, const struct srv_sftp_req *q)
{
	return name_op(s, q, NOP_MKDIR);
}

int sftp_h_rmdir(struct sftp_session *s, const struct srv_sftp_req *q)
{
	return name_op(s, q, NOP_RMDIR);
}

int sftp_h_realpath(struct sftp_session *s, const struct srv_sftp_req *q)
{
	struct srv_sftp_attrs a;
	char *path = s->path_a;
	int r;

	/* Lexical: clients ask this for targets that do not exist yet, and
	 * the answer must not reveal where the root really is. */
	r = client_path(s, &q->path, path);
	if (r < 0)
		return sftp_fail_str(s, q->id, r, "realpath", &q->path);
	unmap_receipts(path);
	memset(&a, 0, sizeof(a));
	return sftp_sent(s, q->id,
			 srv_sftp_put_name1(&s->out, q->id, path, path, &a));
}

static int do_rename(struct sftp_session *s, uint32_t id,
		     const struct srv_sftp_str *from,
		     const struct srv_sftp_str *to, unsigned flags)
{
	char *a = s->path_a, *b = s->path_b;
	const char *na = NULL, *nb = NULL;
	int pa = -1, pb = -1, r;

	r = client_path(s, from, a);
	if (r < 0)
		return sftp_fail_str(s, id, r, "rename", from);
	r = client_path(s, to, b);
	if (r < 0)
		return sftp_fail_str(s, id, r, "rename", to);
	pa = parent_of(s->rootfd, a, &na);
	if (pa < 0) {
		r = pa;
		goto out;
	}
	pb = parent_of(s->rootfd, b, &nb);
	if (pb < 0) {
		r = pb;
		goto out;
	}
	/* One rename(2)-family call, so a watcher sees one move. */
	if (renameat2(pa, na, pb, nb, flags) < 0)
		r = errno == EXDEV ? -SFTP_E_XDEV : -errno;
out:
	if (pb >= 0)
		close(pb);
	if (pa >= 0)
		close(pa);
	if (r < 0)
		return sftp_fail(s, id, r, "rename", a);
	log_event(LOG_INFO, "sftp_rename", "from=%s to=%s replace=%s", log_q(a),
		  log_q(b), flags & RENAME_NOREPLACE ? "no" : "yes");
	return sftp_status(s, id, SRV_FX_OK, "");
}

int sftp_h_rename(struct sftp_session *s, const struct srv_sftp_req *q)
{
	/* SFTP v3 RENAME never overwrites. */
	return do_rename(s, q->id, &q->path, &q->path2, RENAME_NOREPLACE);
}

/* ---- extensions ------------------------------------------------------- */

int sftp_x_posix_rename(struct sftp_session *s, const struct srv_sftp_req *q,
			const struct srv_sftp_str *args)
{
	return do_rename(s, q->id, &args[0], &args[1], 0);
}

/* With a quota, the relation sees its quota as the size of the file
 * system and what it may still store as the free space, unless the disk
 * itself has less. */
static void quota_statvfs(const struct sftp_session *s, struct statvfs *v)
{
	uint64_t bs = v->f_frsize ? v->f_frsize : (v->f_bsize ? v->f_bsize : 1);
	uint64_t left, total;

	if (!s->lim->quota)
		return;
	left = s->usage->used < s->lim->quota ? s->lim->quota - s->usage->used : 0;
	total = s->lim->quota / bs;
	left /= bs;
	if (total < v->f_blocks)
		v->f_blocks = total;
	if (left < v->f_bavail)
		v->f_bavail = left;
	if (left < v->f_bfree)
		v->f_bfree = left;
}

static int reply_statvfs(struct sftp_session *s, uint32_t id,
			 const struct statvfs *in)
{
	/* Flag bits of the statvfs@openssh.com reply. */
	const uint64_t fl_rdonly = 0x1, fl_nosuid = 0x2;
	struct statvfs vq = *in, *v = &vq;
	size_t mark;

	quota_statvfs(s, v);

	srv_sftp_begin(&s->out, SRV_FXP_EXTENDED_REPLY, true, id, &mark);
	srv_sftp_add_u64(&s->out, v->f_bsize);
	srv_sftp_add_u64(&s->out, v->f_frsize);
	srv_sftp_add_u64(&s->out, v->f_blocks);
	srv_sftp_add_u64(&s->out, v->f_bfree);
	srv_sftp_add_u64(&s->out, v->f_bavail);
	srv_sftp_add_u64(&s->out, v->f_files);
	srv_sftp_add_u64(&s->out, v->f_ffree);
	srv_sftp_add_u64(&s->out, v->f_favail);
	srv_sftp_add_u64(&s->out, v->f_fsid);
	srv_sftp_add_u64(&s->out, ((v->f_flag & ST_RDONLY) ? fl_rdonly : 0) |
					  ((v->f_flag & ST_NOSUID) ? fl_nosuid : 0));
	srv_sftp_add_u64(&s->out, v->f_namemax);
	return sftp_sent(s, id, srv_sftp_end(&s->out, mark));
}

int sftp_x_statvfs(struct sftp_session *s, const struct srv_sftp_req *q,
		   const struct srv_sftp_str *args)
{
	char *path = s->path_a;
	struct statvfs v;
	int fd, r;

	r = client_path(s, &args[0], path);
	if (r < 0)
		return sftp_fail_str(s, q->id, r, "statvfs", &args[0]);
	fd = srv_jail_open(s->rootfd, path, O_PATH, 0);
	if (fd < 0)
		return sftp_fail(s, q->id, fd, "statvfs", path);
	r = fstatvfs(fd, &v) < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return sftp_fail(s, q->id, r, "statvfs", path);
	return reply_statvfs(s, q->id, &v);
}

int sftp_x_fstatvfs(struct sftp_session *s, const struct srv_sftp_req *q,
		    const struct srv_sftp_str *args)
{
	struct sftp_handle *h = sftp_handle_get(s, &args[0]);
	struct statvfs v;

	if (!h)
		return sftp_fail(s, q->id, -SFTP_E_HANDLE, "fstatvfs", NULL);
	if (fstatvfs(handle_fd(h), &v) < 0)
		return sftp_fail(s, q->id, -errno, "fstatvfs", h->path);
	return reply_statvfs(s, q->id, &v);
}

int sftp_x_fsync(struct sftp_session *s, const struct srv_sftp_req *q,
		 const struct srv_sftp_str *args)
{
	struct sftp_handle *h = sftp_handle_get(s, &args[0]);

	if (!h)
		return sftp_fail(s, q->id, -SFTP_E_HANDLE, "fsync", NULL);
	if (fsync(handle_fd(h)) < 0)
		return sftp_fail(s, q->id, -errno, "fsync", h->path);
	return sftp_status(s, q->id, SRV_FX_OK, "");
}

int sftp_x_limits(struct sftp_session *s, const struct srv_sftp_req *q,
		  const struct srv_sftp_str *args)
{
	size_t mark;

	(void)args;
	srv_sftp_begin(&s->out, SRV_FXP_EXTENDED_REPLY, true, q->id, &mark);
	srv_sftp_add_u64(&s->out, s->lim->max_packet);
	srv_sftp_add_u64(&s->out, s->max_read);
	srv_sftp_add_u64(&s->out, s->max_write);
	srv_sftp_add_u64(&s->out, s->lim->max_handles);
	return sftp_sent(s, q->id, srv_sftp_end(&s->out, mark));
}
