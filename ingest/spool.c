/* The hand-off: an immutable copy of one upload in spool/<relation>/. A hard
 * link where the file system allows it (same inode, so nothing to copy or
 * verify), otherwise a copy under a temporary name that only gets its final
 * name after fsync and a SHA-256 comparison with the source. Either way the
 * final name never shows a partial file. */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"

/* Bytes per copy_file_range() or read()/write() round. */
#define SPOOL_COPY_CHUNK (1 << 20)
/* A spool relation directory: the back office reads it, nobody else. */
#define SPOOL_DIR_MODE 0750
#define SPOOL_FILE_MODE 0444

/* Open (creating if needed) spool_fd/relation; its creation is made durable
 * before anything is put in it. */
static int open_relation_dir(int spool_fd, const char *relation, const char **why)
{
	/* Opened first: mkdir would lock spool_fd for writing every time. */
	int fd = openat(spool_fd, relation, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(spool_fd, relation, SPOOL_DIR_MODE) == 0) {
			if (fsync(spool_fd) < 0) {
				*why = "fsync_spool_dir";
				return -errno;
			}
		} else if (errno != EEXIST) {
			*why = "mkdir_spool_dir";
			return -errno;
		}
		fd = openat(spool_fd, relation, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		*why = "open_spool_dir";
		return -errno;
	}
	return fd;
}

/* Hard-link src_fd as dfd/target. 0 linked, 1 a copy is needed (other file
 * system, not allowed to link, source already deleted), or -errno. */
static int link_into(int dfd, const char *target, const char *tmp, int src_fd,
		     const struct stat *st, const char **why)
{
	char proc[64];
	struct stat tst;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", src_fd);
	if (linkat(AT_FDCWD, proc, dfd, target, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	switch (errno) {
	case EXDEV:
	case EPERM:
	case EMLINK:
	case ENOENT:
		return 1;
	case EEXIST:
		break;
	default:
		*why = "link";
		return -errno;
	}
	/* The same inode there already: an earlier attempt got this far and
	 * stopped before the store heard of it. */
	if (fstatat(dfd, target, &tst, AT_SYMLINK_NOFOLLOW) == 0 &&
	    tst.st_dev == st->st_dev && tst.st_ino == st->st_ino)
		return 0;
	/* Something else holds the name (an earlier copy for this id):
	 * replace it in one step. */
	if (unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT) {
		*why = "unlink_tmp";
		return -errno;
	}
	if (linkat(AT_FDCWD, proc, dfd, tmp, AT_SYMLINK_FOLLOW) < 0) {
		if (errno == EXDEV || errno == EPERM || errno == EMLINK || errno == ENOENT)
			return 1;
		*why = "link";
		return -errno;
	}
	if (renameat(dfd, tmp, dfd, target) < 0) {
		int r = -errno;

		unlinkat(dfd, tmp, 0);
		*why = "rename";
		return r;
	}
	return 0;
}

/* Copy all of src_fd to out_fd: copy_file_range() where the kernel can,
 * read()/write() where it cannot (other file system types). Bytes copied
 * or -errno. */
static int64_t copy_bytes(int src_fd, int out_fd)
{
	static char buf[SPOOL_COPY_CHUNK];
	off_t off = 0;
	bool plain = false;

	for (;;) {
		ssize_t n;

		if (!plain) {
			n = copy_file_range(src_fd, &off, out_fd, NULL, SPOOL_COPY_CHUNK, 0);
			if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
				      errno == EOPNOTSUPP || errno == EBADF)) {
				plain = true;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			if (n == 0)
				return off;
			continue;
		}
		n = pread(src_fd, buf, sizeof(buf), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return off;
		for (ssize_t w = 0; w < n;) {
			ssize_t k = write(out_fd, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return -errno;
			w += k;
		}
		off += n;
	}
}

/* SHA-256 of all of fd from its start. */
static int hash_all(int fd, uint8_t out[UTIL_SHA256_LEN], uint64_t *size)
{
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	return util_sha256_fd(fd, out, size);
}

/* Copy src_fd to dfd/tmp, make it durable, compare it with the source and
 * only then rename it onto target. 0 or -errno. */
static int copy_into(int dfd, const char *target, const char *tmp, int src_fd,
		     const struct stat *st, uint8_t sha[UTIL_SHA256_LEN], const char **why)
{
	uint8_t src_sha[UTIL_SHA256_LEN];
	uint64_t copy_size = 0, src_size = 0;
	int64_t n;
	int tfd;
	int r;

	if (unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT) {
		*why = "unlink_tmp";
		return -errno;
	}
	tfd = openat(dfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     SPOOL_FILE_MODE);
	if (tfd < 0) {
		*why = "create_tmp";
		return -errno;
	}
	n = copy_bytes(src_fd, tfd);
	if (n < 0) {
		r = (int)n;
		*why = "copy";
		goto fail;
	}
	/* The mode given to openat() went through the umask. */
	if (fchmod(tfd, SPOOL_FILE_MODE) < 0) {
		r = -errno;
		*why = "chmod";
		goto fail;
	}
	if (fsync(tfd) < 0) {
		r = -errno;
		*why = "fsync";
		goto fail;
	}
	r = hash_all(tfd, sha, &copy_size);
	if (r == 0)
		r = hash_all(src_fd, src_sha, &src_size);
	if (r < 0) {
		*why = "hash";
		goto fail;
	}
	if (copy_size != (uint64_t)st->st_size || src_size != (uint64_t)st->st_size ||
	    (uint64_t)n != copy_size || memcmp(sha, src_sha, UTIL_SHA256_LEN) != 0) {
		r = -EIO;
		*why = "verify";
		goto fail;
	}
	if (close(tfd) < 0) {
		tfd = -1;
		r = -errno;
		*why = "close";
		goto fail;
	}
	tfd = -1;
	fault_point("spool_before_rename");
	if (renameat(dfd, tmp, dfd, target) < 0) {
		r = -errno;
		*why = "rename";
		goto fail;
	}
	return 0;
fail:
	if (tfd >= 0)
		close(tfd);
	unlinkat(dfd, tmp, 0);
	return r;
}

int ingest_spool_sync_dir(int spool_fd, const char *relation)
{
	int fd = openat(spool_fd, relation, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int ingest_spool_put(int spool_fd, const char *spool_dir, const char *relation,
		     int64_t id, const char *name, int src_fd, const struct stat *st,
		     bool sync_dir, struct ingest_spooled *out, const char **why)
{
	char target[INGEST_NAME_MAX + 1], tmp[64];
	uint8_t sha[UTIL_SHA256_LEN];
	uint64_t size = 0;
	bool copy = false;
	int dfd;
	int r;

	*why = "spool_name";
	r = ingest_spool_name(id, name, target, sizeof(target));
	if (r < 0)
		return r;
	/* Hidden, and not matching any "<id>-" final name. */
	snprintf(tmp, sizeof(tmp), ".ingest-tmp.%" PRId64, id);
	dfd = open_relation_dir(spool_fd, relation, why);
	if (dfd < 0)
		return dfd;
	/* Read-only before it gets its spool name (a link shares the inode).
	 * A file we may not chmod is not ours to share either: copy it. */
	if ((st->st_mode & 07777) != SPOOL_FILE_MODE && fchmod(src_fd, SPOOL_FILE_MODE) < 0) {
		if (errno != EPERM && errno != EROFS) {
			r = -errno;
			*why = "chmod";
			goto out;
		}
		copy = true;
	}
	if (!copy) {
		r = link_into(dfd, target, tmp, src_fd, st, why);
		if (r < 0)
			goto out;
		copy = r == 1;
	}
	if (copy) {
		r = copy_into(dfd, target, tmp, src_fd, st, sha, why);
		if (r < 0)
			goto out;
	} else {
		/* The spool file is the upload's inode: make its data durable
		 * (the daemon may run with sync_on_close = no), then hash it. */
		if (fsync(src_fd) < 0) {
			r = -errno;
			*why = "fsync";
			goto out;
		}
		r = hash_all(src_fd, sha, &size);
		if (r < 0) {
			*why = "hash";
			goto out;
		}
		if (size != (uint64_t)st->st_size) {
			r = -EIO;
			*why = "size_changed";
			goto out;
		}
	}
	if (sync_dir && fsync(dfd) < 0) {
		r = -errno;
		*why = "fsync_dir";
		goto out;
	}
	r = snprintf(out->path, sizeof(out->path), "%s/%s/%s", spool_dir, relation, target);
	if (r < 0 || (size_t)r >= sizeof(out->path)) {
		r = -ENAMETOOLONG;
		*why = "spool_path";
		goto out;
	}
	util_hex(sha, UTIL_SHA256_LEN, out->sha256);
	out->copied = copy;
	r = 0;
out:
	close(dfd);
	return r;
}

int ingest_spool_find(int spool_fd, const char *spool_dir, const char *relation,
		      int64_t id, const char *name, struct ingest_spooled *out,
		      uint64_t *size, const char **why)
{
	char target[INGEST_NAME_MAX + 1], tmp[64];
	uint8_t sha[UTIL_SHA256_LEN];
	struct stat st;
	int dfd, fd = -1;
	int r;

	*why = "spool_name";
	r = ingest_spool_name(id, name, target, sizeof(target));
	if (r < 0)
		return r;
	snprintf(tmp, sizeof(tmp), ".ingest-tmp.%" PRId64, id);
	dfd = openat(spool_fd, relation, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		*why = "open_spool_dir";
		return errno == ENOENT ? 0 : -errno;
	}
	fd = openat(dfd, target, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = errno == ENOENT ? 0 : -errno;
		*why = "open_spool_file";
		/* Only a copy that never got its name: nobody else uses it. */
		if (r == 0 && unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT) {
			r = -errno;
			*why = "unlink_tmp";
		}
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = -EIO;
		*why = "fstat_spool_file";
		goto out;
	}
	/* Its final name says it is complete: a link to the published file or
	 * a copy renamed only after it was verified. Whether that name reached
	 * the disk is not known (the attempt may have stopped before the
	 * directory sync): make sure before it is recorded. */
	r = util_sha256_fd(fd, sha, size);
	if (r < 0) {
		*why = "hash";
		goto out;
	}
	if (fdatasync(fd) < 0 || fsync(dfd) < 0) {
		r = -errno;
		*why = "fsync";
		goto out;
	}
	r = snprintf(out->path, sizeof(out->path), "%s/%s/%s", spool_dir, relation, target);
	if (r < 0 || (size_t)r >= sizeof(out->path)) {
		r = -ENAMETOOLONG;
		*why = "spool_path";
		goto out;
	}
	util_hex(sha, UTIL_SHA256_LEN, out->sha256);
	out->copied = st.st_nlink == 1;
	r = 1;
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	return r;
}
