/* Running the mail command. fork + execve of an absolute path with an argv we
 * built: no shell, no PATH search, a fixed environment. The child learns
 * nothing of ours but the message: every descriptor beyond stdin, stdout and
 * stderr is closed before execve, and an execve failure is reported back
 * through a close-on-exec pipe so that the operator reads "No such file"
 * rather than "exited with status 127". */
#include "sendmail.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How often the exit of the child is looked for while waiting. */
#define SENDMAIL_POLL_NS (10 * 1000 * 1000)

int admin_sendmail_split(const char *command, char **buf,
			 char *argv[ADMIN_SENDMAIL_MAX_ARGS + 1])
{
	char *copy = strdup(command);
	char *save = NULL, *word;
	size_t n = 0;

	if (!copy)
		return -ENOMEM;
	for (word = strtok_r(copy, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		if (n == ADMIN_SENDMAIL_MAX_ARGS) {
			free(copy);
			return -E2BIG;
		}
		argv[n++] = word;
	}
	argv[n] = NULL;
	if (n == 0 || argv[0][0] != '/') {
		free(copy);
		return -EINVAL;
	}
	*buf = copy;
	return 0;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keep a pipe end off descriptors 0..2, so that the child's dup2()s onto
 * them cannot clobber it (when we were started with one of them closed). */
static int move_high(int *fd)
{
	int n;

	if (*fd > 2)
		return 0;
	n = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (n < 0)
		return -errno;
	close(*fd);
	*fd = n;
	return 0;
}

/* In the child: only async-signal-safe calls until execve. */
static void __attribute__((noreturn)) child(int in_r, int err_w, char *const argv[])
{
	static char *const envp[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	struct sigaction dfl;
	int e;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &dfl, NULL); /* ignored by the parent; not for the child */
	if (dup2(in_r, STDIN_FILENO) < 0)
		goto fail;
	/* Its chatter goes with our diagnostics, never into our --json output. */
	if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0 &&
	    open("/dev/null", O_WRONLY) != STDOUT_FILENO)
		goto fail;
	if (err_w != 3) {
		if (dup2(err_w, 3) < 0)
			goto fail;
		err_w = 3;
	}
	if (fcntl(err_w, F_SETFD, FD_CLOEXEC) < 0)
		goto fail;
	close_range(4, ~0U, 0); /* best effort: ours are close-on-exec anyway */
	execve(argv[0], argv, envp);
fail:
	e = errno;
	if (write(err_w, &e, sizeof(e)) < 0) {
		/* nothing left to tell it with */
	}
	_exit(127);
}

/* Write the message to the child's stdin until done or the deadline. */
static int feed(int fd, const char *msg, size_t len, int64_t deadline)
{
	size_t off = 0;

	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	while (off < len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int64_t left = deadline - monotonic_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)(left > INT32_MAX ? INT32_MAX : left)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = write(fd, msg + off, len - off);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Wait for pid until the deadline, then kill it. *timed_out says which. */
static int reap(pid_t pid, int64_t deadline, int *status, bool *timed_out)
{
	const struct timespec tick = { 0, SENDMAIL_POLL_NS };

	*timed_out = false;
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (monotonic_ms() >= deadline) {
			*timed_out = true;
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0)
				if (errno != EINTR)
					return -errno;
			return 0;
		}
		nanosleep(&tick, NULL);
	}
}

int admin_sendmail_run(char *const argv[], const char *msg, size_t len, int timeout_ms,
		       char *why, size_t whylen)
{
	int64_t deadline = monotonic_ms() + timeout_ms;
	int in[2] = { -1, -1 }, err[2] = { -1, -1 };
	struct sigaction ign, old_pipe;
	bool pipe_ignored = false, timed_out = false;
	int status = 0, exec_errno = 0;
	pid_t pid = -1;
	ssize_t n;
	int r, fr;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		r = -errno;
		snprintf(why, whylen, "cannot make a pipe: %s", strerror(-r));
		goto out;
	}
	r = move_high(&in[0]);
	if (r == 0)
		r = move_high(&err[1]);
	if (r < 0) {
		snprintf(why, whylen, "cannot move a pipe: %s", strerror(-r));
		goto out;
	}
	/* A command that exits without reading must give EPIPE, not kill us. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &ign, &old_pipe) == 0)
		pipe_ignored = true;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		snprintf(why, whylen, "cannot fork: %s", strerror(-r));
		goto out;
	}
	if (pid == 0)
		child(in[0], err[1], argv);
	close(in[0]);
	close(err[1]);
	in[0] = err[1] = -1;
	/* execve closes err[1] in the child: EOF means it ran. */
	do
		n = read(err[0], &exec_errno, sizeof(exec_errno));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(exec_errno)) {
		reap(pid, deadline, &status, &timed_out);
		r = -exec_errno;
		snprintf(why, whylen, "cannot run %s: %s", argv[0], strerror(exec_errno));
		goto out;
	}
	fr = feed(in[1], msg, len, deadline);
	close(in[1]);
	in[1] = -1;
	r = reap(pid, deadline, &status, &timed_out);
	if (r < 0) {
		snprintf(why, whylen, "cannot wait for %s: %s", argv[0], strerror(-r));
		goto out;
	}
	if (timed_out || fr == -ETIMEDOUT) {
		r = -ETIMEDOUT;
		snprintf(why, whylen, "%s timed out after %d s and was killed", argv[0],
			 timeout_ms / 1000);
	} else if (WIFSIGNALED(status)) {
		r = -EINTR;
		snprintf(why, whylen, "%s was killed by signal %d", argv[0], WTERMSIG(status));
	} else if (WEXITSTATUS(status) != 0) {
		r = -EPROTO;
		snprintf(why, whylen, "%s exited with status %d", argv[0], WEXITSTATUS(status));
	} else if (fr < 0) {
		/* It said yes to a message it did not read in full. */
		r = fr;
		snprintf(why, whylen, "%s did not read the whole message: %s", argv[0],
			 strerror(-fr));
	} else {
		r = 0;
	}
out:
	if (pipe_ignored)
		sigaction(SIGPIPE, &old_pipe, NULL);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return r;
}
