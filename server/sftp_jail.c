/* Path confinement. The string functions only make names canonical and
 * refuse names we never want on disk; confinement itself is the kernel's job
 * (openat2 with RESOLVE_IN_ROOT treats rootfd as "/" for "..", absolute paths
 * and absolute symlink targets alike). */
#include "sftp_jail.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "defs.h"

/* Longest single component (Linux NAME_MAX). */
#define JAIL_NAME_MAX 255
/* openat2 with RESOLVE_IN_ROOT answers EAGAIN when a rename raced with the
 * lookup; a few retries are enough, a loop forever is not acceptable. */
#define JAIL_EAGAIN_RETRIES 8

static int normalize(const char *in, size_t len, char *out, size_t outsz,
		     bool check_names)
{
	size_t o = 0;
	size_t i = 0;

	if (outsz < 2)
		return -ENAMETOOLONG;
	if (check_names) {
		for (size_t k = 0; k < len; k++) {
			unsigned char c = (unsigned char)in[k];

			if (c < 0x20 || c == 0x7f)
				return -EILSEQ;
		}
	}
	out[o++] = '/';
	while (i < len) {
		size_t start, clen;

		while (i < len && in[i] == '/')
			i++;
		start = i;
		while (i < len && in[i] != '/')
			i++;
		clen = i - start;
		if (clen == 0 || (clen == 1 && in[start] == '.'))
			continue;
		if (clen == 2 && in[start] == '.' && in[start + 1] == '.') {
			/* Back to the previous '/', never above the root. */
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
			continue;
		}
		if (clen > JAIL_NAME_MAX)
			return -ENAMETOOLONG;
		/* The service's own names (staging files, the receipts
		 * directory) are never a client's to address. */
		if (check_names && clen >= strlen(SD_RESERVED_PREFIX) &&
		    memcmp(in + start, SD_RESERVED_PREFIX,
			   strlen(SD_RESERVED_PREFIX)) == 0)
			return -EPERM;
		/* Room for an optional '/', the component and the NUL. */
		if (outsz - o < clen + 2)
			return -ENAMETOOLONG;
		if (o > 1)
			out[o++] = '/';
		memcpy(out + o, in + start, clen);
		o += clen;
	}
	out[o] = '\0';
	return (int)o;
}

int srv_jail_clean(const uint8_t *in, size_t len, char *out, size_t outsz)
{
	if (!in && len)
		return -EINVAL;
	return normalize((const char *)in, len, out, outsz, true);
}

int srv_jail_normalize(const char *in, size_t len, char *out, size_t outsz)
{
	if (!in && len)
		return -EINVAL;
	return normalize(in, len, out, outsz, false);
}

int srv_jail_open(int rootfd, const char *path, int flags, mode_t mode)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC);
	/* openat2 refuses a mode without O_CREAT/O_TMPFILE. */
	how.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	for (int tries = 0;; tries++) {
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if ((errno != EAGAIN && errno != EINTR) ||
		    tries >= JAIL_EAGAIN_RETRIES)
			return -errno;
	}
}

int srv_jail_open_parent(int rootfd, const char *path, const char **name)
{
	char parent[SRV_JAIL_PATH_MAX];
	const char *slash;
	size_t plen;
	int fd;

	if (!path || path[0] != '/' || path[1] == '\0')
		return -EPERM;
	slash = strrchr(path, '/');
	plen = (size_t)(slash - path);
	if (plen == 0) {
		parent[0] = '/';
		parent[1] = '\0';
	} else {
		if (plen >= sizeof(parent))
			return -ENAMETOOLONG;
		memcpy(parent, path, plen);
		parent[plen] = '\0';
	}
	/* A normalised path never ends in "." or "..", but this function is
	 * public: refuse them rather than operate on the parent's parent. */
	if (strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)
		return -EPERM;
	fd = srv_jail_open(rootfd, parent, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	*name = slash + 1;
	return fd;
}
