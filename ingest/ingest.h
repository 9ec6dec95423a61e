/* sftpdrop-ingest: hands every published upload to the spool exactly once.
 * One section per file of ingest/: the pure parts (clock, path decisions,
 * settle queue) that the unit tests drive, then the I/O parts that loop.c
 * ties together (tree scan, inotify watch, spool hand-off, one upload). */
#ifndef SFTPDROP_INGEST_H
#define SFTPDROP_INGEST_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "defs.h"
#include "util.h"
#include "store.h"

struct conf;
struct store;
struct store_receipt;
struct ingest_hooks;

/* ---- clock.c: the one source of "now" (a test can inject its own) ---- */

struct ingest_time {
	int64_t mono_ms; /* CLOCK_MONOTONIC: settle and retry deadlines */
	int64_t wall;    /* seconds since the epoch: what the store records */
};

typedef void (*ingest_clock_fn)(struct ingest_time *out);

void ingest_now(struct ingest_time *out);
/* Replace the clock (NULL: back to the system clocks). */
void ingest_set_clock(ingest_clock_fn fn);

/* ---- path.c: where a path sits under the upload root, what is skipped ---- */

/* Directory levels below the upload root that are watched and scanned
 * (relation dir = 1). Deeper trees are refused so that the watch count and
 * the scan stay bounded; the daemon never creates them for a real client. */
#define INGEST_MAX_DEPTH 32
/* Linux NAME_MAX: the longest spool file name. */
#define INGEST_NAME_MAX 255

/* path = root "/" rel: point *rel at rel (non-empty). root may end in '/'.
 * 0 or -EINVAL when path is not strictly below root. */
int ingest_path_relative(const char *root, const char *path, const char **rel);
/* Is s[0..len) a relation number (1..SD_RELATION_MAX ASCII digits)? */
bool ingest_relation_valid(const char *s, size_t len);
/* rel = RELATION "/" NAME: copy RELATION into relation and point *name at
 * NAME (the path relative to the relation dir). Every component must be
 * non-empty and not "." or ".."; NAME shorter than the store's limit.
 * Outputs written only on success. 0, -EINVAL or -ENAMETOOLONG. */
int ingest_path_split(const char *rel, char relation[SD_RELATION_MAX + 1],
		      const char **name);
/* Number of components of a relative path ("" has 0). */
unsigned ingest_path_depth(const char *rel);
/* The last component of path (path itself when it has no '/'). */
const char *ingest_basename(const char *path);
/* Never ingested: the service's own names (SD_RESERVED_PREFIX: staging
 * files, receipts), names matching one of the comma-separated globs in
 * patterns (client temp names such as *.filepart), and the empty, "." and
 * ".." names. */
bool ingest_name_skipped(const char *patterns, const char *basename);
/* A name of the service's own (SD_RESERVED_PREFIX): never ingested, and a
 * directory of that name (the receipts) is neither watched nor scanned. */
bool ingest_name_reserved(const char *basename);
/* Spool file name "<id>-<basename of name>", cut at a UTF-8 character
 * boundary to INGEST_NAME_MAX bytes (the id keeps it unique). Length or
 * -ENAMETOOLONG when out is too small. */
int ingest_spool_name(int64_t id, const char *name, char *out, size_t outsz);

/* ---- queue.c: candidates waiting for their settle time or a retry ---- */

/* Pending candidates held at most (each costs a path and ~64 bytes); past
 * it new events are dropped and a rescan is scheduled instead. */
#define INGEST_QUEUE_MAX 100000
/* Retries after a failure: 1 s, doubling, never more than 5 minutes apart,
 * so a full disk or a locked database heals without a restart. */
#define INGEST_RETRY_BASE_MS 1000
#define INGEST_RETRY_MAX_MS 300000

struct ingest_queue;

/* One candidate, keyed by its path relative to the upload root. Owned by
 * the queue while queued; by the caller after ingest_queue_pop_due(). */
struct ingest_item {
	int64_t due_ms;    /* monotonic time at which it may be processed */
	unsigned attempts; /* failed attempts so far */
	/* queue internals */
	uint64_t seq;
	uint64_t hash;
	size_t heap_pos;
	struct ingest_item *next;
	char key[];
};

/* A queue holding at most cap items. *out owned by the caller:
 * ingest_queue_free(). 0 or -ENOMEM/-EINVAL. */
int ingest_queue_new(size_t cap, struct ingest_queue **out);
void ingest_queue_free(struct ingest_queue *q);
size_t ingest_queue_len(const struct ingest_queue *q);
bool ingest_queue_full(const struct ingest_queue *q);
/* An event for key: add it due at due_ms, or, if queued, move its due time
 * to the later of the two (the newest event counts). 1 added, 0 updated,
 * -ENOSPC queue full, -ENOMEM. */
int ingest_queue_touch(struct ingest_queue *q, const char *key, int64_t due_ms);
/* Earliest due time; false when empty. */
bool ingest_queue_next_due(const struct ingest_queue *q, int64_t *due_ms);
/* Take the earliest item if it is due at now_ms (ties in arrival order).
 * 1 and *out (caller's), or 0 when nothing is due. */
int ingest_queue_pop_due(struct ingest_queue *q, int64_t now_ms, struct ingest_item **out);
/* Put a popped item back due at due_ms (it may exceed cap by the one item
 * that was taken out). Takes ownership of it in every case; merges with an
 * entry for the same key that arrived meanwhile. 0 or -ENOMEM. */
int ingest_queue_requeue(struct ingest_queue *q, struct ingest_item *it, int64_t due_ms);
void ingest_item_free(struct ingest_item *it);
/* Set the failure count of the queued item for key. 0 or -ENOENT. */
int ingest_queue_set_attempts(struct ingest_queue *q, const char *key, unsigned attempts);
/* Delay before retry number attempts (>= 1). */
int64_t ingest_retry_delay_ms(unsigned attempts);

/* ---- beneath.c: opening a path below a directory fd, no symlinks ---- */

/* openat2(dirfd, rel, flags | O_CLOEXEC) with RESOLVE_BENEATH and no symlink
 * (nor magic link) anywhere on the way. fd or -errno (-ELOOP for a link,
 * -EXDEV for an escape). */
int ingest_open_beneath(int dirfd, const char *rel, int flags, unsigned mode);

/* ---- scan.c: incremental walk of the upload tree ---- */

struct ingest_scan;

struct ingest_scan_ops {
	/* Called for each directory (rel "" is the root) before it is listed,
	 * so that a watch is in place before its entries are read. 1: list
	 * it, 0: skip it and what is below. */
	int (*dir)(const char *rel, void *ud);
	/* Called for each entry that is a regular file (never a symlink). */
	void (*file)(const char *rel, void *ud);
};

/* A walker below root_fd (borrowed; must outlive it). *out: caller's,
 * ingest_scan_free(). */
int ingest_scan_new(int root_fd, struct ingest_scan **out);
void ingest_scan_free(struct ingest_scan *s);
/* Schedule the subtree at rel for walking; "" restarts a full walk (what
 * was pending is then redundant and dropped). 0 or -ENOMEM. */
int ingest_scan_push(struct ingest_scan *s, const char *rel);
bool ingest_scan_active(const struct ingest_scan *s);
/* Visit up to budget directory entries. 1 when work remains, 0 when idle.
 * Unreadable or vanished directories are skipped. */
int ingest_scan_step(struct ingest_scan *s, unsigned budget,
		     const struct ingest_scan_ops *ops, void *ud);

/* ---- watch.c: the inotify watch (libinotifytools; process-wide) ---- */

enum ingest_watch_kind {
	INGEST_EV_FILE,     /* a file was closed after writing or moved in */
	INGEST_EV_DIR,      /* a directory was created or moved in: scan it */
	INGEST_EV_OVERFLOW, /* the kernel dropped events: rescan everything */
};

typedef void (*ingest_watch_cb)(enum ingest_watch_kind kind, const char *rel, void *ud);

/* Start libinotifytools. Returns the inotify fd to poll (owned by the
 * library) or -errno. */
int ingest_watch_open(void);
/* Stop it and forget every watch; idempotent. */
void ingest_watch_close(void);
/* Watch the directory rel below root_fd (root is its path). A directory
 * that is already watched, possibly under an older name, is only renamed
 * (with what is below it). 1 added, 0 known, -errno. */
int ingest_watch_add(int root_fd, const char *root, const char *rel);
/* Hand every event that is ready to cb, at most max of them, without
 * blocking. Count (== max: more may be ready) or -errno. */
int ingest_watch_read(unsigned max, ingest_watch_cb cb, void *ud);
/* Watches the kernel has dropped (deleted directories) whose bookkeeping
 * libinotifytools cannot free before ingest_watch_close(). */
unsigned ingest_watch_stale(void);

/* ---- spool.c: the immutable copy in spool/<relation>/ ---- */

struct ingest_spooled {
	char sha256[UTIL_SHA256_HEX];
	char path[4096]; /* spool_dir "/" relation "/" file name */
	bool copied;     /* true: a verified copy, false: a hard link */
};

/* Put the open upload src_fd (fstat in st) into spool_fd/relation/ as
 * "<id>-<basename of name>", read-only, its data on disk: a hard link where
 * possible, else a verified copy. Never leaves a partial file under the
 * final name. The directory entry is on disk too with sync_dir; without,
 * the caller makes it so with ingest_spool_sync_dir() (once for several
 * files). On failure *why names the step. 0 or -errno. */
int ingest_spool_put(int spool_fd, const char *spool_dir, const char *relation,
		     int64_t id, const char *name, int src_fd, const struct stat *st,
		     bool sync_dir, struct ingest_spooled *out, const char **why);
/* fsync spool_fd/relation. 0 or -errno. */
int ingest_spool_sync_dir(int spool_fd, const char *relation);
/* The spool file of upload id if it is there already (a crash came between
 * the hand-off and its record): hash it into out. 1 found, 0 not there (a
 * leftover temporary copy is removed), -errno. */
int ingest_spool_find(int spool_fd, const char *spool_dir, const char *relation,
		      int64_t id, const char *name, struct ingest_spooled *out,
		      uint64_t *size, const char **why);

/* ---- process.c: candidates, start to end ---- */

/* A receipt written (receipt.c). */
struct ingest_receipt_out {
	char relation[SD_RELATION_MAX + 1];
	char name[INGEST_NAME_MAX + 1];
};

struct ingest_ctx {
	const struct conf *conf;
	struct store *store;
	int root_fd;           /* upload_root */
	int spool_fd;          /* spool_dir */
	const char *spool_dir; /* its path, without a trailing '/' */
	struct ingest_hooks *hooks; /* NULL: no ingest_hook configured */
};

/* Birth time of the open file in nanoseconds (statx), 0 where the file
 * system keeps none: with (dev, ino) it tells a file from a later one on a
 * reused inode. */
int64_t ingest_btime(int fd);

enum ingest_outcome {
	INGEST_DONE,    /* spooled and recorded now */
	INGEST_ALREADY, /* this inode was ingested before */
	INGEST_GONE,    /* nothing to ingest: vanished, not a regular file */
};

/* One candidate of a batch: key in; r (an ingest_outcome or -errno) and why
 * (the failing step) out; the rest is the batch's working state. */
struct ingest_job {
	const char *key;
	int r;
	const char *why;
	char relation[SD_RELATION_MAX + 1];
	const char *name;
	int fd;
	struct stat st;
	int64_t id;
	struct store_receipt row;
	struct ingest_spooled sp;
	struct ingest_receipt_out receipt;
	bool receipt_ok;
	bool in_step; /* went into the current store transaction */
};
/* Process n candidates (each key relative to upload_root): claim, spool,
 * record, receipt, hook (docs/ingest.md), each step for all of them before
 * the next, with one store transaction per step and one directory sync per
 * relation. Logs ingest_done itself. A failed job names its step in why and
 * the caller retries it. */
void ingest_process_batch(const struct ingest_ctx *ctx, struct ingest_job *jobs, size_t n);
/* The steps after the hand-off, for a recorded upload: its receipt, then
 * its hook. Safe to repeat. */
void ingest_after_record(const struct ingest_ctx *ctx, int64_t id);

/* ---- receipt.c: the relation's read-only receipts ---- */

/* Receipt file name "<id>-<basename of name>.json", cut at a UTF-8
 * character boundary to INGEST_NAME_MAX bytes. Length or -ENAMETOOLONG. */
int ingest_receipt_name(int64_t id, const char *name, char *out, size_t outsz);
/* The receipt document of r (JSON, one member per line); *out is the
 * caller's (free()). Strings are escaped; bytes that are not UTF-8 become
 * U+FFFD. Length or -ENOMEM. */
int ingest_receipt_json(const struct store_receipt *r, char **out);
/* Write upload id's receipt into upload_root/<relation>/SD_RECEIPTS_DIR
 * (temporary name, fsync, rename, fsync) and note it in the store. */
int ingest_receipt_write(const struct ingest_ctx *ctx, int64_t id, const char **why);
/* The two halves of ingest_receipt_write, for a batch: the file (its
 * directory synced only with sync_dir; else ingest_receipt_sync_dir() once
 * per relation) and then the note in the store. */
int ingest_receipt_put(const struct ingest_ctx *ctx, int64_t id, bool sync_dir,
		       struct ingest_receipt_out *out, const char **why);
int ingest_receipt_sync_dir(const struct ingest_ctx *ctx, const char *relation);
int ingest_receipt_note(const struct ingest_ctx *ctx, int64_t id,
			const struct ingest_receipt_out *out, const char **why);
/* Remove r's receipt file (receipt_retention) and note it. */
int ingest_receipt_remove(const struct ingest_ctx *ctx, const struct store_receipt *r,
			  const char **why);

/* ---- hook.c: ingest_hook runs, off the main path ---- */

/* Hooks running at once; more wait in the queue. */
#define INGEST_HOOK_MAX_RUNNING 4
/* Output of a failed run kept for the log and the store. */
#define INGEST_HOOK_OUTPUT_MAX 200

/* A runner of program (absolute path), killing a run after timeout_ms.
 * *out: the caller's, ingest_hooks_free(). */
int ingest_hooks_new(const char *program, int64_t timeout_ms, struct ingest_hooks **out);
/* Kills what still runs (its process group) and reaps it. NULL-safe. */
void ingest_hooks_free(struct ingest_hooks *h);
/* The hook of upload id is due at due_ms (attempts: failed runs so far).
 * A second call for the same id moves its due time. 0 or -errno. */
int ingest_hooks_add(struct ingest_hooks *h, int64_t id, unsigned attempts, int64_t due_ms);
/* The fds to poll for the running hooks (at most max); count. */
size_t ingest_hooks_pollfds(const struct ingest_hooks *h, struct pollfd *p, size_t max);
/* Earliest start or timeout; false when there is nothing. */
bool ingest_hooks_next(const struct ingest_hooks *h, int64_t *due_ms);
/* Start due runs, collect output, finish runs that ended or timed out
 * (the store hears each result; a failure comes back with back-off). */
void ingest_hooks_work(struct ingest_hooks *h, struct store *st);
/* argv and envp of a run for r (NULL-terminated, inside one allocation the
 * caller frees with free(*argv)); for the unit tests too. 0 or -ENOMEM. */
int ingest_hook_args(const char *program, const struct store_receipt *r, unsigned attempt,
		     char ***argv, char ***envp);

/* ---- maint.c: recovery at start, retention, interrupted uploads ---- */

/* Rows claimed but not recorded whose spool file exists are recorded, and
 * recorded rows without a receipt get one: all of them at start (all), a
 * batch per maintenance round after that. */
void ingest_recover(const struct ingest_ctx *ctx, bool all);
/* Pending hooks from the store into the runner (at start). */
void ingest_recover_hooks(const struct ingest_ctx *ctx, int64_t now_ms);
/* Remove published files past upload_retention and receipts past
 * receipt_retention (now: store time). */
void ingest_expire(const struct ingest_ctx *ctx, int64_t now);
/* Look at the staging file rel: in use, kept, or removed after
 * partial_retention. 1: nothing more to do for it; 0: look again after
 * *recheck_ms; -errno. */
int ingest_partial_check(const struct ingest_ctx *ctx, const char *rel, int64_t *recheck_ms);

/* ---- loop.c: the watcher's main loop ---- */

/* Watch, rescan, settle and process until stop_fd (a signalfd) is readable.
 * 0 after a stop request, -errno on a fatal error (already logged). */
int ingest_run(const struct conf *c, struct store *st, int stop_fd);

#endif
