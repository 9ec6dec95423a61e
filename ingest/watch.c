/* The inotify side of ingest, through libinotifytools. The library adds the
 * watches and reads the events; it keeps the name a watch was added under and
 * does not follow renames, so the path of each watched directory is kept here,
 * keyed by watch descriptor and by inode: a directory that reappears under a
 * new name (a rename) is renamed here instead of being watched twice. The
 * library's state is process-wide, so is this file's. */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <inotifytools/inotify.h>
#include <inotifytools/inotifytools.h>
#include <limits.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Closed files, arrivals by rename, and new directories. IN_EXCL_UNLINK: no
 * events for files that are already deleted. IN_ONLYDIR/IN_DONT_FOLLOW: the
 * path must still be a real directory when the watch is added. */
#define WATCH_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_EXCL_UNLINK)
#define WATCH_LOOKUP (IN_ONLYDIR | IN_DONT_FOLLOW)

struct wnode {
	int wd;
	dev_t dev;
	ino_t ino;
	char *rel; /* relative to the upload root; "" for the root */
};

static int watch_fd = -1;
static void *by_wd;
static void *by_ino;
static unsigned stale;

static int cmp_wd(const void *a, const void *b)
{
	const struct wnode *x = a, *y = b;

	return (x->wd > y->wd) - (x->wd < y->wd);
}

static int cmp_ino(const void *a, const void *b)
{
	const struct wnode *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return (x->ino > y->ino) - (x->ino < y->ino);
}

static void free_node(void *p)
{
	struct wnode *n = p;

	free(n->rel);
	free(n);
}

static void keep_node(void *p)
{
	(void)p; /* owned by the by_wd tree */
}

int ingest_watch_open(void)
{
	char link[64], target[64];
	ssize_t n;
	int probe;

	if (watch_fd >= 0)
		return watch_fd;
	/* libinotifytools keeps its inotify fd to itself, but its timeouts are
	 * whole seconds and the settle time is milliseconds, so the fd is
	 * polled here. inotify_init() takes the lowest free descriptor (this
	 * process has no threads), which is the one probe had; the check below
	 * makes sure before it is trusted. */
	probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (probe < 0)
		return -errno;
	close(probe);
	if (!inotifytools_initialize())
		return inotifytools_error() ? -inotifytools_error() : -EIO;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", probe);
	n = readlink(link, target, sizeof(target) - 1);
	if (n >= 0)
		target[n] = '\0';
	if (n < 0 || strcmp(target, "anon_inode:inotify") != 0) {
		inotifytools_cleanup();
		return -ENOTSUP;
	}
	/* A hook run later must not inherit it. */
	fcntl(probe, F_SETFD, FD_CLOEXEC);
	watch_fd = probe;
	stale = 0;
	return watch_fd;
}

void ingest_watch_close(void)
{
	if (watch_fd < 0)
		return;
	inotifytools_cleanup();
	tdestroy(by_ino, keep_node);
	tdestroy(by_wd, free_node);
	by_ino = NULL;
	by_wd = NULL;
	watch_fd = -1;
	stale = 0;
}

struct rename_data {
	const char *from;
	size_t from_len;
	const char *to;
};

/* twalk_r action: give the watch at data->from and those below it the new
 * prefix data->to. Only the path changes, never a tree key. */
static void rename_one(const void *nodep, VISIT which, void *closure)
{
	struct wnode *n = *(struct wnode *const *)nodep;
	const struct rename_data *d = closure;
	const char *rest;
	char *nr;
	size_t tl;

	if (which != postorder && which != leaf)
		return;
	if (strncmp(n->rel, d->from, d->from_len) != 0)
		return;
	rest = n->rel + d->from_len;
	if (*rest != '\0' && *rest != '/')
		return;
	tl = strlen(d->to);
	nr = malloc(tl + strlen(rest) + 1);
	if (!nr)
		return; /* stays under the old name until the next rescan */
	memcpy(nr, d->to, tl);
	strcpy(nr + tl, rest);
	free(n->rel);
	n->rel = nr;
}

static void rename_subtree(const char *from, const char *to)
{
	/* from may point into a node that rename_one frees. */
	char *old = strdup(from);
	struct rename_data d;

	if (!old)
		return;
	d.from = old;
	d.from_len = strlen(old);
	d.to = to;
	twalk_r(by_wd, rename_one, &d);
	free(old);
}

static int remember(int wd, const struct stat *st, const char *rel)
{
	struct wnode *n = calloc(1, sizeof(*n));
	struct wnode **slot;

	if (!n)
		return -ENOMEM;
	n->wd = wd;
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->rel = strdup(rel);
	if (!n->rel)
		goto nomem;
	slot = tsearch(n, &by_wd, cmp_wd);
	if (!slot)
		goto nomem;
	if (*slot != n) {
		/* A descriptor the kernel dropped without our seeing
		 * IN_IGNORED yet: this watch supersedes it. */
		struct wnode *old = *slot;

		tdelete(old, &by_ino, cmp_ino);
		*slot = n;
		free_node(old);
	}
	if (!tsearch(n, &by_ino, cmp_ino)) {
		tdelete(n, &by_wd, cmp_wd);
		goto nomem;
	}
	return 0;
nomem:
	free_node(n);
	return -ENOMEM;
}

int ingest_watch_add(int root_fd, const char *root, const char *rel)
{
	struct wnode key = { 0 };
	struct wnode **found;
	char path[PATH_MAX], pinned[64];
	struct stat st;
	int dfd, wd;
	int r;

	if (watch_fd < 0)
		return -EBADF;
	/* Pin the directory so that the inode looked up is the one watched. */
	dfd = ingest_open_beneath(root_fd, rel, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0)
		return dfd;
	if (fstat(dfd, &st) < 0) {
		r = -errno;
		goto out;
	}
	key.dev = st.st_dev;
	key.ino = st.st_ino;
	found = tfind(&key, &by_ino, cmp_ino);
	if (found) {
		if (strcmp((*found)->rel, rel) != 0)
			rename_subtree((*found)->rel, rel);
		r = 0;
		goto out;
	}
	r = snprintf(path, sizeof(path), "%s%s%s", root, rel[0] ? "/" : "", rel);
	if (r < 0 || (size_t)r >= sizeof(path)) {
		r = -ENAMETOOLONG;
		goto out;
	}
	if (!inotifytools_watch_file(path, WATCH_EVENTS | WATCH_LOOKUP)) {
		r = inotifytools_error() ? -inotifytools_error() : -EIO;
		goto out;
	}
	/* The library does not tell which descriptor it got. Adding the same
	 * mask again for the pinned inode changes nothing and answers the
	 * descriptor of that inode's watch. */
	snprintf(pinned, sizeof(pinned), "/proc/self/fd/%d", dfd);
	wd = inotify_add_watch(watch_fd, pinned, WATCH_EVENTS | IN_ONLYDIR);
	if (wd < 0) {
		r = -errno;
		goto out;
	}
	r = remember(wd, &st, rel);
	if (r == 0)
		r = 1;
out:
	close(dfd);
	return r;
}

static struct wnode *node_of(int wd)
{
	struct wnode key = { .wd = wd };
	struct wnode **found = tfind(&key, &by_wd, cmp_wd);

	return found ? *found : NULL;
}

static void forget(int wd)
{
	struct wnode *n = node_of(wd);

	if (!n)
		return;
	tdelete(n, &by_ino, cmp_ino);
	tdelete(n, &by_wd, cmp_wd);
	free_node(n);
}

static void dispatch(const struct inotify_event *ev, ingest_watch_cb cb, void *ud)
{
	char rel[PATH_MAX];
	struct wnode *n;
	int len;

	if (ev->mask & IN_Q_OVERFLOW) {
		cb(INGEST_EV_OVERFLOW, "", ud);
		return;
	}
	if (ev->mask & IN_IGNORED) {
		/* The directory is gone; libinotifytools cannot free its record
		 * of the watch (its removal calls inotify_rm_watch, which now
		 * fails), so count it for the caller's periodic reset. */
		forget(ev->wd);
		stale++;
		return;
	}
	n = node_of(ev->wd);
	if (!n || ev->len == 0 || ev->name[0] == '\0')
		return;
	len = snprintf(rel, sizeof(rel), "%s%s%s", n->rel, n->rel[0] ? "/" : "", ev->name);
	if (len < 0 || (size_t)len >= sizeof(rel))
		return;
	if (ev->mask & IN_ISDIR) {
		if (ev->mask & (IN_CREATE | IN_MOVED_TO))
			cb(INGEST_EV_DIR, rel, ud);
		return;
	}
	if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
		cb(INGEST_EV_FILE, rel, ud);
}

int ingest_watch_read(unsigned max, ingest_watch_cb cb, void *ud)
{
	unsigned count;

	if (watch_fd < 0)
		return -EBADF;
	for (count = 0; count < max; count++) {
		/* Timeout 0 here means "do not wait" (in next_event() it would
		 * mean "wait forever"). Buffered events come first. */
		struct inotify_event *ev = inotifytools_next_events(0, 1);

		if (!ev) {
			int err = inotifytools_error();

			if (err)
				return -err;
			break;
		}
		dispatch(ev, cb, ud);
	}
	return (int)count;
}

unsigned ingest_watch_stale(void)
{
	return stale;
}
