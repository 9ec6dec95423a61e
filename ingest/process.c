/* Candidates from start to end: open each without following links, claim
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

static void receipt_failed(int64_t id, const char *why, int r)
{
	log_event(LOG_WARNING, "ingest_error", "id=%lld reason=%s error=%s action=retry_later",
		  (long long)id, why, strerror(-r));
}

static void hook_for(const struct ingest_ctx *ctx, int64_t id);

void ingest_after_record(const struct ingest_ctx *ctx, int64_t id)
{
	const char *why = "";
	int r = ingest_receipt_write(ctx, id, &why);

	if (r < 0)
		receipt_failed(id, why, r);
	fault_point("after_receipt");
	hook_for(ctx, id);
}

/* ---- a batch of candidates ----
 * The steps of every candidate run in the order one candidate would take
 * them, but the store writes of a step are one transaction for the whole
 * batch and directories are synced once per relation: one disk sync where
 * there were one per file, and the daemon, which records each upload
 * before publishing it, waits for the store lock once per step per batch
 * instead of once per step per file. */

static bool failed(const struct ingest_job *j)
{
	return j->r != INGEST_DONE || j->fd < 0;
}

/* Open the candidate; j->r stays INGEST_DONE (meaning: go on) with j->fd set,
 * or becomes the outcome. */
static void open_candidate(const struct ingest_ctx *ctx, struct ingest_job *j)
{
	int rfd;

	j->r = INGEST_DONE;
	j->why = "ok";
	j->fd = -1;
	j->id = 0;
	if (ingest_path_split(j->key, j->relation, &j->name) < 0) {
		j->r = INGEST_GONE;
		return;
	}
	if (ingest_name_skipped(ctx->conf->ingest_skip_patterns, ingest_basename(j->name))) {
		j->r = skip(j->relation, j->name, "skipped_name", INGEST_GONE);
		return;
	}
	rfd = ingest_open_beneath(ctx->root_fd, j->relation, O_RDONLY | O_DIRECTORY, 0);
	if (rfd < 0) {
		j->r = is_gone(rfd) ? skip(j->relation, j->name, "gone", INGEST_GONE) : rfd;
		j->why = "open_relation_dir";
		return;
	}
	/* O_NONBLOCK: a FIFO must not hang the watcher; it is refused below. */
	j->fd = ingest_open_beneath(rfd, j->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
				    0);
	close(rfd);
	if (j->fd < 0) {
		j->r = is_gone(j->fd) ? skip(j->relation, j->name,
					     j->fd == -ELOOP ? "symlink" : "gone", INGEST_GONE)
				      : j->fd;
		j->why = "open";
		j->fd = -1;
		return;
	}
	if (fstat(j->fd, &j->st) < 0) {
		j->r = -errno;
		j->why = "fstat";
	} else if (!S_ISREG(j->st.st_mode)) {
		j->r = skip(j->relation, j->name, "not_regular", INGEST_GONE);
	}
}

static void claim(const struct ingest_ctx *ctx, struct ingest_job *j)
{
	struct ingest_time now;
	bool already = false;
	int r;

	ingest_now(&now);
	r = store_upload_claim_file(ctx->store, j->relation, j->name, (uint64_t)j->st.st_size,
				    (uint64_t)j->st.st_dev, (uint64_t)j->st.st_ino,
				    ingest_btime(j->fd), now.wall, &j->id, &already);
	if (r < 0) {
		j->r = r;
		j->why = "claim";
	} else if (already) {
		j->r = skip(j->relation, j->name, "already_ingested", INGEST_ALREADY);
	}
}

/* The spool copy; the row's name (its name at the first claim) names it, so
 * that a retry after a rename finds what an earlier attempt left. */
static void spool(const struct ingest_ctx *ctx, struct ingest_job *j)
{
	int r = store_upload_get(ctx->store, j->id, &j->row);

	if (r < 0) {
		j->r = r;
		j->why = "read_row";
		return;
	}
	r = ingest_spool_put(ctx->spool_fd, ctx->spool_dir, j->relation, j->id, j->row.name,
			     j->fd, &j->st, false, &j->sp, &j->why);
	if (r < 0)
		j->r = r;
}

static void record(const struct ingest_ctx *ctx, struct ingest_job *j)
{
	struct ingest_time now;
	char detail[768];
	int r;

	snprintf(detail, sizeof(detail), "id=%lld name=%s size=%llu sha256=%s spool=%s",
		 (long long)j->id, log_q(j->row.name), (unsigned long long)j->st.st_size,
		 j->sp.sha256, log_q(j->sp.path));
	ingest_now(&now);
	r = store_upload_record(ctx->store, j->id, j->sp.sha256, (uint64_t)j->st.st_size,
				j->sp.path, now.wall, ctx->hooks != NULL, detail);
	if (r == -ENOENT) {
		/* Recorded by the recovery of an earlier attempt meanwhile. */
		j->r = skip(j->relation, j->row.name, "already_ingested", INGEST_ALREADY);
	} else if (r < 0) {
		j->r = r;
		j->why = "record";
	}
}

/* One store transaction around step for every job still going. When the
 * commit fails, none of it happened: those jobs fail with why. */
static void in_batch(const struct ingest_ctx *ctx, struct ingest_job *jobs, size_t n,
		     void (*step)(const struct ingest_ctx *, struct ingest_job *),
		     const char *why)
{
	int r = store_batch_begin(ctx->store);

	for (size_t i = 0; i < n; i++) {
		jobs[i].in_step = !failed(&jobs[i]);
		if (!jobs[i].in_step)
			continue;
		if (r < 0) {
			jobs[i].r = r;
			jobs[i].why = why;
			continue;
		}
		step(ctx, &jobs[i]);
	}
	if (r < 0)
		return;
	r = store_batch_end(ctx->store, true);
	if (r == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].in_step) {
			jobs[i].r = r;
			jobs[i].why = why;
		}
	}
}

/* Sync the directory of each relation among the jobs that are live, once
 * per relation; when that fails, failed_sync() each live job of it. */
static void sync_dirs(const struct ingest_ctx *ctx, struct ingest_job *jobs, size_t n,
		      bool (*live)(const struct ingest_job *),
		      int (*sync)(const struct ingest_ctx *, const char *),
		      void (*failed_sync)(struct ingest_job *, int))
{
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		int r;

		if (!live(&jobs[i]))
			continue;
		for (size_t k = 0; k < i && !seen; k++)
			seen = live(&jobs[k]) && strcmp(jobs[k].relation, jobs[i].relation) == 0;
		if (seen)
			continue;
		r = sync(ctx, jobs[i].relation);
		if (r == 0)
			continue;
		for (size_t k = n; k-- > i;) {
			if (live(&jobs[k]) && strcmp(jobs[k].relation, jobs[i].relation) == 0)
				failed_sync(&jobs[k], r);
		}
	}
}

static bool going(const struct ingest_job *j)
{
	return !failed(j);
}

static void spool_sync_failed(struct ingest_job *j, int r)
{
	j->r = r;
	j->why = "fsync_dir";
}

static int sync_spool(const struct ingest_ctx *ctx, const char *relation)
{
	return ingest_spool_sync_dir(ctx->spool_fd, relation);
}

static void note_receipt(const struct ingest_ctx *ctx, struct ingest_job *j)
{
	const char *why = "";
	int r = ingest_receipt_note(ctx, j->id, &j->receipt, &why);

	if (r < 0)
		receipt_failed(j->id, why, r);
}

static void hook_for(const struct ingest_ctx *ctx, int64_t id)
{
	struct ingest_time now;
	int r;

	if (!ctx->hooks)
		return;
	ingest_now(&now);
	r = ingest_hooks_add(ctx->hooks, id, 0, now.mono_ms);
	if (r < 0)
		log_event(LOG_WARNING, "ingest_error", "id=%lld reason=hook_queue error=%s"
			  " action=retry_at_restart", (long long)id, strerror(-r));
}

/* Receipts, then hooks, for the jobs recorded now. A receipt that cannot
 * be written is only logged: maintenance writes it later (maint.c). */
static bool receipted(const struct ingest_job *j)
{
	return !failed(j) && j->receipt_ok;
}

static void receipt_sync_failed(struct ingest_job *j, int r)
{
	j->receipt_ok = false;
	receipt_failed(j->id, "fsync_receipts_dir", r);
}

static void after_records(const struct ingest_ctx *ctx, struct ingest_job *jobs, size_t n)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		struct ingest_job *j = &jobs[i];
		const char *why = "";

		if (failed(j))
			continue;
		r = ingest_receipt_put(ctx, j->id, false, &j->receipt, &why);
		j->receipt_ok = r == 0;
		if (r < 0)
			receipt_failed(j->id, why, r);
	}
	sync_dirs(ctx, jobs, n, receipted, ingest_receipt_sync_dir, receipt_sync_failed);
	r = store_batch_begin(ctx->store);
	if (r == 0) {
		for (size_t i = 0; i < n; i++) {
			if (receipted(&jobs[i]))
				note_receipt(ctx, &jobs[i]);
		}
		r = store_batch_end(ctx->store, true);
	}
	if (r < 0)
		log_event(LOG_WARNING, "ingest_error",
			  "reason=record_receipts error=%s action=retry_later", strerror(-r));
	for (size_t i = 0; i < n; i++) {
		if (failed(&jobs[i]))
			continue;
		fault_point("after_receipt");
		hook_for(ctx, jobs[i].id);
	}
}

void ingest_process_batch(const struct ingest_ctx *ctx, struct ingest_job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		open_candidate(ctx, &jobs[i]);
	in_batch(ctx, jobs, n, claim, "claim");
	for (size_t i = 0; i < n; i++) {
		if (failed(&jobs[i]))
			continue;
		fault_point("after_claim");
		spool(ctx, &jobs[i]);
		if (!failed(&jobs[i]))
			fault_point("after_spool");
	}
	sync_dirs(ctx, jobs, n, going, sync_spool, spool_sync_failed);
	in_batch(ctx, jobs, n, record, "record");
	for (size_t i = 0; i < n; i++) {
		struct ingest_job *j = &jobs[i];

		if (failed(j))
			continue;
		fault_point("after_record");
		log_event(LOG_INFO, "ingest_done",
			  "relation=%s name=%s size=%llu sha256=%s spool=%s id=%lld method=%s"
			  " user=%s src=%s",
			  j->relation, log_q(j->row.name), (unsigned long long)j->st.st_size,
			  j->sp.sha256, log_q(j->sp.path), (long long)j->id,
			  j->sp.copied ? "copy" : "link",
			  j->row.username[0] ? log_q(j->row.username) : "-",
			  j->row.src[0] ? j->row.src : "-");
	}
	after_records(ctx, jobs, n);
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].fd >= 0)
			close(jobs[i].fd);
		jobs[i].fd = -1;
	}
}
