/* What an operator changed is recorded twice: as an audit row in the store
 * (what the servicedesk queries) and as an event line in syslog (what the
 * log collector keeps when the database is restored or lost). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "log.h"
#include "output.h"

int admin_audit(struct admin_ctx *ctx, int64_t now, const char *relation,
		const char *username, const char *event)
{
	char detail[32];
	int r;

	/* The uid says who ran the tool (sudo keeps it in SUDO_UID, but that is
	 * the caller's word; the real uid is what the kernel says). */
	snprintf(detail, sizeof(detail), "uid=%u", (unsigned)getuid());
	log_event(LOG_INFO, event, "relation=%s user=%s src=admin %s", log_q(relation),
		  log_q(username), detail);
	r = store_audit(ctx->store, now, relation, username, "admin", event, "ok", detail);
	if (r < 0)
		admin_err("the change was made, but its audit record failed: %s", strerror(-r));
	return r;
}
