/* The network-facing worker: libssh session, authentication dialogue relayed
 * to the monitor, then the SFTP engine. No database handle, no stored secrets. */
#ifndef SFTPDROP_WORKER_H
#define SFTPDROP_WORKER_H

#include <libssh/server.h>

#include "conf.h"

_Noreturn void srv_worker_main(const struct conf *c, ssh_bind bind, int fd, int monfd,
			       const char *src);

#endif
