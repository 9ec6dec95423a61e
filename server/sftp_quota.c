/* The per-relation quota: what the relation keeps below its root (published
 * files and staging files, apparent sizes so that sparse holes count), found
 * by one walk at the start of a connection's first session and kept up to
 * date by the writes, truncations and removals of its sessions. */
#include "sftp_handlers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "defs.h"

int sftp_quota_grow(struct sftp_session *s, struct sftp_handle *h, uint64_t end)
{
	uint64_t grow;

	if (end <= h->size)
		return 0;
	grow = end - h->size;
	if (s->lim->quota &&
	    (grow > s->lim->quota || s->usage->used > s->lim->quota - grow))
		return -EDQUOT;
	s->usage->used += grow;
	h->size = end;
	return 0;
}

void sftp_quota_free(struct sftp_session *s, uint64_t n)
{
	s->usage->used = n < s->usage->used ? s->usage->used - n : 0;
}

/* dfd is consumed (closed) in every case. */
static int scan_dir(int dfd, uint32_t levels, bool top, uint64_t *sum)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int r = 0;

	if (!d) {
		r = -errno;
		close(dfd);
		return r;
	}
	while ((errno = 0, e = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		/* The receipts are the service's, not the relation's. */
		if (top && strcmp(e->d_name, SD_RECEIPTS_DIR) == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT) /* gone meanwhile (ingest retention) */
				continue;
			r = -errno;
			break;
		}
		if (S_ISREG(st.st_mode)) {
			*sum += (uint64_t)st.st_size;
		} else if (S_ISDIR(st.st_mode) && levels > 0) {
			int sub = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0) {
				if (errno == ENOENT)
					continue;
				r = -errno;
				break;
			}
			r = scan_dir(sub, levels - 1, false, sum);
			if (r < 0)
				break;
		}
	}
	if (r == 0 && errno != 0)
		r = -errno;
	closedir(d);
	return r;
}

int sftp_quota_scan(int rootfd, uint32_t max_depth, uint64_t *used)
{
	uint64_t sum = 0;
	int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	/* Files sit at most max_depth components down: max_depth - 1 levels of
	 * directories below the root may hold them. */
	r = scan_dir(fd, max_depth > 0 ? max_depth - 1 : 0, true, &sum);
	if (r < 0)
		return r;
	*used = sum;
	return 0;
}
