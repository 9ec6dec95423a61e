/* Interrupted uploads, from what is on disk: the staging files below each
 * relation directory (common/staging.h names them after their target), with
 * their size, age, whether a session is still writing them (its lock), and
 * when sftpdrop-ingest will remove them (partial_retention). Read-only: no
 * lock is taken, so listing never disturbs a resume. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "defs.h"
#include "output.h"
#include "partials.h"
#include "staging.h"
#include "util.h"

/* Directory levels walked below a relation directory: the ingest
 * watcher's bound (INGEST_MAX_DEPTH). */
#define PARTIALS_MAX_DEPTH 32
#define PARTIALS_COLS 6

struct partial {
	char relation[SD_RELATION_MAX + 1];
	char *path;    /* the upload's path in the relation directory */
	char *staging; /* the staging file's path there */
	int64_t size, mtime;
	bool in_progress, resumable, cut;
};

struct partials {
	struct partial *v;
	size_t n, cap;
	int err;
};

static char *join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *p = malloc(dl + nl + 2);

	if (!p)
		return NULL;
	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + (dl ? 1 : 0), name, nl + 1);
	return p;
}

static void add(struct partials *ps, const char *relation, const char *dir, int dfd,
		const char *name)
{
	const char *target = "";
	bool resume = false, cut = false;
	struct partial *p;
	struct stat st;
	int fd;

	if (!staging_name_parse(name, &target, &resume, &cut))
		return;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return; /* gone meanwhile */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? 2 * ps->cap : 16;
		struct partial *nv = realloc(ps->v, cap * sizeof(*nv));

		if (!nv) {
			close(fd);
			ps->err = -ENOMEM;
			return;
		}
		ps->v = nv;
		ps->cap = cap;
	}
	p = &ps->v[ps->n];
	memset(p, 0, sizeof(*p));
	snprintf(p->relation, sizeof(p->relation), "%s", relation);
	p->path = join(dir, target[0] ? target : "?");
	p->staging = join(dir, name);
	p->size = st.st_size;
	p->mtime = st.st_mtime;
	p->in_progress = staging_locked(fd) == 1;
	p->resumable = resume;
	p->cut = cut;
	close(fd);
	if (!p->path || !p->staging) {
		free(p->path);
		free(p->staging);
		ps->err = -ENOMEM;
		return;
	}
	ps->n++;
}

/* Walk the directory dfd (its path dir below the relation directory);
 * takes dfd. */
static void walk(struct partials *ps, const char *relation, const char *dir, int dfd,
		 unsigned depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return;
	}
	while (ps->err == 0 && (de = readdir(d)) != NULL) {
		struct stat st;
		char *sub;
		int sfd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!strncmp(de->d_name, SD_STAGING_PREFIX, strlen(SD_STAGING_PREFIX))) {
			add(ps, relation, dir, dirfd(d), de->d_name);
			continue;
		}
		/* Other names of the service's own (the receipts) hold none. */
		if (!strncmp(de->d_name, SD_RESERVED_PREFIX, strlen(SD_RESERVED_PREFIX)) ||
		    depth >= PARTIALS_MAX_DEPTH)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		sfd = openat(dirfd(d), de->d_name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0)
			continue;
		sub = join(dir, de->d_name);
		if (!sub) {
			close(sfd);
			ps->err = -ENOMEM;
			break;
		}
		walk(ps, relation, sub, sfd, depth + 1);
		free(sub);
	}
	closedir(d);
}

static bool is_relation(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SD_RELATION_MAX)
		return false;
	return strspn(s, "0123456789") == n;
}

static int cmp_partial(const void *a, const void *b)
{
	const struct partial *x = a, *y = b;
	int c = strcmp(x->relation, y->relation);

	return c ? c : strcmp(x->path, y->path);
}

static int print(struct admin_ctx *ctx, const struct partials *ps)
{
	static const char *const headers[PARTIALS_COLS] = { "RELATION", "STATE", "SIZE",
							    "MODIFIED", "EXPIRES", "PATH" };
	int64_t keep = ctx->conf.partial_retention;
	struct admin_out_list l;
	int r;

	r = admin_out_list_begin(&l, ctx->json, headers, PARTIALS_COLS);
	for (size_t i = 0; r == 0 && i < ps->n; i++) {
		const struct partial *p = &ps->v[i];
		const char *state = p->in_progress ? "in_progress" : "interrupted";
		char size[24], modified[32], expires[32];
		struct json_object *o;
		int jr = 0;

		util_iso8601(p->mtime, modified, sizeof(modified));
		util_iso8601(p->mtime + keep, expires, sizeof(expires));
		if (!ctx->json) {
			const char *cells[PARTIALS_COLS] = { p->relation, state, size, modified,
							     p->in_progress ? "-" : expires,
							     p->path };

			snprintf(size, sizeof(size), "%" PRId64, p->size);
			r = admin_out_list_row(&l, cells);
			continue;
		}
		o = json_object_new_object();
		if (!o) {
			r = -ENOMEM;
			break;
		}
		admin_out_json_add_str(o, "relation", p->relation, &jr);
		admin_out_json_add_str(o, "path", p->path, &jr);
		admin_out_json_add_bool(o, "path_cut", p->cut, &jr);
		admin_out_json_add_str(o, "staging", p->staging, &jr);
		admin_out_json_add_int(o, "size", p->size, &jr);
		admin_out_json_add_str(o, "state", state, &jr);
		admin_out_json_add_bool(o, "resumable", p->resumable, &jr);
		admin_out_json_add_time(o, "modified_at", p->mtime, &jr);
		admin_out_json_add_time(o, "expires_at", p->in_progress ? 0 : p->mtime + keep, &jr);
		if (jr < 0) {
			json_object_put(o);
			r = jr;
			break;
		}
		r = admin_out_list_object(&l, o);
	}
	if (r == 0)
		r = admin_out_list_print(&l);
	if (r < 0)
		admin_err("cannot list partial uploads: %s", strerror(-r));
	admin_out_list_free(&l);
	return r;
}

int admin_uploads_partial(struct admin_ctx *ctx, const char *relation)
{
	struct partials ps = { 0 };
	struct dirent *de;
	DIR *root;
	int r;

	root = opendir(ctx->conf.upload_root);
	if (!root && errno != ENOENT) {
		r = -errno;
		admin_err("cannot read %s: %s", ctx->conf.upload_root, strerror(-r));
		return r;
	}
	while (root && ps.err == 0 && (de = readdir(root)) != NULL) {
		int rfd;

		if (!is_relation(de->d_name) || (relation && strcmp(relation, de->d_name)))
			continue;
		rfd = openat(dirfd(root), de->d_name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (rfd >= 0)
			walk(&ps, de->d_name, "", rfd, 1);
	}
	if (root)
		closedir(root);
	r = ps.err;
	if (r < 0)
		admin_err("cannot list partial uploads: %s", strerror(-r));
	else {
		if (ps.n > 1)
			qsort(ps.v, ps.n, sizeof(ps.v[0]), cmp_partial);
		r = print(ctx, &ps);
	}
	for (size_t i = 0; i < ps.n; i++) {
		free(ps.v[i].path);
		free(ps.v[i].staging);
	}
	free(ps.v);
	return r;
}
