/* Incremental walk of the upload tree: the start-up rescan (what happened
 * while ingest was down), new directories, and recovery after lost events.
 * Iterative with an explicit stack and one open directory at a time, and
 * advanced in small steps so that the event loop keeps running meanwhile. */
#include "ingest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ingest_scan {
	int root_fd;
	char **stack; /* directories still to list, relative to the root */
	size_t n;
	size_t alloc;
	DIR *cur;      /* the directory being listed */
	char *cur_rel;
};

int ingest_scan_new(int root_fd, struct ingest_scan **out)
{
	struct ingest_scan *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->root_fd = root_fd;
	*out = s;
	return 0;
}

static void close_current(struct ingest_scan *s)
{
	if (s->cur)
		closedir(s->cur);
	s->cur = NULL;
	free(s->cur_rel);
	s->cur_rel = NULL;
}

static void clear(struct ingest_scan *s)
{
	close_current(s);
	for (size_t i = 0; i < s->n; i++)
		free(s->stack[i]);
	s->n = 0;
}

void ingest_scan_free(struct ingest_scan *s)
{
	if (!s)
		return;
	clear(s);
	free(s->stack);
	free(s);
}

/* Push rel (taken over; freed on failure). */
static int push_owned(struct ingest_scan *s, char *rel)
{
	if (s->n == s->alloc) {
		size_t na = s->alloc ? s->alloc * 2 : 16;
		char **ns = realloc(s->stack, na * sizeof(*ns));

		if (!ns) {
			free(rel);
			return -ENOMEM;
		}
		s->stack = ns;
		s->alloc = na;
	}
	s->stack[s->n++] = rel;
	return 0;
}

int ingest_scan_push(struct ingest_scan *s, const char *rel)
{
	char *dup;

	if (rel[0] == '\0')
		clear(s);
	dup = strdup(rel);
	if (!dup)
		return -ENOMEM;
	return push_owned(s, dup);
}

bool ingest_scan_active(const struct ingest_scan *s)
{
	return s->cur || s->n > 0;
}

/* Start listing the next directory on the stack, if its owner wants it. */
static void open_next(struct ingest_scan *s, const struct ingest_scan_ops *ops, void *ud)
{
	char *rel = s->stack[--s->n];
	int fd;

	if (ops->dir(rel, ud) <= 0)
		goto skip;
	fd = ingest_open_beneath(s->root_fd, rel, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		goto skip; /* gone meanwhile, or not ours to read */
	s->cur = fdopendir(fd);
	if (!s->cur) {
		close(fd);
		goto skip;
	}
	s->cur_rel = rel;
	return;
skip:
	free(rel);
}

/* What the entry is, without following a symlink. */
static unsigned char entry_type(DIR *d, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type;
	if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return DT_UNKNOWN;
	if (S_ISDIR(st.st_mode))
		return DT_DIR;
	if (S_ISREG(st.st_mode))
		return DT_REG;
	return DT_UNKNOWN;
}

int ingest_scan_step(struct ingest_scan *s, unsigned budget,
		     const struct ingest_scan_ops *ops, void *ud)
{
	while (budget > 0) {
		struct dirent *de;
		unsigned char type;
		size_t plen, nlen;
		char *child;

		budget--;
		if (!s->cur) {
			if (s->n == 0)
				break;
			open_next(s, ops, ud);
			continue;
		}
		de = readdir(s->cur);
		if (!de) {
			close_current(s);
			continue;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		type = entry_type(s->cur, de);
		if (type != DT_DIR && type != DT_REG)
			continue;
		plen = strlen(s->cur_rel);
		nlen = strlen(de->d_name);
		if (plen + 1 + nlen >= PATH_MAX)
			continue;
		child = malloc(plen + 1 + nlen + 1);
		if (!child)
			return -ENOMEM;
		if (plen > 0) {
			memcpy(child, s->cur_rel, plen);
			child[plen++] = '/';
		}
		memcpy(child + plen, de->d_name, nlen + 1);
		if (type == DT_DIR) {
			int r = push_owned(s, child);

			if (r < 0)
				return r;
		} else {
			ops->file(child, ud);
			free(child);
		}
	}
	return ingest_scan_active(s) ? 1 : 0;
}
