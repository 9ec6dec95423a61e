/* Lock the worker down once it holds its relation directory: no new
 * privileges, and (where the kernel has Landlock) no file system access
 * outside that directory. */
#ifndef SFTPDROP_SANDBOX_H
#define SFTPDROP_SANDBOX_H

/* 0 on success (Landlock missing counts as success, with *landlock = 0);
 * -errno when a step the kernel supports fails. */
int srv_sandbox_worker(int rootfd, int *landlock_abi);

#endif
