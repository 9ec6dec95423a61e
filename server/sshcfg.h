/* libssh server settings in one place: no system libssh config, explicit
 * modern algorithm lists, a version string that does not name the library. */
#ifndef SFTPDROP_SSHCFG_H
#define SFTPDROP_SSHCFG_H

#include <libssh/server.h>

#include "conf.h"

/* Can path be loaded as a private host key? 0, or -errno with the reason in
 * err ("No such file or directory", "not a private key", ...). */
int srv_check_host_key(const char *path, char *err, size_t errlen);

/* Create the ssh_bind with host keys loaded, bound to our own listening
 * socket lfd. Errors are printed to stderr. 0 or -errno. */
int srv_ssh_bind_new(const struct conf *c, int lfd, ssh_bind *out);

#endif
