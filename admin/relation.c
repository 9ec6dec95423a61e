/* `relation add` and `relation list`. A relation is a row in the store plus its
 * directory under upload_root (where its users' uploads land) and under
 * spool_dir (where ingest hands them over). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "output.h"
#include "util.h"

/* The daemon (owner) writes, a back-office group may read, others nothing. */
#define RELATION_DIR_MODE 0750

static const char *relation_status(const struct store_relation *rel)
{
	return rel->disabled ? "disabled" : "active";
}

/* Create base/number. An existing directory is kept (a restore, or an earlier
 * add whose store row was lost); a symlink there is refused, because the
 * daemon and ingest trust this directory as the relation's root. */
static int make_relation_dir(const char *base, const char *number, char **path, bool *made)
{
	struct stat st;
	int r;

	*made = false;
	if (asprintf(path, "%s/%s", base, number) < 0) {
		*path = NULL; /* undefined after a failure */
		admin_err("out of memory");
		return -ENOMEM;
	}
	if (mkdir(*path, RELATION_DIR_MODE) == 0) {
		*made = true;
		return 0;
	}
	r = -errno;
	if (r == -EEXIST) {
		if (lstat(*path, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		admin_err("%s exists and is not a directory", *path);
		return r;
	}
	admin_err("cannot create directory %s: %s", *path, strerror(-r));
	return r;
}

static int print_added(const struct admin_ctx *ctx, const char *number, const char *name,
		       int64_t now, const char *upload_dir, const char *spool_dir)
{
	struct json_object *o;
	int r = 0;

	if (!ctx->json) {
		printf("relation %s added: %s\n"
		       "upload dir: %s\n"
		       "spool dir:  %s\n",
		       number, name, upload_dir, spool_dir);
		return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -EIO;
	}
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	admin_out_json_add_str(o, "number", number, &r);
	admin_out_json_add_str(o, "name", name, &r);
	admin_out_json_add_str(o, "status", "active", &r);
	admin_out_json_add_time(o, "created_at", now, &r);
	admin_out_json_add_str(o, "upload_dir", upload_dir, &r);
	admin_out_json_add_str(o, "spool_dir", spool_dir, &r);
	if (r == 0)
		r = admin_out_json_print(o);
	json_object_put(o);
	return r;
}

int admin_cmd_relation_add(struct admin_ctx *ctx)
{
	const char *number = ctx->args[0];
	const char *name = ctx->opt[ADMIN_OPT_NAME];
	int64_t now = admin_now();
	struct store_relation rel;
	char *upload_dir = NULL;
	char *spool_dir = NULL;
	bool made_upload = false, made_spool = false;
	bool added = false;
	int pr;
	int r;

	/* Ask first, so that a duplicate leaves the file system untouched. */
	r = store_relation_get(ctx->store, number, &rel);
	if (r == 0) {
		r = -EEXIST;
		admin_err("relation %s already exists", number);
		goto out;
	}
	if (r != -ENOENT) {
		admin_err("cannot read relation %s: %s", number, strerror(-r));
		goto out;
	}
	r = make_relation_dir(ctx->conf.upload_root, number, &upload_dir, &made_upload);
	if (r == 0)
		r = make_relation_dir(ctx->conf.spool_dir, number, &spool_dir, &made_spool);
	if (r < 0)
		goto out;
	r = store_relation_add(ctx->store, number, name, now);
	if (r < 0) {
		if (r == -EEXIST)
			admin_err("relation %s already exists", number);
		else
			admin_err("cannot add relation %s: %s", number, strerror(-r));
		goto out;
	}
	added = true;
	r = admin_audit(ctx, now, number, NULL, "relation_add");
	/* The relation exists now: say so even if the audit row failed. */
	pr = print_added(ctx, number, name, now, upload_dir, spool_dir);
	if (pr < 0) {
		admin_err("cannot write the result: %s", strerror(-pr));
		if (r == 0)
			r = pr;
	}
out:
	if (!added) {
		/* Only what this run created, and only while empty. */
		if (made_spool)
			rmdir(spool_dir);
		if (made_upload)
			rmdir(upload_dir);
	}
	free(spool_dir);
	free(upload_dir);
	return r;
}

static int relation_row(const struct store_relation *rel, void *ud)
{
	struct admin_out_list *l = ud;
	char created[32];
	struct json_object *o;
	int r = 0;

	if (!l->json) {
		const char *cells[4] = { rel->number, rel->name, relation_status(rel), created };

		util_iso8601(rel->created_at, created, sizeof(created));
		return admin_out_list_row(l, cells);
	}
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	admin_out_json_add_str(o, "number", rel->number, &r);
	admin_out_json_add_str(o, "name", rel->name, &r);
	admin_out_json_add_str(o, "status", relation_status(rel), &r);
	admin_out_json_add_time(o, "created_at", rel->created_at, &r);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	return admin_out_list_object(l, o);
}

int admin_cmd_relation_list(struct admin_ctx *ctx)
{
	static const char *const headers[] = { "NUMBER", "NAME", "STATUS", "CREATED" };
	struct admin_out_list l;
	int r;

	r = admin_out_list_begin(&l, ctx->json, headers, 4);
	if (r == 0)
		r = store_relation_list(ctx->store, relation_row, &l);
	if (r < 0) {
		admin_err("cannot list relations: %s", strerror(-r));
		goto out;
	}
	r = admin_out_list_print(&l);
	if (r < 0)
		admin_err("cannot write the list: %s", strerror(-r));
out:
	admin_out_list_free(&l);
	return r;
}
