/* The watcher's main loop: inotify events and the rescan feed the settle
 * queue, due candidates are processed, failures come back after a backoff.
 * Staging files go to a queue of their own (interrupted uploads, removed
 * after partial_retention); hooks run beside; a maintenance round finishes
 * what a crash left and applies the retention times. One thread; every wait
 * is a poll() on the inotify fd, the stop fd and the running hooks, with the
 * next deadline as its timeout. */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "conf.h"
#include "fault.h"
#include "log.h"
#include "store.h"

/* Work per round, so that events keep being read while a long rescan or a
 * full queue is worked off (the kernel queue holds 16384 events by default). */
#define LOOP_EVENTS_PER_ROUND 4096
#define LOOP_ITEMS_PER_ROUND 64
#define LOOP_SCAN_PER_ROUND 512
/* libinotifytools keeps a record of each deleted directory's watch until it
 * is restarted; restart it (and rescan) past this many. */
#define LOOP_STALE_WATCH_MAX 10000
/* Maintenance (recovery, receipts, retention) this often: a few indexed
 * queries, cheap; retention times are seconds to days. */
#define LOOP_MAINT_INTERVAL_MS 2000

struct loop {
	const struct conf *c;
	struct ingest_ctx ctx;
	char *root;  /* upload_root without a trailing '/' */
	char *spool; /* spool_dir without a trailing '/' */
	struct ingest_queue *q;
	struct ingest_queue *partials; /* staging files to look at */
	struct ingest_scan *scan;
	int64_t next_maint_ms;
	int64_t scan_started_wall; /* store time at the start of the full scan */
	bool vanish_due;           /* a full scan ended: mark what it did not find */
	bool full_scan;      /* a walk of the whole tree is under way */
	bool rescan_wanted;  /* candidates were dropped: walk again when there is room */
	bool full_logged;    /* the queue-full warning was given for this episode */
	unsigned long scan_dirs, scan_files;
	int64_t scan_started_ms;
	struct ingest_job *jobs; /* LOOP_ITEMS_PER_ROUND, for process_due */
};

static char *strip_slashes(const char *p)
{
	char *s = strdup(p);
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

/* The first component of rel is a relation number (the only directories
 * in upload_root that hold uploads). */
static bool under_relation(const char *rel)
{
	return ingest_relation_valid(rel, strcspn(rel, "/"));
}

static void enqueue(struct loop *l, const char *rel)
{
	char relation[SD_RELATION_MAX + 1];
	struct ingest_time now;
	const char *name;
	int r;

	if (ingest_path_split(rel, relation, &name) < 0)
		return;
	ingest_now(&now);
	if (!strncmp(ingest_basename(name), SD_STAGING_PREFIX, strlen(SD_STAGING_PREFIX))) {
		/* An upload in progress or interrupted: never ingested, looked
		 * at for partial_retention. A full queue only delays that. */
		ingest_queue_touch(l->partials, rel, now.mono_ms + l->c->ingest_settle_ms);
		return;
	}
	if (ingest_name_skipped(l->c->ingest_skip_patterns, ingest_basename(name)))
		return;
	r = ingest_queue_touch(l->q, rel, now.mono_ms + l->c->ingest_settle_ms);
	if (r >= 0)
		return;
	/* Nothing is lost for good: a rescan finds the file again once the
	 * queue has drained. */
	l->rescan_wanted = true;
	if (!l->full_logged) {
		bool full = r == -ENOSPC;

		log_event(LOG_WARNING, "ingest_queue_full",
			  "pending=%zu max=%d action=rescan_later%s%s", ingest_queue_len(l->q),
			  INGEST_QUEUE_MAX, full ? "" : " error=", full ? "" : strerror(-r));
		l->full_logged = true;
	}
}

static void start_full_scan(struct loop *l, const char *reason)
{
	struct ingest_time now;

	if (ingest_scan_push(l->scan, "") < 0) {
		l->rescan_wanted = true;
		return;
	}
	ingest_now(&now);
	l->full_scan = true;
	l->scan_started_wall = now.wall;
	l->scan_dirs = 0;
	l->scan_files = 0;
	l->scan_started_ms = now.mono_ms;
	log_event(LOG_INFO, "ingest_rescan", "reason=%s", reason);
}

static void watch_dir(struct loop *l, const char *rel)
{
	int r = ingest_watch_add(l->ctx.root_fd, l->root, rel);

	/* Still listed by the caller: what is there now is not missed, only
	 * later changes in it are (until the next rescan). */
	if (r < 0 && r != -ENOENT)
		log_event(LOG_WARNING, "ingest_error", "dir=%s reason=watch error=%s",
			  log_q(rel), strerror(-r));
}

static int scan_dir(const char *rel, void *ud)
{
	struct loop *l = ud;
	unsigned depth = ingest_path_depth(rel);

	if (depth > INGEST_MAX_DEPTH) {
		log_event(LOG_WARNING, "ingest_error", "dir=%s reason=too_deep max_depth=%d",
			  log_q(rel), INGEST_MAX_DEPTH);
		return 0;
	}
	if (depth > 0 && !under_relation(rel))
		return 0;
	/* The receipts directory and the like are the service's own. */
	if (depth > 1 && ingest_name_reserved(ingest_basename(rel)))
		return 0;
	watch_dir(l, rel);
	l->scan_dirs++;
	return 1;
}

static void scan_file(const char *rel, void *ud)
{
	struct loop *l = ud;

	l->scan_files++;
	enqueue(l, rel);
}

static const struct ingest_scan_ops scan_ops = { scan_dir, scan_file };

static void on_event(enum ingest_watch_kind kind, const char *rel, void *ud)
{
	struct loop *l = ud;

	switch (kind) {
	case INGEST_EV_FILE:
		enqueue(l, rel);
		break;
	case INGEST_EV_DIR:
		if (!under_relation(rel) || ingest_path_depth(rel) > INGEST_MAX_DEPTH ||
		    ingest_name_reserved(ingest_basename(rel)))
			break;
		/* Watch it now (or learn its new name after a rename), then list
		 * it: files made before the watch was in place are found so. */
		watch_dir(l, rel);
		if (ingest_scan_push(l->scan, rel) < 0)
			l->rescan_wanted = true;
		break;
	case INGEST_EV_OVERFLOW:
		log_event(LOG_WARNING, "ingest_overflow", "action=rescan");
		start_full_scan(l, "overflow");
		break;
	}
}

static void log_failure(const struct ingest_item *it, const char *why, int r, int64_t delay)
{
	char relation[SD_RELATION_MAX + 1];
	const char *name;

	if (ingest_path_split(it->key, relation, &name) < 0) {
		relation[0] = '\0';
		name = it->key;
	}
	log_event(LOG_WARNING, "ingest_error",
		  "relation=%s name=%s reason=%s error=%s attempt=%u retry_ms=%lld", relation,
		  log_q(name), why, strerror(-r), it->attempts, (long long)delay);
}

/* Everything that is due, up to a round's worth, as one batch. */
static void process_due(struct loop *l)
{
	struct ingest_item *items[LOOP_ITEMS_PER_ROUND];
	struct ingest_time now;
	size_t n = 0;

	ingest_now(&now);
	while (n < LOOP_ITEMS_PER_ROUND && ingest_queue_pop_due(l->q, now.mono_ms, &items[n]) == 1) {
		l->jobs[n].key = items[n]->key;
		n++;
	}
	if (n == 0)
		return;
	ingest_process_batch(&l->ctx, l->jobs, n);
	ingest_now(&now);
	for (size_t i = 0; i < n; i++) {
		struct ingest_item *it = items[i];
		int64_t delay;

		if (l->jobs[i].r >= 0) {
			ingest_item_free(it);
			continue;
		}
		it->attempts++;
		delay = ingest_retry_delay_ms(it->attempts);
		log_failure(it, l->jobs[i].why, l->jobs[i].r, delay);
		if (ingest_queue_requeue(l->q, it, now.mono_ms + delay) < 0)
			l->rescan_wanted = true;
	}
}

static void check_partials(struct loop *l)
{
	for (int i = 0; i < LOOP_ITEMS_PER_ROUND; i++) {
		struct ingest_item *it = NULL;
		struct ingest_time now;
		int64_t recheck = 0;
		int r;

		ingest_now(&now);
		if (ingest_queue_pop_due(l->partials, now.mono_ms, &it) != 1)
			return;
		r = ingest_partial_check(&l->ctx, it->key, &recheck);
		if (r == 1) {
			ingest_item_free(it);
			continue;
		}
		if (r < 0) {
			it->attempts++;
			recheck = ingest_retry_delay_ms(it->attempts);
			log_event(LOG_WARNING, "ingest_error", "path=%s reason=partial error=%s"
				  " retry_ms=%lld", log_q(it->key), strerror(-r), (long long)recheck);
		}
		ingest_now(&now);
		ingest_queue_requeue(l->partials, it, now.mono_ms + recheck);
	}
}

/* Recovery, receipts, retention; and after a full scan, the rows whose
 * file it did not find (display only: they are claimed if it turns up). */
static void maintain(struct loop *l)
{
	struct ingest_time now;

	ingest_now(&now);
	if (l->vanish_due && ingest_queue_len(l->q) == 0) {
		int n = store_upload_mark_vanished(l->ctx.store, l->scan_started_wall, now.wall);

		l->vanish_due = false;
		if (n > 0)
			log_event(LOG_NOTICE, "ingest_vanished", "count=%d", n);
	}
	if (now.mono_ms < l->next_maint_ms)
		return;
	l->next_maint_ms = now.mono_ms + LOOP_MAINT_INTERVAL_MS;
	ingest_recover(&l->ctx, false);
	ingest_expire(&l->ctx, now.wall);
}

static bool scan_has_room(const struct loop *l)
{
	return ingest_queue_len(l->q) + LOOP_SCAN_PER_ROUND <= INGEST_QUEUE_MAX;
}

/* Advance the walk, report the end of a full one, start one that is owed. */
static void advance_scan(struct loop *l)
{
	if (ingest_scan_active(l->scan) && scan_has_room(l)) {
		int r = ingest_scan_step(l->scan, LOOP_SCAN_PER_ROUND, &scan_ops, l);

		if (r < 0) {
			log_event(LOG_WARNING, "ingest_error", "reason=scan error=%s", strerror(-r));
			l->rescan_wanted = true;
		}
	}
	if (ingest_scan_active(l->scan))
		return;
	if (l->full_scan) {
		struct ingest_time now;

		ingest_now(&now);
		log_event(LOG_INFO, "ingest_rescan_done", "dirs=%lu files=%lu ms=%lld",
			  l->scan_dirs, l->scan_files,
			  (long long)(now.mono_ms - l->scan_started_ms));
		l->full_scan = false;
		l->vanish_due = !l->rescan_wanted;
	}
	if (l->rescan_wanted && ingest_queue_len(l->q) < INGEST_QUEUE_MAX / 2) {
		l->rescan_wanted = false;
		l->full_logged = false;
		start_full_scan(l, "dropped_events");
	}
}

static int poll_timeout(const struct loop *l, bool more_events)
{
	struct ingest_time now;
	int64_t due = l->next_maint_ms, d;

	if (more_events || (ingest_scan_active(l->scan) && scan_has_room(l)))
		return 0;
	if (ingest_queue_next_due(l->q, &d) && d < due)
		due = d;
	if (ingest_queue_next_due(l->partials, &d) && d < due)
		due = d;
	if (l->ctx.hooks && ingest_hooks_next(l->ctx.hooks, &d) && d < due)
		due = d;
	ingest_now(&now);
	if (due <= now.mono_ms)
		return 0;
	return due - now.mono_ms > INT_MAX ? INT_MAX : (int)(due - now.mono_ms);
}

static int open_dirs(struct loop *l)
{
	l->ctx.root_fd = open(l->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->ctx.root_fd < 0) {
		int r = -errno;

		log_event(LOG_ERR, "ingest_fatal", "reason=open_upload_root path=%s error=%s",
			  log_q(l->root), strerror(-r));
		return r;
	}
	l->ctx.spool_fd = open(l->spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->ctx.spool_fd < 0) {
		int r = -errno;

		log_event(LOG_ERR, "ingest_fatal", "reason=open_spool_dir path=%s error=%s",
			  log_q(l->spool), strerror(-r));
		return r;
	}
	/* Two watchers would race for the same uploads; the store would keep
	 * them apart, but the second one is a mistake worth stopping. */
	if (flock(l->ctx.spool_fd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EBUSY : -errno;

		log_event(LOG_ERR, "ingest_fatal", "reason=spool_locked path=%s error=%s",
			  log_q(l->spool), strerror(-r));
		return r;
	}
	return 0;
}

static void log_stop(int stop_fd)
{
	struct signalfd_siginfo si;
	ssize_t n = read(stop_fd, &si, sizeof(si));

	log_event(LOG_INFO, "ingest_stop", "signal=%d",
		  n == (ssize_t)sizeof(si) ? (int)si.ssi_signo : 0);
}

int ingest_run(const struct conf *c, struct store *st, int stop_fd)
{
	struct loop l = { .c = c };
	bool more_events = false;
	int wfd = -1;
	int r;

	l.ctx.conf = c;
	l.ctx.store = st;
	l.ctx.hooks = NULL;
	l.ctx.root_fd = -1;
	l.ctx.spool_fd = -1;
	l.root = strip_slashes(c->upload_root);
	l.spool = strip_slashes(c->spool_dir);
	r = -ENOMEM;
	if (!l.root || !l.spool) {
		log_event(LOG_ERR, "ingest_fatal", "reason=setup error=%s", strerror(-r));
		goto out;
	}
	l.ctx.spool_dir = l.spool;
	r = open_dirs(&l);
	if (r < 0)
		goto out;
	l.jobs = calloc(LOOP_ITEMS_PER_ROUND, sizeof(*l.jobs));
	r = l.jobs ? ingest_queue_new(INGEST_QUEUE_MAX, &l.q) : -ENOMEM;
	if (r == 0)
		r = ingest_queue_new(INGEST_QUEUE_MAX, &l.partials);
	if (r == 0)
		r = ingest_scan_new(l.ctx.root_fd, &l.scan);
	if (r == 0 && c->ingest_hook[0])
		r = ingest_hooks_new(c->ingest_hook, c->ingest_hook_timeout * 1000, &l.ctx.hooks);
	if (r < 0) {
		log_event(LOG_ERR, "ingest_fatal", "reason=setup error=%s", strerror(-r));
		goto out;
	}
	wfd = ingest_watch_open();
	if (wfd < 0) {
		r = wfd;
		log_event(LOG_ERR, "ingest_fatal", "reason=inotify error=%s", strerror(-r));
		goto out;
	}
	log_event(LOG_INFO, "ingest_start", "root=%s spool=%s settle_ms=%lld hook=%s",
		  log_q(l.root), log_q(l.spool), (long long)c->ingest_settle_ms,
		  c->ingest_hook[0] ? log_q(c->ingest_hook) : "none");
	if (fault_enabled())
		log_event(LOG_WARNING, "test_fault", "armed=%s", log_q(getenv("SFTPDROP_TEST_FAULT")));
	/* Finish what a crash left before looking for new work. */
	ingest_recover(&l.ctx, true);
	{
		struct ingest_time now;

		ingest_now(&now);
		ingest_recover_hooks(&l.ctx, now.mono_ms);
		l.next_maint_ms = now.mono_ms + LOOP_MAINT_INTERVAL_MS;
	}
	start_full_scan(&l, "startup");
	for (;;) {
		struct pollfd pfd[2 + 2 * INGEST_HOOK_MAX_RUNNING] = {
			{ .fd = wfd, .events = POLLIN }, { .fd = stop_fd, .events = POLLIN }
		};
		nfds_t npfd = 2;

		r = ingest_watch_read(LOOP_EVENTS_PER_ROUND, on_event, &l);
		if (r < 0) {
			log_event(LOG_ERR, "ingest_fatal", "reason=inotify_read error=%s",
				  strerror(-r));
			goto out;
		}
		more_events = r == LOOP_EVENTS_PER_ROUND;
		/* Only with nothing left in the library's buffer: a new inotify
		 * instance numbers its watches from 1 again. */
		if (!more_events && ingest_watch_stale() > LOOP_STALE_WATCH_MAX) {
			ingest_watch_close();
			wfd = ingest_watch_open();
			if (wfd < 0) {
				r = wfd;
				log_event(LOG_ERR, "ingest_fatal", "reason=inotify error=%s",
					  strerror(-r));
				goto out;
			}
			start_full_scan(&l, "watch_reset");
		}
		process_due(&l);
		check_partials(&l);
		advance_scan(&l);
		maintain(&l);
		if (l.ctx.hooks) {
			ingest_hooks_work(l.ctx.hooks, st);
			npfd += ingest_hooks_pollfds(l.ctx.hooks, pfd + 2, 2 * INGEST_HOOK_MAX_RUNNING);
		}
		if (poll(pfd, npfd, poll_timeout(&l, more_events)) < 0 && errno != EINTR) {
			r = -errno;
			log_event(LOG_ERR, "ingest_fatal", "reason=poll error=%s", strerror(-r));
			goto out;
		}
		if (pfd[1].revents & POLLIN) {
			log_stop(stop_fd);
			r = 0;
			goto out;
		}
	}
out:
	ingest_watch_close();
	ingest_hooks_free(l.ctx.hooks);
	ingest_scan_free(l.scan);
	ingest_queue_free(l.partials);
	ingest_queue_free(l.q);
	if (l.ctx.spool_fd >= 0)
		close(l.ctx.spool_fd);
	if (l.ctx.root_fd >= 0)
		close(l.ctx.root_fd);
	free(l.jobs);
	free(l.spool);
	free(l.root);
	return r;
}
