/* What ingest does besides handing over new uploads: finishing what a crash
 * left half done (recorded from the spool, receipts, hooks), removing what
 * outlived its retention (published files, receipts, interrupted uploads),
 * each safe to repeat and driven by the store or by what is on disk. */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "staging.h"
#include "store.h"

/* Rows looked at per kind and round, so that a big backlog never stalls
 * the main loop; the next round goes on. */
#define MAINT_BATCH 64
/* An upload in progress is looked at again after this (or after
 * partial_retention if that is shorter): its writer's end brings an inotify
 * event, but that cannot make a queued check come sooner. */
#define MAINT_PARTIAL_BUSY_MS (10 * 60 * 1000)
/* After a failure (permissions, disk) a kind of work rests this long, so
 * that the log gets one line a minute, not one per round. */
#define MAINT_FAIL_PAUSE_S 60

/* Record upload id from its spool file, if a crash came after the
 * hand-off and before the record. */
static void recover_unrecorded(const struct ingest_ctx *ctx, int64_t id)
{
	struct store_receipt *row = malloc(sizeof(*row));
	struct ingest_spooled sp;
	struct ingest_time now;
	const char *why = "read_row";
	char detail[768];
	uint64_t size = 0;
	int r;

	r = row ? store_upload_get(ctx->store, id, row) : -ENOMEM;
	if (r == 0)
		r = ingest_spool_find(ctx->spool_fd, ctx->spool_dir, row->relation, id, row->name,
				      &sp, &size, &why);
	if (r <= 0) {
		if (r < 0)
			log_event(LOG_WARNING, "ingest_error", "id=%" PRId64 " reason=%s error=%s",
				  id, why, strerror(-r));
		goto out;
	}
	snprintf(detail, sizeof(detail), "id=%" PRId64 " name=%s size=%" PRIu64
		 " sha256=%s spool=%s recovered=yes",
		 id, log_q(row->name), size, sp.sha256, log_q(sp.path));
	ingest_now(&now);
	r = store_upload_record(ctx->store, id, sp.sha256, size, sp.path, now.wall,
				ctx->hooks != NULL, detail);
	if (r < 0) {
		if (r != -ENOENT)
			log_event(LOG_WARNING, "ingest_error", "id=%" PRId64
				  " reason=record error=%s", id, strerror(-r));
		goto out;
	}
	log_event(LOG_INFO, "ingest_done",
		  "relation=%s name=%s size=%" PRIu64 " sha256=%s spool=%s id=%" PRId64
		  " method=recovered user=%s src=%s",
		  row->relation, log_q(row->name), size, sp.sha256, log_q(sp.path), id,
		  row->username[0] ? log_q(row->username) : "-", row->src[0] ? row->src : "-");
	ingest_after_record(ctx, id);
out:
	free(row);
}

/* One batch of a work list from *cursor on, wrapping around at its end. */
static int next_batch(const struct ingest_ctx *ctx, enum store_todo what, int64_t *cursor,
		      int64_t *ids)
{
	int n = store_upload_todo(ctx->store, what, 0, *cursor, ids, MAINT_BATCH);

	if (n < 0)
		return n;
	*cursor = n == MAINT_BATCH ? ids[n - 1] : 0;
	return n;
}

void ingest_recover(const struct ingest_ctx *ctx, bool all)
{
	static int64_t unrec_cursor, receipt_cursor, receipt_pause_until;
	int64_t ids[MAINT_BATCH];
	struct ingest_time now;
	int n;

	do {
		n = next_batch(ctx, STORE_TODO_UNRECORDED, &unrec_cursor, ids);
		for (int i = 0; i < n; i++)
			recover_unrecorded(ctx, ids[i]);
	} while (all && unrec_cursor != 0);
	ingest_now(&now);
	if (!all && now.mono_ms < receipt_pause_until)
		return;
	do {
		n = next_batch(ctx, STORE_TODO_RECEIPT, &receipt_cursor, ids);
		for (int i = 0; i < n; i++) {
			const char *why = "";
			int r = ingest_receipt_write(ctx, ids[i], &why);

			if (r < 0) {
				log_event(LOG_WARNING, "ingest_error",
					  "id=%" PRId64 " reason=%s error=%s retry_s=%d", ids[i],
					  why, strerror(-r), MAINT_FAIL_PAUSE_S);
				receipt_pause_until = now.mono_ms + MAINT_FAIL_PAUSE_S * 1000;
				return;
			}
		}
	} while (all && receipt_cursor != 0);
}

void ingest_recover_hooks(const struct ingest_ctx *ctx, int64_t now_ms)
{
	int64_t ids[MAINT_BATCH], after = 0;
	int n;

	if (!ctx->hooks)
		return;
	do {
		n = store_upload_todo(ctx->store, STORE_TODO_HOOK, 0, after, ids, MAINT_BATCH);
		for (int i = 0; i < n; i++) {
			struct store_receipt *row = malloc(sizeof(*row));

			if (row && store_upload_get(ctx->store, ids[i], row) == 0)
				ingest_hooks_add(ctx->hooks, ids[i], row->hook_attempts, now_ms);
			free(row);
			after = ids[i];
		}
	} while (n == MAINT_BATCH);
}

/* ---- retention of published files ---- */

/* Is the file at (dfd, name) the upload of row? */
static bool same_file(int dfd, const char *name, const struct store_receipt *row)
{
	struct stat st;
	int64_t bt;
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_dev != row->dev || (uint64_t)st.st_ino != row->ino)
		return false;
	if (row->btime <= 0)
		return true;
	fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	bt = ingest_btime(fd);
	close(fd);
	return bt == 0 || bt == row->btime;
}

/* Open the directory of rel (below the relation dir rfd); *base: its last
 * component. */
static int open_parent(int rfd, const char *rel, const char **base, char *dir, size_t dirsz)
{
	const char *slash = strrchr(rel, '/');
	size_t n;

	if (!slash) {
		*base = rel;
		return ingest_open_beneath(rfd, "", O_RDONLY | O_DIRECTORY, 0);
	}
	n = (size_t)(slash - rel);
	if (n >= dirsz)
		return -ENAMETOOLONG;
	memcpy(dir, rel, n);
	dir[n] = '\0';
	*base = slash + 1;
	return ingest_open_beneath(rfd, dir, O_RDONLY | O_DIRECTORY, 0);
}

/* Take the published name of row away: renamed to a reserved name first,
 * checked there, then removed, so that a new upload that took the name a
 * moment ago is never the one removed. 1 removed, 0 nothing to remove. */
static int expire_file(const struct ingest_ctx *ctx, const struct store_receipt *row,
		       const char **why)
{
	char dir[STORE_PATH_MAX], hold[64];
	const char *base = NULL;
	int rfd = -1, pfd = -1;
	int r = 0;

	rfd = ingest_open_beneath(ctx->root_fd, row->relation, O_RDONLY | O_DIRECTORY, 0);
	if (rfd < 0) {
		*why = "open_relation_dir";
		return rfd == -ENOENT ? 0 : rfd;
	}
	pfd = open_parent(rfd, row->cur_name, &base, dir, sizeof(dir));
	if (pfd < 0) {
		*why = "open_dir";
		r = (pfd == -ENOENT || pfd == -ENOTDIR || pfd == -ELOOP) ? 0 : pfd;
		goto out;
	}
	snprintf(hold, sizeof(hold), "%sexpire.%" PRId64, SD_RESERVED_PREFIX, row->id);
	/* Left by a crash in the middle of an earlier attempt? */
	if (faccessat(pfd, hold, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		if (!same_file(pfd, base, row))
			goto out; /* moved, removed or replaced by the client */
		*why = "rename";
		if (renameat2(pfd, base, pfd, hold, RENAME_NOREPLACE) < 0) {
			r = errno == ENOENT ? 0 : -errno;
			goto out;
		}
	}
	if (same_file(pfd, hold, row)) {
		*why = "unlink";
		r = unlinkat(pfd, hold, 0) < 0 ? -errno : 1;
	} else {
		/* A new upload slipped in between our check and the rename:
		 * it goes back where its client put it (or beside it). */
		char restored[INGEST_NAME_MAX + 1];

		*why = "restore";
		log_event(LOG_WARNING, "ingest_error", "relation=%s name=%s reason=expire_race",
			  row->relation, log_q(row->cur_name));
		if (renameat2(pfd, hold, pfd, base, RENAME_NOREPLACE) < 0) {
			snprintf(restored, sizeof(restored), "%.200s.restored-%" PRId64, base,
				 row->id);
			if (renameat2(pfd, hold, pfd, restored, RENAME_NOREPLACE) < 0) {
				r = -errno;
				goto out;
			}
		}
	}
	fsync(pfd);
out:
	if (pfd >= 0)
		close(pfd);
	close(rfd);
	return r;
}

/* An upload past upload_retention: its published file, then the note. */
static int expire_upload(const struct ingest_ctx *ctx, const struct store_receipt *row,
			 int64_t now, const char **why)
{
	int r = expire_file(ctx, row, why);

	if (r < 0)
		return r;
	if (r == 1)
		log_event(LOG_INFO, "upload_expired", "relation=%s name=%s id=%" PRId64,
			  row->relation, log_q(row->cur_name), row->id);
	r = store_upload_removed(ctx->store, row->id, now);
	if (r < 0)
		*why = "record_removed";
	return r;
}

/* A receipt past receipt_retention (the note is made inside). */
static int expire_receipt(const struct ingest_ctx *ctx, const struct store_receipt *row,
			  int64_t now, const char **why)
{
	(void)now;
	return ingest_receipt_remove(ctx, row, why);
}

/* One work list of what is older than retention seconds, each row through
 * expire. false: one failed (logged), the rest waits for the next round. */
static bool expire_list(const struct ingest_ctx *ctx, enum store_todo what, int64_t retention,
			int64_t now, struct store_receipt *row,
			int (*expire)(const struct ingest_ctx *, const struct store_receipt *,
				      int64_t, const char **))
{
	int64_t ids[MAINT_BATCH];
	int n = retention > 0
			? store_upload_todo(ctx->store, what, now - retention, 0, ids, MAINT_BATCH)
			: 0;

	for (int i = 0; i < n; i++) {
		const char *why = "";
		int r = store_upload_get(ctx->store, ids[i], row);

		if (r == 0)
			r = expire(ctx, row, now, &why);
		if (r < 0) {
			log_event(LOG_WARNING, "ingest_error",
				  "id=%" PRId64 " reason=expire_%s error=%s retry_s=%d", ids[i], why,
				  strerror(-r), MAINT_FAIL_PAUSE_S);
			return false;
		}
	}
	return true;
}

void ingest_expire(const struct ingest_ctx *ctx, int64_t now)
{
	static int64_t pause_until;
	const struct conf *c = ctx->conf;
	struct store_receipt *row;
	struct ingest_time t;
	bool ok;

	ingest_now(&t);
	if (t.mono_ms < pause_until)
		return;
	row = malloc(sizeof(*row));
	if (!row)
		return;
	ok = expire_list(ctx, STORE_TODO_EXPIRE_FILE, c->upload_retention, now, row,
			 expire_upload);
	if (!expire_list(ctx, STORE_TODO_EXPIRE_RECEIPT, c->receipt_retention, now, row,
			 expire_receipt))
		ok = false;
	if (!ok)
		pause_until = t.mono_ms + MAINT_FAIL_PAUSE_S * 1000;
	free(row);
}

/* ---- interrupted uploads ---- */

int ingest_partial_check(const struct ingest_ctx *ctx, const char *rel, int64_t *recheck_ms)
{
	char relation[SD_RELATION_MAX + 1], dir[STORE_PATH_MAX];
	const char *name, *base = NULL, *target = "";
	bool resume = false, cut = false;
	struct stat st, now_st;
	struct timespec now;
	int64_t age, keep;
	int rfd = -1, pfd = -1, fd = -1;
	int r = 1;

	if (ingest_path_split(rel, relation, &name) < 0)
		return 1;
	rfd = ingest_open_beneath(ctx->root_fd, relation, O_RDONLY | O_DIRECTORY, 0);
	if (rfd < 0)
		return rfd == -ENOENT ? 1 : rfd;
	pfd = open_parent(rfd, name, &base, dir, sizeof(dir));
	if (pfd < 0) {
		r = pfd == -ENOENT || pfd == -ENOTDIR || pfd == -ELOOP ? 1 : pfd;
		goto out;
	}
	staging_name_parse(base, &target, &resume, &cut);
	fd = openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = errno == ENOENT || errno == ELOOP ? 1 : -errno;
		goto out; /* published, resumed and published, or removed */
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	/* A shared lock: it conflicts with a writer's, so while we hold it
	 * nobody can start to resume this file. */
	r = staging_lock(fd, false, false);
	if (r == -EAGAIN) {
		*recheck_ms = ctx->conf->partial_retention * 1000 < MAINT_PARTIAL_BUSY_MS
				      ? ctx->conf->partial_retention * 1000 + 1000
				      : MAINT_PARTIAL_BUSY_MS;
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	/* Its age is by the file system's clock, so it is compared with the
	 * real one (not the test clock). */
	clock_gettime(CLOCK_REALTIME, &now);
	age = (int64_t)now.tv_sec - (int64_t)st.st_mtime;
	keep = ctx->conf->partial_retention;
	if (age < keep) {
		*recheck_ms = (keep - age) * 1000 + 1000;
		log_event(LOG_DEBUG, "ingest_partial", "relation=%s name=%s size=%lld expires_in=%llds",
			  relation, log_q(target), (long long)st.st_size, (long long)(keep - age));
		r = 0;
		goto out;
	}
	r = 1;
	if (fstatat(pfd, base, &now_st, AT_SYMLINK_NOFOLLOW) == 0 && now_st.st_ino == st.st_ino &&
	    now_st.st_dev == st.st_dev) {
		if (unlinkat(pfd, base, 0) < 0) {
			r = -errno;
			goto out;
		}
		fsync(pfd);
		log_event(LOG_INFO, "partial_expired", "relation=%s dir=%s name=%s size=%lld age=%llds",
			  relation, log_q(base == name ? "" : dir), log_q(target),
			  (long long)st.st_size, (long long)age);
	}
out:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	close(rfd);
	return r;
}
