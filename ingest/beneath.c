/* Opening a path below a directory fd so that nothing on the way can lead
 * out of it: the kernel resolves with RESOLVE_BENEATH and refuses every
 * symlink, so a name in the upload tree can never make ingest read elsewhere. */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* RESOLVE_BENEATH answers EAGAIN when a rename raced with the lookup; a few
 * retries are enough, a loop forever is not acceptable. */
#define BENEATH_EAGAIN_RETRIES 8

int ingest_open_beneath(int dirfd, const char *rel, int flags, unsigned mode)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC);
	/* openat2 refuses a mode without O_CREAT. */
	how.mode = (flags & O_CREAT) ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	if (rel[0] == '\0')
		rel = ".";
	for (int tries = 0;; tries++) {
		fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if ((errno != EAGAIN && errno != EINTR) || tries >= BENEATH_EAGAIN_RETRIES)
			return -errno;
	}
}
