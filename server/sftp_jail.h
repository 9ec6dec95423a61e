/* Path confinement for the SFTP engine: every client path is checked and
 * normalised as a string (for naming and logs only), then resolved by the
 * kernel beneath the relation directory's fd with openat2(RESOLVE_IN_ROOT),
 * which is what actually keeps the client inside. */
#ifndef SFTPDROP_SFTP_JAIL_H
#define SFTPDROP_SFTP_JAIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Longest normalised client path, including the NUL (Linux PATH_MAX). */
#define SRV_JAIL_PATH_MAX 4096

/* Check and normalise a client path of len bytes (not NUL-terminated).
 * Relative and absolute paths are both taken from the root ("/" is the
 * relation directory): "." and empty components go, ".." removes the
 * previous component and stops at "/", no trailing slash. The result always
 * starts with '/'. Returns its length (written to out with a NUL), or:
 *   -EILSEQ        a byte < 0x20 or 0x7f anywhere (includes NUL)
 *   -EPERM         a component starts with SD_RESERVED_PREFIX (the
 *                  service's own names: staging files, receipts)
 *   -ENAMETOOLONG  the result does not fit outsz, or a component > 255.
 * Lexical only: it gives a stable name, it does not confine anything. */
int srv_jail_clean(const uint8_t *in, size_t len, char *out, size_t outsz);

/* Lexical normalisation alone (no name checks), for REALPATH and tests.
 * Same return values as srv_jail_clean except that -EILSEQ/-EPERM are not
 * produced. */
int srv_jail_normalize(const char *in, size_t len, char *out, size_t outsz);

/* Open a normalised path beneath rootfd with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS); flags as for open(2), O_CLOEXEC is added, mode is
 * used only with O_CREAT. Returns the new fd (caller closes) or -errno. */
int srv_jail_open(int rootfd, const char *path, int flags, mode_t mode);

/* Open the parent directory of a normalised path (O_PATH|O_DIRECTORY,
 * beneath rootfd as above) for an operation on its last component with an
 * *at() call and AT_SYMLINK_NOFOLLOW/O_NOFOLLOW. *name points into path at
 * the last component. Returns the fd (caller closes) or -errno; -EPERM for
 * "/" itself, which has no last component a client may operate on. */
int srv_jail_open_parent(int rootfd, const char *path, const char **name);

#endif
