/* sftpdropd: the listener. Owns the listening sockets and the host keys,
 * enforces connection limits, and forks one monitor per connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "log.h"
#include "monitor.h"
#include "sshcfg.h"
#include "store.h"

/* Children tracked by the listener (bounded by max_connections). */
struct child {
	pid_t pid;
	bool authed;
	char src[64];
};

static struct child *children;
static size_t n_children;
static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	if (write(sig_pipe[1], &b, 1) < 0) {
		/* pipe full: a wake-up is already pending */
	}
	errno = saved;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sftpdropd [-c FILE] [-f] [-t]\n"
		   "  -c FILE  configuration file (default: $SFTPDROP_CONFIG)\n"
		   "  -f       stay in the foreground, log to stderr\n"
		   "  -t       check the configuration, print it, and exit\n");
}

static int open_listener(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;
	int fd;

	if (conf_parse_listen(spec, &ss, &len) < 0)
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t outsz)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out, (socklen_t)outsz);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)outsz);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out,
			  (socklen_t)outsz);
	}
}

static void reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < n_children; i++) {
			if (children[i].pid == pid) {
				children[i] = children[--n_children];
				break;
			}
		}
	}
}

static void read_auth_notices(int fd)
{
	pid_t pid;

	while (read(fd, &pid, sizeof(pid)) == sizeof(pid)) {
		for (size_t i = 0; i < n_children; i++)
			if (children[i].pid == pid)
				children[i].authed = true;
	}
}

/* Which limit, if any, refuses a new connection from src? */
static const char *limit_hit(const struct conf *c, const char *src)
{
	size_t unauth = 0, from_src = 0;

	if (n_children >= (size_t)c->max_connections)
		return "max_connections";
	for (size_t i = 0; i < n_children; i++) {
		if (children[i].authed)
			continue;
		unauth++;
		if (!strcmp(children[i].src, src))
			from_src++;
	}
	if (unauth >= (size_t)c->max_unauthenticated)
		return "max_unauthenticated";
	if (from_src >= (size_t)c->max_unauthenticated_per_source)
		return "max_unauthenticated_per_source";
	return NULL;
}

static void accept_one(const struct conf *c, ssh_bind bind, int lfd, const int *lfds,
		       unsigned n_lfds, int notify_w)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct srv_conn conn = { 0 };
	const char *why;
	int one = 1;
	pid_t pid;
	int fd;

	fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_event(LOG_ERR, "accept_error", "err=%s", strerror(errno));
		return;
	}
	addr_text(&ss, conn.src, sizeof(conn.src));
	why = limit_hit(c, conn.src);
	if (why) {
		log_event(LOG_NOTICE, "connection_refused", "src=%s reason=%s", conn.src, why);
		close(fd);
		return;
	}
	/* Small request/response exchanges must not wait for Nagle. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn.fd = fd;
	conn.notify_fd = notify_w;
	conn.close_fds = lfds;
	conn.n_close_fds = n_lfds;
	pid = fork();
	if (pid < 0) {
		log_event(LOG_ERR, "fork_error", "err=%s", strerror(errno));
		close(fd);
		return;
	}
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		close(sig_pipe[0]);
		close(sig_pipe[1]);
		free(children);
		/* The listening sockets are closed by the monitor; keep libssh
		 * from closing a number that may be reused by then. */
		ssh_bind_set_fd(bind, SSH_INVALID_SOCKET);
		srv_monitor_main(c, bind, &conn);
	}
	close(fd);
	children[n_children].pid = pid;
	children[n_children].authed = false;
	snprintf(children[n_children].src, sizeof(children[n_children].src), "%s", conn.src);
	n_children++;
	log_event(LOG_INFO, "connection", "src=%s pid=%d", conn.src, (int)pid);
}

static int run(const struct conf *c, bool foreground)
{
	int lfds[CONF_MAX_LISTEN];
	struct pollfd pfd[CONF_MAX_LISTEN + 2];
	int notify[2] = { -1, -1 };
	ssh_bind bind = NULL;
	struct store *st = NULL;
	bool stop = false;
	int r;

	/* Fail early on a database that cannot be opened. */
	r = store_open(c->database, false, &st);
	if (r < 0) {
		fprintf(stderr, "sftpdropd: database %s: %s\n", c->database, strerror(-r));
		return 1;
	}
	store_close(st);
	for (unsigned i = 0; i < c->n_listen; i++) {
		lfds[i] = open_listener(c->listen[i]);
		if (lfds[i] < 0) {
			fprintf(stderr, "sftpdropd: listen %s: %s\n", c->listen[i],
				strerror(-lfds[i]));
			return 1;
		}
	}
	r = srv_ssh_bind_new(c, lfds[0], &bind);
	if (r < 0)
		return 1;
	children = calloc((size_t)c->max_connections, sizeof(*children));
	if (!children || pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(notify, O_CLOEXEC | O_NONBLOCK) < 0) {
		fprintf(stderr, "sftpdropd: %s\n", strerror(errno));
		return 1;
	}
	/* Detach only now, so that set-up errors reach the operator's terminal. */
	if (!foreground && daemon(0, 0) < 0) {
		fprintf(stderr, "sftpdropd: daemon: %s\n", strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGCHLD, on_signal);
	if (clock_is_fake())
		log_event(LOG_WARNING, "test_clock", "%s", "now=injected");
	for (unsigned i = 0; i < c->n_listen; i++)
		log_event(LOG_INFO, "listening", "addr=%s", c->listen[i]);
	while (!stop) {
		unsigned n = 0;

		for (unsigned i = 0; i < c->n_listen; i++)
			pfd[n++] = (struct pollfd){ .fd = lfds[i], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = sig_pipe[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = notify[0], .events = POLLIN };
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_event(LOG_ERR, "poll_error", "err=%s", strerror(errno));
			break;
		}
		if (pfd[c->n_listen].revents) {
			unsigned char sig;

			while (read(sig_pipe[0], &sig, 1) == 1) {
				if (sig == SIGTERM || sig == SIGINT)
					stop = true;
			}
			reap();
		}
		if (pfd[c->n_listen + 1].revents)
			read_auth_notices(notify[0]);
		for (unsigned i = 0; i < c->n_listen && !stop; i++)
			if (pfd[i].revents & POLLIN)
				accept_one(c, bind, lfds[i], lfds, c->n_listen, notify[1]);
	}
	log_event(LOG_INFO, "shutdown", "connections=%zu", n_children);
	for (size_t i = 0; i < n_children; i++)
		kill(children[i].pid, SIGTERM);
	for (unsigned i = 0; i < c->n_listen; i++)
		close(lfds[i]);
	ssh_bind_set_fd(bind, SSH_INVALID_SOCKET);
	ssh_bind_free(bind);
	free(children);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = getenv("SFTPDROP_CONFIG");
	bool foreground = false, test = false;
	struct conf c;
	char err[512];
	int opt;
	int rc;

	while ((opt = getopt(argc, argv, "c:fth")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 't':
			test = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !path) {
		if (!path)
			fprintf(stderr, "sftpdropd: no configuration: use -c FILE\n");
		usage(stderr);
		return 2;
	}
	if (conf_load(path, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "sftpdropd: %s\n", err);
		return 1;
	}
	if (test) {
		rc = 0;
		/* -t also checks what the daemon would load at start. */
		for (unsigned i = 0; i < c.n_host_key; i++) {
			if (srv_check_host_key(c.host_key[i], err, sizeof(err)) < 0) {
				fprintf(stderr, "sftpdropd: host_key %s: %s\n", c.host_key[i], err);
				rc = 1;
			}
		}
		if (rc == 0)
			conf_print(&c, stdout);
		conf_free(&c);
		return rc;
	}
	log_init("sftpdropd", foreground, c.debug);
	ssh_init();
	rc = run(&c, foreground);
	ssh_finalize();
	conf_free(&c);
	return rc;
}
