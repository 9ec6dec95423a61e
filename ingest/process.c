/* One candidate from start to end: open it without following links, claim
 * its inode in the store (the store decides "ingested before"), put it in the
 * spool, record the hand-off. Any step may fail; the caller retries, and
 * every step is safe to repeat. */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "store.h"

/* Errors that mean "there is nothing (left) to ingest under this path"
 * rather than "try again": vanished, a symlink, an escape, not openable as a
 * file. */
static bool is_gone(int r)
{
	return r == -ENOENT || r == -ENOTDIR || r == -ELOOP || r == -EXDEV ||
	       r == -ENXIO || r == -EISDIR;
}

static int skip(const char *relation, const char *name, const char *reason, int outcome)
{
	log_event(LOG_DEBUG, "ingest_skip", "relation=%s name=%s reason=%s", relation,
		  log_q(name), reason);
	return outcome;
}

int ingest_process(const struct ingest_ctx *ctx, const char *rel, const char **why)
{
	char relation[SD_RELATION_MAX + 1];
	struct ingest_spooled sp;
	struct ingest_time now;
	const char *name;
	bool already = false;
	struct stat st;
	int64_t id = 0;
	int rfd = -1, fd = -1;
	int r;

	*why = "ok";
	if (ingest_path_split(rel, relation, &name) < 0)
		return INGEST_GONE;
	if (ingest_name_skipped(ctx->conf->ingest_skip_patterns, ingest_basename(name)))
		return skip(relation, name, "skipped_name", INGEST_GONE);
	rfd = ingest_open_beneath(ctx->root_fd, relation, O_RDONLY | O_DIRECTORY, 0);
	if (rfd < 0) {
		r = is_gone(rfd) ? skip(relation, name, "gone", INGEST_GONE) : rfd;
		*why = "open_relation_dir";
		goto out;
	}
	/* O_NONBLOCK: a FIFO must not hang the watcher; it is refused below. */
	fd = ingest_open_beneath(rfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0) {
		r = is_gone(fd) ? skip(relation, name, fd == -ELOOP ? "symlink" : "gone",
				       INGEST_GONE)
				: fd;
		*why = "open";
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		*why = "fstat";
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = skip(relation, name, "not_regular", INGEST_GONE);
		goto out;
	}
	ingest_now(&now);
	r = store_upload_claim(ctx->store, relation, name, (uint64_t)st.st_size,
			       (uint64_t)st.st_dev, (uint64_t)st.st_ino, now.wall, &id, &already);
	if (r < 0) {
		*why = "claim";
		goto out;
	}
	if (already) {
		r = skip(relation, name, "already_ingested", INGEST_ALREADY);
		goto out;
	}
	r = ingest_spool_put(ctx->spool_fd, ctx->spool_dir, relation, id, name, fd, &st, &sp,
			     why);
	if (r < 0)
		goto out;
	ingest_now(&now);
	r = store_upload_done(ctx->store, id, sp.sha256, sp.path, now.wall);
	if (r == -ENOENT) {
		/* Finished by someone else between our claim and now. */
		r = skip(relation, name, "already_ingested", INGEST_ALREADY);
		goto out;
	}
	if (r < 0) {
		*why = "record";
		goto out;
	}
	log_event(LOG_INFO, "ingest_done",
		  "relation=%s name=%s size=%llu sha256=%s spool=%s id=%lld method=%s",
		  relation, log_q(name), (unsigned long long)st.st_size, sp.sha256,
		  log_q(sp.path), (long long)id, sp.copied ? "copy" : "link");
	r = INGEST_DONE;
out:
	if (fd >= 0)
		close(fd);
	if (rfd >= 0)
		close(rfd);
	return r;
}
