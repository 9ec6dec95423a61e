/* Hand a message to the configured sendmail-compatible command: its argv is
 * the configuration's sendmail_command split on spaces (no shell ever sees
 * it), the message goes to its stdin, and exit status 0 means accepted. */
#ifndef SFTPDROP_ADMIN_SENDMAIL_H
#define SFTPDROP_ADMIN_SENDMAIL_H

#include <stddef.h>

/* Words in sendmail_command; more is a configuration error. */
#define ADMIN_SENDMAIL_MAX_ARGS 16
/* A local MTA queues a message in milliseconds; one that hangs must not hold
 * up the warnings of every other user. */
#define ADMIN_SENDMAIL_TIMEOUT_MS 30000

/* Split command on spaces into argv (NULL-terminated, at most
 * ADMIN_SENDMAIL_MAX_ARGS words). *buf receives the copy the words point
 * into: the caller frees it. 0, -E2BIG (too many words), -EINVAL (no words,
 * or the program is not an absolute path) or -ENOMEM. */
int admin_sendmail_split(const char *command, char **buf,
			 char *argv[ADMIN_SENDMAIL_MAX_ARGS + 1]);

/* Run argv[0] with argv and a minimal environment, msg (len bytes) on its
 * stdin, its stdout sent to our stderr, and wait at most timeout_ms for it to
 * read the message and exit (then it is killed). 0 when it read everything
 * and exited with status 0; otherwise -errno with a phrase for the operator
 * in why ("exited with status 1", "timed out after 30 s", ...). */
int admin_sendmail_run(char *const argv[], const char *msg, size_t len, int timeout_ms,
		       char *why, size_t whylen);

#endif
