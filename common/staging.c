/* Staging names and open-file-description locks (see staging.h). OFD locks,
 * not flock(): F_OFD_GETLK can test for a writer without taking a lock that
 * would make a resuming client fail, and they vanish with the last fd of the
 * writer however it ended. */
#include "staging.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define RESUME_TAG "resume."

int staging_name_resume(const char *target, char out[STAGING_NAME_MAX])
{
	int n = snprintf(out, STAGING_NAME_MAX, "%s%s%s", SD_STAGING_PREFIX, RESUME_TAG, target);

	if (n < 0 || n >= STAGING_NAME_MAX || target[0] == '\0')
		return -ENAMETOOLONG;
	return n;
}

int staging_name_random(const char *target, const uint8_t rnd[STAGING_RANDOM_LEN],
			char out[STAGING_NAME_MAX])
{
	char hex[2 * STAGING_RANDOM_LEN + 1];
	size_t plen, tlen = strlen(target);
	int n;

	util_hex(rnd, STAGING_RANDOM_LEN, hex);
	n = snprintf(out, STAGING_NAME_MAX, "%s%s.", SD_STAGING_PREFIX, hex);
	if (n < 0 || n >= STAGING_NAME_MAX)
		return -ENAMETOOLONG;
	plen = (size_t)n;
	if (plen + tlen > STAGING_NAME_MAX - 1) {
		tlen = STAGING_NAME_MAX - 1 - plen;
		/* Back to the start of a character: continuation bytes are 10xxxxxx. */
		while (tlen > 0 && ((unsigned char)target[tlen] & 0xc0) == 0x80)
			tlen--;
	}
	memcpy(out + plen, target, tlen);
	out[plen + tlen] = '\0';
	return (int)(plen + tlen);
}

bool staging_name_parse(const char *name, const char **target, bool *resume, bool *cut)
{
	size_t plen = strlen(SD_STAGING_PREFIX);
	const char *p;
	size_t i;

	if (strncmp(name, SD_STAGING_PREFIX, plen) != 0)
		return false;
	p = name + plen;
	*cut = false;
	if (strncmp(p, RESUME_TAG, strlen(RESUME_TAG)) == 0) {
		*resume = true;
		*target = p + strlen(RESUME_TAG);
		return true;
	}
	*resume = false;
	for (i = 0; i < 2 * STAGING_RANDOM_LEN; i++) {
		char c = p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			break;
	}
	if (i == 2 * STAGING_RANDOM_LEN && p[i] == '.') {
		*target = p + i + 1;
		*cut = strlen(name) == STAGING_NAME_MAX - 1;
	} else {
		*target = name + strlen(name); /* no target in the name */
	}
	return true;
}

int staging_lock(int fd, bool exclusive, bool wait)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = exclusive ? F_WRLCK : F_RDLCK;
	fl.l_whence = SEEK_SET; /* l_start = l_len = 0: the whole file */
	for (;;) {
		if (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		return (errno == EAGAIN || errno == EACCES) ? -EAGAIN : -errno;
	}
}

int staging_locked(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK; /* what would conflict with a writer's lock */
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	/* A shared lock is someone checking or removing it, not a writer. */
	return fl.l_type == F_WRLCK;
}
