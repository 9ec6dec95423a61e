/* sftpdrop-ingest -c FILE [-f]: the program around ingest_run(): options,
 * configuration, signals (SIGTERM/SIGINT end it cleanly through a signalfd),
 * the store, and the exit status (0 after a stop request, 1 on any error). */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "ingest.h"
#include "log.h"
#include "store.h"
#include "util.h"

/* Spool and database are for the service and the back office only. */
#define INGEST_UMASK 027
#define INGEST_DIR_MODE 0750

static void usage(FILE *f)
{
	fprintf(f, "usage: sftpdrop-ingest -c FILE [-f]\n"
		   "  -c FILE  configuration file (or SFTPDROP_CONFIG)\n"
		   "  -f       stay in the foreground, log to stderr\n");
}

static int stop_fd_open(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

int main(int argc, char **argv)
{
	const char *path = getenv("SFTPDROP_CONFIG");
	struct store *st = NULL;
	bool foreground = false;
	struct conf c;
	char err[512];
	int stop_fd = -1;
	int status = 1;
	int opt, r;

	while ((opt = getopt(argc, argv, "c:fh")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc || !path || !*path) {
		usage(stderr);
		return 1;
	}
	if (conf_load(path, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "sftpdrop-ingest: %s\n", err);
		return 1;
	}
	umask(INGEST_UMASK);
	signal(SIGPIPE, SIG_IGN);
	log_init("sftpdrop-ingest", foreground, c.debug);
	if (clock_is_fake())
		log_event(LOG_WARNING, "test_clock", "%s", "now=injected");
	stop_fd = stop_fd_open();
	if (stop_fd < 0) {
		log_event(LOG_ERR, "ingest_fatal", "reason=signalfd error=%s", strerror(-stop_fd));
		goto out;
	}
	r = util_mkdir_p(c.spool_dir, INGEST_DIR_MODE);
	if (r == 0)
		r = util_mkdir_p(c.upload_root, INGEST_DIR_MODE);
	if (r < 0) {
		log_event(LOG_ERR, "ingest_fatal", "reason=mkdir error=%s", strerror(-r));
		goto out;
	}
	r = store_open(c.database, true, &st);
	if (r < 0) {
		log_event(LOG_ERR, "ingest_fatal", "reason=store_open database=%s error=%s",
			  log_q(c.database), strerror(-r));
		goto out;
	}
	/* Detach only now, so that set-up errors reach the operator's terminal. */
	if (!foreground && daemon(0, 0) < 0) {
		log_event(LOG_ERR, "ingest_fatal", "reason=daemon error=%s", strerror(errno));
		goto out;
	}
	if (ingest_run(&c, st, stop_fd) == 0)
		status = 0;
out:
	store_close(st);
	if (stop_fd >= 0)
		close(stop_fd);
	conf_free(&c);
	return status;
}
