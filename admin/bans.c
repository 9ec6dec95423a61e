/* `bans` and `bans lift ADDRESS`: the source addresses the daemon refuses for
 * a while after too many failed logins, and how the servicedesk lets one in
 * again before its ban runs out. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "output.h"
#include "util.h"

static int ban_row(const struct store_ban *b, void *ud)
{
	struct admin_out_list *l = ud;
	char until[32], failures[24];
	struct json_object *o;
	int r = 0;

	if (!l->json) {
		const char *cells[3] = { b->src, until, failures };

		util_iso8601(b->banned_until, until, sizeof(until));
		snprintf(failures, sizeof(failures), "%" PRId64, b->failures);
		return admin_out_list_row(l, cells);
	}
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	admin_out_json_add_str(o, "src", b->src, &r);
	admin_out_json_add_time(o, "banned_until", b->banned_until, &r);
	admin_out_json_add_int(o, "failures", b->failures, &r);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	return admin_out_list_object(l, o);
}

int admin_cmd_bans(struct admin_ctx *ctx)
{
	static const char *const headers[] = { "SOURCE", "BANNED UNTIL", "FAILURES" };
	struct admin_out_list l;
	int r;

	r = admin_out_list_begin(&l, ctx->json, headers, 3);
	if (r == 0)
		r = store_ban_list(ctx->store, admin_now(), ban_row, &l);
	if (r < 0) {
		admin_err("cannot list bans: %s", strerror(-r));
		goto out;
	}
	r = admin_out_list_print(&l);
	if (r < 0)
		admin_err("cannot write the list: %s", strerror(-r));
out:
	admin_out_list_free(&l);
	return r;
}

int admin_cmd_bans_lift(struct admin_ctx *ctx)
{
	const char *src = ctx->address; /* in the daemon's form (main.c) */
	int64_t now = admin_now();
	struct store_ban b;
	char extra[STORE_SRC_MAX + 64];
	struct json_object *o;
	bool banned;
	int r, ar;

	r = store_ban_get(ctx->store, src, &b);
	if (r == -ENOENT) {
		admin_err("%s is not banned", src);
		return r;
	}
	if (r < 0) {
		admin_err("cannot read the ban of %s: %s", src, strerror(-r));
		return r;
	}
	banned = b.banned_until > now;
	r = store_ban_lift(ctx->store, src);
	if (r < 0) {
		if (r == -ENOENT)
			admin_err("%s is not banned", src);
		else
			admin_err("cannot lift the ban of %s: %s", src, strerror(-r));
		return r;
	}
	snprintf(extra, sizeof(extra), "banned_src=%s was_banned=%s failures=%" PRId64, src,
		 banned ? "yes" : "no", b.failures);
	ar = admin_audit_ex(ctx, now, NULL, NULL, "ban_lift", "ok", extra);
	if (ctx->json) {
		o = json_object_new_object();
		r = o ? 0 : -ENOMEM;
		if (o) {
			admin_out_json_add_str(o, "src", src, &r);
			admin_out_json_add_bool(o, "was_banned", banned, &r);
			admin_out_json_add_int(o, "failures", b.failures, &r);
		}
		if (r == 0)
			r = admin_out_json_print(o);
		json_object_put(o);
	} else {
		printf("%s: %s; its %" PRId64 " failed logins are forgotten\n", src,
		       banned ? "ban lifted" : "was not banned any more", b.failures);
		r = fflush(stdout) == 0 && !ferror(stdout) ? 0 : -EIO;
	}
	if (r < 0)
		admin_err("cannot write the result: %s", strerror(-r));
	return r < 0 ? r : ar;
}
