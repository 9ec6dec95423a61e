/* `audit [--relation N] [--user U] [--since T]`: the audit trail (logins,
 * password changes, enrolments, locks, and what operators did), oldest first.
 * Filters are not checked against existing relations: the daemon also records
 * attempts on relations and users that do not exist. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "check.h"
#include "output.h"
#include "util.h"

static int audit_row(const struct store_audit_row *a, void *ud)
{
	struct admin_out_list *l = ud;
	char at[32];
	struct json_object *o;
	int r = 0;

	util_iso8601(a->at, at, sizeof(at));
	if (!l->json) {
		/* Empty columns print as "-" (admin_out_table_add). */
		const char *cells[7] = { at,
					 a->relation[0] ? a->relation : NULL,
					 a->username[0] ? a->username : NULL,
					 a->src[0] ? a->src : NULL,
					 a->event,
					 a->outcome[0] ? a->outcome : NULL,
					 a->detail[0] ? a->detail : NULL };

		return admin_out_list_row(l, cells);
	}
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	admin_out_json_add_int(o, "id", a->id, &r);
	admin_out_json_add_str(o, "time", at, &r);
	admin_out_json_add_opt_str(o, "relation", a->relation, &r);
	admin_out_json_add_opt_str(o, "user", a->username, &r);
	admin_out_json_add_opt_str(o, "src", a->src, &r);
	admin_out_json_add_str(o, "event", a->event, &r);
	admin_out_json_add_opt_str(o, "outcome", a->outcome, &r);
	admin_out_json_add_opt_str(o, "detail", a->detail, &r);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	return admin_out_list_object(l, o);
}

int admin_cmd_audit(struct admin_ctx *ctx)
{
	static const char *const headers[] = { "TIME",	  "RELATION", "USER",  "SOURCE",
					       "EVENT", "OUTCOME",  "DETAIL" };
	const char *since_arg = ctx->opt[ADMIN_OPT_SINCE];
	struct admin_out_list l;
	int64_t since = 0;
	int r;

	/* Checked by main.c already: this cannot fail. */
	if (since_arg && admin_parse_time(since_arg, &since) < 0)
		return -EINVAL;
	r = admin_out_list_begin(&l, ctx->json, headers, 7);
	if (r == 0)
		r = store_audit_list(ctx->store, ctx->opt[ADMIN_OPT_RELATION],
				     ctx->opt[ADMIN_OPT_USER], since, audit_row, &l);
	if (r < 0) {
		admin_err("cannot read the audit trail: %s", strerror(-r));
		goto out;
	}
	r = admin_out_list_print(&l);
	if (r < 0)
		admin_err("cannot write the list: %s", strerror(-r));
out:
	admin_out_list_free(&l);
	return r;
}
