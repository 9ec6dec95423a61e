/* What an operator changed is recorded twice: as an audit row in the store
 * (what the servicedesk queries) and as an event line in syslog (what the
 * log collector keeps when the database is restored or lost). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "log.h"
#include "output.h"

/* "uid=N" plus the caller's extra text; more is cut (it is a record, not a
 * transcript, and the store's detail column holds 511 bytes). */
#define AUDIT_DETAIL_MAX 512

int admin_audit_ex(struct admin_ctx *ctx, int64_t now, const char *relation,
		   const char *username, const char *event, const char *outcome,
		   const char *extra)
{
	char detail[AUDIT_DETAIL_MAX];
	int r;

	/* The uid says who ran the tool (sudo keeps it in SUDO_UID, but that is
	 * the caller's word; the real uid is what the kernel says). */
	snprintf(detail, sizeof(detail), "uid=%u%s%s", (unsigned)getuid(), extra ? " " : "",
		 extra ? extra : "");
	log_event(strcmp(outcome, "ok") ? LOG_WARNING : LOG_INFO, event,
		  "relation=%s user=%s src=admin outcome=%s %s", log_q(relation), log_q(username),
		  outcome, detail);
	r = store_audit(ctx->store, now, relation, username, "admin", event, outcome, detail);
	if (r < 0)
		admin_err("the change was made, but its audit record failed: %s", strerror(-r));
	return r;
}

int admin_audit(struct admin_ctx *ctx, int64_t now, const char *relation,
		const char *username, const char *event)
{
	return admin_audit_ex(ctx, now, relation, username, event, "ok", NULL);
}
