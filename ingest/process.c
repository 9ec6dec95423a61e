/* One candidate from start to end: open it without following links, claim
 * it in the store by its identity (relation, dev, ino, birth time), put it
 * in the spool, record the hand-off with its audit row, write the receipt,
 * queue the hook. Any step may fail or be cut short by a crash; the caller
 * retries, start-up recovery (maint.c) finishes what was half done, and
 * every step is safe to repeat (docs/ingest.md walks through each one). */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fault.h"
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

int64_t ingest_btime(int fd)
{
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &sx) < 0 || !(sx.stx_mask & STATX_BTIME))
		return 0;
	return (int64_t)sx.stx_btime.tv_sec * 1000000000 + sx.stx_btime.tv_nsec;
}

void ingest_after_record(const struct ingest_ctx *ctx, int64_t id)
{
	struct ingest_time now;
	const char *why = "";
	int r = ingest_receipt_write(ctx, id, &why);

	if (r < 0)
		log_event(LOG_WARNING, "ingest_error", "id=%lld reason=%s error=%s action=retry_later",
			  (long long)id, why, strerror(-r));
	fault_point("after_receipt");
	if (!ctx->hooks)
		return;
	ingest_now(&now);
	r = ingest_hooks_add(ctx->hooks, id, 0, now.mono_ms);
	if (r < 0)
		log_event(LOG_WARNING, "ingest_error", "id=%lld reason=hook_queue error=%s"
			  " action=retry_at_restart", (long long)id, strerror(-r));
}

/* Hand-off and record for the claimed row id; fd is the upload. */
static int hand_off(const struct ingest_ctx *ctx, int64_t id, const char *relation,
		    int fd, const struct stat *st, const char **why)
{
	struct store_receipt *row = malloc(sizeof(*row));
	struct ingest_spooled sp;
	struct ingest_time now;
	char detail[768];
	int r;

	if (!row)
		return -ENOMEM;
	*why = "read_row";
	r = store_upload_get(ctx->store, id, row);
	if (r < 0)
		goto out;
	/* The spool name comes from the name at the first claim, so that a
	 * retry after a rename finds what an earlier attempt left. */
	r = ingest_spool_put(ctx->spool_fd, ctx->spool_dir, relation, id, row->name, fd, st, &sp,
			     why);
	if (r < 0)
		goto out;
	fault_point("after_spool");
	snprintf(detail, sizeof(detail), "id=%lld name=%s size=%llu sha256=%s spool=%s",
		 (long long)id, log_q(row->name), (unsigned long long)st->st_size, sp.sha256,
		 log_q(sp.path));
	ingest_now(&now);
	r = store_upload_record(ctx->store, id, sp.sha256, (uint64_t)st->st_size, sp.path,
				now.wall, ctx->hooks != NULL, detail);
	if (r == -ENOENT) {
		/* Recorded by the recovery of an earlier attempt meanwhile. */
		r = skip(relation, row->name, "already_ingested", INGEST_ALREADY);
		goto out;
	}
	if (r < 0) {
		*why = "record";
		goto out;
	}
	fault_point("after_record");
	log_event(LOG_INFO, "ingest_done",
		  "relation=%s name=%s size=%llu sha256=%s spool=%s id=%lld method=%s user=%s"
		  " src=%s",
		  relation, log_q(row->name), (unsigned long long)st->st_size, sp.sha256,
		  log_q(sp.path), (long long)id, sp.copied ? "copy" : "link",
		  row->username[0] ? log_q(row->username) : "-", row->src[0] ? row->src : "-");
	ingest_after_record(ctx, id);
	r = INGEST_DONE;
out:
	free(row);
	return r;
}

int ingest_process(const struct ingest_ctx *ctx, const char *rel, const char **why)
{
	char relation[SD_RELATION_MAX + 1];
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
	r = store_upload_claim_file(ctx->store, relation, name, (uint64_t)st.st_size,
				    (uint64_t)st.st_dev, (uint64_t)st.st_ino, ingest_btime(fd),
				    now.wall, &id, &already);
	if (r < 0) {
		*why = "claim";
		goto out;
	}
	if (already) {
		r = skip(relation, name, "already_ingested", INGEST_ALREADY);
		goto out;
	}
	fault_point("after_claim");
	r = hand_off(ctx, id, relation, fd, &st, why);
out:
	if (fd >= 0)
		close(fd);
	if (rfd >= 0)
		close(rfd);
	return r;
}
