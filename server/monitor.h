/* Per-connection privileged half: holds the store and the secrets, forks the
 * network-facing worker and answers its fixed set of requests. */
#ifndef SFTPDROP_MONITOR_H
#define SFTPDROP_MONITOR_H

#include <libssh/server.h>

#include "conf.h"

struct srv_conn {
	int fd;              /* the accepted TCP connection */
	char src[64];        /* client address, printable */
	int notify_fd;       /* write end to the listener: "this pid authenticated" */
	const int *close_fds; /* listener fds the children must close */
	unsigned n_close_fds;
};

/* Runs in the forked child of the listener; never returns. */
_Noreturn void srv_monitor_main(const struct conf *c, ssh_bind bind, struct srv_conn *conn);

#endif
