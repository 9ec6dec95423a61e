/* `uploads [--relation N] [--partial]`: what the daemon received and ingest
 * handed over, one row per upload with its receipt and hook, for the
 * servicedesk question "did our file arrive?"; with --partial the uploads
 * that were interrupted before CLOSE (partials.c). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "defs.h"
#include "output.h"
#include "partials.h"
#include "util.h"

#define UPLOADS_COLS 11

/* Where the upload is in its life (docs/ingest.md, "States"). */
static const char *state_of(const struct store_receipt *u)
{
	if (u->ingested_at)
		return u->removed_at ? "ingested,expired" : "ingested";
	if (u->vanished_at)
		return "vanished";
	if (u->btime >= 0)
		return "ingesting";
	return "received";
}

static void hook_text(const struct store_receipt *u, char *out, size_t outsz)
{
	if (!u->hook_state[0])
		snprintf(out, outsz, "-");
	else if (!strcmp(u->hook_state, "done"))
		snprintf(out, outsz, "done");
	else
		snprintf(out, outsz, "%s(%u failed)", u->hook_state, u->hook_attempts);
}

/* The receipt as the relation sees it through SFTP. */
static void receipt_path(const struct store_receipt *u, char *out, size_t outsz)
{
	if (u->receipt_at && !u->receipt_removed_at && u->receipt_name[0])
		snprintf(out, outsz, "/%s/%s", SD_RECEIPTS_VIRTUAL, u->receipt_name);
	else
		out[0] = '\0';
}

static int upload_object(const struct store_receipt *u, struct json_object **out)
{
	char receipt[300];
	struct json_object *o = json_object_new_object(), *h = NULL;
	int r = 0;

	if (!o)
		return -ENOMEM;
	receipt_path(u, receipt, sizeof(receipt));
	admin_out_json_add_int(o, "id", u->id, &r);
	admin_out_json_add_str(o, "relation", u->relation, &r);
	admin_out_json_add_opt_str(o, "user", u->username, &r);
	admin_out_json_add_opt_str(o, "source", u->src, &r);
	admin_out_json_add_str(o, "name", u->name, &r);
	admin_out_json_add_opt_str(o, "current_name",
				   strcmp(u->cur_name, u->name) ? u->cur_name : "", &r);
	/* The store keeps sizes as SQLite integers, so they fit int64. */
	admin_out_json_add_int(o, "size", (int64_t)u->size, &r);
	admin_out_json_add_opt_str(o, "sha256", u->sha256, &r);
	admin_out_json_add_str(o, "state", state_of(u), &r);
	admin_out_json_add_time(o, "received_at", u->received_at, &r);
	admin_out_json_add_time(o, "ingested_at", u->ingested_at, &r);
	admin_out_json_add_opt_str(o, "spool_path", u->spool_path, &r);
	admin_out_json_add_opt_str(o, "receipt", receipt, &r);
	admin_out_json_add_time(o, "removed_at", u->removed_at, &r);
	admin_out_json_add_time(o, "vanished_at", u->vanished_at, &r);
	if (u->hook_state[0]) {
		h = json_object_new_object();
		if (!h) {
			json_object_put(o);
			return -ENOMEM;
		}
		admin_out_json_add_str(h, "state", u->hook_state, &r);
		admin_out_json_add_int(h, "attempts", u->hook_attempts, &r);
		admin_out_json_add_time(h, "last_at", u->hook_at, &r);
		admin_out_json_add_opt_str(h, "error", u->hook_error, &r);
		if (json_object_object_add(o, "hook", h) < 0) {
			json_object_put(h);
			r = -ENOMEM;
		}
	} else if (json_object_object_add(o, "hook", NULL) < 0) {
		r = -ENOMEM;
	}
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

static int upload_row(const struct store_receipt *u, void *ud)
{
	struct admin_out_list *l = ud;
	char id[24], size[24], received[32], ingested[32], hook[48];
	struct json_object *o = NULL;
	int r;

	if (!l->json) {
		const char *cells[UPLOADS_COLS] = {
			id,
			u->relation,
			u->username[0] ? u->username : "-",
			u->src[0] ? u->src : "-",
			size,
			received,
			u->ingested_at ? ingested : "-",
			state_of(u),
			hook,
			u->sha256[0] ? u->sha256 : "-",
			u->name,
		};

		snprintf(id, sizeof(id), "%" PRId64, u->id);
		snprintf(size, sizeof(size), "%" PRIu64, u->size);
		util_iso8601(u->received_at, received, sizeof(received));
		util_iso8601(u->ingested_at, ingested, sizeof(ingested));
		hook_text(u, hook, sizeof(hook));
		return admin_out_list_row(l, cells);
	}
	r = upload_object(u, &o);
	if (r < 0)
		return r;
	return admin_out_list_object(l, o);
}

int admin_cmd_uploads(struct admin_ctx *ctx)
{
	static const char *const headers[UPLOADS_COLS] = {
		"ID", "RELATION", "USER", "SOURCE", "SIZE", "RECEIVED",
		"INGESTED", "STATE", "HOOK", "SHA256", "NAME"
	};
	const char *relation = ctx->opt[ADMIN_OPT_RELATION];
	struct store_relation rel;
	struct admin_out_list l;
	int r;

	if (relation) {
		r = store_relation_get(ctx->store, relation, &rel);
		if (r < 0) {
			if (r == -ENOENT)
				admin_err("relation %s does not exist", relation);
			else
				admin_err("cannot read relation %s: %s", relation, strerror(-r));
			return r;
		}
	}
	if (ctx->opt[ADMIN_OPT_PARTIAL])
		return admin_uploads_partial(ctx, relation);
	r = admin_out_list_begin(&l, ctx->json, headers, UPLOADS_COLS);
	if (r < 0) {
		admin_err("out of memory");
		goto out;
	}
	r = store_receipt_list(ctx->store, relation, upload_row, &l);
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
