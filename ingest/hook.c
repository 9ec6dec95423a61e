/* The optional ingest_hook: run once per ingested upload, after its record,
 * with the receipt as arguments ("key=value", so that no argument can start
 * with '-') and as SFTPDROP_* environment, through fork()+execve() - never a
 * shell. Runs go on beside the main loop (at most INGEST_HOOK_MAX_RUNNING at
 * once), each in its own process group so that a timeout kills all of it; a
 * run that fails, cannot start or times out is reported and comes back
 * after a back-off, for as long as it takes. The store keeps the state, so
 * a restart picks up what was pending: a hook runs at least once (docs/). */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"
#include "store.h"

/* The whole environment of a run: nothing of ours leaks into it. */
#define HOOK_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* Without a pidfd (old kernel) a running hook is looked at this often. */
#define HOOK_POLL_MS 100

struct hook_run {
	int64_t id;
	pid_t pid; /* 0: free slot */
	int pidfd; /* -1 if the kernel has none */
	int outfd; /* stdout+stderr of the run; -1 after EOF */
	int64_t started_ms, deadline_ms;
	unsigned attempt; /* number of this run (1 = first) */
	bool killed;
	char out[INGEST_HOOK_OUTPUT_MAX + 1];
	size_t outlen;
};

struct ingest_hooks {
	char *program;
	int64_t timeout_ms;
	struct ingest_queue *q; /* key: the upload id in decimal */
	struct hook_run run[INGEST_HOOK_MAX_RUNNING];
};

int ingest_hooks_new(const char *program, int64_t timeout_ms, struct ingest_hooks **out)
{
	struct ingest_hooks *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	h->timeout_ms = timeout_ms;
	h->program = strdup(program);
	r = h->program ? ingest_queue_new(INGEST_QUEUE_MAX, &h->q) : -ENOMEM;
	if (r < 0) {
		ingest_hooks_free(h);
		return r;
	}
	for (size_t i = 0; i < INGEST_HOOK_MAX_RUNNING; i++) {
		h->run[i].pidfd = -1;
		h->run[i].outfd = -1;
	}
	*out = h;
	return 0;
}

static void release(struct hook_run *run)
{
	if (run->pidfd >= 0)
		close(run->pidfd);
	if (run->outfd >= 0)
		close(run->outfd);
	memset(run, 0, sizeof(*run));
	run->pidfd = -1;
	run->outfd = -1;
}

void ingest_hooks_free(struct ingest_hooks *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < INGEST_HOOK_MAX_RUNNING; i++) {
		struct hook_run *run = &h->run[i];

		if (!run->pid)
			continue;
		/* Stopped with us; the store still says "pending", so the
		 * next start runs it again. */
		kill(-run->pid, SIGKILL);
		kill(run->pid, SIGKILL);
		while (waitpid(run->pid, NULL, 0) < 0 && errno == EINTR)
			;
		release(run);
	}
	ingest_queue_free(h->q);
	free(h->program);
	free(h);
}

static bool running(const struct ingest_hooks *h, int64_t id)
{
	for (size_t i = 0; i < INGEST_HOOK_MAX_RUNNING; i++)
		if (h->run[i].pid && h->run[i].id == id)
			return true;
	return false;
}

static struct hook_run *free_slot(struct ingest_hooks *h)
{
	for (size_t i = 0; i < INGEST_HOOK_MAX_RUNNING; i++)
		if (!h->run[i].pid)
			return &h->run[i];
	return NULL;
}

int ingest_hooks_add(struct ingest_hooks *h, int64_t id, unsigned attempts, int64_t due_ms)
{
	char key[24];
	int r;

	if (running(h, id))
		return 0;
	snprintf(key, sizeof(key), "%" PRId64, id);
	r = ingest_queue_touch(h->q, key, due_ms);
	if (r < 0)
		return r;
	/* A new entry carries the failures counted so far (back-off). */
	if (r == 1)
		ingest_queue_set_attempts(h->q, key, attempts);
	return 0;
}

size_t ingest_hooks_pollfds(const struct ingest_hooks *h, struct pollfd *p, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < INGEST_HOOK_MAX_RUNNING; i++) {
		const struct hook_run *run = &h->run[i];

		if (!run->pid)
			continue;
		if (run->pidfd >= 0 && n < max)
			p[n++] = (struct pollfd){ .fd = run->pidfd, .events = POLLIN };
		if (run->outfd >= 0 && n < max)
			p[n++] = (struct pollfd){ .fd = run->outfd, .events = POLLIN };
	}
	return n;
}

bool ingest_hooks_next(const struct ingest_hooks *h, int64_t *due_ms)
{
	struct ingest_time now;
	bool any = false;
	int64_t best = 0, d;

	for (size_t i = 0; i < INGEST_HOOK_MAX_RUNNING; i++) {
		const struct hook_run *run = &h->run[i];

		if (!run->pid)
			continue;
		d = run->killed ? 0 : run->deadline_ms;
		if (run->pidfd < 0 || run->killed) {
			ingest_now(&now);
			d = now.mono_ms + HOOK_POLL_MS;
		}
		if (!any || d < best)
			best = d;
		any = true;
	}
	for (size_t i = 0; i < INGEST_HOOK_MAX_RUNNING; i++) {
		if (h->run[i].pid)
			continue;
		/* A slot is free: the queue's next start counts. */
		if (ingest_queue_next_due(h->q, &d) && (!any || d < best))
			best = d, any = true;
		break;
	}
	if (any)
		*due_ms = best;
	return any;
}

/* ---- argv and environment ---- */

struct kv {
	const char *key, *env;
	char num[32];
	const char *val;
};

int ingest_hook_args(const char *program, const struct store_receipt *r, unsigned attempt,
		     char ***argv_out, char ***envp_out)
{
	char received[32], ingested[32], receipt[INGEST_NAME_MAX + 32];
	struct kv kv[] = {
		{ "id", "SFTPDROP_ID", "", NULL },
		{ "relation", "SFTPDROP_RELATION", "", r->relation },
		{ "user", "SFTPDROP_USER", "", r->username },
		{ "name", "SFTPDROP_NAME", "", r->name },
		{ "size", "SFTPDROP_SIZE", "", NULL },
		{ "sha256", "SFTPDROP_SHA256", "", r->sha256 },
		{ "received_at", "SFTPDROP_RECEIVED_AT", "", received },
		{ "ingested_at", "SFTPDROP_INGESTED_AT", "", ingested },
		{ "source", "SFTPDROP_SOURCE", "", r->src },
		{ "spool_path", "SFTPDROP_SPOOL_PATH", "", r->spool_path },
		{ "receipt", "SFTPDROP_RECEIPT", "", receipt },
		{ "attempt", "SFTPDROP_ATTEMPT", "", NULL },
	};
	size_t n = sizeof(kv) / sizeof(kv[0]);
	size_t size, off;
	char **argv, **envp;
	char *block, *p;
	int len;

	snprintf(kv[0].num, sizeof(kv[0].num), "%" PRId64, r->id);
	kv[0].val = kv[0].num;
	snprintf(kv[4].num, sizeof(kv[4].num), "%" PRIu64, r->size);
	kv[4].val = kv[4].num;
	snprintf(kv[11].num, sizeof(kv[11].num), "%u", attempt);
	kv[11].val = kv[11].num;
	util_iso8601(r->received_at, received, sizeof(received));
	util_iso8601(r->ingested_at, ingested, sizeof(ingested));
	/* Where the relation sees the receipt. */
	memcpy(receipt, "/" SD_RECEIPTS_VIRTUAL "/", sizeof("/" SD_RECEIPTS_VIRTUAL "/"));
	len = ingest_receipt_name(r->id, r->name, receipt + strlen(receipt),
				  sizeof(receipt) - strlen(receipt));
	if (len < 0)
		receipt[0] = '\0';
	/* argv: program + n "key=value" + NULL; envp: PATH + n + NULL. */
	size = (n + 2) * sizeof(char *) * 2 + strlen(program) + 1 + sizeof(HOOK_PATH);
	for (size_t i = 0; i < n; i++)
		size += 2 * (strlen(kv[i].val) + 1) + strlen(kv[i].key) + 1 + strlen(kv[i].env) + 1;
	block = malloc(size);
	if (!block)
		return -ENOMEM;
	argv = (char **)(void *)block;
	envp = argv + n + 2;
	p = (char *)(envp + n + 2);
	off = 0;
#define PUT(...) (off = (size_t)sprintf(p, __VA_ARGS__) + 1, p += off, p - off)
	argv[0] = PUT("%s", program);
	envp[0] = PUT("%s", HOOK_PATH);
	for (size_t i = 0; i < n; i++) {
		argv[i + 1] = PUT("%s=%s", kv[i].key, kv[i].val);
		envp[i + 1] = PUT("%s=%s", kv[i].env, kv[i].val);
	}
#undef PUT
	argv[n + 1] = NULL;
	envp[n + 1] = NULL;
	*argv_out = argv;
	*envp_out = envp;
	return 0;
}

/* ---- runs ---- */

_Noreturn static void child(int out, char **argv, char **envp)
{
	sigset_t none;
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	/* Its own process group (a timeout kills all of it), no terminal. */
	setsid();
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	/* We block SIGTERM/SIGINT (signalfd) and ignore SIGPIPE: the hook
	 * must not inherit either. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (chdir("/") < 0)
		_exit(126);
	execve(argv[0], argv, envp);
	dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Start the hook of the popped item it. false: put it back later. */
static bool start(struct ingest_hooks *h, struct store *st, struct ingest_item *it,
		  struct hook_run *run, int64_t now_ms)
{
	struct store_receipt *row = malloc(sizeof(*row));
	char **argv = NULL, **envp = NULL;
	int64_t id = strtoll(it->key, NULL, 10);
	int p[2] = { -1, -1 };
	pid_t pid;
	int r;

	r = row ? store_upload_get(st, id, row) : -ENOMEM;
	if (r == 0 && strcmp(row->hook_state, "pending") != 0) {
		free(row);
		return true; /* done meanwhile (or never due): nothing to run */
	}
	if (r == 0)
		r = ingest_hook_args(h->program, row, it->attempts + 1, &argv, &envp);
	if (r == 0 && pipe2(p, O_CLOEXEC) < 0)
		r = -errno;
	if (r < 0) {
		log_event(LOG_WARNING, "hook_failed", "id=%" PRId64 " reason=setup error=%s", id,
			  strerror(-r));
		free(argv);
		free(row);
		return false;
	}
	pid = fork();
	if (pid == 0)
		child(p[1], argv, envp);
	r = pid < 0 ? -errno : 0;
	close(p[1]);
	free(argv);
	if (r < 0) {
		close(p[0]);
		log_event(LOG_WARNING, "hook_failed", "id=%" PRId64 " reason=fork error=%s", id,
			  strerror(-r));
		free(row);
		return false;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	run->id = id;
	run->pid = pid;
	run->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	run->outfd = p[0];
	run->started_ms = now_ms;
	run->deadline_ms = now_ms + h->timeout_ms;
	run->attempt = it->attempts + 1;
	log_event(LOG_DEBUG, "hook_start", "id=%" PRId64 " relation=%s attempt=%u pid=%d", id,
		  row->relation, run->attempt, (int)pid);
	free(row);
	return true;
}

static void drain(struct hook_run *run)
{
	char buf[4096];

	while (run->outfd >= 0) {
		ssize_t n = read(run->outfd, buf, sizeof(buf));
		size_t keep;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(run->outfd);
			run->outfd = -1;
			return;
		}
		keep = INGEST_HOOK_OUTPUT_MAX - run->outlen;
		if ((size_t)n < keep)
			keep = (size_t)n;
		memcpy(run->out + run->outlen, buf, keep);
		run->outlen += keep;
		run->out[run->outlen] = '\0';
	}
}

/* A run ended with status: tell the store and the log; retry a failure. */
static void finish(struct ingest_hooks *h, struct store *st, struct hook_run *run, int status,
		   int64_t now_ms)
{
	bool ok = !run->killed && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	char error[STORE_HOOK_ERROR_MAX], detail[128], key[24];
	struct ingest_time now;
	int64_t delay = 0;
	int r;

	drain(run);
	if (run->killed)
		snprintf(error, sizeof(error), "timeout after %" PRId64 " s: %s",
			 h->timeout_ms / 1000, run->out);
	else if (WIFEXITED(status))
		snprintf(error, sizeof(error), "exit status %d: %s", WEXITSTATUS(status), run->out);
	else
		snprintf(error, sizeof(error), "killed by signal %d: %s", WTERMSIG(status), run->out);
	if (ok)
		fault_point("after_hook");
	snprintf(detail, sizeof(detail), "id=%" PRId64 " attempt=%u", run->id, run->attempt);
	ingest_now(&now);
	r = store_upload_hook_result(st, run->id, ok, error, now.wall, detail);
	if (ok && r >= 0) {
		log_event(LOG_INFO, "hook_done", "id=%" PRId64 " attempt=%u ms=%" PRId64, run->id,
			  run->attempt, now_ms - run->started_ms);
	} else if (r == -ENOENT) {
		/* Nothing pending for it any more: the result has no owner. */
	} else {
		delay = ingest_retry_delay_ms(run->attempt);
		log_event(run->attempt >= 5 ? LOG_ERR : LOG_WARNING, "hook_failed",
			  "id=%" PRId64 " attempt=%u reason=%s status=%d retry_ms=%" PRId64
			  " output=%s%s%s",
			  run->id, run->attempt,
			  run->killed ? "timeout" : WIFEXITED(status) ? "exit" : "signal",
			  run->killed ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			  delay, log_q(run->out), r < 0 ? " store_error=" : "",
			  r < 0 ? strerror(-r) : "");
		snprintf(key, sizeof(key), "%" PRId64, run->id);
		if (ingest_queue_touch(h->q, key, now_ms + delay) >= 0)
			ingest_queue_set_attempts(h->q, key, run->attempt);
	}
	release(run);
}

void ingest_hooks_work(struct ingest_hooks *h, struct store *st)
{
	struct ingest_time now;
	struct hook_run *run;

	ingest_now(&now);
	for (size_t i = 0; i < INGEST_HOOK_MAX_RUNNING; i++) {
		pid_t got;
		int status = 0;

		run = &h->run[i];
		if (!run->pid)
			continue;
		drain(run);
		do
			got = waitpid(run->pid, &status, WNOHANG);
		while (got < 0 && errno == EINTR);
		if (got == run->pid || (got < 0 && errno == ECHILD)) {
			finish(h, st, run, got == run->pid ? status : 0, now.mono_ms);
			continue;
		}
		if (!run->killed && now.mono_ms >= run->deadline_ms) {
			kill(-run->pid, SIGKILL);
			kill(run->pid, SIGKILL);
			run->killed = true;
		}
	}
	while ((run = free_slot(h)) != NULL) {
		struct ingest_item *it = NULL;

		if (ingest_queue_pop_due(h->q, now.mono_ms, &it) != 1)
			break;
		if (start(h, st, it, run, now.mono_ms)) {
			ingest_item_free(it);
			continue;
		}
		it->attempts++;
		ingest_queue_requeue(h->q, it, now.mono_ms + ingest_retry_delay_ms(it->attempts));
	}
}
