/* `uploads [--relation N]`: what the daemon received and ingest handed over,
 * one row per upload, for the servicedesk question "did our file arrive?". */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "output.h"
#include "util.h"

static int upload_row(const struct store_upload *u, void *ud)
{
	struct admin_out_list *l = ud;
	char id[24], size[24], received[32], ingested[32];
	struct json_object *o;
	int r = 0;

	if (!l->json) {
		const char *cells[8] = { id,
					 u->relation,
					 u->username[0] ? u->username : "-",
					 size,
					 received,
					 u->ingested_at ? ingested : "-",
					 u->sha256[0] ? u->sha256 : "-",
					 u->name };

		snprintf(id, sizeof(id), "%" PRId64, u->id);
		snprintf(size, sizeof(size), "%" PRIu64, u->size);
		util_iso8601(u->received_at, received, sizeof(received));
		util_iso8601(u->ingested_at, ingested, sizeof(ingested));
		return admin_out_list_row(l, cells);
	}
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	admin_out_json_add_int(o, "id", u->id, &r);
	admin_out_json_add_str(o, "relation", u->relation, &r);
	admin_out_json_add_opt_str(o, "user", u->username, &r);
	admin_out_json_add_str(o, "name", u->name, &r);
	/* The store keeps sizes as SQLite integers, so they fit int64. */
	admin_out_json_add_int(o, "size", (int64_t)u->size, &r);
	admin_out_json_add_opt_str(o, "sha256", u->sha256, &r);
	admin_out_json_add_time(o, "received_at", u->received_at, &r);
	admin_out_json_add_time(o, "ingested_at", u->ingested_at, &r);
	admin_out_json_add_opt_str(o, "spool_path", u->spool_path, &r);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	return admin_out_list_object(l, o);
}

int admin_cmd_uploads(struct admin_ctx *ctx)
{
	static const char *const headers[] = { "ID",	   "RELATION", "USER",   "SIZE",
					       "RECEIVED", "INGESTED", "SHA256", "NAME" };
	const char *relation = ctx->opt[ADMIN_OPT_RELATION];
	struct store_relation rel;
	struct admin_out_list l;
	int r;

	r = admin_out_list_begin(&l, ctx->json, headers, 8);
	if (r < 0) {
		admin_err("out of memory");
		goto out;
	}
	if (relation) {
		r = store_relation_get(ctx->store, relation, &rel);
		if (r < 0) {
			if (r == -ENOENT)
				admin_err("relation %s does not exist", relation);
			else
				admin_err("cannot read relation %s: %s", relation, strerror(-r));
			goto out;
		}
	}
	r = store_upload_list(ctx->store, relation, upload_row, &l);
	if (r < 0) {
		admin_err("cannot list uploads: %s", strerror(-r));
		goto out;
	}
	r = admin_out_list_print(&l);
	if (r < 0)
		admin_err("cannot write the list: %s", strerror(-r));
out:
	admin_out_list_free(&l);
	return r;
}
